"""numpy dtypes for BTF types (numpy is optional: imported on first use).

:func:`dtype_of` gives the structured dtype whose memory layout is exactly
the C type's, so a buffer of kernel records can be viewed without copying.
"""
from .btf import types as T

__all__ = ["numpy", "dtype_of"]


def numpy():
    """The numpy module; ``ImportError`` with an install hint if it is missing."""
    try:
        import numpy as np
    except ImportError:
        raise ImportError("this needs numpy: pip install numpy "
                          "(or pip install pybpfmap[numpy])") from None
    return np


def dtype_of(t, size=None):
    """The numpy dtype laid out like BTF type ``t`` (``None``: ``size`` raw bytes).

    Integers, floats, bools, pointers and enums map to little-endian scalars,
    ``char`` arrays to ``S<n>``, other arrays to sub-arrays, structs and
    unions to structured dtypes with the C field offsets.  Bitfields have no
    numpy form; their storage unit is given as raw bytes named after them.
    """
    np = numpy()
    if t is None:
        return np.dtype(f"V{size}")
    return _dtype(np, t)


def _dtype(np, t):
    r = T.resolve(t)
    if isinstance(r, T.Int):
        if r.bool:
            return np.dtype("?") if r.size == 1 else np.dtype(f"<u{r.size}")
        if r.size not in (1, 2, 4, 8):
            return np.dtype(f"V{r.size}")
        return np.dtype(f"<{'i' if r.signed else 'u'}{r.size}")
    if isinstance(r, T.Float):
        return np.dtype(f"<f{r.size}")
    if isinstance(r, T.Ptr):
        return np.dtype(f"<u{r.size}")
    if isinstance(r, T.Array):
        elem = T.resolve(r.elem)
        if isinstance(elem, T.Int) and elem.size == 1 and (elem.char or elem.name in (
                "char", "signed char", "unsigned char")):
            return np.dtype(f"S{r.nelems}") if r.nelems else np.dtype("V0")
        return np.dtype((_dtype(np, r.elem), (r.nelems,)))
    if isinstance(r, T.Struct):  # unions too: members share offset 0
        names, formats, offsets = [], [], []
        for i, m in enumerate(r.members):
            name = m.name or f"_anon{i}"
            if m.bitfield_size:
                unit = _dtype(np, m.type)
                names.append(name)
                formats.append(np.dtype(f"V{unit.itemsize}"))
                offsets.append((m.bit_offset // 8) // unit.itemsize * unit.itemsize)
                continue
            names.append(name)
            formats.append(_dtype(np, m.type))
            offsets.append(m.bit_offset // 8)
        return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                         "itemsize": r.size})
    if isinstance(r, T.Enum) and r.size in (1, 2, 4, 8):
        return np.dtype(f"<{'i' if r.signed else 'u'}{r.size}")
    return np.dtype(f"V{getattr(r, 'size', 0)}")
