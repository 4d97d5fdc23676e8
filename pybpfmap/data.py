"""Maps as numpy arrays and pandas data frames (``m.to_numpy()``, ``m.to_pandas()``).

``to_numpy`` reads the map with BPF_MAP_LOOKUP_BATCH and copies each batch
buffer into a structured array field by field, with numpy: no Python object
is made per entry.  The dtypes follow the decoded Python values (API.md
section 1) rather than the C layout:

==========================  ==============================================
C type                      numpy
==========================  ==============================================
1/2/4/8-byte integers       ``<i``/``<u`` of that size
``_Bool``                   ``?``
``float``/``double``        ``<f4``/``<f8``
enum                        its integer type (``int`` values, not members)
``char[N]``                 ``S<N>`` (trailing NULs dropped on access)
other arrays                a sub-array ``(elem, (N,))``
struct/union                a structured dtype, one field per record field
                            (anonymous members flattened, union members
                            side by side, no padding)
bitfield                    the smallest integer holding it (sign-extended)
raw bytes, other sizes      ``V<N>``
per-CPU values              a sub-array with one element per possible CPU
==========================  ==============================================

numpy and pandas are optional: they are imported on first use.
"""
from ._numpy import numpy as _np_module
from .btf import codec as C
from .btf import records as R

__all__ = ["to_numpy", "to_pandas", "dtype_for"]


def _int_dtype(np, size, signed):
    return np.dtype(f"<{'i' if signed else 'u'}{size}")


def _bits_dtype(np, field):
    """The integer dtype of a bitfield (or an unaligned member)."""
    if field.is_bool:
        return np.dtype("?")
    for size in (1, 2, 4, 8):
        if field.bits <= size * 8:
            return _int_dtype(np, size, field.signed)
    return np.dtype(f"V{(field.bits + 7) // 8}")


def dtype_for(codec):
    """The numpy dtype of the values ``codec`` decodes (see the module doc)."""
    np = _np_module()
    return _dtype(np, codec)


def _dtype(np, codec):
    if isinstance(codec, C.BoolCodec):
        return np.dtype("?")
    if isinstance(codec, C.IntCodec):
        if codec.size in (1, 2, 4, 8):
            return _int_dtype(np, codec.size, codec.signed)
        return np.dtype(f"V{codec.size}")
    if isinstance(codec, C.FloatCodec):
        return np.dtype(f"<f{codec.size}")
    if isinstance(codec, R.EnumCodec):
        return _dtype(np, codec.int)
    if isinstance(codec, C.CharArrayCodec):
        return np.dtype(f"S{codec.size}") if codec.size else np.dtype("V0")
    if isinstance(codec, C.ArrayCodec):
        return np.dtype((_dtype(np, codec.elem), (codec.nelems,)))
    if isinstance(codec, R.StructCodec):
        return np.dtype([(f.name, _bits_dtype(np, f) if f.bits else _dtype(np, f.codec))
                         for f in codec.fields])
    if isinstance(codec, C.PerCpuCodec):
        return np.dtype((_dtype(np, codec.elem), (codec.ncpus,)))
    if hasattr(codec, "data_size") and codec.size == 4 + codec.data_size:  # LPM trie keys
        return np.dtype([("prefixlen", "<u4"), ("data", "u1", (codec.data_size,))])
    return np.dtype(f"V{codec.size}")


# -- fillers: copy one codec's values out of a batch of raw rows -----------------------
#
# A filler is ``fill(dst, raw)``: ``raw`` is a 1-d array of ``V<rowsize>`` (one
# row per entry, as the kernel returned it) and ``dst`` the matching slice of
# the output, of the codec's dtype.  Each leaf is one strided numpy copy.

def _field_view(np, offset, dtype, rowsize):
    """A dtype selecting ``dtype`` at byte ``offset`` of a ``rowsize``-byte row."""
    return np.dtype({"names": ["f"], "formats": [dtype], "offsets": [offset],
                     "itemsize": rowsize})


def _copy_filler(np, offset, dtype, rowsize):
    view = _field_view(np, offset, dtype, rowsize)

    def fill(dst, raw):
        dst[...] = raw.view(view)["f"]
    return fill


def _bits_filler(np, bit_offset, field, rowsize):
    """Extract a bitfield of ``field.bits`` bits starting ``bit_offset`` bits into the row."""
    start, shift = divmod(bit_offset, 8)
    nbytes = (shift + field.bits + 7) // 8
    u8 = np.uint64
    views = [_field_view(np, start + i, np.dtype("u1"), rowsize) for i in range(nbytes)]
    mask = u8((1 << field.bits) - 1) if field.bits < 64 else None

    def fill(dst, raw):
        acc = np.zeros(raw.shape, dtype=u8)
        for i, view in enumerate(views[:8]):
            acc |= raw.view(view)["f"].astype(u8) << u8(8 * i)
        if shift:
            acc >>= u8(shift)
            if nbytes == 9:
                acc |= raw.view(views[8])["f"].astype(u8) << u8(64 - shift)
        if mask is not None:
            acc &= mask
        if field.is_bool:
            dst[...] = acc != 0
            return
        if field.signed:
            signed = acc.view(np.int64)
            if field.bits < 64:
                signed = np.where(acc >> u8(field.bits - 1), signed - (1 << field.bits), signed)
            dst[...] = signed
        else:
            dst[...] = acc
    return fill


def _filler(np, codec, offset, rowsize):
    if isinstance(codec, C.BoolCodec):
        view = _field_view(np, offset, np.dtype(f"u{codec.size}"), rowsize)

        def fill_bool(dst, raw):
            dst[...] = raw.view(view)["f"] != 0
        return fill_bool
    if isinstance(codec, C.ArrayCodec) and not _is_plain(codec.elem):
        return _array_filler(np, codec.elem, codec.nelems, codec.elem.size, offset, rowsize)
    if isinstance(codec, C.PerCpuCodec):
        return _array_filler(np, codec.elem, codec.ncpus, codec.stride, offset, rowsize)
    if isinstance(codec, R.StructCodec):
        parts = []
        for f in codec.fields:
            if f.bits:
                parts.append((f.name, _bits_filler(np, offset * 8 + f.bit_offset, f, rowsize)))
            else:
                parts.append((f.name, _filler(np, f.codec, offset + f.offset, rowsize)))

        def fill_struct(dst, raw):
            for name, fill in parts:
                fill(dst[name], raw)
        return fill_struct
    if hasattr(codec, "data_size") and codec.size == 4 + codec.data_size:
        fills = [("prefixlen", _copy_filler(np, offset, np.dtype("<u4"), rowsize)),
                 ("data", _copy_filler(np, offset + 4, np.dtype(("u1", (codec.data_size,))),
                                       rowsize))]

        def fill_lpm(dst, raw):
            for name, fill in fills:
                fill(dst[name], raw)
        return fill_lpm
    return _copy_filler(np, offset, _dtype(np, codec), rowsize)


def _is_plain(codec):
    """Whether ``codec``'s values are its bytes reinterpreted (one copy does it)."""
    if isinstance(codec, C.BoolCodec):
        return False
    if isinstance(codec, (C.IntCodec, C.FloatCodec, C.CharArrayCodec, C.RawCodec, R.EnumCodec)):
        return True
    if isinstance(codec, C.ArrayCodec):
        return _is_plain(codec.elem)
    return False


def _array_filler(np, elem, n, stride, offset, rowsize):
    fills = [_filler(np, elem, offset + i * stride, rowsize) for i in range(n)]

    def fill(dst, raw):
        for i, f in enumerate(fills):
            f(dst[:, i], raw)
    return fill


def _plan(np, codec):
    """``(dtype, fill)`` for ``codec`` (cached on the codec)."""
    plan = codec.__dict__.get("_numpy_plan")
    if plan is None:
        plan = (_dtype(np, codec), _filler(np, codec, 0, codec.size))
        try:
            codec._numpy_plan = plan
        except AttributeError:
            pass
    return plan


# -- reading a map --------------------------------------------------------------------

def _raw_batches(m):
    """Yield ``(keys, values, n)`` byte buffers for every entry of ``m``: the
    kernel's batch buffers when it has batch lookups, else one entry at a time."""
    from ._ffi import ffi
    from .maps.base import _NoBatch
    if m._use_batch:
        try:
            for keys, values, n in m._batch_chunks():
                yield ffi.buffer(keys, n * m._ksize), ffi.buffer(values, n * m._vsize), n
            return
        except _NoBatch:
            m._use_batch = False
    for kbuf, koff, vbuf, voff in m._iter_raw_next_key(True, False):
        yield (bytes(kbuf[koff:koff + m._ksize]), bytes(vbuf[voff:voff + m._vsize]), 1)


def to_numpy(m):
    """Read every entry of map ``m`` into a structured array with the fields
    ``key`` and ``value`` (see the module doc for the dtypes).

    Uses BPF_MAP_LOOKUP_BATCH (Linux 5.6+) and falls back to one lookup per
    key.  Raises ``ImportError`` without numpy, ``ValueError`` on a closed map.
    """
    np = _np_module()
    m.fd  # noqa: B018 - raise on a closed map
    kdtype, kfill = _plan(np, m._kc)
    vdtype, vfill = _plan(np, m._vc)
    ks, vs = m._ksize, m._vsize
    out_dtype = np.dtype([("key", kdtype), ("value", vdtype)])
    cap = max(1, m.max_entries)
    out = np.empty(cap, dtype=out_dtype)
    okey, ovalue = out["key"], out["value"]
    kraw_dtype, vraw_dtype = np.dtype(f"V{ks}"), np.dtype(f"V{vs}")
    pos = 0
    for keys, values, n in _raw_batches(m):
        if pos + n > cap:  # more entries than max_entries (LRU rounding): grow
            cap = max(2 * cap, pos + n)
            out = np.concatenate([out[:pos], np.empty(cap - pos, dtype=out_dtype)])
            okey, ovalue = out["key"], out["value"]
        end = pos + n
        kfill(okey[pos:end], np.frombuffer(keys, kraw_dtype, n))
        vfill(ovalue[pos:end], np.frombuffer(values, vraw_dtype, n))
        pos = end
    if pos == len(out):
        return out
    return out[:pos].copy()


# -- pandas ---------------------------------------------------------------------------

def _leaf_columns(arr, name, out):
    """Append ``(column name, 1-d array)`` pairs for ``arr`` (fields dotted,
    array elements as ``name[i]``)."""
    if arr.ndim > 1:
        for i in range(arr.shape[1]):
            _leaf_columns(arr[:, i], f"{name}[{i}]", out)
    elif arr.dtype.names:
        for field in arr.dtype.names:
            _leaf_columns(arr[field], f"{name}.{field}" if name else field, out)
    else:
        out.append((name, arr))


def _column_values(arr):
    kind = arr.dtype.kind
    if kind == "S":
        return arr.astype(object)
    if kind == "V":
        return [bytes(v) for v in arr.tolist()] if arr.dtype.itemsize else [b""] * len(arr)
    return arr


def _sum_percpu(np, arr):
    """Per-CPU sub-arrays summed over the CPUs (numbers), or-ed (bools), or
    taken from the first CPU (bytes)."""
    if arr.dtype.names:
        out = np.empty(arr.shape[0], dtype=_reduced_dtype(np, arr))
        for field in arr.dtype.names:
            out[field] = _sum_percpu(np, arr[field])
        return out
    if arr.dtype.kind in "iu":
        return arr.sum(axis=1, dtype=np.int64 if arr.dtype.kind == "i" else np.uint64)
    if arr.dtype.kind == "f":
        return arr.sum(axis=1)
    if arr.dtype.kind == "b":
        return arr.any(axis=1)
    return arr[:, 0]


def _reduced_dtype(np, arr):
    """The dtype of a per-CPU structured array with the CPU axis summed away."""
    fields = []
    for field in arr.dtype.names:
        sub = arr[field]
        if sub.dtype.names:
            fields.append((field, _reduced_dtype(np, sub)))
        elif sub.dtype.kind in "iu":
            fields.append((field, np.dtype("i8" if sub.dtype.kind == "i" else "u8"),
                           sub.shape[2:]))
        else:
            fields.append((field, sub.dtype, sub.shape[2:]))
    return np.dtype(fields)


def to_pandas(m, percpu="long"):
    """Read map ``m`` into a ``pandas.DataFrame``, one row per entry.

    Columns: the key, then the value; a scalar is one column named ``key``
    or ``value``, a struct gives one column per field (nested fields dotted,
    ``addr.port``; array elements ``slots[3]``).  When a key field and a value
    field share a name every column is prefixed ``key.``/``value.``.
    ``char`` arrays are ``bytes`` columns.  Per-CPU values: ``percpu="long"``
    gives one row per entry and CPU with a ``cpu`` column, ``"sum"`` one row
    per entry with the CPUs summed.  Raises ``ImportError`` without pandas.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas() needs pandas: pip install pandas "
                          "(or pip install pybpfmap[pandas])") from None
    np = _np_module()
    if percpu not in ("long", "sum"):
        raise ValueError(f"percpu must be 'long' or 'sum', not {percpu!r}")
    arr = to_numpy(m)
    keys, values = arr["key"], arr["value"]
    cpu = None
    if isinstance(m._vc, C.PerCpuCodec):
        ncpus = m._vc.ncpus
        if percpu == "sum":
            values = _sum_percpu(np, values)
        else:
            keys = np.repeat(keys, ncpus)
            cpu = np.tile(np.arange(ncpus), len(arr))
            values = values.reshape((len(arr) * ncpus,) + values.shape[2:])
    kcols, vcols = [], []
    _leaf_columns(keys, "" if keys.dtype.names else "key", kcols)
    _leaf_columns(values, "" if values.dtype.names else "value", vcols)
    knames = {n for n, _ in kcols}
    if any(n in knames for n, _ in vcols) or (cpu is not None and "cpu" in knames | {
            n for n, _ in vcols}):
        kcols = [(n if n == "key" else f"key.{n}", c) for n, c in kcols]
        vcols = [(n if n == "value" else f"value.{n}", c) for n, c in vcols]
    columns = {}
    for name, col in kcols:
        columns[name] = _column_values(col)
    if cpu is not None:
        columns["cpu"] = cpu
    for name, col in vcols:
        columns[name] = _column_values(col)
    return pd.DataFrame(columns)

