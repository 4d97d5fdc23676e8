"""Codecs: Python values to and from the bytes the kernel keeps.

A codec is compiled once per type (:func:`compile_type`) and then reused for
every lookup and update.  Each one has:

``size``
    bytes of one value;
``decode(buf, offset=0)``
    the Python value stored at ``buf[offset:offset+size]``;
``encode(value)``
    the ``bytes`` for ``value``, raising ``TypeError``, ``ValueError`` or
    ``OverflowError`` for a value that does not fit (never touching a map);
``pack_into(buf, offset, value)``
    the same, written into a writable buffer;
``fmt``
    a :mod:`struct` format when one flat format decodes to exactly this
    value (scalars), else ``None``; the map classes use it for fast paths.

The rules are those of API.md section 1.  Struct, union and enum codecs live
in :mod:`pybpfmap.btf.records` and register themselves here.
"""
import array
import struct

from . import types as T

__all__ = ["Codec", "RawCodec", "IntCodec", "BoolCodec", "FloatCodec",
           "CharArrayCodec", "ArrayCodec", "PerCpuCodec", "compile_type",
           "register"]


def _type_name(value):
    return type(value).__name__


class Codec:
    size = 0
    fmt = None
    type = None

    def decode(self, buf, offset=0):
        raise NotImplementedError

    def encode(self, value):
        out = bytearray(self.size)
        self.pack_into(out, 0, value)
        return bytes(out)

    def pack_into(self, buf, offset, value):
        buf[offset:offset + self.size] = self.encode(value)

    def decode_many(self, buf, n):
        """The list of the ``n`` values stored back to back in ``buf``."""
        dec, size = self.decode, self.size
        return [dec(buf, i * size) for i in range(n)]

    def encode_many(self, values):
        """``values`` (a list) encoded back to back: a buffer of
        ``len(values) * size`` bytes.  Raises like :meth:`encode`."""
        size = self.size
        out = bytearray(len(values) * size)
        pack = self.pack_into
        for i, v in enumerate(values):
            pack(out, i * size, v)
        return out

    def describe(self):
        """A short name for error messages: '__u32', 'struct flow', '6 bytes'."""
        return T.c_name(self.type) if self.type is not None else f"{self.size} bytes"

    def __repr__(self):
        return f"<{type(self).__name__} {self.describe()}>"


class RawCodec(Codec):
    """Raw bytes of a fixed size (a map created with ``key=6``)."""

    def __init__(self, size, type=None):
        self.size = size
        self.type = type

    def decode(self, buf, offset=0):
        return bytes(buf[offset:offset + self.size])

    def encode(self, value):
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"{self.describe()} takes bytes, not {_type_name(value)}")
        data = bytes(value)
        if len(data) != self.size:
            raise ValueError(f"{self.describe()} takes exactly {self.size} bytes, got {len(data)}")
        return data

    def pack_into(self, buf, offset, value):
        buf[offset:offset + self.size] = self.encode(value)


_INT_FORMATS = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h",
                (4, False): "I", (4, True): "i", (8, False): "Q", (8, True): "q"}


class IntCodec(Codec):
    """Integers of any width and signedness: ``int`` in range."""

    def __init__(self, size, signed, type=None):
        if size not in (1, 2, 4, 8, 16):  # hostile BTF can say 2 GiB (1 << 2**34 ...)
            raise TypeError(f"integers of {size} bytes are not supported")
        self.size = size
        self.signed = signed
        self.type = type
        bits = size * 8
        self.min = -(1 << (bits - 1)) if signed else 0
        self.max = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        code = _INT_FORMATS.get((size, signed))
        self.fmt = code
        self._st = struct.Struct("=" + code) if code else None

    def _check(self, value):
        if not isinstance(value, int):
            if hasattr(value, "__index__"):
                value = value.__index__()
            else:
                raise TypeError(f"{self.describe()} takes an int, not {_type_name(value)}")
        if not self.min <= value <= self.max:
            raise OverflowError(
                f"{value} is out of range for {self.describe()} ({self.min}..{self.max})")
        return value

    def decode(self, buf, offset=0):
        if self._st is not None:
            return self._st.unpack_from(buf, offset)[0]
        return int.from_bytes(bytes(buf[offset:offset + self.size]), "little", signed=self.signed)

    def encode(self, value):
        if self._st is not None and type(value) is int:
            try:
                return self._st.pack(value)
            except struct.error:
                pass
        value = self._check(value)
        if self._st is not None:
            return self._st.pack(value)
        return value.to_bytes(self.size, "little", signed=self.signed)

    def pack_into(self, buf, offset, value):
        value = self._check(value)
        if self._st is not None:
            self._st.pack_into(buf, offset, value)
        else:
            buf[offset:offset + self.size] = value.to_bytes(self.size, "little", signed=self.signed)

    def decode_many(self, buf, n):
        if self.fmt is None:
            return Codec.decode_many(self, buf, n)
        return memoryview(buf).cast("B")[:n * self.size].cast(self.fmt).tolist()

    def encode_many(self, values):
        if self.fmt is not None:
            try:
                return array.array(self.fmt, values)
            except (OverflowError, TypeError):
                pass  # the loop below names the offending value
        return Codec.encode_many(self, values)


class BoolCodec(Codec):
    """``_Bool``: ``bool``; accepts bool or int 0/1."""

    fmt = "?"

    def __init__(self, size=1, type=None):
        self.size = size
        self.type = type
        self._int = IntCodec(size, False)

    def decode(self, buf, offset=0):
        return bool(self._int.decode(buf, offset))

    def _check(self, value):
        if not isinstance(value, int):
            raise TypeError(f"{self.describe()} takes a bool, not {_type_name(value)}")
        if value not in (0, 1):
            raise ValueError(f"{self.describe()} takes True/False or 0/1, not {value}")
        return int(value)

    def encode(self, value):
        return self._int.encode(self._check(value))

    def pack_into(self, buf, offset, value):
        self._int.pack_into(buf, offset, self._check(value))


class FloatCodec(Codec):
    def __init__(self, size, type=None):
        if size not in (4, 8):
            raise TypeError(f"floating-point values of {size} bytes are not supported")
        self.size = size
        self.type = type
        self.fmt = "f" if size == 4 else "d"
        self._st = struct.Struct("=" + self.fmt)

    def _check(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{self.describe()} takes a float, not {_type_name(value)}")
        return float(value)

    def decode(self, buf, offset=0):
        return self._st.unpack_from(buf, offset)[0]

    def encode(self, value):
        try:
            return self._st.pack(self._check(value))
        except (struct.error, OverflowError) as exc:
            raise OverflowError(f"{value} does not fit in {self.describe()}") from exc

    def pack_into(self, buf, offset, value):
        buf[offset:offset + self.size] = self.encode(value)

    def decode_many(self, buf, n):
        return memoryview(buf).cast("B")[:n * self.size].cast(self.fmt).tolist()

    def encode_many(self, values):
        for v in values:
            self._check(v)
        out = array.array(self.fmt, values)
        if self.fmt == "f":  # array('f') stores a too large double as inf, silently
            for v, got in zip(values, out):
                if got in (_INF, -_INF) and v not in (_INF, -_INF):
                    raise OverflowError(f"{v} does not fit in {self.describe()}")
        return out


_INF = float("inf")


class CharArrayCodec(Codec):
    """``char[N]``: ``bytes`` with trailing NULs stripped; accepts bytes or str."""

    def __init__(self, size, type=None):
        self.size = size
        self.type = type

    def decode(self, buf, offset=0):
        return bytes(buf[offset:offset + self.size]).rstrip(b"\0")

    def encode(self, value):
        if isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
        else:
            raise TypeError(f"{self.describe()} takes bytes or str, not {_type_name(value)}")
        if len(data) > self.size:
            raise ValueError(f"{self.describe()} holds at most {self.size} bytes, got {len(data)}")
        return data.ljust(self.size, b"\0")

    def pack_into(self, buf, offset, value):
        buf[offset:offset + self.size] = self.encode(value)


class ArrayCodec(Codec):
    """Other arrays: a ``tuple``; accepts any sequence of the exact length."""

    def __init__(self, elem, nelems, type=None):
        self.elem = elem
        self.nelems = nelems
        self.size = elem.size * nelems
        self.type = type
        # Scalar elements: the whole array is one struct format.  Bools are
        # excluded because '?' decodes any non-zero byte as True.
        if elem.fmt and elem.fmt != "?" and isinstance(elem, IntCodec):
            self._st = struct.Struct(f"={nelems}{elem.fmt}")
        elif isinstance(elem, FloatCodec):
            self._st = struct.Struct(f"={nelems}{elem.fmt}")
        else:
            self._st = None

    def decode(self, buf, offset=0):
        if self._st is not None:
            return self._st.unpack_from(buf, offset)
        esize = self.elem.size
        return tuple(self.elem.decode(buf, offset + i * esize) for i in range(self.nelems))

    def _items(self, value):
        if isinstance(value, (str, dict)) or not hasattr(value, "__len__") \
                or not hasattr(value, "__getitem__"):
            raise TypeError(f"{self.describe()} takes a sequence of {self.nelems}, "
                            f"not {_type_name(value)}")
        if len(value) != self.nelems:
            raise ValueError(f"{self.describe()} takes exactly {self.nelems} elements, "
                             f"got {len(value)}")
        return value

    def pack_into(self, buf, offset, value):
        items = self._items(value)
        esize = self.elem.size
        for i, item in enumerate(items):
            self.elem.pack_into(buf, offset + i * esize, item)


class PerCpuCodec(Codec):
    """Per-CPU values: a tuple with one value per possible CPU.

    Each CPU's slot is ``round_up(size, 8)`` bytes.  Encoding accepts a
    sequence of ``ncpus`` values, or one value written to every CPU.
    """

    def __init__(self, elem, ncpus):
        self.elem = elem
        self.ncpus = ncpus
        self.stride = (elem.size + 7) & ~7
        self.size = self.stride * ncpus
        self.type = elem.type
        self._st = None
        if isinstance(elem, (IntCodec, FloatCodec)) and elem.fmt:
            pad = self.stride - elem.size
            one = elem.fmt + (f"{pad}x" if pad else "")
            self._st = struct.Struct("=" + one * ncpus)

    def describe(self):
        return f"per-CPU {self.elem.describe()}"

    def decode(self, buf, offset=0):
        if self._st is not None:
            return self._st.unpack_from(buf, offset)
        dec, stride = self.elem.decode, self.stride
        return tuple(dec(buf, offset + i * stride) for i in range(self.ncpus))

    def decode_many(self, buf, n):
        if self._st is not None:
            return list(self._st.iter_unpack(memoryview(buf).cast("B")[:n * self.size]))
        return Codec.decode_many(self, buf, n)

    def _per_cpu(self, value):
        """The encoded per-CPU values that ``value`` stands for."""
        encode = self.elem.encode
        if isinstance(value, (list, tuple)) and len(value) == self.ncpus:
            try:
                return [encode(v) for v in value]
            except (TypeError, ValueError, OverflowError) as exc:
                try:  # a single array or record value that happens to fit
                    return [encode(value)] * self.ncpus
                except (TypeError, ValueError, OverflowError):
                    raise exc from None
        try:
            return [encode(value)] * self.ncpus
        except TypeError:
            if isinstance(value, (list, tuple)) and _all_encode(encode, value):
                # values meant one per CPU, but not as many as there are CPUs
                raise ValueError(f"a per-CPU {self.elem.describe()} takes {self.ncpus} values "
                                 f"(one per possible CPU) or a single value for all, "
                                 f"got a sequence of {len(value)}") from None
            raise

    def pack_into(self, buf, offset, value):
        esize, stride = self.elem.size, self.stride
        for i, data in enumerate(self._per_cpu(value)):
            start = offset + i * stride
            buf[start:start + esize] = data
            if stride != esize:
                buf[start + esize:start + stride] = bytes(stride - esize)


def _all_encode(encode, values):
    try:
        for v in values:
            encode(v)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


# Compilers for the kinds handled elsewhere (records, enums): kind -> fn(type).
_compilers = {}


def register(kind, fn):
    """Register ``fn(type) -> Codec`` for BTF types of ``kind`` (a class)."""
    _compilers[kind] = fn


def _compile(t):
    r = T.resolve(t)
    for cls, fn in _compilers.items():
        if isinstance(r, cls):
            return fn(t)
    if isinstance(r, T.Int):
        if r.bool:
            return BoolCodec(r.size, t)
        return IntCodec(r.size, r.signed, t)
    if isinstance(r, T.Float):
        return FloatCodec(r.size, t)
    if isinstance(r, T.Ptr):
        return IntCodec(r.size, False, t)
    if isinstance(r, T.Array):
        elem = T.resolve(r.elem)
        if isinstance(elem, T.Int) and elem.size == 1 and (elem.char or elem.name in (
                "char", "signed char", "unsigned char")):
            return CharArrayCodec(r.size, t)
        return ArrayCodec(compile_type(r.elem), r.nelems, t)
    raise TypeError(f"values of type {T.c_name(t)} cannot be encoded "
                    f"(BTF kind {r.kind})")


def compile_type(t):
    """Return the codec for BTF type ``t`` (compiled once, then cached)."""
    codec = getattr(t, "_codec", None)
    if codec is None:
        codec = _compile(t)
        t._codec = codec
    return codec
