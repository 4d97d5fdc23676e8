"""Codecs for structs, unions and enums, and the record classes they decode to.

Every distinct struct/union type object gets one generated record class
(a :class:`Record`, a ``tuple`` subclass like a namedtuple) named after its C
tag; anonymous ones are named ``anon_struct_<hash of the field names>``.
Members of anonymous nested structs/unions are flattened into the record the
way C lets you name them (``s.a`` for ``struct s { union { int a; }; }``).
Every enum type gets one generated :class:`enum.IntEnum`.

The rules are those of API.md section 1.  Importing this module registers
the codecs with :mod:`pybpfmap.btf.codec`.
"""
import enum
import hashlib
import operator
import struct
from collections.abc import Mapping

from . import codec as C
from . import types as T

__all__ = ["Record", "StructCodec", "EnumCodec", "record_class", "enum_class"]

_new_tuple = tuple.__new__
# Names a field cannot take as an attribute (the record API uses them).
_RESERVED = frozenset({"_fields", "_asdict", "_replace", "_codec", "_index", "_defaults",
                       "_kind", "_overlap"})


def _plain(value):
    """``value`` with records turned into dicts, recursively (for _asdict)."""
    if isinstance(value, Record):
        return value._asdict()
    if type(value) is tuple:
        return tuple(_plain(v) for v in value)
    return value


class Record(tuple):
    """Base of the generated struct/union record classes.

    A record is an immutable tuple of its field values, in declaration
    order, with attribute access by field name.  Two records are equal when
    they are of the same C type (same name and fields) and hold equal values.
    A field given as ``None`` (the default for union members) is not set.
    """

    __slots__ = ()
    _fields = ()
    _kind = "struct"
    _index = {}
    _codec = None

    def __new__(cls, *args, **kwargs):
        fields = cls._fields
        n = len(fields)
        if len(args) > n:
            raise TypeError(f"{cls.__name__}() takes at most {n} positional arguments "
                            f"({len(args)} given)")
        values = list(args)
        values.extend(cls._defaults()[len(args):])
        index = cls._index
        for name, value in kwargs.items():
            i = index.get(name)
            if i is None:
                raise TypeError(f"{cls._kind} {cls.__name__} has no field {name!r}")
            if i < len(args):
                raise TypeError(f"{cls.__name__}() got multiple values for field {name!r}")
            values[i] = value
        return _new_tuple(cls, values)

    @classmethod
    def _defaults(cls):
        return cls._codec.defaults()

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self):
        inner = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other):
        if isinstance(other, Record):
            if type(other) is not type(self) and (
                    type(other).__name__ != type(self).__name__
                    or other._fields != self._fields or other._kind != self._kind):
                return False
            return tuple.__eq__(self, other)
        if isinstance(other, tuple):
            return False
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__

    def _asdict(self):
        """The fields as a dict, nested records as nested dicts."""
        return {name: _plain(value) for name, value in zip(self._fields, self)}

    def _replace(self, **changes):
        """A copy with some fields replaced."""
        values = list(self)
        for name, value in changes.items():
            i = self._index.get(name)
            if i is None:
                raise TypeError(f"{self._kind} {type(self).__name__} has no field {name!r}")
            values[i] = value
        return _new_tuple(type(self), values)


def _type_name(value):
    return type(value).__name__


def _synthetic_name(kind, names):
    digest = hashlib.sha1(",".join(names).encode()).hexdigest()[:8]
    return f"anon_{kind}_{digest}"


class _Field:
    """One (flattened) field of a record: where it is and how to code it."""

    __slots__ = ("name", "bit_offset", "bits", "codec", "offset", "signed", "lo", "hi",
                 "lookup", "is_bool", "overlap", "owner")

    def __init__(self, owner, name, mtype, bit_offset, bits):
        self.owner = owner
        self.name = name
        self.bit_offset = bit_offset
        self.overlap = False
        r = T.resolve(mtype)
        if bits == 0 and bit_offset % 8:
            bits = r.size * 8  # an unaligned whole-width member: code it bitwise
        self.bits = bits
        self.offset = bit_offset // 8
        self.lookup = None
        self.is_bool = False
        if bits:
            self.codec = None
            if isinstance(r, T.Enum):
                self.signed = r.signed or any(v < 0 for v in r.values.values())
                self.lookup = compile_enum(mtype).members.get
            elif isinstance(r, T.Int):
                self.signed = r.signed
                self.is_bool = r.bool
            else:
                raise TypeError(f"bitfield {name!r} of {T.c_name(owner)} has type "
                                f"{T.c_name(mtype)}, which cannot be a bitfield")
            if self.signed:
                self.lo, self.hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            else:
                self.lo, self.hi = 0, (1 << bits) - 1
        else:
            self.codec = C.compile_type(mtype)
            self.signed = False

    @property
    def width(self):
        return self.bits or self.codec.size * 8

    def decode(self, buf, offset):
        if not self.bits:
            return self.codec.decode(buf, offset + self.offset)
        shift = self.bit_offset & 7
        start = offset + self.offset
        nbytes = (shift + self.bits + 7) >> 3
        raw = int.from_bytes(buf[start:start + nbytes], "little")
        v = (raw >> shift) & ((1 << self.bits) - 1)
        if self.signed and v >> (self.bits - 1):
            v -= 1 << self.bits
        if self.is_bool:
            return bool(v)
        if self.lookup is not None:
            return self.lookup(v, v)
        return v

    def describe(self):
        return f"{T.c_name(self.owner)}.{self.name}"

    def _check_bits(self, value):
        if self.is_bool:
            if not isinstance(value, int):
                raise TypeError(f"{self.describe()} takes a bool, not {_type_name(value)}")
            if value not in (0, 1):
                raise ValueError(f"{self.describe()} takes True/False or 0/1, not {value}")
            return int(value)
        if not isinstance(value, int):
            if isinstance(value, (float, str, bytes)) or not hasattr(value, "__index__"):
                raise TypeError(f"{self.describe()} takes an int, not {_type_name(value)}")
            value = value.__index__()
        if not self.lo <= value <= self.hi:
            raise OverflowError(f"{value} is out of range for {self.describe()} "
                                f"({self.bits}-bit bitfield, {self.lo}..{self.hi})")
        return int(value)

    def pack(self, buf, offset, value):
        if not self.bits:
            self.codec.pack_into(buf, offset + self.offset, value)
            return
        v = self._check_bits(value)
        if v < 0:
            v += 1 << self.bits
        shift = self.bit_offset & 7
        start = offset + self.offset
        nbytes = (shift + self.bits + 7) >> 3
        region = int.from_bytes(buf[start:start + nbytes], "little")
        mask = ((1 << self.bits) - 1) << shift
        region = (region & ~mask) | (v << shift)
        buf[start:start + nbytes] = region.to_bytes(nbytes, "little")


def _flatten(owner, struct_type, base_bits, out):
    for m in struct_type.members:
        mt = T.resolve(m.type)
        if not m.name:
            if isinstance(mt, T.Struct):  # anonymous struct/union: C flattens it
                _flatten(owner, mt, base_bits + m.bit_offset, out)
            continue  # unnamed bitfield: padding
        out.append(_Field(owner, m.name, m.type, base_bits + m.bit_offset, m.bitfield_size))


class StructCodec(C.Codec):
    """A struct or union: decodes to a generated :class:`Record`."""

    def __init__(self, t):
        r = T.resolve(t)
        self.type = r
        self.size = r.size
        self.is_union = isinstance(r, T.Union)
        kind = "union" if self.is_union else "struct"
        fields = []
        _flatten(r, r, 0, fields)
        seen = {}
        for f in fields:  # malformed BTF can repeat a name: keep every field reachable
            if f.name in seen:
                seen[f.name] += 1
                f.name = f"{f.name}_{seen[f.name]}"
            else:
                seen[f.name] = 0
        self.fields = fields
        self._mark_overlaps()
        names = tuple(f.name for f in fields)
        clsname = r.name or _synthetic_name(kind, names)
        ns = {"__slots__": (), "_fields": names, "_kind": kind,
              "_index": {n: i for i, n in enumerate(names)}, "_codec": self,
              "__doc__": f"Record of {T.c_name(r)} ({self.size} bytes).",
              "__module__": __name__}
        for i, n in enumerate(names):
            if n not in _RESERVED and not (n.startswith("__") and n.endswith("__")):
                ns[n] = property(operator.itemgetter(i), doc=f"field {n}")
        self.record = type(clsname, (Record,), ns)
        self._defaults = None
        self._st = None
        self._flat_pack = False
        self.decode = self._decode_slow
        if not self.is_union and not any(f.overlap for f in fields):
            self._compile_fast()

    def describe(self):
        return T.c_name(self.type)

    def _mark_overlaps(self):
        spans = [(f.bit_offset, f.bit_offset + f.width) for f in self.fields]
        for i, f in enumerate(self.fields):
            lo, hi = spans[i]
            if hi <= lo:
                continue
            for j, (lo2, hi2) in enumerate(spans):
                if j != i and lo < hi2 and lo2 < hi:
                    f.overlap = True
                    break

    def defaults(self):
        """Default field values for the record constructor: zeros, None for union members."""
        if self._defaults is None:
            zero = bytes(self.size)
            self._defaults = tuple(None if f.overlap else f.decode(zero, 0)
                                   for f in self.fields)
        return self._defaults

    # -- the fast path: one struct.Struct for every scalar leaf ---------------------

    def _compile_fast(self):
        if any(f.bits for f in self.fields):
            return
        pieces = []     # (byte offset, size, format code, number of values)
        env = {"_new": _new_tuple}
        exprs = []
        try:
            for f in self.fields:
                exprs.append(_plan(f.codec, f.offset, pieces, env))
        except _NoFastPath:
            return
        fmt = ["="]
        pos = 0
        for off, size, code, _ in pieces:
            if off < pos:
                return  # members out of order or overlapping: keep the slow path
            if off > pos:
                fmt.append(f"{off - pos}x")
            fmt.append(code)
            pos = off + size
        if pos < self.size:
            fmt.append(f"{self.size - pos}x")
        st = struct.Struct("".join(fmt))
        if st.size != self.size:
            return
        self._st = st
        env["_unpack_from"] = st.unpack_from
        env["_R"] = self.record
        nvalues = sum(p[3] for p in pieces)
        if exprs == [f"v[{i}]" for i in range(len(exprs))] and nvalues == len(exprs):
            unpack_from, record = st.unpack_from, self.record

            def decode(buf, offset=0):
                return _new_tuple(record, unpack_from(buf, offset))
            self.decode = decode
            iter_unpack, size = st.iter_unpack, self.size

            def decode_many(buf, n):
                view = memoryview(buf).cast("B")[:n * size]
                return [_new_tuple(record, v) for v in iter_unpack(view)]
            self.decode_many = decode_many
            # Encoding can use one pack call when every field is a plain number.
            self._flat_pack = all(
                isinstance(f.codec, (C.IntCodec, C.FloatCodec, EnumCodec))
                and not isinstance(f.codec, C.BoolCodec) for f in self.fields)
        else:
            src = ("def decode(buf, offset=0):\n"
                   "    v = _unpack_from(buf, offset)\n"
                   f"    return _new(_R, ({', '.join(exprs)},))\n")
            exec(compile(src, f"<decode {T.c_name(self.type)}>", "exec"), env)
            self.decode = env["decode"]

    # -- decoding and encoding -----------------------------------------------------

    def _decode_slow(self, buf, offset=0):
        return _new_tuple(self.record, [f.decode(buf, offset) for f in self.fields])

    def _items(self, value):
        """The field values ``value`` gives, in field order (None: not given)."""
        record = self.record
        if type(value) is record:
            return value
        n = len(self.fields)
        if isinstance(value, Record):
            value = dict(zip(value._fields, value))
        if isinstance(value, Mapping):
            items = [None] * n
            index = record._index
            for name, v in value.items():
                i = index.get(name) if isinstance(name, str) else None
                if i is None:
                    raise TypeError(f"{self.describe()} has no field {name!r} "
                                    f"(fields: {', '.join(record._fields)})")
                items[i] = v
            return items
        if isinstance(value, (tuple, list)):
            if len(value) != n:
                raise ValueError(f"{self.describe()} takes {n} values in field order, "
                                 f"got {len(value)}")
            return value
        raise TypeError(f"{self.describe()} takes a {record.__name__} record, a dict of "
                        f"field names or a tuple in field order, not {_type_name(value)}")

    def _pack_fields(self, buf, offset, value):
        items = self._items(value)
        scratch = None
        for f, v in zip(self.fields, items):
            if v is None:
                continue
            if f.overlap:
                # Encode into scratch space (validating), then write unless the
                # bytes already decode to the same value: the last given member
                # wins, and a decoded union (or its _asdict()) re-encodes to the
                # very bytes it came from.
                if scratch is None:
                    scratch = bytearray(self.size)
                f.pack(scratch, 0, v)
                if f.decode(buf, offset) == f.decode(scratch, 0):
                    continue
            f.pack(buf, offset, v)

    def encode(self, value):
        if self._flat_pack and (type(value) is self.record or type(value) is tuple):
            try:
                return self._st.pack(*value)
            except (struct.error, OverflowError, TypeError):
                pass  # the slow path names the field and the problem
        buf = bytearray(self.size)
        self._pack_fields(buf, 0, value)
        return bytes(buf)

    def pack_into(self, buf, offset, value):
        buf[offset:offset + self.size] = self.encode(value)


class _NoFastPath(Exception):
    pass


# Array elements beyond which the fast decoder reads the array as bytes instead.
_MAX_INLINE_LEAVES = 1024


def _plan(codec, off, pieces, env):
    """Add ``codec``'s leaves at byte ``off`` to ``pieces``; return its expression."""
    idx = sum(p[3] for p in pieces)
    name = f"_c{len(env)}"

    def as_bytes():
        env[name] = codec.decode
        pieces.append((off, codec.size, f"{codec.size}s", 1))
        return f"{name}(v[{idx}])"

    if isinstance(codec, C.BoolCodec):
        if codec.size != 1:
            return as_bytes()
        pieces.append((off, 1, "?", 1))
        return f"v[{idx}]"
    if isinstance(codec, C.IntCodec):
        if codec.fmt is None:
            return as_bytes()
        pieces.append((off, codec.size, codec.fmt, 1))
        return f"v[{idx}]"
    if isinstance(codec, C.FloatCodec):
        pieces.append((off, codec.size, codec.fmt, 1))
        return f"v[{idx}]"
    if isinstance(codec, EnumCodec):
        if codec.int.fmt is None:
            return as_bytes()
        env[name] = codec.lookup
        pieces.append((off, codec.size, codec.int.fmt, 1))
        return f"{name}(v[{idx}])"
    if isinstance(codec, C.CharArrayCodec):
        if codec.size == 0:
            return "b''"
        pieces.append((off, codec.size, f"{codec.size}s", 1))
        return f"v[{idx}].rstrip(b'\\0')"
    if isinstance(codec, C.ArrayCodec):
        n = codec.nelems
        if n == 0:
            return "()"
        elem = codec.elem
        if codec._st is not None:
            pieces.append((off, codec.size, f"{n}{elem.fmt}", n))
            return f"v[{idx}:{idx + n}]"
        if n > _MAX_INLINE_LEAVES:
            return as_bytes()
        parts = [_plan(elem, off + i * elem.size, pieces, env) for i in range(n)]
        if sum(p[3] for p in pieces) - idx > _MAX_INLINE_LEAVES:
            raise _NoFastPath
        return f"({', '.join(parts)},)"
    if isinstance(codec, StructCodec) and codec._st is not None:
        env[name] = codec.record
        parts = [_plan(f.codec, off + f.offset, pieces, env) for f in codec.fields]
        if not parts:
            return f"_new({name}, ())"
        return f"_new({name}, ({', '.join(parts)},))"
    if codec.size == 0:
        env[name] = codec.decode
        return f"{name}(b'')"
    return as_bytes()


# -- enums --------------------------------------------------------------------------

def _enum_member_ok(name):
    return bool(name) and name != "mro" and not (
        len(name) > 2 and name[0] == "_" and name[-1] == "_")


def _enum_repr(self):
    return f"{type(self).__name__}.{self.name}"


def _make_intenum(r):
    names = [n for n in r.values if _enum_member_ok(n)]
    clsname = r.name or _synthetic_name("enum", list(r.values))
    try:
        cls = enum.IntEnum(clsname, [(n, r.values[n]) for n in names], module=__name__)
    except (ValueError, TypeError):
        return None
    cls.__repr__ = _enum_repr
    return cls


class EnumCodec(C.Codec):
    """An enum: a generated ``IntEnum`` member, or ``int`` for unknown values."""

    fmt = None  # the decoded value is an IntEnum member, not the plain number

    def __init__(self, t):
        r = T.resolve(t)
        self.type = r
        self.size = r.size
        signed = r.signed or any(v < 0 for v in r.values.values())
        self.int = C.IntCodec(r.size, signed, r)
        self.enum = _make_intenum(r)
        self.members = {}
        if self.enum is not None:
            for member in self.enum:
                self.members.setdefault(int(member), member)
        get = self.members.get
        self.lookup = lambda v: get(v, v)

    def describe(self):
        return T.c_name(self.type)

    def decode(self, buf, offset=0):
        v = self.int.decode(buf, offset)
        return self.members.get(v, v)

    def _check(self, value):
        if not isinstance(value, int):
            raise TypeError(f"{self.describe()} takes a member of "
                            f"{self.enum.__name__ if self.enum else 'the enum'} "
                            f"or an int, not {_type_name(value)}")
        return value

    def encode(self, value):
        return self.int.encode(self._check(value))

    def pack_into(self, buf, offset, value):
        self.int.pack_into(buf, offset, self._check(value))


# -- registration -------------------------------------------------------------------

def _codec_of(t, codec_class):
    """The ``codec_class`` codec of ``t``'s resolved type, made once per type object."""
    r = T.resolve(t)
    codec = r.__dict__.get("_codec")
    if codec is None:
        codec = r._codec = codec_class(r)
    return codec


def compile_record(t):
    """The :class:`StructCodec` of struct/union ``t`` (one per type object)."""
    return _codec_of(t, StructCodec)


def compile_enum(t):
    """The :class:`EnumCodec` of enum ``t`` (one per type object)."""
    return _codec_of(t, EnumCodec)


def record_class(t):
    """Return the generated record class of struct/union type ``t``."""
    if not isinstance(T.resolve(t), T.Struct):
        raise TypeError(f"{T.c_name(t)} is not a struct or union")
    return compile_record(t).record


def enum_class(t):
    """Return the generated ``IntEnum`` of enum type ``t`` (None if it has no valid names)."""
    if not isinstance(T.resolve(t), T.Enum):
        raise TypeError(f"{T.c_name(t)} is not an enum")
    return compile_enum(t).enum


C.register(T.Struct, compile_record)
C.register(T.Enum, compile_enum)
