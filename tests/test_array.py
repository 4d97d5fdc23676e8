"""ArrayMap as a fixed-length sequence, checked against a list."""
import errno

import pytest

import pybpfmap as bm


@pytest.fixture
def make_array():
    made = []

    def make(max_entries=16, value="__u32", *, batch=True, cls=bm.ArrayMap, **kw):
        a = cls.create(value=value, max_entries=max_entries, **kw)
        a._use_batch = batch
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()


@pytest.fixture(params=[True, False], ids=["batch", "next_key"])
def batch(request):
    return request.param


@pytest.fixture
def arr(make_array, batch):
    """A 16-entry __u32 array holding 0, 10, 20, ... 150 and a matching list."""
    a = make_array(batch=batch)
    ref = [i * 10 for i in range(16)]
    for i, v in enumerate(ref):
        a[i] = v
    return a, ref


def test_len_is_max_entries(make_array):
    assert len(make_array(max_entries=37)) == 37


def test_never_written_reads_zero(make_array, batch):
    a = make_array(max_entries=5, batch=batch)
    assert a[0] == 0 and a[4] == 0
    assert list(a) == [0] * 5


def test_never_written_char_array_reads_empty(make_array):
    a = make_array(max_entries=2, value="char[8]")
    assert a[1] == b""


def test_getitem_setitem(make_array):
    a = make_array()
    a[3] = 33
    assert a[3] == 33
    a[3] = 34
    assert a[3] == 34


def test_negative_indices(arr):
    a, ref = arr
    assert a[-1] == ref[-1]
    assert a[-16] == ref[0]
    a[-2] = 7
    assert a[14] == 7


@pytest.mark.parametrize("i", [16, 17, 2**31, -17, -2**40])
def test_index_out_of_range_is_index_error(arr, i):
    a, ref = arr
    with pytest.raises(IndexError):
        a[i]
    with pytest.raises(IndexError):
        a[i] = 1
    assert list(a) == ref


@pytest.mark.parametrize("i", ["1", 1.0, None, (1,), b"\0\0\0\0"])
def test_non_int_index_is_type_error(arr, i):
    a, _ = arr
    with pytest.raises(TypeError):
        a[i]
    with pytest.raises(TypeError):
        a[i] = 1


def test_numpy_style_index_objects_work(arr):
    class Idx:
        def __index__(self):
            return 2
    a, ref = arr
    assert a[Idx()] == ref[2]


@pytest.mark.parametrize("s", [
    slice(2, 10), slice(None), slice(None, None, 2), slice(1, None, 3),
    slice(None, None, -1), slice(10, 2, -2), slice(-5, None), slice(5, 5),
    slice(10, 2), slice(0, 100), slice(-100, 3), slice(0, 16, 20),
])
def test_slices_read_like_list(arr, s):
    a, ref = arr
    got = a[s]
    assert isinstance(got, list)
    assert got == ref[s]


def test_slice_assign_all(arr):
    a, ref = arr
    new = list(range(100, 116))
    a[:] = new
    assert list(a) == new


@pytest.mark.parametrize("s", [slice(2, 6), slice(None, None, 2), slice(15, 0, -3), slice(3, 3)])
def test_slice_assign_like_list(arr, s):
    a, ref = arr
    n = len(ref[s])
    new = [1000 + i for i in range(n)]
    ref[s] = new
    a[s] = new
    assert list(a) == ref


def test_slice_assign_from_generator(arr):
    a, ref = arr
    a[0:3] = (x for x in (7, 8, 9))
    assert a[0:4] == [7, 8, 9, ref[3]]


@pytest.mark.parametrize("n", [0, 3, 5, 17])
def test_wrong_length_slice_assignment_is_value_error_and_leaves_array(arr, n):
    a, ref = arr
    with pytest.raises(ValueError):
        a[2:6] = list(range(n)) if n != 4 else []
    assert list(a) == ref


def test_full_slice_assignment_with_wrong_length(arr):
    a, ref = arr
    with pytest.raises(ValueError):
        a[:] = [1, 2, 3]
    assert list(a) == ref


def test_slice_assignment_with_bad_value_leaves_array(arr):
    a, ref = arr
    with pytest.raises(OverflowError):
        a[0:3] = [1, 2, -3]
    with pytest.raises(TypeError):
        a[0:3] = [1, "2", 3]
    assert list(a) == ref


def test_slice_assignment_of_non_iterable_is_type_error(arr):
    a, ref = arr
    with pytest.raises(TypeError):
        a[0:2] = 5
    assert list(a) == ref


def test_del_is_type_error(arr):
    a, ref = arr
    with pytest.raises(TypeError):
        del a[0]
    with pytest.raises(TypeError):
        del a[0:2]
    assert list(a) == ref


def test_iteration_yields_values(arr):
    a, ref = arr
    assert list(a) == ref
    assert [v for v in a] == ref


def test_reversed(arr):
    a, ref = arr
    assert list(reversed(a)) == ref[::-1]


def test_items_keys_values(arr):
    a, ref = arr
    assert list(a.keys()) == list(range(16))
    assert list(a.values()) == ref
    assert list(a.items()) == list(enumerate(ref))
    assert dict(a.items()) == dict(enumerate(ref))


def test_views_len_and_in(arr):
    a, ref = arr
    assert len(a.keys()) == len(a.values()) == len(a.items()) == 16
    assert 15 in a.keys() and 16 not in a.keys()
    assert 150 in a.values() and 151 not in a.values()
    assert (3, 30) in a.items() and (3, 31) not in a.items() and (99, 0) not in a.items()


def test_index_count_and_in(arr):
    a, ref = arr
    a[5] = 20
    ref[5] = 20
    assert a.index(20) == ref.index(20) == 2
    assert a.count(20) == 2
    assert a.count(12345) == 0
    assert 150 in a
    assert 151 not in a
    with pytest.raises(ValueError):
        a.index(12345)


def test_lookup_and_set_methods(make_array):
    a = make_array(max_entries=4)
    a.set(1, 5)
    assert a.lookup(1) == 5
    assert a.lookup(-3) == 5
    with pytest.raises(IndexError):
        a.lookup(4)
    with pytest.raises(IndexError):
        a.set(4, 1)


def test_set_noexist_is_key_exists(make_array):
    a = make_array(max_entries=4)
    with pytest.raises(bm.KeyExistsError) as exc:
        a.set(0, 1, bm.UpdateFlags.NOEXIST)
    assert exc.value.errno == errno.EEXIST


def test_set_exist_works(make_array):
    a = make_array(max_entries=4)
    a.set(0, 1, bm.UpdateFlags.EXIST)
    assert a[0] == 1


def test_array_is_not_hashable(make_array):
    with pytest.raises(TypeError):
        hash(make_array())


def test_value_overflow_leaves_element(make_array):
    a = make_array(value="__u8")
    a[0] = 255
    with pytest.raises(OverflowError):
        a[0] = 256
    assert a[0] == 255


@pytest.mark.parametrize("value, sample", [
    ("char[16]", b"name"), ("__u16[4]", (1, 2, 3, 4)), ("_Bool", True),
    ("int", -7), ("double", -0.5), ("__u64", 2**64 - 1),
])
def test_typed_values(make_array, value, sample):
    a = make_array(max_entries=3, value=value)
    a[1] = sample
    assert a[1] == sample
    assert a[0] != sample


def test_raw_value_array(make_array):
    a = make_array(max_entries=3, value=5)
    assert a[0] == b"\0" * 5
    a[2] = b"abcde"
    assert list(a) == [b"\0" * 5, b"\0" * 5, b"abcde"]


@pytest.mark.parametrize("batch_mode", [True, False], ids=["batch", "next_key"])
def test_large_array(make_array, batch_mode):
    n = 10000
    a = make_array(max_entries=n, value="__u64", batch=batch_mode)
    ref = [i * i for i in range(n)]
    a[:] = ref
    assert list(a) == ref
    assert list(a.values()) == ref
    assert dict(a.items()) == dict(enumerate(ref))
    assert a[100:9000] == ref[100:9000]
    assert a[::997] == ref[::997]
    assert a._use_batch is batch_mode


def test_large_array_paths_agree(make_array):
    a = make_array(max_entries=9000, value="__u32", batch=True)
    b = make_array(max_entries=9000, value="__u32", batch=False)
    ref = [(i * 2654435761) % 2**32 for i in range(9000)]
    a[:] = ref
    b[:] = ref
    assert list(a.items()) == list(b.items())
    assert list(a) == list(b) == ref


def test_one_entry_array(make_array, batch):
    a = make_array(max_entries=1, batch=batch)
    a[0] = 9
    assert list(a) == [9]
    assert a[-1] == 9
    assert a[:] == [9]


def test_array_delete_method_is_type_error(make_array):
    a = make_array(max_entries=2)
    with pytest.raises(TypeError):
        a.delete(0)


def test_array_lookup_and_delete_is_type_error(make_array):
    a = make_array(max_entries=2)
    a[0] = 3
    with pytest.raises(TypeError):
        a.lookup_and_delete(0)
    assert a[0] == 3
