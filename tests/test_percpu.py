"""Per-CPU hash and array maps: values are tuples of possible_cpus() values."""
import pytest

import pybpfmap as bm
from pybpfmap._ffi import ffi, lib

NCPUS = bm.possible_cpus()


@pytest.fixture
def make():
    made = []

    def make_map(cls, value="__u32", max_entries=16, *, key="__u32", batch=True, **kw):
        if cls in (bm.PerCpuArrayMap,):
            m = cls.create(value=value, max_entries=max_entries, **kw)
        else:
            m = cls.create(key=key, value=value, max_entries=max_entries, **kw)
        m._use_batch = batch
        made.append(m)
        return m

    yield make_map
    for m in made:
        m.close()


@pytest.fixture(params=[True, False], ids=["batch", "next_key"])
def batch(request):
    return request.param


def per_cpu(f):
    return tuple(f(cpu) for cpu in range(NCPUS))


# ---------------------------------------------------------------- hash

def test_hash_value_is_tuple_of_possible_cpus(make):
    m = make(bm.PerCpuHashMap)
    m[1] = per_cpu(lambda c: c + 10)
    v = m[1]
    assert isinstance(v, tuple)
    assert len(v) == NCPUS
    assert v == per_cpu(lambda c: c + 10)


def test_hash_broadcast_single_value(make):
    m = make(bm.PerCpuHashMap)
    m[1] = 7
    assert m[1] == (7,) * NCPUS


def test_hash_accepts_list(make):
    m = make(bm.PerCpuHashMap)
    m[1] = list(per_cpu(lambda c: c))
    assert m[1] == per_cpu(lambda c: c)


@pytest.mark.parametrize("n", [NCPUS - 1, NCPUS + 1])
def test_hash_wrong_length_sequence_is_error(make, n):
    m = make(bm.PerCpuHashMap)
    m[1] = 5
    with pytest.raises((TypeError, ValueError)):
        m[1] = tuple(range(n)) if n else ()
    assert m[1] == (5,) * NCPUS


def test_hash_per_cpu_element_out_of_range(make):
    m = make(bm.PerCpuHashMap)
    with pytest.raises(OverflowError):
        m[1] = (1,) * (NCPUS - 1) + (-1,)
    assert 1 not in m


def test_hash_mapping_operations(make, batch):
    m = make(bm.PerCpuHashMap, batch=batch)
    m.update({1: 1, 2: per_cpu(lambda c: c * 2)})
    m.insert(3, 3)
    with pytest.raises(bm.KeyExistsError):
        m.insert(3, 4)
    m.replace(3, 30)
    with pytest.raises(KeyError):
        m.replace(4, 4)
    assert dict(m.items()) == {1: (1,) * NCPUS, 2: per_cpu(lambda c: c * 2), 3: (30,) * NCPUS}
    assert sorted(m) == [1, 2, 3]
    assert len(m) == 3
    assert m.pop(1) == (1,) * NCPUS
    assert m.pop_all() == {2: per_cpu(lambda c: c * 2), 3: (30,) * NCPUS}
    assert len(m) == 0


def test_hash_full_is_map_full_error(make):
    m = make(bm.PerCpuHashMap, max_entries=2)
    m[1] = 1
    m[2] = 2
    with pytest.raises(bm.MapFullError):
        m[3] = 3
    m[2] = 22
    assert m[2] == (22,) * NCPUS


def test_lru_percpu_hash_evicts(make):
    m = make(bm.LruPerCpuHashMap, max_entries=8)
    for i in range(40):
        m[i] = i
    assert 0 < len(m) <= 8
    for k, v in m.items():
        assert v == (k,) * NCPUS


def test_char8_per_cpu_values(make, batch):
    m = make(bm.PerCpuHashMap, value="char[8]", batch=batch)
    m[1] = per_cpu(lambda c: f"cpu{c}".encode())
    m[2] = b"all"          # one bytes value: broadcast
    m[3] = "str"           # one str value: broadcast
    assert m[1] == per_cpu(lambda c: f"cpu{c}".encode())
    assert m[2] == (b"all",) * NCPUS
    assert m[3] == (b"str",) * NCPUS
    assert dict(m.items())[1] == m[1]


def test_char8_too_long_per_cpu_value(make):
    m = make(bm.PerCpuHashMap, value="char[8]")
    with pytest.raises(ValueError):
        m[1] = (b"123456789",) * NCPUS
    assert 1 not in m


def test_u32_array_per_cpu_values(make, batch):
    m = make(bm.PerCpuHashMap, value="__u32[2]", batch=batch)
    m[1] = per_cpu(lambda c: (c, c + 100))   # a sequence of per-CPU arrays
    assert m[1] == per_cpu(lambda c: (c, c + 100))
    m[2] = [7, 8]                             # one array value: broadcast
    assert m[2] == ((7, 8),) * NCPUS
    assert dict(m.items())[2] == ((7, 8),) * NCPUS


def test_u32_array_ambiguous_sequence_of_ncpus_ints_is_broadcast(make):
    # With value __u32[NCPUS], (a, b, ...) is both a valid array and a
    # sequence of NCPUS ints; ints cannot be __u32[NCPUS] values, so the
    # library reads it as one array written to every CPU.
    m = make(bm.PerCpuHashMap, value=f"__u32[{NCPUS}]")
    value = tuple(range(1, NCPUS + 1))
    m[1] = value
    assert m[1] == (value,) * NCPUS


def test_u32_array_wrong_inner_length(make):
    m = make(bm.PerCpuHashMap, value="__u32[2]")
    with pytest.raises((TypeError, ValueError)):
        m[1] = ((1, 2, 3),) * NCPUS
    assert 1 not in m


# ---------------------------------------------------------------- array

def test_array_reads_tuples(make, batch):
    a = make(bm.PerCpuArrayMap, max_entries=4, batch=batch)
    assert len(a) == 4
    assert a[0] == (0,) * NCPUS
    assert list(a) == [(0,) * NCPUS] * 4


def test_array_write_broadcast_and_sequence(make, batch):
    a = make(bm.PerCpuArrayMap, max_entries=4, batch=batch)
    a[0] = 5
    a[-1] = per_cpu(lambda c: c + 1)
    assert a[0] == (5,) * NCPUS
    assert a[3] == per_cpu(lambda c: c + 1)
    assert list(a.items())[3] == (3, per_cpu(lambda c: c + 1))


def test_array_slice_assignment(make, batch):
    a = make(bm.PerCpuArrayMap, max_entries=4, batch=batch)
    a[:] = [1, per_cpu(lambda c: c), 3, 4]
    assert a[:] == [(1,) * NCPUS, per_cpu(lambda c: c), (3,) * NCPUS, (4,) * NCPUS]


def test_array_wrong_length_sequence(make):
    a = make(bm.PerCpuArrayMap, max_entries=4)
    with pytest.raises((TypeError, ValueError)):
        a[0] = tuple(range(NCPUS + 1))
    assert a[0] == (0,) * NCPUS


def test_array_index_errors(make):
    a = make(bm.PerCpuArrayMap, max_entries=4)
    with pytest.raises(IndexError):
        a[4]
    with pytest.raises(IndexError):
        a[-5] = 1
    with pytest.raises(TypeError):
        del a[0]


def test_array_char8_values(make, batch):
    a = make(bm.PerCpuArrayMap, value="char[8]", max_entries=2, batch=batch)
    a[0] = per_cpu(lambda c: b"c%d" % c)
    a[1] = "x"
    assert list(a) == [per_cpu(lambda c: b"c%d" % c), (b"x",) * NCPUS]


def test_array_u32x2_values(make, batch):
    a = make(bm.PerCpuArrayMap, value="__u32[2]", max_entries=2, batch=batch)
    a[0] = (1, 2)
    a[1] = per_cpu(lambda c: (c, -c % 2**32))
    assert list(a) == [((1, 2),) * NCPUS, per_cpu(lambda c: (c, -c % 2**32))]


# ------------------------------------------------------------- batch vs fallback

def test_hash_paths_agree_with_many_entries(make):
    a = make(bm.PerCpuHashMap, max_entries=5000, batch=True)
    b = make(bm.PerCpuHashMap, max_entries=5000, batch=False)
    ref = {i: per_cpu(lambda c, i=i: i * 10 + c) for i in range(4500)}
    a.update(ref)
    b.update(ref)
    assert dict(a.items()) == dict(b.items()) == ref
    assert len(a) == len(b) == 4500
    assert a.pop_all() == b.pop_all() == ref
    assert a._use_batch and not b._use_batch


def test_array_paths_agree_with_many_entries(make):
    a = make(bm.PerCpuArrayMap, value="char[12]", max_entries=5000, batch=True)
    b = make(bm.PerCpuArrayMap, value="char[12]", max_entries=5000, batch=False)
    ref = [per_cpu(lambda c, i=i: b"%d-%d" % (i, c)) for i in range(5000)]
    a[:] = ref
    b[:] = ref
    assert list(a) == list(b) == ref
    assert list(a.items()) == list(b.items())


# ------------------------------------------------------------------ stride

def kernel_value(m, key_bytes, size):
    """The raw per-CPU value buffer as the kernel returns it."""
    buf = ffi.new("char[]", size)
    assert lib.bpf_map_lookup_elem(m.fd, key_bytes, buf) == 0
    return ffi.buffer(buf)[:]


@pytest.mark.parametrize("value, elem_size, stride", [("__u32", 4, 8), ("char[12]", 12, 16),
                                                       ("__u64", 8, 8)])
def test_value_buffer_stride_is_rounded_to_8(make, value, elem_size, stride):
    m = make(bm.PerCpuHashMap, value=value)
    if value.startswith("char"):
        per = per_cpu(lambda c: bytes([0x41 + c]) * elem_size)
    else:
        per = per_cpu(lambda c: 0x01020304 + c)
    m[1] = per
    raw = kernel_value(m, (1).to_bytes(4, "little"), stride * NCPUS)
    for c in range(NCPUS):
        slot = raw[c * stride:(c + 1) * stride]
        if value.startswith("char"):
            assert slot[:elem_size] == per[c]
        else:
            assert int.from_bytes(slot[:elem_size], "little") == per[c]
        assert slot[elem_size:] == bytes(stride - elem_size)  # zero padding
    assert m[1] == per


def test_kernel_written_slots_decode_per_cpu(make):
    # Write the raw per-CPU buffer ourselves and check the library reads it.
    m = make(bm.PerCpuHashMap, value="char[12]")
    stride = 16
    raw = bytearray(stride * NCPUS)
    for c in range(NCPUS):
        raw[c * stride:c * stride + 12] = bytes([0x61 + c]) * 12
    assert lib.bpf_map_update_elem(m.fd, (9).to_bytes(4, "little"), bytes(raw), 0) == 0
    assert m[9] == per_cpu(lambda c: bytes([0x61 + c]) * 12)
    assert dict(m.items()) == {9: m[9]}


def test_percpu_array_stride(make, batch):
    a = make(bm.PerCpuArrayMap, value="char[12]", max_entries=3, batch=batch)
    a[1] = per_cpu(lambda c: b"z" * (12 - c))
    raw = kernel_value(a, (1).to_bytes(4, "little"), 16 * NCPUS)
    for c in range(NCPUS):
        assert raw[c * 16:c * 16 + 12] == (b"z" * (12 - c)).ljust(12, b"\0")
    assert list(a) == [(b"",) * NCPUS, per_cpu(lambda c: b"z" * (12 - c)), (b"",) * NCPUS]
