"""Array maps: ARRAY, a fixed-length sequence indexed by ``__u32``."""
import collections.abc
import operator

from .._ffi import ffi, lib
from ..enums import MapFlags, MapType, UpdateFlags
from .base import Map
from .hash import _PerType

__all__ = ["ArrayMap"]


class _ItemsView(collections.abc.ItemsView):
    def __iter__(self):
        return self._mapping._iter_items()

    def __contains__(self, item):
        key, value = item
        try:
            v = self._mapping[key]
        except (IndexError, TypeError):  # arrays raise these, not KeyError
            return False
        return v is value or v == value


class _ValuesView(collections.abc.ValuesView):
    def __iter__(self):
        return self._mapping._iter_values()

    def __contains__(self, value):
        # the default looks every key up again; read the values in one pass
        return any(v is value or v == value for v in self._mapping._iter_values())


class ArrayMap(_PerType, Map, collections.abc.Sequence):
    """An array map: ``len(m) == m.max_entries``, every index always exists.

    ``m[i]``, ``m[i] = v`` (negative indices too), slices (``m[2:10]`` reads a
    list, ``m[:] = seq`` writes all), iteration over values, and
    ``items()``/``keys()``/``values()`` as for a dict with integer keys.  An
    index out of range raises ``IndexError``; ``del m[i]`` raises
    ``TypeError`` (array elements cannot be deleted).
    """

    _map_types = (MapType.ARRAY,)
    _default_type = MapType.ARRAY
    _default_key = "__u32"
    _index_keys = True
    _batch_ok = True
    _plain_ops = True  # lookup()/set() below only normalise the index
    #: the class for MMAPABLE arrays (set by .mmap, which builds on this one)
    _mmap_class = None

    @classmethod
    def _class_for(cls, info):
        if cls is ArrayMap and cls._mmap_class and info.flags & MapFlags.MMAPABLE:
            return cls._mmap_class
        return cls
    __hash__ = None

    def __len__(self):
        self.fd  # noqa: B018 - raise on a closed map
        return self._info.max_entries

    def _index(self, i):
        try:
            i = operator.index(i)
        except TypeError:
            raise TypeError(f"array map indices must be integers or slices, "
                            f"not {type(i).__name__}") from None
        n = self._info.max_entries
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"array map index out of range (0..{n - 1})")
        return i

    def __getitem__(self, i):
        if i.__class__ is int and 0 <= i < self._info.max_entries:
            get = self._get1
            if get is not None:  # integer values: by value through C
                value = get(self._fd, i)
                if value:
                    return value
                err = ffi.errno
                if not err:
                    return 0
                self._fail(err, "lookup")
            return Map.lookup(self, i) if self._plain_ops else self.lookup(i)
        if isinstance(i, slice):
            return self._get_slice(i)
        return Map.lookup(self, self._index(i))

    def _get_slice(self, s):
        idx = range(*s.indices(self._info.max_entries))
        if not idx:
            self.fd  # noqa: B018 - still raise on a closed map
            return []
        if idx.step == 1 and len(idx) > 8:
            out = []
            for k, v in self._iter_items_from(idx.start):
                if k >= idx.stop:
                    break
                out.append(v)
            return out
        return [self.lookup(i) for i in idx]

    def _iter_items_from(self, start):
        """(index, value) pairs from ``start`` on, read in batches."""
        if start == 0:
            yield from self._iter_items()
            return
        for i in range(start, self._info.max_entries):
            yield i, self.lookup(i)

    def __setitem__(self, i, value):
        if i.__class__ is int and 0 <= i < self._info.max_entries:
            if self._plain_ops:
                return Map.set(self, i, value)  # the common case, checked already
            return self.set(i, value)
        if isinstance(i, slice):
            idx = range(*i.indices(self._info.max_entries))
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise TypeError("can only assign an iterable to an array map slice")
            values = list(value)
            if len(values) != len(idx):
                raise ValueError(f"array map slice assignment needs exactly {len(idx)} "
                                 f"values, got {len(values)} (array maps cannot resize)")
            self._update_batch(zip(idx, values))
            return
        self.set(self._index(i), value)

    def __delitem__(self, i):
        raise TypeError("array map elements cannot be deleted; assign a zero value instead")

    def delete(self, key):
        """Array elements cannot be deleted: always ``TypeError``."""
        raise TypeError("array map elements cannot be deleted; assign a zero value instead")

    def lookup_and_delete(self, key):
        """Array elements cannot be deleted: always ``TypeError``."""
        raise TypeError("array map elements cannot be deleted; read and assign instead")

    def __iter__(self):
        return self._iter_values()

    def __reversed__(self):
        for i in range(self._info.max_entries - 1, -1, -1):
            yield self.lookup(i)

    def keys(self):
        """``range(len(m))``: every index."""
        self.fd  # noqa: B018 - raise on a closed map
        return range(self._info.max_entries)

    def items(self):
        """``(index, value)`` pairs, read with batch lookups."""
        return _ItemsView(self)

    def values(self):
        """Every value in index order, read with batch lookups."""
        return _ValuesView(self)

    def _iter_raw_next_key(self, values, delete):
        # arrays: every index exists, no need to walk keys
        fd = self.fd
        vs = self._vsize
        value = ffi.new("char[]", vs)
        vbuf = ffi.buffer(value)
        pack = self._kc.encode
        for i in range(self._info.max_entries):
            kb = pack(i)
            ret = lib.bpf_map_lookup_elem(fd, kb, value)
            if ret < 0:
                self._raise(ret, "lookup")
            yield kb, 0, vbuf, 0

    def set(self, key, value, flags=UpdateFlags.ANY):
        if isinstance(key, int) and not isinstance(key, bool):
            key = self._index(key)
        return super().set(key, value, flags)

    def lookup(self, key, flags=0):
        if isinstance(key, int) and not isinstance(key, bool):
            n = self._info.max_entries
            if not -n <= key < n:
                raise IndexError(f"array map index out of range (0..{n - 1})")
            key %= n
        return super().lookup(key, flags)
