"""Maps of maps created from Python: values are Maps in, Maps out."""
import pytest

import pybpfmap as bm


@pytest.fixture
def template():
    with bm.ArrayMap.create(value="__u32", max_entries=2) as t:
        yield t


@pytest.fixture
def inner():
    with bm.ArrayMap.create(value="__u32", max_entries=2) as a:
        a[1] = 42
        yield a


def test_array_of_maps_slots(template, inner):
    with bm.ArrayOfMaps.create(max_entries=4, inner_map=template) as outer:
        assert isinstance(outer, bm.ArrayOfMaps)
        assert dict(outer) == {}
        outer[2] = inner
        got = outer[2]
        assert isinstance(got, bm.ArrayMap) and got.id == inner.id and got[1] == 42
        got.close()
        outer[0] = inner.fd  # an fd works too
        assert sorted(outer) == [0, 2]
        del outer[0]
        with pytest.raises(KeyError):
            outer[0]
        with pytest.raises(IndexError):
            outer[4] = inner
        with pytest.raises(TypeError):
            outer[1] = "not a map"


def test_array_of_maps_removal_is_lookup_then_delete(template, inner):
    """The kernel has no lookup-and-delete for ARRAY_OF_MAPS (524):
    pop, pop_all and clear still work."""
    with bm.ArrayOfMaps.create(max_entries=4, inner_map=template) as outer:
        outer[1] = inner
        assert outer.pop(1).id == inner.id
        assert outer.pop(1, None) is None
        outer[0] = inner
        outer[3] = inner
        assert sorted(outer.pop_all()) == [0, 3]
        outer[2] = inner
        outer.clear()
        assert len(outer) == 0


def test_hash_of_maps(template, inner):
    with bm.HashOfMaps.create(key="__u64", max_entries=4, inner_map=template) as outer:
        outer[7] = inner
        assert list(outer) == [7]
        assert outer.pop(7).id == inner.id
        with pytest.raises(KeyError):
            outer[7]


def test_inner_map_must_match_the_template(template):
    with bm.HashOfMaps.create(key="__u32", max_entries=4, inner_map=template) as outer:
        with bm.HashMap.create(key="__u32", value="__u32", max_entries=2) as other:
            with pytest.raises(bm.BpfError, match="template"):
                outer[1] = other


def test_create_needs_a_template():
    with pytest.raises(TypeError, match="inner_map"):
        bm.ArrayOfMaps.create(max_entries=4)
