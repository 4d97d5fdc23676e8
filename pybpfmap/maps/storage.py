"""Local storage maps: a value per socket, task, inode or cgroup.

SK_STORAGE, TASK_STORAGE, INODE_STORAGE and CGRP_STORAGE attach one value
to a kernel object, which user space names with a file descriptor: a socket,
a pidfd, an open file, a cgroup directory.  ``m[obj]``, ``m[obj] = v``,
``del m[obj]``, ``obj in m``, ``get``, ``insert``/``replace``/``set`` and
``pop`` work; the kernel cannot list the objects that have storage, so
there is no iteration and no ``len()`` (``TypeError``).  The value is gone
when the object is.
"""
import contextlib
import os

from ..enums import MapFlags, MapType, UpdateFlags
from ._fds import as_fd
from .base import Map
from .hash import HashMap

__all__ = ["SkStorageMap", "TaskStorageMap", "InodeStorageMap", "CgroupStorageMap"]


def _open(path, flags, what):
    try:
        return os.open(path, flags | os.O_CLOEXEC)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot open {what} {os.fsdecode(path)!r}: "
                        f"{exc.strerror}") from None


class _LocalStorage(HashMap):
    """Shared behaviour of the storage maps: keys are objects turned into
    file descriptors for each operation (and closed again when opened
    here)."""

    _batch_ok = False
    _kind = "object"

    @classmethod
    def create(cls, value=None, name=None, flags=MapFlags(0)):
        """Create an empty storage map of ``value`` (a C type or ``btf.Type``:
        the kernel requires BTF for these maps).  ``BPF_F_NO_PREALLOC``, which
        the kernel requires, is added to ``flags``.  Raises ``TypeError`` for
        a missing or untyped value, before any syscall."""
        if value is None or isinstance(value, int):
            raise TypeError(f"{cls.__name__}.create() needs a typed value (a C type or "
                            f"btf.Type): the kernel requires BTF for storage maps")
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError(f"flags must be bm.MapFlags, not {type(flags).__name__}")
        return Map.create(cls._default_type, "int", value, 0, name=name,
                          flags=MapFlags(flags) | MapFlags.NO_PREALLOC)

    def _open_key(self, key):
        """``(fd, owned)`` for ``key``; ``owned`` fds are closed after use."""
        return as_fd(key, f"a {self._kind} key"), False

    @contextlib.contextmanager
    def _key_fd(self, key):
        self.fd  # noqa: B018 - a closed map raises ValueError before opening anything
        fd, owned = self._open_key(key)
        try:
            yield fd
        except KeyError:
            raise KeyError(key) from None
        finally:
            if owned:
                os.close(fd)

    def lookup(self, key):
        """The value stored for ``key``; ``KeyError`` if it has none."""
        with self._key_fd(key) as fd:
            return super().lookup(fd)

    def set(self, key, value, flags=UpdateFlags.ANY):
        """Store ``value`` for ``key`` (flags as for :meth:`Map.set`)."""
        self._vc.encode(value)  # bad values raise before a key fd is opened
        with self._key_fd(key) as fd:
            super().set(fd, value, flags)

    def delete(self, key):
        """Remove the value of ``key``; ``KeyError`` if it has none."""
        with self._key_fd(key) as fd:
            super().delete(fd)

    def __contains__(self, key):
        with self._key_fd(key) as fd:
            return super().__contains__(fd)

    def lookup_and_delete(self, key):
        """Remove ``key``'s value and return it (a lookup, then a delete:
        the kernel has no atomic one for storage maps)."""
        with self._key_fd(key) as fd:
            value = super().lookup(fd)
            super().delete(fd)
            return value

    def _unlisted(self, *args, **kwargs):
        raise TypeError(f"the kernel cannot list the {self._kind}s that have "
                        f"{self.type.name} values: no iteration or len()")

    __iter__ = __len__ = __bool__ = keys = items = values = next_key = _unlisted
    popitem = clear = pop_all = update = delete_many = _unlisted
    __eq__ = object.__eq__  # a storage map cannot be compared by content
    __hash__ = object.__hash__


class SkStorageMap(_LocalStorage):
    """SK_STORAGE: a value per socket; keys are ``socket`` objects or socket
    fds (any other fd: ``BpfError`` ENOTSOCK).  Linux 5.2+."""

    _map_types = (MapType.SK_STORAGE,)
    _default_type = MapType.SK_STORAGE
    _kind = "socket"


class TaskStorageMap(_LocalStorage):
    """TASK_STORAGE: a value per task (process or thread).

    A key is a pid (``int``: a pidfd is opened for the call and closed, and
    a pid that does not exist raises ``ProcessLookupError``), or an object
    whose ``fileno()`` is a pidfd.  Linux 5.11+.
    """

    _map_types = (MapType.TASK_STORAGE,)
    _default_type = MapType.TASK_STORAGE
    _kind = "task"

    def _open_key(self, key):
        if isinstance(key, int) and not isinstance(key, bool):
            if not 0 < key < 1 << 31:
                raise ValueError(f"{key} is not a pid")
            return os.pidfd_open(key), True
        if not hasattr(key, "fileno"):
            raise TypeError(f"a task key is a pid or an object whose fileno() is a pidfd, "
                            f"not {type(key).__name__}")
        return as_fd(key, f"a {self._kind} key"), False


class InodeStorageMap(_LocalStorage):
    """INODE_STORAGE: a value per inode; keys are open files (anything with
    ``fileno()``), fds, or paths (opened read-only for the call).  Linux
    5.10+ (built with CONFIG_BPF_LSM)."""

    _map_types = (MapType.INODE_STORAGE,)
    _default_type = MapType.INODE_STORAGE
    _kind = "inode"

    def _open_key(self, key):
        if isinstance(key, (str, bytes, os.PathLike)):
            return _open(key, os.O_RDONLY, "file"), True
        return super()._open_key(key)


class CgroupStorageMap(_LocalStorage):
    """CGRP_STORAGE: a value per cgroup (v2); keys are cgroup directory
    fds, or their paths (``/sys/fs/cgroup/...``, opened for the call).
    Linux 6.2+."""

    _map_types = (MapType.CGRP_STORAGE,)
    _default_type = MapType.CGRP_STORAGE
    _kind = "cgroup"

    def _open_key(self, key):
        if isinstance(key, (str, bytes, os.PathLike)):
            return _open(key, os.O_RDONLY | os.O_DIRECTORY, "cgroup directory"), True
        return super()._open_key(key)
