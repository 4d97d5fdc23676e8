"""pybpfmap: eBPF maps that feel like Python.

    import pybpfmap as bm
    counts = bm.HashMap.create(key="__u32", value="__u64", max_entries=1024)
    counts[1] = 10
    dict(counts.items())
"""
from ._version import __version__
from ._ffi import libbpf_version
from . import _log, btf  # noqa: F401 - _log installs the libbpf print callback
from .enums import MapFlags, MapType, UpdateFlags
from .errors import (BpfError, BpfPermissionError, KeyExistsError, LoadError,
                     MapFullError)
from .maps import (ArrayMap, ArrayOfMaps, HashMap, HashOfMaps, LruHashMap, LruPerCpuHashMap, Map, MapInfo,
                   PerCpuArrayMap, PerCpuHashMap, maps, possible_cpus)
from .maps import LpmTrieMap, QueueMap, StackMap, BloomFilterMap, ProgArrayMap, StackTraceMap
from .maps import SkStorageMap, TaskStorageMap, InodeStorageMap, CgroupStorageMap
from .maps import (CgroupArrayMap, CpuMap, CpumapValue, DevMap, DevMapHash, DevmapValue,
                   ReuseportSockArray, SockHash, SockMap, XskMap)
from .object import BpfObject, Link, MapSpec, Program, TestRun, load

__all__ = [
    "__version__", "libbpf_version", "btf",
    "MapType", "MapFlags", "UpdateFlags",
    "BpfError", "BpfPermissionError", "KeyExistsError", "LoadError", "MapFullError",
    "Map", "MapInfo", "maps", "possible_cpus",
    "HashMap", "LruHashMap", "PerCpuHashMap", "LruPerCpuHashMap",
    "ArrayMap", "PerCpuArrayMap", "ArrayOfMaps", "HashOfMaps",
    "BpfObject", "MapSpec", "Program", "Link", "TestRun", "load",
]
__all__ += ["LpmTrieMap", "QueueMap", "StackMap", "BloomFilterMap", "ProgArrayMap", "StackTraceMap",
            "SkStorageMap", "TaskStorageMap", "InodeStorageMap", "CgroupStorageMap",
            "DevMap", "DevMapHash", "DevmapValue", "CpuMap", "CpumapValue", "XskMap",
            "SockMap", "SockHash", "ReuseportSockArray", "CgroupArrayMap"]
from .maps import RingBuf, UserRingBuf
__all__ += ["RingBuf", "UserRingBuf"]
from .maps import PerfEventArray
__all__ += ["PerfEventArray"]
from .maps import ArenaMap, MmapArrayMap
__all__ += ["ArenaMap", "MmapArrayMap"]
from . import hist, programs
__all__ += ["hist", "programs"]
