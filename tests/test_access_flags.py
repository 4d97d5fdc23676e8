"""BPF_F_RDONLY / BPF_F_WRONLY maps refuse the other direction clearly; BPF_F_LOCK
updates on values holding a struct bpf_spin_lock (tests/bpf/spin_lock.c)."""
import errno

import pytest

import pybpfmap as bm

F = bm.MapFlags
LOCK = bm.UpdateFlags.LOCK


def hashmap(made, flags=F(0), value="__u64"):
    m = bm.HashMap.create(key="__u32", value=value, max_entries=8, flags=flags)
    made.append(m)
    return m


# ----------------------------------------------------------------- RDONLY

def test_rdonly_refuses_writes_with_a_clear_error(made):
    m = hashmap(made, F.RDONLY)
    for op in (lambda: m.__setitem__(1, 2), lambda: m.insert(1, 2), lambda: m.set(1, 2),
               lambda: m.update({1: 2}), lambda: m.__delitem__(1), lambda: m.pop(1)):
        with pytest.raises(bm.BpfPermissionError) as exc:
            op()
        assert exc.value.errno == errno.EPERM
        assert isinstance(exc.value, PermissionError)
        assert "read-only" in str(exc.value) and "BPF_F_RDONLY" in str(exc.value)


def test_rdonly_reads_work(made):
    m = hashmap(made, F.RDONLY)
    assert len(m) == 0 and 1 not in m and list(m.items()) == []
    with pytest.raises(KeyError):
        m[1]


def test_rdonly_cannot_be_frozen(made):
    m = hashmap(made, F.RDONLY)
    with pytest.raises(bm.BpfPermissionError):
        m.freeze()


def test_rdonly_array(made):
    a = bm.ArrayMap.create(value="__u32", max_entries=4, flags=F.RDONLY)
    made.append(a)
    assert list(a) == [0, 0, 0, 0]
    with pytest.raises(bm.BpfPermissionError, match="read-only"):
        a[0] = 1


# ----------------------------------------------------------------- WRONLY

def test_wronly_refuses_reads_with_a_clear_error(made):
    m = hashmap(made, F.WRONLY)
    m[1] = 10
    m.insert(2, 20)
    del m[2]
    for op in (lambda: m[1], lambda: 1 in m, lambda: list(m.keys()), lambda: list(m.items()),
               lambda: m.pop(1), lambda: m.get(1)):
        with pytest.raises(bm.BpfPermissionError) as exc:
            op()
        assert "write-only" in str(exc.value) and "BPF_F_WRONLY" in str(exc.value)


def test_wronly_without_batch_path(made):
    m = hashmap(made, F.WRONLY)
    m._use_batch = False
    m[1] = 10
    with pytest.raises(bm.BpfPermissionError, match="write-only"):
        list(m.items())


def test_wronly_can_be_frozen(made):
    m = hashmap(made, F.WRONLY)
    m.freeze()
    with pytest.raises(bm.BpfPermissionError, match="frozen"):
        m[1] = 1


def test_rdonly_and_wronly_together_is_refused():
    with pytest.raises(bm.BpfError) as exc:
        bm.HashMap.create(key="__u32", value="__u64", max_entries=8, flags=F.RDONLY | F.WRONLY)
    assert exc.value.errno == errno.EINVAL


def test_frozen_map_says_frozen(made):
    m = hashmap(made)
    m[1] = 1
    m.freeze()
    with pytest.raises(bm.BpfPermissionError, match="frozen"):
        m[1] = 2
    assert m[1] == 1


def test_rdonly_prog_does_not_limit_user_space(made):
    m = hashmap(made, F.RDONLY_PROG)
    m[1] = 2
    assert m[1] == 2
    del m[1]


# ------------------------------------------------------------------ BPF_F_LOCK

@pytest.fixture
def lock_obj(bpf_obj):
    o = bm.load(bpf_obj("spin_lock"))
    yield o
    o.close()


@pytest.mark.parametrize("name", ["locked", "locked_arr"])
def test_lock_update_on_spin_lock_value(lock_obj, name):
    m = lock_obj.maps[name]
    m.set(0, {"tag": 7, "a": 5, "b": 10}, flags=LOCK)
    v = m[0]
    assert (v.tag, v.a, v.b) == (7, 5, 10)
    assert v.lock.val == 0  # the lock itself is never copied to or from user space
    lock_obj.programs["bump"].test_run(bytes(64), repeat=3)
    v = m[0]
    assert (v.a, v.b) == (8, 16)
    m.set(0, {"tag": 1, "a": 0, "b": 0}, flags=LOCK)
    assert tuple(m[0])[1:] == (1, 0, 0)


def test_lock_update_with_noexist_and_exist(lock_obj):
    m = lock_obj.maps["locked"]
    m.set(3, {"a": 1}, flags=LOCK | bm.UpdateFlags.NOEXIST)
    with pytest.raises(bm.KeyExistsError):
        m.set(3, {"a": 2}, flags=LOCK | bm.UpdateFlags.NOEXIST)
    m.set(3, {"a": 4}, flags=LOCK | bm.UpdateFlags.EXIST)
    with pytest.raises(KeyError):
        m.set(9, {"a": 4}, flags=LOCK | bm.UpdateFlags.EXIST)
    assert m[3].a == 4


def test_lock_update_on_python_created_map(lock_obj, made):
    # the value's BTF (with struct bpf_spin_lock) travels to the new map
    t = lock_obj.maps["locked"].value_type
    m = bm.HashMap.create(key="__u32", value=t, max_entries=4)
    made.append(m)
    m.set(1, {"a": 3, "b": 4}, flags=LOCK)
    assert (m[1].a, m[1].b) == (3, 4)


def test_lock_without_spin_lock_is_einval(made):
    m = hashmap(made)
    with pytest.raises(bm.BpfError) as exc:
        m.set(1, 2, flags=LOCK)
    assert exc.value.errno == errno.EINVAL
    assert 1 not in m


def test_lock_errors_say_a_spin_lock_is_needed(made):
    m = hashmap(made)
    m[1] = 2
    with pytest.raises(bm.BpfError, match="bpf_spin_lock"):
        m.set(1, 3, flags=LOCK)
    with pytest.raises(bm.BpfError, match="bpf_spin_lock"):
        m.lookup(1, flags=LOCK)
    assert m[1] == 2


@pytest.mark.parametrize("name", ["locked", "locked_arr"])
def test_lock_lookup_reads_under_the_lock(lock_obj, name):
    m = lock_obj.maps[name]
    m.set(0, {"tag": 2, "a": 5, "b": 6}, flags=LOCK)
    v = m.lookup(0, flags=LOCK)
    assert (v.tag, v.a, v.b) == (2, 5, 6)
