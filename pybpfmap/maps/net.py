"""Redirect and socket maps: DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP, SOCKMAP,
SOCKHASH, REUSEPORT_SOCKARRAY and CGROUP_ARRAY.

Their values name kernel objects: a network device (ifindex, or its name),
a CPU's queue size, a socket, a cgroup.  What can be read back is what the
kernel gives: the ifindex or queue size (and the id of an attached
program), a socket's cookie (``SO_COOKIE``); XSKMAP and CGROUP_ARRAY
slots cannot be read from user space at all (``TypeError``).
"""
import collections
import errno
import os
import socket
import struct

from ..btf.codec import Codec
from ..enums import MapFlags, MapType, UpdateFlags
from ._fds import FdCodec, as_fd
from .base import Map
from .hash import HashMap
from .hash import _SlotArray

__all__ = ["DevMap", "DevMapHash", "DevmapValue", "CpuMap", "CpumapValue", "XskMap",
           "SockMap", "SockHash", "ReuseportSockArray", "CgroupArrayMap"]

#: ``struct bpf_devmap_val``: a device and the id of the program run on it
#: (0 for none).  Write ``prog`` as a ``bm.Program`` (section ``xdp/devmap``)
#: or program fd; ``ifindex`` as an int or an interface name.
DevmapValue = collections.namedtuple("DevmapValue", "ifindex prog", defaults=(None,))
#: ``struct bpf_cpumap_val``: the queue size, and the id of the program run on
#: that CPU (write a ``bm.Program`` of section ``xdp/cpumap``, or its fd).
CpumapValue = collections.namedtuple("CpumapValue", "qsize prog", defaults=(None,))

_VAL = struct.Struct("=II")
_U32 = struct.Struct("=I")


def _ifindex(dev):
    """An ifindex from an int or an interface name."""
    if isinstance(dev, str):
        try:
            return socket.if_nametoindex(dev)
        except OSError:
            raise ValueError(f"there is no network interface {dev!r}") from None
    if isinstance(dev, bool) or not isinstance(dev, int):
        raise TypeError(f"a device is an ifindex or an interface name, not {type(dev).__name__}")
    if not 0 <= dev < 1 << 32:
        raise ValueError(f"{dev} is not an ifindex")
    return dev


def _qsize(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a CPU map queue size is an int, not {type(n).__name__}")
    if not 0 <= n < 1 << 32:
        raise ValueError(f"queue size {n} is out of range")
    return n


class _RedirectCodec(Codec):
    """DEVMAP/CPUMAP values: a plain ``__u32`` (ifindex or queue size), or with
    8 bytes a ``(that, program)`` pair written with a program fd and read
    with its id."""

    def __init__(self, size, record, first):
        self.size = size
        self.record = record
        self.first = first

    def describe(self):
        return self.record.__name__ if self.size == 8 else self.record._fields[0]

    def decode(self, buf, offset=0):
        if self.size == 8:
            return self.record(*_VAL.unpack_from(buf, offset))
        return _U32.unpack_from(buf, offset)[0]

    def pack_into(self, buf, offset, value):
        if isinstance(value, dict):
            value = self.record(**value)
        if isinstance(value, tuple):
            if self.size != 8:
                raise TypeError(f"this map's values are plain {self.record._fields[0]}s; "
                                f"create it with programs=True to attach programs")
            first, prog = self.record(*value)
        else:
            first, prog = value, None
        first = self.first(first)
        fd = 0 if prog is None else as_fd(prog, "a program")
        if self.size == 8:
            _VAL.pack_into(buf, offset, first, fd)
        else:
            _U32.pack_into(buf, offset, first)


class _RedirectMap:
    """Shared create() of DEVMAP/DEVMAP_HASH/CPUMAP."""

    _record = _first = None

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, key_type, None, **kwargs)
        self._vc = _RedirectCodec(info.value_size, self._record, self._first)

    @classmethod
    def create(cls, max_entries=None, programs=False, name=None, flags=MapFlags(0),
               numa_node=None):
        """Create an empty map of ``max_entries`` entries.  With
        ``programs=True`` its values are ``DevmapValue``/``CpumapValue``
        records that can attach a program (Linux 5.8/5.9+); else plain
        ints."""
        return Map.create(cls._default_type, 4, 8 if programs else 4, max_entries, name=name,
                          flags=flags, numa_node=numa_node)


class DevMap(_RedirectMap, _SlotArray):
    """DEVMAP: slots of network devices for ``bpf_redirect_map()``.

    ``m[i] = ifindex`` (or ``"eth0"``); with 8-byte values
    ``m[i] = DevmapValue("eth0", prog)``.  Reads give the ifindex (or a
    ``DevmapValue`` with the program id).  A device that does not exist in
    this network namespace: ``BpfError`` (EINVAL).  Assigning ifindex 0
    empties the slot, as the kernel does; ``del`` of an empty slot is not
    an error (the kernel reports success).  Linux 4.14+.
    """

    _map_types = (MapType.DEVMAP,)
    _default_type = MapType.DEVMAP
    _kind = "device map"
    _record, _first = DevmapValue, staticmethod(_ifindex)


class DevMapHash(_RedirectMap, HashMap):
    """DEVMAP_HASH: like :class:`DevMap`, keyed by any ``__u32`` (usually
    the ifindex itself) instead of slots.  Linux 5.4+."""

    _map_types = (MapType.DEVMAP_HASH,)
    _default_type = MapType.DEVMAP_HASH
    _index_keys = True
    _record, _first = DevmapValue, staticmethod(_ifindex)


class CpuMap(_RedirectMap, _SlotArray):
    """CPUMAP: one slot per CPU for ``bpf_redirect_map()``; the value is
    the size of that CPU's queue (or a ``CpumapValue`` with a program).

    A queue size of 0 empties the slot, as the kernel does; a CPU that is
    not possible here raises ``BpfError`` (ENODEV), an oversized queue
    ``BpfError`` (EOVERFLOW).  Linux 4.15+.
    """

    _map_types = (MapType.CPUMAP,)
    _default_type = MapType.CPUMAP
    _kind = "CPU map"
    _record, _first = CpumapValue, staticmethod(_qsize)


class _WriteOnlySlots(_SlotArray):
    """Slots the kernel fills from user space but never shows back:
    ``m[i] = obj`` and ``del m[i]`` only."""

    _verb = "read"

    def _refuse(self, *args, **kwargs):
        raise TypeError(f"the kernel does not let user space {self._verb} a "
                        f"{self.type.name} map's slots; it can only set and delete them")

    lookup = lookup_and_delete = pop = popitem = pop_all = setdefault = _refuse
    __iter__ = __len__ = __bool__ = __contains__ = keys = items = values = _refuse
    clear = _refuse
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, key_type, None, **kwargs)
        self._vc = FdCodec(4, self._value_what)

    @classmethod
    def create(cls, max_entries=None, name=None, flags=MapFlags(0), numa_node=None):
        """Create a map of ``max_entries`` empty slots."""
        return Map.create(cls._default_type, 4, 4, max_entries, name=name, flags=flags,
                          numa_node=numa_node)


class XskMap(_WriteOnlySlots):
    """XSKMAP: AF_XDP sockets per receive queue for ``bpf_redirect_map()``.

    ``m[queue] = xsk_socket`` (the socket object or fd; any other socket:
    ``BpfError`` EOPNOTSUPP), ``del m[queue]``.  The kernel refuses reads
    from user space (``TypeError``).  Linux 4.18+.
    """

    _map_types = (MapType.XSKMAP,)
    _default_type = MapType.XSKMAP
    _kind = "XSK map"
    _value_what = "an AF_XDP socket"


class CgroupArrayMap(_WriteOnlySlots):
    """CGROUP_ARRAY: cgroups for ``bpf_current_task_under_cgroup()`` and
    ``bpf_skb_under_cgroup()``.

    ``m[i] = cgroup`` takes a cgroup v2 directory fd, an open directory, or
    its path; ``del m[i]`` empties the slot (``KeyError`` when empty).
    Slots are set with BPF_ANY only; reads are refused by the kernel
    (``TypeError``).  Linux 4.8+.
    """

    _map_types = (MapType.CGROUP_ARRAY,)
    _default_type = MapType.CGROUP_ARRAY
    _kind = "cgroup array"
    _value_what = "a cgroup directory fd"

    def set(self, key, value, flags=UpdateFlags.ANY):
        """Put cgroup ``value`` (fd, open directory or path) in slot ``key``."""
        if not isinstance(value, (str, bytes, os.PathLike)):
            return super().set(key, value, flags)
        self._check_index(key)
        fd = os.open(value, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return super().set(key, fd, flags)
        finally:
            os.close(fd)

    def insert(self, key, value):
        raise TypeError("cgroup array slots are set with BPF_ANY only; use m[i] = cgroup")

    replace = insert


class _SocketValues:
    """Values that go in as sockets and come out as socket cookies."""

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, key_type, None, **kwargs)
        self._vc = FdCodec(info.value_size if info.value_size in (4, 8) else 8,
                           "a socket (or socket fd)")


class SockMap(_SocketValues, _SlotArray):
    """SOCKMAP: slots of sockets for sk_msg/sk_skb redirects.

    ``m[i] = sock`` takes a socket object or fd: a listening or connected
    TCP socket, a bound UDP socket, a connected unix socket (others:
    ``BpfError`` EOPNOTSUPP).  ``m[i]`` reads the socket's cookie
    (``SO_COOKIE``), which needs 8-byte values (maps from objects with
    4-byte values: ``BpfError`` ENOSPC).  A socket leaves the map when it is
    closed.  Linux 4.14+.
    """

    _map_types = (MapType.SOCKMAP,)
    _default_type = MapType.SOCKMAP
    _kind = "sockmap"

    @classmethod
    def create(cls, max_entries=None, name=None, flags=MapFlags(0), numa_node=None):
        """Create a map of ``max_entries`` empty socket slots (8-byte values,
        so that cookies can be read back)."""
        return Map.create(cls._default_type, 4, 8, max_entries, name=name, flags=flags,
                          numa_node=numa_node)

    def _raise(self, ret, op, key=None):
        if -ret == errno.EINVAL and op == "delete" and key is not None:
            raise KeyError(key)  # the kernel's answer for an empty slot
        super()._raise(ret, op, key)


class ReuseportSockArray(_SocketValues, _SlotArray):
    """REUSEPORT_SOCKARRAY: sockets of an SO_REUSEPORT group for
    ``bpf_sk_select_reuseport()``.

    ``m[i] = sock`` takes a socket with SO_REUSEPORT that is bound (UDP) or
    listening (TCP) (others: ``BpfError`` EINVAL); ``m[i]`` reads its
    cookie (8-byte values only).  Linux 4.19+.
    """

    _map_types = (MapType.REUSEPORT_SOCKARRAY,)
    _default_type = MapType.REUSEPORT_SOCKARRAY
    _kind = "reuseport array"
    create = SockMap.__dict__["create"]


class SockHash(_SocketValues, HashMap):
    """SOCKHASH: sockets under any key (e.g. a flow tuple), like
    :class:`SockMap`; lookups give socket cookies.  Linux 4.18+."""

    _map_types = (MapType.SOCKHASH,)
    _default_type = MapType.SOCKHASH

    @classmethod
    def create(cls, key=None, max_entries=None, name=None, flags=MapFlags(0), numa_node=None):
        """Create an empty socket hash with keys of ``key`` (a size, C type
        or ``btf.Type``; values are 8 bytes, so cookies can be read back)."""
        if key is None:
            raise TypeError("SockHash.create() needs a key type")
        return Map.create(cls._default_type, key, 8, max_entries, name=name, flags=flags,
                          numa_node=numa_node)
