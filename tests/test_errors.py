"""The error hierarchy of API.md section 5, raised by the real kernel."""
import errno
import os
import pickle
import shutil
import subprocess
import sys

import pytest

import pybpfmap as bm
from pybpfmap.errors import ENOTSUPP, check, raise_errno

from conftest import need


@pytest.fixture
def hmap():
    m = bm.HashMap.create(key="__u32", value="__u32", max_entries=2, name="errs")
    yield m
    m.close()


# ------------------------------------------------------------- hierarchy

def test_bpf_error_is_os_error():
    assert issubclass(bm.BpfError, OSError)


@pytest.mark.parametrize("cls", [bm.KeyExistsError, bm.MapFullError, bm.BpfPermissionError,
                                 bm.LoadError])
def test_subclasses_of_bpf_error(cls):
    assert issubclass(cls, bm.BpfError)
    assert issubclass(cls, OSError)


def test_permission_error_is_also_builtin_permission_error():
    assert issubclass(bm.BpfPermissionError, PermissionError)


def test_key_exists_and_map_full_are_not_permission_errors():
    assert not issubclass(bm.KeyExistsError, PermissionError)
    assert not issubclass(bm.MapFullError, PermissionError)


def test_load_error_has_log():
    exc = bm.LoadError(errno.EINVAL, "load failed", log="verifier says no")
    assert exc.log == "verifier says no"
    assert exc.errno == errno.EINVAL


def test_bpf_error_attributes():
    exc = bm.BpfError(errno.EINVAL, "update failed on map 'x' (id 1): Invalid argument",
                      op="update")
    assert exc.errno == errno.EINVAL
    assert exc.op == "update"
    assert "update failed" in str(exc)
    assert "EINVAL" in str(exc)


@pytest.mark.parametrize("cls", [bm.BpfError, bm.KeyExistsError, bm.MapFullError,
                                 bm.BpfPermissionError])
def test_errors_pickle(cls):
    exc = cls(errno.EPERM, "some op failed")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is cls
    assert again.errno == errno.EPERM
    assert str(again) == str(exc)


# ------------------------------------------------------- raised by the kernel

def test_kernel_error_names_operation_and_map(hmap):
    with pytest.raises(bm.BpfError) as exc:
        hmap.set(1, 1, bm.UpdateFlags.NOEXIST | bm.UpdateFlags.EXIST)
    e = exc.value
    assert type(e) is bm.BpfError
    assert e.errno == errno.EINVAL
    msg = str(e)
    assert "update" in msg
    assert "errs" in msg
    assert str(hmap.id) in msg
    assert "EINVAL" in msg


def test_kernel_error_can_be_caught_as_os_error(hmap):
    with pytest.raises(OSError) as exc:
        hmap.set(1, 1, 3)
    assert exc.value.errno == errno.EINVAL


def test_missing_key_is_plain_key_error(hmap):
    with pytest.raises(KeyError) as exc:
        hmap[42]
    assert not isinstance(exc.value, bm.BpfError)
    assert exc.value.args[0] == 42


def test_key_exists_error(hmap):
    hmap[1] = 1
    with pytest.raises(bm.KeyExistsError) as exc:
        hmap.insert(1, 2)
    e = exc.value
    assert e.errno == errno.EEXIST
    assert "errs" in str(e)
    assert "1" in str(e)
    assert "exists" in str(e)


def test_map_full_error(hmap):
    hmap[1] = 1
    hmap[2] = 2
    with pytest.raises(bm.MapFullError) as exc:
        hmap[3] = 3
    e = exc.value
    assert e.errno == errno.E2BIG
    assert "full" in str(e)
    assert "errs" in str(e)
    assert "2 entries" in str(e)


def test_frozen_map_update_is_permission_error_with_hint(hmap):
    hmap.freeze()
    with pytest.raises(bm.BpfPermissionError) as exc:
        hmap[1] = 1
    e = exc.value
    assert e.errno == errno.EPERM
    assert "update" in str(e) and "errs" in str(e)
    assert "frozen" in str(e)


def test_write_only_map_lookup_is_permission_error():
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=2,
                           flags=bm.MapFlags.WRONLY) as m:
        m[1] = 1
        with pytest.raises(bm.BpfPermissionError) as exc:
            m[1]
        assert "lookup" in str(exc.value)
        assert "write-only" in str(exc.value)


def test_read_only_map_update_is_permission_error():
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=2,
                           flags=bm.MapFlags.RDONLY) as m:
        with pytest.raises(bm.BpfPermissionError) as exc:
            m[1] = 1
        assert "read-only" in str(exc.value)
        assert len(m) == 0


def test_raise_errno_maps_eacces_to_permission_error():
    with pytest.raises(bm.BpfPermissionError) as exc:
        raise_errno(errno.EACCES, "lookup", "map 'x'")
    assert exc.value.errno == errno.EACCES
    assert "lookup failed on map 'x'" in str(exc.value)


def test_check_returns_non_negative_and_raises_negative():
    assert check(3, "op") == 3
    with pytest.raises(bm.BpfError) as exc:
        check(-errno.ENOENT, "op", "thing")
    assert exc.value.errno == errno.ENOENT
    assert "op failed on thing" in str(exc.value)


# -------------------------------------------------------------- ENOTSUPP

def test_enotsupp_from_kernel_is_named():
    # LRU maps cannot be created without preallocation: the kernel says 524
    with pytest.raises(bm.BpfError) as exc:
        bm.Map.create(bm.MapType.LRU_HASH, key="__u32", value="__u32", max_entries=4,
                      flags=bm.MapFlags.NO_PREALLOC, name="lrunp")
    e = exc.value
    assert e.errno == ENOTSUPP == 524
    assert e.errno != errno.EOPNOTSUPP
    msg = str(e)
    assert "ENOTSUPP" in msg
    assert "not supported" in msg
    assert "create" in msg and "lrunp" in msg


def test_enotsupp_message_from_raise_errno():
    with pytest.raises(bm.BpfError) as exc:
        raise_errno(ENOTSUPP, "lookup_and_delete", "map 'q' (id 3)")
    assert "lookup_and_delete failed on map 'q' (id 3)" in str(exc.value)
    assert "ENOTSUPP" in str(exc.value)
    assert "Unknown error" not in str(exc.value)


# ------------------------------------------------- without CAP_BPF (real EPERM)

CHILD = r"""
import pybpfmap as bm
for key in (4, "__u32"):  # raw (no BTF) and typed (BTF is loaded first)
    try:
        bm.HashMap.create(key=key, value=4, max_entries=4)
    except Exception as exc:
        print(type(exc).__name__)
        print(isinstance(exc, PermissionError), getattr(exc, "errno", None))
        print(exc)
    else:
        print("no error")
"""


def test_unprivileged_create_names_cap_bpf():
    setpriv = shutil.which("setpriv")
    need(setpriv is not None, "setpriv (util-linux) is not installed")
    need(os.geteuid() == 0, "dropping privileges needs root")
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(bm.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
         "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-c", CHILD],
        capture_output=True, text=True, timeout=60, env=env, cwd="/")
    need(proc.returncode == 0 or "Permission denied" not in proc.stderr,
         f"uid 65534 cannot run this python: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6, proc.stdout
    for i in (0, 3):
        assert lines[i] == "BpfPermissionError", proc.stdout
        assert lines[i + 1] == f"True {errno.EPERM}"
        assert "CAP_BPF" in lines[i + 2]
    assert "create failed" in lines[2]


def test_messages_name_insert_and_replace():
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=1) as m:
        m[1] = 1
        with pytest.raises(bm.KeyExistsError, match="insert failed") as info:
            m.insert(1, 2)
        assert info.value.errno == errno.EEXIST
        with pytest.raises(bm.MapFullError, match="insert failed"):
            m.insert(2, 2)
        with pytest.raises(KeyError):
            m.replace(3, 3)


def test_hash_create_needs_a_key_type():
    with pytest.raises(TypeError, match="needs a key type"):
        bm.HashMap.create(value="__u32", max_entries=4)


def test_load_error_pickles_with_its_log():
    import pickle
    err = bm.LoadError(errno.EACCES, "load failed", log="R0 invalid mem access\n")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is bm.LoadError
    assert (again.errno, again.log) == (errno.EACCES, "R0 invalid mem access\n")
    assert str(again) == str(err)
