"""``Map``: a live kernel map that owns one file descriptor.

The per-type classes (hash, array, per-CPU ...) build on this one.  A map is
typed by two codecs (``pybpfmap.btf.codec``) for its keys and values; raw
maps use byte codecs.  Element operations call libbpf directly (the hot
path); everything else goes through :mod:`pybpfmap._bpf`.
"""
import dataclasses
import errno
import itertools
import os
import struct
import weakref

from .. import _bpf
from .._ffi import ffi, lib
from ..btf import types as T
from ..btf.codec import FloatCodec, IntCodec, PerCpuCodec, RawCodec, compile_type
from ..btf.parse import base_type, parse_type
from ..enums import PERCPU_TYPES, MapFlags, MapType, UpdateFlags, map_type
from ..errors import (ENOTSUPP, BpfError, KeyExistsError, MapFullError, check,
                      raise_errno)

__all__ = ["Map", "MapInfo", "maps", "possible_cpus", "as_type"]

possible_cpus = _bpf.possible_cpus

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_U32_MAX = (1 << 32) - 1
_U64_MAX = (1 << 64) - 1
#: Entries per batch syscall (the kernel copies at most this many at once).
BATCH_ENTRIES = 4096
_UPDATE_OPS = {UpdateFlags.NOEXIST: "insert", UpdateFlags.EXIST: "replace"}
_LOCK_HINT = "BPF_F_LOCK needs a value type holding a struct bpf_spin_lock"
#: Errnos meaning "this kernel or map type has no batch operations".
_NO_BATCH = frozenset({errno.EOPNOTSUPP, ENOTSUPP, errno.ENOSYS})


@dataclasses.dataclass(frozen=True)
class MapInfo:
    """What the kernel says about a map (BPF_OBJ_GET_INFO_BY_FD)."""

    id: int
    name: str
    type: MapType
    key_size: int
    value_size: int
    max_entries: int
    flags: MapFlags
    btf_id: int = 0
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0
    map_extra: int = 0
    ifindex: int = 0

    @classmethod
    def _from_c(cls, info):
        return cls(
            id=info.id, name=ffi.string(info.name).decode(errors="replace"),
            type=map_type(info.type), key_size=info.key_size,
            value_size=info.value_size, max_entries=info.max_entries,
            flags=MapFlags(info.map_flags), btf_id=info.btf_id,
            btf_key_type_id=info.btf_key_type_id,
            btf_value_type_id=info.btf_value_type_id,
            map_extra=info.map_extra, ifindex=info.ifindex)


def maps():
    """Return a list of :class:`MapInfo`, one per map on the system.

    Maps that vanish while the list is made are left out.  Raises
    ``BpfPermissionError`` without CAP_SYS_ADMIN (listing needs it).
    """
    out = []
    for map_id in _bpf.map_ids():
        try:
            fd = _bpf.map_get_fd_by_id(map_id)
        except BpfError as exc:
            if exc.errno == errno.ENOENT:
                continue
            raise
        try:
            out.append(MapInfo._from_c(_bpf.map_info(fd)))
        finally:
            os.close(fd)
    return out


def btf_type_of(spec, role="type", also=""):
    """``spec``, a C type string (or declaration) or a ``btf.Type``, as a
    ``btf.Type``.  Raises ``ValueError`` for text that names no type and
    ``TypeError`` for anything else (``also`` lists other accepted forms)."""
    if isinstance(spec, str):
        return parse_type(spec)
    if isinstance(spec, T.Type):
        return spec
    raise TypeError(f"{role} must be {also}a C type string or a btf.Type, "
                    f"not {type(spec).__name__}")


def as_type(spec, role="type"):
    """Turn a key/value type given by the user into ``(btf_type_or_None, size)``.

    ``spec`` is an ``int`` byte size, a C type string or a ``btf.Type``.
    Raises ``TypeError``/``ValueError`` for anything else.
    """
    if spec is None:
        return None, 0
    if isinstance(spec, bool):
        raise TypeError(f"{role} must be a size, a C type or a btf.Type, not bool")
    if isinstance(spec, int):
        if spec < 0 or spec > _U32_MAX:
            raise ValueError(f"{role} size must be between 0 and {_U32_MAX}, got {spec}")
        return None, spec
    t = btf_type_of(spec, role, "a size, ")
    codec = compile_type(t)
    if codec.size > _U32_MAX:
        raise ValueError(f"{role} type {spec if isinstance(spec, str) else T.c_name(t)!r} is "
                         f"{codec.size} bytes, more than a map {role} can hold")
    return t, codec.size


def _check_uint(value, name, maximum=_U32_MAX, minimum=0):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _check_name(name):
    if name is None:
        return ""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    if len(name) > 15:
        raise ValueError(f"map name {name!r} is longer than 15 characters")
    bad = set(name) - _NAME_CHARS
    if bad:
        raise ValueError(f"map name {name!r} may only hold letters, digits, '_' and '.'")
    return name


class Map:
    """A live BPF map; the base of every map class.

    Holds one file descriptor, closed by :meth:`close`, by ``with``, or when
    the object is garbage collected.  Any operation on a closed map raises
    ``ValueError``.  Keys and values are typed by ``key_type`` and
    ``value_type`` (``bm.btf.Type``, or ``None`` for raw bytes).
    """

    #: map types this class serves (filled by subclasses)
    _map_types = ()
    #: the type ``create`` uses on a per-type class
    _default_type = None
    #: whether the kernel offers BPF_MAP_*_BATCH for this class's types
    _batch_ok = False
    #: keys are always __u32 indices (arrays): typed so even without BTF
    _index_keys = False
    #: element access may take the scalar fast path (``_ss``); a subclass
    #: that overrides lookup() or set() loses it unless it says otherwise
    _plain_ops = True
    #: whether the kernel takes value BTF for a keyless map of this class
    _btf_values = True
    _registry = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for t in cls.__dict__.get("_map_types", ()):
            Map._registry[t] = cls
        if ("lookup" in cls.__dict__ or "set" in cls.__dict__) and "_plain_ops" not in cls.__dict__:
            cls._plain_ops = False

    # ------------------------------------------------------------------ setup

    def __init__(self, fd, info, key_type=None, value_type=None, *, owner=None, pin_path=None):
        """Wrap ``fd`` (which this object then owns).  Use the ``create`` /
        ``from_*`` constructors rather than calling this."""
        self._fd = fd
        self._info = info
        self._owner = owner  # e.g. the BpfObject a map came from: keep it alive
        self._pin_path = pin_path
        if key_type is None and self._index_keys and info.key_size == 4:
            key_type = base_type("__u32")
        self.key_type = key_type
        self.value_type = value_type
        self._kc = self._codec(key_type, info.key_size, "key")
        value_codec = self._codec(value_type, info.value_size, "value")
        if info.type in PERCPU_TYPES:
            value_codec = PerCpuCodec(value_codec, possible_cpus())
        self._vc = value_codec
        self._ksize = self._kc.size
        self._vsize = value_codec.size
        self._use_batch = self._batch_ok
        self._pool = []
        # last: if __init__ fails, _wrap closes fd and no finalizer may
        # close that number again later
        self._finalizer = weakref.finalize(self, os.close, fd)

    @classmethod
    def _class_for(cls, info):
        """The class for a map of this type with ``info`` (flags may refine
        it: an MMAPABLE array gets ``memory``)."""
        return cls

    # The key and value codecs.  Setting one (subclasses may) also sets the
    # fast encode/decode functions the element operations use.
    def _set_kc(self, codec):
        self._key_codec = codec
        self._kenc = _fast_encoder(codec)
        self._set_fast()

    def _set_vc(self, codec):
        self._value_codec = codec
        self._venc = _fast_encoder(codec)
        self._vdec = _fast_decoder(codec)
        self._pool = []
        self._set_fast()

    def _set_fast(self):
        """Pick the C helpers of the integer fast paths (_csrc/fastpath.c).

        ``_getk(fd, key, buf)``: a 32/64-bit integer key passed by value;
        ``_get1(fd, key)`` / ``_put1(fd, key, value, flags)``: an integer
        value too, returned by value.  ``None`` where the types do not fit,
        or where a subclass has its own lookup()/set() (``_plain_ops``).
        cffi range-checks the arguments, so a value out of range raises
        before the call and the slow path can name the problem.
        """
        kname = _scalar_name(getattr(self, "_key_codec", None)) if self._plain_ops else None
        vname = _scalar_name(getattr(self, "_value_codec", None))
        self._getk = getattr(lib, f"pybpfmap_getbuf_{kname}") if kname else None
        self._get1 = self._put1 = None
        if kname and vname:
            self._get1 = getattr(lib, f"pybpfmap_get_{kname}_{vname}")
            self._put1 = getattr(lib, f"pybpfmap_put_{kname}_{vname}")

    _kc = property(lambda self: self._key_codec, _set_kc)
    _vc = property(lambda self: self._value_codec, _set_vc)

    @staticmethod
    def _codec(t, size, role):
        if t is None:
            return RawCodec(size)
        codec = compile_type(t)
        if codec.size != size:
            raise TypeError(f"{role} type {T.c_name(t)} is {codec.size} bytes, "
                            f"but the map's {role} size is {size}")
        return codec

    @classmethod
    def _wrap(cls, fd, key_type=None, value_type=None, *, owner=None, pin_path=None,
              typed_from_btf=True, fallback_raw=False):
        """Own ``fd`` and return an instance of the class that fits its type.

        ``typed_from_btf``: type keys and values from the map's kernel BTF.
        ``fallback_raw``: use raw bytes when the given or found types have no
        codec (e.g. a ``.bss`` datasec), instead of raising ``TypeError``.
        """
        try:
            info = MapInfo._from_c(_bpf.map_info(fd))
            if key_type is None and value_type is None and typed_from_btf and info.btf_id:
                key_type, value_type = _types_from_kernel(info)
                fallback_raw = True
            if fallback_raw:
                key_type = _usable(key_type, info.key_size)
                value_type = _usable(value_type, info.value_size)
            klass = Map._registry.get(info.type, Map)._class_for(info)
            if not issubclass(klass, cls) and cls is not Map:
                raise TypeError(f"map {info.name!r} (id {info.id}) is a {info.type!r} map, "
                                f"not one for {cls.__name__}")
            return klass(fd, info, key_type, value_type, owner=owner, pin_path=pin_path)
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def create(cls, map_type, key=None, value=None, max_entries=None, name=None,
               flags=MapFlags(0), numa_node=None, inner_map=None, map_extra=0):
        """Create a map in the kernel and return it as the class that fits its type.

        ``key`` and ``value`` are byte sizes, C type strings or ``btf.Type``s;
        typed maps carry BTF into the kernel so other tools see field names.
        Raises ``TypeError``/``ValueError``/``OverflowError`` for bad arguments
        (before any syscall), ``BpfPermissionError`` without CAP_BPF, and
        ``BpfError`` when the kernel refuses the map.  Needs Linux 4.x+ (BTF:
        5.x).
        """
        if isinstance(map_type, bool) or not isinstance(map_type, int):
            raise TypeError(f"map_type must be a bm.MapType, not {type(map_type).__name__}")
        _check_uint(int(map_type), "map_type")
        key_type, key_size = as_type(key, "key")
        value_type, value_size = as_type(value, "value")
        if max_entries is None:
            raise TypeError("create() needs max_entries")
        _check_uint(max_entries, "max_entries")
        name = _check_name(name)
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError(f"flags must be bm.MapFlags, not {type(flags).__name__}")
        _check_uint(int(flags), "flags")
        flags = int(flags)
        if numa_node is not None:
            _check_uint(numa_node, "numa_node")
            flags |= MapFlags.NUMA_NODE
        _check_uint(map_extra, "map_extra", _U64_MAX)
        inner_fd = 0
        if inner_map is not None:
            if isinstance(inner_map, Map):
                inner_fd = inner_map.fd
            else:
                inner_fd = _check_uint(inner_map, "inner_map (a Map or fd)", (1 << 31) - 1)
        what = f"map {name!r}" if name else "map"
        btf = None
        # The kernel refuses BTF that types only one of a key and a value
        # (EINVAL); keyless maps take value-only BTF where their type allows it
        # (bloom filter, not queue/stack: see _btf_values).
        klass = Map._registry.get(map_type, Map)
        if value_type is not None and (
                key_type is not None or (key_size == 0 and klass._btf_values)):
            btf = _btf_for_map(key_type, value_type)
        try:
            fd = _bpf.map_create(
                int(map_type), name, key_size, value_size, max_entries, flags=flags,
                btf_fd=btf.fd if btf else 0,
                btf_key_type_id=btf.key_type_id if btf else 0,
                btf_value_type_id=btf.value_type_id if btf else 0,
                inner_map_fd=inner_fd, numa_node=numa_node, map_extra=map_extra, what=what)
        finally:
            if btf is not None:
                btf.close()
        return Map._wrap(fd, key_type, value_type, typed_from_btf=False)

    @classmethod
    def from_id(cls, map_id):
        """Open the map with kernel id ``map_id``, typed from its BTF if it has one.

        Raises ``BpfError`` (ENOENT) when no such map exists and
        ``BpfPermissionError`` without CAP_SYS_ADMIN/CAP_BPF.
        """
        _check_uint(map_id, "map id")
        return cls._wrap(_bpf.map_get_fd_by_id(map_id))

    @classmethod
    def from_pin(cls, path):
        """Open the map pinned at ``path`` on bpffs, typed from its BTF if it has one."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"path must be a str or path, not {type(path).__name__}")
        return cls._wrap(_bpf.obj_get(path))

    @classmethod
    def from_fd(cls, fd):
        """Open the map behind file descriptor ``fd``, which is duplicated:
        the caller keeps (and closes) its own."""
        _check_uint(fd, "fd", (1 << 31) - 1)
        try:
            dup = os.dup(fd)
        except OSError as exc:
            raise BpfError(exc.errno, f"from_fd failed: fd {fd}: {exc.strerror}", op="from_fd") from None
        return cls._wrap(dup)

    # ------------------------------------------------------------ properties

    @property
    def fd(self):
        """The map's file descriptor (owned by this object)."""
        if self._fd < 0:
            raise ValueError("operation on a closed map")
        return self._fd

    @property
    def closed(self):
        return self._fd < 0

    @property
    def info(self):
        """A :class:`MapInfo` snapshot."""
        return MapInfo._from_c(_bpf.map_info(self.fd, self._what()))

    id = property(lambda self: self._info.id, doc="The map's kernel id.")
    name = property(lambda self: self._info.name, doc="The map's name (at most 15 characters).")
    type = property(lambda self: self._info.type, doc="The map's bm.MapType.")
    key_size = property(lambda self: self._info.key_size)
    value_size = property(lambda self: self._info.value_size)
    max_entries = property(lambda self: self._info.max_entries)
    flags = property(lambda self: self._info.flags)

    def _what(self):
        return f"map {self._info.name!r} (id {self._info.id})"

    def __repr__(self):
        if self._fd < 0:
            return f"<{type(self).__name__} {self._info.name!r} id={self._info.id} closed>"
        kt = T.c_name(self.key_type) if self.key_type is not None else f"{self.key_size} bytes"
        vt = (T.c_name(self.value_type) if self.value_type is not None
              else f"{self.value_size} bytes")
        tname = getattr(self.type, "name", self.type)
        return (f"<{type(self).__name__} {self._info.name!r} id={self._info.id} "
                f"type={tname} key={kt} value={vt} max_entries={self.max_entries}>")

    # Notebook and data views; the bodies live in pybpfmap.display and pybpfmap.data.
    def _repr_html_(self):
        from .. import display
        return display.render_html(self)

    def _repr_pretty_(self, p, cycle):
        from .. import display
        display.repr_pretty(self, p, cycle)

    def to_numpy(self):
        """Every entry as a numpy structured array with fields ``key`` and
        ``value`` (dtypes from the types; see :mod:`pybpfmap.data`), read with
        batch lookups.  Raises ``ImportError`` without numpy."""
        from .. import data
        return data.to_numpy(self)

    def to_pandas(self, percpu="long"):
        """Every entry as a ``pandas.DataFrame``, struct fields as columns
        (nested fields dotted); see :func:`pybpfmap.data.to_pandas`."""
        from .. import data
        return data.to_pandas(self, percpu)

    # ------------------------------------------------------------- lifetime

    def close(self):
        """Close the file descriptor; idempotent.  The kernel frees the map
        once nothing else (a program, a pin, another fd) holds it."""
        if self._fd >= 0:
            self._fd = -1
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def pin(self, path):
        """Pin the map at ``path`` on bpffs so it outlives this process."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"path must be a str or path, not {type(path).__name__}")
        _bpf.obj_pin(self.fd, path, self._what())
        self._pin_path = os.fsdecode(path)

    def unpin(self, path=None):
        """Remove the pin made by :meth:`pin` (or the one at ``path``)."""
        self.fd  # noqa: B018 - raise on a closed map
        path = path if path is not None else self._pin_path
        if path is None:
            raise ValueError(f"{self._what()} is not pinned by this object; pass a path")
        try:
            os.unlink(path)
        except OSError as exc:
            raise BpfError(exc.errno, f"unpin failed on {self._what()} at {os.fsdecode(path)!r}: "
                           f"{exc.strerror}", op="unpin") from None
        if os.fsdecode(path) == self._pin_path:  # path may be a Path or bytes
            self._pin_path = None

    def freeze(self):
        """Make the map read-only for user space (BPF_MAP_FREEZE).  Linux 5.2+."""
        _bpf.map_freeze(self.fd, self._what())

    # --------------------------------------------------- raw element access

    #: the errno of a full map (a trie says ENOSPC)
    _full_errno = errno.E2BIG
    #: what an EINVAL from an update means for this class (maps of maps,
    #: program arrays: a value that does not fit), or None
    _update_einval_hint = None

    def _raise(self, ret, op, key=None):
        err = -ret
        if err == errno.ENOENT and key is not None:
            raise KeyError(key)
        if err == errno.EINVAL and op == "update" and self._update_einval_hint:
            raise_errno(err, op, self._what(), map=self, hint=self._update_einval_hint)
        if err == errno.EEXIST and op in ("insert", "update"):
            raise KeyExistsError(err, f"{op} failed on {self._what()}: key {key!r} already exists",
                                 op=op, map=self)
        if err == self._full_errno and op in ("insert", "replace", "update", "push"):
            raise MapFullError(err, f"{op} failed on {self._what()}: the map is full "
                               f"({self.max_entries} entries)", op=op, map=self)
        raise_errno(err, op, self._what(), map=self)

    def _fail(self, err, op, key=None):
        """Raise for positive errno ``err`` from a fast path, which passes
        the fd unchecked: on a closed map (fd -1) the kernel says EBADF."""
        if self._fd < 0:
            raise ValueError("operation on a closed map")
        self._raise(-err, op, key)

    def _value_buffer(self):
        """A ``(cdata, buffer)`` pair of value size from this map's pool.

        The pool is a list: ``pop``/``append`` are atomic, so threads never
        share a buffer; give it back with ``self._pool.append(pair)``.
        """
        try:
            return self._pool.pop()
        except IndexError:
            cdata = ffi.new("char[]", max(self._vsize, 1))
            return cdata, ffi.buffer(cdata, self._vsize)

    def lookup(self, key, flags=0):
        """Return the value stored under ``key``; ``KeyError`` if there is none.

        ``flags=UpdateFlags.LOCK`` reads a value holding a ``struct
        bpf_spin_lock`` under that lock (BPF_F_LOCK, Linux 5.1+).
        """
        fd = self._fd
        if fd < 0:
            raise ValueError("operation on a closed map")
        kb = self._kenc(key)
        pool = self._pool
        try:
            pair = pool.pop()
        except IndexError:
            pair = self._value_buffer()
        if flags:
            _check_uint(int(flags), "flags", _U64_MAX)
            ret = lib.bpf_map_lookup_elem_flags(fd, kb, pair[0], flags)
            if ret == -errno.EINVAL and flags & UpdateFlags.LOCK:
                pool.append(pair)
                raise_errno(errno.EINVAL, "lookup", self._what(), map=self, hint=_LOCK_HINT)
        else:
            ret = _lookup_elem(fd, kb, pair[0])
        if ret:
            pool.append(pair)
            self._raise(ret, "lookup", key)
        value = self._vdec(pair[1])
        pool.append(pair)
        return value

    def set(self, key, value, flags=UpdateFlags.ANY):
        """Store ``value`` under ``key`` with update ``flags`` (BPF_MAP_UPDATE_ELEM).

        ``UpdateFlags.NOEXIST`` raises ``KeyExistsError`` for a present key,
        ``EXIST`` raises ``KeyError`` for a missing one; a full map raises
        ``MapFullError``.
        """
        fd = self._fd
        if fd < 0:
            raise ValueError("operation on a closed map")
        if flags.__class__ is not UpdateFlags:
            if isinstance(flags, bool) or not isinstance(flags, int):
                raise TypeError(f"flags must be bm.UpdateFlags, not {type(flags).__name__}")
            _check_uint(int(flags), "flags", _U64_MAX)
        kb = self._kenc(key)
        vb = self._venc(value)
        ret = _update_elem(fd, kb, vb, flags)
        if ret:
            # name the operation as the caller knows it (insert/replace/update)
            op = _UPDATE_OPS.get(flags & (UpdateFlags.NOEXIST | UpdateFlags.EXIST), "update")
            if ret == -errno.EINVAL and flags & UpdateFlags.LOCK:
                raise_errno(errno.EINVAL, op, self._what(), map=self, hint=_LOCK_HINT)
            # ENOENT means KeyError only for EXIST; EEXIST (NOEXIST) names the key
            self._raise(ret, op, key if flags & UpdateFlags.EXIST or ret == -errno.EEXIST else None)

    def delete(self, key):
        """Remove ``key``; ``KeyError`` if it is not there."""
        fd = self.fd
        kb = self._kc.encode(key)
        ret = lib.bpf_map_delete_elem(fd, kb)
        if ret < 0:
            self._raise(ret, "delete", key)

    def lookup_and_delete(self, key):
        """Remove ``key`` and return its value (atomically); ``KeyError`` if absent."""
        fd = self.fd
        kb = self._kc.encode(key) if self._ksize else ffi.NULL
        value = ffi.new("char[]", self._vsize)
        ret = lib.bpf_map_lookup_and_delete_elem(fd, kb, value)
        if ret < 0:
            self._raise(ret, "lookup_and_delete", key)
        return self._vc.decode(ffi.buffer(value))

    def next_key(self, key=None):
        """The key after ``key`` (the first key for ``None``); ``None`` at the end."""
        fd = self.fd
        kb = ffi.NULL if key is None else self._kc.encode(key)
        nxt = ffi.new("char[]", max(self._ksize, 1))
        ret = lib.bpf_map_get_next_key(fd, kb, nxt)
        if ret == -errno.ENOENT:
            return None
        check(ret, "get_next_key", self._what(), map=self)
        return self._kc.decode(ffi.buffer(nxt, self._ksize))

    # ------------------------------------------------------------ iteration

    def _raw_keys_next_key(self):
        """Yield every key (raw bytes) with GET_NEXT_KEY, each at most once.

        When the current key vanishes the kernel restarts from the first
        key; keys already seen are skipped and the walk goes on.  A map that
        keeps changing so fast that the walk cannot finish raises
        ``RuntimeError`` instead of looping for ever.
        """
        fd = self.fd
        ks = self._ksize
        cur = ffi.new("char[]", max(ks, 1))
        nxt = ffi.new("char[]", max(ks, 1))
        prev = ffi.NULL
        seen = set()
        steps = 0
        limit = 4 * self.max_entries + 1024
        while True:
            ret = lib.bpf_map_get_next_key(fd, prev, nxt)
            if ret == -errno.ENOENT:
                return
            if ret < 0:
                self._raise(ret, "get_next_key")
            steps += 1
            if steps > limit:
                raise RuntimeError(f"{self._what()} changed too much during iteration "
                                   f"({steps} steps for {len(seen)} keys)")
            kb = ffi.buffer(nxt, ks)[:]
            ffi.memmove(cur, nxt, ks)
            prev = cur
            if kb in seen:
                continue
            seen.add(kb)
            yield kb

    def _batch_chunks(self, delete=False):
        """Yield ``(keys, values, count)`` buffers from BPF_MAP_LOOKUP(_AND_DELETE)_BATCH.

        The buffers are reused between chunks: decode before the next one.
        Raises ``_NoBatch`` when the kernel has no batch operation for this
        map before anything was returned.
        """
        fd = self.fd
        ks, vs = self._ksize, self._vsize
        chunk = max(1, min(self.max_entries, BATCH_ENTRIES))
        keys = ffi.new("char[]", chunk * ks)
        values = ffi.new("char[]", chunk * vs)
        tok_size = max(ks, 8)
        in_tok = ffi.new("char[]", tok_size)
        out_tok = ffi.new("char[]", tok_size)
        count = ffi.new("__u32 *")
        opts = ffi.new("struct bpf_map_batch_opts *")
        opts.sz = ffi.sizeof("struct bpf_map_batch_opts")
        call = lib.bpf_map_lookup_and_delete_batch if delete else lib.bpf_map_lookup_batch
        in_ptr = ffi.NULL
        first = True
        while True:
            count[0] = chunk
            ret = call(fd, in_ptr, out_tok, keys, values, count, opts)
            n = count[0]
            if ret < 0:
                err = -ret
                if err == errno.ENOENT:
                    if n:
                        yield keys, values, n
                    return
                if err == errno.ENOSPC and n == 0:
                    chunk *= 2  # one hash bucket holds more than `chunk` keys
                    keys = ffi.new("char[]", chunk * ks)
                    values = ffi.new("char[]", chunk * vs)
                    continue
                if first and err in _NO_BATCH:
                    raise _NoBatch(err)
                self._raise(ret, "lookup_and_delete_batch" if delete else "lookup_batch")
            first = False
            if n:
                yield keys, values, n
            ffi.memmove(in_tok, out_tok, tok_size)
            in_ptr = in_tok

    def _iter_raw(self, values=True, delete=False):
        """Yield ``(key_bytes_buffer, key_offset, value_buffer, value_offset)``.

        Uses the batch operations when they work and GET_NEXT_KEY otherwise;
        either way the result is the same.
        """
        if self._use_batch:
            try:
                ks, vs = self._ksize, self._vsize
                for keys, vals, n in self._batch_chunks(delete):
                    kbuf = ffi.buffer(keys, n * ks)
                    vbuf = ffi.buffer(vals, n * vs)
                    for i in range(n):
                        yield kbuf, i * ks, vbuf, i * vs
                return
            except _NoBatch:
                self._use_batch = False
        yield from self._iter_raw_next_key(values, delete)

    def _iter_raw_next_key(self, values, delete):
        fd = self.fd
        vs = self._vsize
        value = ffi.new("char[]", vs)
        vbuf = ffi.buffer(value)
        op = lib.bpf_map_lookup_and_delete_elem if delete else lib.bpf_map_lookup_elem
        for kb in self._raw_keys_next_key():
            if values or delete:
                ret = op(fd, kb, value)
                if ret == -errno.ENOENT:
                    continue  # deleted since get_next_key saw it
                if ret < 0:
                    self._raise(ret, "lookup_and_delete" if delete else "lookup")
            yield kb, 0, vbuf, 0

    def _chunks(self, values=True, delete=False):
        """Yield ``(keys, values)`` lists, one pair per batch of entries.

        Each batch is decoded in one pass (``decode_many``); with GET_NEXT_KEY
        a batch is one entry.  ``values`` is ``None`` when not asked for.
        """
        kmany, vmany = self._kc.decode_many, self._vc.decode_many
        if self._use_batch:
            try:
                for keys, vals, n in self._batch_chunks(delete):
                    yield kmany(ffi.buffer(keys, n * self._ksize), n), \
                        (vmany(ffi.buffer(vals, n * self._vsize), n) if values else None)
                return
            except _NoBatch:
                self._use_batch = False
        kdec, vdec = self._kc.decode, self._vc.decode
        for kbuf, koff, vbuf, voff in self._iter_raw_next_key(values, delete):
            yield [kdec(kbuf, koff)], ([vdec(vbuf, voff)] if values else None)

    # Chained in C: no Python frame per entry.
    def _iter_keys(self):
        return _chain(keys for keys, _ in self._chunks(values=False))

    def _iter_items(self, delete=False):
        return _chain(_starmap(zip, self._chunks(delete=delete)))

    def _iter_values(self):
        return _chain(values for _, values in self._chunks())

    def __iter__(self):
        return self._iter_keys()

    def keys(self):
        """Iterate over the keys."""
        return self._iter_keys()

    def items(self):
        """Iterate over ``(key, value)`` pairs."""
        return self._iter_items()

    def values(self):
        """Iterate over the values."""
        return self._iter_values()

    # ---------------------------------------------------------- batch writes

    def _update_batch(self, pairs, flags=0):
        """Write ``(key, value)`` pairs; see :meth:`_update_batch_kv`."""
        pairs = pairs if isinstance(pairs, list) else list(pairs)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"expected (key, value) pairs, got {pair!r}")
        if pairs:
            keys, values = zip(*pairs)
            self._update_batch_kv(list(keys), list(values), flags)
        else:
            self.fd  # noqa: B018 - raise on a closed map

    def _update_batch_kv(self, keys, values, flags=0):
        """Write ``values[i]`` under ``keys[i]`` (two lists of equal length)
        with BPF_MAP_UPDATE_BATCH, falling back to one update per pair.

        Every pair is encoded before the first syscall, so bad input leaves
        the map untouched.  Raises ``MapFullError`` when the map fills up;
        the pairs before that point are written.
        """
        fd = self.fd
        n = len(keys)
        if not n:
            return
        key_list = keys
        keys = self._kc.encode_many(keys)
        values = self._vc.encode_many(values)
        ks, vs = self._ksize, self._vsize
        done = 0
        if self._use_batch:
            kbuf = ffi.from_buffer(keys)
            vbuf = ffi.from_buffer(values)
            count = ffi.new("__u32 *")
            opts = ffi.new("struct bpf_map_batch_opts *")
            opts.sz = ffi.sizeof("struct bpf_map_batch_opts")
            opts.elem_flags = flags
            while done < n:
                step = min(n - done, BATCH_ENTRIES)
                count[0] = step
                ret = lib.bpf_map_update_batch(fd, kbuf + done * ks, vbuf + done * vs, count, opts)
                if ret < 0:
                    if done == 0 and count[0] == 0 and -ret in _NO_BATCH:
                        self._use_batch = False
                        break
                    # count[0] is the number written, unless the kernel failed
                    # before looking at any (then it is left at `step`)
                    key = key_list[done + count[0]] if count[0] < step else None
                    self._raise(ret, "update", key)
                done += step
            else:
                return
        kraw, vraw = memoryview(keys).cast("B"), memoryview(values).cast("B")
        for i in range(done, n):
            ret = lib.bpf_map_update_elem(fd, bytes(kraw[i * ks:(i + 1) * ks]),
                                          bytes(vraw[i * vs:(i + 1) * vs]), flags)
            if ret < 0:
                self._raise(ret, "update", key_list[i])

    def _delete_batch(self, keys):
        """Delete every present key of ``keys``; return how many were deleted."""
        fd = self.fd
        keys = list(keys)
        ks = self._ksize
        raw = memoryview(self._kc.encode_many(keys)).cast("B")
        n = len(keys)
        deleted = 0
        start = 0
        if self._use_batch and n:
            kbuf = ffi.from_buffer(raw)
            count = ffi.new("__u32 *")
            opts = ffi.new("struct bpf_map_batch_opts *")
            opts.sz = ffi.sizeof("struct bpf_map_batch_opts")
            while start < n:
                step = min(n - start, BATCH_ENTRIES)
                count[0] = step
                ret = lib.bpf_map_delete_batch(fd, kbuf + start * ks, count, opts)
                deleted += count[0]
                if ret == 0:
                    start += step
                elif ret == -errno.ENOENT:
                    start += count[0] + 1  # skip the missing key
                elif start == 0 and deleted == 0 and -ret in _NO_BATCH:
                    self._use_batch = False
                    break
                else:
                    self._raise(ret, "delete_batch")
            else:
                return deleted
        for i in range(start, n):
            ret = lib.bpf_map_delete_elem(fd, bytes(raw[i * ks:(i + 1) * ks]))
            if ret == 0:
                deleted += 1
            elif ret != -errno.ENOENT:
                self._raise(ret, "delete")
        return deleted


_lookup_elem = lib.bpf_map_lookup_elem
_chain = itertools.chain.from_iterable
_starmap = itertools.starmap
_update_elem = lib.bpf_map_update_elem


def _fast_encoder(codec):
    """``codec.encode``, short-circuited to ``struct.pack`` for plain ints
    (falling back to the codec, which names the error, for anything else)."""
    st = getattr(codec, "_st", None)
    if isinstance(codec, IntCodec) and st is not None:
        pack, slow = st.pack, codec.encode

        def encode(value):
            if value.__class__ is int:
                try:
                    return pack(value)
                except struct.error:
                    pass
            return slow(value)
        return encode
    return codec.encode


def _scalar_name(codec):
    """'u32', 's32', 'u64' or 's64' for a plain integer codec of that kind
    (not bool, enum or float), else None."""
    if type(codec) is IntCodec and codec.size in (4, 8):
        return f"{'s' if codec.signed else 'u'}{codec.size * 8}"
    return None


def _fast_decoder(codec):
    """A function decoding one value at offset 0 of a buffer."""
    st = getattr(codec, "_st", None)
    if isinstance(codec, (IntCodec, FloatCodec)) and st is not None:
        unpack = st.unpack_from
        return lambda buf: unpack(buf)[0]
    if isinstance(codec, PerCpuCodec) and codec._st is not None:
        return codec._st.unpack_from
    return codec.decode


class _NoBatch(Exception):
    """The kernel has no batch operation for this map (internal)."""


def _btf_for_map(key_type, value_type):
    """Load BTF describing the key and value types; ``None`` when BTF support
    is not built in."""
    try:
        from ..btf import builder
    except ImportError:
        return None
    return builder.load_for_map(key_type, value_type)


def _usable(t, size):
    """``t`` when a codec of ``size`` bytes compiles from it, else ``None``."""
    if t is None:
        return None
    try:
        return t if compile_type(t).size == size else None
    except (TypeError, ValueError):
        return None


def _types_from_kernel(info):
    """The key and value types recorded in a map's BTF, or ``(None, None)``."""
    try:
        from ..btf import reader
    except ImportError:
        return None, None
    try:
        return reader.map_types(info)
    except (BpfError, TypeError, ValueError):
        return None, None
