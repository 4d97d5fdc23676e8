"""The map classes, one module per family.

Importing a module registers its classes for their map types (see
``Map._registry``), so ``Map.create``/``from_*`` return the right class.
"""
from .base import Map, MapInfo, maps, possible_cpus
from .hash import HashMap, LruHashMap
from .array import ArrayMap
from .percpu import PerCpuHashMap, LruPerCpuHashMap, PerCpuArrayMap
from .mmap import ArenaMap, MmapArrayMap
from .of_maps import ArrayOfMaps, HashOfMaps
from .lpm import LpmTrieMap
from .queue import QueueMap, StackMap
from .bloom import BloomFilterMap
from .prog_array import ProgArrayMap
from .stack_trace import StackTraceMap
from .storage import SkStorageMap, TaskStorageMap, InodeStorageMap, CgroupStorageMap
from .net import (CgroupArrayMap, CpuMap, CpumapValue, DevMap, DevMapHash, DevmapValue,
                  ReuseportSockArray, SockHash, SockMap, XskMap)
from .ringbuf import RingBuf, UserRingBuf
from .perf import PerfEventArray

__all__ = [
    "Map", "MapInfo", "maps", "possible_cpus",
    "HashMap", "LruHashMap", "PerCpuHashMap", "LruPerCpuHashMap",
    "ArrayMap", "PerCpuArrayMap", "MmapArrayMap", "ArenaMap", "ArrayOfMaps", "HashOfMaps",
    "LpmTrieMap", "QueueMap", "StackMap", "BloomFilterMap", "ProgArrayMap", "StackTraceMap",
    "SkStorageMap", "TaskStorageMap", "InodeStorageMap", "CgroupStorageMap",
    "DevMap", "DevMapHash", "DevmapValue", "CpuMap", "CpumapValue", "XskMap",
    "SockMap", "SockHash", "ReuseportSockArray", "CgroupArrayMap",
    "RingBuf", "UserRingBuf", "PerfEventArray",
]
