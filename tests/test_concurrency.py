"""One map used from several threads at once."""
import threading
import time

import pytest

import pybpfmap as bm
from pybpfmap._ffi import ffi, lib


def run_threads(target, n, *args):
    """Run ``target(i, *args)`` in ``n`` threads; re-raise the first error."""
    errors = []
    barrier = threading.Barrier(n)

    def wrapper(i):
        try:
            barrier.wait()
            target(i, *args)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "thread did not finish"
    if errors:
        raise errors[0]


@pytest.fixture
def hmap():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=8192)
    yield m
    m.close()


def test_threads_update_read_delete_their_own_keys(hmap):
    def work(tid):
        base = tid * 10000
        for round_ in range(3):
            for k in range(base, base + 500):
                hmap[k] = k + round_
            for k in range(base, base + 500):
                assert hmap[k] == k + round_
            for k in range(base, base + 500, 2):
                del hmap[k]
            for k in range(base + 1, base + 500, 2):
                assert hmap.pop(k) == k + round_

    run_threads(work, 4)
    assert len(hmap) == 0


def test_threads_with_batch_and_single_operations(hmap):
    def work(tid):
        base = tid * 10000
        ref = {k: k * 2 for k in range(base, base + 1000)}
        for _ in range(3):
            hmap.update(ref)
            assert all(hmap[k] == v for k, v in list(ref.items())[::50])
            assert hmap.delete_many(list(ref)[:500]) == 500
            for k in list(ref)[500:]:
                assert k in hmap
            assert hmap.delete_many(list(ref)[500:]) == 500

    run_threads(work, 4)
    assert len(hmap) == 0


def test_concurrent_inserts_each_key_wins_once(hmap):
    wins = [0] * 4

    def work(tid):
        for k in range(2000):
            try:
                hmap.insert(k, tid)
                wins[tid] += 1
            except bm.KeyExistsError:
                pass

    run_threads(work, 4)
    assert sum(wins) == 2000
    assert len(hmap) == 2000
    owners = dict(hmap.items())
    for tid in range(4):
        assert sum(1 for v in owners.values() if v == tid) == wins[tid]


def test_concurrent_pops_take_each_key_once(hmap):
    hmap.update({k: k for k in range(4000)})
    taken = [[] for _ in range(4)]

    def work(tid):
        for k in range(4000):
            v = hmap.pop(k, None)
            if v is not None:
                taken[tid].append(v)

    run_threads(work, 4)
    all_taken = sorted(v for t in taken for v in t)
    assert all_taken == list(range(4000))
    assert len(hmap) == 0


def test_concurrent_popitem_drains_once(hmap):
    hmap.update({k: k for k in range(2000)})
    taken = [[] for _ in range(4)]

    def work(tid):
        while True:
            try:
                taken[tid].append(hmap.popitem())
            except KeyError:
                return

    run_threads(work, 4)
    items = sorted(i for t in taken for i in t)
    assert items == [(k, k) for k in range(2000)]


@pytest.mark.parametrize("batch", [True, False], ids=["batch", "next_key"])
def test_iteration_while_others_insert_and_delete(hmap, batch):
    stable = set(range(2000))
    hmap.update({k: k for k in stable})
    hmap._use_batch = batch
    stop = threading.Event()

    def churn(tid):
        base = 100000 * (tid + 1)
        i = 0
        while not stop.is_set():
            k = base + i % 300
            hmap[k] = k
            if i >= 150:
                hmap.pop(base + (i - 150) % 300, None)
            i += 1

    churners = [threading.Thread(target=churn, args=(t,)) for t in range(3)]
    for t in churners:
        t.start()
    try:
        completed = 0
        for _ in range(10):
            seen = []
            t0 = time.monotonic()
            try:
                for k in hmap.keys():
                    seen.append(k)
                completed += 1
                assert stable <= set(seen)  # keys never deleted are all seen
            except RuntimeError as exc:
                assert "changed too much" in str(exc)
            assert time.monotonic() - t0 < 30
            assert len(seen) == len(set(seen)), "a key was yielded twice"
            items = dict(hmap.items()) if batch else {}
            assert all(k == v for k, v in items.items())
    finally:
        stop.set()
        for t in churners:
            t.join(timeout=60)
    assert completed > 0


def test_next_key_iteration_terminates_when_keys_keep_vanishing(hmap):
    # The walk restarts each time its current key vanishes; the bound on
    # restarts turns a map that changes faster than it can be walked into
    # a clear RuntimeError instead of an endless loop.
    hmap._use_batch = False
    hmap.update({k: k for k in range(3000)})
    seen = []
    with pytest.raises(RuntimeError, match="changed too much"):
        for k in hmap:
            seen.append(k)
            # move the current key: it vanishes, and re-appears as a new key
            v = hmap.pop(k)
            hmap[k + 1_000_000 * (len(seen) % 3 + 1)] = v
    assert len(seen) == len(set(seen))


def lookups_during(m, work):
    """Run ``work()`` while another thread keeps looking up ``m[1]``; return
    the times of the lookups that completed strictly during it, and its span."""
    stamps = []
    stop = threading.Event()
    started = threading.Event()

    def reader():
        while not stop.is_set():
            assert m[1] == 1
            stamps.append(time.monotonic())
            started.set()

    t = threading.Thread(target=reader)
    t.start()
    try:
        assert started.wait(10)
        t0 = time.monotonic()
        work()
        t1 = time.monotonic()
    finally:
        stop.set()
        t.join(timeout=60)
    return [s for s in stamps if t0 < s < t1], t1 - t0


def test_gil_is_released_during_syscalls():
    """A thread doing lookups makes progress during another thread's long
    batch update syscall.

    The update is one BPF_MAP_UPDATE_BATCH of 200000 entries made through
    the library's cffi binding (the one its batch writes use), timed from
    just before to just after the call; the lookups are the public API.
    """
    n = 200_000
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=n + 10)
    m[1] = 1
    keys = b"".join(k.to_bytes(4, "little") for k in range(2, n + 2))
    values = b"".join(k.to_bytes(8, "little") for k in range(2, n + 2))
    kbuf, vbuf = ffi.from_buffer(keys), ffi.from_buffer(values)
    count = ffi.new("__u32 *", n)
    opts = ffi.new("struct bpf_map_batch_opts *")
    opts.sz = ffi.sizeof("struct bpf_map_batch_opts")
    rets = []
    try:
        during, span = lookups_during(
            m, lambda: rets.append(lib.bpf_map_update_batch(m.fd, kbuf, vbuf, count, opts)))
        assert rets == [0] and count[0] == n
        assert len(m) == n + 1
    finally:
        m.close()
    assert len(during) > 0, f"no lookup completed during a {span:.3f}s update_batch"


def test_lookups_progress_during_public_batch_update():
    """The same through the public API: lookups keep completing while
    update() writes a large batch (at least between and during syscalls)."""
    n = 100_000
    with bm.HashMap.create(key="__u32", value="__u64", max_entries=n + 10) as m:
        m[1] = 1
        pairs = [(k, k) for k in range(2, n + 2)]
        during, _ = lookups_during(m, lambda: m.update(pairs))
        assert len(m) == n + 1
        assert during
