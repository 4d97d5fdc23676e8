"""pybpfmap.testing.MapModel on real maps: HASH (small, struct values),
LRU_HASH, ARRAY, PERCPU_HASH and PERCPU_ARRAY; and what it catches."""
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.errors import Flaky

import pybpfmap as bm
from pybpfmap.testing import MapModel

RUNS = settings(max_examples=25, stateful_step_count=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class SmallHash(MapModel):
    def make_map(self):
        return bm.HashMap.create(key="__u8", value="struct v { __u32 n; char tag[4]; __u8 f:3; }",
                                 max_entries=6)


class StructKeyHash(MapModel):
    def make_map(self):
        return bm.HashMap.create(key="struct k { __u16 port; _Bool udp; }", value="__s64",
                                 max_entries=4, flags=bm.MapFlags.NO_PREALLOC)


class Lru(MapModel):
    def make_map(self):
        return bm.LruHashMap.create(key="__u8", value="__u32", max_entries=8)


class Array(MapModel):
    def make_map(self):
        return bm.ArrayMap.create(value="struct a { __u16 x; enum e { P, Q } e; }",
                                  max_entries=5)


class PerCpuHash(MapModel):
    def make_map(self):
        return bm.PerCpuHashMap.create(key="__u8", value="__u32", max_entries=5)


class PerCpuArray(MapModel):
    def make_map(self):
        return bm.PerCpuArrayMap.create(value="__u64", max_entries=3)


TestSmallHash = SmallHash.TestCase
TestStructKeyHash = StructKeyHash.TestCase
TestLru = Lru.TestCase
TestArray = Array.TestCase
TestPerCpuHash = PerCpuHash.TestCase
TestPerCpuArray = PerCpuArray.TestCase
for case in (TestSmallHash, TestStructKeyHash, TestLru, TestArray, TestPerCpuHash,
             TestPerCpuArray):
    case.settings = RUNS


def test_make_map_is_required():
    with pytest.raises(NotImplementedError, match="make_map"):
        MapModel()


def test_unsupported_map_type():
    class Queue(MapModel):
        def make_map(self):
            return bm.QueueMap.create(value="__u32", max_entries=4)
    with pytest.raises(TypeError, match="QUEUE"):
        Queue()


def test_model_catches_a_wrong_map():
    """A map whose insert() overwrites (BPF_ANY instead of NOEXIST) is caught."""
    class Broken(bm.HashMap):
        def insert(self, key, value):
            self.set(key, value)

    class BrokenModel(MapModel):
        def make_map(self):
            m = bm.HashMap.create(key="__u8", value="__u8", max_entries=8)
            m.__class__ = Broken
            return m

    case = BrokenModel.TestCase
    case.settings = settings(max_examples=100, stateful_step_count=20, deadline=None,
                             database=None)
    with pytest.raises((AssertionError, Flaky)):
        case("runTest").runTest()
