"""Stack traces: STACK_TRACE, filled by ``bpf_get_stackid()`` in programs.

Keys are stack ids; values are tuples of instruction addresses, innermost
first, with the unused trailing slots stripped.  :func:`ksym` and
:meth:`StackTraceMap.symbolize` name kernel addresses through
``/proc/kallsyms``.
"""
import bisect
import collections
import struct
import threading

from ..btf.codec import Codec
from ..enums import MapFlags, MapType
from .base import Map
from .hash import HashMap

__all__ = ["StackTraceMap", "BuildIdFrame", "ksym"]

_KALLSYMS = "/proc/kallsyms"
_TEXT_TYPES = frozenset("tTwW")
#: Kernel addresses on 64-bit Linux have the top bit set; the rest is user space.
_KERNEL_START = 1 << 63

#: One frame of a ``BPF_F_STACK_BUILD_ID`` stack: ``build_id`` (bytes) and
#: ``offset`` into that object, or ``build_id=None`` and ``offset`` holding
#: the raw address when the kernel could not find a build id.
BuildIdFrame = collections.namedtuple("BuildIdFrame", "build_id offset")
_BUILD_ID_FRAME = struct.Struct("=i20sQ")  # struct bpf_stack_build_id
_BPF_STACK_BUILD_ID_VALID, _BPF_STACK_BUILD_ID_IP = 1, 2


class _Kallsyms:
    """Kernel text symbols sorted by address, read once from /proc/kallsyms."""

    def __init__(self):
        self._lock = threading.Lock()
        self._addrs = None
        self._names = None

    def _load(self):
        syms = []
        with open(_KALLSYMS) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in _TEXT_TYPES:
                    addr = int(parts[0], 16)
                    if addr:
                        syms.append((addr, parts[2]))
        syms.sort()
        self._addrs = [a for a, _ in syms]
        self._names = [n for _, n in syms]

    def resolve(self, address):
        """``"func+0xoff"`` for a kernel text address, else ``None``."""
        with self._lock:
            if self._addrs is None:
                self._load()
        i = bisect.bisect_right(self._addrs, address) - 1
        if i < 0:
            return None
        return f"{self._names[i]}+{address - self._addrs[i]:#x}"


_kallsyms = _Kallsyms()


def ksym(address):
    """Name kernel ``address`` as ``"func+0xoff"`` from /proc/kallsyms (read
    once per process, text symbols only); ``None`` when no symbol precedes
    it or kallsyms shows no addresses (kptr_restrict; needs root).  Raises
    ``OSError`` when /proc/kallsyms cannot be read."""
    return _kallsyms.resolve(address)


class _StackCodec(Codec):
    """A stack value: ``__u64 ips[depth]`` (or build-id frames) to a tuple."""

    def __init__(self, size, build_id):
        self.size = size
        self.build_id = build_id
        self.depth = size // (_BUILD_ID_FRAME.size if build_id else 8)
        self._ips = struct.Struct(f"={self.depth}Q")

    def describe(self):
        return f"stack of {self.depth} {'build-id frames' if self.build_id else 'addresses'}"

    def decode(self, buf, offset=0):
        if self.build_id:
            return self._decode_build_ids(buf, offset)
        ips = self._ips.unpack_from(buf, offset)
        n = len(ips)
        while n and not ips[n - 1]:
            n -= 1
        return ips[:n]

    def _decode_build_ids(self, buf, offset):
        frames = []
        step = _BUILD_ID_FRAME.size
        for i in range(self.depth):
            status, build_id, off = _BUILD_ID_FRAME.unpack_from(buf, offset + i * step)
            if status == _BPF_STACK_BUILD_ID_VALID:
                frames.append(BuildIdFrame(build_id, off))
            elif status == _BPF_STACK_BUILD_ID_IP:
                frames.append(BuildIdFrame(None, off))
            else:
                break  # BPF_STACK_BUILD_ID_EMPTY: the end of the stack
        return tuple(frames)

    def pack_into(self, buf, offset, value):
        raise TypeError("stack traces are written by bpf_get_stackid() only")


class StackTraceMap(HashMap):
    """STACK_TRACE: a mapping from stack id (what ``bpf_get_stackid()``
    returned) to a tuple of addresses, innermost frame first.

    Reading, ``del``, ``pop`` and iteration work; stacks cannot be written
    from user space, so assignment raises ``TypeError``.  With
    ``BPF_F_STACK_BUILD_ID`` the frames are :class:`BuildIdFrame`\\ s.
    ``symbolize()`` (or ``items(symbolize=True)``) names kernel addresses.
    Linux 4.6+.
    """

    _map_types = (MapType.STACK_TRACE,)
    _default_type = MapType.STACK_TRACE
    _index_keys = True  # stack ids are __u32

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, key_type, None, **kwargs)
        self._vc = _StackCodec(info.value_size, bool(info.flags & MapFlags.STACK_BUILD_ID))

    @classmethod
    def create(cls, max_entries=None, depth=127, name=None, flags=MapFlags(0), numa_node=None):
        """Create an empty stack trace map of ``max_entries`` stacks of up to
        ``depth`` frames (127 is the kernel's default sysctl limit,
        kernel.perf_event_max_stack); programs fill it with
        ``bpf_get_stackid()``."""
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise TypeError(f"depth must be an int, not {type(depth).__name__}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        frame = _BUILD_ID_FRAME.size if int(flags) & MapFlags.STACK_BUILD_ID else 8
        return Map.create(MapType.STACK_TRACE, 4, frame * depth, max_entries, name=name,
                          flags=flags, numa_node=numa_node)

    def set(self, key, value, flags=0):
        """Stacks are written by BPF programs only: always ``TypeError``."""
        raise TypeError("stack traces are written by bpf_get_stackid() only")

    def update(self, other=(), /, **kwargs):
        """Stacks are written by BPF programs only: always ``TypeError``."""
        raise TypeError("stack traces are written by bpf_get_stackid() only")

    def lookup(self, key, symbolize=False):
        """The stack with id ``key``; its frames named (see :meth:`symbolize`)
        with ``symbolize=True``.  ``KeyError`` when there is no such stack."""
        stack = super().lookup(key)
        return self.symbolize(stack) if symbolize else stack

    def items(self, symbolize=False):
        """``(stack id, stack)`` pairs; frames named with ``symbolize=True``."""
        if symbolize:
            return ((k, self.symbolize(v)) for k, v in self._iter_items())
        return super().items()

    def symbolize(self, stack):
        """Name each frame of ``stack`` (a stack id, or a tuple of addresses)
        as ``"func+0xoff"`` through /proc/kallsyms; a frame that is not a
        kernel text address (a user-space address) stays ``hex(address)``.
        Returns a tuple of str.  Raises ``KeyError`` for a missing stack id,
        ``OSError`` when /proc/kallsyms cannot be read."""
        if isinstance(stack, int) and not isinstance(stack, bool):
            stack = super().lookup(stack)
        out = []
        for frame in stack:
            if isinstance(frame, BuildIdFrame):
                out.append(f"{frame.build_id.hex()}+{frame.offset:#x}" if frame.build_id
                           else (ksym(frame.offset) or hex(frame.offset)))
            else:
                out.append((ksym(frame) if frame >= _KERNEL_START else None) or hex(frame))
        return tuple(out)
