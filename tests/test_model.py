"""Random operation sequences on real maps agree with a Python model."""
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import pybpfmap as bm

MAX = 8
SETTINGS = settings(max_examples=100, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

keys = st.integers(0, 11)  # more keys than max_entries: the map fills up
values = st.integers(0, 2**64 - 1)
steps = st.sampled_from([None, -3, -2, -1, 1, 2, 3])


class HashModel(RuleBasedStateMachine):
    """A HASH map of max_entries=8 against a dict."""

    def __init__(self):
        super().__init__()
        self.m = bm.HashMap.create(key="__u32", value="__u64", max_entries=MAX)
        self.model = {}

    def teardown(self):
        self.m.close()

    def full(self):
        return len(self.model) >= MAX

    @rule(batch=st.booleans())
    def switch_path(self, batch):
        self.m._use_batch = batch

    @rule(k=keys, v=values)
    def setitem(self, k, v):
        if k in self.model or not self.full():
            self.m[k] = v
            self.model[k] = v
        else:
            event("setitem on a full map")
            with pytest.raises(bm.MapFullError):
                self.m[k] = v

    @rule(v=values)
    def fill(self, v):
        """Bring the map to max_entries, so the full-map rules get exercised."""
        for k in range(MAX + 4):
            if len(self.model) >= MAX:
                break
            if k not in self.model:
                self.m[k] = v
                self.model[k] = v

    @rule(k=keys, v=values)
    def insert(self, k, v):
        if k in self.model:
            with pytest.raises(bm.KeyExistsError):
                self.m.insert(k, v)
        elif self.full():
            event("insert on a full map")
            with pytest.raises(bm.MapFullError):
                self.m.insert(k, v)
        else:
            self.m.insert(k, v)
            self.model[k] = v

    @rule(k=keys, v=values)
    def replace(self, k, v):
        if k in self.model:
            self.m.replace(k, v)
            self.model[k] = v
        else:
            with pytest.raises(KeyError):
                self.m.replace(k, v)

    @rule(k=keys, v=values, flags=st.sampled_from([bm.UpdateFlags.ANY, bm.UpdateFlags.NOEXIST,
                                                   bm.UpdateFlags.EXIST]))
    def set_with_flags(self, k, v, flags):
        if flags == bm.UpdateFlags.NOEXIST and k in self.model:
            expected = bm.KeyExistsError
        elif flags == bm.UpdateFlags.EXIST and k not in self.model:
            expected = KeyError
        elif k not in self.model and self.full():
            expected = bm.MapFullError
        else:
            expected = None
        if expected is None:
            self.m.set(k, v, flags)
            self.model[k] = v
        else:
            with pytest.raises(expected):
                self.m.set(k, v, flags)

    @rule(k=keys)
    def delitem(self, k):
        if k in self.model:
            del self.m[k]
            del self.model[k]
        else:
            with pytest.raises(KeyError):
                del self.m[k]

    @rule(k=keys)
    def pop(self, k):
        if k in self.model:
            assert self.m.pop(k) == self.model.pop(k)
        else:
            with pytest.raises(KeyError):
                self.m.pop(k)

    @rule(k=keys)
    def pop_with_default(self, k):
        assert self.m.pop(k, None) == self.model.pop(k, None)

    @rule()
    def popitem(self):
        if self.model:
            k, v = self.m.popitem()
            assert self.model.pop(k) == v
        else:
            with pytest.raises(KeyError):
                self.m.popitem()

    @rule(k=keys)
    def lookup(self, k):
        if k in self.model:
            assert self.m[k] == self.model[k]
        else:
            with pytest.raises(KeyError):
                self.m[k]
        assert self.m.get(k, "missing") == self.model.get(k, "missing")

    @rule(k=keys)
    def contains(self, k):
        assert (k in self.m) == (k in self.model)
        assert (k in self.m.keys()) == (k in self.model)

    @rule(k=keys, v=values)
    def setdefault(self, k, v):
        if k in self.model or not self.full():
            assert self.m.setdefault(k, v) == self.model.setdefault(k, v)
        else:
            with pytest.raises(bm.MapFullError):
                self.m.setdefault(k, v)

    @rule(pairs=st.lists(st.tuples(keys, values), max_size=6))
    def update(self, pairs):
        # pairs are written in order; a new key in a full map stops the update
        expected = dict(self.model)
        failed = False
        for k, v in pairs:
            if k not in expected and len(expected) >= MAX:
                failed = True
                break
            expected[k] = v
        if failed:
            with pytest.raises(bm.MapFullError):
                self.m.update(pairs)
        else:
            self.m.update(pairs)
        self.model = expected

    @rule(ks=st.lists(keys, max_size=6))
    def delete_many(self, ks):
        present = set(ks) & set(self.model)
        assert self.m.delete_many(ks) == len(present)
        for k in present:
            del self.model[k]

    @rule()
    def clear(self):
        self.m.clear()
        self.model.clear()

    @precondition(lambda self: len(self.model) < 4)
    @rule()
    def pop_all(self):
        assert self.m.pop_all() == self.model
        self.model.clear()

    @invariant()
    def same_length(self):
        assert len(self.m) == len(self.model)
        assert bool(self.m) == bool(self.model)

    @invariant()
    def same_contents(self):
        assert dict(self.m.items()) == self.model
        assert sorted(self.m) == sorted(self.model)
        assert sorted(self.m.values()) == sorted(self.model.values())


TestHashModel = HashModel.TestCase
TestHashModel.settings = SETTINGS


class ArrayModel(RuleBasedStateMachine):
    """An ARRAY map of 8 __u32 against a list."""

    def __init__(self):
        super().__init__()
        self.m = bm.ArrayMap.create(value="__u32", max_entries=MAX)
        self.model = [0] * MAX

    def teardown(self):
        self.m.close()

    @rule(batch=st.booleans())
    def switch_path(self, batch):
        self.m._use_batch = batch

    @rule(i=st.integers(-12, 12), v=st.integers(0, 2**32 - 1))
    def setitem(self, i, v):
        if -MAX <= i < MAX:
            self.m[i] = v
            self.model[i] = v
        else:
            with pytest.raises(IndexError):
                self.m[i] = v

    @rule(i=st.integers(-12, 12))
    def getitem(self, i):
        if -MAX <= i < MAX:
            assert self.m[i] == self.model[i]
        else:
            with pytest.raises(IndexError):
                self.m[i]

    @rule(i=st.integers(0, MAX - 1), v=st.integers(0, 2**32 - 1),
          flags=st.sampled_from([bm.UpdateFlags.ANY, bm.UpdateFlags.EXIST,
                                 bm.UpdateFlags.NOEXIST]))
    def set_with_flags(self, i, v, flags):
        if flags == bm.UpdateFlags.NOEXIST:  # every index always exists
            with pytest.raises(bm.KeyExistsError):
                self.m.set(i, v, flags)
        else:
            self.m.set(i, v, flags)
            self.model[i] = v

    @rule(start=st.none() | st.integers(-10, 10), stop=st.none() | st.integers(-10, 10),
          step=steps)
    def get_slice(self, start, stop, step):
        s = slice(start, stop, step)
        assert self.m[s] == self.model[s]

    @rule(start=st.none() | st.integers(-10, 10), stop=st.none() | st.integers(-10, 10),
          step=steps, data=st.data())
    def set_slice(self, start, stop, step, data):
        s = slice(start, stop, step)
        n = len(self.model[s])
        size = data.draw(st.integers(0, MAX + 1))
        vals = data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=size, max_size=size))
        if size == n:
            self.m[s] = vals
            self.model[s] = vals
        else:
            with pytest.raises(ValueError):
                self.m[s] = vals

    @rule(v=st.integers(0, 3))
    def count_and_index(self, v):
        assert self.m.count(v) == self.model.count(v)
        assert (v in self.m) == (v in self.model)
        if v in self.model:
            assert self.m.index(v) == self.model.index(v)

    @invariant()
    def same_contents(self):
        assert len(self.m) == MAX
        assert list(self.m) == self.model
        assert list(self.m.items()) == list(enumerate(self.model))


TestArrayModel = ArrayModel.TestCase
TestArrayModel.settings = SETTINGS
