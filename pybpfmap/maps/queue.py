"""Queues and stacks: QUEUE (FIFO) and STACK (LIFO), maps without keys.

``push``/``pop``/``peek`` like ``collections.deque``; there are no keys, so
the mapping operations of :class:`Map` raise ``TypeError``.
"""
import errno

from .._ffi import ffi, lib
from ..enums import MapFlags, MapType, UpdateFlags
from .base import Map

__all__ = ["QueueMap", "StackMap"]


class _KeylessMap(Map):
    """A map with ``key_size`` 0 (queue, stack, bloom filter): every
    element operation passes a NULL key, and there is nothing to iterate."""

    __iter__ = None  # iter() raises TypeError: there are no keys
    _verbs = "its own methods"
    @classmethod
    def _create_keyless(cls, value, max_entries, name, flags, numa_node, map_extra=0):
        if value is None:
            raise TypeError(f"{cls.__name__}.create() needs a value type")
        # Map.create types the values on the Python side even where the
        # kernel takes no BTF for them (queue, stack: _btf_values)
        return Map.create(cls._default_type, None, value, max_entries, name=name,
                          flags=flags, numa_node=numa_node, map_extra=map_extra)

    def _update(self, value, flags, op):
        fd = self.fd
        vb = self._vc.encode(value)
        ret = lib.bpf_map_update_elem(fd, ffi.NULL, vb, flags)
        if ret < 0:
            self._raise(ret, op)

    def _no_keys(self, *args, **kwargs):
        raise TypeError(f"a {self.type.name} map has no keys; use {self._verbs}")

    lookup = set = delete = lookup_and_delete = next_key = _no_keys
    keys = items = values = _no_keys


class QueueMap(_KeylessMap):
    """QUEUE: a FIFO of values.  ``push(v)``, ``pop()``, ``peek()``,
    ``bool(q)``, ``drain()``.

    There is no ``len()``: the kernel does not tell how many elements a
    queue holds.  A full queue raises ``MapFullError`` on push, unless
    ``overwrite=True`` drops the oldest element.  Linux 4.20+.
    """

    _map_types = (MapType.QUEUE,)
    _default_type = MapType.QUEUE
    _verbs = "push(), pop(), peek() and drain()"
    _btf_values = False

    @classmethod
    def create(cls, value=None, max_entries=None, name=None, flags=MapFlags(0), numa_node=None):
        """Create an empty queue (or stack) of ``max_entries`` values.

        ``value`` is a byte size, a C type or a ``btf.Type``; the values are
        typed in Python only, because the kernel refuses BTF for these maps.
        Raises ``TypeError``/``ValueError`` for bad arguments before any
        syscall, ``BpfError`` when the kernel refuses the map.
        """
        return cls._create_keyless(value, max_entries, name, flags, numa_node)

    def push(self, value, overwrite=False):
        """Add ``value``.  A full map raises ``MapFullError``, or with
        ``overwrite=True`` drops the oldest element (BPF_EXIST)."""
        self._update(value, UpdateFlags.EXIST if overwrite else UpdateFlags.ANY, "push")

    def _take(self, fn, op):
        fd = self.fd
        value = ffi.new("char[]", self._vsize)
        ret = fn(fd, ffi.NULL, value)
        if ret == -errno.ENOENT:
            raise IndexError(f"{op} from an empty {self.type.name.lower()}")
        if ret < 0:
            self._raise(ret, op)
        return self._vc.decode(ffi.buffer(value))

    def pop(self):
        """Remove and return the next value (oldest for a queue, newest for
        a stack); ``IndexError`` when empty."""
        return self._take(lib.bpf_map_lookup_and_delete_elem, "pop")

    def peek(self):
        """Return the value :meth:`pop` would return, leaving it in place;
        ``IndexError`` when empty."""
        return self._take(lib.bpf_map_lookup_elem, "peek")

    def __bool__(self):
        try:
            self.peek()
        except IndexError:
            return False
        return True

    def drain(self):
        """Iterate by popping until the map is empty (values pushed meanwhile
        are popped too)."""
        while True:
            try:
                value = self.pop()
            except IndexError:
                return
            yield value


class StackMap(QueueMap):
    """STACK: a LIFO of values, with the same methods as :class:`QueueMap`
    (``pop``/``peek`` give the newest value; ``overwrite`` drops the oldest).
    Linux 4.20+."""

    _map_types = (MapType.STACK,)
    _default_type = MapType.STACK
