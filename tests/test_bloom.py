"""BloomFilterMap: add and 'in' with no false negatives, the number of
hashes (map_extra), typed values, and a filter shared with a BPF program."""
import random
import struct

import pytest

import pybpfmap as bm


@pytest.fixture
def make():
    made = []

    def make(value="__u32", max_entries=100, **kw):
        m = bm.BloomFilterMap.create(value=value, max_entries=max_entries, **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def test_create(make):
    b = make()
    assert type(b) is bm.BloomFilterMap
    assert b.type == bm.MapType.BLOOM_FILTER and b.key_size == 0 and b.value_size == 4
    assert b.hashes == 5  # the kernel's default
    assert b.info.btf_value_type_id  # typed values carry BTF


@pytest.mark.parametrize("hashes", [1, 7, 15])
def test_hashes_go_to_map_extra(make, hashes):
    b = make(hashes=hashes)
    assert b.hashes == hashes
    assert b.info.map_extra == hashes


@pytest.mark.parametrize("hashes, exc", [(0, ValueError), (16, ValueError), (-1, ValueError),
                                         (2.0, TypeError), (True, TypeError)])
def test_bad_hashes(hashes, exc, fd_count):
    before = fd_count()
    with pytest.raises(exc):
        bm.BloomFilterMap.create(value="__u32", max_entries=10, hashes=hashes)
    assert fd_count() == before


def test_no_false_negatives(make):
    rng = random.Random(4)
    b = make("__u64", max_entries=1000, hashes=3)
    added = {rng.getrandbits(64) for _ in range(1000)}
    for v in added:
        b.add(v)
    assert all(v in b for v in added)
    # far beyond max_entries: adds still succeed and are still found
    more = {rng.getrandbits(64) for _ in range(2000)}
    b.update(more)
    assert all(v in b for v in added | more)


def test_mostly_no_false_positives(make):
    b = make("__u32", max_entries=1000, hashes=5)
    b.update(range(0, 2000, 2))
    absent = sum(v in b for v in range(1, 2000, 2))
    assert absent < 100  # a few false positives are allowed, not many


def test_empty_filter_contains_nothing(make):
    b = make()
    assert not any(v in b for v in range(100))


def test_add_twice(make):
    b = make()
    b.add(7)
    b.add(7)
    assert 7 in b


def test_struct_and_raw_values(make):
    b = make("struct flow { __u32 saddr; __u16 port; }")
    b.add({"saddr": 1, "port": 80})
    assert (1, 80) in b
    raw = make(6)
    raw.add(b"abcdef")
    assert b"abcdef" in raw
    with pytest.raises(ValueError):
        b"abc" in raw


def test_bad_values_raise_before_syscall(make):
    b = make()
    with pytest.raises(OverflowError):
        b.add(-1)
    with pytest.raises(TypeError):
        "x" in b
    with pytest.raises(TypeError):
        b.update([1, 2, "x"])
    assert 1 not in b and 2 not in b  # update encodes everything first


def test_no_keys(make):
    b = make()
    for op in (lambda: b.lookup(1), lambda: b.delete(1), lambda: b.set(1, 1),
               lambda: iter(b), lambda: len(b), lambda: list(b.values())):
        with pytest.raises(TypeError):
            op()


def test_frozen(make):
    b = make()
    b.add(1)
    b.freeze()
    assert 1 in b
    with pytest.raises(bm.BpfPermissionError):
        b.add(2)


def test_shared_with_program(bpf_obj):
    u32 = struct.Struct("=I")
    with bm.load(bpf_obj("keyless")) as obj:
        seen, inbox = obj.maps["seen"], obj.maps["inbox"]
        assert isinstance(seen, bm.BloomFilterMap)
        assert seen.hashes == 3
        check = obj.programs["check_seen"]
        packet = u32.pack(1234) + bytes(60)
        assert check.test_run(packet).retval == 0
        seen.add(1234)  # Python adds, the program finds it
        assert check.test_run(packet).retval == 1
        inbox.push(99)
        assert obj.programs["relay"].test_run(bytes(64)).retval == 99
        assert 99 in seen  # the program adds, Python finds it
