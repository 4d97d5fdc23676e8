"""bm.hist: BCC's print_log2_hist/print_linear_hist text, exactly, from
array and hash maps (with sections and per-CPU counts), and the plots."""
import base64

import pytest

import pybpfmap as bm

# What BCC's table.print_log2_hist("usecs") prints for these counts.
LOG2_USECS = """\
     usecs               : count     distribution
         0 -> 1          : 1        |*                                       |
         2 -> 3          : 5        |*****                                   |
         4 -> 7          : 20       |********************                    |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 40       |****************************************|
        32 -> 63         : 3        |***                                     |"""

LINEAR_KBYTES = """\
     kbytes        : count     distribution
        0          : 0        |                                        |
        1          : 3        |********************                    |
        2          : 6        |****************************************|
        3          : 0        |                                        |
        4          : 1        |******                                  |"""

SECTIONS = """
comm = bash
     value               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 4        |****************************************|
         4 -> 7          : 2        |********************                    |

comm = sshd
     value               : count     distribution
         0 -> 1          : 7        |****************************************|"""


def test_log2_from_array_map():
    with bm.ArrayMap.create(value="__u64", max_entries=65) as a:
        a[:7] = [0, 1, 5, 20, 0, 40, 3]
        h = bm.hist.log2(a, "usecs")
        assert str(h) == LOG2_USECS
        assert h.counts[:7] == [0, 1, 5, 20, 0, 40, 3]
        assert repr(h) == "<Histogram log2, 69 counts>"


def test_log2_from_hash_and_per_cpu_counts():
    ncpus = bm.possible_cpus()
    with bm.PerCpuHashMap.create(key="__u32", value="__u64", max_entries=65) as m:
        for bucket, n in {1: 1, 2: 5, 3: 20, 5: 40, 6: 3}.items():
            m[bucket] = [n] + [0] * (ncpus - 1)
        assert str(bm.hist.log2(m, "usecs")) == LOG2_USECS


def test_log2_labels_and_wide_layout():
    vals = [0] * 65
    vals[4], vals[40] = 2, 8
    lines = str(bm.hist.log2(vals)).splitlines()
    assert lines[0] == "               value                         : count     distribution"
    assert lines[1] == "                   0 -> 1                    : 0        |                    |"
    assert lines[4] == "                   8 -> 15                   : 2        |*****               |"
    assert lines[-1] == ("        549755813888 -> 1099511627775        : 8        "
                         "|********************|")
    assert len(lines) == 41
    h = bm.hist.log2(vals)
    assert [h.bucket_range(i) for i in (1, 2, 3, 11)] == [(0, 1), (2, 3), (4, 7), (1024, 2047)]


def test_log2_strip_leading_zero_and_empty():
    vals = [0, 0, 0, 0, 2, 0, 1]
    text = str(bm.hist.log2(vals, strip_leading_zero=True))
    assert text.splitlines()[1] == "         8 -> 15         : 2        |****************************************|"
    assert len(text.splitlines()) == 4
    assert str(bm.hist.log2([0] * 65)) == ""
    assert str(bm.hist.log2([5])) == ""  # BCC never prints bucket 0


def test_linear():
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=16) as m:
        m.update({1: 3, 2: 6, 4: 1})
        assert str(bm.hist.linear(m, "kbytes")) == LINEAR_KBYTES
    assert str(bm.hist.linear([])) == ""


def test_sections_from_struct_keys():
    with bm.HashMap.create(key="struct hist_key { char comm[16]; __u32 slot; }", value="__u64",
                           max_entries=64) as m:
        m[(b"sshd", 1)] = 7
        m[(b"bash", 2)] = 4
        m[(b"bash", 3)] = 2
        h = bm.hist.log2(m, section_header="comm")
        assert str(h) == SECTIONS
        assert set(h.sections) == {b"bash", b"sshd"}
        custom = bm.hist.log2(m, section_header="name",
                              section_print_fn=lambda s: s.decode().upper())
        assert "\nname = BASH\n" in str(custom)


def test_bucket_field_choice_and_errors():
    with bm.HashMap.create(key="struct k { __u32 bin; __u32 cpu; }", value="struct v { __u64 n; }",
                           max_entries=8) as m:
        m[(2, 0)] = (3,)
        m[(2, 1)] = (1,)
        h = bm.hist.log2(m)  # 'bin' is the bucket, 'cpu' the section
        assert set(h.sections) == {0, 1}
        h2 = bm.hist.log2(m, bucket="cpu", section="bin")
        assert h2.sections == {2: [3, 1]}
        with pytest.raises(ValueError, match="no field"):
            bm.hist.log2(m, bucket="nope")
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=8) as m:
        m[70] = 1
        with pytest.raises(ValueError, match="bucket 70"):
            bm.hist.log2(m)


def test_plot_and_html():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    vals = [0, 1, 5, 20, 0, 40, 3]
    h = bm.hist.log2(vals, "usecs")
    ax = h.plot()
    assert len(ax.patches) == 6  # buckets 1..6
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0-1", "2-3", "4-7"]
    assert ax.get_xlabel() == "usecs"
    doc = h._repr_html_()
    assert doc.startswith("<img ") and "data:image/png;base64," in doc
    png = base64.b64decode(doc.split("base64,")[1].split('"')[0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.pyplot as plt
    plt.close("all")
