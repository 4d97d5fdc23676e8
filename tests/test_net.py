"""Redirect, socket and cgroup maps: device, CPU, XSK, sockmap/sockhash,
reuseport and cgroup arrays, on loopback and with XDP programs that
redirect through them (test_run returns XDP_REDIRECT only when the slot is
filled)."""
import errno
import os
import socket
import struct
import uuid

import pytest

import pybpfmap as bm
from conftest import kernel_lacks, need, prog_id

XDP_PASS, XDP_REDIRECT = 2, 4
SO_COOKIE = 57
AF_XDP = 44
LO = socket.if_nametoindex("lo")


def cookie(sock):
    return struct.unpack("=Q", sock.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


@pytest.fixture
def obj(bpf_obj):
    with bm.load(bpf_obj("net_maps")) as obj:
        yield obj


def run(obj, prog):
    return obj.programs[prog].test_run(bytes(64)).retval


@pytest.fixture
def xsk_socket(closing):
    try:
        return closing(socket.socket(AF_XDP, socket.SOCK_RAW))
    except OSError as exc:
        if exc.errno == errno.EAFNOSUPPORT:
            kernel_lacks("AF_XDP sockets (CONFIG_XDP_SOCKETS)")
        raise


def listening_tcp(closing, reuseport=False):
    s = closing(socket.socket())
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


# ------------------------------------------------------------------ DEVMAP

def test_devmap_ifindex_and_names(closing):
    m = closing(bm.DevMap.create(4))
    assert type(m) is bm.DevMap and m.value_size == 4
    m[0] = "lo"
    m[2] = LO
    assert m[0] == LO and m[2] == LO
    assert dict(m.items()) == {0: LO, 2: LO}
    assert len(m) == 2 and 1 not in m
    del m[2]
    assert list(m) == [0]
    m[0] = 0  # ifindex 0 empties the slot, as the kernel does
    assert len(m) == 0 and not m
    del m[1]  # the kernel reports success for an empty slot


def test_devmap_refusals(closing):
    m = closing(bm.DevMap.create(4))
    with pytest.raises(bm.BpfError) as exc:
        m[0] = 0x7FFFFFF0  # no such device in this network namespace
    assert exc.value.errno == errno.EINVAL
    with pytest.raises(ValueError):
        m[0] = "no-such-if0"
    with pytest.raises(TypeError):
        m[0] = bm.DevmapValue("lo")  # plain ifindex values carry no program
    with pytest.raises(IndexError):
        m[4] = "lo"
    with pytest.raises(TypeError):
        m[0] = 1.0
    assert len(m) == 0


def test_devmap_redirect(obj):
    devs = obj.maps["devs"]
    assert isinstance(devs, bm.DevMap)
    assert run(obj, "to_dev") == XDP_PASS
    devs[0] = "lo"
    assert run(obj, "to_dev") == XDP_REDIRECT
    del devs[0]
    assert run(obj, "to_dev") == XDP_PASS


def test_devmap_with_programs(obj, closing):
    m = closing(bm.DevMap.create(4, programs=True))
    assert m.value_size == 8
    on_dev = obj.programs["on_dev"]
    m[0] = bm.DevmapValue("lo", on_dev)
    m[1] = "lo"
    m[2] = {"ifindex": LO, "prog": on_dev.fd}
    assert m[0] == bm.DevmapValue(LO, prog_id(on_dev.fd)) == m[2]
    assert m[1] == (LO, 0)
    with pytest.raises(bm.BpfError) as exc:
        m[3] = bm.DevmapValue("lo", obj.programs["to_dev"])  # not an xdp/devmap program
    assert exc.value.errno == errno.EINVAL
    assert 3 not in m


def test_devmap_hash(obj):
    m = obj.maps["devs_by_ifindex"]
    assert isinstance(m, bm.DevMapHash)
    assert run(obj, "to_dev_hash") == XDP_PASS
    m[LO] = bm.DevmapValue("lo", obj.programs["on_dev"])
    assert run(obj, "to_dev_hash") == XDP_REDIRECT
    assert dict(m.items()) == {LO: (LO, prog_id(obj.programs["on_dev"].fd))}
    with pytest.raises(bm.KeyExistsError):
        m.insert(LO, "lo")
    del m[LO]
    with pytest.raises(KeyError):
        del m[LO]
    assert run(obj, "to_dev_hash") == XDP_PASS


# ------------------------------------------------------------------ CPUMAP

def test_cpumap(obj, closing):
    need(bm.possible_cpus() >= 2, "the CPU map test needs 2 possible CPUs")
    m = closing(bm.CpuMap.create(bm.possible_cpus()))
    m[1] = 256
    assert m[1] == 256 and dict(m.items()) == {1: 256}
    m[1] = 0  # queue size 0 empties the slot
    assert 1 not in m
    with pytest.raises(bm.BpfError) as exc:
        m[0] = 1 << 20  # beyond the kernel's queue limit
    assert exc.value.errno == errno.EOVERFLOW
    with pytest.raises(ValueError):
        m[0] = -1


def test_cpumap_impossible_cpu(closing):
    m = closing(bm.CpuMap.create(bm.possible_cpus() + 2))
    with pytest.raises(bm.BpfError) as exc:
        m[bm.possible_cpus()] = 64
    assert exc.value.errno == errno.ENODEV


def test_cpumap_redirect_with_program(obj):
    cpus = obj.maps["cpus"]
    assert isinstance(cpus, bm.CpuMap) and cpus.value_size == 8
    assert run(obj, "to_cpu") == XDP_PASS
    cpus[1] = bm.CpumapValue(64, obj.programs["on_cpu"])
    assert cpus[1] == (64, prog_id(obj.programs["on_cpu"].fd))
    assert run(obj, "to_cpu") == XDP_REDIRECT
    cpus[1] = 128  # no program
    assert cpus[1] == bm.CpumapValue(128, 0)
    del cpus[1]
    assert run(obj, "to_cpu") == XDP_PASS


# ------------------------------------------------------------------ XSKMAP

def test_xskmap(obj, xsk_socket):
    xsks = obj.maps["xsks"]
    assert isinstance(xsks, bm.XskMap)
    assert run(obj, "to_xsk") == XDP_PASS
    xsks[0] = xsk_socket
    assert run(obj, "to_xsk") == XDP_REDIRECT
    for op in (lambda: xsks[0], lambda: 0 in xsks, lambda: len(xsks), lambda: list(xsks),
               lambda: xsks.items(), lambda: xsks.pop(0)):
        with pytest.raises(TypeError):
            op()
    del xsks[0]
    assert run(obj, "to_xsk") == XDP_PASS


def test_xskmap_refuses_other_sockets(closing, xsk_socket):
    m = closing(bm.XskMap.create(2))
    with pytest.raises(bm.BpfError) as exc:
        m[0] = listening_tcp(closing)
    assert exc.value.errno == errno.EOPNOTSUPP
    m[1] = xsk_socket.fileno()
    with pytest.raises(IndexError):
        m[2] = xsk_socket


# ------------------------------------------------------------ SOCKMAP/HASH

def test_sockmap_cookies(closing):
    m = closing(bm.SockMap.create(4))
    a, b = socket.socketpair()
    closing(a), closing(b)
    tcp = listening_tcp(closing)
    m[0] = a
    m[1] = tcp.fileno()
    assert m[0] == cookie(a) and m[1] == cookie(tcp)
    assert dict(m.items()) == {0: cookie(a), 1: cookie(tcp)}
    with pytest.raises(bm.KeyExistsError):
        m.insert(0, b)
    with pytest.raises(KeyError):
        m.replace(2, b)
    del m[1]
    with pytest.raises(KeyError):
        del m[1]  # the kernel says EINVAL for an empty slot
    a.close()  # a closed socket leaves the map
    assert 0 not in m and len(m) == 0


def test_sockmap_refusals(closing, tmp_path):
    m = closing(bm.SockMap.create(2))
    with pytest.raises(bm.BpfError) as exc:
        m[0] = closing(socket.socket())  # TCP, neither listening nor connected
    assert exc.value.errno == errno.EOPNOTSUPP
    with pytest.raises(bm.BpfError) as exc:
        m[0] = closing(open(tmp_path / "f", "w"))
    assert exc.value.errno == errno.ENOTSOCK
    with pytest.raises(IndexError):
        m[2] = listening_tcp(closing)
    with pytest.raises(TypeError):
        m[0] = "socket"
    assert len(m) == 0


def test_sockhash(closing):
    m = closing(bm.SockHash.create("struct flow { __u32 addr; __u16 port; }", 8))
    assert type(m) is bm.SockHash
    tcp = listening_tcp(closing)
    port = tcp.getsockname()[1]
    m[(0x7F000001, port)] = tcp
    assert m[{"addr": 0x7F000001, "port": port}] == cookie(tcp)
    assert [k.port for k in m] == [port]
    del m[(0x7F000001, port)]
    with pytest.raises(KeyError):
        del m[(0x7F000001, port)]
    with pytest.raises(TypeError):
        bm.SockHash.create(max_entries=4)


# ----------------------------------------------------- REUSEPORT_SOCKARRAY

def test_reuseport_sockarray(closing):
    m = closing(bm.ReuseportSockArray.create(4))
    assert type(m) is bm.ReuseportSockArray
    tcp = listening_tcp(closing, reuseport=True)
    udp = closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    udp.bind(("127.0.0.1", 0))
    m[0] = tcp
    m[3] = udp
    assert dict(m.items()) == {0: cookie(tcp), 3: cookie(udp)}
    with pytest.raises(bm.KeyExistsError):
        m.insert(0, tcp)
    del m[0]
    with pytest.raises(KeyError):
        del m[0]


@pytest.mark.parametrize("setup", ["no SO_REUSEPORT", "unbound", "bound TCP, not listening"])
def test_reuseport_refusals(closing, setup):
    m = closing(bm.ReuseportSockArray.create(2))
    s = closing(socket.socket())
    if setup != "no SO_REUSEPORT":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if setup != "unbound":
        s.bind(("127.0.0.1", 0))
    if setup == "no SO_REUSEPORT":
        s.listen()
    with pytest.raises(bm.BpfError) as exc:
        m[0] = s
    assert exc.value.errno == errno.EINVAL


# ------------------------------------------------------------ CGROUP_ARRAY

def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                return fields[4]
    return None


@pytest.fixture
def cgroup_dirs():
    """(the cgroup v2 root, a fresh empty child cgroup)."""
    root = cgroup2_root()
    need(root is not None, "no cgroup v2 hierarchy is mounted")
    child = os.path.join(root, f"pybpfmap-test-{uuid.uuid4().hex[:12]}")
    os.mkdir(child)
    yield root, child
    os.rmdir(child)


def test_cgroup_array_seen_by_program(obj, cgroup_dirs, tracefs):
    root, child = cgroup_dirs
    cgroups, under = obj.maps["cgroups"], obj.maps["under"]
    assert isinstance(cgroups, bm.CgroupArrayMap)
    pid = os.getpid()
    with obj.programs["under_cgroup"].attach():
        os.getpid()
        assert under[pid] < 0  # empty slot: the helper fails
        cgroups[0] = root  # every task is under the root
        os.getpid()
        assert under[pid] == 1
        fd = os.open(child, os.O_RDONLY | os.O_DIRECTORY)
        try:
            cgroups[0] = fd  # this process is not in the fresh child
        finally:
            os.close(fd)
        os.getpid()
        assert under[pid] == 0


def test_cgroup_array_user_space(closing, cgroup_dirs, tmp_path, fd_count):
    root, child = cgroup_dirs
    m = closing(bm.CgroupArrayMap.create(2))
    before = fd_count()
    m[0] = child
    m[1] = child
    assert fd_count() == before  # paths are opened and closed
    for op in (lambda: m[0], lambda: len(m), lambda: list(m), lambda: 0 in m):
        with pytest.raises(TypeError):
            op()
    with pytest.raises(TypeError):
        m.insert(0, child)
    del m[0]
    with pytest.raises(KeyError):
        del m[0]
    with pytest.raises(bm.BpfError) as exc:
        m[0] = str(tmp_path)  # a directory, but not a cgroup
    assert exc.value.errno == errno.EBADF
    with pytest.raises(IndexError):
        m[2] = child
