"""Memory-mapped maps: BPF_F_MMAPABLE arrays (counters written by tests/bpf/mmap_counter.c,
read without a syscall) and ARENA maps."""
import errno
import gc
import struct

import pytest

import pybpfmap as bm
from pybpfmap.maps.mmap import MmapArrayMixin

F = bm.MapFlags


@pytest.fixture
def obj(bpf_obj):
    o = bm.load(bpf_obj("mmap_counter"))
    yield o
    o.close()


def mmap_array(made, value="__u64", n=16, flags=F.MMAPABLE):
    m = bm.ArrayMap.create(value=value, max_entries=n, flags=flags)
    made.append(m)
    return m


def test_memory_shows_syscall_writes_and_back(made):
    m = mmap_array(made)
    assert isinstance(m, bm.ArrayMap)
    mem = m.memory
    assert isinstance(mem, memoryview) and not mem.readonly
    assert len(mem) == 16 * 8
    m[3] = 0x1122334455667788
    assert struct.unpack_from("=Q", mem, 3 * 8)[0] == 0x1122334455667788
    struct.pack_into("=Q", mem, 5 * 8, 42)
    assert m[5] == 42
    assert m.memory is mem  # mapped once


def test_value_stride_rounds_up_to_8(made):
    m = mmap_array(made, value="__u32", n=10)
    assert m.value_stride == 8
    assert len(m.memory) == 80
    m[1] = 7
    assert bytes(m.memory[8:16]) == b"\x07" + bytes(7)
    t = mmap_array(made, value="char[12]", n=3)
    assert t.value_stride == 16 and len(t.memory) == 48


def test_program_counters_read_without_syscalls(obj):
    counters = obj.maps["counters"]
    mem = counters.memory
    run = obj.programs["count"]
    run.test_run(bytes(64), repeat=10)
    # struct stats { __u64 packets, bytes; __u32 last_len; __u8 flag; } = 24 bytes
    assert counters.value_stride == 24
    assert struct.unpack_from("=QQIB", mem, 0) == (10, 640, 64, 1)
    run.test_run(bytes(65), repeat=5)
    assert struct.unpack_from("=QQ", mem, 24) == (5, 325)
    assert tuple(counters[1])[:2] == (5, 325)


def test_to_numpy_is_a_zero_copy_view(obj):
    np = pytest.importorskip("numpy")
    counters = obj.maps["counters"]
    arr = counters.to_numpy()
    assert arr.dtype.names == ("packets", "bytes", "last_len", "flag")
    assert arr.shape == (4,)
    obj.programs["count"].test_run(bytes(66), repeat=7)
    assert int(arr["packets"][2]) == 7 and int(arr["bytes"][2]) == 7 * 66
    arr["packets"][3] = 99  # writes go to the map
    assert counters[3].packets == 99
    hits = obj.maps["hits"].to_numpy()
    assert hits.dtype == np.dtype("<u4") and hits.strides == (8,) and hits.shape == (1000,)
    obj.programs["count"].test_run(bytes(70), repeat=3)
    assert int(hits[70]) == 3 and int(hits.sum()) == 10


def test_to_numpy_scalar_and_raw(made):
    np = pytest.importorskip("numpy")
    m = mmap_array(made, value="__u64", n=8)
    a = m.to_numpy()
    a[:] = np.arange(8)
    assert list(m) == list(range(8))
    raw = bm.Map.create(bm.MapType.ARRAY, 4, 16, 4, flags=F.MMAPABLE)
    made.append(raw)
    r = raw.to_numpy()
    assert r.dtype == np.dtype("V16") and r.shape == (4,)


def test_views_outlive_close(made):
    np = pytest.importorskip("numpy")
    m = mmap_array(made)
    m[0] = 5
    arr = m.to_numpy()
    mem = m.memory
    m.close()
    with pytest.raises(ValueError):
        m.memory
    assert int(arr[0]) == 5 and struct.unpack_from("=Q", mem)[0] == 5
    del arr, mem
    gc.collect()
    assert np is not None


def test_not_mmapable_is_type_error(made):
    m = mmap_array(made, flags=F(0))
    assert type(m) is bm.ArrayMap
    # the mixin refuses maps without the flag (whether or not ArrayMap includes it)
    with pytest.raises(TypeError, match="MMAPABLE"):
        MmapArrayMixin.memory.fget(m)
    with pytest.raises(TypeError, match="MMAPABLE"):
        MmapArrayMixin.to_numpy(m)
    if isinstance(m, MmapArrayMixin):
        with pytest.raises(TypeError, match="MMAPABLE"):
            m.memory
    else:
        assert not hasattr(m, "memory")


def test_frozen_map_maps_read_only(made):
    m = mmap_array(made)
    m[1] = 3
    m.freeze()
    mem = m.memory
    assert mem.readonly
    assert struct.unpack_from("=Q", mem, 8)[0] == 3
    with pytest.raises(TypeError):
        mem[0] = 1


def test_writable_mapping_blocks_freeze(made):
    m = mmap_array(made)
    m.memory  # noqa: B018
    with pytest.raises(bm.BpfError) as exc:
        m.freeze()
    assert exc.value.errno == errno.EBUSY


def test_rdonly_fd_cannot_be_mapped(made):
    # the kernel turns MAP_SHARED of a read-only file into a private mapping,
    # which BPF maps refuse
    m = mmap_array(made, flags=F.MMAPABLE | F.RDONLY)
    with pytest.raises(bm.BpfPermissionError, match="read-only"):
        m.memory


def test_rdonly_prog_maps_read_only(made):
    m = mmap_array(made, flags=F.MMAPABLE | F.RDONLY_PROG)
    m[0] = 9
    assert m.memory.readonly
    assert struct.unpack_from("=Q", m.memory)[0] == 9


def test_mmap_array_create_defaults_to_mmapable(made):
    m = bm.MmapArrayMap.create(value="__u32", max_entries=4)
    made.append(m)
    assert m.flags & F.MMAPABLE
    assert len(m.memory) == 32


def test_no_fd_leak(fd_count):
    before = fd_count()
    for _ in range(10):
        m = bm.ArrayMap.create(value="__u64", max_entries=512, flags=F.MMAPABLE)
        m.memory[0] = 1
        m.close()
    for _ in range(10):
        m = bm.ArrayMap.create(value="__u64", max_entries=512, flags=F.MMAPABLE)
        m.memory  # noqa: B018
        del m
    gc.collect()
    assert fd_count() == before


# ----------------------------------------------------------------------- ARENA

def arena(made, pages=4, **kw):
    try:
        a = bm.ArenaMap.create(pages, **kw)
    except bm.BpfError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP, 524):
            pytest.skip(f"this kernel lacks BPF_MAP_TYPE_ARENA ({exc})")
        raise
    made.append(a)
    return a


def test_arena_memory(made):
    a = arena(made, 4)
    assert isinstance(a, bm.ArenaMap) and a.type == bm.MapType.ARENA
    assert a.size == 4 * 4096
    mem = a.memory
    assert len(mem) == a.size and not mem.readonly
    mem[0:5] = b"hello"
    mem[3 * 4096:3 * 4096 + 3] = b"end"
    assert bytes(mem[0:5]) == b"hello" and bytes(a.memory[3 * 4096:3 * 4096 + 3]) == b"end"


def test_arena_at_a_fixed_address(made):
    addr = 0x7F0000000000
    a = arena(made, 2, map_extra=addr)
    a.memory[0] = 1
    import ctypes
    view_addr = ctypes.addressof(ctypes.c_char.from_buffer(a.memory))
    assert view_addr == addr


def test_arena_bad_arguments():
    with pytest.raises(ValueError):
        bm.ArenaMap.create(0)
    with pytest.raises(ValueError):
        bm.ArenaMap.create(2, map_extra=123)
    with pytest.raises(TypeError):
        bm.ArenaMap.create("2")


def test_arena_close_and_leaks(fd_count):
    before = fd_count()
    for _ in range(5):
        try:
            a = bm.ArenaMap.create(2)
        except bm.BpfError:
            pytest.skip("this kernel lacks BPF_MAP_TYPE_ARENA")
        a.memory[0] = 1
        a.close()
        a.close()
    gc.collect()
    assert fd_count() == before
