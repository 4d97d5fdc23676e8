"""The build: which libbpf, and the version check of the compiled module."""
import os
import subprocess
import sys

import pybpfmap

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_libbpf_version_names_the_vendored_build():
    assert pybpfmap.libbpf_version().startswith("1.5 (vendored")


def test_system_libbpf_older_than_1_5_is_refused_clearly():
    """Debian 12 has libbpf 1.1.2: the builder stops with one clear line."""
    out = subprocess.run(["pkg-config", "--modversion", "libbpf"], capture_output=True, text=True)
    version = out.stdout.strip()
    env = dict(os.environ, PYBPFMAP_LIBBPF="system")
    res = subprocess.run([sys.executable, "-c", "import build_ffi"], cwd=TOP, env=env,
                         capture_output=True, text=True)
    if version and tuple(int(p) for p in version.split(".")[:2]) < (1, 5):
        assert res.returncode != 0
        assert f"needs libbpf >= 1.5, this system has {version}" in res.stderr
    else:
        assert res.returncode == 0 or "pkg-config cannot find libbpf" in res.stderr
