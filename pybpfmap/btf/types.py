"""The BTF type tree.

One class per BTF kind.  Instances form a graph (pointers may be cyclic),
compare by identity, and know their size.  They come from BTF blobs
(:mod:`pybpfmap.btf.reader`), from C declarations
(:mod:`pybpfmap.btf.cdecl`), or are built by hand; codecs are compiled from
them by :mod:`pybpfmap.btf.codec`.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional

__all__ = [
    "Type", "Void", "Int", "Float", "Ptr", "Array", "Member", "Struct", "Union",
    "Enum", "Fwd", "Typedef", "Volatile", "Const", "Restrict", "TypeTag",
    "Func", "FuncProto", "Param", "Var", "VarSecinfo", "Datasec", "DeclTag",
    "resolve", "sizeof", "alignof",
]


class Type:
    """Base of every BTF type.  ``name`` is the C name ('' when anonymous)."""

    kind = "unknown"
    name = ""

    @property
    def size(self):
        """Size in bytes of a value of this type."""
        raise TypeError(f"{self.kind} has no size")

    def __repr__(self):
        return f"<btf.{type(self).__name__} {c_name(self)!r}>"

    # identity semantics: types form graphs, equality by value is ill-defined
    __eq__ = object.__eq__
    __hash__ = object.__hash__


class Void(Type):
    kind = "void"

    @property
    def size(self):
        return 0


VOID = Void()


class Int(Type):
    """An integer: ``size`` bytes, ``signed``; ``char``/``bool`` encodings."""

    kind = "int"

    def __init__(self, name, size, signed=False, char=False, bool=False, bits=None, offset=0):
        self.name = name
        self._size = size
        self.signed = signed
        self.char = char
        self.bool = bool
        self.bits = size * 8 if bits is None else bits
        self.offset = offset

    @property
    def size(self):
        return self._size


class Float(Type):
    kind = "float"

    def __init__(self, name, size):
        self.name = name
        self._size = size

    @property
    def size(self):
        return self._size


class Ptr(Type):
    kind = "ptr"
    pointer_size = 8

    def __init__(self, target):
        self.target = target

    @property
    def size(self):
        return self.pointer_size


class Array(Type):
    kind = "array"

    def __init__(self, elem, nelems, index_type=None):
        self.elem = elem
        self.nelems = nelems
        self.index_type = index_type

    @property
    def size(self):
        return sizeof(self.elem) * self.nelems


@dataclass(eq=False)
class Member:
    """A struct/union member: ``bit_offset`` from the start, ``bitfield_size`` or 0."""

    name: str
    type: Type
    bit_offset: int = 0
    bitfield_size: int = 0

    @property
    def offset(self):
        return self.bit_offset // 8


class Struct(Type):
    kind = "struct"

    def __init__(self, name, size, members=None):
        self.name = name
        self._size = size
        self.members: List[Member] = list(members or [])
        #: explicit alignment (packed/aligned attributes), else None: natural
        self.align: Optional[int] = None

    @property
    def size(self):
        return self._size


class Union(Struct):
    kind = "union"


class Enum(Type):
    """An enum (BTF_KIND_ENUM or ENUM64): ``values`` maps names to ints."""

    kind = "enum"

    def __init__(self, name, size, values=None, signed=False):
        self.name = name
        self._size = size
        self.values: Dict[str, int] = dict(values or {})
        self.signed = signed

    @property
    def size(self):
        return self._size


class Fwd(Type):
    kind = "fwd"

    def __init__(self, name, union=False):
        self.name = name
        self.union = union


class _Ref(Type):
    """A type that refers to another one and has its size."""

    def __init__(self, type):
        self.type = type

    @property
    def size(self):
        return sizeof(self.type)


class Typedef(_Ref):
    kind = "typedef"

    def __init__(self, name, type):
        super().__init__(type)
        self.name = name


class Volatile(_Ref):
    kind = "volatile"


class Const(_Ref):
    kind = "const"


class Restrict(_Ref):
    kind = "restrict"


class TypeTag(_Ref):
    kind = "type_tag"

    def __init__(self, value, type):
        super().__init__(type)
        self.name = value


@dataclass(eq=False)
class Param:
    name: str
    type: Type


class FuncProto(Type):
    kind = "func_proto"

    def __init__(self, return_type, params=None):
        self.return_type = return_type
        self.params: List[Param] = list(params or [])


class Func(Type):
    kind = "func"

    def __init__(self, name, proto, linkage=0):
        self.name = name
        self.proto = proto
        self.linkage = linkage


class Var(_Ref):
    kind = "var"

    def __init__(self, name, type, linkage=0):
        super().__init__(type)
        self.name = name
        self.linkage = linkage


@dataclass(eq=False)
class VarSecinfo:
    var: Type
    offset: int
    size: int


class Datasec(Type):
    kind = "datasec"

    def __init__(self, name, size, vars=None):
        self.name = name
        self._size = size
        self.vars: List[VarSecinfo] = list(vars or [])

    @property
    def size(self):
        return self._size


class DeclTag(Type):
    kind = "decl_tag"

    def __init__(self, value, type, component_idx=-1):
        self.name = value
        self.type = type
        self.component_idx = component_idx


_QUALIFIERS = (Typedef, Volatile, Const, Restrict, TypeTag)


def resolve(t):
    """Strip typedefs and qualifiers: the type that decides the layout."""
    while isinstance(t, _QUALIFIERS):
        t = t.type
    return t


def sizeof(t):
    return t.size


def alignof(t):
    """Natural alignment of ``t`` as clang computes it for BPF (x86-64 ABI)."""
    t = resolve(t)
    if isinstance(t, Int):
        return max(1, min(t.size, 16))  # __int128 is 16-aligned
    if isinstance(t, (Float, Enum)):
        return max(1, min(t.size, 8))
    if isinstance(t, Ptr):
        return t.size
    if isinstance(t, Array):
        return alignof(t.elem)
    if isinstance(t, Struct):
        if t.align:
            return t.align
        return max((alignof(m.type) for m in t.members), default=1)
    return 1


def c_name(t):
    """The C spelling of a type, e.g. 'struct flow', '__u32[4]', 'char *'."""
    if isinstance(t, Void):
        return "void"
    if isinstance(t, (Struct, Enum)) or (isinstance(t, Fwd)):
        kind = "union" if isinstance(t, Union) or getattr(t, "union", False) else t.kind
        if isinstance(t, Fwd) and not t.union:
            kind = "struct"
        return f"{kind} {t.name}" if t.name else f"{kind} <anon>"
    if isinstance(t, Array):
        dims = ""
        while isinstance(t, Array):
            dims += f"[{t.nelems}]"
            t = t.elem
        return f"{c_name(t)}{dims}"
    if isinstance(t, Ptr):
        return f"{c_name(t.target)} *"
    if isinstance(t, (Volatile, Const, Restrict)):
        return f"{t.kind} {c_name(t.type)}"
    return t.name or t.kind
