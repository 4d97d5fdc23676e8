"""Creating and opening maps: Map.create, the per-type create classmethods,
from_id/from_pin/from_fd, maps(), attributes, pinning, freezing, closing."""
import errno
import os

import pytest

import pybpfmap as bm
from pybpfmap import _bpf
from pybpfmap.btf import types as T


def expected_possible_cpus():
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


@pytest.fixture
def created():
    """Create maps through this; every one is closed after the test."""
    made = []

    def make(*args, **kwargs):
        cls = kwargs.pop("cls", bm.Map)
        m = cls.create(*args, **kwargs)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


@pytest.fixture
def no_create_syscall(monkeypatch):
    """Fail if BPF_MAP_CREATE is reached (the library must reject first)."""
    calls = []
    real = _bpf.map_create

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_bpf, "map_create", spy)
    yield calls
    assert calls == [], "bad arguments reached BPF_MAP_CREATE"


# ----------------------------------------------------------- map type -> class

@pytest.mark.parametrize("map_type, cls", [
    (bm.MapType.HASH, bm.HashMap),
    (bm.MapType.LRU_HASH, bm.LruHashMap),
    (bm.MapType.ARRAY, bm.ArrayMap),
    (bm.MapType.PERCPU_HASH, bm.PerCpuHashMap),
    (bm.MapType.PERCPU_ARRAY, bm.PerCpuArrayMap),
    (bm.MapType.LRU_PERCPU_HASH, bm.LruPerCpuHashMap),
])
def test_map_create_returns_class_for_type(created, map_type, cls):
    m = created(map_type, key="__u32", value="__u64", max_entries=8)
    assert type(m) is cls
    assert m.type == map_type
    assert isinstance(m.type, bm.MapType)


def test_lru_hash_map_is_a_hash_map(created):
    m = created(bm.MapType.LRU_HASH, key="__u32", value="__u32", max_entries=4)
    assert isinstance(m, bm.HashMap)


@pytest.mark.parametrize("cls, map_type", [
    (bm.HashMap, bm.MapType.HASH),
    (bm.LruHashMap, bm.MapType.LRU_HASH),
    (bm.PerCpuHashMap, bm.MapType.PERCPU_HASH),
    (bm.LruPerCpuHashMap, bm.MapType.LRU_PERCPU_HASH),
])
def test_per_type_create_for_hash_classes(created, cls, map_type):
    m = created(key="__u32", value="__u64", max_entries=8, cls=cls)
    assert type(m) is cls
    assert m.type == map_type


def test_array_create_defaults_to_u32_key(created):
    m = created(value="__u64", max_entries=10, cls=bm.ArrayMap)
    assert type(m) is bm.ArrayMap
    assert m.type == bm.MapType.ARRAY
    assert m.key_size == 4
    assert T.c_name(m.key_type) == "__u32"
    assert m.max_entries == 10


def test_percpu_array_create_defaults_to_u32_key(created):
    m = created(value="__u32", max_entries=3, cls=bm.PerCpuArrayMap)
    assert type(m) is bm.PerCpuArrayMap
    assert m.type == bm.MapType.PERCPU_ARRAY
    assert m.key_size == 4


def test_per_type_create_without_value_is_type_error(no_create_syscall):
    with pytest.raises(TypeError):
        bm.HashMap.create(key="__u32", max_entries=4)


# ------------------------------------------------------------------ attributes

def test_attributes_of_a_created_map(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u64", max_entries=100, name="attrs")
    assert isinstance(m.fd, int) and m.fd >= 0
    assert isinstance(m.id, int) and m.id > 0
    assert m.name == "attrs"
    assert m.type is bm.MapType.HASH
    assert m.key_size == 4
    assert m.value_size == 8
    assert m.max_entries == 100
    assert m.flags == bm.MapFlags(0)
    assert isinstance(m.flags, bm.MapFlags)
    assert isinstance(m.key_type, T.Type) and T.c_name(m.key_type) == "__u32"
    assert isinstance(m.value_type, T.Type) and T.c_name(m.value_type) == "__u64"
    assert not m.closed


def test_info_fields(created):
    m = created(bm.MapType.HASH, key=6, value=10, max_entries=7, name="infomap",
                flags=bm.MapFlags.NO_PREALLOC)
    info = m.info
    assert isinstance(info, bm.MapInfo)
    assert info.id == m.id
    assert info.name == "infomap"
    assert info.type is bm.MapType.HASH
    assert info.key_size == 6
    assert info.value_size == 10
    assert info.max_entries == 7
    assert info.flags == bm.MapFlags.NO_PREALLOC
    assert info.btf_id == 0  # raw sizes carry no BTF
    assert info.map_extra == 0


def test_info_btf_id_is_an_int_for_typed_maps(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u64", max_entries=4)
    assert isinstance(m.info.btf_id, int) and m.info.btf_id >= 0


def test_map_without_name_has_empty_name(created):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    assert m.name == ""


def test_flags_are_reported(created):
    flags = bm.MapFlags.NO_PREALLOC | bm.MapFlags.ZERO_SEED
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4, flags=flags)
    assert m.flags == flags


def test_flags_accept_a_plain_int(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4, flags=1)
    assert m.flags == bm.MapFlags.NO_PREALLOC


def test_numa_node_sets_the_numa_flag(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4, numa_node=0)
    assert bm.MapFlags.NUMA_NODE in m.flags


# --------------------------------------------------------- key and value types

def test_raw_size_key_is_bytes(created):
    m = created(bm.MapType.HASH, key=6, value=2, max_entries=4)
    assert m.key_type is None and m.value_type is None
    assert m.key_size == 6 and m.value_size == 2
    m.set(b"abcdef", b"xy")
    assert m[b"abcdef"] == b"xy"
    assert list(m.keys()) == [b"abcdef"]


@pytest.mark.parametrize("spec, size, sample", [
    ("__u32", 4, 4000000000),
    ("u64", 8, 2**64 - 1),
    ("int", 4, -5),
    ("unsigned long", 8, 2**63),
    ("_Bool", 1, True),
    ("char[16]", 16, b"hello"),
    ("__u16[4]", 8, (1, 2, 3, 65535)),
    ("double", 8, 2.5),
])
def test_value_given_as_c_type(created, spec, size, sample):
    m = created(bm.MapType.HASH, key="__u32", value=spec, max_entries=4)
    assert m.value_size == size
    assert isinstance(m.value_type, T.Type)
    m[1] = sample
    assert m[1] == sample


@pytest.mark.parametrize("spec, size, sample", [
    ("__u32", 4, 7),
    ("u64", 8, 2**40),
    ("int", 4, -1),
    ("unsigned long", 8, 3),
    ("char[16]", 16, b"key"),
    ("__u16[4]", 8, (4, 3, 2, 1)),
])
def test_key_given_as_c_type(created, spec, size, sample):
    m = created(bm.MapType.HASH, key=spec, value="__u8", max_entries=4)
    assert m.key_size == size
    m[sample] = 9
    assert list(m.keys()) == [sample]


def test_whitespace_in_type_names_is_normalised(created):
    m = created(bm.MapType.HASH, key="  unsigned   long  long ", value="__u8", max_entries=1)
    assert m.key_size == 8


# ------------------------------------------------------- bad arguments, no syscall

@pytest.mark.parametrize("key", ["__u33", "struct_without_body", "char[0]", "unsigned float", ""])
def test_unknown_key_type_name_is_value_error(no_create_syscall, key):
    with pytest.raises(ValueError):
        bm.Map.create(bm.MapType.HASH, key=key, value="__u32", max_entries=4)


@pytest.mark.parametrize("value", [1.5, object(), [4], True])
def test_key_value_of_wrong_kind_is_type_error(no_create_syscall, value):
    with pytest.raises(TypeError):
        bm.Map.create(bm.MapType.HASH, key="__u32", value=value, max_entries=4)


def test_negative_size_is_value_error(no_create_syscall):
    with pytest.raises(ValueError):
        bm.Map.create(bm.MapType.HASH, key=-4, value="__u32", max_entries=4)


def test_size_beyond_u32_is_value_error(no_create_syscall):
    with pytest.raises((ValueError, OverflowError)):
        bm.Map.create(bm.MapType.HASH, key=2**32, value="__u32", max_entries=4)


@pytest.mark.parametrize("max_entries", [-1, 2**32])
def test_max_entries_out_of_range_rejected_before_syscall(no_create_syscall, max_entries):
    with pytest.raises((ValueError, OverflowError)):
        bm.Map.create(bm.MapType.HASH, key="__u32", value="__u32", max_entries=max_entries)


@pytest.mark.parametrize("max_entries", ["10", 1.0, None, True])
def test_max_entries_of_wrong_type_is_type_error(no_create_syscall, max_entries):
    with pytest.raises(TypeError):
        bm.Map.create(bm.MapType.HASH, key="__u32", value="__u32", max_entries=max_entries)


def test_max_entries_zero_is_kernel_einval():
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.create(bm.MapType.HASH, key="__u32", value="__u32", max_entries=0, name="zero")
    assert exc.value.errno == errno.EINVAL
    assert "create" in str(exc.value)
    assert "zero" in str(exc.value)


def test_name_longer_than_15_chars_is_value_error(no_create_syscall):
    with pytest.raises(ValueError):
        bm.HashMap.create(key="__u32", value="__u32", max_entries=4, name="a" * 16)


def test_name_of_15_chars_is_accepted(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4, name="a" * 15)
    assert m.name == "a" * 15


@pytest.mark.parametrize("name", ["with-dash", "sp ace", "é"])
def test_name_with_bad_characters_is_value_error(no_create_syscall, name):
    with pytest.raises(ValueError):
        bm.HashMap.create(key="__u32", value="__u32", max_entries=4, name=name)


def test_name_of_wrong_type_is_type_error(no_create_syscall):
    with pytest.raises(TypeError):
        bm.HashMap.create(key="__u32", value="__u32", max_entries=4, name=b"bytes")


@pytest.mark.parametrize("flags", ["NO_PREALLOC", 1.0, None, bm.UpdateFlags, True])
def test_flags_of_wrong_type_is_type_error(no_create_syscall, flags):
    with pytest.raises(TypeError):
        bm.HashMap.create(key="__u32", value="__u32", max_entries=4, flags=flags)


def test_negative_flags_is_value_error(no_create_syscall):
    with pytest.raises(ValueError):
        bm.HashMap.create(key="__u32", value="__u32", max_entries=4, flags=-1)


@pytest.mark.parametrize("map_type", ["hash", None, 1.0, bm.MapFlags])
def test_map_type_not_a_map_type_is_type_error(no_create_syscall, map_type):
    with pytest.raises(TypeError):
        bm.Map.create(map_type, key="__u32", value="__u32", max_entries=4)


def test_negative_map_type_is_value_error(no_create_syscall):
    with pytest.raises(ValueError):
        bm.Map.create(-1, key="__u32", value="__u32", max_entries=4)


def test_negative_numa_node_is_value_error(no_create_syscall):
    with pytest.raises(ValueError):
        bm.HashMap.create(key="__u32", value="__u32", max_entries=4, numa_node=-1)


def test_missing_max_entries_is_type_error(no_create_syscall):
    with pytest.raises(TypeError):
        bm.HashMap.create(key="__u32", value="__u32")


def test_kernel_refusal_is_bpf_error():
    # ARRAY keys must be 4 bytes
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.create(bm.MapType.ARRAY, key=8, value=4, max_entries=4)
    assert exc.value.errno == errno.EINVAL


# ---------------------------------------------------------------- from_* / maps()

def test_from_id_opens_the_same_map(created):
    m = created(bm.MapType.HASH, key=4, value=8, max_entries=4, name="byid")
    m[b"\1\0\0\0"] = b"\2" * 8
    with bm.Map.from_id(m.id) as other:
        assert type(other) is bm.HashMap
        assert other.id == m.id
        assert other.name == "byid"
        assert other.fd != m.fd
        assert other[b"\1\0\0\0"] == b"\2" * 8


def test_from_id_of_array_gives_array_map(created):
    m = created(value=4, max_entries=3, cls=bm.ArrayMap)
    m[1] = b"abcd"
    with bm.Map.from_id(m.id) as other:
        assert type(other) is bm.ArrayMap
        assert len(other) == 3
        assert other[1] == b"abcd"  # indexed by int even without BTF
        assert other[-1] == b"\0" * 4


def test_from_id_on_subclass_checks_the_type(created):
    m = created(value=4, max_entries=3, cls=bm.ArrayMap)
    with pytest.raises(TypeError):
        bm.HashMap.from_id(m.id)


def test_from_id_of_missing_map_is_enoent():
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.from_id(2**32 - 1)
    assert exc.value.errno == errno.ENOENT


def test_from_id_with_bad_id_is_rejected():
    with pytest.raises(ValueError):
        bm.Map.from_id(-1)
    with pytest.raises(TypeError):
        bm.Map.from_id("7")


def test_pin_from_pin_unpin_round_trip(created, pin_dir):
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4, name="pinned")
    m[1] = 11
    path = os.path.join(pin_dir, "counts")
    m.pin(path)
    assert os.path.exists(path)
    with bm.Map.from_pin(path) as other:
        assert type(other) is bm.HashMap
        assert other.id == m.id
        other.set(b"\2\0\0\0" if other.key_type is None else 2,
                  b"\x16\0\0\0" if other.value_type is None else 22)
    assert m[2] == 22
    m.unpin()
    assert not os.path.exists(path)


def test_unpin_with_explicit_path(created, pin_dir):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    path = os.path.join(pin_dir, "a")
    m.pin(path)
    m.unpin(path)
    assert not os.path.exists(path)


def test_unpin_without_pin_is_value_error(created):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    with pytest.raises(ValueError):
        m.unpin()


def test_unpin_twice_is_bpf_error(created, pin_dir):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    path = os.path.join(pin_dir, "a")
    m.pin(path)
    m.unpin(path)
    with pytest.raises(bm.BpfError) as exc:
        m.unpin(path)
    assert exc.value.errno == errno.ENOENT


def test_pinned_map_outlives_its_fd(created, pin_dir):
    m = created(bm.MapType.HASH, key=4, value=4, max_entries=2)
    m[b"abcd"] = b"wxyz"
    map_id = m.id
    path = os.path.join(pin_dir, "kept")
    m.pin(path)
    m.close()
    with bm.Map.from_pin(path) as again:
        assert again.id == map_id
        assert again[b"abcd"] == b"wxyz"


def test_pin_to_existing_path_is_eexist(created, pin_dir):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    path = os.path.join(pin_dir, "twice")
    m.pin(path)
    with pytest.raises(bm.BpfError) as exc:
        m.pin(path)
    assert exc.value.errno == errno.EEXIST


def test_pin_outside_bpffs_is_clear_bpf_error(created, tmp_path):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    path = str(tmp_path / "m")
    with pytest.raises(bm.BpfError) as exc:
        m.pin(path)
    assert "bpf" in str(exc.value).lower()
    assert "pin" in str(exc.value)
    assert not os.path.exists(path)


def test_pin_into_missing_directory_is_enoent(created, pin_dir):
    m = created(bm.MapType.ARRAY, key=4, value=4, max_entries=1)
    with pytest.raises(bm.BpfError) as exc:
        m.pin(os.path.join(pin_dir, "nodir", "m"))
    assert exc.value.errno == errno.ENOENT


def test_from_pin_of_missing_path_is_enoent(pin_dir):
    path = os.path.join(pin_dir, "missing")
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.from_pin(path)
    assert exc.value.errno == errno.ENOENT
    assert "missing" in str(exc.value)


def test_from_pin_of_regular_file_is_bpf_error(tmp_path):
    path = tmp_path / "plain"
    path.write_text("x")
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.from_pin(str(path))
    assert exc.value.errno == errno.EINVAL


def test_from_pin_of_wrong_type_is_type_error():
    with pytest.raises(TypeError):
        bm.Map.from_pin(42)


def test_from_fd_duplicates_the_fd(created):
    m = created(bm.MapType.HASH, key=4, value=4, max_entries=2)
    other = bm.Map.from_fd(m.fd)
    try:
        assert other.fd != m.fd
        assert other.id == m.id
        m[b"1111"] = b"2222"
        m.close()
        assert other[b"1111"] == b"2222"
        other[b"3333"] = b"4444"
        assert len(other) == 2
    finally:
        other.close()


def test_from_fd_caller_keeps_its_fd(created):
    m = created(bm.MapType.HASH, key=4, value=4, max_entries=2)
    fd = os.dup(m.fd)
    try:
        bm.Map.from_fd(fd).close()
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def test_from_fd_of_pipe_is_einval():
    r, w = os.pipe()
    try:
        with pytest.raises(bm.BpfError) as exc:
            bm.Map.from_fd(r)
        assert exc.value.errno == errno.EINVAL
    finally:
        os.close(r)
        os.close(w)


def test_from_fd_of_closed_fd_is_ebadf():
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.from_fd(r)
    assert exc.value.errno == errno.EBADF


@pytest.mark.parametrize("fd, exc", [(-1, ValueError), ("3", TypeError), (None, TypeError)])
def test_from_fd_of_bad_value(fd, exc):
    with pytest.raises(exc):
        bm.Map.from_fd(fd)


def test_maps_lists_a_created_map(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u64", max_entries=5, name="listed")
    infos = bm.maps()
    assert all(isinstance(i, bm.MapInfo) for i in infos)
    mine = [i for i in infos if i.id == m.id]
    assert len(mine) == 1
    assert mine[0].name == "listed"
    assert mine[0].type is bm.MapType.HASH
    assert mine[0].max_entries == 5


def test_maps_no_longer_lists_a_freed_map(created):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=5)
    map_id = m.id
    m.close()
    # the kernel frees maps asynchronously; the id must disappear eventually
    import time
    for _ in range(200):
        if map_id not in {i.id for i in bm.maps()}:
            break
        time.sleep(0.01)
    assert map_id not in {i.id for i in bm.maps()}


# ------------------------------------------------------------ repr and lifetime

def test_repr_names_class_name_id_and_type(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u64", max_entries=4, name="shown")
    r = repr(m)
    assert "HashMap" in r and "shown" in r and str(m.id) in r and "HASH" in r


def test_repr_of_closed_map(created):
    m = created(bm.MapType.ARRAY, key="__u32", value="__u64", max_entries=4, name="gone")
    m.close()
    r = repr(m)
    assert "ArrayMap" in r and "gone" in r and "closed" in r


def test_context_manager_closes(created):
    with bm.HashMap.create(key="__u32", value="__u64", max_entries=4) as m:
        assert not m.closed
        m[1] = 2
    assert m.closed


def test_context_manager_returns_the_map():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    with m as same:
        assert same is m


def test_close_is_idempotent():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    m.close()
    m.close()
    assert m.closed


def test_close_releases_the_fd():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    fd = m.fd
    m.close()
    with pytest.raises(OSError):
        os.fstat(fd)


def _closed_ops():
    return {
        "fd": lambda m: m.fd,
        "info": lambda m: m.info,
        "getitem": lambda m: m[1],
        "setitem": lambda m: m.__setitem__(1, 1),
        "delitem": lambda m: m.__delitem__(1),
        "contains": lambda m: 1 in m,
        "len": lambda m: len(m),
        "bool": lambda m: bool(m),
        "iter": lambda m: list(m),
        "keys": lambda m: list(m.keys()),
        "values": lambda m: list(m.values()),
        "items": lambda m: list(m.items()),
        "get": lambda m: m.get(1),
        "lookup": lambda m: m.lookup(1),
        "set": lambda m: m.set(1, 1),
        "insert": lambda m: m.insert(1, 1),
        "replace": lambda m: m.replace(1, 1),
        "delete": lambda m: m.delete(1),
        "pop": lambda m: m.pop(1, None),
        "popitem": lambda m: m.popitem(),
        "setdefault": lambda m: m.setdefault(1, 1),
        "update": lambda m: m.update({1: 1}),
        "update_empty": lambda m: m.update({}),
        "clear": lambda m: m.clear(),
        "pop_all": lambda m: m.pop_all(),
        "delete_many": lambda m: m.delete_many([]),
        "next_key": lambda m: m.next_key(),
        "freeze": lambda m: m.freeze(),
        "pin": lambda m: m.pin("/sys/fs/bpf/pybpfmap-never"),
        "unpin": lambda m: m.unpin("/sys/fs/bpf/pybpfmap-never"),
    }


@pytest.mark.parametrize("op", sorted(_closed_ops()))
def test_every_hash_operation_on_closed_map_is_value_error(op):
    m = bm.HashMap.create(key="__u32", value="__u32", max_entries=4)
    m[1] = 1
    m.close()
    with pytest.raises(ValueError):
        _closed_ops()[op](m)


def _closed_array_ops():
    return {
        "getitem": lambda m: m[0],
        "slice": lambda m: m[0:2],
        "empty_slice": lambda m: m[2:1],
        "setitem": lambda m: m.__setitem__(0, 1),
        "set_slice": lambda m: m.__setitem__(slice(0, 4), [1, 2, 3, 4]),
        "len": lambda m: len(m),
        "iter": lambda m: list(m),
        "reversed": lambda m: list(reversed(m)),
        "keys": lambda m: m.keys(),
        "values": lambda m: list(m.values()),
        "items": lambda m: list(m.items()),
        "contains": lambda m: 0 in m,
        "index": lambda m: m.index(0),
        "count": lambda m: m.count(0),
        "lookup": lambda m: m.lookup(0),
        "info": lambda m: m.info,
    }


@pytest.mark.parametrize("op", sorted(_closed_array_ops()))
def test_every_array_operation_on_closed_map_is_value_error(op):
    m = bm.ArrayMap.create(value="__u32", max_entries=4)
    m.close()
    with pytest.raises(ValueError):
        _closed_array_ops()[op](m)


def test_closed_attribute_reflects_state():
    m = bm.ArrayMap.create(value="__u32", max_entries=4)
    assert m.closed is False
    m.close()
    assert m.closed is True


# ------------------------------------------------------------------ freezing

def test_freeze_makes_updates_fail_with_permission_error(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4, name="frozen")
    m[1] = 1
    m.freeze()
    with pytest.raises(bm.BpfPermissionError) as exc:
        m[2] = 2
    assert exc.value.errno == errno.EPERM
    assert isinstance(exc.value, PermissionError)
    assert "frozen" in str(exc.value)
    assert dict(m.items()) == {1: 1}
    assert m[1] == 1  # lookups still work


def test_freeze_makes_deletes_fail(created):
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4)
    m[1] = 1
    m.freeze()
    with pytest.raises(bm.BpfPermissionError):
        del m[1]
    with pytest.raises(bm.BpfPermissionError):
        m.update({3: 3})
    assert m[1] == 1


def test_freeze_array_then_update_fails(created):
    m = created(value="__u32", max_entries=4, cls=bm.ArrayMap)
    m[0] = 5
    m.freeze()
    with pytest.raises(bm.BpfPermissionError):
        m[1] = 1
    assert list(m) == [5, 0, 0, 0]


def test_freezing_twice_is_permission_error(created):
    m = created(bm.MapType.ARRAY, key="__u32", value="__u32", max_entries=4)
    m.freeze()
    with pytest.raises(bm.BpfPermissionError) as exc:
        m.freeze()
    assert exc.value.errno == errno.EPERM
    assert "freeze" in str(exc.value)


# ------------------------------------------------------------------ CPUs

def test_possible_cpus_matches_sysfs():
    assert bm.possible_cpus() == expected_possible_cpus()



@pytest.mark.parametrize("map_type", [bm.MapType.HASH, bm.MapType.ARRAY])
@pytest.mark.parametrize("key, value", [(4, "__u32"), ("__u32", 4)])
def test_typed_key_with_raw_value_and_vice_versa(created, map_type, key, value):
    # the kernel refuses BTF typing only one side; such maps carry none
    m = created(map_type, key=key, value=value, max_entries=4)
    assert m.info.btf_id == 0
    k = 1 if key == "__u32" or map_type == bm.MapType.ARRAY else b"\1\0\0\0"
    v = 7 if value == "__u32" else b"\7\0\0\0"
    m[k] = v
    assert m[k] == v


def test_pin_and_unpin_with_pathlib_path(created, pin_dir):
    import pathlib
    m = created(bm.MapType.HASH, key="__u32", value="__u32", max_entries=4)
    path = pathlib.Path(pin_dir) / "p"
    m.pin(path)
    with bm.Map.from_pin(path) as other:
        assert other.id == m.id
    m.unpin(path)
    assert not path.exists()
    with pytest.raises(ValueError):
        m.unpin()  # the pin is gone: nothing left to unpin
