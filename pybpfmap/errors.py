"""Exceptions, and the one place where a negative errno becomes one.

Every failure of the kernel or of libbpf is a :class:`BpfError` (an
``OSError`` with ``.errno``).  Conditions a Python user wants to catch on
their own have subclasses that also inherit the builtin they would reach
for: :class:`BpfPermissionError` is a ``PermissionError``.
"""
import errno as _errno
import os

__all__ = [
    "BpfError", "KeyExistsError", "MapFullError", "BpfPermissionError",
    "LoadError", "ENOTSUPP", "check", "raise_errno",
]

#: The kernel-internal "operation not supported" code (not EOPNOTSUPP).
ENOTSUPP = 524

_CAP_SYS_ADMIN = 21
_CAP_BPF = 39


class BpfError(OSError):
    """A kernel or libbpf operation failed; ``.errno`` says why."""

    def __init__(self, errno, message, *, op=None, map=None):
        super().__init__(errno, message)
        self.op = op
        self.map = map

    def __str__(self):
        name = _errno.errorcode.get(self.errno, "ENOTSUPP" if self.errno == ENOTSUPP else "?")
        return f"{self.strerror} [{name}]"

    def __reduce__(self):
        return (type(self), (self.errno, self.strerror))


class KeyExistsError(BpfError):
    """An insert (BPF_NOEXIST) found the key already present."""


class MapFullError(BpfError):
    """The map has no room for another entry."""


class BpfPermissionError(BpfError, PermissionError):
    """The kernel refused the operation (EPERM/EACCES)."""


class LoadError(BpfError):
    """A BPF object or program failed to load; ``.log`` holds the verifier log."""

    def __init__(self, errno, message, *, log="", op=None, map=None):
        super().__init__(errno, message, op=op, map=map)
        self.log = log


def _effective_caps():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return None


def missing_capability():
    """Name the capability this process lacks for bpf(), or None if it has it."""
    caps = _effective_caps()
    if caps is None:
        return None
    if caps & (1 << _CAP_SYS_ADMIN) or caps & (1 << _CAP_BPF):
        return None
    return "CAP_BPF"


_WRITE_OPS = frozenset({"update", "insert", "replace", "delete", "update_batch", "delete_batch",
                        "freeze", "push", "write"})
_READ_OPS = frozenset({"lookup", "get_next_key", "lookup_batch", "peek"})
_READ_WRITE_OPS = frozenset({"pop", "lookup_and_delete", "lookup_and_delete_batch"})


def _fd_state(map):
    """``(access mode, frozen)`` of a map's fd from /proc/self/fdinfo, or Nones.

    The kernel keeps BPF_F_RDONLY/BPF_F_WRONLY on the file descriptor (its
    O_ACCMODE), not in the map's flags, so that is where to look.
    """
    fd = getattr(map, "_fd", -1)
    if not isinstance(fd, int) or fd < 0:
        return None, None
    mode = frozen = None
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == "flags":
                    mode = int(value.strip(), 8) & os.O_ACCMODE
                elif key == "frozen":
                    frozen = value.strip() == "1"
    except (OSError, ValueError):
        pass
    return mode, frozen


def _permission_hint(op, map=None):
    missing = missing_capability()
    if missing:
        return (f"this process lacks {missing} (run as root, or grant CAP_BPF; "
                f"some operations also need CAP_SYS_ADMIN or CAP_PERFMON)")
    if op not in _WRITE_OPS | _READ_OPS | _READ_WRITE_OPS:
        return "the kernel refused it; it may need CAP_SYS_ADMIN besides CAP_BPF"
    mode, frozen = _fd_state(map)
    if mode == os.O_RDONLY and op not in _READ_OPS:
        return ("the map is read-only from user space: this file descriptor was "
                "created or opened with BPF_F_RDONLY")
    if mode == os.O_WRONLY and op not in _WRITE_OPS:
        return ("the map is write-only from user space: this file descriptor was "
                "created or opened with BPF_F_WRONLY")
    if frozen and op not in _READ_OPS:
        return "the map is frozen: user space can no longer change it"
    if op in _READ_OPS:
        return "this file descriptor is write-only"
    return "the map is frozen, or this file descriptor is read-only"


def raise_errno(err, op, what="", *, map=None, hint=None):
    """Raise the exception for positive errno ``err`` from operation ``op``.

    ``what`` names the object ("map 'counts' (id 7)"); ``hint`` adds advice.
    """
    if err == ENOTSUPP:
        reason = "operation not supported (ENOTSUPP)"
    else:
        reason = os.strerror(err)
    msg = f"{op} failed" + (f" on {what}" if what else "") + f": {reason}"
    cls = BpfError
    if err in (_errno.EPERM, _errno.EACCES):
        cls = BpfPermissionError
        hint = hint or _permission_hint(op, map)
    elif err == _errno.EEXIST and op in ("insert", "update"):
        cls = KeyExistsError
    if hint:
        msg += f" ({hint})"
    raise cls(err, msg, op=op, map=map)


def check(ret, op, what="", *, map=None, hint=None):
    """Return ``ret`` when it is >= 0; otherwise raise for errno ``-ret``."""
    if ret < 0:
        raise_errno(-ret, op, what, map=map, hint=hint)
    return ret
