"""Reading BTF through libbpf into the type tree.

A :class:`Spec` wraps one libbpf ``struct btf`` (from an object file, the
kernel's vmlinux, a kernel BTF object by id, or a pointer someone else owns)
and converts its types to :mod:`pybpfmap.btf.types` objects on demand, one id
at a time: asking for ``struct task_struct`` in vmlinux converts that struct
and the types it holds by value, not the ~100k others.  Pointer targets are
converted when first looked at.  Every id converts to one Type object per
Spec, so cyclic pointers come back as cycles.
"""
import errno as _errno
import os
import threading
import weakref

from .._ffi import ffi, lib
from .. import _log
from ..errors import check, raise_errno
from . import types as T

__all__ = ["Spec", "map_types"]

_VMLINUX_PATH = "/sys/kernel/btf/vmlinux"

_KIND_NAMES = {
    "int": (lib.BTF_KIND_INT,), "ptr": (lib.BTF_KIND_PTR,), "array": (lib.BTF_KIND_ARRAY,),
    "struct": (lib.BTF_KIND_STRUCT,), "union": (lib.BTF_KIND_UNION,),
    "enum": (lib.BTF_KIND_ENUM, lib.BTF_KIND_ENUM64), "fwd": (lib.BTF_KIND_FWD,),
    "typedef": (lib.BTF_KIND_TYPEDEF,), "volatile": (lib.BTF_KIND_VOLATILE,),
    "const": (lib.BTF_KIND_CONST,), "restrict": (lib.BTF_KIND_RESTRICT,),
    "func": (lib.BTF_KIND_FUNC,), "func_proto": (lib.BTF_KIND_FUNC_PROTO,),
    "var": (lib.BTF_KIND_VAR,), "datasec": (lib.BTF_KIND_DATASEC,),
    "float": (lib.BTF_KIND_FLOAT,), "decl_tag": (lib.BTF_KIND_DECL_TAG,),
    "type_tag": (lib.BTF_KIND_TYPE_TAG,),
}
_CLASS_KINDS = {T.Int: "int", T.Ptr: "ptr", T.Array: "array", T.Union: "union",
                T.Struct: "struct", T.Enum: "enum", T.Fwd: "fwd", T.Typedef: "typedef",
                T.Volatile: "volatile", T.Const: "const", T.Restrict: "restrict",
                T.Func: "func", T.FuncProto: "func_proto", T.Var: "var",
                T.Datasec: "datasec", T.Float: "float", T.DeclTag: "decl_tag",
                T.TypeTag: "type_tag"}
_QUALIFIER_KINDS = {lib.BTF_KIND_TYPEDEF, lib.BTF_KIND_VOLATILE, lib.BTF_KIND_CONST,
                    lib.BTF_KIND_RESTRICT, lib.BTF_KIND_TYPE_TAG}


class _LazyPtr(T.Ptr):
    """A pointer whose target is converted on first access."""

    def __init__(self, spec, target_id, pointer_size):
        self._spec = spec
        self._target_id = target_id
        self._target = None
        self.pointer_size = pointer_size

    @property
    def target(self):
        if self._target is None:
            self._target = self._spec.type_by_id(self._target_id)
        return self._target

    @target.setter
    def target(self, value):
        self._target = value


def _null_error(op, what):
    err = ffi.errno or _errno.EINVAL
    raise_errno(err, op, what)


class Spec:
    """A BTF blob: its types by id and by name, converted on demand.

    Use the constructors :meth:`from_file`, :meth:`vmlinux`,
    :meth:`from_kernel_id` and :meth:`from_libbpf`.  ``len(spec)`` is the
    number of types (void, id 0, excluded; base types included for split
    BTF), iteration yields them in id order.
    """

    _vmlinux = None
    _vmlinux_lock = threading.Lock()

    def __init__(self, btf, *, owner=None, base=None, free=True, what="BTF"):
        if btf == ffi.NULL:
            raise ValueError("NULL struct btf pointer")
        self._btf = btf
        self._owner = owner          # keeps whoever owns btf alive
        self._base = base            # the Spec of the base BTF (split BTF)
        self._what = what
        self._types = {0: T.VOID}
        self._ids = {}
        self._lock = threading.RLock()
        self._base_count = lib.btf__type_cnt(base._btf) if base is not None else 1
        ptr_size = lib.btf__pointer_size(btf)
        self._ptr_size = ptr_size if ptr_size in (4, 8) else 8
        self._finalizer = weakref.finalize(self, lib.btf__free, btf) if free else None

    # -- constructors ----------------------------------------------------------------

    @classmethod
    def from_file(cls, path):
        """Read the BTF of an ELF object file (``.BTF`` section) or a raw BTF file.

        Raises ``BpfError`` (``FileNotFoundError``-like errno) when the file
        cannot be read or has no BTF.
        """
        path = os.fsdecode(path)
        with _log.capture() as log:  # raised below rather than printed to stderr too
            btf = lib.btf__parse(path.encode(), ffi.NULL)
        if btf == ffi.NULL:
            err = ffi.errno or _errno.EINVAL
            raise_errno(err if err < 4000 else _errno.EINVAL, "btf__parse", path,
                        hint=_log.summary(log, None))
        return cls(btf, what=path)

    @classmethod
    def vmlinux(cls):
        """The running kernel's BTF (``/sys/kernel/btf/vmlinux``), read once and cached.

        Needs a kernel built with CONFIG_DEBUG_INFO_BTF (5.4+).
        """
        with cls._vmlinux_lock:
            if cls._vmlinux is None:
                btf = lib.btf__parse(_VMLINUX_PATH.encode(), ffi.NULL)
                if btf == ffi.NULL:
                    _null_error("btf__parse", _VMLINUX_PATH)
                cls._vmlinux = cls(btf, what="vmlinux")
            return cls._vmlinux

    @classmethod
    def from_kernel_id(cls, btf_id):
        """Load the kernel BTF object ``btf_id`` (e.g. a map's ``btf_id``).

        Kernel module BTF is split BTF on top of vmlinux and is loaded as such.
        Raises ``BpfError`` (ENOENT when no such id).
        """
        btf_id = int(btf_id)
        what = f"BTF id {btf_id}"
        fd = check(lib.bpf_btf_get_fd_by_id(btf_id), "btf_get_fd_by_id", what)
        try:
            info = ffi.new("struct bpf_btf_info *")
            name = ffi.new("char[64]")
            info.name = ffi.cast("__u64", ffi.cast("uintptr_t", name))
            info.name_len = 64
            size = ffi.new("__u32 *", ffi.sizeof("struct bpf_btf_info"))
            check(lib.bpf_btf_get_info_by_fd(fd, info, size), "btf_get_info_by_fd", what)
            kernel = bool(info.kernel_btf)
            btf_name = ffi.string(name).decode(errors="replace")
        finally:
            os.close(fd)
        if kernel and btf_name != "vmlinux":
            base = cls.vmlinux()
            btf = lib.btf__load_from_kernel_by_id_split(btf_id, base._btf)
            if btf == ffi.NULL:
                _null_error("btf__load_from_kernel_by_id_split", what)
            return cls(btf, base=base, what=f"{what} ({btf_name})")
        btf = lib.btf__load_from_kernel_by_id(btf_id)
        if btf == ffi.NULL:
            _null_error("btf__load_from_kernel_by_id", what)
        return cls(btf, what=f"{what} ({btf_name})" if btf_name else what)

    @classmethod
    def from_libbpf(cls, ptr, owner=None):
        """Wrap a ``struct btf *`` that someone else owns (e.g. ``bpf_object__btf``).

        ``owner`` is kept alive as long as the Spec; the pointer is not freed.
        """
        return cls(ffi.cast("struct btf *", ptr), owner=owner, free=False, what="BTF")

    def close(self):
        """Free the libbpf object now (types already converted stay usable)."""
        if self._finalizer is not None:
            self._finalizer()

    # -- lookups -----------------------------------------------------------------

    @property
    def btf(self):
        """The underlying libbpf ``struct btf *``."""
        return self._btf

    @property
    def base(self):
        """The base Spec of split BTF (vmlinux for modules), else None."""
        return self._base

    def __len__(self):
        return lib.btf__type_cnt(self._btf) - 1

    def __iter__(self):
        for i in range(1, lib.btf__type_cnt(self._btf)):
            yield self.type_by_id(i)

    def __repr__(self):
        return f"<btf.Spec {self._what}: {len(self)} types>"

    def type_by_id(self, type_id):
        """The Type of ``type_id`` (0 is void); ``KeyError`` for an unknown id."""
        t = self._types.get(type_id)
        if t is not None:
            return t
        if self._base is not None and 0 < type_id < self._base_count:
            return self._base.type_by_id(type_id)
        if not 0 < type_id < lib.btf__type_cnt(self._btf):
            raise KeyError(f"{self._what} has no type id {type_id}")
        with self._lock:
            return self._convert(type_id)

    def type_id(self, t):
        """The id of a Type this Spec (or its base) produced; ``KeyError`` otherwise."""
        try:
            return self._ids[id(t)]
        except KeyError:
            if self._base is not None:
                return self._base.type_id(t)
            raise KeyError(f"{t!r} does not come from {self._what}") from None

    def find(self, name, kind=None):
        """The type named ``name``; ``kind`` narrows it ('struct', 'enum', T.Struct ...).

        Raises ``KeyError`` when there is none.
        """
        if isinstance(kind, type):
            kind = _CLASS_KINDS.get(kind)
            if kind is None:
                raise ValueError(f"no BTF kind for {kind!r}")
        bname = name.encode()
        if kind is None:
            tid = lib.btf__find_by_name(self._btf, bname)
        else:
            if kind not in _KIND_NAMES:
                raise ValueError(f"unknown BTF kind {kind!r} "
                                 f"(one of {', '.join(sorted(_KIND_NAMES))})")
            tid = -1
            for k in _KIND_NAMES[kind]:
                tid = lib.btf__find_by_name_kind(self._btf, bname, k)
                if tid > 0:
                    break
        if tid <= 0:
            raise KeyError(f"{self._what} has no {kind + ' ' if kind else ''}type {name!r}")
        return self.type_by_id(tid)

    # -- conversion --------------------------------------------------------------

    def _str(self, off):
        s = lib.btf__name_by_offset(self._btf, off)
        return ffi.string(s).decode(errors="replace") if s != ffi.NULL else ""

    def _raw(self, type_id):
        return lib.btf__type_by_id(self._btf, type_id)

    def _resolve_raw(self, type_id):
        """Follow typedefs/qualifiers by id: the raw btf_type that decides layout."""
        for _ in range(64):
            t = self._raw(type_id)
            if t == ffi.NULL or lib.btf_kind(t) not in _QUALIFIER_KINDS:
                return t
            type_id = t.type
        return ffi.NULL

    def _convert(self, root):
        """Convert ``root`` and what it holds by value, without recursion."""
        pending = []
        shell = self._shell
        result = shell(root, pending)
        while pending:
            type_id, node = pending.pop()
            self._fill(type_id, node, pending)
        return result

    def _shell(self, type_id, pending):
        """The (possibly unfilled) Type of ``type_id``; new ones go on ``pending``."""
        node = self._types.get(type_id)
        if node is not None:
            return node
        if self._base is not None and 0 < type_id < self._base_count:
            return self._base.type_by_id(type_id)
        t = self._raw(type_id)
        if t == ffi.NULL:
            raise KeyError(f"{self._what} has no type id {type_id}")
        kind = lib.btf_kind(t)
        name = self._str(t.name_off)
        fill = True
        if kind == lib.BTF_KIND_INT:
            enc = lib.btf_int_encoding(t)
            node = T.Int(name, t.size, signed=bool(enc & lib.BTF_INT_SIGNED),
                         char=bool(enc & lib.BTF_INT_CHAR) or name in (
                             "char", "signed char", "unsigned char"),
                         bool=bool(enc & lib.BTF_INT_BOOL),
                         bits=lib.btf_int_bits(t), offset=lib.btf_int_offset(t))
            fill = False
        elif kind == lib.BTF_KIND_FLOAT:
            node = T.Float(name, t.size)
            fill = False
        elif kind == lib.BTF_KIND_PTR:
            node = _LazyPtr(self, t.type, self._ptr_size)
            fill = False
        elif kind == lib.BTF_KIND_ARRAY:
            node = T.Array(None, lib.btf_array(t).nelems)
        elif kind == lib.BTF_KIND_STRUCT:
            node = T.Struct(name, t.size)
        elif kind == lib.BTF_KIND_UNION:
            node = T.Union(name, t.size)
        elif kind in (lib.BTF_KIND_ENUM, lib.BTF_KIND_ENUM64):
            node = T.Enum(name, t.size, signed=bool(lib.btf_kflag(t)))
        elif kind == lib.BTF_KIND_FWD:
            node = T.Fwd(name, union=bool(lib.btf_kflag(t)))
            fill = False
        elif kind == lib.BTF_KIND_TYPEDEF:
            node = T.Typedef(name, None)
        elif kind == lib.BTF_KIND_VOLATILE:
            node = T.Volatile(None)
        elif kind == lib.BTF_KIND_CONST:
            node = T.Const(None)
        elif kind == lib.BTF_KIND_RESTRICT:
            node = T.Restrict(None)
        elif kind == lib.BTF_KIND_TYPE_TAG:
            node = T.TypeTag(name, None)
        elif kind == lib.BTF_KIND_FUNC:
            node = T.Func(name, None, linkage=lib.btf_vlen(t))
        elif kind == lib.BTF_KIND_FUNC_PROTO:
            node = T.FuncProto(None)
        elif kind == lib.BTF_KIND_VAR:
            node = T.Var(name, None, linkage=lib.btf_var(t).linkage)
        elif kind == lib.BTF_KIND_DATASEC:
            node = T.Datasec(name, t.size)
        elif kind == lib.BTF_KIND_DECL_TAG:
            node = T.DeclTag(name, None, lib.btf_decl_tag(t).component_idx)
        else:
            raise ValueError(f"{self._what}: type id {type_id} has unknown BTF kind {kind}")
        self._types[type_id] = node
        self._ids[id(node)] = type_id
        if fill:
            pending.append((type_id, node))
        return node

    def _fill(self, type_id, node, pending):
        t = self._raw(type_id)
        kind = lib.btf_kind(t)
        shell = self._shell
        if kind == lib.BTF_KIND_ARRAY:
            arr = lib.btf_array(t)
            node.elem = shell(arr.type, pending)
            node.index_type = shell(arr.index_type, pending) if arr.index_type else None
        elif kind in (lib.BTF_KIND_STRUCT, lib.BTF_KIND_UNION):
            members = lib.btf_members(t)
            kflag = lib.btf_kflag(t)
            out = []
            for i in range(lib.btf_vlen(t)):
                m = members[i]
                bit_offset = lib.btf_member_bit_offset(t, i)
                bits = lib.btf_member_bitfield_size(t, i)
                if not kflag:
                    # Old-style bitfields live in the int type's bits/offset.
                    rt = self._resolve_raw(m.type)
                    if rt != ffi.NULL and lib.btf_kind(rt) == lib.BTF_KIND_INT:
                        ibits = lib.btf_int_bits(rt)
                        ioff = lib.btf_int_offset(rt)
                        if ioff or ibits != rt.size * 8:
                            bit_offset += ioff
                            bits = ibits
                out.append(T.Member(self._str(m.name_off), shell(m.type, pending),
                                    bit_offset, bits))
            node.members = out
        elif kind in (lib.BTF_KIND_ENUM, lib.BTF_KIND_ENUM64):
            values = {}
            n = lib.btf_vlen(t)
            signed = bool(lib.btf_kflag(t))
            if kind == lib.BTF_KIND_ENUM:
                vals = lib.btf_enum(t)
                for i in range(n):
                    v = vals[i].val
                    if not signed and v < 0:
                        v += 1 << 32
                    values[self._str(vals[i].name_off)] = v
            else:
                vals = lib.btf_enum64(t)
                for i in range(n):
                    v = lib.btf_enum64_value(vals + i)
                    if signed and v >= 1 << 63:
                        v -= 1 << 64
                    values[self._str(vals[i].name_off)] = v
            node.values = values
        elif kind in _QUALIFIER_KINDS:
            node.type = shell(t.type, pending)
        elif kind == lib.BTF_KIND_FUNC:
            node.proto = shell(t.type, pending)
        elif kind == lib.BTF_KIND_FUNC_PROTO:
            node.return_type = shell(t.type, pending)
            params = lib.btf_params(t)
            node.params = [T.Param(self._str(params[i].name_off), shell(params[i].type, pending))
                           for i in range(lib.btf_vlen(t))]
        elif kind == lib.BTF_KIND_VAR:
            node.type = shell(t.type, pending)
        elif kind == lib.BTF_KIND_DATASEC:
            infos = lib.btf_var_secinfos(t)
            node.vars = [T.VarSecinfo(shell(infos[i].type, pending), infos[i].offset,
                                      infos[i].size) for i in range(lib.btf_vlen(t))]
        elif kind == lib.BTF_KIND_DECL_TAG:
            node.type = shell(t.type, pending)


def map_types(info):
    """The (key_type, value_type) of a map, from its BTF in the kernel.

    ``info`` has ``btf_id``, ``btf_key_type_id`` and ``btf_value_type_id``
    (a map's info).  Either is None when the map carries no such type.
    Raises ``BpfError`` if the map's BTF cannot be loaded.
    """
    btf_id = getattr(info, "btf_id", 0)
    key_id = getattr(info, "btf_key_type_id", 0)
    value_id = getattr(info, "btf_value_type_id", 0)
    if not btf_id or not (key_id or value_id):
        return None, None
    spec = Spec.from_kernel_id(btf_id)
    key = spec.type_by_id(key_id) if key_id else None
    value = spec.type_by_id(value_id) if value_id else None
    return key, value
