"""BPF objects (ELF files built by ``clang -target bpf``): open, edit, load.

``BpfObject.open`` reads an object without touching the kernel; its
``maps`` are then editable :class:`MapSpec`s.  ``load()`` creates the maps and
loads the programs; afterwards ``maps`` gives live, typed :class:`Map`s and
``programs`` gives :class:`Program`s that can be attached or test-run.
"""
import collections.abc
import dataclasses
import errno
import os
import struct
import weakref

from . import _log
from ._ffi import ffi, lib
from .enums import MapFlags, map_type
from .errors import (BpfError, LoadError, check, needs_for_map, needs_for_programs,
                     raise_errno)
from .maps.base import Map, _check_uint

__all__ = ["BpfObject", "MapSpec", "Program", "Link", "TestRun", "load"]


def _errno_of(ptr):
    """errno for a libbpf call that returned NULL.  libbpf's own codes
    (LIBBPF_ERRNO__*, 4000 and up: bad ELF, bad relocation ...) become
    EINVAL; the message keeps libbpf's explanation."""
    err = ffi.errno
    if not err or err >= 4000:
        return errno.EINVAL
    return err


def _cstr(p):
    return ffi.string(p).decode(errors="replace") if p != ffi.NULL else None


# ------------------------------------------------------------ legacy maps

def _elf_legacy_maps(data):
    """Names of the maps in a legacy ``maps`` ELF section (struct bpf_map_def),
    or ``None`` when the object has no such section or is not a 64-bit ELF."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    end = "<" if data[5] == 1 else ">"
    try:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        sections = []
        for i in range(shnum):
            off = shoff + i * shentsize
            name, stype, _flags, _addr, offset, size, link, _info, _align, entsize = \
                struct.unpack_from(end + "IIQQQQIIQQ", data, off)
            sections.append((name, stype, offset, size, link, entsize))
        strtab = sections[shstrndx]

        def sname(sec_off, idx):
            start = sec_off + idx
            return data[start:data.index(b"\0", start)].decode(errors="replace")

        names = [sname(strtab[2], s[0]) for s in sections]
        if "maps" not in names:
            return None
        maps_idx = names.index("maps")
        found = []
        for sec in sections:
            if sec[1] != 2:  # SHT_SYMTAB
                continue
            symstr = sections[sec[4]]
            for off in range(sec[2], sec[2] + sec[3], sec[5] or 24):
                st_name, _info, _other, st_shndx = struct.unpack_from(end + "IBBH", data, off)
                if st_shndx == maps_idx and st_name:
                    found.append(sname(symstr[2], st_name))
        return sorted(set(found))
    except (struct.error, IndexError, ValueError, OverflowError):  # offsets past 2**63
        return None


# ------------------------------------------------------------------ specs

class MapSpec:
    """A map of an object before load: editable description, no kernel object.

    Attributes ``type``, ``key_size``, ``value_size``, ``max_entries``,
    ``flags``, ``numa_node``, ``map_extra`` and ``pinning`` (the pin path, or
    ``None``) can be changed until ``load()``.  ``key_type``/``value_type``
    are the BTF types the object declares.
    """

    def __init__(self, obj, ptr):
        self._obj = obj
        self._ptr = ptr
        self.name = _cstr(lib.bpf_map__name(ptr))
        # libbpf drops the BTF ids of some map types (queue, stack, devmap,
        # sockmap ...) at load, so remember what the object declared
        self._btf_ids = (lib.bpf_map__btf_key_type_id(ptr), lib.bpf_map__btf_value_type_id(ptr))

    def _live(self):
        self._obj._check_open()
        if self._obj.loaded:
            raise ValueError(f"map {self.name!r}: the object is loaded; edit specs before load()")
        return self._ptr

    def _set(self, fn, value, what):
        ret = fn(self._live(), value)
        check(ret, f"set {what}", f"map spec {self.name!r}")

    @property
    def type(self):
        return map_type(lib.bpf_map__type(self._ptr))

    @type.setter
    def type(self, value):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("type must be a bm.MapType")
        self._set(lib.bpf_map__set_type, int(value), "type")

    @property
    def key_size(self):
        return lib.bpf_map__key_size(self._ptr)

    @key_size.setter
    def key_size(self, value):
        self._set(lib.bpf_map__set_key_size, _check_uint(value, "key_size"), "key_size")

    @property
    def value_size(self):
        return lib.bpf_map__value_size(self._ptr)

    @value_size.setter
    def value_size(self, value):
        self._set(lib.bpf_map__set_value_size, _check_uint(value, "value_size"), "value_size")

    @property
    def max_entries(self):
        return lib.bpf_map__max_entries(self._ptr)

    @max_entries.setter
    def max_entries(self, value):
        self._set(lib.bpf_map__set_max_entries, _check_uint(value, "max_entries"), "max_entries")

    @property
    def flags(self):
        return MapFlags(lib.bpf_map__map_flags(self._ptr))

    @flags.setter
    def flags(self, value):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("flags must be bm.MapFlags")
        self._set(lib.bpf_map__set_map_flags, _check_uint(int(value), "flags"), "flags")

    @property
    def numa_node(self):
        return lib.bpf_map__numa_node(self._ptr)

    @numa_node.setter
    def numa_node(self, value):
        self._set(lib.bpf_map__set_numa_node, _check_uint(value, "numa_node"), "numa_node")

    @property
    def map_extra(self):
        return lib.bpf_map__map_extra(self._ptr)

    @map_extra.setter
    def map_extra(self, value):
        self._set(lib.bpf_map__set_map_extra, _check_uint(value, "map_extra", (1 << 64) - 1),
                  "map_extra")

    @property
    def pinning(self):
        """The path the map is pinned at on load, or ``None``."""
        return _cstr(lib.bpf_map__pin_path(self._ptr))

    @pinning.setter
    def pinning(self, path):
        self._live()
        cpath = ffi.NULL if path is None else os.fsencode(path)
        check(lib.bpf_map__set_pin_path(self._ptr, cpath), "set pin path",
              f"map spec {self.name!r}")

    pin_path = pinning

    @property
    def key_type(self):
        return self._obj._btf_type(self._btf_ids[0])

    @property
    def value_type(self):
        return self._obj._btf_type(self._btf_ids[1])

    def __repr__(self):
        tname = getattr(self.type, "name", self.type)
        return (f"<MapSpec {self.name!r} type={tname} key_size={self.key_size} "
                f"value_size={self.value_size} max_entries={self.max_entries}>")


@dataclasses.dataclass(frozen=True)
class TestRun:
    """The result of ``Program.test_run``."""

    __test__ = False  # not a pytest test class
    retval: int
    data: bytes
    duration_ns: int


class Link:
    """An attachment of a program (``bpf_link``); ``detach()`` undoes it."""

    def __init__(self, program, ptr):
        self.program = program
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, lib.bpf_link__destroy, ptr)

    @property
    def fd(self):
        if self._ptr is None:
            raise ValueError("the link is detached")
        return lib.bpf_link__fd(self._ptr)

    def detach(self):
        """Detach the program and free the link; idempotent."""
        if self._ptr is not None:
            self._ptr = None
            self._finalizer()

    close = detach

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()

    def __repr__(self):
        state = "detached" if self._ptr is None else f"fd={self.fd}"
        return f"<Link {self.program.name!r} {state}>"


class Program:
    """A program of a :class:`BpfObject`: ``name``, ``type``, ``section``, ``fd``."""

    def __init__(self, obj, ptr):
        self._obj = obj
        self._ptr = ptr
        self.name = _cstr(lib.bpf_program__name(ptr))
        self.section = _cstr(lib.bpf_program__section_name(ptr))

    @property
    def type(self):
        return lib.bpf_program__type(self._ptr)

    @property
    def fd(self):
        """The program's fd (owned by the object); ``ValueError`` before load."""
        self._obj._check_open()
        fd = lib.bpf_program__fd(self._ptr)
        if fd < 0:
            raise ValueError(f"program {self.name!r} is not loaded")
        return fd

    @property
    def autoload(self):
        return bool(lib.bpf_program__autoload(self._ptr))

    @autoload.setter
    def autoload(self, value):
        self._obj._check_open()
        check(lib.bpf_program__set_autoload(self._ptr, bool(value)), "set autoload", self.name)

    def attach(self):
        """Attach by section name (kprobe/, tracepoint/, xdp ...); returns a :class:`Link`."""
        self.fd  # noqa: B018 - raise when not loaded or closed
        with _log.capture() as log:
            ptr = lib.bpf_program__attach(self._ptr)
        if ptr == ffi.NULL:
            raise_errno(_errno_of(ptr), "attach",
                        f"program {self.name!r} (section {self.section!r})",
                        hint=_log.summary(log, None))
        return Link(self, ptr)

    def test_run(self, data=b"", repeat=1, ctx=None, data_size_out=None):
        """Run the program once (or ``repeat`` times) in the kernel on ``data``
        (BPF_PROG_TEST_RUN); returns a :class:`TestRun` with ``retval``, the
        output ``data`` and the mean ``duration_ns``."""
        fd = self.fd
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        _check_uint(repeat, "repeat", (1 << 31) - 1)
        data = bytes(data)
        out_size = data_size_out if data_size_out is not None else len(data) + 4096
        out = ffi.new("char[]", max(out_size, 1))
        opts = ffi.new("struct bpf_test_run_opts *")
        opts.sz = ffi.sizeof("struct bpf_test_run_opts")
        keep = ffi.from_buffer(data) if data else ffi.NULL
        opts.data_in = keep
        opts.data_size_in = len(data)
        opts.data_out = out
        opts.data_size_out = out_size
        opts.repeat = repeat
        if ctx is not None:
            ctx_buf = ffi.from_buffer(bytes(ctx))
            opts.ctx_in = ctx_buf
            opts.ctx_size_in = len(ctx)
        ret = lib.bpf_prog_test_run_opts(fd, opts)
        check(ret, "test_run", f"program {self.name!r}")
        return TestRun(opts.retval, ffi.buffer(out, opts.data_size_out)[:], opts.duration)

    def __repr__(self):
        return f"<Program {self.name!r} section={self.section!r}>"


class _Maps(collections.abc.Mapping):
    """``obj.maps``: MapSpecs before load, live Maps after."""

    def __init__(self, obj):
        self._obj = obj

    def __getitem__(self, name):
        return self._obj._map(name)

    def __iter__(self):
        return iter(list(self._obj._specs))

    def __len__(self):
        return len(self._obj._specs)

    def __repr__(self):
        return f"<maps of {self._obj!r}: {list(self)}>"


class _Programs(collections.abc.Mapping):
    def __init__(self, obj):
        self._obj = obj

    def __getitem__(self, name):
        self._obj._check_open()
        return self._obj._programs[name]

    def __iter__(self):
        return iter(list(self._obj._programs))

    def __len__(self):
        return len(self._obj._programs)


class BpfObject:
    """An ELF object of BPF maps and programs.

    ``BpfObject.open(path_or_bytes)`` parses it (no privileges needed);
    ``load()`` creates its maps and loads its programs into the kernel.  Use
    it as a context manager, or call ``close()``.
    """

    def __init__(self, ptr, name, keep=()):
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, lib.bpf_object__close, ptr)
        self._keep = keep  # C strings the object points to
        self.name = name
        self.loaded = False
        self._specs = {}
        m = lib.bpf_object__next_map(ptr, ffi.NULL)
        while m != ffi.NULL:
            spec = MapSpec(self, m)
            self._specs[spec.name] = spec
            m = lib.bpf_object__next_map(ptr, m)
        self._programs = {}
        p = lib.bpf_object__next_program(ptr, ffi.NULL)
        while p != ffi.NULL:
            prog = Program(self, p)
            self._programs[prog.name] = prog
            p = lib.bpf_object__next_program(ptr, p)
        self._live_maps = {}
        self._btf = None
        self.maps = _Maps(self)
        self.programs = _Programs(self)

    @classmethod
    def open(cls, source, pin_root=None, name=None):
        """Parse an object from a path or from ``bytes``; nothing is loaded yet.

        Raises ``BpfError`` for files that are not valid BPF ELF objects (never
        crashing), ``LoadError`` for legacy ``maps``-section objects.
        """
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            label = name or "<memory>"
        elif isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as exc:
                raise BpfError(exc.errno, f"open failed on object {path!r}: {exc.strerror}",
                               op="open") from None
            label = name or os.path.basename(path)
        else:
            raise TypeError(f"open() takes a path or bytes, not {type(source).__name__}")
        legacy = _elf_legacy_maps(data)
        if legacy is not None:
            raise LoadError(errno.EINVAL,
                            f"object {label!r} defines maps in the legacy 'maps' section "
                            f"(struct bpf_map_def): {', '.join(legacy) or '(unnamed)'}; "
                            f"libbpf 1.x only supports BTF-defined maps in '.maps' "
                            f"(struct {{ __uint(type, ...); ... }} name SEC(\".maps\"))")
        opts = ffi.new("struct bpf_object_open_opts *")
        opts.sz = ffi.sizeof("struct bpf_object_open_opts")
        cname = ffi.new("char[]", label.encode()[:63])
        opts.object_name = cname
        keep = [cname]
        if pin_root is not None:
            croot = ffi.new("char[]", os.fsencode(pin_root))
            opts.pin_root_path = croot
            keep.append(croot)
        buf = ffi.from_buffer(data)
        with _log.capture() as log:
            ptr = lib.bpf_object__open_mem(buf, len(data), opts)
        if ptr == ffi.NULL:
            err = _errno_of(ptr)
            raise BpfError(err, f"open failed on object {label!r}: "
                           f"{_log.summary(log, os.strerror(err))}", op="open")
        return cls(ptr, label, keep)

    def _check_open(self):
        if self._ptr is None:
            raise ValueError("operation on a closed BpfObject")

    def load(self):
        """Create the maps and load the programs into the kernel.

        Raises ``LoadError`` with the verifier log in ``.log`` when the kernel
        refuses a program, ``BpfPermissionError`` without CAP_BPF.
        """
        self._check_open()
        if self.loaded:
            raise ValueError(f"object {self.name!r} is already loaded")
        with _log.capture() as log:
            ret = lib.bpf_object__load(self._ptr)
        if ret < 0:
            text = "".join(log)
            err = -ret if -ret < 4000 else errno.EINVAL
            vlog = _log.verifier_log(text)
            if not vlog and err in (errno.EPERM, errno.EACCES):
                needs = needs_for_programs([p.type for p in self._programs.values()
                                            if p.autoload])
                for spec in self._specs.values():
                    needs += tuple(c for c in needs_for_map(int(spec.type)) if c not in needs)
                raise_errno(err, "load", f"object {self.name!r}", needs=needs)
            if vlog:
                prog = next((p.name for p in self._programs.values()
                             if f"prog '{p.name}': -- BEGIN PROG LOAD LOG" in text), "?")
                reason = (f"program {prog!r} was rejected by the verifier: "
                          f"{_log.verifier_reason(vlog)}")
            else:
                reason = _log.summary(log, os.strerror(err))
            raise LoadError(err, f"load failed on object {self.name!r}: {reason}",
                            log=vlog or text, op="load")
        self.loaded = True
        return self

    def _btf_type(self, type_id):
        if not type_id:
            return None
        if self._btf is None:
            try:
                from .btf import reader
            except ImportError:
                return None
            ptr = lib.bpf_object__btf(self._ptr)
            if ptr == ffi.NULL:
                return None
            self._btf = reader.Spec.from_libbpf(ptr, owner=self)
        return self._btf.type_by_id(type_id)

    def _map(self, name):
        self._check_open()
        spec = self._specs[name]
        if not self.loaded:
            return spec
        live = self._live_maps.get(name)
        if live is None or live.closed:
            fd = lib.bpf_map__fd(spec._ptr)
            if fd < 0:
                raise ValueError(f"map {name!r} was not created (autocreate off?)")
            try:
                key_type, value_type = spec.key_type, spec.value_type
            except (TypeError, ValueError):
                key_type = value_type = None
            live = Map._wrap(os.dup(fd), key_type, value_type, owner=self, typed_from_btf=False,
                             fallback_raw=True)
            self._live_maps[name] = live
        return live

    def close(self):
        """Free the object (its programs detach unless linked or pinned).
        Maps already taken from ``maps`` stay usable; idempotent."""
        if self._ptr is not None:
            self._ptr = None
            self._live_maps = {}  # maps the caller still holds stay open
            self._btf = None
            self._finalizer()

    @property
    def closed(self):
        return self._ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self._ptr is None else ("loaded" if self.loaded else "open")
        return f"<BpfObject {self.name!r} {state}>"


def load(source, pin_root=None):
    """Open and load an object in one step; returns the loaded :class:`BpfObject`.

    With ``pin_root``, maps declared with ``LIBBPF_PIN_BY_NAME`` are pinned
    there (and reused on the next load).
    """
    obj = BpfObject.open(source, pin_root=pin_root)
    try:
        return obj.load()
    except BaseException:
        obj.close()
        raise
