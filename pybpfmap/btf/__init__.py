"""BTF: the BPF Type Format, as a Python type tree with codecs.

``pybpfmap.btf.Type`` and its kinds describe C types; codecs compiled from
them turn kernel bytes into Python values and back.
"""
from .types import *  # noqa: F401,F403
from .types import __all__ as _types_all
from .parse import parse_type
from .codec import compile_type

__all__ = list(_types_all) + ["parse_type", "compile_type"]
