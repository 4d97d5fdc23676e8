"""HashMap as a MutableMapping, checked against a dict, on both the batch
and the GET_NEXT_KEY paths."""
import errno

import pytest

import pybpfmap as bm
from pybpfmap.maps import base as map_base


@pytest.fixture
def make_map():
    made = []

    def make(key="__u32", value="__u64", max_entries=64, *, cls=bm.HashMap, batch=True, **kw):
        m = cls.create(key=key, value=value, max_entries=max_entries, **kw)
        m._use_batch = batch
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


@pytest.fixture(params=[True, False], ids=["batch", "next_key"])
def batch(request):
    return request.param


@pytest.fixture
def m(make_map, batch):
    return make_map(batch=batch)


# ----------------------------------------------------------- basic mapping

def test_setitem_getitem(m):
    m[1] = 10
    assert m[1] == 10


def test_setitem_overwrites(m):
    m[1] = 10
    m[1] = 20
    assert m[1] == 20
    assert len(m) == 1


def test_getitem_missing_is_key_error(m):
    with pytest.raises(KeyError) as exc:
        m[5]
    assert exc.value.args == (5,)


def test_delitem(m):
    m[1] = 10
    del m[1]
    assert 1 not in m
    assert len(m) == 0


def test_delitem_missing_is_key_error(m):
    with pytest.raises(KeyError):
        del m[1]


def test_contains(m):
    m[3] = 0
    assert 3 in m
    assert 4 not in m


def test_get(m):
    m[1] = 7
    assert m.get(1) == 7
    assert m.get(2) is None
    assert m.get(2, "d") == "d"


def test_len_counts_entries(m):
    assert len(m) == 0
    for i in range(10):
        m[i] = i
    assert len(m) == 10


def test_bool(m):
    assert not m
    m[1] = 1
    assert m


def test_iter_yields_keys(m):
    ref = {i: i * i for i in range(20)}
    for k, v in ref.items():
        m[k] = v
    assert sorted(m) == sorted(ref)


def test_keys_values_items_match_dict(m):
    ref = {i: i * 3 for i in range(30)}
    m.update(ref)
    assert sorted(m.keys()) == sorted(ref.keys())
    assert sorted(m.values()) == sorted(ref.values())
    assert sorted(m.items()) == sorted(ref.items())
    assert dict(m.items()) == ref


def test_views_support_len_and_in(m):
    m.update({1: 10, 2: 20})
    keys, values, items = m.keys(), m.values(), m.items()
    assert len(keys) == len(values) == len(items) == 2
    assert 1 in keys and 3 not in keys
    assert 20 in values and 30 not in values
    assert (1, 10) in items and (1, 11) not in items and (9, 10) not in items


def test_views_are_live(m):
    keys = m.keys()
    assert len(keys) == 0
    m[1] = 1
    assert list(keys) == [1]


def test_keys_view_set_operations(m):
    m.update({1: 1, 2: 2})
    assert m.keys() & {2, 3} == {2}
    assert m.keys() == {1, 2}


def test_equality_with_dict(m):
    m.update({1: 1, 2: 2})
    assert m == {1: 1, 2: 2}
    assert m != {1: 1}


def test_update_from_mapping(m):
    m.update({1: 2, 3: 4})
    assert dict(m.items()) == {1: 2, 3: 4}


def test_update_from_pairs(m):
    m.update([(1, 2), (3, 4)])
    assert dict(m.items()) == {1: 2, 3: 4}


def test_update_from_generator_of_pairs(m):
    m.update((i, i + 1) for i in range(5))
    assert dict(m.items()) == {i: i + 1 for i in range(5)}


def test_update_with_kwargs():
    with bm.HashMap.create(key="char[8]", value="__u32", max_entries=4) as m:
        m.update({"x": 1}, y=2, z=3)
        assert dict(m.items()) == {b"x": 1, b"y": 2, b"z": 3}


def test_update_later_pairs_win(m):
    m.update([(1, 1), (1, 2)])
    assert m[1] == 2


def test_update_with_bad_pair_is_type_error_and_writes_nothing(m):
    with pytest.raises(TypeError):
        m.update([(1, 2), (3,)])
    assert len(m) == 0


def test_update_with_bad_value_writes_nothing(m):
    with pytest.raises(OverflowError):
        m.update([(1, 2), (3, -1)])
    assert len(m) == 0


def test_update_from_another_map(make_map, m):
    src = make_map()
    src.update({5: 50, 6: 60})
    m.update(src)
    assert dict(m.items()) == {5: 50, 6: 60}


def test_pop(m):
    m[1] = 10
    assert m.pop(1) == 10
    assert 1 not in m


def test_pop_missing_is_key_error(m):
    with pytest.raises(KeyError):
        m.pop(1)


def test_pop_missing_with_default(m):
    assert m.pop(1, "d") == "d"
    assert m.pop(1, None) is None


def test_pop_present_ignores_default(m):
    m[1] = 10
    assert m.pop(1, "d") == 10


def test_popitem_until_empty(m):
    ref = {i: i + 100 for i in range(5)}
    m.update(ref)
    got = {}
    for _ in range(5):
        k, v = m.popitem()
        got[k] = v
    assert got == ref
    with pytest.raises(KeyError):
        m.popitem()


def test_clear(m):
    m.update({i: i for i in range(40)})
    m.clear()
    assert len(m) == 0
    assert list(m) == []


def test_clear_empty_map(m):
    m.clear()
    assert len(m) == 0


def test_setdefault_inserts_when_missing(m):
    assert m.setdefault(1, 5) == 5
    assert m[1] == 5


def test_setdefault_returns_existing(m):
    m[1] = 3
    assert m.setdefault(1, 5) == 3
    assert m[1] == 3


# ------------------------------------------------------------ insert / replace / set

def test_insert_new_key(m):
    m.insert(1, 10)
    assert m[1] == 10


def test_insert_existing_key_is_key_exists_error(m):
    m[1] = 10
    with pytest.raises(bm.KeyExistsError) as exc:
        m.insert(1, 20)
    assert isinstance(exc.value, bm.BpfError)
    assert exc.value.errno == errno.EEXIST
    assert m[1] == 10


def test_replace_existing_key(m):
    m[1] = 10
    m.replace(1, 20)
    assert m[1] == 20


def test_replace_missing_key_is_key_error(m):
    with pytest.raises(KeyError):
        m.replace(1, 20)
    assert 1 not in m


@pytest.mark.parametrize("flags", [bm.UpdateFlags.ANY, 0])
def test_set_any(m, flags):
    m.set(1, 1, flags)
    m.set(1, 2, flags=flags)
    assert m[1] == 2


def test_set_noexist(m):
    m.set(1, 1, bm.UpdateFlags.NOEXIST)
    with pytest.raises(bm.KeyExistsError):
        m.set(1, 2, bm.UpdateFlags.NOEXIST)
    assert m[1] == 1


def test_set_exist(m):
    with pytest.raises(KeyError):
        m.set(1, 1, bm.UpdateFlags.EXIST)
    m[1] = 1
    m.set(1, 2, bm.UpdateFlags.EXIST)
    assert m[1] == 2


def test_set_lock_without_spin_lock_is_einval(m):
    with pytest.raises(bm.BpfError) as exc:
        m.set(1, 1, bm.UpdateFlags.LOCK)
    assert exc.value.errno == errno.EINVAL


def test_set_flags_of_wrong_type_is_type_error(m):
    with pytest.raises(TypeError):
        m.set(1, 1, "NOEXIST")
    with pytest.raises(TypeError):
        m.set(1, 1, 1.0)
    assert len(m) == 0


# ------------------------------------------------------- delete_many / pop_all

def test_delete_many_skips_missing_and_counts(m):
    m.update({i: i for i in range(10)})
    assert m.delete_many([1, 100, 2, 200, 3]) == 3
    assert sorted(m) == [0, 4, 5, 6, 7, 8, 9]


def test_delete_many_all_missing(m):
    m[1] = 1
    assert m.delete_many([5, 6]) == 0
    assert len(m) == 1


def test_delete_many_empty(m):
    assert m.delete_many([]) == 0


def test_delete_many_with_duplicates(m):
    m.update({1: 1, 2: 2})
    assert m.delete_many([1, 1, 2]) == 2
    assert len(m) == 0


def test_delete_many_from_generator(m):
    m.update({i: i for i in range(5)})
    assert m.delete_many(k for k in range(3)) == 3
    assert sorted(m) == [3, 4]


def test_delete_many_bad_key_deletes_nothing(m):
    m.update({1: 1, 2: 2})
    with pytest.raises(TypeError):
        m.delete_many([1, "x"])
    assert len(m) == 2


def test_pop_all_returns_dict_and_empties(m):
    ref = {i: i * 7 for i in range(25)}
    m.update(ref)
    assert m.pop_all() == ref
    assert len(m) == 0


def test_pop_all_of_empty_map(m):
    assert m.pop_all() == {}


# ------------------------------------------------------------------ full maps

def full_map(make_map, batch):
    m = make_map(max_entries=4, batch=batch)
    for i in range(4):
        m[i] = i
    return m


def test_setitem_new_key_in_full_map_is_map_full_error(make_map, batch):
    m = full_map(make_map, batch)
    with pytest.raises(bm.MapFullError) as exc:
        m[10] = 10
    assert isinstance(exc.value, bm.BpfError)
    assert exc.value.errno == errno.E2BIG
    assert 10 not in m


def test_insert_new_key_in_full_map_is_map_full_error(make_map, batch):
    m = full_map(make_map, batch)
    with pytest.raises(bm.MapFullError):
        m.insert(10, 10)


def test_updating_existing_key_in_full_map_works(make_map, batch):
    m = full_map(make_map, batch)
    m[2] = 200
    m.replace(3, 300)
    m.set(1, 100, bm.UpdateFlags.ANY)
    assert dict(m.items()) == {0: 0, 1: 100, 2: 200, 3: 300}


def test_insert_existing_key_in_full_map_is_key_exists(make_map, batch):
    m = full_map(make_map, batch)
    with pytest.raises(bm.KeyExistsError):
        m.insert(0, 1)


def test_update_overflowing_is_map_full_error(make_map, batch):
    m = make_map(max_entries=4, batch=batch)
    with pytest.raises(bm.MapFullError):
        m.update({i: i for i in range(6)})
    assert len(m) == 4
    assert set(m) <= set(range(6))


def test_full_map_has_room_after_delete(make_map, batch):
    m = full_map(make_map, batch)
    del m[0]
    m[10] = 10
    assert sorted(m) == [1, 2, 3, 10]


def test_full_no_prealloc_map(make_map):
    m = make_map(max_entries=2, flags=bm.MapFlags.NO_PREALLOC)
    m[1] = 1
    m[2] = 2
    with pytest.raises(bm.MapFullError):
        m[3] = 3
    m[2] = 20
    assert m[2] == 20


# ------------------------------------------------------------------ LRU

def test_lru_evicts_instead_of_raising(make_map, batch):
    m = make_map(max_entries=8, cls=bm.LruHashMap, batch=batch)
    for i in range(50):
        m[i] = i
    assert 0 < len(m) <= 8
    assert all(m[k] == k for k in m)


def test_lru_insert_on_full_map_evicts(make_map):
    m = make_map(max_entries=4, cls=bm.LruHashMap)
    for i in range(4):
        m[i] = i
    m.insert(100, 100)
    assert m[100] == 100
    assert len(m) <= 4


def test_lru_update_many(make_map, batch):
    m = make_map(max_entries=16, cls=bm.LruHashMap, batch=batch)
    m.update({i: i for i in range(100)})
    assert 0 < len(m) <= 16


def test_lru_insert_existing_is_key_exists(make_map):
    m = make_map(max_entries=8, cls=bm.LruHashMap)
    m[1] = 1
    with pytest.raises(bm.KeyExistsError):
        m.insert(1, 2)


def test_lru_replace_missing_is_key_error(make_map):
    m = make_map(max_entries=8, cls=bm.LruHashMap)
    with pytest.raises(KeyError):
        m.replace(1, 2)


# ------------------------------------------------------------ typed values

def test_char_array_value_round_trip_str_and_bytes(make_map):
    m = make_map(value="char[16]")
    m[1] = "hello"
    m[2] = b"world"
    m[3] = "x" * 16
    assert m[1] == b"hello"
    assert m[2] == b"world"
    assert m[3] == b"x" * 16


def test_char_array_strips_trailing_nuls_only(make_map):
    m = make_map(value="char[8]")
    m[1] = b"a\0b\0\0"
    assert m[1] == b"a\0b"
    m[2] = b""
    assert m[2] == b""


def test_char_array_utf8(make_map):
    m = make_map(value="char[8]")
    m[1] = "é"
    assert m[1] == "é".encode()


def test_char_array_too_long_is_value_error(make_map):
    m = make_map(value="char[4]")
    m[1] = b"old"
    with pytest.raises(ValueError):
        m[1] = b"12345"
    with pytest.raises(ValueError):
        m[1] = "éèà"  # 6 bytes in utf-8
    assert m[1] == b"old"


def test_char_array_wrong_type_is_type_error(make_map):
    m = make_map(value="char[4]")
    with pytest.raises(TypeError):
        m[1] = 5
    assert 1 not in m


def test_char_array_key(make_map):
    m = make_map(key="char[16]", value="__u32")
    m["eth0"] = 1
    assert m[b"eth0"] == 1
    assert m["eth0"] == 1
    assert list(m) == [b"eth0"]


def test_u16_array_value_is_tuple(make_map):
    m = make_map(value="__u16[4]")
    m[1] = [1, 2, 3, 4]
    assert m[1] == (1, 2, 3, 4)
    assert isinstance(m[1], tuple)
    m[2] = range(4)
    assert m[2] == (0, 1, 2, 3)


def test_u16_array_wrong_length_is_value_error(make_map):
    m = make_map(value="__u16[4]")
    with pytest.raises(ValueError):
        m[1] = (1, 2, 3)
    with pytest.raises(ValueError):
        m[1] = (1, 2, 3, 4, 5)
    assert 1 not in m


def test_u16_array_element_out_of_range(make_map):
    m = make_map(value="__u16[4]")
    with pytest.raises(OverflowError):
        m[1] = (1, 2, 3, 65536)
    assert 1 not in m


def test_u16_array_wrong_type_is_type_error(make_map):
    m = make_map(value="__u16[4]")
    with pytest.raises(TypeError):
        m[1] = 5
    with pytest.raises(TypeError):
        m[1] = "abcd"


def test_bool_value(make_map):
    m = make_map(value="_Bool")
    m[1] = True
    m[2] = False
    m[3] = 1
    assert m[1] is True
    assert m[2] is False
    assert m[3] is True


def test_bool_value_rejects_other_ints(make_map):
    m = make_map(value="_Bool")
    with pytest.raises(ValueError):
        m[1] = 2
    with pytest.raises(TypeError):
        m[1] = "yes"
    assert 1 not in m


def test_signed_int_negative(make_map):
    m = make_map(key="int", value="int")
    m[-1] = -2147483648
    assert m[-1] == -2147483648
    m[-2] = 2147483647
    assert m[-2] == 2147483647
    assert sorted(m) == [-2, -1]


def test_double_value(make_map):
    m = make_map(value="double")
    m[1] = 1.5
    m[2] = 3
    m[3] = float("inf")
    assert m[1] == 1.5
    assert m[2] == 3.0 and isinstance(m[2], float)
    assert m[3] == float("inf")


def test_double_rejects_str(make_map):
    m = make_map(value="double")
    with pytest.raises(TypeError):
        m[1] = "1.5"


@pytest.mark.parametrize("key, value", [(-1, 0), (2**32, 0), (0, -1), (0, 2**64)])
def test_out_of_range_ints_are_overflow_error_and_leave_map_unchanged(make_map, key, value):
    m = make_map(key="__u32", value="__u64")
    m[0] = 5
    with pytest.raises(OverflowError):
        m[key] = value
    assert dict(m.items()) == {0: 5}


def test_signed_out_of_range(make_map):
    m = make_map(key="__s8", value="__s16")
    with pytest.raises(OverflowError):
        m[128] = 0
    with pytest.raises(OverflowError):
        m[0] = -32769
    m[-128] = -32768
    assert m[-128] == -32768


def test_lookup_with_out_of_range_key_is_overflow_error(make_map):
    m = make_map()
    with pytest.raises(OverflowError):
        m[-1]
    with pytest.raises(OverflowError):
        -1 in m


@pytest.mark.parametrize("key", ["1", 1.0, None, b"\1\0\0\0"])
def test_wrong_key_type_is_type_error(make_map, key):
    m = make_map()
    with pytest.raises(TypeError):
        m[key] = 1
    with pytest.raises(TypeError):
        m[key]
    assert len(m) == 0


@pytest.mark.parametrize("value", ["1", 1.0, None, [1]])
def test_wrong_value_type_is_type_error(make_map, value):
    m = make_map()
    with pytest.raises(TypeError):
        m[1] = value
    assert len(m) == 0


def test_raw_byte_keys(make_map, batch):
    m = make_map(key=6, value=3, batch=batch)
    m[b"\x00\x11\x22\x33\x44\x55"] = b"abc"
    m[bytearray(b"zzzzzz")] = memoryview(b"def")
    assert dict(m.items()) == {b"\x00\x11\x22\x33\x44\x55": b"abc", b"zzzzzz": b"def"}


@pytest.mark.parametrize("key", [b"12345", b"1234567", b""])
def test_raw_key_of_wrong_length_is_value_error(make_map, key):
    m = make_map(key=6, value=3)
    with pytest.raises(ValueError):
        m[key] = b"abc"
    with pytest.raises(ValueError):
        m[key]
    assert len(m) == 0


def test_raw_value_of_wrong_length_is_value_error(make_map):
    m = make_map(key=6, value=3)
    with pytest.raises(ValueError):
        m[b"123456"] = b"ab"


def test_raw_key_str_is_type_error(make_map):
    m = make_map(key=6, value=3)
    with pytest.raises(TypeError):
        m["123456"] = b"abc"


# ------------------------------------------------- batch vs GET_NEXT_KEY paths

SIZES = [0, 1, 5000]


@pytest.fixture
def pair(make_map):
    """Two identical maps: one on the batch path, one on GET_NEXT_KEY."""
    def make(n, max_entries=6000, **kw):
        a = make_map(max_entries=max_entries, batch=True, **kw)
        b = make_map(max_entries=max_entries, batch=False, **kw)
        ref = {i * 7919 % 100003: i * 3 for i in range(n)}
        a.update(ref)
        b.update(ref)
        assert a._use_batch and not b._use_batch
        return a, b, ref
    return make


@pytest.mark.parametrize("n", SIZES)
def test_paths_agree_on_items_keys_values_len(pair, n):
    a, b, ref = pair(n)
    for m in (a, b):
        assert dict(m.items()) == ref
        assert len(list(m.items())) == n
        assert sorted(m.keys()) == sorted(ref)
        assert sorted(m.values()) == sorted(ref.values())
        assert len(m) == n
    assert a._use_batch and not b._use_batch


@pytest.mark.parametrize("n", SIZES)
def test_paths_agree_on_clear(pair, n):
    a, b, _ = pair(n)
    a.clear()
    b.clear()
    assert len(a) == len(b) == 0


@pytest.mark.parametrize("n", SIZES)
def test_paths_agree_on_pop_all(pair, n):
    a, b, ref = pair(n)
    assert a.pop_all() == ref
    assert b.pop_all() == ref
    assert len(a) == len(b) == 0


@pytest.mark.parametrize("n", SIZES)
def test_paths_agree_on_delete_many(pair, n):
    a, b, ref = pair(n)
    doomed = list(ref)[::2] + [100004, 100005]
    expected = len(list(ref)[::2])
    assert a.delete_many(doomed) == expected
    assert b.delete_many(doomed) == expected
    left = {k: v for k, v in ref.items() if k not in set(doomed)}
    assert dict(a.items()) == dict(b.items()) == left


def test_paths_agree_on_update_overwrite(pair):
    a, b, ref = pair(5000)
    new = {k: v + 1 for k, v in ref.items()}
    new.update({200000 + i: i for i in range(900)})
    a.update(new)
    b.update(new)
    assert dict(a.items()) == dict(b.items()) == new


def test_paths_agree_on_update_that_fills_the_map(make_map):
    a = make_map(max_entries=5000, batch=True)
    b = make_map(max_entries=5000, batch=False)
    pairs = [(i, i) for i in range(5100)]
    for m in (a, b):
        with pytest.raises(bm.MapFullError):
            m.update(pairs)
    assert dict(a.items()) == dict(b.items())
    assert len(a) == 5000


def test_paths_agree_on_delete_many_with_missing_keys_across_chunks(pair):
    a, b, ref = pair(5000)
    keys = list(ref)
    doomed = []
    for i, k in enumerate(keys):
        doomed.append(k)
        if i % 1000 == 0:
            doomed.append(999999)  # missing, in several chunks
    assert a.delete_many(doomed) == b.delete_many(doomed) == 5000
    assert len(a) == len(b) == 0


def test_paths_agree_for_lru(pair):
    a, b, ref = pair(3000, max_entries=6000, cls=bm.LruHashMap)
    assert dict(a.items()) == dict(b.items())
    assert a.pop_all() == b.pop_all()


def test_huge_bucket_forces_batch_retry(make_map, monkeypatch):
    # One batch syscall returns whole buckets; a bucket bigger than the
    # batch makes the kernel answer ENOSPC and the library must grow it.
    monkeypatch.setattr(map_base, "BATCH_ENTRIES", 1)
    m = make_map(max_entries=2000, flags=bm.MapFlags.ZERO_SEED)
    ref = {i: i for i in range(2000)}
    m.update(ref)
    assert m._use_batch
    assert dict(m.items()) == ref
    assert len(m) == 2000
    assert m.pop_all() == ref
    assert len(m) == 0


def test_iteration_of_map_with_many_keys_per_bucket(make_map):
    # key_size of 1: at most 256 keys spread over max_entries buckets;
    # with max_entries=256 and one batch, buckets hold several keys.
    m = make_map(key="__u8", value="__u8", max_entries=256)
    ref = {i: 255 - i for i in range(256)}
    m.update(ref)
    assert dict(m.items()) == ref


def test_deleting_each_key_while_iterating(make_map, batch):
    m = make_map(max_entries=500, batch=batch)
    ref = {i: i for i in range(500)}
    m.update(ref)
    seen = []
    for k in m:
        seen.append(k)
        del m[k]
    assert sorted(seen) == sorted(ref)
    assert len(m) == 0


def test_batch_path_stays_enabled_for_hash(make_map):
    m = make_map(max_entries=8)
    m.update({1: 1})
    dict(m.items())
    assert m._use_batch
