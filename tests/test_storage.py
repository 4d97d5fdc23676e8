"""Local storage maps (socket, task, inode, cgroup): keys given as objects,
fds, pids or paths; values shared with a BPF program; no iteration."""
import errno
import os
import socket
import subprocess
import sys
import uuid

import pytest

import pybpfmap as bm
from conftest import need


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    return None


@pytest.fixture
def cgroup_dir():
    """A fresh cgroup v2 directory, removed after the test."""
    root = cgroup2_root()
    need(root is not None, "no cgroup v2 hierarchy is mounted")
    path = os.path.join(root, f"pybpfmap-test-{uuid.uuid4().hex[:12]}")
    os.mkdir(path)
    yield path
    os.rmdir(path)


class Fd:
    """An object whose fileno() is a given fd (e.g. a pidfd)."""

    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd


@pytest.fixture(params=["sk", "task", "inode", "cgroup"])
def case(request, closing, tmp_path):
    """(map, key1, key2) for each storage type; key2 names a second object
    in another form (fd, path, pidfd object ...)."""
    kind = request.param
    if kind == "sk":
        m = bm.SkStorageMap.create("__u64")
        udp6 = closing(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
        keys = closing(socket.socket()), udp6.fileno()
    elif kind == "task":
        m = bm.TaskStorageMap.create("__u64")
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        request.addfinalizer(lambda: (child.kill(), child.wait()))
        keys = os.getpid(), Fd(closing(os.pidfd_open(child.pid)))
    elif kind == "inode":
        m = bm.InodeStorageMap.create("__u64")
        (tmp_path / "b").write_text("b")
        keys = closing(open(tmp_path / "a", "w")), str(tmp_path / "b")
    else:
        cg = request.getfixturevalue("cgroup_dir")
        m = bm.CgroupStorageMap.create("__u64")
        keys = cg, closing(os.open(os.path.dirname(cg), os.O_RDONLY | os.O_DIRECTORY))
    closing(m)
    return (m,) + keys


def test_create(case):
    m = case[0]
    assert isinstance(m, (bm.SkStorageMap, bm.TaskStorageMap, bm.InodeStorageMap,
                          bm.CgroupStorageMap))
    assert m.flags & bm.MapFlags.NO_PREALLOC
    assert m.key_size == 4 and m.max_entries == 0
    assert m.info.btf_key_type_id and m.info.btf_value_type_id


def test_set_get_delete(case):
    m, a, b = case
    assert a not in m
    m[a] = 1
    m[b] = 2
    assert m[a] == 1 and m[b] == 2
    assert a in m and b in m
    m[a] = 3
    assert m[a] == 3
    del m[a]
    assert a not in m and m[b] == 2
    with pytest.raises(KeyError) as exc:
        m[a]
    assert exc.value.args == (a,)  # names the object given, not an fd
    with pytest.raises(KeyError):
        del m[a]
    assert m.get(a, "none") == "none" and m.get(b) == 2


def test_insert_replace_pop_setdefault(case):
    m, a, b = case
    with pytest.raises(KeyError):
        m.replace(a, 1)
    m.insert(a, 1)
    with pytest.raises(bm.KeyExistsError):
        m.insert(a, 2)
    m.replace(a, 5)
    assert m.pop(a) == 5
    assert m.pop(a, None) is None
    with pytest.raises(KeyError):
        m.pop(a)
    assert m.setdefault(b, 7) == 7 and m.setdefault(b, 8) == 7


def test_no_listing(case):
    m, a, _ = case
    m[a] = 1
    for op in (lambda: len(m), lambda: list(m), lambda: bool(m), lambda: m.keys(),
               lambda: m.items(), lambda: m.popitem(), lambda: m.clear(), lambda: m.pop_all(),
               lambda: m.update({a: 2})):
        with pytest.raises(TypeError):
            op()
    assert m[a] == 1


def test_bad_values_and_keys_raise_before_syscall(case, fd_count):
    m, a, _ = case
    m[a] = 1
    before = fd_count()
    with pytest.raises(OverflowError):
        m[a] = -1
    with pytest.raises(TypeError):
        m[a] = "x"
    for key, exc in ((1.5, TypeError), (None, TypeError), (True, TypeError), (-3, ValueError)):
        with pytest.raises(exc):
            m[key] = 1
    assert m[a] == 1
    assert fd_count() == before


def test_keys_opened_here_are_closed(case, fd_count):
    m, a, b = case
    before = fd_count()
    for _ in range(20):
        m[a] = 1
        m[b] = 2
        assert m[a] + m[b] == 3
        del m[a]
    assert fd_count() == before


def test_typed_struct_value(closing):
    m = closing(bm.SkStorageMap.create("struct conn { __u32 bytes; char tag[4]; }"))
    s = closing(socket.socket())
    m[s] = {"bytes": 10, "tag": b"web"}
    assert m[s].bytes == 10 and m[s].tag == b"web"


def test_create_needs_typed_value():
    for cls in (bm.SkStorageMap, bm.TaskStorageMap, bm.InodeStorageMap, bm.CgroupStorageMap):
        with pytest.raises(TypeError):
            cls.create(8)
        with pytest.raises(TypeError):
            cls.create()


def test_generic_create_gives_the_class(closing):
    m = closing(bm.Map.create(bm.MapType.SK_STORAGE, key="int", value="__u32", max_entries=0,
                              flags=bm.MapFlags.NO_PREALLOC))
    assert type(m) is bm.SkStorageMap


# ------------------------------------------------------ per-type semantics

def test_sk_storage_refuses_non_sockets(closing, tmp_path):
    m = closing(bm.SkStorageMap.create("__u64"))
    f = closing(open(tmp_path / "f", "w"))
    with pytest.raises(bm.BpfError) as exc:
        m[f] = 1
    assert exc.value.errno == errno.ENOTSOCK
    s = socket.socket()
    s.close()
    with pytest.raises(ValueError):  # a closed socket has fileno() -1
        m[s] = 1


def test_sk_storage_goes_with_the_socket(closing):
    m = closing(bm.SkStorageMap.create("__u64"))
    s = socket.socket()
    fd = os.dup(s.fileno())
    m[s] = 1
    assert m[fd] == 1  # the same socket through another fd
    s.close()
    assert m[fd] == 1  # still open through fd
    os.close(fd)


def test_task_storage_by_pid_and_pidfd(closing):
    m = closing(bm.TaskStorageMap.create("__u64"))
    m[os.getpid()] = 9
    assert m[Fd(closing(os.pidfd_open(os.getpid())))] == 9
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with pytest.raises(ProcessLookupError):
        m[child.pid] = 1
    r, w = os.pipe()
    closing(r), closing(w)
    with pytest.raises(bm.BpfError) as exc:
        m[Fd(r)] = 1  # not a pidfd
    assert exc.value.errno == errno.EBADF
    with pytest.raises(TypeError):
        m["1"] = 1


def test_inode_storage_follows_the_inode(closing, tmp_path):
    m = closing(bm.InodeStorageMap.create("__u64"))
    path = tmp_path / "x"
    with open(path, "w") as f:
        m[f] = 4
    assert m[path] == 4  # reopened by path: same inode
    os.link(path, tmp_path / "hard")
    assert m[str(tmp_path / "hard")] == 4
    path.write_text("new content")  # same inode
    assert m[os.fsencode(path)] == 4
    with pytest.raises(FileNotFoundError):
        m[tmp_path / "missing"]


def test_cgroup_storage_by_path_and_fd(closing, cgroup_dir, tmp_path):
    m = closing(bm.CgroupStorageMap.create("__u64"))
    m[cgroup_dir] = 6
    fd = closing(os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY))
    assert m[fd] == 6
    with pytest.raises(bm.BpfError) as exc:
        m[str(tmp_path)] = 1  # a directory, but not a cgroup
    assert exc.value.errno == errno.EBADF
    with pytest.raises(NotADirectoryError):
        m[os.path.join(cgroup_dir, "cgroup.procs")] = 1


def test_closed_map(closing):
    m = bm.TaskStorageMap.create("__u64")
    m.close()
    with pytest.raises(ValueError):
        m[os.getpid()] = 1


# ----------------------------------------------------- from a BPF program

def test_program_counts_in_task_storage(bpf_obj):
    with bm.load(bpf_obj("task_storage")) as obj:
        calls = obj.maps["getpid_calls"]
        assert isinstance(calls, bm.TaskStorageMap)
        pid = os.getpid()
        assert pid not in calls
        with obj.programs["count_getpid"].attach():
            os.getpid()
            os.getpid()
            assert calls[pid] == 2
            calls[pid] = 100  # the program adds to what Python wrote
            os.getpid()
        assert calls[pid] == 101
