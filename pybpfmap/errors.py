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

_CAP_NET_ADMIN = 12
_CAP_SYS_ADMIN = 21
_CAP_PERFMON = 38
_CAP_BPF = 39
_CAP_NAMES = {_CAP_NET_ADMIN: "CAP_NET_ADMIN", _CAP_SYS_ADMIN: "CAP_SYS_ADMIN",
              _CAP_PERFMON: "CAP_PERFMON", _CAP_BPF: "CAP_BPF"}
#: What the kernel (6.x) checks for each operation; CAP_SYS_ADMIN stands in
#: for every other one.  Operations on an fd the process already holds need
#: none since Linux 6.5 (earlier: CAP_BPF, when unprivileged BPF is off).
_OP_NEEDS = {
    "from_id": (_CAP_SYS_ADMIN,), "map_get_next_id": (_CAP_SYS_ADMIN,),
    "btf_get_fd_by_id": (_CAP_SYS_ADMIN,), "prog_get_fd_by_id": (_CAP_SYS_ADMIN,),
}
#: Program types (enum bpf_prog_type) whose loading needs more than CAP_BPF.
_NET_ADMIN_PROGS = frozenset({3, 4, 6, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 22, 23, 25, 32})
_PERFMON_PROGS = frozenset({2, 5, 7, 17, 24, 26, 27, 28, 29})
#: Map types whose creation needs CAP_NET_ADMIN (devmaps, sockmaps, xskmap).
_NET_ADMIN_MAPS = frozenset({14, 15, 17, 18, 25})


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

    def __reduce__(self):
        return (_load_error, (self.errno, self.strerror, self.log))


def _load_error(errno, message, log):
    """Unpickle a LoadError with its log."""
    return LoadError(errno, message, log=log)


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
    missing = missing_capabilities((_CAP_BPF,))
    return missing[0] if missing else None


def missing_capabilities(needed):
    """The names of the capabilities of ``needed`` (numbers) this process lacks.

    CAP_SYS_ADMIN counts as every one of them, as it does in the kernel.
    Empty when it has them all, or when /proc cannot tell.
    """
    caps = _effective_caps()
    if caps is None or caps & (1 << _CAP_SYS_ADMIN):
        return []
    return [_CAP_NAMES[c] for c in needed if not caps & (1 << c)]


def needs_for_programs(prog_types):
    """The capabilities loading programs of ``prog_types`` needs (numbers)."""
    needs = [_CAP_BPF]
    if any(t in _NET_ADMIN_PROGS for t in prog_types):
        needs.append(_CAP_NET_ADMIN)
    if any(t in _PERFMON_PROGS for t in prog_types):
        needs.append(_CAP_PERFMON)
    return tuple(needs)


def needs_for_map(map_type):
    """The capabilities creating a map of ``map_type`` needs (numbers)."""
    return (_CAP_BPF, _CAP_NET_ADMIN) if map_type in _NET_ADMIN_MAPS else (_CAP_BPF,)


def _lacks(missing):
    names = " and ".join(missing)
    return f"this process lacks {names} (run as root, or grant {names})"


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


def _permission_hint(op, map=None, needs=None):
    if op not in _WRITE_OPS | _READ_OPS | _READ_WRITE_OPS:
        missing = missing_capabilities(needs or _OP_NEEDS.get(op, (_CAP_BPF,)))
        if missing:
            return _lacks(missing)
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
    missing = missing_capabilities((_CAP_BPF,))
    if missing:  # kernels before 6.5 check CAP_BPF on every command
        return _lacks(missing)
    if op in _READ_OPS:
        return "this file descriptor is write-only"
    return "the map is frozen, or this file descriptor is read-only"


def raise_errno(err, op, what="", *, map=None, hint=None, needs=None):
    """Raise the exception for positive errno ``err`` from operation ``op``.

    ``what`` names the object ("map 'counts' (id 7)"); ``hint`` adds advice;
    ``needs`` are the capabilities the operation needs (numbers), named in
    the message of a permission error when the process lacks them.
    """
    if err == ENOTSUPP:
        reason = "operation not supported (ENOTSUPP)"
    else:
        reason = os.strerror(err)
    msg = f"{op} failed" + (f" on {what}" if what else "") + f": {reason}"
    cls = BpfError
    if err in (_errno.EPERM, _errno.EACCES):
        cls = BpfPermissionError
        hint = hint or _permission_hint(op, map, needs)
    elif err == _errno.EEXIST and op in ("insert", "update"):
        cls = KeyExistsError
    if hint:
        msg += f" ({hint})"
    raise cls(err, msg, op=op, map=map)


def check(ret, op, what="", *, map=None, hint=None, needs=None):
    """Return ``ret`` when it is >= 0; otherwise raise for errno ``-ret``."""
    if ret < 0:
        raise_errno(-ret, op, what, map=map, hint=hint, needs=needs)
    return ret
