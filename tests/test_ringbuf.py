"""RingBuf and UserRingBuf against programs from tests/bpf/ringbuf.c run with test_run.

The producer emits events whose content follows from the request in the
packet, so every test knows exactly which events to expect, and checks
that each one is read exactly once whichever way it is read.
"""
import asyncio
import gc
import select
import struct
import threading
import time

import pytest

import pybpfmap as bm
from pybpfmap.btf import types as T
from pybpfmap.btf.parse import base_type
from pybpfmap.btf.records import record_class

EVENT = "struct event { __u32 seq; __u32 base; __u64 value; }"


@pytest.fixture
def obj(bpf_obj):
    o = bm.load(bpf_obj("ringbuf"))
    yield o
    o.close()


@pytest.fixture
def rb(obj):
    rb = obj.maps["events"]
    assert isinstance(rb, bm.RingBuf)
    return rb


def produce(obj, count, base=1):
    """Run the producer: ``count`` events (seq, base, base * 1000003 + seq)."""
    run = obj.programs["produce"].test_run(struct.pack("=II", count, base) + bytes(56))
    assert run.retval == 2, "the ring refused events"  # XDP_PASS: all sent


def expected(count, base=1):
    return [(i, base, base * 1000003 + i) for i in range(count)]


def as_tuples(events):
    return [tuple(e) for e in events]


# ------------------------------------------------------------------ decoding

def test_events_are_bytes_by_default(obj, rb):
    assert rb.event_type is None
    produce(obj, 5, base=7)
    got = rb.read()
    assert got == [struct.pack("=IIQ", *e) for e in expected(5, 7)]
    assert rb.read() == []


def test_event_type_from_c_declaration(obj, rb):
    rb.event_type = EVENT
    assert T.c_name(rb.event_type) == "struct event"
    produce(obj, 100, base=3)
    got = rb.read()
    assert as_tuples(got) == expected(100, 3)
    assert got[5].seq == 5 and got[5].base == 3 and got[5].value == 3 * 1000003 + 5
    assert repr(got[0]) == "event(seq=0, base=3, value=3000009)"


def test_event_type_from_hand_built_btf_type(obj, rb):
    u32, u64 = base_type("__u32"), base_type("__u64")
    t = T.Struct("ev", 16, [T.Member("seq", u32, 0), T.Member("base", u32, 32),
                            T.Member("value", u64, 64)])
    rb.event_type = t
    assert rb.event_type is t
    produce(obj, 3, base=2)
    assert [(e.seq, e.base, e.value) for e in rb.read()] == expected(3, 2)


def test_scalar_event_type_reads_leading_bytes(obj, rb):
    rb.event_type = "__u32"
    produce(obj, 4, base=9)
    assert rb.read() == [0, 1, 2, 3]


def test_struct_with_char_array(obj, rb):
    rb.event_type = "struct named_event { __u32 seq; char name[12]; }"
    obj.programs["produce_named"].test_run(struct.pack("=II", 12, 100) + bytes(56))
    got = rb.read()
    assert [(e.seq, e.name) for e in got] == [(100 + i, b"event-00%02d" % i) for i in range(12)]


def test_variable_size_events(obj, rb):
    sizes = [1, 5, 16, 64, 3, 8, 9]
    obj.programs["produce_var"].test_run(bytes(sizes) + bytes(64 - len(sizes)))
    got = rb.read()
    # the packet is 64 bytes: sizes, then zeros (which stop nothing: size 0 aborts)
    assert [len(e) for e in got] == sizes
    assert got == [bytes([i]) * n for i, n in enumerate(sizes)]


def test_variable_sizes_with_event_type(obj, rb):
    rb.event_type = "__u64"
    sizes = [8, 4, 16, 8]
    obj.programs["produce_var"].test_run(bytes(sizes) + bytes(60))
    got = rb.read()
    # shorter than the type: raw bytes, never a misread; longer: the leading bytes
    assert got == [0, b"\x01" * 4, 0x0202020202020202, 0x0303030303030303]


def test_same_size_events_of_unaligned_size(obj, rb):
    obj.programs["produce_var"].test_run(bytes([5] * 64))
    got = rb.read()
    assert got == [bytes([i]) * 5 for i in range(64)]


def test_bad_event_type_raises_and_keeps_old(rb):
    rb.event_type = "__u32"
    with pytest.raises(TypeError):
        rb.event_type = 3.5
    with pytest.raises((TypeError, ValueError)):
        rb.event_type = "struct nope {"
    assert T.c_name(rb.event_type) in ("__u32", "unsigned int")
    rb.event_type = None
    assert rb.event_type is None


# ------------------------------------------------------ read, events, async

def test_read_timeout_returns_empty_list(rb):
    t = time.monotonic()
    assert rb.read(timeout=0.2) == []
    assert 0.18 <= time.monotonic() - t < 2
    assert rb.read() == []


@pytest.mark.parametrize("timeout", [-1, float("nan")])
def test_bad_timeout_is_value_error(rb, timeout):
    with pytest.raises(ValueError):
        rb.read(timeout=timeout)
    with pytest.raises(ValueError):
        rb.events(timeout=timeout)


def test_bad_timeout_type(rb):
    with pytest.raises(TypeError):
        rb.read(timeout="1")
    with pytest.raises(TypeError):
        rb.read(timeout=True)


def test_read_waits_with_gil_released(obj, rb):
    rb.event_type = EVENT
    rb.open()

    def later():
        time.sleep(0.2)
        produce(obj, 10, base=4)

    th = threading.Thread(target=later)
    t = time.monotonic()
    th.start()
    got = rb.read(timeout=10)
    th.join()
    assert 0.1 < time.monotonic() - t < 5
    assert as_tuples(got) == expected(10, 4)


def test_events_iterator_ends_on_timeout(obj, rb):
    rb.event_type = EVENT
    produce(obj, 50, base=5)
    t = time.monotonic()
    got = list(rb.events(timeout=0.1))
    assert as_tuples(got) == expected(50, 5)
    assert time.monotonic() - t < 5


def test_events_iterator_left_early_keeps_the_rest(obj, rb):
    rb.event_type = EVENT
    produce(obj, 20, base=6)
    it = rb.events(timeout=0)
    first = [next(it) for _ in range(7)]
    del it
    rest = rb.read()
    assert as_tuples(first + rest) == expected(20, 6)


def test_events_iterator_blocks_until_events(obj, rb):
    rb.event_type = EVENT
    rb.open()
    th = threading.Timer(0.1, produce, (obj, 3, 8))
    th.start()
    it = rb.events(timeout=10)
    got = [next(it) for _ in range(3)]
    th.join()
    assert as_tuples(got) == expected(3, 8)


def test_async_for(obj, rb):
    rb.event_type = EVENT
    produce(obj, 30, base=1)

    async def main():
        loop = asyncio.get_running_loop()
        # more events come from another thread while we are waiting
        loop.call_later(0.1, lambda: threading.Thread(target=produce, args=(obj, 30, 2)).start())
        got = []
        async for ev in rb:
            got.append(ev)
            if len(got) == 60:
                break
        return got

    got = asyncio.run(asyncio.wait_for(main(), 10))
    assert as_tuples(got) == expected(30, 1) + expected(30, 2)
    assert rb.read() == []


def test_aread(obj, rb):
    rb.event_type = EVENT

    async def main():
        empty = await rb.aread(timeout=0.1)
        produce(obj, 4, base=3)
        return empty, await rb.aread(timeout=5)

    empty, got = asyncio.run(main())
    assert empty == []
    assert as_tuples(got) == expected(4, 3)


def test_fileno_works_with_select(obj, rb):
    rb.open()
    assert select.select([rb], [], [], 0)[0] == []
    produce(obj, 2)
    assert select.select([rb], [], [], 5)[0] == [rb]
    assert len(rb.read()) == 2
    assert select.select([rb.fileno()], [], [], 0)[0] == []


def test_every_event_once_across_all_ways(obj, rb):
    """read, events, async and numpy take turns; each event comes out once."""
    np = pytest.importorskip("numpy")
    rb.event_type = EVENT
    seen = []
    for base in range(1, 9):
        produce(obj, 25, base=base)
        way = base % 4
        if way == 0:
            seen += as_tuples(rb.read())
        elif way == 1:
            it = rb.events(timeout=0)
            seen += as_tuples(next(it) for _ in range(10))  # leave 15 pending
        elif way == 2:
            async def take(n):
                out = []
                async for ev in rb:
                    out.append(tuple(ev))
                    if len(out) == n:
                        return out
            seen += asyncio.run(take(12))
        else:
            arr = rb.read_numpy()
            seen += [tuple(int(x) for x in row) for row in arr.tolist()]
    seen += as_tuples(rb.read())
    want = [e for base in range(1, 9) for e in expected(25, base)]
    assert sorted(seen) == sorted(want)
    assert seen == want  # and in order
    assert np is not None


# --------------------------------------------------------------------- numpy

def test_read_numpy(obj, rb):
    np = pytest.importorskip("numpy")
    rb.event_type = EVENT
    produce(obj, 1000, base=2)
    arr = rb.read_numpy()
    assert arr.dtype.names == ("seq", "base", "value")
    assert arr.dtype.itemsize == 16
    assert len(arr) == 1000
    assert (arr["seq"] == np.arange(1000)).all()
    assert (arr["value"] == 2 * 1000003 + np.arange(1000, dtype=np.uint64)).all()
    assert len(rb.read_numpy()) == 0


def test_read_numpy_needs_a_type(obj, rb):
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError):
        rb.read_numpy()
    produce(obj, 3)
    arr = rb.read_numpy(dtype=np.dtype([("seq", "<u4"), ("base", "<u4"), ("value", "<u8")]))
    assert arr["seq"].tolist() == [0, 1, 2]


def test_read_numpy_includes_pending_events(obj, rb):
    pytest.importorskip("numpy")
    rb.event_type = EVENT
    produce(obj, 10, base=3)
    it = rb.events(timeout=0)
    first = [next(it) for _ in range(4)]
    produce(obj, 5, base=4)
    arr = rb.read_numpy()
    rows = [tuple(int(x) for x in r) for r in arr.tolist()]
    assert as_tuples(first) + rows == expected(10, 3) + expected(5, 4)


# ---------------------------------------------------------- full, create, lifetime

def test_full_ring_refuses_then_recovers(obj):
    small = obj.maps["small"]
    fill = obj.programs["produce_small"]
    n = fill.test_run(bytes(64)).retval
    assert n == 4096 // 24  # 16-byte samples with an 8-byte header each
    assert fill.test_run(bytes(64)).retval == 0
    assert len(small.read()) == n
    assert fill.test_run(bytes(64)).retval == n


def test_create():
    rb = bm.RingBuf.create(4096 * 4, name="rb_test", event_type="__u64")
    try:
        assert isinstance(rb, bm.RingBuf)
        assert rb.type == bm.MapType.RINGBUF
        assert rb.max_entries == 16384 and rb.name == "rb_test"
        assert T.c_name(rb.event_type) in ("__u64", "unsigned long long")
        assert rb.read() == []
    finally:
        rb.close()
    rb = bm.Map.create(bm.MapType.RINGBUF, max_entries=4096)
    assert isinstance(rb, bm.RingBuf)
    rb.close()


@pytest.mark.parametrize("size", [4095, 2048, 4096 * 3, 0])
def test_create_bad_size(size, fd_count):
    before = fd_count()
    with pytest.raises(ValueError):
        bm.RingBuf.create(size)
    assert fd_count() == before


def test_create_bad_arguments():
    with pytest.raises(TypeError):
        bm.RingBuf.create("4096")
    with pytest.raises(TypeError):
        bm.RingBuf.create(4096, event_type=12.0)
    with pytest.raises(ValueError):
        bm.RingBuf.create(4096, name="bad-name")


def test_from_id_and_pin(rb, pin_dir):
    other = bm.Map.from_id(rb.id)
    assert isinstance(other, bm.RingBuf)
    other.close()
    path = f"{pin_dir}/rb"
    rb.pin(path)
    again = bm.Map.from_pin(path)
    assert isinstance(again, bm.RingBuf)
    again.close()


def test_not_iterable_and_no_elements(rb):
    with pytest.raises(TypeError):
        iter(rb)
    with pytest.raises(bm.BpfError):
        rb.lookup(b"")


def test_close_is_idempotent_and_frees_everything(fd_count):
    before = fd_count()
    rb = bm.RingBuf.create(4096)
    rb.fileno()
    assert fd_count() > before
    rb.close()
    rb.close()
    assert rb.closed
    assert fd_count() == before
    with pytest.raises(ValueError):
        rb.read()
    with pytest.raises(ValueError):
        rb.events()
    with pytest.raises(ValueError):
        rb.fileno()
    with pytest.raises(ValueError):
        rb.read_numpy(dtype="u8")


def test_garbage_collected_reader_leaks_nothing(fd_count):
    before = fd_count()
    for _ in range(20):
        rb = bm.RingBuf.create(4096)
        rb.read()
        del rb
    gc.collect()
    assert fd_count() == before


def test_closed_with_object(bpf_obj, fd_count):
    before = fd_count()
    with bm.load(bpf_obj("ringbuf")) as o:
        o.maps["events"].read()
    gc.collect()
    assert fd_count() == before


# ------------------------------------------------------------------ UserRingBuf

@pytest.fixture
def urb(obj):
    u = obj.maps["user_rb"]
    assert isinstance(u, bm.UserRingBuf)
    return u


def drained(obj):
    """Run the drain program; return (count, bytes, drain's return, seen events)."""
    obj.programs["drain"].test_run(bytes(64))
    count, nbytes, ret = list(obj.maps["seen_stats"])
    return count, nbytes, ret, [tuple(e) for e in obj.maps["seen"][:count]]


def test_user_ringbuf_write_typed(obj, urb):
    urb.event_type = EVENT
    urb.write((1, 2, 3))
    urb.write({"seq": 4, "value": 6})
    urb.write(record_class(urb.event_type)(seq=7, base=8, value=9))
    count, nbytes, ret, seen = drained(obj)
    assert count == ret == 3
    assert nbytes == 3 * 16
    assert seen == [(1, 2, 3), (4, 0, 6), (7, 8, 9)]
    assert drained(obj)[:3] == (3, 48, 0)  # nothing left


def test_user_ringbuf_write_bytes(obj, urb):
    urb.write(struct.pack("=IIQ", 5, 6, 7))
    urb.write(bytearray(b"abc"))  # shorter than the program's struct
    count, nbytes, ret, seen = drained(obj)
    assert (count, ret) == (2, 2)
    assert seen[0] == (5, 6, 7)
    assert seen[1][0] == 0xFFFFFFFF


def test_user_ringbuf_bad_values_before_writing(obj, urb):
    with pytest.raises(TypeError):
        urb.write("text")
    with pytest.raises(ValueError):
        urb.write(b"")
    with pytest.raises(ValueError):
        urb.write(bytes(urb.max_entries))
    urb.event_type = EVENT
    with pytest.raises(OverflowError):
        urb.write((1 << 32, 0, 0))
    with pytest.raises(TypeError):
        urb.write({"nope": 1})
    with pytest.raises(ValueError):
        urb.write((1, 2))
    assert drained(obj)[0] == 0


def test_user_ringbuf_full(obj, urb):
    n = 0
    with pytest.raises(bm.MapFullError):
        while True:
            urb.write(bytes(100))
            n += 1
    assert n == urb.max_entries // 112  # 8-byte header + 100 bytes rounded to 8
    t = time.monotonic()
    with pytest.raises(bm.MapFullError):
        urb.write(bytes(100), timeout=0.2)
    assert time.monotonic() - t >= 0.15
    assert drained(obj)[0] == n


def test_user_ringbuf_write_waits_for_drain(obj, urb):
    n = 0
    try:
        while True:
            urb.write(bytes(100))
            n += 1
    except bm.MapFullError:
        pass
    th = threading.Timer(0.2, obj.programs["drain"].test_run, (bytes(64),))
    th.start()
    urb.write(bytes(100), timeout=10)  # the GIL is released while waiting
    th.join()


def test_user_ringbuf_create_and_close(fd_count):
    before = fd_count()
    u = bm.UserRingBuf.create(4096 * 2, event_type="__u64")
    assert isinstance(u, bm.UserRingBuf) and u.type == bm.MapType.USER_RINGBUF
    u.write(5)
    u.close()
    u.close()
    assert fd_count() == before
    with pytest.raises(ValueError):
        u.write(6)
    with pytest.raises(ValueError):
        bm.UserRingBuf.create(1000)


def test_threads_reading_together_get_each_event_once(obj, rb):
    rb.event_type = EVENT
    for base in range(1, 6):
        produce(obj, 2000, base=base)
    got = [[] for _ in range(4)]

    def by_events(out):
        out.extend(tuple(e) for e in rb.events(timeout=0.2))

    def by_read(out):
        while True:
            batch = rb.read(timeout=0.2)
            if not batch:
                return
            out.extend(tuple(e) for e in batch)

    threads = [threading.Thread(target=fn, args=(out,))
               for fn, out in zip([by_events, by_read, by_events, by_read], got)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seen = [e for out in got for e in out]
    assert sorted(seen) == sorted(e for base in range(1, 6) for e in expected(2000, base))
