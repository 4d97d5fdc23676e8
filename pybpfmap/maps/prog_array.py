"""Program arrays: PROG_ARRAY, the jump tables of ``bpf_tail_call``.

Slots ``0 .. max_entries-1`` hold programs or are empty.  Setting a slot
takes a :class:`~pybpfmap.Program` (or a program fd); reading it gives the
program's kernel id, which is what the kernel returns.
"""
import errno
import operator

from ..enums import MapFlags, MapType, UpdateFlags
from ..errors import raise_errno
from ._fds import FdCodec
from .base import Map
from .hash import HashMap

__all__ = ["ProgArrayMap"]


class _SlotArray(HashMap):
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

    def lookup_and_delete(self, key):
        """Empty slot ``key`` and return its value (a lookup then a delete:
        the kernel has no atomic one for these maps)."""
        value = self.lookup(key)
        self.delete(key)
        return value

    def clear(self):
        """Empty every slot."""
        self._delete_batch(list(self._iter_keys()))

    def pop_all(self):
        """Empty every slot; return ``{index: value}`` of the filled ones."""
        items = dict(self._iter_items())
        self._delete_batch(items)
        return items

    def __bool__(self):
        return any(True for _ in self._iter_raw())

    def _iter_raw_next_key(self, values, delete):
        # GET_NEXT_KEY walks every index; the lookups skip the empty slots
        return super()._iter_raw_next_key(True, delete)


class ProgArrayMap(_SlotArray):
    """PROG_ARRAY: ``m[i] = prog`` fills slot ``i`` for ``bpf_tail_call``,
    ``m[i]`` gives the id of the program there (``KeyError`` when empty),
    ``del m[i]`` empties it; iteration, ``len`` and ``items()`` cover the
    filled slots only.

    An index outside ``0..max_entries-1`` raises ``IndexError``.  The kernel
    only accepts programs of the type (and JIT mode) of the programs that
    use the array (``BpfError``, EINVAL), and empties every slot when the
    last user-space reference to the map (fd or pin) goes away.  Slots are
    set with BPF_ANY only, so ``insert``/``replace`` raise ``TypeError``.
    Linux 4.2+.
    """

    _map_types = (MapType.PROG_ARRAY,)
    _default_type = MapType.PROG_ARRAY
    _kind = "program array"

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, key_type, None, **kwargs)
        self._vc = FdCodec(4, "a program array value (a bm.Program or program fd)")

    @classmethod
    def create(cls, max_entries=None, name=None, flags=MapFlags(0), numa_node=None):
        """Create an empty program array of ``max_entries`` slots; returns a
        :class:`ProgArrayMap`.  (No BTF: the kernel refuses it for fd arrays.)"""
        return Map.create(MapType.PROG_ARRAY, 4, 4, max_entries, name=name, flags=flags,
                          numa_node=numa_node)

    def insert(self, key, value):
        raise TypeError("program array slots are set with BPF_ANY only; use m[i] = prog")

    replace = insert

    def _raise(self, ret, op, key=None, full_errno=errno.E2BIG):
        if -ret == errno.EINVAL and op == "update":
            raise_errno(errno.EINVAL, op, self._what(), map=self,
                        hint="the fd must be a program of the same type (and JIT mode) as "
                             "the programs that use this array")
        super()._raise(ret, op, key, full_errno)
