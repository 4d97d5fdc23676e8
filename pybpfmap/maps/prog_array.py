"""Program arrays: PROG_ARRAY, the jump tables of ``bpf_tail_call``.

Slots ``0 .. max_entries-1`` hold programs or are empty.  Setting a slot
takes a :class:`~pybpfmap.Program` (or a program fd); reading it gives the
program's kernel id, which is what the kernel returns.
"""

from ..enums import MapFlags, MapType
from ._fds import FdCodec
from .base import Map
from .hash import _SlotArray

__all__ = ["ProgArrayMap"]


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

    _update_einval_hint = ("the fd must be a program of the same type (and JIT mode) as "
                           "the programs that use this array")
