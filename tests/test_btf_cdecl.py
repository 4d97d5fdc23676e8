"""C declarations as types: parsing, and layouts checked against clang's BTF."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpfmap import btf as B
from pybpfmap.btf import cdecl
from pybpfmap.btf import types as T

from conftest_btf import clang_or_skip, compile_btf, layout, struct_decls


def members(t):
    return [(m.name, m.bit_offset, m.bitfield_size) for m in T.resolve(t).members]


@pytest.fixture(scope="module")
def clang_dir(tmp_path_factory):
    clang_or_skip()
    return str(tmp_path_factory.mktemp("clang"))


def clang_layout(decls, workdir, name):
    obj = compile_btf(decls, workdir, name)
    return B.Spec.from_file(obj).find("t", "struct")


def test_flow():
    t = B.parse_type("struct flow { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; }")
    assert isinstance(t, T.Struct) and t.name == "flow" and t.size == 12
    assert members(t) == [("saddr", 0, 0), ("daddr", 32, 0), ("sport", 64, 0),
                          ("dport", 80, 0)]
    assert T.c_name(t.members[0].type) == "__u32"


def test_parse_type_dispatches_to_cdecl():
    assert isinstance(B.parse_type("union u { int a; char b; }"), T.Union)
    assert isinstance(B.parse_type("enum e { A }"), T.Enum)
    assert B.parse_type("struct s { int a; };").size == 4  # trailing ';' is fine


def test_padding_alignment_and_tail():
    t = B.parse_type("struct p { char a; long b; short c; }")
    assert t.size == 24 and members(t)[1:] == [("b", 64, 0), ("c", 128, 0)]
    assert T.alignof(t) == 8


def test_last_declaration_wins_and_refers_back():
    t = B.parse_type("struct a { int x; }; struct b { struct a inner; char c; }")
    assert t.name == "b" and t.size == 8
    assert t.members[0].type.name == "a"
    t = B.parse_type("typedef unsigned int myid; struct r { myid id; myid ids[2]; }")
    assert t.size == 12 and T.c_name(t.members[0].type) == "myid"
    td = B.parse_type("typedef struct { int a; } pair_t")
    assert isinstance(td, T.Typedef) and td.size == 4


def test_nested_named_and_anonymous():
    t = B.parse_type("struct o { struct i { char c; int x; } in; union { int a; long b; }; "
                     "struct { char z; }; }")
    assert t.size == 24
    assert [m.name for m in t.members] == ["in", "", ""]
    assert isinstance(t.members[1].type, T.Union)
    # a nested tag declared inside is usable afterwards
    t2 = B.parse_type("struct o2 { struct i2 { int q; } a; }; struct use { struct i2 b; }")
    assert t2.size == 4


def test_arrays_multi_dim_and_strings():
    t = B.parse_type("struct arr { char comm[16]; __u16 grid[2][3]; __u64 big[0]; }")
    comm, grid, big = (m.type for m in t.members)
    assert isinstance(comm, T.Array) and comm.nelems == 16
    assert grid.nelems == 2 and grid.elem.nelems == 3 and grid.size == 12
    assert t.size == 32 and big.nelems == 0


def test_pointers_and_cycles():
    t = B.parse_type("struct node { struct node *next; const char *name; "
                     "struct undefined *u; void (*cb)(int, char *); }")
    assert t.size == 32
    assert t.members[0].type.target is t
    assert isinstance(t.members[1].type.target, T.Const)
    assert isinstance(t.members[2].type.target, T.Fwd)
    assert t.members[2].type.target.name == "undefined"
    assert isinstance(t.members[3].type.target, T.FuncProto)
    # forward-declared then defined: the pointer sees the definition
    t2 = B.parse_type("struct later; struct h { struct later *p; }; struct later { int x; };"
                      "struct h2 { struct h h; }")
    assert t2.members[0].type.members[0].type.target.size == 4


def test_bitfields():
    t = B.parse_type("struct b { char a; int b:3; int c:30; int :0; char d; "
                     "unsigned long long e:40; unsigned long long f:30; }")
    assert members(t) == [("a", 0, 0), ("b", 8, 3), ("c", 32, 30), ("d", 64, 0),
                          ("e", 72, 40), ("f", 128, 30)]
    assert t.size == 24


def test_enums():
    t = B.parse_type("enum e { A, B = 10, C, D = -3, E, F = 'x', G = 1 << 4 | B }")
    assert t.values == {"A": 0, "B": 10, "C": 11, "D": -3, "E": -2, "F": 120, "G": 26}
    assert t.size == 4 and t.signed
    u = B.parse_type("enum u { X = 0xffffffff }")
    assert u.size == 4 and not u.signed
    w = B.parse_type("enum w { Y = 0x1ffffffffULL, Z = -1 }")
    assert w.size == 8 and w.signed
    p = B.parse_type("enum pk { P1 = 1, P2 = 300 } __attribute__((packed))")
    assert p.size == 2
    s = B.parse_type("enum sz { S = 4 }; struct uses { char c[S]; enum sz e; }")
    assert s.size == 8


def test_attributes():
    t = B.parse_type("struct p { char a; int b; } __attribute__((packed))")
    assert t.size == 5 and members(t)[1] == ("b", 8, 0) and T.alignof(t) == 1
    t = B.parse_type("struct __attribute__((__packed__)) p2 { char a; long b; }")
    assert t.size == 9
    t = B.parse_type("struct al { char a; } __attribute__((aligned(16)))")
    assert t.size == 16 and T.alignof(t) == 16
    t = B.parse_type("struct m { char a; int b __attribute__((aligned(8))); "
                     "char c __attribute__((packed)); }")
    assert members(t)[1] == ("b", 64, 0) and t.size == 16
    t = B.parse_type("struct k { char a; __u32 b; } __packed")
    assert t.size == 5
    t = B.parse_type("struct k2 { char a; __u32 b __aligned(8); }")
    assert t.size == 16
    t = B.parse_type("struct ign { int a; } __attribute__((preserve_access_index))")
    assert t.size == 4


def test_int128_and_scalars():
    t = B.parse_type("struct w { char a; unsigned __int128 u; __int128 s; _Bool b; "
                     "unsigned long long l; float f; double d; bool b2; }")
    assert members(t)[1] == ("u", 128, 0)
    assert T.resolve(t.members[1].type).size == 16
    assert not T.resolve(t.members[1].type).signed and T.resolve(t.members[2].type).signed


def test_comments_are_ignored():
    t = B.parse_type("struct c { // a comment\n int a; /* another */ int b; }")
    assert t.size == 8


@pytest.mark.parametrize("text, match", [
    ("struct { int a", "cannot parse"),
    ("struct x { struct nope n; }", "incomplete"),
    ("struct x { int a; int a; }", "duplicate member 'a'"),
    ("struct x { int a:33; }", "width 33"),
    ("struct x { float f:3; }", "non-integer"),
    ("struct x { int a:0; }", "zero width"),
    ("struct x { unknown_t a; }", "cannot parse"),
    ("struct x { int a[-1]; }", "negative"),
    ("struct x { long double d; }", "long double"),
    ("struct x { char d[]; int after; }", "not last"),
    ("struct a { int x; }; struct a { int y; }", "redefinition"),
    ("struct fwd", "never defined"),
    ("enum e { A = B }", "unknown constant"),
    ("enum e2 { A = 1 / 0 }", "division by zero"),
    ("", "empty"),
    ("struct x { void v; }", "void"),
])
def test_bad_declarations(text, match):
    with pytest.raises(ValueError, match=match):
        cdecl.parse_type(text)


def test_not_a_string():
    with pytest.raises(TypeError):
        cdecl.parse_type(5)


FIXED = [
    "struct t { char a; int :3; int b:5; int :0; char c; union { int u; char v; }; "
    "enum e { X = -1, Y } en; __int128 big; _Bool f:1; "
    "struct { short s; } __attribute__((packed)) pk; long l __attribute__((aligned(16))); }"
    " __attribute__((aligned(32)))",
    "struct t { __u8 a:1; __u8 b:7; __u8 c:1; __u16 d:15; __u32 e:17; __u64 f:63; "
    "char g; __u64 h:1; }",
    "struct t { char a; struct { char b; long c:20; } in; char d[3]; double x; }",
    "struct t { char a; __u32 b; } __attribute__((packed))",
    "struct i { char a; int b; } __attribute__((packed)); struct t { char x; struct i y; }",
    "union u { char c[5]; int i; }; struct t { char a; union u b; short c:9; }",
    "struct t { struct t *self; char name[3]; unsigned __int128 x; }",
    # ":0" aligns to its type even in a packed struct (found by the random test)
    "struct t { char f1; short : 0; } __attribute__((packed))",
    "struct t { char f1; long long : 0; char f2; } __attribute__((packed))",
    "struct i { char f1; int : 0; char f2; }; struct t { char a; struct i b; }",
]


@pytest.mark.parametrize("decl", FIXED)
def test_fixed_layouts_match_clang(decl, clang_dir):
    name = f"fixed{FIXED.index(decl)}"
    assert layout(B.parse_type(decl)) == layout(clang_layout(decl, clang_dir, name))


_counter = [0]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(decl=struct_decls(), data=st.data())
def test_random_layouts_match_clang(decl, data, clang_dir):
    _counter[0] += 1
    theirs = clang_layout(decl, clang_dir, f"rand{_counter[0]}")
    ours = B.parse_type(decl)
    assert ours.size == theirs.size
    assert layout(ours) == layout(theirs)
    # codecs compiled from clang's BTF and from the declaration agree on bytes
    c1, c2 = B.compile_type(theirs), B.compile_type(ours)
    raw = data.draw(st.binary(min_size=c1.size, max_size=c1.size))
    b1 = c1.encode(c1.decode(raw))
    assert b1 == c2.encode(c2.decode(raw))
    assert c1.encode(c1.decode(b1)) == b1
