"""ProgArrayMap: slots set with programs or fds, read back as program ids,
and a tail call from a BPF program that follows the slot."""
import errno
import os

import pytest

import pybpfmap as bm

from conftest import prog_id


@pytest.fixture
def obj(bpf_obj):
    with bm.load(bpf_obj("tail_call")) as obj:
        yield obj


@pytest.fixture
def jumps(obj):
    return obj.maps["jumps"]


def run(obj):
    return obj.programs["entry"].test_run(bytes(64)).retval


def test_tail_call_follows_the_slot(obj, jumps):
    assert isinstance(jumps, bm.ProgArrayMap)
    assert run(obj) == 7  # empty slot: the tail call falls through
    jumps[0] = obj.programs["target"]
    assert run(obj) == 42
    jumps[0] = obj.programs["target2"].fd  # a raw fd works too
    assert run(obj) == 43
    del jumps[0]
    assert run(obj) == 7


def test_read_gives_program_id(obj, jumps):
    target = obj.programs["target"]
    jumps[2] = target
    assert jumps[2] == prog_id(target.fd)
    assert dict(jumps.items()) == {2: prog_id(target.fd)}
    assert list(jumps) == [2]
    assert len(jumps) == 1
    assert 2 in jumps and 0 not in jumps


def test_empty_slot(jumps):
    with pytest.raises(KeyError):
        jumps[1]
    with pytest.raises(KeyError):
        del jumps[1]
    assert jumps.get(1) is None
    assert len(jumps) == 0 and not jumps


def test_index_out_of_range(obj, jumps):
    for op in (lambda: jumps[4], lambda: jumps.__setitem__(4, obj.programs["target"]),
               lambda: jumps.__delitem__(-1)):
        with pytest.raises(IndexError):
            op()


def test_bad_values_raise_before_syscall(obj, jumps):
    with pytest.raises(TypeError):
        jumps[0] = "target"
    with pytest.raises(TypeError):
        jumps[0] = jumps  # a map is not a program
    with pytest.raises(ValueError):
        jumps[0] = -1
    with pytest.raises(TypeError):
        jumps["0"] = obj.programs["target"]
    assert len(jumps) == 0


def test_kernel_refuses_other_program_types_and_non_programs(obj, jumps):
    with pytest.raises(bm.BpfError) as exc:
        jumps[0] = obj.programs["other"]  # a tracepoint program in an XDP jump table
    assert exc.value.errno == errno.EINVAL
    r, w = os.pipe()
    try:
        with pytest.raises(bm.BpfError) as exc:
            jumps[0] = r
        assert exc.value.errno == errno.EINVAL
    finally:
        os.close(r)
        os.close(w)
    assert len(jumps) == 0


def test_insert_replace_are_type_errors(obj, jumps):
    with pytest.raises(TypeError):
        jumps.insert(0, obj.programs["target"])
    with pytest.raises(TypeError):
        jumps.replace(0, obj.programs["target"])


def test_pop_clear_pop_all(obj, jumps):
    t, t2 = obj.programs["target"], obj.programs["target2"]
    jumps[0] = t
    jumps[1] = t2
    assert jumps.pop(0) == prog_id(t.fd)
    assert jumps.pop(0, None) is None
    assert jumps.pop_all() == {1: prog_id(t2.fd)}
    jumps[0] = t
    jumps[3] = t
    jumps.clear()
    assert len(jumps) == 0
    assert run(obj) == 7


def test_create_from_python(obj):
    with bm.ProgArrayMap.create(max_entries=8, name="jt") as m:
        assert isinstance(m, bm.ProgArrayMap)
        assert m.key_size == 4 and m.value_size == 4 and m.max_entries == 8
        m[5] = obj.programs["target"]  # an unowned array takes any program type
        assert m[5] == prog_id(obj.programs["target"].fd)
        with bm.Map.from_id(m.id) as again:
            assert isinstance(again, bm.ProgArrayMap)
            assert list(again.items()) == [(5, m[5])]
