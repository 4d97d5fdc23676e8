"""Codecs of structs, unions, enums, bitfields and arrays (API.md section 1)."""
import enum
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpfmap import btf as B
from pybpfmap.btf import types as T
from pybpfmap.btf.records import Record

from conftest_btf import struct_decls


def codec(decl):
    return B.compile_type(B.parse_type(decl))


FLOW = "struct flow { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; }"


# -- records -------------------------------------------------------------------------

def test_flow_record_basics():
    c = codec(FLOW)
    cls = c.record
    assert cls.__name__ == "flow"
    assert cls._fields == ("saddr", "daddr", "sport", "dport")
    r = cls(1, 2, sport=3, dport=4)
    assert repr(r) == "flow(saddr=1, daddr=2, sport=3, dport=4)"
    assert (r.saddr, r.daddr, r.sport, r.dport) == (1, 2, 3, 4)
    assert r == cls(1, 2, 3, 4) and r != cls(1, 2, 3, 5)
    assert hash(r) == hash(cls(1, 2, 3, 4))
    assert {r: "x"}[cls(1, 2, 3, 4)] == "x"
    assert r._asdict() == {"saddr": 1, "daddr": 2, "sport": 3, "dport": 4}
    assert r._replace(dport=9).dport == 9
    assert cls() == cls(0, 0, 0, 0)  # missing fields are zero
    assert r != (1, 2, 3, 4)  # a record is not a plain tuple
    assert isinstance(r, Record)


def test_flow_encode_decode():
    c = codec(FLOW)
    data = struct.pack("=IIHH", 1, 2, 3, 4)
    assert c.size == 12
    assert c.fmt is None
    v = c.decode(data)
    assert v == c.record(1, 2, 3, 4)
    assert c.encode(v) == data
    assert c.encode({"saddr": 1, "daddr": 2, "sport": 3, "dport": 4}) == data
    assert c.encode((1, 2, 3, 4)) == data
    assert c.encode([1, 2, 3, 4]) == data
    assert c.encode({"sport": 3}) == struct.pack("=IIHH", 0, 0, 3, 0)
    buf = bytearray(20)
    c.pack_into(buf, 4, v)
    assert bytes(buf[4:16]) == data
    assert c.decode(buf, 4) == v
    assert c.decode(memoryview(bytes(buf)), 4) == v


def test_record_constructor_errors():
    cls = codec(FLOW).record
    with pytest.raises(TypeError, match="no field 'nope'"):
        cls(nope=1)
    with pytest.raises(TypeError, match="at most 4"):
        cls(1, 2, 3, 4, 5)
    with pytest.raises(TypeError, match="multiple values"):
        cls(1, saddr=2)


def test_struct_encoding_errors():
    c = codec(FLOW)
    with pytest.raises(TypeError, match="no field 'x'"):
        c.encode({"x": 1})
    with pytest.raises(TypeError):
        c.encode({1: 1})
    with pytest.raises(ValueError, match="4 values"):
        c.encode((1, 2, 3))
    with pytest.raises(TypeError):
        c.encode(5)
    with pytest.raises(TypeError):
        c.encode("abcd")
    with pytest.raises(OverflowError):
        c.encode((1, 2, 3, 70000))
    with pytest.raises(OverflowError):
        c.encode({"saddr": -1})
    with pytest.raises(TypeError):
        c.encode((1, 2, 3, 4.5))
    with pytest.raises(TypeError):
        c.encode(c.record(1, 2, 3, "x"))


def test_padding_is_zero_and_tail_padding():
    c = codec("struct p { char a; __u64 b; __u16 c; }")
    assert c.size == 24
    data = c.encode({"a": -1, "b": 2, "c": 3})
    assert data == struct.pack("=b7xQH6x", -1, 2, 3)
    junk = bytearray(b"\xaa" * 24)
    struct.pack_into("=b7xQH6x", junk, 0, 5, 6, 7)  # pack_into leaves pads alone?
    v = c.decode(bytes(b"\x05" + b"\xee" * 7 + struct.pack("=QH", 6, 7) + b"\xee" * 6))
    assert v == c.record(5, 6, 7)
    assert c.encode(v) == struct.pack("=b7xQH6x", 5, 6, 7)


def test_nested_struct_and_arrays():
    c = codec("struct in { __u16 x; __u8 tag[3]; }; "
              "struct out { struct in a; struct in many[2]; __u32 grid[2][3]; char name[8]; }")
    In = B.record_class(c.type.members[0].type)
    v = c.record(a=In(1, b"\1\2\3"), many=(In(2, b"\0\0\1"), In(3, b"\t\t\t")),
                 grid=((1, 2, 3), (4, 5, 6)), name=b"hi")
    data = c.encode(v)
    assert len(data) == c.size
    back = c.decode(data)
    assert back == v
    assert back.grid[1][2] == 6 and back.many[1].x == 3
    assert back._asdict() == {
        "a": {"x": 1, "tag": b"\1\2\3"},
        "many": ({"x": 2, "tag": b"\0\0\1"}, {"x": 3, "tag": b"\t\t\t"}),
        "grid": ((1, 2, 3), (4, 5, 6)), "name": b"hi"}
    assert c.encode(back._asdict()) == data
    # nested values as dicts and tuples
    assert c.encode({"a": {"x": 1, "tag": b"\1\2\3"}, "many": [(2, b"\0\0\1"), (3, b"\t" * 3)],
                     "grid": [[1, 2, 3], [4, 5, 6]], "name": "hi"}) == data
    with pytest.raises(ValueError):
        c.encode({"grid": [[1, 2, 3]]})
    with pytest.raises(ValueError):
        c.encode({"name": b"123456789"})
    with pytest.raises(TypeError):
        c.encode({"a": {"y": 1}})


def test_char_arrays():
    # char, signed char and unsigned char (so __u8) arrays are bytes
    c = codec("struct ev { __u32 pid; char comm[16]; unsigned char raw[4]; }")
    v = c.decode(c.encode({"pid": 1, "comm": "bash", "raw": b"\x01\x00\x02"}))
    assert v.comm == b"bash" and v.raw == b"\x01\x00\x02"
    assert c.encode({"comm": b"x" * 16})[4:20] == b"x" * 16
    with pytest.raises(ValueError):
        c.encode({"comm": b"x" * 17})
    with pytest.raises(TypeError):
        c.encode({"comm": 5})
    assert c.encode({"comm": "é"})[4:6] == "é".encode()


def test_bitfields_any_offset_width_signed():
    c = codec("struct bf { __u8 a:3; __s8 b:4; int c:13; unsigned long long d:41; "
              "long long e:33; _Bool f:1; __u32 g; }")
    ms = {m.name: (m.bit_offset, m.bitfield_size) for m in c.type.members}
    assert ms["b"] == (3, 4) and ms["d"][1] == 41
    v = c.record(a=7, b=-8, c=-4096, d=(1 << 41) - 1, e=-(1 << 32), f=True, g=0xdeadbeef)
    data = c.encode(v)
    back = c.decode(data)
    assert back == v
    assert c.encode(back) == data
    assert c.decode(c.encode({"b": 7, "c": 4095})) == c.record(b=7, c=4095)
    # neighbours are untouched by a write
    only_b = c.decode(c.encode({"b": -1}))
    assert only_b.a == 0 and only_b.c == 0 and only_b.b == -1
    with pytest.raises(OverflowError, match="bitfield"):
        c.encode({"a": 8})
    with pytest.raises(OverflowError):
        c.encode({"b": 8})
    with pytest.raises(OverflowError):
        c.encode({"b": -9})
    with pytest.raises(OverflowError):
        c.encode({"d": -1})
    with pytest.raises(ValueError):
        c.encode({"f": 2})
    with pytest.raises(TypeError):
        c.encode({"c": 1.0})


def test_bitfield_layout_matches_raw_bits():
    c = codec("struct r { __u32 lo:5; __u32 mid:20; __u32 hi:7; }")
    word = 0b1010101 << 25 | 0xABCDE << 5 | 0b10011
    v = c.decode(struct.pack("=I", word))
    assert (v.lo, v.mid, v.hi) == (0b10011, 0xABCDE, 0b1010101)
    assert c.encode(v) == struct.pack("=I", word)


def test_union_decodes_every_member_and_last_wins():
    c = codec("union u { __u32 word; __u8 bytes[4]; __u16 half; }")
    assert c.record.__name__ == "u" and c.size == 4
    v = c.decode(struct.pack("=I", 0x04030201))
    assert v == c.record(word=0x04030201, bytes=b"\1\2\3\4", half=0x0201)
    assert c.encode(v) == struct.pack("=I", 0x04030201)
    assert c.encode(v._asdict()) == struct.pack("=I", 0x04030201)
    assert c.encode({"half": 0xffff}) == b"\xff\xff\0\0"
    # several given: written in declaration order, the last one wins
    assert c.encode({"word": 0x11111111, "half": 0x2222}) == b"\x22\x22\x11\x11"
    assert c.encode({"half": 0x2222, "word": 0x11111111}) == b"\x22\x22\x11\x11"
    u = c.record(half=5)
    assert u.word is None and c.encode(u) == b"\x05\0\0\0"


def test_union_with_bool_round_trips():
    c = codec("union ub { __u32 x; _Bool flag; }")
    data = c.encode({"x": 2})
    v = c.decode(data)
    assert v.flag is True
    assert c.encode(v) == data
    assert c.encode({"x": 2, "flag": False}) == b"\0\0\0\0"


def test_anonymous_members_flattened():
    c = codec("struct pkt { __u8 kind; union { __u32 ip4; __u8 ip6[16]; }; "
              "struct { __u16 sport, dport; }; }")
    assert c.record._fields == ("kind", "ip4", "ip6", "sport", "dport")
    assert c.size == 24
    data = c.encode({"kind": 4, "ip4": 0x0100007f, "sport": 80, "dport": 443})
    v = c.decode(data)
    assert v.ip4 == 0x0100007f and v.ip6[:4] == b"\x7f\0\0\1" and v.dport == 443
    assert c.encode(v) == data
    assert c.encode(v._asdict()) == data


def test_anonymous_record_names_are_stable():
    t1 = B.parse_type("struct o { struct { int a; int b; } x; }")
    t2 = B.parse_type("struct o2 { struct { int a; int b; } y; }")
    n1 = B.record_class(t1.members[0].type).__name__
    n2 = B.record_class(t2.members[0].type).__name__
    assert n1.startswith("anon_struct_") and n1 == n2
    assert B.record_class(B.parse_type("union { int a; }")).__name__.startswith("anon_union_")


def test_distinct_types_get_distinct_classes_typedef_shares():
    a = B.parse_type("struct same { int x; }")
    b = B.parse_type("struct same { int x; }")
    ca, cb = B.record_class(a), B.record_class(b)
    assert ca is not cb
    assert ca(1) == cb(1)  # same C type by name and fields
    td = T.Typedef("same_t", a)
    assert B.record_class(td) is ca
    assert B.compile_type(td).decode(b"\x01\0\0\0") == ca(1)


def test_enums_known_and_unknown_values():
    c = codec("enum proto { TCP = 6, UDP = 17, ICMP = 1 }")
    assert c.size == 4
    E = c.enum
    assert issubclass(E, enum.IntEnum) and E.__name__ == "proto"
    v = c.decode(struct.pack("=I", 17))
    assert v is E.UDP and repr(v) == "proto.UDP"
    assert c.decode(struct.pack("=I", 99)) == 99
    assert type(c.decode(struct.pack("=I", 99))) is int
    assert c.encode(E.TCP) == struct.pack("=I", 6)
    assert c.encode(42) == struct.pack("=I", 42)
    with pytest.raises(OverflowError):
        c.encode(-1)
    with pytest.raises(OverflowError):
        c.encode(1 << 32)
    with pytest.raises(TypeError):
        c.encode("TCP")


def test_signed_and_64bit_enums():
    c = codec("enum s { NEG = -5, POS = 5 }")
    assert c.decode(struct.pack("=i", -5)) is c.enum.NEG
    assert c.encode(-5) == struct.pack("=i", -5)
    c64 = codec("enum big { HUGE = 0x100000000, SMALL = 1 }")
    assert c64.size == 8
    assert c64.decode(struct.pack("=Q", 1 << 32)) is c64.enum.HUGE


def test_enum_in_struct_and_bitfield():
    c = codec("enum color { RED, GREEN, BLUE }; "
              "struct px { enum color c; enum color c2 : 2; __u8 pad : 6; }")
    Color = B.enum_class(c.type.members[0].type)
    v = c.decode(c.encode({"c": Color.BLUE, "c2": 1}))
    assert v.c is Color.BLUE and v.c2 is Color.GREEN
    v = c.decode(c.encode({"c": 77, "c2": 3}))
    assert v.c == 77 and v.c2 == 3
    assert repr(c.record(c=Color.RED)) == "px(c=color.RED, c2=color.RED, pad=0)"
    with pytest.raises(OverflowError):
        c.encode({"c2": 4})


def test_weird_enum_names():
    t = T.Enum("w", 4, {"mro": 1, "_x_": 2, "name": 3, "__MAX": 4})
    c = B.compile_type(t)
    assert c.decode(struct.pack("=I", 3)).name == "name"
    assert c.decode(struct.pack("=I", 1)) == 1  # not a valid Python member name
    assert c.decode(struct.pack("=I", 4)) is c.enum.__MAX


def test_floats_bools_pointers_int128_in_struct():
    c = codec("struct m { float f; double d; _Bool b; void *p; unsigned __int128 big; "
              "__int128 sbig; }")
    v = c.record(1.5, -2.25, True, 0xffff880000000000, (1 << 128) - 1, -(1 << 127))
    data = c.encode(v)
    assert c.decode(data) == v
    with pytest.raises(ValueError):
        c.encode({"b": 2})
    with pytest.raises(TypeError):
        c.encode({"b": "yes"})
    with pytest.raises(OverflowError):
        c.encode({"big": 1 << 128})
    with pytest.raises(TypeError):
        c.encode({"f": "1.0"})


def test_fast_path_used_for_plain_structs():
    c = codec("struct fp { __u8 a; __u32 b; __u64 c[2]; char s[3]; struct { __u16 x; } in; }")
    assert c._st is not None
    assert c._st.size == c.size
    bf = codec("struct nb { __u32 a : 3; }")
    assert bf._st is None
    data = os.urandom(c.size)
    v = c.decode(data)
    assert c._decode_slow(data) == v


def test_field_named_like_tuple_methods():
    c = codec("struct cnt { __u64 count; __u64 index; }")
    v = c.decode(struct.pack("=QQ", 5, 6))
    assert v.count == 5 and v.index == 6


def test_empty_and_flexible_array():
    c = codec("struct fx { __u32 n; __u8 data[]; }")
    assert c.size == 4
    v = c.decode(struct.pack("=I", 3))
    assert v == c.record(3, b"")
    assert c.encode(v) == struct.pack("=I", 3)


# -- properties ----------------------------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decl=struct_decls(floats=False), data=st.data())
def test_random_bytes_decode_encode_round_trip(decl, data):
    t = B.parse_type(decl)
    c = B.compile_type(t)
    raw = data.draw(st.binary(min_size=c.size, max_size=c.size))
    v1 = c.decode(raw)
    b2 = c.encode(v1)
    assert len(b2) == c.size
    v2 = c.decode(b2)
    if "union" not in decl:
        assert v2 == v1  # only padding and bools were normalised
    assert c.encode(v2) == b2
    assert c.encode(v2._asdict()) == b2
    assert c.encode(v1._asdict()) == b2
    assert c._decode_slow(raw) == v1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decl=struct_decls(floats=True), data=st.data())
def test_encoded_bytes_round_trip_with_floats(decl, data):
    c = B.compile_type(B.parse_type(decl))
    raw = data.draw(st.binary(min_size=c.size, max_size=c.size))
    b2 = c.encode(c.decode(raw))
    assert c.encode(c.decode(b2)) == b2


def test_decode_many_fast_path():
    c = codec(FLOW)
    data = b"".join(struct.pack("=IIHH", i, i + 1, i + 2, i + 3) for i in range(5))
    assert c.decode_many(data, 5) == [c.record(i, i + 1, i + 2, i + 3) for i in range(5)]
    assert c.decode_many(bytearray(data), 2) == [c.decode(data), c.decode(data, 12)]
