"""Bloom filters: BLOOM_FILTER, a set you can add to and test, never list."""
import errno

from .._ffi import ffi, lib
from ..enums import MapFlags, MapType, UpdateFlags
from .base import _check_uint
from .queue import _KeylessMap

__all__ = ["BloomFilterMap"]

_DEFAULT_HASHES = 5  # the kernel's choice when map_extra is 0


class BloomFilterMap(_KeylessMap):
    """BLOOM_FILTER: ``b.add(v)`` and ``v in b``.

    ``in`` has no false negatives: a value added is always found; a value
    never added is found with a small probability (more ``max_entries``
    and a good number of ``hashes`` make that rarer).  Values cannot be
    removed, listed or counted.  Linux 5.16+.
    """

    _map_types = (MapType.BLOOM_FILTER,)
    _default_type = MapType.BLOOM_FILTER
    _verbs = "add() and 'in'"

    @classmethod
    def create(cls, value=None, max_entries=None, hashes=None, name=None, flags=MapFlags(0),
               numa_node=None):
        """Create an empty bloom filter sized for ``max_entries`` values.

        ``hashes`` (1..15) is the number of hash functions (``map_extra``);
        ``None`` lets the kernel choose (5).  Raises ``TypeError``/
        ``ValueError`` for bad arguments before any syscall.
        """
        if hashes is not None:
            _check_uint(hashes, "hashes", 15, 1)
        return cls._create_keyless(value, max_entries, name, flags, numa_node, hashes or 0)

    @property
    def hashes(self):
        """The number of hash functions."""
        return (self.info.map_extra & 0xF) or _DEFAULT_HASHES

    def add(self, value):
        """Add ``value`` to the filter (adding it again changes nothing)."""
        self._update(value, UpdateFlags.ANY, "add")

    def update(self, values):
        """Add every value of the iterable ``values``; all are encoded first,
        so a bad one leaves the filter unchanged."""
        encoded = [self._vc.encode(v) for v in values]
        fd = self.fd
        for vb in encoded:
            ret = lib.bpf_map_update_elem(fd, ffi.NULL, vb, UpdateFlags.ANY)
            if ret < 0:
                self._raise(ret, "add")

    def __contains__(self, value):
        fd = self.fd
        vb = self._vc.encode(value)
        ret = lib.bpf_map_lookup_elem(fd, ffi.NULL, vb)
        if ret == 0:
            return True
        if ret == -errno.ENOENT:
            return False
        self._raise(ret, "lookup")
