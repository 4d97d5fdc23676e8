"""BTF: the BPF Type Format, as a Python type tree with codecs.

``pybpfmap.btf.Type`` and its kinds describe C types; codecs compiled from
them turn kernel bytes into Python values and back.  :class:`Spec` reads
BTF (object files, vmlinux, kernel BTF objects); :func:`parse_type` also
takes C declarations; :mod:`.builder` turns types back into BTF.
"""
from .types import *  # noqa: F401,F403
from .types import __all__ as _types_all
from .parse import parse_type
from .codec import compile_type
from .records import Record, record_class, enum_class  # registers struct/enum codecs
from .reader import Spec, map_types
from .builder import build, load_for_map, MapBtf

__all__ = list(_types_all) + ["parse_type", "compile_type", "Record", "record_class",
                              "enum_class", "Spec", "map_types", "build", "load_for_map",
                              "MapBtf"]
