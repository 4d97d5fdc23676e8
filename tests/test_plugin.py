"""The pytest plugin (entry point pytest11 = pybpfmap.testing.plugin): the
bpf_map and bpf_object fixtures clean up, and needs_bpf skips without CAP_BPF.
Each case runs pytest in a subprocess on a small test file."""
import os
import shutil
import subprocess
import sys
import textwrap
import uuid

import pytest

import pybpfmap as bm

XDP = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} runs SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&runs, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
"""


def run_pytest(tmp_path, source, *args, drop_caps=False):
    test = tmp_path / "test_it.py"
    test.write_text(textwrap.dedent(source))
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
           str(test), *args]
    if drop_caps:  # still uid 0 (so it can read its files), but without capabilities
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is not installed")
        cmd = [setpriv, "--bounding-set=-all", "--inh-caps=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_plugin_is_registered():
    out = subprocess.run([sys.executable, "-m", "pytest", "--markers"], capture_output=True,
                         text=True).stdout
    assert "@pytest.mark.needs_bpf" in out


def test_bpf_map_closes_and_unpins(tmp_path, bpffs_root):
    pin = os.path.join(bpffs_root, f"pybpfmap-plugin-{uuid.uuid4().hex[:8]}")
    ids = tmp_path / "ids"
    result = run_pytest(tmp_path, f"""
        import pybpfmap as bm

        def test_uses_maps(bpf_map):
            m = bpf_map(bm.MapType.HASH, key="__u32", value="__u64", max_entries=8, pin={pin!r})
            a = bpf_map(bm.MapType.ARRAY, key="__u32", value="struct v {{ __u32 x; }}",
                        max_entries=2)
            m[1] = 2
            a[0] = {{"x": 3}}
            open({str(ids)!r}, "w").write(f"{{m.id}} {{a.id}}")
            assert __import__("os").path.exists({pin!r})
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not os.path.exists(pin)
    live = {info.id for info in bm.maps()}
    assert not {int(i) for i in ids.read_text().split()} & live


def test_bpf_object_compiles_loads_and_closes(tmp_path):
    (tmp_path / "prog.c").write_text(XDP)
    result = run_pytest(tmp_path, f'''
        import pytest
        SOURCE = {XDP!r}

        def test_inline(bpf_object):
            obj = bpf_object(SOURCE)
            prog = obj.programs["count"]
            for _ in range(3):
                assert prog.test_run(b"\\0" * 64).retval == 2  # XDP_PASS
            assert obj.maps["runs"][0] == 3

        def test_path_and_unloaded(bpf_object):
            obj = bpf_object("prog.c", load=False)
            assert not obj.loaded
            assert obj.maps["runs"].max_entries == 1

        def test_bad_source(bpf_object):
            with pytest.raises(RuntimeError, match="clang failed"):
                bpf_object("int broken(void) {{ return }}\\n")
    ''')
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_needs_bpf_skips_without_cap_bpf(tmp_path):
    result = run_pytest(tmp_path, """
        import pytest

        @pytest.mark.needs_bpf
        def test_marked():
            import pybpfmap as bm
            bm.HashMap.create(key="__u32", value="__u32", max_entries=1)

        def test_fixture(bpf_map):
            pass

        def test_plain():
            pass
    """, drop_caps=True)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "1 passed, 2 skipped" in out
    assert "needs CAP_BPF" in out


def test_needs_bpf_runs_with_cap_bpf(tmp_path):
    result = run_pytest(tmp_path, """
        import pytest

        @pytest.mark.needs_bpf
        def test_marked():
            import pybpfmap as bm
            with bm.HashMap.create(key="__u32", value="__u32", max_entries=1) as m:
                m[0] = 1
    """)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout
