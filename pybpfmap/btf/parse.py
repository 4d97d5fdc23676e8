"""Turn the ways a user names a type into a BTF type tree.

``int`` sizes mean raw bytes (no type); ``str`` is a C type name, possibly
with array dimensions (``"__u32"``, ``"unsigned long long"``, ``"char[16]"``,
``"__u16[2][4]"``) or a struct/union/enum declaration (handled by
:mod:`pybpfmap.btf.cdecl`); a :class:`~pybpfmap.btf.types.Type` is used as
it is.
"""
import re

from . import types as T

__all__ = ["parse_type", "BASE_TYPES", "base_type"]


def _int(name, size, signed, char=False, bool=False):
    return (name, size, signed, char, bool)


_SPECS = [
    _int("char", 1, True, char=True),
    _int("signed char", 1, True, char=True),
    _int("unsigned char", 1, False, char=True),
    _int("_Bool", 1, False, bool=True),
    _int("short", 2, True),
    _int("unsigned short", 2, False),
    _int("int", 4, True),
    _int("unsigned int", 4, False),
    _int("long", 8, True),
    _int("unsigned long", 8, False),
    _int("long long", 8, True),
    _int("unsigned long long", 8, False),
    _int("__int128", 16, True),
    _int("unsigned __int128", 16, False),
]
_ALIASES = {
    "bool": "_Bool", "signed": "int", "unsigned": "unsigned int",
    "short int": "short", "signed short": "short", "signed short int": "short",
    "short signed int": "short", "unsigned short int": "unsigned short",
    "short unsigned int": "unsigned short", "short unsigned": "unsigned short",
    "signed int": "int", "long int": "long", "signed long": "long",
    "signed long int": "long", "long signed int": "long",
    "unsigned long int": "unsigned long", "long unsigned int": "unsigned long",
    "long unsigned": "unsigned long",
    "long long int": "long long", "signed long long": "long long",
    "signed long long int": "long long", "long long signed int": "long long",
    "unsigned long long int": "unsigned long long",
    "long long unsigned int": "unsigned long long",
    "long long unsigned": "unsigned long long",
    "__int128_t": "__int128", "__uint128_t": "unsigned __int128",
    "__int128 unsigned": "unsigned __int128",
    "size_t": "unsigned long", "ssize_t": "long",
    "uintptr_t": "unsigned long", "intptr_t": "long",
}
# Kernel and stdint typedefs: name -> underlying C name.
_TYPEDEFS = {}
for _bits, _u, _s in ((8, "unsigned char", "signed char"), (16, "unsigned short", "short"),
                      (32, "unsigned int", "int"), (64, "unsigned long long", "long long")):
    for _pfx in ("__u", "u"):
        _TYPEDEFS[f"{_pfx}{_bits}"] = _u
    for _pfx in ("__s", "s"):
        _TYPEDEFS[f"{_pfx}{_bits}"] = _s
    _TYPEDEFS[f"uint{_bits}_t"] = _u if _bits != 64 else "unsigned long"
    _TYPEDEFS[f"int{_bits}_t"] = _s if _bits != 64 else "long"
for _name in ("__be16", "__le16"):
    _TYPEDEFS[_name] = "unsigned short"
for _name in ("__be32", "__le32", "__wsum"):
    _TYPEDEFS[_name] = "unsigned int"
for _name in ("__be64", "__le64"):
    _TYPEDEFS[_name] = "unsigned long long"
_TYPEDEFS["__u128"] = "unsigned __int128"
_TYPEDEFS["__s128"] = "__int128"

BASE_TYPES = {}
for _name, _size, _signed, _char, _bool in _SPECS:
    BASE_TYPES[_name] = T.Int(_name, _size, _signed, char=_char, bool=_bool)
BASE_TYPES["float"] = T.Float("float", 4)
BASE_TYPES["double"] = T.Float("double", 8)
for _alias, _target in _ALIASES.items():
    BASE_TYPES[_alias] = BASE_TYPES[_target]
for _name, _target in _TYPEDEFS.items():
    BASE_TYPES[_name] = T.Typedef(_name, BASE_TYPES[_target])


def base_type(name):
    """The BTF type of a C base type or common typedef name, or None."""
    return BASE_TYPES.get(" ".join(name.split()))


_ARRAY_RE = re.compile(r"^(?P<base>[^\[\]]+?)\s*(?P<dims>(\[\s*\d+\s*\]\s*)+)$")
_PTR_RE = re.compile(r"^(?P<base>[^\[\]*]+?)\s*\*$")
_RECORD_RE = re.compile(r"^\s*(struct|union|enum)\b")


def parse_type(text):
    """Parse a C type name or declaration into a BTF type.

    Raises ``ValueError`` for text that names no type.
    """
    if not isinstance(text, str):
        raise TypeError(f"a type is an int size, a C type string or a btf.Type, "
                        f"not {type(text).__name__}")
    s = " ".join(text.split())
    t = base_type(s)
    if t is not None:
        return t
    if _RECORD_RE.match(s) or "{" in s:
        from . import cdecl  # struct/union/enum declarations (pycparser)
        return cdecl.parse_type(text)
    m = _ARRAY_RE.match(s)
    if m:
        elem = parse_type(m.group("base"))
        dims = [int(d) for d in re.findall(r"\d+", m.group("dims"))]
        for n in reversed(dims):
            if n <= 0:
                raise ValueError(f"array dimension must be positive in {text!r}")
            elem = T.Array(elem, n)
        return elem
    m = _PTR_RE.match(s)
    if m:
        base = m.group("base").strip()
        target = T.VOID if base == "void" else parse_type(base)
        return T.Ptr(target)
    raise ValueError(f"unknown C type {text!r} (expected a base type such as '__u32', "
                     f"'unsigned long', 'char[16]', or a struct/union/enum declaration)")
