"""Type tree to BTF: build a libbpf ``struct btf`` and load it into the kernel.

:func:`build` emits every type reachable from the given ones exactly once
(memoised by identity).  Ids are assigned before anything is emitted, and
BTF lets a type refer to a later id, so cyclic pointers need no special
care.  :func:`load_for_map` builds and loads the BTF a map is created with
(``btf_fd``, ``btf_key_type_id``, ``btf_value_type_id``).
"""
import errno as _errno

from .._ffi import ffi, lib
from .. import _log
from ..errors import BpfError, check, raise_errno
from . import types as T

__all__ = ["build", "load_for_map", "MapBtf"]

_BTF_FWD_STRUCT, _BTF_FWD_UNION = 0, 1
_LOG_SIZE = 1 << 16


def _cstr(name):
    return name.encode() if name else ffi.NULL


class _Builder:
    def __init__(self, opaque_pointers):
        self.opaque = opaque_pointers
        self.ids = {}
        self.order = []
        self.ptr_targets = {}   # Ptr -> the type its BTF points at
        self.fwds = {}          # struct/union -> its Fwd (opaque pointers)
        self._index_type = None

    def index_type(self):
        if self._index_type is None:
            self._index_type = T.Int("__ARRAY_SIZE_TYPE__", 4)
        return self._index_type

    def _children(self, t):
        if isinstance(t, T.Ptr):
            target = t.target
            if self.opaque:
                r = T.resolve(target)
                if isinstance(r, T.Struct):
                    if r.name:
                        fwd = self.fwds.get(r)
                        if fwd is None:
                            fwd = self.fwds[r] = T.Fwd(r.name, union=isinstance(r, T.Union))
                        target = fwd
                    else:
                        target = T.VOID
            self.ptr_targets[t] = target
            return [target]
        if isinstance(t, T.Array):
            idx = t.index_type
            if idx is None or not isinstance(T.resolve(idx), T.Int):
                idx = self.index_type()
            return [t.elem, idx]
        if isinstance(t, T.Struct):
            return [m.type for m in t.members]
        if isinstance(t, (T.Typedef, T.Volatile, T.Const, T.Restrict, T.TypeTag, T.Var,
                          T.DeclTag)):
            return [t.type]
        if isinstance(t, T.Func):
            return [t.proto]
        if isinstance(t, T.FuncProto):
            return [t.return_type] + [p.type for p in t.params]
        if isinstance(t, T.Datasec):
            return [v.var for v in t.vars]
        return []

    def assign(self, roots, first_id):
        stack = [t for t in reversed(roots) if t is not None]
        while stack:
            t = stack.pop()
            if isinstance(t, T.Void) or t in self.ids:
                continue
            if not isinstance(t, T.Type):
                raise TypeError(f"cannot build BTF for {t!r}: not a btf.Type")
            self.ids[t] = first_id + len(self.order)
            self.order.append(t)
            stack.extend(reversed(self._children(t)))

    def id_of(self, t):
        return 0 if isinstance(t, T.Void) else self.ids[t]

    def emit(self, btf, t):
        what = T.c_name(t)
        if isinstance(t, T.Int):
            if t.bool:
                enc = lib.BTF_INT_BOOL
            elif t.signed:
                enc = lib.BTF_INT_SIGNED
            elif t.char:
                enc = lib.BTF_INT_CHAR
            else:
                enc = 0
            name = t.name or f"{'' if t.signed else 'u'}int{t.size * 8}"
            return check(lib.btf__add_int(btf, name.encode(), t.size, enc), "btf__add_int", what)
        if isinstance(t, T.Float):
            name = t.name or ("float" if t.size == 4 else "double")
            return check(lib.btf__add_float(btf, name.encode(), t.size), "btf__add_float", what)
        if isinstance(t, T.Ptr):
            return check(lib.btf__add_ptr(btf, self.id_of(self.ptr_targets[t])),
                         "btf__add_ptr", what)
        if isinstance(t, T.Array):
            idx = t.index_type
            if idx is None or not isinstance(T.resolve(idx), T.Int):
                idx = self.index_type()
            return check(lib.btf__add_array(btf, self.id_of(idx), self.id_of(t.elem),
                                            t.nelems), "btf__add_array", what)
        if isinstance(t, T.Struct):
            add = lib.btf__add_union if isinstance(t, T.Union) else lib.btf__add_struct
            tid = check(add(btf, _cstr(t.name), t.size), "btf__add_struct", what)
            for m in t.members:
                check(lib.btf__add_field(btf, _cstr(m.name), self.id_of(m.type),
                                         m.bit_offset, m.bitfield_size),
                      "btf__add_field", f"{what}.{m.name or '<anonymous>'}")
            return tid
        if isinstance(t, T.Enum):
            values = t.values
            wide = any(not -(1 << 31) <= v < (1 << 32) for v in values.values())
            if wide:
                signed = t.signed or any(v < 0 for v in values.values())
                tid = check(lib.btf__add_enum64(btf, _cstr(t.name), t.size, signed),
                            "btf__add_enum64", what)
                for name, v in values.items():
                    check(lib.btf__add_enum64_value(btf, name.encode(), v & ((1 << 64) - 1)),
                          "btf__add_enum64_value", f"{what}.{name}")
                return tid
            tid = check(lib.btf__add_enum(btf, _cstr(t.name), t.size), "btf__add_enum", what)
            for name, v in values.items():
                if v >= 1 << 31:
                    v -= 1 << 32  # stored as __s32; the enum stays unsigned
                check(lib.btf__add_enum_value(btf, name.encode(), v),
                      "btf__add_enum_value", f"{what}.{name}")
            return tid
        if isinstance(t, T.Fwd):
            if not t.name:
                raise ValueError("cannot build BTF for an anonymous forward declaration")
            return check(lib.btf__add_fwd(btf, t.name.encode(),
                                          _BTF_FWD_UNION if t.union else _BTF_FWD_STRUCT),
                         "btf__add_fwd", what)
        if isinstance(t, T.Typedef):
            if not t.name:
                raise ValueError("cannot build BTF for a typedef without a name")
            return check(lib.btf__add_typedef(btf, t.name.encode(), self.id_of(t.type)),
                         "btf__add_typedef", what)
        if isinstance(t, T.Volatile):
            return check(lib.btf__add_volatile(btf, self.id_of(t.type)), "btf__add_volatile", what)
        if isinstance(t, T.Const):
            return check(lib.btf__add_const(btf, self.id_of(t.type)), "btf__add_const", what)
        if isinstance(t, T.Restrict):
            return check(lib.btf__add_restrict(btf, self.id_of(t.type)), "btf__add_restrict", what)
        if isinstance(t, T.TypeTag):
            return check(lib.btf__add_type_tag(btf, t.name.encode(), self.id_of(t.type)),
                         "btf__add_type_tag", what)
        if isinstance(t, T.Func):
            return check(lib.btf__add_func(btf, t.name.encode(), t.linkage, self.id_of(t.proto)),
                         "btf__add_func", what)
        if isinstance(t, T.FuncProto):
            tid = check(lib.btf__add_func_proto(btf, self.id_of(t.return_type)),
                        "btf__add_func_proto", what)
            for p in t.params:
                check(lib.btf__add_func_param(btf, _cstr(p.name), self.id_of(p.type)),
                      "btf__add_func_param", what)
            return tid
        if isinstance(t, T.Var):
            return check(lib.btf__add_var(btf, t.name.encode(), t.linkage, self.id_of(t.type)),
                         "btf__add_var", what)
        if isinstance(t, T.Datasec):
            tid = check(lib.btf__add_datasec(btf, t.name.encode(), t.size), "btf__add_datasec",
                        what)
            for v in t.vars:
                check(lib.btf__add_datasec_var_info(btf, self.id_of(v.var), v.offset, v.size),
                      "btf__add_datasec_var_info", what)
            return tid
        if isinstance(t, T.DeclTag):
            return check(lib.btf__add_decl_tag(btf, t.name.encode(), self.id_of(t.type),
                                               t.component_idx), "btf__add_decl_tag", what)
        raise TypeError(f"cannot build BTF for {t!r} (kind {t.kind})")


def _build(types, opaque_pointers):
    if isinstance(types, T.Type):
        types = [types]
    roots = [t for t in types if t is not None]
    raw = lib.btf__new_empty()
    if raw == ffi.NULL:
        raise_errno(ffi.errno or _errno.ENOMEM, "btf__new_empty")
    btf = ffi.gc(raw, lib.btf__free)
    b = _Builder(opaque_pointers)
    b.assign(roots, lib.btf__type_cnt(btf))
    for t in b.order:
        got = b.emit(btf, t)
        if got != b.ids[t]:  # pragma: no cover - would be a bug here
            raise AssertionError(f"BTF id of {t!r} is {got}, expected {b.ids[t]}")
    return btf, b.ids


def build(types, *, opaque_pointers=False):
    """Build BTF holding ``types`` (a Type or an iterable of them) and all they reach.

    Returns ``(btf, ids)``: a libbpf ``struct btf *`` (freed when garbage
    collected, or at once with ``ffi.release(btf)``) and a dict from each
    emitted Type to its id.  With ``opaque_pointers``, pointers to structs
    and unions point at a forward declaration instead of pulling in the
    struct.  Raises ``TypeError``/``ValueError`` for types BTF cannot hold.
    """
    return _build(types, opaque_pointers)


def _kernel_log(btf):
    """Load the raw BTF again with a log buffer: the kernel's reason, or ''."""
    size = ffi.new("__u32 *")
    data = lib.btf__raw_data(btf, size)
    if data == ffi.NULL:
        return ""
    log = ffi.new("char[]", _LOG_SIZE)
    opts = ffi.new("struct bpf_btf_load_opts *")
    opts.sz = ffi.sizeof("struct bpf_btf_load_opts")
    opts.log_buf = log
    opts.log_size = _LOG_SIZE
    opts.log_level = 1
    fd = lib.bpf_btf_load(data, size[0], opts)
    if fd >= 0:  # pragma: no cover - it loaded this time
        import os
        os.close(fd)
        return ""
    return ffi.string(log).decode(errors="replace").strip()


class MapBtf:
    """BTF loaded into the kernel for one map.

    ``fd`` is the BTF object's file descriptor, ``key_type_id`` and
    ``value_type_id`` the ids to pass to ``bpf_map_create`` (0: no type).
    ``close()`` (idempotent; also a context manager and run at garbage
    collection) releases it; a map created from it keeps its own reference.
    """

    def __init__(self, btf, ids, key_type, value_type):
        self._btf = btf
        self.ids = ids
        self.key_type = key_type
        self.value_type = value_type
        self.key_type_id = ids[key_type] if key_type is not None else 0
        self.value_type_id = ids[value_type] if value_type is not None else 0

    @property
    def fd(self):
        if self._btf is None:
            raise ValueError("the map BTF is closed")
        return lib.btf__fd(self._btf)

    @property
    def btf(self):
        """The libbpf ``struct btf *``."""
        if self._btf is None:
            raise ValueError("the map BTF is closed")
        return self._btf

    @property
    def closed(self):
        return self._btf is None

    def close(self):
        btf, self._btf = self._btf, None
        if btf is not None:
            ffi.release(btf)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self._btf is None else f"fd {lib.btf__fd(self._btf)}"
        return (f"<MapBtf {state} key={self.key_type_id} value={self.value_type_id}>")


def load_for_map(key_type, value_type):
    """Build BTF for a map's key and value types and load it into the kernel.

    ``key_type``/``value_type`` are Types or None (no type: id 0).  Pointers
    to structs are emitted as pointers to forward declarations.  Returns a
    :class:`MapBtf`.  Raises ``BpfError`` with the kernel's BTF log when the
    kernel rejects the BTF (BTF loading needs Linux 4.18; CAP_BPF).
    """
    btf, ids = _build([key_type, value_type], True)
    with _log.capture():  # the failure is raised below, not printed to stderr too
        err = lib.btf__load_into_kernel(btf)
    if err < 0:
        log = _kernel_log(btf)
        what = f"BTF for key {T.c_name(key_type) if key_type is not None else '-'}, " \
               f"value {T.c_name(value_type) if value_type is not None else '-'}"
        try:
            raise_errno(-err, "btf_load", what)
        except BpfError as exc:
            if log:
                exc.args = (exc.errno, f"{exc.strerror}\nkernel BTF log:\n{log}")
                exc.strerror = exc.args[1]
            raise
    return MapBtf(btf, ids, key_type, value_type)
