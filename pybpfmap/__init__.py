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
from .maps import (
    # the core classes
    Map, MapInfo, maps, possible_cpus,
    HashMap, LruHashMap, PerCpuHashMap, LruPerCpuHashMap,
    ArrayMap, PerCpuArrayMap, MmapArrayMap, ArrayOfMaps, HashOfMaps,
    # every other map family
    LpmTrieMap, QueueMap, StackMap, BloomFilterMap, ProgArrayMap, StackTraceMap,
    SkStorageMap, TaskStorageMap, InodeStorageMap, CgroupStorageMap,
    DevMap, DevMapHash, DevmapValue, CpuMap, CpumapValue, XskMap,
    SockMap, SockHash, ReuseportSockArray, CgroupArrayMap,
    RingBuf, UserRingBuf, PerfEventArray, ArenaMap,
)
from .object import BpfObject, Link, MapSpec, Program, TestRun, load
from . import hist, programs

__all__ = [
    "__version__", "libbpf_version", "btf", "hist", "programs",
    "MapType", "MapFlags", "UpdateFlags",
    "BpfError", "BpfPermissionError", "KeyExistsError", "LoadError", "MapFullError",
    "Map", "MapInfo", "maps", "possible_cpus",
    "HashMap", "LruHashMap", "PerCpuHashMap", "LruPerCpuHashMap",
    "ArrayMap", "PerCpuArrayMap", "MmapArrayMap", "ArrayOfMaps", "HashOfMaps",
    "LpmTrieMap", "QueueMap", "StackMap", "BloomFilterMap", "ProgArrayMap", "StackTraceMap",
    "SkStorageMap", "TaskStorageMap", "InodeStorageMap", "CgroupStorageMap",
    "DevMap", "DevMapHash", "DevmapValue", "CpuMap", "CpumapValue", "XskMap",
    "SockMap", "SockHash", "ReuseportSockArray", "CgroupArrayMap",
    "RingBuf", "UserRingBuf", "PerfEventArray", "ArenaMap",
    "BpfObject", "MapSpec", "Program", "Link", "TestRun", "load",
]
