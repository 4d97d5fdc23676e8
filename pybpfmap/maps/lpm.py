"""LPM tries: LPM_TRIE, a ``MutableMapping`` keyed by IP networks.

A key is ``struct { __u32 prefixlen; __u8 data[N]; }``.  With 4 or 16 data
bytes keys are ``ipaddress.IPv4Network``/``IPv6Network``; with any other
size they are ``(prefixlen, bytes)`` tuples (accepted for every size).

Host bits: the kernel ignores the bits after ``prefixlen`` when it matches
(``10.1.2.3/8`` and ``10.0.0.0/8`` are the same entry) but stores them as
given.  pybpfmap clears them on the way in and on the way out, as
``ipaddress.ip_network(..., strict=False)`` does, so a key always reads back
in that canonical form.
"""
import errno
import ipaddress
import struct

from .._ffi import ffi, lib
from ..btf.codec import Codec
from ..btf.parse import parse_type
from ..enums import MapFlags, MapType
from .base import Map
from .hash import HashMap, _LookupThenDelete

__all__ = ["LpmTrieMap"]

_PREFIXLEN = struct.Struct("=I")
_FAMILIES = {"ipv4": 4, "ipv6": 16}
_NETWORKS = {4: ipaddress.IPv4Network, 16: ipaddress.IPv6Network}
_ADDRESSES = {4: ipaddress.IPv4Address, 16: ipaddress.IPv6Address}


def _mask(data, prefixlen):
    """``data`` with every bit after the first ``prefixlen`` cleared."""
    n = len(data)
    bits = int.from_bytes(data, "big")
    keep = ((1 << prefixlen) - 1) << (8 * n - prefixlen)
    return (bits & keep).to_bytes(n, "big")


class _LpmKeyCodec(Codec):
    """``(prefixlen, data)`` keys; ip networks when the data is 4 or 16 bytes."""

    def __init__(self, data_size):
        self.data_size = data_size
        self.size = 4 + data_size
        self.max_prefixlen = 8 * data_size
        self.network = _NETWORKS.get(data_size)

    def describe(self):
        if self.network is not None:
            return f"{self.network.__name__} key"
        return f"LPM key (prefixlen, {self.data_size} bytes)"

    def parts(self, value):
        """``(prefixlen, data)`` of a key, host bits cleared; raises
        ``TypeError``/``ValueError`` for anything that is not a valid key."""
        net = self.network
        if isinstance(value, str) and net is not None:
            try:
                value = net(value, strict=False)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an {net.__name__[:4]} network: {exc}") from None
        if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            if not isinstance(value, net or ()):
                want = net.__name__ if net else f"(prefixlen, {self.data_size} bytes)"
                raise ValueError(f"this trie holds {want} keys, not {type(value).__name__}")
            return value.prefixlen, value.network_address.packed
        if isinstance(value, tuple) and len(value) == 2:
            prefixlen, data = value
            if isinstance(prefixlen, bool) or not isinstance(prefixlen, int):
                raise TypeError(f"prefix length must be an int, not {type(prefixlen).__name__}")
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"LPM key data must be bytes, not {type(data).__name__}")
            data = bytes(data)
            if len(data) != self.data_size:
                raise ValueError(f"LPM key data must be {self.data_size} bytes, got {len(data)}")
            if not 0 <= prefixlen <= self.max_prefixlen:
                raise ValueError(f"prefix length {prefixlen} is outside 0..{self.max_prefixlen}")
            return prefixlen, _mask(data, prefixlen)
        raise TypeError(f"an LPM trie key is {'a network, a str or ' if net else ''}"
                        f"(prefixlen, bytes), not {type(value).__name__}")

    def pack_into(self, buf, offset, value):
        prefixlen, data = self.parts(value)
        _PREFIXLEN.pack_into(buf, offset, prefixlen)
        buf[offset + 4:offset + self.size] = data

    def decode(self, buf, offset=0):
        prefixlen = min(_PREFIXLEN.unpack_from(buf, offset)[0], self.max_prefixlen)
        data = _mask(bytes(buf[offset + 4:offset + self.size]), prefixlen)
        if self.network is not None:
            return self.network((data, prefixlen))
        return prefixlen, data


class LpmTrieMap(_LookupThenDelete, HashMap):
    """LPM_TRIE: a ``MutableMapping`` from IP networks (or ``(prefixlen,
    bytes)``) to values, with :meth:`longest_match` for address lookups.

    ``m[net]``, ``in`` and ``del`` act on the exact prefix, like a ``dict``;
    ``insert``/``replace`` honour NOEXIST/EXIST (Linux 6.13, and stable
    kernels with the fix; older kernels ignore them).  Iteration yields
    networks, most specific first (the kernel's post-order).  A prefix length
    beyond the data size raises ``ValueError``; a full trie raises
    ``MapFullError``.  ``pop``, ``popitem``, ``pop_all`` and ``clear`` use a
    lookup then a delete (the kernel has no lookup-and-delete for tries), so
    they are not atomic.  Linux 4.11+.
    """

    _map_types = (MapType.LPM_TRIE,)
    _default_type = MapType.LPM_TRIE

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, None, value_type, **kwargs)
        self.key_type = key_type
        self._kc = _LpmKeyCodec(max(info.key_size - 4, 0))

    @classmethod
    def create(cls, key="ipv4", value=None, max_entries=None, name=None, flags=MapFlags(0),
               numa_node=None, inner_map=None, map_extra=0):
        """Create an LPM trie; returns an :class:`LpmTrieMap`.

        ``key`` is ``"ipv4"``, ``"ipv6"`` or the number of data bytes
        (1..256); the key is declared to the kernel as ``struct { __u32
        prefixlen; __u8 data[N]; }``.  ``BPF_F_NO_PREALLOC``, which the
        kernel requires, is added to ``flags``.  Raises ``TypeError`` /
        ``ValueError`` for bad arguments before any syscall.
        """
        if isinstance(key, str):
            if key.lower() not in _FAMILIES:
                raise ValueError(f"LPM trie key must be 'ipv4', 'ipv6' or a data size, not {key!r}")
            size = _FAMILIES[key.lower()]
        elif isinstance(key, int) and not isinstance(key, bool):
            size = key
        else:
            raise TypeError(f"LPM trie key must be 'ipv4', 'ipv6' or a data size in bytes, "
                            f"not {type(key).__name__}")
        if not 1 <= size <= 256:
            raise ValueError(f"LPM trie data size must be 1..256 bytes, got {size}")
        if value is None:
            raise TypeError("LpmTrieMap.create() needs a value type")
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError(f"flags must be bm.MapFlags, not {type(flags).__name__}")
        key_type = parse_type(f"struct lpm_key_{size} {{ __u32 prefixlen; __u8 data[{size}]; }} "
                              "__attribute__((packed))")
        return Map.create(MapType.LPM_TRIE, key_type, value, max_entries, name=name,
                          flags=MapFlags(flags) | MapFlags.NO_PREALLOC, numa_node=numa_node,
                          inner_map=inner_map, map_extra=map_extra)

    _full_errno = errno.ENOSPC  # a full trie says ENOSPC

    # ------------------------------------------------------------- lookups

    def _exact(self, kb):
        """Whether the encoded key ``kb`` is an entry, not just covered by one.

        The kernel's GET_NEXT_KEY returns the first key for a key that is
        not an entry, and the following key (or the end) for one that is.
        """
        fd, ks = self.fd, self._ksize
        first = ffi.new("char[]", ks)
        nxt = ffi.new("char[]", ks)
        ret = lib.bpf_map_get_next_key(fd, ffi.NULL, first)
        if ret == -errno.ENOENT:
            return False
        if ret < 0:
            self._raise(ret, "get_next_key")
        if ffi.buffer(first)[:] == kb:
            return True
        ret = lib.bpf_map_get_next_key(fd, kb, nxt)
        if ret == -errno.ENOENT:
            return True  # kb is the last entry
        if ret < 0:
            self._raise(ret, "get_next_key")
        return ffi.buffer(nxt)[:] != ffi.buffer(first)[:]

    def lookup(self, key):
        """Return the value of exactly the prefix ``key``; ``KeyError`` if
        the trie has no such entry (use :meth:`longest_match` for routing)."""
        fd = self.fd
        kb = self._kc.encode(key)
        value = ffi.new("char[]", self._vsize)
        ret = lib.bpf_map_lookup_elem(fd, kb, value)
        if ret < 0:
            self._raise(ret, "lookup", key)
        if not self._exact(kb):
            raise KeyError(key)
        return self._vc.decode(ffi.buffer(value))

    def __contains__(self, key):
        try:
            self.lookup(key)
        except KeyError:
            return False
        return True

    def longest_match(self, address):
        """Return the value of the longest prefix that contains ``address``.

        ``address`` is an ``ipaddress`` address, a ``str``, or ``bytes`` of
        the data size; a network (or ``(prefixlen, bytes)``) limits the match
        to prefixes no longer than its own.  Raises ``KeyError`` when no
        prefix matches.
        """
        fam = _ADDRESSES.get(self._kc.data_size)
        if isinstance(address, (bytes, bytearray, memoryview)):
            key = (self._kc.max_prefixlen, bytes(address))
        elif isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            if fam is None or not isinstance(address, fam):
                raise ValueError(f"this trie holds {self._kc.describe()}s, "
                                 f"not {type(address).__name__}")
            key = (self._kc.max_prefixlen, address.packed)
        elif isinstance(address, str) and fam is not None and "/" not in address:
            try:
                key = (self._kc.max_prefixlen, fam(address).packed)
            except ValueError as exc:
                raise ValueError(f"{address!r} is not an {fam.__name__[:4]} address: "
                                 f"{exc}") from None
        else:
            key = address
        try:
            return Map.lookup(self, key)
        except KeyError:
            raise KeyError(address) from None

    # ------------------------------------------------------------- removal

