"""to_numpy() and to_pandas(): the same entries as items(), typed dtypes,
built from batch lookups (and the GET_NEXT_KEY fallback)."""
import enum
import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pybpfmap as bm
from pybpfmap.btf.records import Record
from pybpfmap.testing import strategies as bst

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

FLOW = "struct flow { __u32 saddr; __u32 daddr; __u16 sport; __u16 dport; }"
RICH = ("struct rich { __u64 count; char comm[16]; struct { __u8 a:3; __s8 b:4; _Bool c:1; "
        "__u32 d:20; } bits; union { __u32 x; __u16 y; } u; __s16 arr[3]; "
        "enum state { IDLE, BUSY = 7 } st; float f; double d; _Bool ok; "
        "struct { __u32 ip; __u16 port; } peer[2]; __u8 mac[6]; }")


def same(a, v):
    """Whether numpy value ``a`` holds the decoded Python value ``v``."""
    if isinstance(v, Record):
        return all(same(a[name], x) for name, x in zip(v._fields, v))
    if isinstance(v, tuple):
        return len(a) == len(v) and all(same(a[i], x) for i, x in enumerate(v))
    if isinstance(v, (bytes, bytearray)):
        return bytes(a) == v or (isinstance(a, np.bytes_) and a == v)
    if isinstance(v, float):
        return float(a) == v
    if isinstance(v, bool):
        return bool(a) is v
    if isinstance(v, enum.Enum):
        return int(a) == int(v)
    return int(a) == v


def check_against_items(m):
    arr = m.to_numpy()
    items = dict(m.items())
    assert len(arr) == len(items)
    seen = 0
    for row in arr:
        matches = [k for k in items if same(row["key"], k)]
        assert len(matches) == 1, row
        assert same(row["value"], items[matches[0]]), (row, items[matches[0]])
        seen += 1
    assert seen == len(items)
    return arr


def test_scalar_hash():
    with bm.HashMap.create(key="__u32", value="__u64", max_entries=10000) as m:
        m.update({i: i * 7 for i in range(5000)})
        arr = m.to_numpy()
        assert arr.dtype == np.dtype([("key", "<u4"), ("value", "<u8")])
        assert len(arr) == 5000
        assert dict(zip(arr["key"].tolist(), arr["value"].tolist())) == dict(m.items())


def test_signed_and_small_types():
    with bm.HashMap.create(key="__s8", value="long long", max_entries=300) as m:
        m.update({i: -(i * 10**12) for i in range(-128, 128)})
        arr = m.to_numpy()
        assert arr.dtype["key"] == np.dtype("i1") and arr.dtype["value"] == np.dtype("<i8")
        assert dict(zip(arr["key"].tolist(), arr["value"].tolist())) == dict(m.items())


def test_struct_dtype_from_btf():
    with bm.HashMap.create(key=FLOW, value=RICH, max_entries=8) as m:
        arr = m.to_numpy()
        assert len(arr) == 0
        kd, vd = arr.dtype["key"], arr.dtype["value"]
        assert kd.names == ("saddr", "daddr", "sport", "dport")
        assert vd["comm"] == np.dtype("S16")
        assert vd["bits"].names == ("a", "b", "c", "d")
        assert vd["bits"]["b"] == np.dtype("i1") and vd["bits"]["c"] == np.dtype("?")
        assert vd["bits"]["d"] == np.dtype("<u4")
        assert vd["u"].names == ("x", "y")
        assert vd["arr"].shape == (3,) and vd["arr"].base == np.dtype("<i2")
        assert vd["st"] == np.dtype("<u4") and vd["f"] == np.dtype("<f4")
        assert vd["peer"].shape == (2,) and vd["peer"].base.names == ("ip", "port")
        assert vd["mac"] == np.dtype("S6")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_records_match_items(data):
    with bm.HashMap.create(key=FLOW, value=RICH, max_entries=64) as m:
        entries = data.draw(st.dictionaries(bst.keys(m), bst.values(m), max_size=20))
        m.update(entries)
        check_against_items(m)


def test_batch_and_next_key_paths_agree():
    with bm.HashMap.create(key=FLOW, value="struct v { __u8 a:4, b:4; char s[3]; }",
                           max_entries=100) as m:
        m.update({(i, i + 1, i % 7, 80): (i % 16, 15 - i % 16, b"ab"[: i % 3]) for i in range(60)})
        batch = np.sort(m.to_numpy(), order=["key"])
        m._use_batch = False
        slow = np.sort(m.to_numpy(), order=["key"])
        assert batch.tobytes() == slow.tobytes()
        check_against_items(m)


def test_array_and_percpu():
    with bm.ArrayMap.create(value="struct c { __u32 n; _Bool on; }", max_entries=5) as a:
        a[3] = (9, True)
        arr = check_against_items(a)
        assert arr["key"].tolist() == [0, 1, 2, 3, 4]
        assert arr["value"]["n"].tolist() == [0, 0, 0, 9, 0]
    ncpus = bm.possible_cpus()
    with bm.PerCpuHashMap.create(key="__u32", value="struct pc { __u32 n; __u64 t; }",
                                 max_entries=8) as p:
        p[1] = [(i, 10 * i) for i in range(ncpus)]
        p[2] = (5, 6)
        arr = p.to_numpy()
        assert arr.dtype["value"].shape == (ncpus,)
        check_against_items(p)
    with bm.PerCpuArrayMap.create(value="__u64", max_entries=3) as pa:
        pa[1] = tuple(range(1, ncpus + 1))
        arr = pa.to_numpy()
        assert arr["value"].shape == (3, ncpus)
        assert arr["value"][1].tolist() == list(range(1, ncpus + 1))


def test_raw_maps_and_lpm():
    with bm.Map.create(bm.MapType.HASH, key=3, value=5, max_entries=4) as m:
        m[b"abc"] = b"12345"
        arr = m.to_numpy()
        assert arr.dtype["key"] == np.dtype("V3") and arr.dtype["value"] == np.dtype("V5")
        assert bytes(arr["key"][0]) == b"abc" and bytes(arr["value"][0]) == b"12345"
    with bm.LpmTrieMap.create(key="ipv4", value="__u32", max_entries=8) as t:
        t[ipaddress.ip_network("10.1.0.0/16")] = 7
        arr = t.to_numpy()
        assert arr["key"]["prefixlen"].tolist() == [16]
        assert bytes(arr["key"]["data"][0]) == bytes([10, 1, 0, 0])
        assert arr["value"].tolist() == [7]


def test_closed_map():
    m = bm.HashMap.create(key="__u32", value="__u32", max_entries=4)
    m.close()
    with pytest.raises(ValueError):
        m.to_numpy()
    with pytest.raises(ValueError):
        m.to_pandas()


def test_to_pandas_columns():
    with bm.HashMap.create(key="__u32", value=RICH, max_entries=8) as m:
        m[4] = {"count": 3, "comm": b"bash", "bits": {"a": 5, "b": -2, "c": True, "d": 9},
                "u": {"x": 0x10002}, "arr": (1, -2, 3), "st": 7, "f": 0.5, "d": 2.25,
                "ok": True, "peer": ((1, 2), (3, 4)), "mac": b"\x01\x02"}
        df = m.to_pandas()
        assert list(df.columns[:4]) == ["key", "count", "comm", "bits.a"]
        assert "peer[1].port" in df.columns and "arr[2]" in df.columns
        row = df.iloc[0]
        assert row["key"] == 4 and row["count"] == 3 and row["comm"] == b"bash"
        assert row["bits.b"] == -2 and bool(row["bits.c"]) is True and row["u.y"] == 2
        assert row["arr[1]"] == -2 and row["st"] == 7 and row["peer[1].port"] == 4
        assert row["mac"] == b"\x01\x02"


def test_to_pandas_key_value_collision_and_scalar():
    with bm.HashMap.create(key="struct k { __u32 pid; }", value="struct v { __u32 pid; __u64 n; }",
                           max_entries=4) as m:
        m[(1,)] = (1, 5)
        assert list(m.to_pandas().columns) == ["key.pid", "value.pid", "value.n"]
    with bm.HashMap.create(key="__u16", value="__u16", max_entries=4) as m:
        m.update({1: 2, 3: 4})
        df = m.to_pandas().sort_values("key")
        assert list(df.columns) == ["key", "value"]
        assert df.values.tolist() == [[1, 2], [3, 4]]


def test_to_pandas_percpu():
    ncpus = bm.possible_cpus()
    with bm.PerCpuHashMap.create(key="__u32", value="struct pc { __u32 n; char s[2]; }",
                                 max_entries=4) as p:
        p[7] = [(i + 1, b"x") for i in range(ncpus)]
        long = p.to_pandas()
        assert list(long.columns) == ["key", "cpu", "n", "s"]
        assert long["cpu"].tolist() == list(range(ncpus))
        assert long["n"].tolist() == list(range(1, ncpus + 1))
        total = p.to_pandas(percpu="sum")
        assert list(total.columns) == ["key", "n", "s"]
        assert total["n"].tolist() == [sum(range(1, ncpus + 1))]
        with pytest.raises(ValueError, match="percpu"):
            p.to_pandas(percpu="wide")
