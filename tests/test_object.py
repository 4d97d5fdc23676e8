"""BpfObject: open, edit specs, load, maps, programs, attach, test_run, pins."""
import errno
import os
import struct
import subprocess
import sys

import pytest

import pybpfmap as bm


def run_record(obj, key):
    return obj.programs["write_record"].test_run(struct.pack("=I", key) + bytes(60))


def test_open_lists_specs_and_programs_without_loading(bpf_obj):
    with bm.BpfObject.open(bpf_obj("xdp_types")) as obj:
        assert not obj.loaded
        assert {"records", "counters", "pinned_counts", "outer", "inner_a"} <= set(obj.maps)
        spec = obj.maps["records"]
        assert isinstance(spec, bm.MapSpec)
        assert spec.type == bm.MapType.HASH
        assert (spec.key_size, spec.max_entries) == (4, 16)
        prog = obj.programs["write_record"]
        assert isinstance(prog, bm.Program)
        assert prog.section == "xdp"
        with pytest.raises(ValueError):
            prog.fd


def test_open_from_bytes(bpf_obj):
    with open(bpf_obj("xdp_types"), "rb") as f:
        data = f.read()
    with bm.BpfObject.open(data) as obj:
        assert "records" in obj.maps


def test_spec_edits_apply_at_load(bpf_obj):
    with bm.BpfObject.open(bpf_obj("xdp_types")) as obj:
        obj.maps["counters"].max_entries = 9
        obj.maps["records"].flags = bm.MapFlags.NO_PREALLOC
        obj.load()
        assert obj.maps["counters"].max_entries == 9
        assert len(obj.maps["counters"]) == 9
        assert obj.maps["records"].flags & bm.MapFlags.NO_PREALLOC
        with pytest.raises(ValueError):
            obj.maps["counters"]  # a live map now; specs cannot be edited
            obj._specs["counters"].max_entries = 3


def test_spec_rejects_bad_values_before_load(bpf_obj):
    with bm.BpfObject.open(bpf_obj("xdp_types")) as obj:
        spec = obj.maps["counters"]
        with pytest.raises(ValueError):
            spec.max_entries = -1
        with pytest.raises(TypeError):
            spec.max_entries = "8"
        assert spec.max_entries == 4


def test_test_run_writes_maps_that_python_reads(bpf_obj):
    with bm.load(bpf_obj("xdp_types")) as obj:
        rv = run_record(obj, 5)
        assert rv.retval == 2  # XDP_PASS
        assert len(rv.data) == 64
        records = obj.maps["records"]
        assert isinstance(records, bm.HashMap)
        assert len(records) == 1
        counters = obj.maps["counters"]
        assert isinstance(counters, bm.ArrayMap)
        run_record(obj, 6)
        assert counters[0] == 2


def test_live_map_is_the_same_object_and_outlives_object(bpf_obj):
    obj = bm.load(bpf_obj("xdp_types"))
    counters = obj.maps["counters"]
    assert obj.maps["counters"] is counters
    run_record(obj, 1)
    obj.close()
    assert counters.closed is False
    assert counters[0] == 1
    counters.close()
    with pytest.raises(ValueError):
        obj.maps["counters"]


def test_test_run_repeat_and_bad_data(bpf_obj):
    with bm.load(bpf_obj("xdp_types")) as obj:
        prog = obj.programs["write_record"]
        rv = prog.test_run(struct.pack("=I", 3) + bytes(60), repeat=10)
        assert rv.retval == 2
        assert rv.duration_ns >= 0
        with pytest.raises(TypeError):
            prog.test_run("not bytes")
        with pytest.raises(ValueError):
            prog.test_run(b"x" * 64, repeat=-1)
        # XDP test runs need at least an Ethernet header: the kernel says EINVAL
        with pytest.raises(bm.BpfError) as info:
            prog.test_run(bytes(4))
        assert info.value.errno == errno.EINVAL


def test_static_map_in_map_values(bpf_obj):
    with bm.load(bpf_obj("xdp_types")) as obj:
        outer = obj.maps["outer"]
        assert isinstance(outer, bm.ArrayOfMaps)
        inner = dict(outer.items())
        assert sorted(inner) == [0, 2]
        assert inner[0].id == obj.maps["inner_a"].id
        assert inner[2].id == obj.maps["inner_b"].id
        with pytest.raises(KeyError):
            outer[1]
        for m in inner.values():
            m.close()


def test_pin_by_name_is_reused_on_next_load(bpf_obj, pin_dir):
    path = bpf_obj("xdp_types")
    with bm.load(path, pin_root=pin_dir) as first:
        assert os.path.exists(os.path.join(pin_dir, "pinned_counts"))
        assert first.maps["pinned_counts"].info.id
        run_record(first, 9)
        first_id = first.maps["pinned_counts"].id
    with bm.load(path, pin_root=pin_dir) as second:
        pinned = second.maps["pinned_counts"]
        assert pinned.id == first_id
        run_record(second, 9)
        assert len(pinned) == 1
        (value,) = pinned.values()
        assert value == 2
    with bm.Map.from_pin(os.path.join(pin_dir, "pinned_counts")) as again:
        assert again.id == first_id


def test_spec_pin_path_edit(bpf_obj, pin_dir):
    with bm.BpfObject.open(bpf_obj("xdp_types")) as obj:
        target = os.path.join(pin_dir, "my_counters")
        obj.maps["counters"].pinning = target
        assert obj.maps["counters"].pinning == target
        obj.load()
        assert os.path.exists(target)


def test_verifier_failure_raises_load_error_with_log(bpf_obj):
    with pytest.raises(bm.LoadError) as info:
        bm.load(bpf_obj("bad_verifier"))
    err = info.value
    assert isinstance(err, bm.BpfError)
    assert err.errno == errno.EACCES
    assert "no_null_check" in str(err)
    assert "invalid mem access" in str(err)
    assert "invalid mem access" in err.log
    assert "processed" in err.log


def test_legacy_maps_section_is_named(bpf_obj):
    with pytest.raises(bm.LoadError) as info:
        bm.BpfObject.open(bpf_obj("legacy_maps"))
    msg = str(info.value)
    assert "old_counts" in msg and "old_stats" in msg
    assert "legacy" in msg and ".maps" in msg


def test_garbage_is_a_clean_error():
    for data in (b"", b"hello", b"\x7fELF" + bytes(100), os.urandom(4096)):
        with pytest.raises(bm.BpfError):
            bm.BpfObject.open(data)
    with pytest.raises(bm.BpfError) as info:
        bm.BpfObject.open("/nonexistent/prog.o")
    assert info.value.errno == errno.ENOENT
    with pytest.raises(TypeError):
        bm.BpfObject.open(12)


_FUZZ_CHILD = r"""
import random, sys
import pybpfmap as bm
data = open(sys.argv[1], "rb").read()
rng = random.Random(int(sys.argv[2]))
ok = failed = 0
for i in range(int(sys.argv[3])):
    b = bytearray(data)
    mode = i % 3
    if mode == 0:
        b = b[:rng.randrange(len(b))]
    elif mode == 1:
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    else:
        start = rng.randrange(len(b))
        b[start:start + 64] = bytes(rng.randrange(256) for _ in range(64))
    try:
        with bm.BpfObject.open(bytes(b)) as obj:
            ok += 1
    except bm.BpfError:
        failed += 1
print(ok, failed)
"""


def test_corrupted_objects_never_crash(bpf_obj):
    """Truncated and byte-flipped objects open or fail cleanly (in a child, so
    a crash would show as a signal rather than kill the test run)."""
    res = subprocess.run([sys.executable, "-c", _FUZZ_CHILD, bpf_obj("xdp_types"), "1", "300"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    ok, failed = map(int, res.stdout.split())
    assert ok + failed == 300


def test_attach_and_detach_tracepoint(bpf_obj, tracefs):
    with bm.load(bpf_obj("tp_getpid")) as obj:
        calls = obj.maps["calls"]
        link = obj.programs["count_getpid"].attach()
        assert isinstance(link, bm.Link)
        for _ in range(5):
            os.getpid()
        assert calls[os.getpid()] >= 5
        link.detach()
        link.detach()  # idempotent
        before = dict(calls.items())
        for _ in range(5):
            os.getpid()
        assert dict(calls.items()) == before


def test_attach_needs_load(bpf_obj):
    with bm.BpfObject.open(bpf_obj("tp_getpid")) as obj:
        with pytest.raises(ValueError):
            obj.programs["count_getpid"].attach()


def test_closed_object(bpf_obj):
    obj = bm.BpfObject.open(bpf_obj("xdp_types"))
    obj.close()
    obj.close()
    assert obj.closed
    with pytest.raises(ValueError):
        obj.load()
    with pytest.raises(ValueError):
        obj.maps["records"]


def test_load_twice_is_an_error(bpf_obj):
    with bm.load(bpf_obj("xdp_types")) as obj:
        with pytest.raises(ValueError):
            obj.load()


def test_no_fd_leak_over_object_cycles(bpf_obj, fd_count):
    path = bpf_obj("xdp_types")
    bm.load(path).close()
    before = fd_count()
    for _ in range(30):
        with bm.load(path) as obj:
            obj.maps["records"]
            run_record(obj, 1)
    for _ in range(10):
        with pytest.raises(bm.LoadError):
            bm.load(bpf_obj("bad_verifier"))
    import gc
    gc.collect()
    assert fd_count() == before


def test_static_prog_array_values(bpf_obj):
    """`.values` of a PROG_ARRAY are filled by the loader: the tail call
    works with no help from Python, and the slot reads back as the
    target program's id."""
    with bm.load(bpf_obj("tail_static")) as obj:
        entry = obj.programs["entry"]
        assert entry.test_run(bytes(64)).retval == 42
        jumps = obj.maps["jumps"]
        assert isinstance(jumps, bm.ProgArrayMap)
        assert sorted(jumps) == [1]
        del jumps[1]
        assert entry.test_run(bytes(64)).retval == 7


def test_spec_map_extra_numa_node_and_flags(bpf_obj):
    with bm.BpfObject.open(bpf_obj("tail_static")) as obj:
        spec = obj.maps["seen"]
        assert spec.type == bm.MapType.BLOOM_FILTER
        assert spec.map_extra == 5
        assert spec.numa_node == 0
        assert spec.flags & bm.MapFlags.NUMA_NODE
        spec.map_extra = 3
        obj.load()
        seen = obj.maps["seen"]
        assert seen.info.map_extra == 3
        assert seen.flags & bm.MapFlags.NUMA_NODE
        seen.add(9)
        assert 9 in seen
