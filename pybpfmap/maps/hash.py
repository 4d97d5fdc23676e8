"""Hash maps: HASH and LRU_HASH, behaving like a ``MutableMapping``."""
import collections.abc
import errno
import operator

from .._ffi import ffi
from ..enums import MapFlags, MapType, UpdateFlags
from ..errors import KeyExistsError
from .base import Map, _lookup_elem

__all__ = ["HashMap", "LruHashMap"]  # and the bases _SlotArray, _LookupThenDelete


class _KeysView(collections.abc.KeysView):
    def __iter__(self):
        return self._mapping._iter_keys()


class _ItemsView(collections.abc.ItemsView):
    def __iter__(self):
        return self._mapping._iter_items()


class _ValuesView(collections.abc.ValuesView):
    def __iter__(self):
        return self._mapping._iter_values()

    def __contains__(self, value):
        # the default looks every key up again; read the values in one pass
        return any(v is value or v == value for v in self._mapping._iter_values())


class _PerType:
    """``create`` without a map type, for classes that stand for one type."""

    @classmethod
    def create(cls, key=None, value=None, max_entries=None, name=None, flags=MapFlags(0),
               numa_node=None, inner_map=None, map_extra=0):
        """Create a map of this class's type; see :meth:`Map.create`."""
        if key is None:
            key = cls._default_key
        if key is None:
            raise TypeError(f"{cls.__name__}.create() needs a key type")
        if value is None:
            raise TypeError(f"{cls.__name__}.create() needs a value type")
        return Map.create(cls._default_type, key, value, max_entries, name=name, flags=flags,
                          numa_node=numa_node, inner_map=inner_map, map_extra=map_extra)

    _default_key = None


class HashMap(_PerType, Map, collections.abc.MutableMapping):
    """A hash map (HASH, LRU_HASH): a ``MutableMapping`` living in the kernel.

    ``m[k]``, ``m[k] = v``, ``del m[k]``, ``in``, ``len``, iteration and the
    dict methods work as for ``dict``; ``insert``/``replace``/``set`` expose
    the kernel's NOEXIST/EXIST/ANY updates.  ``items()``, ``keys()``,
    ``values()``, ``update()``, ``clear()`` and ``pop_all()`` use the batch
    operations (Linux 5.6+) and fall back to one syscall per key.
    """

    _map_types = (MapType.HASH,)
    _default_type = MapType.HASH
    _batch_ok = True
    __hash__ = None  # mutable mapping

    def __getitem__(self, key):
        # Hot paths (Map._set_fast): an integer key goes to C by value, and
        # an integer value comes back by value too.
        if key.__class__ is int:
            get = self._get1
            if get is not None:
                try:
                    value = get(self._fd, key)
                except OverflowError:
                    return self.lookup(key)  # out of range: lookup() says so
                if value:
                    return value
                err = ffi.errno
                if not err:
                    return 0
                self._fail(err, "lookup", key)
            get = self._getk
            if get is not None:
                pool = self._pool
                pair = pool.pop() if pool else self._value_buffer()
                try:
                    ret = get(self._fd, key, pair[0])
                except OverflowError:
                    pool.append(pair)
                    return self.lookup(key)
                if not ret:
                    value = self._vdec(pair[1])
                    pool.append(pair)
                    return value
                pool.append(pair)
                self._fail(-ret, "lookup", key)
        return self.lookup(key)

    def __setitem__(self, key, value):
        put = self._put1
        if put is not None and key.__class__ is int and value.__class__ is int:
            try:
                ret = put(self._fd, key, value, 0)
            except OverflowError:
                return self.set(key, value)  # out of range: set() says so
            if ret:
                self._fail(-ret, "update")
            return
        self.set(key, value)

    def __delitem__(self, key):
        self.delete(key)

    def __contains__(self, key):
        fd = self.fd
        kb = self._kenc(key)
        pair = self._value_buffer()
        ret = _lookup_elem(fd, kb, pair[0])
        self._pool.append(pair)
        if ret == 0:
            return True
        if ret == -errno.ENOENT:
            return False
        self._raise(ret, "lookup")

    def __len__(self):
        n = 0
        for _ in self._iter_raw(values=False):
            n += 1
        return n

    def __iter__(self):
        return self._iter_keys()

    def __bool__(self):
        return self.next_key() is not None

    def keys(self):
        """A set-like view of the keys (read with batch lookups)."""
        return _KeysView(self)

    def items(self):
        """A set-like view of ``(key, value)`` pairs (read with batch lookups)."""
        return _ItemsView(self)

    def values(self):
        """A view of the values (read with batch lookups)."""
        return _ValuesView(self)

    def insert(self, key, value):
        """Add ``key`` only if it is absent (BPF_NOEXIST); else ``KeyExistsError``."""
        self.set(key, value, UpdateFlags.NOEXIST)

    def replace(self, key, value):
        """Change ``key`` only if it is present (BPF_EXIST); else ``KeyError``."""
        self.set(key, value, UpdateFlags.EXIST)

    _MISSING = object()

    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its value, atomically (lookup-and-delete).

        Returns ``default`` when given and the key is absent, else raises
        ``KeyError``.
        """
        try:
            return self.lookup_and_delete(key)
        except KeyError:
            if default is self._MISSING:
                raise
            return default

    def popitem(self):
        """Remove and return some ``(key, value)`` pair; ``KeyError`` when empty."""
        for _ in range(1000):
            key = self.next_key()
            if key is None:
                raise KeyError("popitem(): map is empty")
            try:
                return key, self.lookup_and_delete(key)
            except KeyError:
                continue  # another thread took it first
        raise RuntimeError(f"{self._what()} changed too fast for popitem()")

    def setdefault(self, key, default=None):
        """Return ``m[key]``, first inserting ``default`` if ``key`` is absent."""
        while True:
            try:
                return self.lookup(key)
            except KeyError:
                pass
            try:
                self.insert(key, default)
                return default
            except KeyExistsError:
                continue  # inserted concurrently: read it

    def update(self, other=(), /, **kwargs):
        """Set every pair of ``other`` (a mapping or pairs) and ``kwargs``.

        All pairs are encoded before the first syscall; they are then written
        with BPF_MAP_UPDATE_BATCH.  Raises ``MapFullError`` when the map fills
        up (the pairs before that point are written).
        """
        if isinstance(other, collections.abc.Mapping):
            keys, values = list(other.keys()), list(other.values())
        elif hasattr(other, "keys"):
            keys = list(other.keys())
            values = [other[k] for k in keys]
        else:
            keys, values = [], []
            for item in other:
                if not isinstance(item, (tuple, list)) or len(item) != 2:
                    raise TypeError("update() takes a mapping or (key, value) pairs")
                keys.append(item[0])
                values.append(item[1])
        if kwargs:
            keys.extend(kwargs.keys())
            values.extend(kwargs.values())
        if len(keys) != len(values):  # a mapping changed while we read it
            raise RuntimeError("the mapping changed size during update()")
        if keys:
            self._update_batch_kv(keys, values)
        else:
            self.fd  # noqa: B018 - raise on a closed map

    def clear(self):
        """Remove every entry (BPF_MAP_LOOKUP_AND_DELETE_BATCH, or key by key)."""
        for _ in self._iter_raw(delete=True):
            pass

    def pop_all(self):
        """Remove every entry and return them as a ``dict``.

        Each entry is read and deleted in the same operation, so an entry a
        program adds meanwhile is either returned or left in the map, never
        lost.
        """
        return dict(self._iter_items(delete=True))

    def delete_many(self, keys):
        """Delete each of ``keys`` that is present (BPF_MAP_DELETE_BATCH);
        return how many were deleted.  Missing keys are skipped."""
        return self._delete_batch(keys)

    def __eq__(self, other):
        if isinstance(other, Map):
            return self is other
        if isinstance(other, collections.abc.Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented


class _LookupThenDelete:
    """Removal for maps whose kernel has no lookup-and-delete (tries, slot
    arrays): a lookup, then a delete.  Not atomic: a value a program
    changes in between is deleted, and its old value is returned."""

    def lookup_and_delete(self, key):
        """Remove ``key`` and return its value; ``KeyError`` if absent."""
        value = self.lookup(key)
        self.delete(key)
        return value

    def clear(self):
        """Remove every entry (batch lookup, then batch delete)."""
        self._delete_batch(list(self._iter_keys()))

    def pop_all(self):
        """Remove every entry and return them as a ``dict``."""
        items = dict(self._iter_items())
        self._delete_batch(items)
        return items


class _SlotArray(_LookupThenDelete, HashMap):
    """Maps of slots ``0 .. max_entries-1`` that are filled or empty (fd
    arrays, device and CPU maps): a ``MutableMapping`` over the filled
    slots, whose indices out of range raise ``IndexError``."""

    _index_keys = True
    _batch_ok = False
    _kind = "slot"

    def _check_index(self, key):
        try:
            i = operator.index(key)
        except TypeError:
            raise TypeError(f"{self._kind} indices are ints, not {type(key).__name__}") from None
        if not 0 <= i < self.max_entries:
            raise IndexError(f"{self._kind} index out of range (0..{self.max_entries - 1})")
        return i

    def lookup(self, key):
        """The value in slot ``key``; ``KeyError`` when empty."""
        return super().lookup(self._check_index(key))

    def set(self, key, value, flags=UpdateFlags.ANY):
        """Fill slot ``key`` with ``value``."""
        return super().set(self._check_index(key), value, flags)

    def delete(self, key):
        """Empty slot ``key``; ``KeyError`` when it is already empty."""
        return super().delete(self._check_index(key))

    def __bool__(self):
        return any(True for _ in self._iter_raw())

    def _iter_raw_next_key(self, values, delete):
        # GET_NEXT_KEY walks every index; the lookups skip the empty slots
        return super()._iter_raw_next_key(True, delete)


class LruHashMap(HashMap):
    """An LRU hash map: when full, a new key evicts an old one instead of
    raising ``MapFullError`` (which keys go is the kernel's choice)."""

    _map_types = (MapType.LRU_HASH,)
    _default_type = MapType.LRU_HASH
