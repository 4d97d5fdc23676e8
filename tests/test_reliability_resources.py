"""Resources (issue #7): no fd or memory growth over many create/close cycles
and long reader sessions, finalizers at interpreter exit, fork safety.

Default counts keep CI short; PYBPFMAP_SOAK=1 runs the long versions (the
figures of both are in the README's "Reliability and security" section).
Each test prints what it measured (run pytest with -s to see it).
"""
import gc
import os
import struct
import subprocess
import sys
import textwrap

import pytest

import pybpfmap as bm
from reliability_helpers import soak

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def fds():
    return len(os.listdir("/proc/self/fd"))


def cycles(n, make):
    """Run ``make(i)`` n times after a warm-up; return (fds, rss) before and after."""
    for i in range(min(n // 10, 2000)):  # warm caches, pools, the allocator
        make(i)
    gc.collect()
    f0, r0 = fds(), rss()
    for i in range(n):
        make(i)
    gc.collect()
    return f0, fds(), r0, rss()


def report(what, n, f0, f1, r0, r1):
    print(f"\n{what}: {n} cycles, fds {f0} -> {f1}, RSS {r0 / 2**20:.1f} -> {r1 / 2**20:.1f} MiB")
    assert f1 == f0, f"{what}: fds grew from {f0} to {f1}"
    # a leak of even 100 bytes per cycle would show as 2 MB over 20k cycles
    assert r1 - r0 < max(4 << 20, n * 64), f"{what}: RSS grew by {(r1 - r0) >> 10} KiB"


def test_create_close_cycles_hash_array_typed_raw():
    n = soak(20_000, 100_000)

    def make(i):
        kind = i % 4
        if kind == 0:
            m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
            m[i] = i
        elif kind == 1:
            m = bm.ArrayMap.create(value="struct s { __u32 a; char b[4]; }", max_entries=2)
            m[1] = {"a": i, "b": b"x"}
        elif kind == 2:
            m = bm.Map.create(bm.MapType.HASH, key=4, value=8, max_entries=4)
            m.set(bytes(4), bytes(8))
        else:
            m = bm.PerCpuHashMap.create(key="__u32", value="__u32", max_entries=2)
            m[1] = 1
            dict(m.items())
        m.close()

    report("create/close", n, *cycles(n, make))


def test_create_and_drop_without_close_cycles():
    n = soak(10_000, 100_000)

    def make(i):
        m = bm.HashMap.create(key="__u32", value="__u32", max_entries=2)
        m[1] = i  # then dropped: the finalizer closes it

    report("create/drop (finalizer)", n, *cycles(n, make))


def test_from_id_and_failed_create_cycles():
    n = soak(10_000, 100_000)
    with bm.HashMap.create(key="__u32", value="__u64", max_entries=4) as base:
        def make(i):
            if i % 2:
                bm.Map.from_id(base.id).close()
            else:
                with pytest.raises(bm.BpfError):
                    bm.Map.create(bm.MapType.ARRAY, key=8, value=4, max_entries=4)

        report("from_id / failed create", n, *cycles(n, make))


def test_object_load_close_cycles(bpf_obj):
    n = soak(200, 2_000)
    path = bpf_obj("drain_writer")

    def make(i):
        with bm.load(path) as obj:
            obj.programs["churn"].test_run(struct.pack("<I", i) + bytes(60))
            len(obj.maps["churned"])

    report("object load/close", n, *cycles(n, make))


def test_long_ring_buffer_reader_session(bpf_obj):
    """One reader session: many produce/read rounds on the same RingBuf."""
    rounds = soak(3_000, 50_000)
    with bm.load(bpf_obj("ringbuf")) as obj:
        rb = obj.maps["events"]
        rb.event_type = "struct event { __u32 seq; __u32 base; __u64 value; }"
        produce = obj.programs["produce"]
        got = [0]

        def make(i):
            produce.test_run(struct.pack("=II", 100, i + 1) + bytes(56))
            events = rb.read()
            assert len(events) == 100 and events[-1].base == i + 1
            got[0] += len(events)

        report("ring buffer read rounds", rounds, *cycles(rounds, make))
        assert got[0] >= rounds * 100


def test_ring_buffer_reader_open_close_cycles(bpf_obj):
    n = soak(1_000, 10_000)

    def make(i):
        rb = bm.RingBuf.create(max_entries=4096)
        assert rb.read(timeout=0) == []
        rb.fileno()
        rb.close()

    report("ring buffer create/read/close", n, *cycles(n, make))


# ----------------------------------------------------- interpreter exit

EXIT_CHILD = textwrap.dedent(r"""
    import struct, sys, threading
    import pybpfmap as bm
    keep = []
    keep.append(bm.HashMap.create(key="__u32", value="__u64", max_entries=4))
    keep[0][1] = 1
    keep.append(bm.ArrayMap.create(value="struct s { __u32 a; }", max_entries=4))
    cyc = bm.HashMap.create(key=4, value=4, max_entries=4)
    cyc.self = cyc                      # in a reference cycle
    obj = bm.load(sys.argv[1])          # a loaded object and its maps
    rb = obj.maps["events"]
    rb.event_type = "struct event { __u32 seq; __u32 base; __u64 value; }"
    obj.programs["produce"].test_run(struct.pack("=II", 3, 1) + bytes(56))
    it = rb.events(timeout=0)
    next(it)                            # a reader half-way through
    urb = obj.maps["user_rb"]
    # a daemon thread blocked in poll on a second ring while the interpreter exits
    other = bm.RingBuf.create(max_entries=4096)
    t = threading.Thread(target=lambda: other.read(timeout=None), daemon=True)
    t.start()
    import time; time.sleep(0.1)
    print("exiting")
""")


def test_finalizers_at_interpreter_exit(bpf_obj):
    """A process that never closes anything exits 0 with nothing on stderr
    (no 'Exception ignored' from finalizers, no crash from a reader thread
    still blocked in poll)."""
    path = bpf_obj("ringbuf")
    for _ in range(soak(3, 30)):
        proc = subprocess.run([sys.executable, "-c", EXIT_CHILD, path], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "exiting\n"
        assert proc.stderr == ""


# ---------------------------------------------------------------- fork

def test_forked_child_uses_inherited_maps():
    """fds survive fork: the child reads, writes and iterates the parent's
    maps, and the parent sees its writes; each side closes its own copies."""
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=64)
    a = bm.PerCpuArrayMap.create(value="__u32", max_entries=2)
    m.update({1: 10, 2: 20})
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status
        status = 1
        try:
            os.close(r)
            assert m[1] == 10 and dict(m.items()) == {1: 10, 2: 20}
            m[3] = 30
            del m[2]
            m.update({k: k for k in range(100, 110)})
            a[1] = 7
            os.write(w, repr(sorted(m.keys())).encode())
            m.close()  # closes the child's copy only
            a.close()
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    child_saw = os.read(r, 4096).decode()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert child_saw == repr(sorted([1, 3, *range(100, 110)]))
    assert dict(m.items()) == {1: 10, 3: 30, **{k: k for k in range(100, 110)}}
    assert a[1] == (7,) * bm.possible_cpus()
    m.close()
    a.close()


FORK_CHILD = textwrap.dedent(r"""
    import os, sys
    import pybpfmap as bm
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    m[1] = 1
    pid = os.fork()
    if pid == 0:
        m[2] = 2
        sys.exit(0)  # a normal shutdown: the child's finalizers close its copies
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    m[3] = 3
    print(sorted(m.items()))
""")


def test_forked_child_exiting_normally_leaves_parent_maps_open():
    proc = subprocess.run([sys.executable, "-c", FORK_CHILD], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == "[(1, 1), (2, 2), (3, 3)]\n"
