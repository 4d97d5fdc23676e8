"""Memory-mapped maps: BPF_F_MMAPABLE arrays (:class:`MmapArrayMixin`) and ARENA maps.

A map created with ``MapFlags.MMAPABLE`` can be mapped into this process:
``m.memory`` is a ``memoryview`` of the map's values, shared with every BPF
program using the map, so a program's counters can be read (and written)
without a syscall; ``m.to_numpy()`` views the same memory as a numpy array.

The mapping is made on first use and kept until :meth:`close`; views handed
out stay valid after ``close`` (the mapping keeps the map alive) until the
last of them is released.
"""
import errno
import mmap as _mmap

from .._ffi import ffi, lib
from ..enums import MapFlags, MapType
from ..errors import raise_errno
from .array import ArrayMap
from .base import Map, _check_name, _check_uint

__all__ = ["MmapArrayMixin", "MmapArrayMap", "ArenaMap"]

PAGE_SIZE = _mmap.PAGESIZE


def _round_up(n, to):
    return (n + to - 1) // to * to


class _Mapping:
    """One shared mapping of a map fd, unmapped when the last view of it goes.

    ``view`` is a ``memoryview`` over the mapped bytes; the mapping lives as
    long as any view (or numpy array) made from it, even after the map is
    closed, so dropping the mapping object never leaves a view dangling.
    """

    def __init__(self, fd, length, view_length, what, addr=0):
        self.writable = True
        ptr = self._map(fd, length, _mmap.PROT_READ | _mmap.PROT_WRITE, addr)
        if isinstance(ptr, int):
            if ptr not in (errno.EPERM, errno.EACCES):
                raise_errno(ptr, "mmap", what)
            # frozen, or BPF_F_RDONLY_PROG: the kernel allows a read-only mapping
            ptr2 = self._map(fd, length, _mmap.PROT_READ, addr)
            if isinstance(ptr2, int):
                hint = None
                if ptr2 == errno.EINVAL:
                    # a read-only fd turns MAP_SHARED into a private mapping,
                    # which bpf maps refuse
                    ptr2 = ptr
                    hint = ("a map whose file descriptor is read-only (BPF_F_RDONLY) "
                            "cannot be memory-mapped; read it with lookups")
                raise_errno(ptr2, "mmap", what, hint=hint)
            ptr = ptr2
            self.writable = False
        view = memoryview(ffi.buffer(ptr, view_length))
        self.view = view if self.writable else view.toreadonly()

    @staticmethod
    def _map(fd, length, prot, addr):
        """The mapped pointer (freed by munmap when unreferenced), or an errno."""
        err = ffi.new("int *")
        p = lib.pybpfmap_mmap_shared(ffi.cast("void *", addr), length, prot, fd, err)
        if p == ffi.NULL:
            return err[0]
        return ffi.gc(ffi.cast("char *", p), lambda q, n=length: lib.pybpfmap_munmap(q, n),
                      size=length)


def _require_mmapable(m):
    m.fd  # noqa: B018 - raise on a closed map
    if not m._info.flags & MapFlags.MMAPABLE:
        raise TypeError(f"{m._what()} was not created with MapFlags.MMAPABLE, "
                        f"so it cannot be memory-mapped")


class MmapArrayMixin:
    """``memory`` and ``to_numpy()`` for ARRAY maps created with ``MapFlags.MMAPABLE``.

    Values are laid out every ``round_up(value_size, 8)`` bytes (the
    kernel's element stride), ``max_entries`` of them.
    """

    _mapping = None

    @property
    def value_stride(self):
        """Bytes from one value to the next in :attr:`memory`."""
        return _round_up(self._info.value_size, 8)

    @property
    def memory(self):
        """A ``memoryview`` of every value (``max_entries`` values,
        :attr:`value_stride` bytes apart), shared with the kernel.

        Writable, unless the map is frozen, read-only for programs
        (``RDONLY_PROG``) or open read-only: then a read-only view.  Raises
        ``TypeError`` for a map without ``MapFlags.MMAPABLE``, and
        ``BpfError`` when the kernel refuses the mapping (Linux 5.5+).
        """
        _require_mmapable(self)
        if self._mapping is None:
            size = self.value_stride * self._info.max_entries
            self._mapping = _Mapping(self.fd, _round_up(size, PAGE_SIZE), size, self._what())
        return self._mapping.view

    def to_numpy(self):
        """A numpy array viewing :attr:`memory` without copying: element i
        is value i, of the dtype of ``value_type`` (raw ``V<n>`` without one).

        Writes to the array go straight to the map.  Raises ``ImportError``
        without numpy, ``TypeError`` without ``MapFlags.MMAPABLE``.
        """
        _require_mmapable(self)
        from .._numpy import dtype_of, numpy
        np = numpy()
        mem = self.memory
        dtype = dtype_of(self.value_type, self._info.value_size)
        if dtype.itemsize != self._info.value_size:  # pragma: no cover - codec/dtype mismatch
            dtype = np.dtype(f"V{self._info.value_size}")
        # frombuffer holds a buffer export, which keeps the mapping from being
        # unmapped under the array (ndarray(buffer=...) alone would not)
        raw = np.frombuffer(mem, dtype=np.uint8)
        return np.ndarray(shape=(self._info.max_entries,), dtype=dtype, buffer=raw,
                          strides=(self.value_stride,))

    def close(self):
        self._mapping = None  # unmapped once no view handed out is left
        super().close()


class MmapArrayMap(MmapArrayMixin, ArrayMap):
    """An ARRAY map with :attr:`memory` and :meth:`to_numpy` (needs
    ``MapFlags.MMAPABLE`` at creation; the others raise ``TypeError``)."""

    @classmethod
    def create(cls, key=None, value=None, max_entries=None, name=None,
               flags=MapFlags.MMAPABLE, numa_node=None, inner_map=None, map_extra=0):
        """Create an ARRAY map, memory-mappable unless ``flags`` says otherwise."""
        return super().create(key, value, max_entries, name=name, flags=flags,
                              numa_node=numa_node, inner_map=inner_map, map_extra=map_extra)


# Map.create/from_* give MMAPABLE arrays this class (ArrayMap._class_for)
ArrayMap._mmap_class = MmapArrayMap


class ArenaMap(Map):
    """An ARENA map (Linux 6.9+): up to ``max_entries`` pages of memory shared
    by BPF programs and user space, allocated as they are first touched.

    :attr:`memory` maps the whole arena (``max_entries * PAGE_SIZE`` bytes);
    the kernel allows one address per arena, so it is mapped once per
    object.  Element operations do not exist for arenas.
    """

    _map_types = (MapType.ARENA,)
    _default_type = MapType.ARENA
    _mapping = None

    @classmethod
    def create(cls, pages, name=None, map_extra=0, flags=MapFlags.MMAPABLE):
        """Create an arena of ``pages`` pages (``map_extra``: the user-space
        address to map it at, a page multiple, or 0 for any).  Raises
        ``ValueError``/``TypeError`` for bad arguments before any syscall."""
        _check_uint(pages, "pages")
        if pages < 1:
            raise ValueError("an arena needs at least one page")
        _check_name(name)
        _check_uint(map_extra, "map_extra", (1 << 64) - 1)
        if map_extra % PAGE_SIZE:
            raise ValueError(f"map_extra (the arena's address) must be a multiple of "
                             f"the page size ({PAGE_SIZE}), got {map_extra:#x}")
        return Map.create(cls._default_type, 0, 0, pages, name=name,
                          flags=flags | MapFlags.MMAPABLE, map_extra=map_extra)

    @property
    def size(self):
        """The arena's size in bytes."""
        return self._info.max_entries * PAGE_SIZE

    @property
    def memory(self):
        """A writable ``memoryview`` of the whole arena (pages are allocated
        on first touch).  Raises ``BpfError`` when the kernel refuses."""
        fd = self.fd
        if self._mapping is None:
            self._mapping = _Mapping(fd, self.size, self.size, self._what(),
                                     addr=self._info.map_extra)
        return self._mapping.view

    def close(self):
        self._mapping = None  # unmapped once no view handed out is left
        super().close()
