"""StackTraceMap: stacks recorded by bpf_get_stackid() on getpid(), read as
address tuples, symbolised through /proc/kallsyms; build-id stacks."""
import os
import struct

import pytest

import pybpfmap as bm
from conftest import need
from pybpfmap.maps.stack_trace import BuildIdFrame, _StackCodec, ksym

KERNEL = 1 << 63


@pytest.fixture
def recorded(bpf_obj, tracefs):
    """A loaded stack_getpid object after this process called getpid()."""
    with bm.load(bpf_obj("stack_getpid")) as obj:
        with obj.programs["record_stack"].attach():
            os.getpid()
        yield obj


def kallsyms_address(name):
    with open("/proc/kallsyms") as f:
        for line in f:
            addr, kind, sym = line.split()[:3]
            if sym == name and kind in "tT":
                return int(addr, 16)
    return None


def test_kernel_stack_is_a_tuple_of_kernel_addresses(recorded):
    stacks = recorded.maps["stacks"]
    assert isinstance(stacks, bm.StackTraceMap)
    stack_id = recorded.maps["last"][os.getpid()]
    assert stack_id >= 0, "bpf_get_stackid failed"
    stack = stacks[stack_id]
    assert isinstance(stack, tuple) and 1 <= len(stack) <= 32
    assert all(isinstance(a, int) and a >= KERNEL for a in stack)  # trailing zeros stripped
    assert list(stacks) == [stack_id] and stack_id in stacks
    assert dict(stacks.items()) == {stack_id: stack}


def test_symbolize_names_kernel_functions(recorded):
    stacks = recorded.maps["stacks"]
    stack_id = recorded.maps["last"][os.getpid()]
    need(kallsyms_address("do_syscall_64"), "/proc/kallsyms shows no addresses (kptr_restrict)")
    names = stacks.symbolize(stack_id)
    assert names == stacks.symbolize(stacks[stack_id])
    assert names == stacks.lookup(stack_id, symbolize=True)
    assert dict(stacks.items(symbolize=True)) == {stack_id: names}
    assert len(names) == len(stacks[stack_id])
    for name in names:
        func, _, off = name.partition("+0x")
        assert func and not name.startswith("0x") and int(off, 16) >= 0
        assert kallsyms_address(func) is not None, f"{func} is not a kernel text symbol"
    # a getpid() syscall enters the kernel through the syscall entry code
    assert any("syscall" in n for n in names), names


def test_ksym():
    addr = kallsyms_address("do_syscall_64")
    need(addr, "/proc/kallsyms shows no addresses (kptr_restrict)")
    assert ksym(addr) == "do_syscall_64+0x0"
    assert ksym(addr + 5) == "do_syscall_64+0x5"
    assert ksym(1) is None


def test_user_addresses_stay_hex(recorded):
    stacks = recorded.maps["stacks"]
    assert stacks.symbolize((0x401000, 0)) == ("0x401000", "0x0")


def test_build_id_user_stack(recorded):
    ustacks = recorded.maps["ustacks"]
    assert ustacks.flags & bm.MapFlags.STACK_BUILD_ID
    stack_id = recorded.maps["ulast"][os.getpid()]
    assert stack_id >= 0
    frames = ustacks[stack_id]
    assert frames and all(isinstance(f, BuildIdFrame) for f in frames)
    top = frames[0]
    if top.build_id is not None:  # the kernel fell back to the raw ip otherwise
        assert top.build_id in mapped_build_ids()
        assert ustacks.symbolize(stack_id)[0] == f"{top.build_id.hex()}+{top.offset:#x}"


def mapped_build_ids():
    """GNU build ids of the files mapped executable in this process."""
    ids = set()
    note = struct.pack("=III", 4, 20, 3) + b"GNU\0"
    with open("/proc/self/maps") as f:
        paths = {line.split()[5] for line in f
                 if len(line.split()) >= 6 and "x" in line.split()[1]
                 and line.split()[5].startswith("/")}
    for path in paths:
        try:
            with open(path, "rb") as f:
                head = f.read(1 << 16)
        except OSError:
            continue
        i = head.find(note)
        if i >= 0:
            ids.add(head[i + len(note):i + len(note) + 20])
    return ids


def test_build_id_codec_statuses():
    frame = struct.Struct("=i20sQ")
    raw = (frame.pack(1, b"\x11" * 20, 0x1234) + frame.pack(2, bytes(20), 0xffffffff81000000)
           + frame.pack(0, bytes(20), 0) + frame.pack(1, b"\x22" * 20, 9))
    assert _StackCodec(len(raw), True).decode(raw) == (
        BuildIdFrame(b"\x11" * 20, 0x1234), BuildIdFrame(None, 0xffffffff81000000))


def test_read_only_from_user_space(recorded):
    stacks = recorded.maps["stacks"]
    stack_id = recorded.maps["last"][os.getpid()]
    before = stacks[stack_id]
    with pytest.raises(TypeError):
        stacks[stack_id] = (1, 2, 3)
    with pytest.raises(TypeError):
        stacks.update({stack_id: (1,)})
    with pytest.raises(TypeError):
        stacks.setdefault(12345, (1,))
    assert stacks[stack_id] == before


def test_delete_and_pop(recorded):
    stacks = recorded.maps["stacks"]
    stack_id = recorded.maps["last"][os.getpid()]
    stack = stacks[stack_id]
    assert stacks.pop(stack_id) == stack
    with pytest.raises(KeyError):
        stacks[stack_id]
    with pytest.raises(KeyError):
        del stacks[stack_id]
    assert len(stacks) == 0


def test_create_from_python():
    with bm.StackTraceMap.create(max_entries=8, depth=16) as m:
        assert isinstance(m, bm.StackTraceMap)
        assert m.key_size == 4 and m.value_size == 128
        assert len(m) == 0
        with pytest.raises(KeyError):
            m[0]
    with bm.StackTraceMap.create(max_entries=8, depth=4, flags=bm.MapFlags.STACK_BUILD_ID) as m:
        assert m.value_size == 4 * 32
    for depth, exc in ((0, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(exc):
            bm.StackTraceMap.create(max_entries=8, depth=depth)
