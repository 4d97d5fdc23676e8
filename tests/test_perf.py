"""PerfEventArray against tests/bpf/perf_output.c (bpf_perf_event_output from XDP, run with test_run)."""
import asyncio
import gc
import struct
import threading
import time

import pytest

import pybpfmap as bm

EVENT = "struct event { __u32 seq; __u32 base; __u64 value; }"


@pytest.fixture
def obj(bpf_obj):
    o = bm.load(bpf_obj("perf_output"))
    yield o
    o.close()


@pytest.fixture
def pa(obj):
    pa = obj.maps["perf"]
    assert isinstance(pa, bm.PerfEventArray)
    return pa


def emit(obj, count, base=1, big=False):
    obj.programs["emit"].test_run(struct.pack("=III", count, base, int(big)) + bytes(52))


def sent(obj):
    """(accepted, refused) counts of bpf_perf_event_output so far."""
    return tuple(obj.maps["sent"])


def expected(count, base=1):
    return [(i, base, base * 1000003 + i) for i in range(count)]


def test_events_before_open_are_dropped_by_the_kernel(obj, pa):
    emit(obj, 3)
    assert sent(obj) == (0, 3)
    assert pa.read() == []
    assert pa.lost == 0  # not a lost record: there was no buffer at all


def test_read_bytes_padded_by_the_kernel(obj, pa):
    pa.open()
    emit(obj, 3, base=7)
    got = pa.read()
    # raw samples are padded so that size + 4 is a multiple of 8
    assert got == [struct.pack("=IIQ", *e) + bytes(4) for e in expected(3, 7)]


def test_typed_events(obj, pa):
    pa.event_type = EVENT
    pa.open()
    emit(obj, 200, base=3)
    got = pa.read()
    assert [tuple(e) for e in got] == expected(200, 3)
    assert got[0].value == 3000009
    assert sent(obj) == (200, 0)


def test_first_read_opens_the_buffers(obj, pa, fd_count):
    before = fd_count()
    assert pa.read() == []
    assert fd_count() > before  # an epoll fd and a perf event fd per CPU
    emit(obj, 2)
    assert len(pa.read()) == 2


def test_events_and_timeout(obj, pa):
    pa.event_type = EVENT
    pa.open()
    emit(obj, 10, base=2)
    t = time.monotonic()
    got = list(pa.events(timeout=0.1))
    assert [tuple(e) for e in got] == expected(10, 2)
    assert time.monotonic() - t < 5
    t = time.monotonic()
    assert pa.read(timeout=0.15) == []
    assert time.monotonic() - t >= 0.13


def test_read_waits_for_another_thread(obj, pa):
    pa.event_type = EVENT
    pa.open()
    th = threading.Timer(0.1, emit, (obj, 5, 4))
    th.start()
    got = pa.read(timeout=10)
    th.join()
    got += pa.read()
    assert [tuple(e) for e in got] == expected(5, 4)


def test_async_for(obj, pa):
    pa.event_type = EVENT
    pa.open()

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, emit, obj, 20, 5)
        out = []
        async for ev in pa:
            out.append(tuple(ev))
            if len(out) == 20:
                return out

    assert asyncio.run(asyncio.wait_for(main(), 10)) == expected(20, 5)


def test_read_numpy(obj, pa):
    np = pytest.importorskip("numpy")
    pa.event_type = EVENT
    pa.open()
    emit(obj, 50, base=6)
    arr = pa.read_numpy()
    assert arr.dtype.itemsize == 16  # the kernel's padding is cut off
    assert (arr["seq"] == np.arange(50)).all()
    assert (arr["base"] == 6).all()


def test_lost_samples_are_counted(obj, pa):
    pa.page_count = 1
    pa.event_type = EVENT
    pa.open()
    emit(obj, 100, big=True)  # 100 samples of 1 KiB into a 4 KiB buffer
    accepted, refused = sent(obj)
    assert accepted + refused == 100 and refused > 0
    got = pa.read()
    assert len(got) == accepted
    assert [e.seq for e in got] == list(range(accepted))
    # the kernel reports the loss with the next sample that fits
    emit(obj, 1, base=9)
    got = pa.read()
    assert [tuple(e) for e in got] == expected(1, 9)
    assert pa.lost == refused


def test_page_count(obj, pa):
    assert pa.page_count == 8
    for bad in (0, 3, 12):
        with pytest.raises(ValueError):
            pa.page_count = bad
    with pytest.raises(TypeError):
        pa.page_count = 2.0
    pa.page_count = 64
    pa.open()
    with pytest.raises(ValueError):
        pa.page_count = 8
    assert pa.page_count == 64


def test_create(fd_count):
    before = fd_count()
    pa = bm.PerfEventArray.create(event_type="__u64", page_count=2)
    assert isinstance(pa, bm.PerfEventArray)
    assert pa.max_entries == bm.possible_cpus()
    assert pa.page_count == 2
    assert pa.read() == []
    pa.close()
    pa.close()
    assert fd_count() == before
    with pytest.raises(ValueError):
        pa.read()
    with pytest.raises(ValueError):
        bm.PerfEventArray.create(page_count=5)


def test_close_frees_per_cpu_buffers(bpf_obj, fd_count):
    before = fd_count()
    for _ in range(5):
        with bm.load(bpf_obj("perf_output")) as o:
            o.maps["perf"].read()
    gc.collect()
    assert fd_count() == before
