"""File descriptors as keys and values: sockets, programs, pidfds, cgroups."""
import struct

from ..btf.codec import Codec
from .base import Map

_UINT = {4: struct.Struct("=I"), 8: struct.Struct("=Q")}


def as_fd(obj, what):
    """``obj`` as a file descriptor: an ``int``, anything with ``fileno()``
    (a socket, a file), or a ``bm.Program``.  Raises ``TypeError`` for
    anything else (a ``Map`` too) and ``ValueError`` for a negative fd."""
    fd = obj
    if isinstance(obj, Map):
        raise TypeError(f"{what} is not a map")
    if hasattr(obj, "fileno") and not isinstance(obj, int):
        fd = obj.fileno()
    elif hasattr(obj, "fd") and not isinstance(obj, int):
        fd = obj.fd  # a bm.Program
    if isinstance(fd, bool) or not isinstance(fd, int):
        raise TypeError(f"{what} is a file descriptor or an object with fileno(), "
                        f"not {type(obj).__name__}")
    if not 0 <= fd < 1 << 31:
        raise ValueError(f"{fd} is not a file descriptor")
    return fd


class FdCodec(Codec):
    """Values that go in as an fd and come out as an unsigned int of
    ``size`` bytes (a program id, a socket cookie ...)."""

    def __init__(self, size, what):
        self.size = size
        self.what = what
        self._s = _UINT[size]

    def describe(self):
        return self.what

    def decode(self, buf, offset=0):
        return self._s.unpack_from(buf, offset)[0]

    def pack_into(self, buf, offset, value):
        self._s.pack_into(buf, offset, as_fd(value, self.what))
