"""Reading BTF (object files, vmlinux, kernel ids) and building/loading it for maps."""
import json
import os
import subprocess
import time

import pytest

from conftest import kernel_lacks, need

from pybpfmap import btf as B
from pybpfmap._ffi import ffi, lib
from pybpfmap.btf import builder, reader
from pybpfmap.btf import types as T
from pybpfmap.errors import BpfError

from conftest_btf import BPFTOOL, clang_or_skip, compile_btf, layout

MAP_HASH, MAP_ARRAY, MAP_PERCPU_ARRAY = 1, 2, 6

OBJ_DECLS = """
typedef unsigned int myid_t;
enum color { RED, GREEN = 5, BLUE };
struct node { struct node *next; myid_t id; const volatile char name[4]; };
union u { int i; char c[3]; };
struct t { struct node n; union u u; enum color c; unsigned flag:1; int (*fn)(int, long);
           float f; };
int counter;
"""


@pytest.fixture(scope="module")
def obj_path(tmp_path_factory):
    clang_or_skip()
    return compile_btf(OBJ_DECLS, str(tmp_path_factory.mktemp("reader")), "obj")


@pytest.fixture
def spec(obj_path):
    return B.Spec.from_file(obj_path)


def test_from_file_types(spec):
    t = spec.find("t", "struct")
    assert isinstance(t, T.Struct) and t.size == layout(B.parse_type(OBJ_DECLS + "struct t"))[1]
    assert layout(t) == layout(B.parse_type(OBJ_DECLS.replace("int counter;", "") + "struct t"))
    node = spec.find("node")
    assert node.members[0].type.target is node  # cyclic pointer, one object per id
    assert isinstance(node.members[1].type, T.Typedef) and node.members[1].type.name == "myid_t"
    color = spec.find("color", T.Enum)
    assert color.values == {"RED": 0, "GREEN": 5, "BLUE": 6}
    assert isinstance(spec.find("u", "union"), T.Union)
    flag = [m for m in t.members if m.name == "flag"][0]
    assert flag.bitfield_size == 1
    fn = [m for m in t.members if m.name == "fn"][0].type.target
    assert isinstance(fn, T.FuncProto) and len(fn.params) == 2
    var = spec.find("counter", "var")
    assert isinstance(var, T.Var) and T.resolve(var.type).name == "int"
    assert isinstance(spec.find(".bss", "datasec"), T.Datasec)


def test_spec_ids_len_iter(spec):
    assert spec.type_by_id(0) is T.VOID
    n = len(spec)
    types = list(spec)
    assert len(types) == n and n > 10
    assert types[0] is spec.type_by_id(1)
    t = spec.find("t")
    assert spec.type_by_id(spec.type_id(t)) is t
    with pytest.raises(KeyError):
        spec.type_by_id(n + 1)
    with pytest.raises(KeyError):
        spec.find("no_such_type")
    with pytest.raises(KeyError):
        spec.find("t", "union")
    with pytest.raises(ValueError):
        spec.find("t", "structure")
    assert "types" in repr(spec)


def test_codecs_from_object_btf(spec):
    c = B.compile_type(spec.find("t", "struct"))
    v = c.decode(c.encode({"n": {"id": 7, "name": "ab"}, "u": {"i": 0x636261}, "c": 5,
                           "flag": 1, "f": 0.5}))
    assert v.n.id == 7 and v.n.name == b"ab" and v.u.c == b"abc" and v.flag == 1
    assert v.c is B.enum_class(spec.find("color")).GREEN


def test_from_file_errors(tmp_path):
    with pytest.raises(BpfError):
        B.Spec.from_file(str(tmp_path / "missing.o"))
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"\x7fELF" + os.urandom(100))
    with pytest.raises(BpfError):
        B.Spec.from_file(str(junk))


def test_vmlinux_lazy_and_cached():
    vm = B.Spec.vmlinux()
    assert B.Spec.vmlinux() is vm
    assert len(vm) > 1000
    start = time.perf_counter()
    task = vm.find("task_struct", "struct")
    assert task.size > 1000
    c = B.compile_type(task)
    assert c.size == task.size
    assert time.perf_counter() - start < 2.0
    # only what task_struct holds by value was converted
    assert len(vm._types) < len(vm) // 4
    mt = vm.find("bpf_map_type", "enum")
    assert mt.values["BPF_MAP_TYPE_HASH"] == MAP_HASH
    assert B.enum_class(mt).BPF_MAP_TYPE_ARRAY == MAP_ARRAY


def _kernel_btf_objects():
    """(id, name) of kernel BTF objects (vmlinux and modules)."""
    out = []
    cur = 0
    nxt = ffi.new("__u32 *")
    while lib.bpf_btf_get_next_id(cur, nxt) == 0:
        cur = nxt[0]
        fd = lib.bpf_btf_get_fd_by_id(cur)
        if fd < 0:
            continue
        try:
            info = ffi.new("struct bpf_btf_info *")
            name = ffi.new("char[64]")
            info.name = ffi.cast("__u64", ffi.cast("uintptr_t", name))
            info.name_len = 64
            size = ffi.new("__u32 *", ffi.sizeof("struct bpf_btf_info"))
            if lib.bpf_btf_get_info_by_fd(fd, info, size) == 0 and info.kernel_btf:
                out.append((cur, ffi.string(name).decode()))
        finally:
            os.close(fd)
    return out


def test_from_kernel_id_vmlinux_and_module():
    objs = _kernel_btf_objects()
    vm_ids = [i for i, n in objs if n == "vmlinux"]
    assert vm_ids, "no vmlinux BTF object"
    vm = B.Spec.from_kernel_id(vm_ids[0])
    assert vm.base is None and len(vm) == len(B.Spec.vmlinux())
    mods = [(i, n) for i, n in objs if n != "vmlinux"]
    if not mods:
        if not os.path.exists("/proc/modules"):
            kernel_lacks("loadable modules (no /proc/modules: CONFIG_MODULES=n), so no module BTF")
        need(False, "no kernel module with BTF is loaded (modprobe one, e.g. veth)")
    mid, mname = mods[0]
    mod = B.Spec.from_kernel_id(mid)
    assert mod.base is B.Spec.vmlinux()
    assert len(mod) > len(B.Spec.vmlinux())
    own = mod.type_by_id(len(B.Spec.vmlinux()) + 1)  # the module's first own type
    assert own is mod.type_by_id(len(B.Spec.vmlinux()) + 1)
    # base ids resolve to the shared vmlinux objects
    assert mod.type_by_id(1) is B.Spec.vmlinux().type_by_id(1)


def test_from_kernel_id_missing():
    with pytest.raises(BpfError):
        B.Spec.from_kernel_id(0x7ffffff0)


def test_from_libbpf_wraps_without_owning(obj_path):
    owner = B.Spec.from_file(obj_path)
    wrapped = B.Spec.from_libbpf(owner.btf, owner=owner)
    assert layout(wrapped.find("t")) == layout(owner.find("t"))
    assert wrapped._finalizer is None


# -- building BTF ------------------------------------------------------------------------

def every_kind():
    i32 = T.Int("int", 4, signed=True)
    u8 = T.Int("unsigned char", 1, char=True)
    node = T.Struct("node", 16)
    node.members = [T.Member("next", T.Ptr(node)), T.Member("v", i32, 64),
                    T.Member("bits", T.Int("unsigned int", 4), 96, 5)]
    proto = T.FuncProto(i32, [T.Param("a", i32), T.Param("p", T.Ptr(T.VOID))])
    var = T.Var("gv", i32, linkage=1)
    types = [
        node,
        T.Union("un", 4, [T.Member("a", i32), T.Member("b", T.Array(u8, 4))]),
        T.Enum("e32", 4, {"A": 1, "B": -2}, signed=True),
        T.Enum("e64", 8, {"BIG": 1 << 40}),
        T.Fwd("opaque"), T.Fwd("opaque_u", union=True),
        T.Typedef("my_t", T.Volatile(T.Const(T.Restrict(T.Ptr(i32))))),
        T.TypeTag("user", i32),
        T.Func("fn", proto, linkage=1),
        T.Float("double", 8),
        T.Datasec(".data", 4, [T.VarSecinfo(var, 0, 4)]),
        T.DeclTag("tag", node, 1),
        T.Int("_Bool", 1, bool=True),
    ]
    return types


def test_build_every_kind_and_read_back():
    types = every_kind()
    btf, ids = B.build(types)
    assert all(t in ids for t in types)
    assert len(set(ids.values())) == len(ids)
    spec = B.Spec.from_libbpf(btf, owner=btf)
    for t in types:
        back = spec.type_by_id(ids[t])
        assert type(back) is type(t) and back.name == t.name
    node = spec.type_by_id(ids[types[0]])
    assert node.members[0].type.target is node
    assert layout(node) == layout(types[0])
    assert spec.type_by_id(ids[types[2]]).values == {"A": 1, "B": -2}
    assert spec.type_by_id(ids[types[3]]).values == {"BIG": 1 << 40}
    assert spec.type_by_id(ids[types[4]]).union is False
    assert spec.type_by_id(ids[types[5]]).union is True
    fn = spec.type_by_id(ids[types[8]])
    assert [p.name for p in fn.proto.params] == ["a", "p"]
    assert spec.type_by_id(ids[types[10]]).vars[0].var.name == "gv"
    assert spec.type_by_id(ids[types[11]]).component_idx == 1
    assert spec.type_by_id(ids[types[12]]).bool


def test_build_memoises_shared_types():
    shared = B.parse_type("struct sh { int a; }")
    outer = B.parse_type("struct sh2 { int a; }")
    t = T.Struct("both", 8, [T.Member("x", shared), T.Member("y", shared, 32)])
    btf, ids = B.build([t, shared, outer])
    spec = B.Spec.from_libbpf(btf, owner=btf)
    got = spec.type_by_id(ids[t])
    assert got.members[0].type is got.members[1].type
    assert len(spec) == len(ids)


def test_build_rejects_non_types():
    with pytest.raises(TypeError):
        B.build([42])


# -- BTF for maps, through the kernel --------------------------------------------------

def create_map(map_type, key_size, value_size, mb, max_entries=8):
    opts = ffi.new("struct bpf_map_create_opts *")
    opts.sz = ffi.sizeof("struct bpf_map_create_opts")
    if mb is not None:
        opts.btf_fd = mb.fd
        opts.btf_key_type_id = mb.key_type_id
        opts.btf_value_type_id = mb.value_type_id
    fd = lib.bpf_map_create(map_type, b"btf_test", key_size, value_size, max_entries, opts)
    return fd


def map_info(fd):
    info = ffi.new("struct bpf_map_info *")
    n = ffi.new("__u32 *", ffi.sizeof("struct bpf_map_info"))
    assert lib.bpf_map_get_info_by_fd(fd, info, n) == 0
    return info


@pytest.fixture
def fds():
    opened = []
    yield opened
    for fd in opened:
        os.close(fd)


def bpftool_dump(map_id):
    need(BPFTOOL is not None, "bpftool is not installed")
    out = subprocess.run([BPFTOOL, "-j", "map", "dump", "id", str(map_id)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


# No floating-point member: bpftool 7.1 prints "(unsupported-kind" for BTF_KIND_FLOAT
# in its JSON output, which is then not valid JSON.
VALUE = """
enum proto { TCP = 6, UDP = 17 };
struct flow { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; };
struct val {
    struct flow flow;
    enum proto proto;
    __u8 flags : 3, dir : 1;
    __s16 delta : 9;
    union { __u32 word; __u8 bytes[4]; };
    char comm[8];
    __u64 hist[2][2];
    struct val *next;
}
"""


def test_load_for_map_bpftool_and_map_types(fds):
    key_t = B.parse_type("struct flow { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; }")
    val_t = B.parse_type(VALUE)
    kc, vc = B.compile_type(key_t), B.compile_type(val_t)
    with B.load_for_map(key_t, val_t) as mb:
        assert mb.fd > 0 and mb.key_type_id > 0 and mb.value_type_id > 0
        fd = create_map(MAP_HASH, kc.size, vc.size, mb)
        assert fd >= 0, os.strerror(-fd)
        fds.append(fd)
    assert mb.closed
    key = kc.encode((1, 2, 3, 4))
    value = {"flow": (10, 20, 30, 40), "proto": 17, "flags": 5, "dir": 1, "delta": -200,
             "word": 0x01020304, "comm": "bash", "hist": ((1, 2), (3, 4))}
    assert lib.bpf_map_update_elem(fd, key, vc.encode(value), 0) == 0
    info = map_info(fd)
    assert info.btf_id > 0
    dump = bpftool_dump(info.id)
    formatted = dump[0]["formatted"]
    assert formatted["key"] == {"saddr": 1, "daddr": 2, "sport": 3, "dport": 4}
    v = formatted["value"]
    assert v["flow"]["dport"] == 40 and v["proto"] == "UDP" and v["comm"] == "bash"
    # bpftool prints bitfields as hex of their raw bits
    assert int(str(v["delta"]), 0) == -200 & 0x1ff
    assert int(str(v["flags"]), 0) == 5 and int(str(v["dir"]), 0) == 1
    assert v["hist"] == [[1, 2], [3, 4]]
    # map_types gives back equal layouts and decodes the same bytes the same way
    kt, vt = B.map_types(info)
    assert layout(kt) == layout(key_t) and layout(vt) == layout(val_t)
    assert T.c_name(kt) == "struct flow" and T.c_name(vt) == "struct val"
    buf = ffi.new("char[]", vc.size)
    assert lib.bpf_map_lookup_elem(fd, key, buf) == 0
    raw = bytes(ffi.buffer(buf))
    ours, theirs = vc.decode(raw), B.compile_type(vt).decode(raw)
    assert ours._asdict() == theirs._asdict()
    assert theirs.proto == 17 and type(theirs.proto).__name__ == "proto"


def test_map_with_scalar_and_array_types(fds):
    key_t, val_t = B.parse_type("__u32"), B.parse_type("char[16]")
    mb = B.load_for_map(key_t, val_t)
    fd = create_map(MAP_ARRAY, 4, 16, mb)
    mb.close()
    mb.close()  # idempotent
    assert fd >= 0, os.strerror(-fd)
    fds.append(fd)
    kt, vt = B.map_types(map_info(fd))
    assert T.c_name(kt) == "__u32" and T.c_name(vt) == "char[16]"
    with pytest.raises(ValueError):
        mb.fd


def test_percpu_value_type_is_the_element(fds):
    val_t = B.parse_type("struct pc { __u64 packets; __u32 bytes; }")
    mb = B.load_for_map(B.parse_type("__u32"), val_t)
    fd = create_map(MAP_PERCPU_ARRAY, 4, val_t.size, mb)
    mb.close()
    assert fd >= 0, os.strerror(-fd)
    fds.append(fd)
    assert layout(B.map_types(map_info(fd))[1]) == layout(val_t)


def test_kernel_rejects_value_type_of_wrong_size(fds):
    mb = B.load_for_map(B.parse_type("__u32"), B.parse_type("struct s8 { __u64 a; }"))
    fd = create_map(MAP_HASH, 4, 16, mb)
    mb.close()
    if fd >= 0:
        fds.append(fd)
    assert fd < 0  # the BTF value size must equal the map's value size


def test_kernel_rejected_btf_raises_with_log():
    bad = T.Struct("bad", 4, [T.Member("a", T.Int("int", 4, signed=True), 64)])
    with pytest.raises(BpfError) as exc:
        B.load_for_map(T.Int("int", 4, signed=True), bad)
    assert "btf_load" in str(exc.value)
    assert "kernel BTF log" in str(exc.value)


def test_no_types_means_id_zero():
    mb = B.load_for_map(None, B.parse_type("__u64"))
    assert mb.key_type_id == 0 and mb.value_type_id > 0
    mb.close()


def test_map_types_without_btf(fds):
    fd = create_map(MAP_HASH, 4, 8, None)
    assert fd >= 0
    fds.append(fd)
    assert B.map_types(map_info(fd)) == (None, None)
    assert reader.map_types(object()) == (None, None)


def test_opaque_pointers_for_maps():
    t = B.parse_type("struct n2 { struct n2 *next; struct { int a; } *anon; int v; }")
    btf, ids = builder.build([t], opaque_pointers=True)
    spec = B.Spec.from_libbpf(btf, owner=btf)
    got = spec.type_by_id(ids[t])
    assert isinstance(got.members[0].type.target, T.Fwd)
    assert isinstance(got.members[1].type.target, T.Void)
    assert layout(got) == layout(t)


def test_split_btf_on_vmlinux_shares_base_types():
    # What module BTF looks like: new types on top of vmlinux's ids.
    vm = B.Spec.vmlinux()
    raw = lib.btf__new_empty_split(vm.btf)
    assert raw != ffi.NULL
    task_id = vm.type_id(vm.find("task_struct", "struct"))
    ptr_id = lib.btf__add_ptr(raw, task_id)
    sid = lib.btf__add_struct(raw, b"mod_thing", 8)
    assert lib.btf__add_field(raw, b"task", ptr_id, 0, 0) == 0
    split = B.Spec(raw, base=vm)  # owns and frees raw
    assert split.base is vm and len(split) == len(vm) + 2
    thing = split.type_by_id(sid)
    assert thing.name == "mod_thing" and thing.size == 8
    assert thing.members[0].type.target is vm.find("task_struct", "struct")
    assert split.type_by_id(1) is vm.type_by_id(1)
    assert split.find("mod_thing") is thing
