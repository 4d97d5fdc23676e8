"""pytest plugin for testing BPF programs and maps with pybpfmap.

Registered as the ``pytest11`` entry point ``pybpfmap``, so installing
pybpfmap makes these available in any test suite:

``bpf_map``
    a factory: ``bpf_map(bm.MapType.HASH, key="__u32", value="__u64",
    max_entries=64, pin=None, **create_kwargs)`` creates a map; every map it
    made is unpinned (if pinned) and closed after the test.
``bpf_object``
    a factory: ``bpf_object(source, cflags=(), load=True, pin_root=None)``
    compiles C source (a string holding the program, or a ``.c`` path) with
    ``clang -target bpf`` (cached per session), or opens a ``.o`` path or
    ELF bytes, loads it, and closes it after the test.
``@pytest.mark.needs_bpf``
    skips the test, saying why, when the process lacks CAP_BPF.  The two
    fixtures skip the same way.
"""
import hashlib
import os
import shutil
import subprocess

import pytest

__all__ = ["bpf_map", "bpf_object"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_bpf: skip unless the process may use bpf() (CAP_BPF or root)")


def _missing_privilege():
    """Why this process cannot use bpf(), or None when it can."""
    try:
        from pybpfmap.errors import missing_capability
    except ImportError as exc:  # pragma: no cover - a broken install
        return f"pybpfmap cannot be imported: {exc}"
    cap = missing_capability()
    if cap is None:
        return None
    return f"this test needs {cap} (run it as root, or grant {cap})"


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_bpf") is not None:
        reason = _missing_privilege()
        if reason:
            pytest.skip(reason)


def _require_bpf():
    reason = _missing_privilege()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def bpf_map():
    """Factory of maps (``Map.create`` arguments, plus ``pin=path``); closes
    and unpins them after the test."""
    _require_bpf()
    import pybpfmap as bm
    made = []

    def create(map_type, key=None, value=None, max_entries=None, *, pin=None, **kwargs):
        m = bm.Map.create(map_type, key, value, max_entries, **kwargs)
        made.append(m)
        if pin is not None:
            m.pin(pin)
        return m

    yield create
    for m in reversed(made):
        if m.closed:
            continue
        if m._pin_path is not None:
            try:
                m.unpin()
            except OSError:
                pass
        m.close()


def _is_source_text(source):
    return isinstance(source, str) and ("\n" in source or "SEC(" in source) \
        and not os.path.exists(source)


def _compile(clang, src_path, out_dir, cflags):
    with open(src_path, "rb") as f:
        text = f.read()
    digest = hashlib.sha256(text + " ".join(cflags).encode()).hexdigest()[:16]
    out = os.path.join(out_dir, f"{os.path.basename(src_path)[:-2]}-{digest}.o")
    if os.path.exists(out):
        return out
    arch = os.uname().machine
    cmd = [clang, "-g", "-O2", "-target", "bpf", f"-I/usr/include/{arch}-linux-gnu",
           *cflags, "-c", src_path, "-o", out]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"clang failed on {src_path}:\n{proc.stderr}")
    return out


@pytest.fixture
def bpf_object(tmp_path_factory):
    """Factory: compile (C text or a ``.c`` path) or open (a ``.o`` path or
    ELF bytes) a BPF object and load it; closed after the test."""
    _require_bpf()
    import pybpfmap as bm
    out_dir = str(tmp_path_factory.getbasetemp() / "pybpfmap-objects")
    os.makedirs(out_dir, exist_ok=True)
    made = []

    def build(source, cflags=(), load=True, pin_root=None):
        if isinstance(source, (bytes, bytearray, memoryview)):
            target = bytes(source)
        else:
            path = None
            if _is_source_text(source):
                digest = hashlib.sha256(source.encode()).hexdigest()[:16]
                path = os.path.join(out_dir, f"inline-{digest}.c")
                with open(path, "w") as f:
                    f.write(source)
            else:
                path = os.fspath(source)
            if path.endswith(".c"):
                clang = shutil.which("clang")
                if clang is None:
                    pytest.skip("clang is not installed (it compiles the BPF program)")
                path = _compile(clang, path, out_dir, list(cflags))
            target = path
        obj = bm.BpfObject.open(target, pin_root=pin_root)
        made.append(obj)
        if load:
            obj.load()
        return obj

    yield build
    for obj in reversed(made):
        obj.close()
