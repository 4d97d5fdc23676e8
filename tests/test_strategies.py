"""pybpfmap.testing.strategies: every generated value written to a real map
and read back equals itself, for many declared types."""
import enum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pybpfmap as bm
from pybpfmap.btf.records import Record
from pybpfmap.testing import strategies as bst

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

TYPES = {
    "u8": "__u8",
    "s16": "__s16",
    "u64": "__u64",
    "s64": "long long",
    "bool": "_Bool",
    "float": "float",
    "double": "double",
    "comm": "char[16]",
    "u32x4": "__u32[4]",
    "matrix": "__s8[2][3]",
    "raw": 6,
    "bitfields": "struct bits { __u8 a:3; __s8 b:4; _Bool c:1; __u32 d:17; __s64 e:33; }",
    "enum": "enum color { RED, GREEN = 5, BLUE = -3 }",
    "enum_in_struct": "struct ev { enum kind { OPEN = 1, CLOSE = 2 } kind:4; enum kind k2; __u16 x; }",
    "union": "union val { __u32 i; float f; __u8 b[4]; }",
    "nested": ("struct outer { __u8 tag; struct { __u16 port; __u32 addr; } ep; "
               "union { __u64 raw; struct { __u32 lo, hi; } half; } u; char name[5]; }"),
    "floats": "struct fl { float f; double d; float fs[2]; }",
    "bool_union": "union bu { _Bool flag; __u8 byte; }",
}


@pytest.mark.parametrize("name", sorted(TYPES))
def test_value_roundtrip(name):
    decl = TYPES[name]
    with bm.HashMap.create(key="__u32", value=decl, max_entries=4) as m:
        @FAST
        @given(bst.values(m))
        def check(v):
            m[0] = v
            assert m[0] == v
            assert m.lookup(0) == v
        check()


@pytest.mark.parametrize("name", ["u64", "comm", "bitfields", "nested", "raw", "enum", "union"])
def test_key_roundtrip(name):
    with bm.HashMap.create(key=TYPES[name], value="__u32", max_entries=64) as m:
        @FAST
        @given(bst.keys(m), st.integers(0, 2**32 - 1))
        def check(k, v):
            m[k] = v
            assert m[k] == v
            assert k in set(m.keys())
            del m[k]
        check()


def test_percpu_values_are_tuples():
    with bm.PerCpuHashMap.create(key="__u32", value="struct pc { __u32 n; char s[3]; }",
                                 max_entries=4) as m:
        @FAST
        @given(bst.values(m))
        def check(v):
            assert isinstance(v, tuple) and len(v) == bm.possible_cpus()
            m[1] = v
            assert m[1] == v
        check()


def test_array_keys_in_range():
    with bm.ArrayMap.create(value="__u16", max_entries=5) as a:
        @FAST
        @given(bst.keys(a), bst.values(a))
        def check(i, v):
            assert 0 <= i < 5
            a[i] = v
            assert a[i] == v
        check()


def test_for_type_gives_canonical_forms():
    @settings(max_examples=80, deadline=None)
    @given(bst.for_type(TYPES["enum"]), bst.for_type("char[4]"),
           bst.for_type(TYPES["nested"]), bst.for_type("float"))
    def check(e, s, rec, f):
        assert isinstance(e, (enum.IntEnum, int))
        if isinstance(e, int) and not isinstance(e, enum.IntEnum):
            assert e not in (0, 5, -3)  # a value with a member is that member
        assert isinstance(s, bytes) and len(s) <= 4 and not s.endswith(b"\0")
        assert isinstance(rec, Record) and type(rec).__name__ == "outer"
        assert f == f  # never NaN
    check()


def test_for_type_raw_size():
    @settings(max_examples=10, deadline=None)
    @given(bst.for_type(3))
    def check(b):
        assert isinstance(b, bytes) and len(b) == 3
    check()


def test_shrinks_to_simple_values():
    from hypothesis import find
    big = find(bst.for_type("__u32"), lambda v: v > 1000)
    assert big == 1001
    text = find(bst.for_type("char[8]"), lambda v: len(v) >= 3)
    assert text == b"\x00\x00\x01" or len(text) == 3
    rec = find(bst.for_type(TYPES["bitfields"]), lambda r: r.b < 0)
    assert rec.b == -1 and rec.a == 0 and rec.d == 0
