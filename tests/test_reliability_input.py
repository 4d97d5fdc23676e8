"""Bad input catalogue (issue #7): every kind of wrong argument gets a clear
exception of the API.md class, raised before any bpf() call when Python can
know, and the map is left exactly as it was.

"Before any bpf() call" is checked with ``no_bpf_calls()``, which records
every call pybpfmap makes into the libbpf functions that reach the kernel.
The basics (unknown type names, bad sizes, names, flags types) are in
test_create.py and test_hash.py; this module covers every codec kind on
every write and read path, and the file-system and fd cases.
"""
import errno
import ipaddress
import os
import shutil
import subprocess
import sys

import pytest

import pybpfmap as bm
from conftest import need
from reliability_helpers import no_bpf_calls

FLOW = "struct flow { __u32 saddr; __u16 sport; __u16 dport; }"
UNION = "union num { __u32 a; __u8 b[4]; }"
ENUM = "enum color { RED, GREEN = 5 }"
BITS = "struct bits { __u32 a:3; __u32 b:5; __s32 c:4; }"

# value type, a good value, [(bad value, exception), ...]
VALUE_CASES = [
    ("__u64", 7, [("7", TypeError), (7.0, TypeError), (None, TypeError), ([7, 7, 7], (TypeError, ValueError)),
                  (-1, OverflowError), (1 << 64, OverflowError)]),
    ("__s8", -3, [(128, OverflowError), (-129, OverflowError), (b"\x01", TypeError)]),
    ("_Bool", True, [(2, ValueError), (-1, ValueError), ("yes", TypeError), (1.0, TypeError),
                     (None, TypeError)]),
    ("double", 1.5, [("1.5", TypeError), (None, TypeError), (1j, TypeError),
                     (10 ** 400, OverflowError)]),
    ("float", 0.5, [(1e300, OverflowError), ("x", TypeError)]),
    ("char[8]", b"abc", [(b"123456789", ValueError), ("\u00e9" * 5, ValueError), (12, TypeError),
                         (None, TypeError), ((1, 2), TypeError)]),
    ("__u16[3]", (1, 2, 3), [((1, 2), ValueError), ((1, 2, 3, 4), ValueError),
                             ((1, 2, 70000), OverflowError), (5, TypeError), ("abc", TypeError),
                             ((1, 2, "x"), TypeError), ({1, 2, 3}, TypeError)]),
    (FLOW, {"saddr": 1, "sport": 2, "dport": 3},
     [({"saddr": 1, "nope": 2}, TypeError), ({"saddr": "x"}, TypeError),
      ({"saddr": -1}, OverflowError), ({"sport": 70000}, OverflowError), ((1, 2, 3, 4), ValueError),
      ((1,), ValueError), (5, TypeError), ("s", TypeError)]),
    (UNION, {"a": 1}, [({"c": 1}, TypeError), ({"a": 1 << 32}, OverflowError),
                       ({"b": (1, 2, 3)}, TypeError), (7, TypeError)]),
    (ENUM, 5, [("RED", TypeError), (1 << 40, OverflowError), (-1, OverflowError),
               (1.5, TypeError)]),
    (BITS, {"a": 1, "b": 2, "c": -3},
     [({"a": 8}, OverflowError), ({"c": 8}, OverflowError), ({"c": -9}, OverflowError),
      ({"b": -1}, OverflowError), ({"d": 1}, TypeError)]),
    (8, bytes(8), [(bytes(7), ValueError), (bytes(9), ValueError), ("12345678", TypeError),
                   (8, TypeError)]),
]

# key type, a good key, [(bad key, exception), ...]
KEY_CASES = [
    ("__u32", 1, [("1", TypeError), (1.5, TypeError), (None, TypeError), (b"\0\0\0\0", TypeError),
                  ([1], TypeError), (-1, OverflowError), (1 << 32, OverflowError)]),
    ("__s16", -1, [(1 << 15, OverflowError), (-(1 << 15) - 1, OverflowError)]),
    ("char[4]", b"ab", [(b"abcde", ValueError), (4, TypeError)]),
    ("__u16[2]", (1, 2), [((1,), ValueError), ((1, 2, 3), ValueError), ((1, -2), OverflowError)]),
    (FLOW, {"saddr": 1, "sport": 2, "dport": 3},
     [({"sadr": 1}, TypeError), ((1, 2), ValueError), ({"dport": -1}, OverflowError)]),
    (ENUM, 0, [("GREEN", TypeError), (1 << 33, OverflowError)]),
    (4, b"abcd", [(b"abc", ValueError), ("abcd", TypeError), (4, TypeError),
                  (bytearray(5), ValueError)]),
]


def _value_cases_gen():
    for vt, good, bads in VALUE_CASES:
        for bad, exc in bads:
            yield pytest.param(vt, good, bad, exc, id=f"{str(vt).split('{')[0].strip()}-{bad!r}"[:60])


def _key_cases_gen():
    for kt, good, bads in KEY_CASES:
        for bad, exc in bads:
            yield pytest.param(kt, good, bad, exc, id=f"{str(kt).split('{')[0].strip()}-{bad!r}"[:60])


def _value_cases():
    return list(_value_cases_gen())


def _key_cases():
    return list(_key_cases_gen())


def snapshot(m):
    return sorted(((repr(k), repr(v)) for k, v in m.items()))


def refused(m, op, exc, reads_ok=False):
    """``op()`` raises ``exc`` without any bpf() call and leaves ``m`` unchanged.

    ``reads_ok``: lookups may come first (``setdefault`` reads the key, as
    ``dict.setdefault`` does, before it looks at the default).
    """
    before = snapshot(m)
    with no_bpf_calls() as calls:
        with pytest.raises(exc) as info:
            op()
    if reads_ok:
        calls = [c for c in calls if c not in ("bpf_map_lookup_elem", "pybpfmap_lookup_ss",
                                                "pybpfmap_lookup_sk")]
    assert calls == [], f"{op} reached the kernel ({calls}) before raising"
    assert snapshot(m) == before
    assert str(info.value)  # a message, not a bare exception
    return info.value


# --------------------------------------------------------------- values

@pytest.mark.parametrize("vt, good, bad, exc", _value_cases())
def test_bad_value_on_every_hash_write_path(vt, good, bad, exc):
    with bm.HashMap.create(key="__u32", value=vt, max_entries=8) as m:
        m[1] = good
        m[2] = good
        refused(m, lambda: m.__setitem__(1, bad), exc)
        refused(m, lambda: m.__setitem__(3, bad), exc)
        refused(m, lambda: m.insert(3, bad), exc)
        refused(m, lambda: m.replace(1, bad), exc)
        refused(m, lambda: m.set(1, bad, bm.UpdateFlags.EXIST), exc)
        refused(m, lambda: m.setdefault(3, bad), exc, reads_ok=True)
        # a batch: the good pairs before the bad one are not written either
        refused(m, lambda: m.update({4: good, 5: good, 6: bad}), exc)
        refused(m, lambda: m.update([(4, good), (1, bad)]), exc)
        assert len(m) == 2


@pytest.mark.parametrize("vt, good, bad, exc", _value_cases())
def test_bad_value_on_array_write_paths(vt, good, bad, exc):
    with bm.ArrayMap.create(value=vt, max_entries=4) as a:
        a[1] = good
        refused(a, lambda: a.__setitem__(0, bad), exc)
        refused(a, lambda: a.__setitem__(-1, bad), exc)
        refused(a, lambda: a.__setitem__(slice(None), [good, good, good, bad]), exc)
        refused(a, lambda: a.set(2, bad), exc)


@pytest.mark.parametrize("vt, good, bad, exc", _value_cases())
def test_bad_value_per_cpu(vt, good, bad, exc):
    ncpus = bm.possible_cpus()
    if isinstance(bad, (list, tuple)) and len(bad) == ncpus:
        # one value per CPU: each element is then a (wrong) value of its own
        exc = (TypeError, ValueError, OverflowError)
    with bm.PerCpuHashMap.create(key="__u32", value=vt, max_entries=4) as m:
        m[1] = good
        refused(m, lambda: m.__setitem__(1, bad), exc)
        refused(m, lambda: m.__setitem__(2, [good] * (ncpus - 1) + [bad]), exc)
        refused(m, lambda: m.update({2: good, 3: bad}), exc)
    with bm.PerCpuArrayMap.create(value=vt, max_entries=2) as a:
        refused(a, lambda: a.__setitem__(0, bad), exc)
        refused(a, lambda: a.__setitem__(1, [bad] * ncpus), exc)


@pytest.mark.parametrize("n", [0, 1, 3, 5])
def test_per_cpu_sequence_of_wrong_length_is_value_error(n):
    # a sequence that is not one value per possible CPU (nor a single value)
    ncpus = bm.possible_cpus()
    if n == ncpus:
        n += 1
    with bm.PerCpuHashMap.create(key="__u32", value="__u64", max_entries=4) as m:
        m[1] = 5
        exc = refused(m, lambda: m.__setitem__(1, [1] * n), ValueError)
        assert str(ncpus) in str(exc) and "CPU" in str(exc)


# ----------------------------------------------------------------- keys

@pytest.mark.parametrize("kt, good, bad, exc", _key_cases())
def test_bad_key_on_every_hash_path(kt, good, bad, exc):
    with bm.HashMap.create(key=kt, value="__u32", max_entries=8) as m:
        m[good] = 1
        refused(m, lambda: m[bad], exc)
        refused(m, lambda: m.get(bad), exc)
        refused(m, lambda: bad in m, exc)
        refused(m, lambda: m.__setitem__(bad, 2), exc)
        refused(m, lambda: m.insert(bad, 2), exc)
        refused(m, lambda: m.replace(bad, 2), exc)
        refused(m, lambda: m.__delitem__(bad), exc)
        refused(m, lambda: m.pop(bad), exc)
        refused(m, lambda: m.pop(bad, None), exc)
        refused(m, lambda: m.delete_many([good, bad]), exc)
        refused(m, lambda: m.update([(good, 9), (bad, 9)]), exc)
        assert m[good] == 1


@pytest.mark.parametrize("index, exc", [(4, IndexError), (-5, IndexError), (1 << 40, IndexError),
                                        ("0", TypeError), (1.0, TypeError), (None, TypeError)])
def test_bad_array_index(index, exc):
    with bm.ArrayMap.create(value="__u32", max_entries=4) as a:
        a[0] = 1
        refused(a, lambda: a[index], exc)
        refused(a, lambda: a.__setitem__(index, 2), exc)
    with bm.PerCpuArrayMap.create(value="__u32", max_entries=4) as p:
        refused(p, lambda: p[index], exc)


def test_array_delete_and_resize_are_refused_in_python():
    with bm.ArrayMap.create(value="__u32", max_entries=4) as a:
        a[:] = [1, 2, 3, 4]
        refused(a, lambda: a.__delitem__(0), TypeError)
        refused(a, lambda: a.__setitem__(slice(None), [1, 2, 3]), ValueError)
        refused(a, lambda: a.__setitem__(slice(0, 2), [1, 2, 3]), ValueError)


@pytest.mark.parametrize("flags, exc", [(-1, ValueError), (1 << 64, ValueError),
                                        ("ANY", TypeError), (None, TypeError), (1.0, TypeError)])
def test_bad_update_flags_before_syscall(flags, exc):
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=4) as m:
        m[1] = 1
        refused(m, lambda: m.set(1, 2, flags), exc)


def test_unknown_update_flag_bits_are_kernel_einval_map_unchanged():
    # Python cannot know which bits a future kernel accepts: the kernel says no.
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=4) as m:
        m[1] = 1
        for flags in (1 << 10, 1 << 40, bm.UpdateFlags.NOEXIST | bm.UpdateFlags.EXIST):
            with pytest.raises(bm.BpfError) as info:
                m.set(1, 2, flags)
            assert info.value.errno == errno.EINVAL
            assert "update" in str(info.value)
        assert dict(m.items()) == {1: 1}


# ------------------------------------------------------- C declarations

@pytest.mark.parametrize("decl, exc", [
    ("struct {", ValueError),
    ("struct x { __u32 a }", ValueError),
    ("struct x { foo a; }", ValueError),
    ("unsigned float", ValueError),
    ("long double", ValueError),
    ("int int", ValueError),
    ("char[-1]", ValueError),
    ("char[0]", ValueError),
    ("", ValueError),
    ("void", ValueError),
    ("\x00", ValueError),
    ("struct x { __u32 a:40; }", ValueError),
    ("struct x { float f:3; }", ValueError),
    ("enum e { A = 1, A = 2 }", ValueError),
    ("enum e { }", ValueError),
    ("enum e { A = 99999999999999999999999 }", ValueError),
    ("struct x { __u32 a; __u32 a; }", ValueError),
    ("struct x", ValueError),
    ("struct x { void a; }", ValueError),
    ("struct x { struct x a; }", ValueError),
    ("struct x { __u32 a[-1]; }", ValueError),
    ("union", ValueError),
    ("char[99999999999999]", (ValueError, OverflowError)),
])
def test_bad_c_declaration_before_any_syscall(decl, exc):
    for role in ("key", "value"):
        kwargs = {"key": "__u32", "value": "__u32", role: decl}
        with no_bpf_calls() as calls:
            with pytest.raises(exc) as info:
                bm.HashMap.create(max_entries=4, **kwargs)
        assert calls == []
        assert repr(decl.strip("\x00")[:8]).strip("'") in str(info.value) or decl in ("", "\x00")


@pytest.mark.parametrize("spec", [object(), 1.5, b"__u32", ["__u32"], True])
def test_type_spec_of_wrong_kind(spec):
    with no_bpf_calls() as calls:
        with pytest.raises(TypeError):
            bm.HashMap.create(key=spec, value="__u32", max_entries=4)
    assert calls == []


# ------------------------------------------------ map types, flags, sizes

def test_unknown_map_type_and_flag_bits_are_kernel_errors():
    # Python lets through numbers it does not know (newer kernels add types
    # and flags); the kernel refuses them with EINVAL and no fd is left.
    before = len(os.listdir("/proc/self/fd"))
    for kwargs in (dict(map_type=9999), dict(map_type=bm.MapType.HASH, flags=1 << 30)):
        with pytest.raises(bm.BpfError) as info:
            bm.Map.create(key=4, value=4, max_entries=4, **kwargs)
        assert info.value.errno == errno.EINVAL
        assert "create failed" in str(info.value)
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("map_type, key, value", [
    (bm.MapType.HASH, "__u32", "__u64"),
    (bm.MapType.HASH, 4, 8),
    (bm.MapType.ARRAY, "__u32", "__u64"),
])
def test_max_entries_at_the_u32_limit_is_a_clean_kernel_error(map_type, key, value):
    # 2**32 - 1 entries: the kernel refuses (E2BIG for hashes, ENOMEM for
    # arrays) without allocating.  Not tried: a PERCPU_ARRAY of 2**31
    # entries, which this kernel *accepts* and which drives the machine into
    # the OOM killer -- Python cannot know the machine's memory.
    with pytest.raises(bm.BpfError) as info:
        bm.Map.create(map_type, key=key, value=value, max_entries=(1 << 32) - 1)
    assert info.value.errno in (errno.E2BIG, errno.ENOMEM, errno.EINVAL)
    assert "create failed" in str(info.value)


@pytest.mark.parametrize("max_entries, exc", [(1 << 32, ValueError), (-1, ValueError),
                                              (None, TypeError), ("4", TypeError),
                                              (4.0, TypeError)])
def test_max_entries_out_of_range_for_every_per_type_class(max_entries, exc):
    makers = [
        lambda: bm.HashMap.create(key="__u32", value="__u32", max_entries=max_entries),
        lambda: bm.ArrayMap.create(value="__u32", max_entries=max_entries),
        lambda: bm.PerCpuHashMap.create(key="__u32", value="__u32", max_entries=max_entries),
        lambda: bm.QueueMap.create(value="__u32", max_entries=max_entries),
        lambda: bm.BloomFilterMap.create(value="__u32", max_entries=max_entries),
        lambda: bm.LpmTrieMap.create(value="__u32", max_entries=max_entries),
    ]
    for make in makers:
        with no_bpf_calls() as calls:
            with pytest.raises(exc):
                make()
        assert calls == []


# ---------------------------------------------------------- closed maps

def _closed_cases():
    ip = ipaddress.ip_network("10.0.0.0/8")
    yield "queue", lambda: bm.QueueMap.create(value="__u32", max_entries=4), [
        lambda q: q.push(1), lambda q: q.pop(), lambda q: q.peek(), lambda q: list(q.drain()),
        lambda q: bool(q)]
    yield "bloom", lambda: bm.BloomFilterMap.create(value="__u32", max_entries=4), [
        lambda b: b.add(1), lambda b: 1 in b]
    yield "lpm", lambda: bm.LpmTrieMap.create(value="__u32", max_entries=4), [
        lambda m: m.__setitem__(ip, 1), lambda m: m[ip], lambda m: m.longest_match("10.1.2.3"),
        lambda m: list(m), lambda m: m.pop_all()]
    yield "percpu_hash", lambda: bm.PerCpuHashMap.create(key="__u32", value="__u32",
                                                         max_entries=4), [
        lambda m: m.__setitem__(1, 1), lambda m: m[1], lambda m: list(m.items()),
        lambda m: len(m), lambda m: m.pop_all()]
    yield "percpu_array", lambda: bm.PerCpuArrayMap.create(value="__u32", max_entries=4), [
        lambda a: a.__setitem__(0, 1), lambda a: a[0], lambda a: list(a)]
    yield "ringbuf", lambda: bm.RingBuf.create(max_entries=4096), [
        lambda r: r.read(), lambda r: list(r.events(timeout=0)), lambda r: r.fileno()]
    yield "raw", lambda: bm.Map.create(bm.MapType.HASH, key=4, value=4, max_entries=4), [
        lambda m: m.lookup(bytes(4)), lambda m: m.set(bytes(4), bytes(4)),
        lambda m: m.next_key()]
    common = [lambda m: m.fd, lambda m: m.info, lambda m: m.freeze(),
              lambda m: m.pin("/sys/fs/bpf/never"), lambda m: m.unpin("/sys/fs/bpf/never")]
    yield "common", lambda: bm.HashMap.create(key="__u32", value="__u32", max_entries=4), common


@pytest.mark.parametrize("make, ops", [pytest.param(mk, ops, id=name)
                                       for name, mk, ops in _closed_cases()])
def test_operations_on_closed_maps_of_every_class_are_value_error(make, ops):
    m = make()
    m.close()
    for op in ops:
        with no_bpf_calls() as calls:
            with pytest.raises(ValueError, match="closed"):
                op(m)
        assert calls == [], op
    assert "closed" in repr(m)


# ------------------------------------------------- pin paths and bpffs

@pytest.fixture
def tmpfs_dir(tmp_path):
    """A tmpfs mounted on a fresh directory: a file system that is not bpffs."""
    need(os.geteuid() == 0, "mounting a tmpfs needs root")
    path = tmp_path / "tmpfs"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], check=True)
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def test_pin_on_tmpfs_is_refused_before_the_syscall(tmpfs_dir):
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=4) as m:
        target = str(tmpfs_dir / "m")
        with no_bpf_calls() as calls:
            with pytest.raises(bm.BpfError) as info:
                m.pin(target)
        assert calls == []
        assert "bpf file system" in str(info.value) and "mount -t bpf" in str(info.value)
        assert not os.path.exists(target)
        m[1] = 1  # still usable


@pytest.mark.parametrize("what", ["regular file", "directory", "fifo", "dev null", "missing",
                                  "missing dir", "bpffs directory", "symlink to missing"])
def test_from_pin_of_things_that_are_not_pinned_maps(what, tmpfs_dir, pin_dir):
    paths = {
        "regular file": tmpfs_dir / "file",
        "directory": tmpfs_dir / "dir",
        "fifo": tmpfs_dir / "fifo",
        "dev null": "/dev/null",
        "missing": os.path.join(pin_dir, "nothing"),
        "missing dir": os.path.join(pin_dir, "no", "such"),
        "bpffs directory": pin_dir,
        "symlink to missing": tmpfs_dir / "link",
    }
    (tmpfs_dir / "file").write_bytes(b"not a map")
    (tmpfs_dir / "dir").mkdir()
    os.mkfifo(tmpfs_dir / "fifo")
    os.symlink(tmpfs_dir / "gone", tmpfs_dir / "link")
    path = str(paths[what])
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(bm.BpfError) as info:
        bm.Map.from_pin(path)
    assert info.value.errno in (errno.ENOENT, errno.EINVAL, errno.EISDIR)
    assert path in str(info.value) or repr(path) in str(info.value)
    assert len(os.listdir("/proc/self/fd")) == before


def test_from_pin_of_a_pinned_program_is_not_a_map(bpf_obj, pin_dir):
    with bm.load(bpf_obj("drain_writer")) as obj:
        path = os.path.join(pin_dir, "prog")
        from pybpfmap._ffi import lib
        assert lib.bpf_obj_pin(obj.programs["add_keys"].fd, path.encode()) == 0
        with pytest.raises(bm.BpfError) as info:
            bm.Map.from_pin(path)
        assert info.value.errno == errno.EINVAL
        assert "not a BPF map" in str(info.value)


_UNMOUNTED = r"""
import sys
import pybpfmap as bm
m = bm.HashMap.create(key="__u32", value="__u32", max_entries=4)
for op in (lambda: m.pin("/sys/fs/bpf/x"), lambda: bm.Map.from_pin("/sys/fs/bpf/x")):
    try:
        op()
    except bm.BpfError as exc:
        print(type(exc).__name__, exc.errno, exc)
    else:
        print("no error")
"""


def test_unmounted_bpffs_in_a_private_mount_namespace():
    """/sys/fs/bpf unmounted (in a mount namespace of a child, so nothing
    else on the machine sees it): pin and from_pin say so and how to fix it."""
    unshare = shutil.which("unshare")
    need(unshare is not None and os.geteuid() == 0, "unshare (util-linux) and root are needed")
    script = (f"umount -l /sys/fs/bpf 2>/dev/null; umount -l /sys/fs/bpf 2>/dev/null; "
              f"exec {sys.executable} -c '{_UNMOUNTED}'")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(bm.__file__)))
    proc = subprocess.run([unshare, "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    pin_line, get_line = proc.stdout.splitlines()
    assert pin_line.startswith("BpfError") and "bpffs is not mounted at /sys/fs/bpf" in pin_line
    assert get_line.startswith("BpfError") and "/sys/fs/bpf/x" in get_line
    assert "bpffs is not mounted at /sys/fs/bpf" in get_line
    # the real /sys/fs/bpf is untouched
    from conftest import _is_bpffs
    assert _is_bpffs("/sys/fs/bpf")


# -------------------------------------------------- ids and fds that are not maps

@pytest.mark.parametrize("map_id, exc", [(-1, ValueError), (1 << 32, ValueError), ("1", TypeError),
                                         (1.0, TypeError), (True, TypeError), (None, TypeError)])
def test_bad_map_ids_before_syscall(map_id, exc):
    with no_bpf_calls() as calls:
        with pytest.raises(exc):
            bm.Map.from_id(map_id)
    assert calls == []


@pytest.mark.parametrize("map_id", [0, (1 << 32) - 1, (1 << 31) + 12345])
def test_map_ids_that_do_not_exist(map_id):
    with pytest.raises(bm.BpfError) as info:
        bm.Map.from_id(map_id)
    assert info.value.errno == errno.ENOENT
    assert f"no BPF map with id {map_id}" in str(info.value)


def _not_map_fds(request, bpf_obj):
    import select
    import socket
    made = []
    r, w = os.pipe()
    made += [r, w]
    f = os.open("/etc/hostname" if os.path.exists("/etc/hostname") else "/etc/passwd",
                os.O_RDONLY)
    made.append(f)
    dn = os.open("/dev/null", os.O_RDWR)
    made.append(dn)
    d = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    made.append(d)
    s = socket.socket()
    ep = select.epoll()
    obj = bm.load(bpf_obj("drain_writer"))
    prog_fd = obj.programs["add_keys"].fd
    from pybpfmap._ffi import lib
    btf_fd = lib.bpf_btf_get_fd_by_id(obj.maps["drain"].info.btf_id)
    made.append(btf_fd)

    def cleanup():
        for fd in made:
            os.close(fd)
        s.close()
        ep.close()
        obj.close()
    request.addfinalizer(cleanup)
    return {"pipe": r, "file": f, "/dev/null": dn, "directory": d, "socket": s.fileno(),
            "epoll": ep.fileno(), "BPF program": prog_fd, "BTF object": btf_fd}


@pytest.mark.parametrize("what", ["pipe", "file", "/dev/null", "directory", "socket", "epoll",
                                  "BPF program", "BTF object"])
def test_fds_that_are_not_maps(what, request, bpf_obj, fd_count):
    fd = _not_map_fds(request, bpf_obj)[what]
    before = fd_count()
    for cls in (bm.Map, bm.HashMap, bm.ArrayMap):
        with pytest.raises(bm.BpfError) as info:
            cls.from_fd(fd)
        assert info.value.errno == errno.EINVAL
        assert "file descriptor" in str(info.value) and "not a BPF map" in str(info.value)
    assert fd_count() == before  # the dup made by from_fd was closed
    os.fstat(fd)  # and the caller's own fd is untouched


def test_closed_and_negative_fds():
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(bm.BpfError) as info:
        bm.Map.from_fd(r)
    assert info.value.errno == errno.EBADF
    for fd, exc in ((-1, ValueError), (1 << 31, ValueError), ("3", TypeError), (None, TypeError)):
        with no_bpf_calls() as calls:
            with pytest.raises(exc):
                bm.Map.from_fd(fd)
        assert calls == []

