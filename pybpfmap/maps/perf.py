"""PERF_EVENT_ARRAY: :class:`PerfEventArray`, the per-CPU perf buffer reader.

The same reader API as :class:`~pybpfmap.maps.ringbuf.RingBuf` (``read``,
``events``, ``async for``, ``read_numpy``, ``fileno``), over libbpf's
``perf_buffer`` with C callbacks for samples and lost-sample records.
"""
from .._ffi import ffi, lib
from ..enums import MapType
from ..errors import check
from .base import Map, _check_name, _check_uint, possible_cpus
from .ringbuf import EventReader, event_type_of

__all__ = ["PerfEventArray"]

#: pages per CPU buffer when not configured (BCC and libbpf-tools use 8 to 64)
DEFAULT_PAGE_COUNT = 8


def _check_page_count(n):
    _check_uint(n, "page_count")
    if n < 1 or n & (n - 1):
        raise ValueError(f"page_count must be a power of 2 (pages per CPU buffer), got {n}")
    return n


class PerfEventArray(EventReader):
    """A perf event array (PERF_EVENT_ARRAY) read as a stream of events
    that programs send with ``bpf_perf_event_output``.

    One buffer of ``page_count`` pages (a power of 2, default 8) per CPU is
    opened on the first read (or :meth:`open`); the kernel drops samples a
    program sends before that, or while a CPU's buffer is full: ``lost``
    counts the latter.  Events from one CPU come in order; events of
    different CPUs are interleaved per read.  The kernel pads each sample so
    that its size plus 4 is a multiple of 8: without an ``event_type``, a
    16-byte sample reads as 20 bytes.  Linux 4.4+.
    """

    _map_types = (MapType.PERF_EVENT_ARRAY,)
    _default_type = MapType.PERF_EVENT_ARRAY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._page_count = DEFAULT_PAGE_COUNT

    @classmethod
    def create(cls, max_entries=None, name=None, event_type=None, page_count=DEFAULT_PAGE_COUNT):
        """Create a perf event array with one slot per possible CPU (or
        ``max_entries``) and return it as a :class:`PerfEventArray`.

        Raises ``TypeError``/``ValueError`` for bad arguments before any
        syscall.
        """
        if max_entries is None:
            max_entries = possible_cpus()
        _check_uint(max_entries, "max_entries")
        _check_name(name)
        _check_page_count(page_count)
        t = event_type_of(event_type)
        pa = Map.create(cls._default_type, 4, 4, max_entries, name=name)
        pa.page_count = page_count
        if t is not None:
            pa.event_type = t
        return pa

    @property
    def page_count(self):
        """Pages per CPU buffer (a power of 2); settable until the buffers are open."""
        return self._page_count

    @page_count.setter
    def page_count(self, n):
        _check_page_count(n)
        with self._lock:
            if self._reader is not None:
                raise ValueError(f"the perf buffers of {self._what()} are already open; "
                                 f"set page_count before the first read")
            self._page_count = n

    @property
    def lost(self):
        """How many samples the kernel dropped because a CPU buffer was full
        (counted as the reads come across the kernel's lost records)."""
        with self._lock:
            return self._events.lost if self._events is not None else 0

    def _new_reader(self, fd, events):
        out = ffi.new("struct perf_buffer **")
        check(lib.pybpfmap_perfbuf_new(fd, self._page_count, events, out),
              "perf_buffer_new", self._what(), map=self)
        return out[0], lib.perf_buffer__free

    def _consume(self, reader):
        return lib.perf_buffer__consume(reader)

    def _epoll_fd(self, reader):
        return lib.perf_buffer__epoll_fd(reader)
