"""The map classes, one module per family."""
from .base import Map, MapInfo, maps, possible_cpus
from .hash import HashMap, LruHashMap
from .array import ArrayMap
from .percpu import PerCpuHashMap, LruPerCpuHashMap, PerCpuArrayMap
from .of_maps import ArrayOfMaps, HashOfMaps

__all__ = ["Map", "MapInfo", "maps", "possible_cpus", "HashMap", "LruHashMap",
           "ArrayMap", "PerCpuHashMap", "LruPerCpuHashMap", "PerCpuArrayMap",
           "ArrayOfMaps", "HashOfMaps"]
from .lpm import LpmTrieMap
__all__ += ["LpmTrieMap"]
from .queue import QueueMap, StackMap
from .bloom import BloomFilterMap
__all__ += ["QueueMap", "StackMap", "BloomFilterMap"]
from .prog_array import ProgArrayMap
__all__ += ["ProgArrayMap"]
from .stack_trace import StackTraceMap
__all__ += ["StackTraceMap"]
from .ringbuf import RingBuf, UserRingBuf
__all__ += ["RingBuf", "UserRingBuf"]
from .perf import PerfEventArray
__all__ += ["PerfEventArray"]
from .mmap import ArenaMap, MmapArrayMap
__all__ += ["ArenaMap", "MmapArrayMap"]
from .storage import SkStorageMap, TaskStorageMap, InodeStorageMap, CgroupStorageMap
__all__ += ["SkStorageMap", "TaskStorageMap", "InodeStorageMap", "CgroupStorageMap"]
from .net import (CgroupArrayMap, CpuMap, CpumapValue, DevMap, DevMapHash, DevmapValue,
                  ReuseportSockArray, SockHash, SockMap, XskMap)
__all__ += ["DevMap", "DevMapHash", "DevmapValue", "CpuMap", "CpumapValue", "XskMap",
            "SockMap", "SockHash", "ReuseportSockArray", "CgroupArrayMap"]
