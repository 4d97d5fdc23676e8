"""Per-CPU maps: every value is a tuple with one entry per possible CPU.

Reading gives a tuple of ``bm.possible_cpus()`` values; writing accepts such
a sequence, or one value that is written to every CPU.
"""
from ..enums import MapType
from .array import ArrayMap
from .hash import HashMap

__all__ = ["PerCpuHashMap", "LruPerCpuHashMap", "PerCpuArrayMap"]


class PerCpuHashMap(HashMap):
    """PERCPU_HASH: a ``MutableMapping`` whose values are per-CPU tuples."""

    _map_types = (MapType.PERCPU_HASH,)
    _default_type = MapType.PERCPU_HASH


class LruPerCpuHashMap(PerCpuHashMap):
    """LRU_PERCPU_HASH: per-CPU values, LRU eviction when full."""

    _map_types = (MapType.LRU_PERCPU_HASH,)
    _default_type = MapType.LRU_PERCPU_HASH


class PerCpuArrayMap(ArrayMap):
    """PERCPU_ARRAY: a fixed-length sequence of per-CPU tuples."""

    _map_types = (MapType.PERCPU_ARRAY,)
    _default_type = MapType.PERCPU_ARRAY
