"""Event maps: RINGBUF (:class:`RingBuf`, read) and USER_RINGBUF (:class:`UserRingBuf`, write).

Reading goes through libbpf's ``ring_buffer`` with a sample callback written
in C (``pybpfmap/_csrc/helpers.c``): each sample is appended to one growing
buffer, and Python decodes the whole batch at once (``struct.iter_unpack``
for flat records), so no Python code runs per event inside libbpf.  The
poll waits on libbpf's epoll fd with the GIL released.

The reader machinery (:class:`EventReader`) is shared with
:class:`~pybpfmap.maps.perf.PerfEventArray`.
"""
import asyncio
import collections
import errno
import gc
import operator
import select
import struct
import threading
import time
import weakref

from .._ffi import ffi, lib
from ..btf import types as T
from ..btf.codec import BoolCodec, FloatCodec, IntCodec, compile_type
from ..enums import MapType
from ..errors import BpfError, MapFullError, check
from .base import Map, _check_name, _check_uint, btf_type_of

__all__ = ["EventReader", "RingBuf", "UserRingBuf"]

#: bytes before each record in the collection buffer: __u32 size, __u32 cpu
_HEADER = 8
#: most events one consume call collects (the rest wait for the next read)
_CONSUME_LIMIT = 1 << 20
_PAGE = 4096
_new_tuple = tuple.__new__
_first = operator.itemgetter(0)
_U32 = struct.Struct("=I")
#: batches at least this big decode with the cyclic GC paused (see _gc_paused)
_GC_PAUSE_EVENTS = 2048


class _gc_paused:
    """Pause automatic cyclic GC while a batch of records is built.

    Records are tuple subclasses, which the collector never untracks, so
    each generation-0 pass over a growing batch also triggers full
    collections that walk every record made so far; this made decoding
    three times slower.  No cycles are created while decoding, and GC is
    re-enabled only when it was enabled before.
    """

    def __enter__(self):
        self.was = gc.isenabled()
        if self.was:
            gc.disable()

    def __exit__(self, *exc):
        if self.was:
            gc.enable()


def _round8(n):
    return (n + 7) & ~7


def event_type_of(spec):
    """``spec`` (None, a C declaration or a ``btf.Type``) as a BTF type or None.

    Raises ``TypeError``/``ValueError`` for anything else, or a type with no
    codec.
    """
    if spec is None:
        return None
    t = btf_type_of(spec, "event_type", "None, ")
    if compile_type(t).size == 0:
        raise ValueError(f"event_type {T.c_name(t)} has no size")
    return t


def _timeout_ms(timeout, role="timeout"):
    """Seconds (None: for ever) as poll milliseconds (-1: for ever)."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{role} must be a number of seconds or None, "
                        f"not {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"{role} must be >= 0 seconds (or None to wait for ever), got {timeout}")
    return int(min(timeout * 1000 + 0.999, 2**31 - 1))


class _Decoder:
    """Turns a buffer of collected records into Python values, a batch at a time.

    Records are ``__u32 size, __u32 cpu, data, padding to 8``.  When every
    record has the same stride and the event type is a flat struct or a
    scalar, one ``struct.iter_unpack`` decodes them all; otherwise each is
    decoded by the type's codec.  Without an event type, events are bytes.
    """

    def __init__(self, t):
        self.type = t
        self.codec = compile_type(t) if t is not None else None
        self.size = self.codec.size if t is not None else None
        self._flat = self._flat_plan()
        self._structs = {}

    def _flat_plan(self):
        """``(format, record class or None)`` when one struct format decodes
        the type to exactly what its codec gives, else ``None``."""
        codec = self.codec
        if codec is None:
            return None
        if isinstance(codec, (IntCodec, FloatCodec)) and codec.fmt:
            plan = (codec.fmt, None)
        elif isinstance(codec, BoolCodec) and codec.size == 1:
            plan = ("?", None)
        else:
            st = getattr(codec, "_st", None)
            fields = getattr(codec, "fields", None)
            record = getattr(codec, "record", None)
            if st is None or not fields or record is None:
                return None
            for f in fields:
                c = f.codec
                plain = ((isinstance(c, (IntCodec, FloatCodec)) and c.fmt)
                         or (isinstance(c, BoolCodec) and c.size == 1))
                if not plain or f.bits or getattr(f, "overlap", False):
                    return None
            plan = (st.format.lstrip("=@<"), record)
        # the plan must agree with the codec on a sample (guards against codec changes)
        try:
            sample = bytes((i * 37 + 1) & 0x7F for i in range(self.size))
            st = struct.Struct("=" + plan[0])
            if st.size != self.size:
                return None
            values = st.unpack(sample)
            got = _new_tuple(plan[1], values) if plan[1] is not None else values[0]
            if got != codec.decode(sample) or type(got) is not type(codec.decode(sample)):
                return None
        except (struct.error, TypeError, ValueError):
            return None
        return plan

    def _struct(self, key, fmt):
        st = self._structs.get(key)
        if st is None:
            st = self._structs[key] = struct.Struct(fmt)
        return st

    def decode(self, buf, count, min_size, max_size):
        """The ``count`` events in ``buf`` as a list."""
        if not count:
            return []
        padded = _round8(max_size)
        if _round8(min_size) == padded:
            stride = _HEADER + padded
            if self.codec is None:
                if min_size == max_size:
                    st = self._struct(("raw", stride, min_size),
                                      f"={_HEADER}x{min_size}s{padded - min_size}x")
                    return list(map(_first, st.iter_unpack(buf)))
            elif min_size >= self.size:
                if self._flat is not None:
                    fmt, record = self._flat
                    st = self._struct(("flat", stride),
                                      f"={_HEADER}x{fmt}{stride - _HEADER - self.size}x")
                    if record is None:
                        return list(map(_first, st.iter_unpack(buf)))
                    return [_new_tuple(record, v) for v in st.iter_unpack(buf)]
                dec = self.codec.decode
                return [dec(buf, off) for off in range(_HEADER, count * stride, stride)]
        return self._decode_each(buf)

    def _decode_each(self, buf):
        out = []
        size, dec = self.size, self.codec.decode if self.codec is not None else None
        mv = memoryview(buf)
        off, end = 0, len(buf)
        while off < end:
            n = _U32.unpack_from(buf, off)[0]
            if dec is None or n < size:
                # no type, or shorter than the type: the raw bytes, never a misread
                out.append(bytes(mv[off + _HEADER:off + _HEADER + n]))
            else:
                out.append(dec(buf, off + _HEADER))
            off += _HEADER + _round8(n)
        return out


def _free_reader(free, reader, events):
    """Finalizer of a reader: must not refer to the map object."""
    if reader is not None:
        free(reader)
    lib.pybpfmap_events_free(events)


class EventReader(Map):
    """Base of the event-reading maps (:class:`RingBuf`, ``PerfEventArray``).

    ``event_type`` sets how events decode (a C declaration, a ``btf.Type``,
    or ``None`` for ``bytes``).  ``read(timeout)`` returns a list,
    ``events(timeout)`` is a blocking iterator, ``async for`` waits on
    :meth:`fileno` in asyncio, and ``read_numpy`` gives a structured numpy
    array.  Every event is returned exactly once, whichever way it is read;
    events decoded but not yet handed out (an ``events()`` loop left early)
    come first in the next read.  One reader per map object; it is safe to
    read from several threads (reads take turns).
    """

    _reader_kind = "reader"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()
        self._pending = collections.deque()
        self._decoder = _Decoder(None)
        self._reader = None
        self._events = None
        self._reader_finalizer = None
        self._poller = None

    # --------------------------------------------------------- configuration

    @property
    def event_type(self):
        """How events decode: a ``btf.Type``, or ``None`` for ``bytes``.

        Set it to a C declaration (``"struct event { __u32 pid; char
        comm[16]; }"``), a ``btf.Type`` or ``None``; an invalid type raises
        ``TypeError``/``ValueError`` and leaves the old one.  Events longer
        than the type (a trailing variable part, or perf's padding) decode
        their leading bytes; shorter ones are returned as ``bytes``.
        """
        return self._decoder.type

    @event_type.setter
    def event_type(self, spec):
        decoder = _Decoder(event_type_of(spec))
        with self._lock:
            self._decoder = decoder

    # ---------------------------------------------------------------- reader

    def _new_reader(self, fd, events):
        """Create the libbpf reader of map ``fd`` feeding ``events``; return
        ``(pointer, function freeing it)``."""
        raise NotImplementedError

    def _consume(self, reader):
        raise NotImplementedError

    def _epoll_fd(self, reader):
        raise NotImplementedError

    def open(self):
        """Start reading now (otherwise the first read does); returns the map.

        Raises ``BpfError`` when libbpf cannot set up its reader.
        """
        with self._lock:
            self._ensure_open()
        return self

    def _ensure_open(self):
        if self._reader is not None:
            if self._fd < 0:
                raise ValueError("operation on a closed map")
            return self._reader
        fd = self.fd
        events = lib.pybpfmap_events_new()
        if events == ffi.NULL:
            raise MemoryError("cannot allocate the event buffer")
        try:
            reader, free = self._new_reader(fd, events)
        except BaseException:
            lib.pybpfmap_events_free(events)
            raise
        self._reader, self._events = reader, events
        self._reader_finalizer = weakref.finalize(self, _free_reader, free, reader, events)
        self._poller = select.poll()
        self._poller.register(self._epoll_fd(reader), select.POLLIN)
        return reader

    def fileno(self):
        """The epoll fd that becomes readable when events are waiting (for
        ``select``, ``selectors`` and asyncio).  Opens the reader."""
        with self._lock:
            return self._epoll_fd(self._ensure_open())

    def close(self):
        """Close the reader (its epoll fd and memory mappings) and the map; idempotent."""
        with self._lock:
            if self._reader_finalizer is not None:
                self._reader_finalizer()
            self._reader = self._events = self._poller = None
            super().close()

    # ------------------------------------------------------------ collection

    def _fill(self, timeout):
        """Collect the waiting events into the C buffer, waiting up to
        ``timeout`` seconds (None: for ever) until there is one."""
        reader = self._ensure_open()
        events = self._events
        self._check(self._consume(reader))
        if events.count or timeout == 0:
            return
        ms = _timeout_ms(timeout)
        deadline = None if ms < 0 else time.monotonic() + ms / 1000
        while not events.count:
            # select.poll releases the GIL, retries on EINTR and lets Ctrl-C through
            wait = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000 + 0.999))
            ready = self._poller.poll(wait)
            self._check(self._consume(reader))
            if not ready and deadline is not None and time.monotonic() >= deadline:
                return

    def _check(self, ret):
        if ret < 0 and ret != -errno.EINTR:
            check(ret, "consume", self._what(), map=self)
        if self._events.err:
            err = -self._events.err
            self._events.err = 0
            self._pending.extend(self._take())
            raise BpfError(err, f"read failed on {self._what()}: out of memory while "
                           f"collecting events (some were dropped)", op="read", map=self)

    def _take(self):
        """Decode and clear the C buffer."""
        events = self._events
        if events is None or not events.count:
            return []
        try:
            buf = ffi.buffer(events.data, events.len)
            if events.count < _GC_PAUSE_EVENTS:
                return self._decoder.decode(buf, events.count, events.min_size, events.max_size)
            with _gc_paused():
                return self._decoder.decode(buf, events.count, events.min_size, events.max_size)
        finally:
            lib.pybpfmap_events_clear(events)

    def _collect(self, timeout):
        self._fill(timeout)
        return self._take()

    # --------------------------------------------------------------- reading

    def read(self, timeout=0):
        """Return a list of the events waiting now; if there are none, wait
        up to ``timeout`` seconds (``None``: for ever) for the first ones.

        Returns ``[]`` when none came.  Raises ``ValueError`` on a closed
        map, ``TypeError``/``ValueError`` for a bad timeout (before waiting).
        """
        _timeout_ms(timeout)
        with self._lock:
            out = self._take_pending()
            out += self._collect(0 if out else timeout)
        return out

    def _take_pending(self):
        # popleft is atomic, so an events() loop in another thread (which pops
        # without the lock) can never get an event that is also returned here
        pending, out = self._pending, []
        try:
            while True:
                out.append(pending.popleft())
        except IndexError:
            return out

    def events(self, timeout=None):
        """Iterate over events as they come, waiting for each up to
        ``timeout`` seconds (``None``: for ever); the iteration ends when
        none comes in time."""
        _timeout_ms(timeout)
        self.fd  # noqa: B018 - raise on a closed map now, not at the first next()
        return self._iter_events(timeout)

    def _iter_events(self, timeout):
        pending = self._pending
        while True:
            try:
                ev = pending.popleft()
            except IndexError:
                with self._lock:
                    if not pending:
                        pending.extend(self._collect(timeout))
                        if not pending:
                            return
                continue
            yield ev

    def __iter__(self):
        raise TypeError(f"{type(self).__name__} is not iterable: use .events() "
                        f"(blocking) or .read() (a list of what is waiting)")

    def __aiter__(self):
        self.fd  # noqa: B018 - raise on a closed map
        return self._aiter_events()

    async def _aiter_events(self):
        loop = asyncio.get_running_loop()
        pending = self._pending
        while True:
            try:
                ev = pending.popleft()
            except IndexError:
                with self._lock:
                    if not pending:
                        pending.extend(self._collect(0))
                if not pending:
                    await self._readable(loop)
                continue
            yield ev

    async def _readable(self, loop):
        fd = self.fileno()
        ready = loop.create_future()

        def wake():
            if not ready.done():
                ready.set_result(None)
        loop.add_reader(fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(fd)

    async def aread(self, timeout=None):
        """The events waiting now, or (awaiting up to ``timeout`` seconds,
        ``None``: for ever) the first ones to come; ``[]`` on timeout."""
        _timeout_ms(timeout)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            out = self.read(0)
            if out:
                return out
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return []
            try:
                await asyncio.wait_for(self._readable(loop), left)
            except asyncio.TimeoutError:
                return self.read(0)

    def read_numpy(self, timeout=0, dtype=None):
        """Like :meth:`read`, as a numpy structured array (one row per event,
        no Python object per event).

        The dtype comes from ``event_type`` (or give ``dtype``, whose
        ``itemsize`` is the event size).  Longer events are cut to that
        size, shorter ones zero-padded.  Raises ``TypeError`` when there is
        neither, ``ImportError`` without numpy.
        """
        from .._numpy import dtype_of, numpy
        np = numpy()
        _timeout_ms(timeout)
        with self._lock:
            t = self._decoder.type
            if dtype is None:
                if t is None:
                    raise TypeError("read_numpy() needs an event_type (or a dtype)")
                dtype = dtype_of(t)
            dtype = np.dtype(dtype)
            size = dtype.itemsize
            pending = self._take_pending()
            self._ensure_open()
            events = self._events
            if not pending and not events.count:
                # nothing decoded waits: collect straight into packed records
                events.fixed = size
                try:
                    self._fill(timeout)
                finally:
                    events.fixed = 0
                out = np.empty(events.count, dtype=dtype)
                if events.count:
                    ffi.memmove(ffi.cast("char *", out.ctypes.data), events.data,
                                events.count * size)
                    lib.pybpfmap_events_clear(events)
                return out
            self._fill(0 if pending else timeout)
            n = events.count
            out = np.zeros(len(pending) + n, dtype=dtype)
            raw = out.view(np.uint8).reshape(-1)
            for i, ev in enumerate(pending):
                data = ev if isinstance(ev, bytes) else self._decoder.codec.encode(ev)
                data = data[:size]
                raw[i * size:i * size + len(data)] = np.frombuffer(data, np.uint8)
            if n:
                lib.pybpfmap_events_pack(events, ffi.cast("char *", raw.ctypes.data)
                                         + len(pending) * size, size)
                lib.pybpfmap_events_clear(events)
        return out



def _check_ring_size(max_entries):
    _check_uint(max_entries, "max_entries (ring size in bytes)")
    if max_entries < _PAGE or max_entries & (max_entries - 1):
        raise ValueError(f"a ring buffer's size must be a power of 2 and a multiple of "
                         f"the page size ({_PAGE}), got {max_entries}")


class RingBuf(EventReader):
    """A BPF ring buffer (RINGBUF, Linux 5.8+), read from user space.

    ``rb.event_type = "struct event { ... }"`` then ``rb.read(timeout)``,
    ``for ev in rb.events()``, ``async for ev in rb``, ``rb.read_numpy()``.
    Events are returned in the order the kernel committed them.
    """

    _map_types = (MapType.RINGBUF,)
    _default_type = MapType.RINGBUF

    @classmethod
    def create(cls, max_entries, name=None, event_type=None):
        """Create a ring buffer of ``max_entries`` bytes (a power of 2, at
        least a page) and return it as a :class:`RingBuf`.

        Raises ``ValueError``/``TypeError`` for a bad size, name or type
        (before any syscall).  Linux 5.8+.
        """
        _check_ring_size(max_entries)
        _check_name(name)
        t = event_type_of(event_type)
        rb = Map.create(cls._default_type, 0, 0, max_entries, name=name)
        if t is not None:
            rb.event_type = t
        return rb

    def _new_reader(self, fd, events):
        out = ffi.new("struct ring_buffer **")
        check(lib.pybpfmap_ringbuf_new(fd, events, out), "ring_buffer_new", self._what(), map=self)
        return out[0], lib.ring_buffer__free

    def _consume(self, reader):
        return lib.ring_buffer__consume_n(reader, _CONSUME_LIMIT)

    def _epoll_fd(self, reader):
        return lib.ring_buffer__epoll_fd(reader)


def _free_user_ringbuf(urb):
    lib.user_ring_buffer__free(urb)


class UserRingBuf(Map):
    """A user ring buffer (USER_RINGBUF, Linux 6.1+): user space writes
    samples that a BPF program drains with ``bpf_user_ringbuf_drain``.

    ``urb.event_type`` sets how values encode (``None``: bytes of any
    length); ``urb.write(value)`` submits one sample.
    """

    _map_types = (MapType.USER_RINGBUF,)
    _default_type = MapType.USER_RINGBUF

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._urb = None
        self._urb_finalizer = None
        self._event_type = None
        self._codec = None

    @classmethod
    def create(cls, max_entries, name=None, event_type=None):
        """Create a user ring buffer of ``max_entries`` bytes (a power of 2,
        at least a page).  Raises ``ValueError``/``TypeError`` before any
        syscall for bad arguments.  Linux 6.1+."""
        _check_ring_size(max_entries)
        _check_name(name)
        t = event_type_of(event_type)
        urb = Map.create(cls._default_type, 0, 0, max_entries, name=name)
        if t is not None:
            urb.event_type = t
        return urb

    @property
    def event_type(self):
        """How :meth:`write` encodes values: a ``btf.Type`` or ``None`` (bytes)."""
        return self._event_type

    @event_type.setter
    def event_type(self, spec):
        t = event_type_of(spec)
        self._codec = compile_type(t) if t is not None else None
        self._event_type = t

    def _encode(self, value):
        if self._codec is not None:
            return self._codec.encode(value)
        if isinstance(value, str) or not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"without an event_type, write() takes bytes, "
                            f"not {type(value).__name__}")
        data = bytes(value)
        if not data:
            raise ValueError("cannot write an empty sample")
        return data

    def write(self, value, timeout=0):
        """Submit ``value`` (encoded with ``event_type``) as one sample.

        When the ring is full, waits up to ``timeout`` seconds (``None``:
        for ever) for the program to drain it, then raises
        ``MapFullError``.  A sample that can never fit raises
        ``ValueError``, a bad value ``TypeError``/``ValueError``/
        ``OverflowError``, all before touching the ring.
        """
        ms = _timeout_ms(timeout)
        data = self._encode(value)
        if _round8(len(data)) + _HEADER > self.max_entries:
            raise ValueError(f"a {len(data)}-byte sample cannot fit in {self._what()} "
                             f"({self.max_entries} bytes)")
        with self._lock:
            urb = self._open()
            ret = lib.pybpfmap_user_ringbuf_write(urb, data, len(data), ms)
        if ret == -errno.ENOSPC or ret == -errno.ETIMEDOUT:
            raise MapFullError(-ret, f"write failed on {self._what()}: the ring is full "
                               f"(no BPF program drained it in time)", op="write", map=self)
        check(ret, "write", self._what(), map=self)

    def _open(self):
        if self._urb is None:
            fd = self.fd
            urb = lib.user_ring_buffer__new(fd, ffi.NULL)
            if urb == ffi.NULL:
                err = ffi.errno or errno.EINVAL
                check(-err, "user_ring_buffer_new", self._what(), map=self)
            self._urb = urb
            self._urb_finalizer = weakref.finalize(self, _free_user_ringbuf, urb)
        elif self._fd < 0:
            raise ValueError("operation on a closed map")
        return self._urb

    def close(self):
        """Unmap the ring and close the map; idempotent."""
        with self._lock:
            if self._urb_finalizer is not None:
                self._urb_finalizer()
            self._urb = None
            super().close()
