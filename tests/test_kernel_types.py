"""The kernel writes typed values (XDP program run by test_run) and Python
reads exactly what the C code wrote: enums, bitfields (signed too), unions,
nested named and anonymous structs, arrays, strings, bool."""
import enum
import math
import struct
import subprocess
import sys

import pytest

import pybpfmap as bm


@pytest.fixture
def records(bpf_obj):
    with bm.load(bpf_obj("xdp_types")) as obj:
        prog = obj.programs["write_record"]
        for key in (5, 6):
            assert prog.test_run(struct.pack("=I", key) + bytes(60)).retval == 2
        yield obj.maps["records"]


def test_map_is_typed_from_object_btf(records):
    assert records.key_type is not None and records.value_type is not None
    assert bm.btf.types.c_name(records.value_type) == "struct record"
    assert sorted(records.keys()) == [5, 6]


def test_every_field_is_what_c_wrote(records):
    r = records[5]
    assert type(r).__name__ == "record"
    assert r.id == 5
    assert isinstance(r.color, enum.IntEnum) and r.color.name == "BLUE" and r.color == 7
    assert (r.flag, r.level, r.delta, r.big) == (1, 5, -7, 0xABCDE)
    assert type(r.in_ if hasattr(r, "in_") else r[r._fields.index("in")]).__name__ == "inner"
    inner = r[r._fields.index("in")]
    assert inner.a == 0x1234 and inner.tag == b"xyz"
    assert r.n.s == -2 and r.n.u == 0xFFFFFFFE and r.n.bytes == b"\xfe\xff\xff\xff"
    assert math.isnan(r.n.f)
    assert r.name == b"kernel"
    assert r.counts == (1, 1 << 40, 15)
    assert r.small == -100
    assert r.ok is True
    assert (r.pos.x, r.pos.y) == (10, 20)
    # anonymous union members are flattened into the record
    assert r.half == (0xDEAD, 0xBEEF)
    assert r.raw == 0xBEEF << 32 | 0xDEAD
    assert records[6].color.name == "NEG"
    assert records[6].counts[2] == 18


def test_asdict_nests_plain_dicts(records):
    d = records[5]._asdict()
    assert d["in"] == {"a": 0x1234, "tag": b"xyz"}
    assert d["pos"] == {"x": 10, "y": 20}
    assert d["n"]["s"] == -2


def _bytes_of(m):
    """Every entry's value bytes as the kernel holds them (the union holds a
    NaN float, so records themselves never compare equal)."""
    from pybpfmap._ffi import ffi, lib
    out = {}
    for key in m.keys():
        buf = ffi.new("char[]", m.value_size)
        assert lib.bpf_map_lookup_elem(m.fd, struct.pack("=I", key), buf) == 0
        out[key] = ffi.buffer(buf)[:]
    return out


def test_python_writes_back_the_same_bytes(records):
    """Decode then encode gives back the kernel's bytes (padding zero)."""
    before = records[5]
    records[7] = before
    records[8] = before._asdict()
    raw = _bytes_of(records)
    assert raw[7] == raw[5] == raw[8]


def test_another_process_sees_the_same_typed_values(records):
    code = ("import pybpfmap as bm, sys; m = bm.Map.from_id(int(sys.argv[1])); "
            "r = m[5]; print(type(r).__name__, r.color.name, r.delta, r.name.decode(), r.pos.y)")
    out = subprocess.run([sys.executable, "-c", code, str(records.id)], check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == ["record", "BLUE", "-7", "kernel", "20"]


def test_bad_record_values_leave_the_map_unchanged(records):
    before = _bytes_of(records)
    with pytest.raises(TypeError):
        records[9] = {"nope": 1}
    with pytest.raises(OverflowError):
        records[9] = {"level": 8}  # a 3-bit field
    with pytest.raises(ValueError):
        records[9] = {"name": "x" * 17}
    assert _bytes_of(records) == before
