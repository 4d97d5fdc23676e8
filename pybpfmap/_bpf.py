"""The thin layer: one function per libbpf call, raising through errors.check.

Arguments are plain ints, bytes and cffi buffers; the Pythonic classes build
on these.  Element operations (lookup, update ...) are called straight from
the map classes because they are the measured hot path.
"""
import errno
import os

from ._ffi import ffi, lib
from .errors import BpfError, check, needs_for_map, raise_errno

BPF_FS_MAGIC = 0xCAFE4A11

_possible_cpus = None


def possible_cpus():
    """Return the number of possible CPUs (the length of per-CPU values)."""
    global _possible_cpus
    if _possible_cpus is None:
        _possible_cpus = check(lib.libbpf_num_possible_cpus(), "num_possible_cpus")
    return _possible_cpus


def map_create(map_type, name, key_size, value_size, max_entries, *, flags=0,
               btf_fd=0, btf_key_type_id=0, btf_value_type_id=0, inner_map_fd=0,
               numa_node=None, map_extra=0, what=""):
    """BPF_MAP_CREATE; returns the new fd."""
    opts = ffi.new("struct bpf_map_create_opts *")
    opts.sz = ffi.sizeof("struct bpf_map_create_opts")
    opts.map_flags = flags
    opts.btf_fd = btf_fd
    opts.btf_key_type_id = btf_key_type_id
    opts.btf_value_type_id = btf_value_type_id
    opts.inner_map_fd = inner_map_fd
    opts.map_extra = map_extra
    if numa_node is not None:
        opts.numa_node = numa_node
    cname = name.encode() if name else ffi.NULL
    fd = lib.bpf_map_create(map_type, cname, key_size, value_size, max_entries, opts)
    return check(fd, "create", what, needs=needs_for_map(map_type))


def map_info(fd, what=""):
    """BPF_OBJ_GET_INFO_BY_FD for a map: a ``struct bpf_map_info``."""
    info = ffi.new("struct bpf_map_info *")
    size = ffi.new("__u32 *", ffi.sizeof("struct bpf_map_info"))
    ret = lib.bpf_map_get_info_by_fd(fd, info, size)
    if ret == -errno.EINVAL:
        raise BpfError(errno.EINVAL, f"file descriptor {fd} is not a BPF map", op="info")
    check(ret, "get_info", what or f"fd {fd}")
    # The kernel answers GET_INFO_BY_FD for programs, BTF and links too (with
    # their own info struct): only the fd's inode tells a map from those.
    kind = _fd_kind(fd)
    if kind is not None and kind != "anon_inode:bpf-map":
        raise BpfError(errno.EINVAL, f"file descriptor {fd} is not a BPF map "
                       f"(it is {kind.partition(':')[2] or kind})", op="info")
    return info


def _fd_kind(fd):
    """What /proc says fd is ('anon_inode:bpf-map' ...), or None without /proc."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def map_get_fd_by_id(map_id, open_flags=0):
    opts = ffi.new("struct bpf_get_fd_by_id_opts *")
    opts.sz = ffi.sizeof("struct bpf_get_fd_by_id_opts")
    opts.open_flags = open_flags
    fd = lib.bpf_map_get_fd_by_id_opts(map_id, opts)
    if fd == -errno.ENOENT:
        raise BpfError(errno.ENOENT, f"there is no BPF map with id {map_id}", op="from_id")
    return check(fd, "from_id", f"map id {map_id}")


def map_ids():
    """Yield the id of every map on the system (BPF_MAP_GET_NEXT_ID)."""
    next_id = ffi.new("__u32 *")
    current = 0
    while True:
        ret = lib.bpf_map_get_next_id(current, next_id)
        if ret == -errno.ENOENT:
            return
        check(ret, "map_get_next_id")
        current = next_id[0]
        yield current


def fs_magic(path):
    """statfs(path).f_type, or -errno."""
    return lib.pybpfmap_fs_magic(os.fsencode(path))


def _bpffs_hint(path):
    directory = os.path.dirname(os.path.abspath(path)) or "/"
    magic = fs_magic(directory)
    if magic == -errno.ENOENT:
        return f"directory {directory} does not exist"
    if magic >= 0 and magic != BPF_FS_MAGIC:
        if directory.startswith("/sys/fs/bpf"):
            return "bpffs is not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)"
        return (f"{directory} is not on a bpf file system; pin paths must be on bpffs "
                f"(mount -t bpf bpf /sys/fs/bpf)")
    return None


def obj_pin(fd, path, what=""):
    """BPF_OBJ_PIN: pin fd at ``path`` on bpffs."""
    hint = _bpffs_hint(path)
    if hint:
        raise BpfError(errno.ENOENT if "does not exist" in hint else errno.EINVAL,
                       f"pin failed on {what} at {path!r}: {hint}", op="pin")
    ret = lib.bpf_obj_pin(fd, os.fsencode(path))
    if ret == -errno.EEXIST:
        raise BpfError(errno.EEXIST, f"pin failed on {what}: {path!r} already exists", op="pin")
    check(ret, "pin", f"{what} at {path!r}")


def obj_get(path, open_flags=0):
    """BPF_OBJ_GET: open the object pinned at ``path``."""
    path = os.fspath(path)
    if not os.path.lexists(path):
        hint = _bpffs_hint(path)
        raise BpfError(errno.ENOENT, f"nothing is pinned at {path!r}" + (f" ({hint})" if hint else ""),
                       op="from_pin")
    magic = fs_magic(path)
    if magic >= 0 and magic != BPF_FS_MAGIC:
        raise BpfError(errno.EINVAL, f"{path!r} is not on a bpf file system (bpffs), "
                       f"so it cannot be a pinned BPF object", op="from_pin")
    if os.path.isdir(path):
        raise BpfError(errno.EISDIR, f"{path!r} is a directory, not a pinned BPF object",
                       op="from_pin")
    opts = ffi.new("struct bpf_obj_get_opts *")
    opts.sz = ffi.sizeof("struct bpf_obj_get_opts")
    opts.file_flags = open_flags
    fd = lib.bpf_obj_get_opts(os.fsencode(path), opts)
    if fd == -errno.EACCES:  # BPF_OBJ_GET checks the pin's file mode, not capabilities
        raise_errno(errno.EACCES, "from_pin", repr(path),
                    hint="the pin's file permissions do not let this user open it "
                         "(chmod the pin, or run as its owner)")
    return check(fd, "from_pin", repr(path))


def map_freeze(fd, what=""):
    ret = lib.bpf_map_freeze(fd)
    if ret == -errno.EPERM:
        raise_errno(errno.EPERM, "freeze", what,
                    hint="the map is already frozen, read-only, or this process lacks CAP_BPF")
    if ret == -errno.EBUSY:
        raise_errno(errno.EBUSY, "freeze", what, hint="the map has a writable memory mapping")
    check(ret, "freeze", what)
