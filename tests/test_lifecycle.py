"""File descriptors: no leaks after create/close, GC, failures and from_*."""
import gc
import os
import subprocess
import sys
import weakref

import pytest

import pybpfmap as bm
from pybpfmap.btf.parse import parse_type


def test_no_fd_leak_after_creating_and_closing_3000_maps(fd_count):
    before = fd_count()
    for i in range(3000):
        m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
        m[i] = i
        m.close()
    assert fd_count() == before


def test_no_fd_leak_with_context_managers(fd_count):
    before = fd_count()
    for _ in range(500):
        with bm.ArrayMap.create(value="__u32", max_entries=4) as a:
            a[0] = 1
    assert fd_count() == before


def test_no_fd_leak_after_maps_dropped_without_close(fd_count):
    before = fd_count()
    for _ in range(1000):
        bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    gc.collect()
    assert fd_count() == before


def test_no_fd_leak_for_maps_in_reference_cycles(fd_count):
    before = fd_count()
    for _ in range(200):
        m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
        m.cycle = m
    del m
    gc.collect()
    assert fd_count() == before


def test_gc_finalizer_closes_the_fd():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    fd = m.fd
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    with pytest.raises(OSError):
        os.fstat(fd)


def test_gc_of_closed_map_does_not_close_a_reused_fd():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    fd = m.fd
    m.close()
    r, w = os.pipe()  # likely reuses fd
    try:
        del m
        gc.collect()
        os.fstat(r)
        os.fstat(w)
    finally:
        os.close(r)
        os.close(w)
    assert fd >= 0


@pytest.mark.parametrize("kwargs", [
    dict(max_entries=0),                                   # kernel EINVAL
    dict(max_entries=4, flags=bm.MapFlags.MMAPABLE),        # kernel EINVAL for HASH
    dict(max_entries=4, name="bad-name"),                   # rejected in Python
    dict(max_entries=4, map_extra=1),                       # kernel EINVAL
])
def test_no_fd_leak_after_failed_creates(fd_count, kwargs):
    before = fd_count()
    for _ in range(300):
        with pytest.raises((bm.BpfError, ValueError)):
            bm.HashMap.create(key="__u32", value="__u64", **kwargs)
    assert fd_count() == before


def test_no_fd_leak_after_failed_typed_creates(fd_count):
    # typed maps load BTF before the map: the BTF fd must be closed too
    before = fd_count()
    for _ in range(300):
        with pytest.raises(bm.BpfError):
            bm.Map.create(bm.MapType.ARRAY, key="__u64", value="__u32", max_entries=4)
    assert fd_count() == before


def test_no_fd_leak_from_id(fd_count):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    before = fd_count()
    for _ in range(500):
        bm.Map.from_id(m.id).close()
    for _ in range(200):
        with pytest.raises(bm.BpfError):
            bm.Map.from_id(2**32 - 1)
    for _ in range(200):
        with pytest.raises(TypeError):
            bm.ArrayMap.from_id(m.id)  # wrong class: opened, then closed
    assert fd_count() == before
    m.close()


def test_no_fd_leak_from_pin(fd_count, pin_dir):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    path = os.path.join(pin_dir, "m")
    m.pin(path)
    before = fd_count()
    for _ in range(500):
        bm.Map.from_pin(path).close()
    for _ in range(100):
        with pytest.raises(bm.BpfError):
            bm.Map.from_pin(os.path.join(pin_dir, "missing"))
    assert fd_count() == before
    m.unpin()
    m.close()


def test_no_fd_leak_from_fd(fd_count):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    r, w = os.pipe()
    before = fd_count()
    for _ in range(500):
        bm.Map.from_fd(m.fd).close()
    for _ in range(200):
        with pytest.raises(bm.BpfError):
            bm.Map.from_fd(r)  # dup'ed, found not to be a map, closed
    assert fd_count() == before
    os.close(r)
    os.close(w)
    m.close()


def test_no_fd_leak_from_maps_listing(fd_count):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    before = fd_count()
    for _ in range(20):
        bm.maps()
    assert fd_count() == before
    m.close()


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_failed_wrap_closes_fd_exactly_once(fd_count):
    # A map object whose construction fails must not leave a finalizer that
    # would later close an fd number reused by someone else.
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    before = fd_count()
    fd = os.dup(m.fd)
    with pytest.raises(TypeError) as excinfo:
        bm.Map._wrap(fd, key_type=parse_type("__u64"))  # wrong key size
    del excinfo  # drop the traceback that keeps the half-made object alive
    assert fd_count() == before
    r, w = os.pipe()  # reuses the number of the fd _wrap closed
    try:
        gc.collect()
        os.fstat(r)
        os.fstat(w)
    finally:
        os.close(r)
        os.close(w)
    m.close()


def test_closed_map_survives_while_other_fd_holds_it():
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=4)
    m[1] = 2
    other = bm.Map.from_id(m.id)
    m.close()
    try:
        assert len(other) == 1
    finally:
        other.close()


CHILD = r"""
import sys
import pybpfmap as bm

def num(x):
    return int.from_bytes(x, "little") if isinstance(x, bytes) else x

m = bm.Map.from_id(int(sys.argv[1]))
print(type(m).__name__)
for k, v in sorted((num(k), num(v)) for k, v in m.items()):
    print(k, v)
key = 5 if m.key_type is not None else (5).to_bytes(4, "little")
value = 50 if m.value_type is not None else (50).to_bytes(8, "little")
m[key] = value
"""


def test_map_from_id_in_subprocess_sees_same_data():
    with bm.HashMap.create(key="__u32", value="__u64", max_entries=8, name="shared") as m:
        m.update({1: 10, 2: 20, 3: 30})
        proc = subprocess.run([sys.executable, "-c", CHILD, str(m.id)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert lines == ["HashMap", "1 10", "2 20", "3 30"]
        assert m[5] == 50  # written by the child
