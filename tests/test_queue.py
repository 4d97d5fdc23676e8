"""QueueMap and StackMap: order, overwrite, empty and full maps, typed
values, no keys, and values exchanged with a BPF program."""

import pytest

import pybpfmap as bm


@pytest.fixture
def make():
    made = []

    def make(cls=bm.QueueMap, value="__u32", max_entries=3, **kw):
        m = cls.create(value=value, max_entries=max_entries, **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


@pytest.fixture(params=[bm.QueueMap, bm.StackMap], ids=["queue", "stack"])
def cls(request):
    return request.param


def test_create_gives_the_class(make, cls):
    m = make(cls)
    assert type(m) is cls
    assert m.key_size == 0 and m.value_size == 4 and m.max_entries == 3
    generic = bm.Map.create(cls._default_type, value=8, max_entries=2)
    with generic:
        assert type(generic) is cls


def test_queue_is_fifo(make):
    q = make()
    for v in (1, 2, 3):
        q.push(v)
    assert q.peek() == 1
    assert [q.pop(), q.pop(), q.pop()] == [1, 2, 3]


def test_stack_is_lifo(make):
    s = make(bm.StackMap)
    for v in (1, 2, 3):
        s.push(v)
    assert s.peek() == 3
    assert list(s.drain()) == [3, 2, 1]


def test_empty(make, cls):
    m = make(cls)
    assert not m
    with pytest.raises(IndexError):
        m.pop()
    with pytest.raises(IndexError):
        m.peek()
    assert list(m.drain()) == []
    m.push(7)
    assert m
    assert m.peek() == 7 and m  # peek leaves it in place


def test_full_raises_map_full(make, cls):
    m = make(cls)
    for v in (1, 2, 3):
        m.push(v)
    with pytest.raises(bm.MapFullError):
        m.push(4)
    assert sorted(m.drain()) == [1, 2, 3]


@pytest.mark.parametrize("cls, order", [(bm.QueueMap, [2, 3, 4]), (bm.StackMap, [4, 3, 2])],
                         ids=["queue", "stack"])
def test_overwrite_drops_the_oldest(make, cls, order):
    m = make(cls)
    for v in (1, 2, 3):
        m.push(v)
    m.push(4, overwrite=True)
    assert list(m.drain()) == order


def test_overwrite_when_not_full_just_pushes(make, cls):
    m = make(cls)
    m.push(1, overwrite=True)
    assert list(m.drain()) == [1]


def test_typed_struct_values(make, cls):
    m = make(cls, "struct job { __u32 id; char name[8]; }", 4)
    m.push({"id": 1, "name": b"first"})
    m.push((2, "second"))
    out = list(m.drain())
    assert {v.id for v in out} == {1, 2}
    assert {v.name for v in out} == {b"first", b"second"}


def test_raw_values(make, cls):
    m = make(cls, 3)
    m.push(b"abc")
    with pytest.raises(ValueError):
        m.push(b"abcd")
    assert m.pop() == b"abc"


def test_bad_values_raise_before_push(make, cls):
    m = make(cls)
    m.push(1)
    with pytest.raises(OverflowError):
        m.push(1 << 32)
    with pytest.raises(TypeError):
        m.push("x")
    assert list(m.drain()) == [1]


def test_no_keys_no_len(make, cls):
    m = make(cls)
    m.push(1)
    for op in (lambda: m.lookup(0), lambda: m.set(0, 1), lambda: m.delete(0),
               lambda: m.next_key(), lambda: list(m.items()), lambda: iter(m), lambda: len(m)):
        with pytest.raises(TypeError):
            op()
    assert m.pop() == 1


def test_create_needs_value():
    with pytest.raises(TypeError):
        bm.QueueMap.create(max_entries=3)


def test_create_rejects_no_prealloc(cls):
    with pytest.raises(bm.BpfError) as exc:
        cls.create(value="__u32", max_entries=3, flags=bm.MapFlags.NO_PREALLOC)
    assert exc.value.errno == 22


def test_frozen_queue_refuses_push_and_pop_but_peeks(make):
    q = make()
    q.push(5)
    q.freeze()
    assert q.peek() == 5
    with pytest.raises(bm.BpfPermissionError):
        q.push(6)
    with pytest.raises(bm.BpfPermissionError):
        q.pop()


def test_closed(make, cls):
    m = make(cls)
    m.close()
    with pytest.raises(ValueError):
        m.push(1)
    with pytest.raises(ValueError):
        m.pop()


def test_program_pops_and_pushes(bpf_obj):
    with bm.load(bpf_obj("keyless")) as obj:
        # libbpf creates queues and stacks without BTF; the object's declared
        # value types still type them in Python
        inbox, outbox = obj.maps["inbox"], obj.maps["outbox"]
        assert isinstance(inbox, bm.QueueMap) and isinstance(outbox, bm.StackMap)
        relay = obj.programs["relay"]
        assert relay.test_run(bytes(64)).retval == 0xE  # inbox empty
        for v in (1, 2, 3):
            inbox.push(v)
        assert [relay.test_run(bytes(64)).retval for _ in range(3)] == [1, 2, 3]
        assert not inbox
        assert list(outbox.drain()) == [30, 20, 10]
