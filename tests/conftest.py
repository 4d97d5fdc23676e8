"""Shared fixtures.  Every test runs against the real kernel of this machine.

With ``PYBPFMAP_REQUIRE_KERNEL=1`` (set by CI), a test that would skip for
lack of privileges, a mount or a tool fails instead; only a kernel feature
this kernel lacks may skip (use ``kernel_lacks``).
"""
import os
import shutil
import subprocess
import uuid

import pytest

REQUIRE = os.environ.get("PYBPFMAP_REQUIRE_KERNEL") == "1"


def need(condition, reason):
    """Skip (or, under PYBPFMAP_REQUIRE_KERNEL=1, fail) unless ``condition``."""
    if condition:
        return
    if REQUIRE:
        pytest.fail(f"PYBPFMAP_REQUIRE_KERNEL=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def kernel_lacks(feature):
    """Skip because this kernel has no ``feature`` (allowed even in CI)."""
    pytest.skip(f"this kernel ({os.uname().release}) lacks {feature}")


def _has_cap_bpf():
    from pybpfmap.errors import missing_capability
    return missing_capability() is None


@pytest.fixture(autouse=True, scope="session")
def _privileges():
    need(_has_cap_bpf(), "the tests need CAP_BPF (run them as root)")


def _is_bpffs(path):
    from pybpfmap._bpf import BPF_FS_MAGIC, fs_magic
    return fs_magic(path) == BPF_FS_MAGIC


@pytest.fixture(scope="session")
def bpffs_root():
    """/sys/fs/bpf, mounted if it is not (we are root)."""
    root = "/sys/fs/bpf"
    if not _is_bpffs(root) and os.geteuid() == 0:
        subprocess.run(["mount", "-t", "bpf", "bpf", root], check=False)
    need(_is_bpffs(root), "bpffs is not mounted at /sys/fs/bpf")
    return root


@pytest.fixture
def pin_dir(bpffs_root):
    """A fresh directory on bpffs, removed (with its pins) after the test."""
    path = os.path.join(bpffs_root, f"pybpfmap-test-{uuid.uuid4().hex[:12]}")
    os.mkdir(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def made():
    """A list of maps (or anything with close()) closed after the test."""
    things = []
    yield things
    for thing in things:
        thing.close()


@pytest.fixture
def closing():
    """closing(x) returns x and closes it (an fd or object) after the test."""
    things = []
    yield lambda x: things.append(x) or x
    for x in reversed(things):
        os.close(x) if isinstance(x, int) else x.close()


def prog_id(fd):
    """The kernel id of the BPF program behind ``fd`` (from /proc fdinfo)."""
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("prog_id:"):
                return int(line.split()[1])
    raise AssertionError(f"fd {fd} is not a program")


def open_fds():
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def fd_count():
    """A function returning this process's number of open fds."""
    return open_fds


@pytest.fixture
def clang():
    path = shutil.which("clang")
    need(path is not None, "clang is not installed")
    return path


@pytest.fixture
def bpftool():
    path = shutil.which("bpftool") or ("/usr/sbin/bpftool" if os.path.exists("/usr/sbin/bpftool") else None)
    need(path is not None, "bpftool is not installed")
    return path


BPF_DIR = os.path.join(os.path.dirname(__file__), "bpf")
BPF_BUILD = os.path.join(BPF_DIR, ".build")


def compile_bpf(name):
    """Compile tests/bpf/NAME.c with clang (cached by mtime); return the .o path."""
    src = os.path.join(BPF_DIR, f"{name}.c")
    out = os.path.join(BPF_BUILD, f"{name}.o")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    clang = shutil.which("clang")
    need(clang is not None, "clang is not installed")
    os.makedirs(BPF_BUILD, exist_ok=True)
    tmp = f"{out}.{os.getpid()}.tmp"
    arch = os.uname().machine
    subprocess.run([clang, "-g", "-O2", "-target", "bpf", f"-I/usr/include/{arch}-linux-gnu",
                    "-c", src, "-o", tmp], check=True)
    os.replace(tmp, out)
    return out


@pytest.fixture
def bpf_obj():
    """``bpf_obj(name)``: the path of tests/bpf/NAME.c compiled for BPF."""
    return compile_bpf


@pytest.fixture(scope="session")
def tracefs():
    """/sys/kernel/tracing, mounted if it is not."""
    root = "/sys/kernel/tracing"
    if not os.path.exists(os.path.join(root, "events")) and os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tracefs", "nodev", root], check=False)
    need(os.path.exists(os.path.join(root, "events")), "tracefs is not mounted at /sys/kernel/tracing")
    return root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under PYBPFMAP_REQUIRE_KERNEL=1, any skip that is not a kernel feature
    this kernel lacks (kernel_lacks) is a failure: CI must not hide a missing
    privilege, mount, tool or Python package behind a skip."""
    outcome = yield
    report = outcome.get_result()
    if not REQUIRE or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if "this kernel (" not in reason:
        report.outcome = "failed"
        report.longrepr = f"PYBPFMAP_REQUIRE_KERNEL=1 forbids this skip: {reason}"
