"""_repr_html_, _repr_pretty_ and repr of maps: header, typed columns,
escaping, per-CPU summaries, maps that cannot be listed."""
import html
import re

import pytest

import pybpfmap as bm
from pybpfmap import display

FLOW = "struct flow { __u32 saddr; __u16 port; }"
STATS = "struct stats { __u64 packets; struct { __u32 ip; __u16 port; } peer; char name[8]; }"


def cells(doc):
    return [html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", doc)]


def headers(doc):
    return re.findall(r"<th>(.*?)</th>", doc)


def test_html_header_and_columns():
    with bm.HashMap.create(key=FLOW, value=STATS, max_entries=64, name="flows",
                           flags=bm.MapFlags.NO_PREALLOC) as m:
        m[(0x0a000001, 80)] = {"packets": 12, "peer": {"ip": 7, "port": 443}, "name": b"web"}
        doc = m._repr_html_()
        for text in ("HashMap", "flows", str(m.id), "HASH", "struct flow", "struct stats",
                     "1 / 64", "NO_PREALLOC"):
            assert text in doc, text
        assert headers(doc) == ["saddr", "port", "packets", "peer.ip", "peer.port", "name"]
        assert cells(doc) == [str(0x0a000001), "80", "12", "7", "443", "web"]


def test_html_escapes_and_shows_bytes():
    with bm.HashMap.create(key="char[16]", value="__u8[4]", max_entries=8) as m:
        m[b"<script>&"] = b"\x00\xff\x01\x02"
        doc = m._repr_html_()
        assert "<script>" not in doc and "&lt;script&gt;&amp;" in doc
        assert cells(doc) == ["<script>&", "0x00ff0102"]
        assert headers(doc) == ["key", "value"]


def test_html_percpu_sum_expands():
    ncpus = bm.possible_cpus()
    with bm.PerCpuHashMap.create(key="__u32", value="struct c { __u64 n; char s[4]; }",
                                 max_entries=4) as m:
        m[1] = [(i + 1, b"ab") for i in range(ncpus)]
        doc = m._repr_html_()
        total = sum(range(1, ncpus + 1))
        assert f"<details><summary>{total}</summary>" in doc
        for i in range(ncpus):
            assert f"cpu{i}: {i + 1}" in doc
        assert "<summary>ab</summary>" in doc  # equal on every CPU: shown once


def test_html_key_value_collision_and_arrays():
    with bm.ArrayMap.create(value="struct v { __u32 index; __s16 d[2]; }", max_entries=3) as a:
        a[2] = (5, (-1, 2))
        doc = a._repr_html_()
        assert headers(doc) == ["index", "value.index", "value.d"]
        assert cells(doc)[-3:] == ["2", "5", "(-1, 2)"]


def test_html_limits_rows(monkeypatch):
    monkeypatch.setattr(display, "max_rows", 20)
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=100) as m:
        m.update({i: i for i in range(30)})
        doc = m._repr_html_()
        assert doc.count("<tr>") == 21  # header + 20 rows
        assert "showing 20 of 30 entries" in doc


def test_html_of_empty_unlistable_and_closed_maps():
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=4, name="nothing") as m:
        assert "<i>empty</i>" in m._repr_html_()
    with bm.QueueMap.create(value="__u32", max_entries=4) as q:
        doc = q._repr_html_()
        assert "QUEUE" in doc and "cannot be listed" in doc
    m = bm.HashMap.create(key="__u32", value="__u32", max_entries=4, name="gone")
    m.close()
    assert "closed" in m._repr_html_()
    assert "closed" in repr(m)


def test_enum_and_bool_cells():
    with bm.HashMap.create(key="__u8", value="struct s { enum st { OFF, ON } st; _Bool b; }",
                           max_entries=4) as m:
        m[1] = (1, True)
        m[2] = (9, False)
        doc = m._repr_html_()
        assert cells(doc) == ["1", "ON", "True", "2", "9", "False"]


def test_repr_pretty():
    pretty = pytest.importorskip("IPython.lib.pretty")
    with bm.HashMap.create(key="__u32", value=STATS, max_entries=8, name="pp") as m:
        m[3] = (10, (1, 2), b"x")
        text = pretty.pretty(m)
        lines = text.splitlines()
        assert lines[0].startswith("HashMap  name: pp  id: ")
        assert "entries: 1 / 8" in lines[0]
        assert lines[1].split() == ["key", "packets", "peer.ip", "peer.port", "name"]
        assert lines[2].split() == ["3", "10", "1", "2", "x"]


def test_repr_names_class_name_id_type():
    with bm.ArrayMap.create(value="__u64", max_entries=2, name="arr") as a:
        r = repr(a)
        assert r.startswith("<ArrayMap 'arr' id=") and "type=ARRAY" in r
