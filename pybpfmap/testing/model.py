"""``MapModel``: a Hypothesis state machine that checks a live map against a
Python model of what the kernel does.

Subclass it, define ``make_map(self)`` returning a fresh map, and let
pytest collect its ``TestCase``::

    class SmallHash(MapModel):
        def make_map(self):
            return bm.HashMap.create(key="__u16", value="struct v { __u32 a; char s[4]; }",
                                     max_entries=8)

    TestSmallHash = SmallHash.TestCase
    TestSmallHash.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)

Random sequences of ``m[k] = v``, ``insert``, ``replace``, ``set`` with
flags, ``del``, lookups, ``in``, ``get``, ``pop``, ``popitem``,
``update``, ``clear``, ``len`` and iteration (over the batch and the
GET_NEXT_KEY paths) are run on the map and on the model, and must agree.
Keys and values come from :mod:`pybpfmap.testing.strategies`; keys are
often reused so that present keys, missing keys and a full map all occur.

The model knows the kernel's rules (see KERNEL_SEMANTICS.md):

- HASH / PERCPU_HASH: at most ``max_entries`` keys, a new key on a full map
  raises ``MapFullError``; ``insert`` of a present key ``KeyExistsError``;
  ``replace``/``del``/``pop`` of a missing key ``KeyError``.
- LRU_HASH / LRU_PERCPU_HASH: a new key always goes in, evicting others;
  the map holds a subset of the model with at most ``max_entries`` keys.
  When full the kernel evicts before it looks the key up, so ``insert`` of
  a present key may succeed and ``replace`` of one may lose it.
- ARRAY / PERCPU_ARRAY: every index always exists (``len == max_entries``),
  ``insert`` (NOEXIST) always raises ``KeyExistsError``, ``del`` raises
  ``TypeError``, an index out of range raises ``IndexError``.
"""
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from ..enums import MapType, UpdateFlags
from ..errors import KeyExistsError, MapFullError
from . import strategies as bst

__all__ = ["MapModel"]

_KINDS = {
    MapType.HASH: "hash", MapType.PERCPU_HASH: "hash",
    MapType.LRU_HASH: "lru", MapType.LRU_PERCPU_HASH: "lru",
    MapType.ARRAY: "array", MapType.PERCPU_ARRAY: "array",
}

#: maps up to this size get a rule that fills them (so full-map errors and
#: LRU evictions happen)
_FILL_LIMIT = 64


def _is(kind):
    return precondition(lambda self: self.kind == kind)


def _hashlike(self):
    return self.kind in ("hash", "lru")


class MapModel(RuleBasedStateMachine):
    """A ``RuleBasedStateMachine`` checking the map returned by ``make_map``
    against a model of the kernel's semantics (see the module doc).

    Attributes for subclasses: ``m`` (the live map), ``model`` (a ``dict``
    for hash maps, a ``list`` for arrays), ``kind`` (``"hash"``, ``"lru"``
    or ``"array"``).
    """

    def make_map(self):
        """Return a fresh map to test (HASH, LRU_HASH, ARRAY or their per-CPU
        variants).  It is closed after each run."""
        raise NotImplementedError("define make_map(self) in your MapModel subclass")

    def __init__(self):
        super().__init__()
        self.m = self.make_map()
        kind = _KINDS.get(self.m.type)
        if kind is None:
            self.m.close()
            raise TypeError(f"MapModel models HASH, LRU_HASH, ARRAY and their per-CPU "
                            f"variants, not {self.m.type!r}")
        self.kind = kind
        self.capacity = self.m.max_entries
        self.keys_strategy = bst.keys(self.m)
        self.values_strategy = bst.values(self.m)
        if kind == "array":
            self.model = list(self.m.values())
        else:
            self.model = dict(self.m.items())
        self._seen = list(self.model) if kind != "array" else []

    def teardown(self):
        self.m.close()

    # -- drawing ----------------------------------------------------------------------

    def _key(self, data):
        """A key: often one used before (present or deleted), else a new one."""
        if self.kind == "array":
            return data.draw(self.keys_strategy, label="index")
        if self._seen and data.draw(st.booleans(), label="reuse key"):
            return data.draw(st.sampled_from(self._seen), label="key")
        k = data.draw(self.keys_strategy, label="key")
        if k not in self._seen:
            self._seen.append(k)
        return k

    def _value(self, data):
        return data.draw(self.values_strategy, label="value")

    def _full(self):
        return len(self.model) >= self.capacity

    # -- LRU: the map must be a subset of what the model allows ---------------------

    def _sync(self, allowed, must=()):
        """Check the map against ``allowed`` (what it may hold) and the keys
        in ``must`` (which it must hold, with the allowed value); then take
        the map as the model."""
        actual = dict(self.m.items())
        assert len(actual) <= self.capacity, \
            f"{len(actual)} entries in a map of max_entries {self.capacity}"
        for k, v in actual.items():
            assert k in allowed, f"key {k!r} is in the map but was never written (or deleted)"
            assert allowed[k] == v, f"key {k!r}: map has {v!r}, model allows {allowed[k]!r}"
        for k in must:
            assert k in actual, f"key {k!r} should be in the map"
        if len(actual) < len(allowed):
            event("LRU evicted a key")
        self.model = actual

    # -- writes ---------------------------------------------------------------------

    @rule(data=st.data())
    def set_item(self, data):
        k, v = self._key(data), self._value(data)
        if self.kind == "hash":
            if k in self.model or not self._full():
                self.m[k] = v
                self.model[k] = v
            else:
                event("set on a full map")
                try:
                    self.m[k] = v
                except MapFullError:
                    return
                raise AssertionError(f"m[{k!r}] = ... on a full map did not raise MapFullError")
        elif self.kind == "lru":
            self.m[k] = v
            self._sync({**self.model, k: v}, must=[k])
        else:
            self.m[k] = v
            self.model[k] = v

    @precondition(lambda self: self.kind != "array" and self.capacity <= _FILL_LIMIT)
    @rule(data=st.data())
    def fill(self, data):
        """Write new keys until the map is full (LRU: past full, so it evicts)."""
        # Draw a fixed number of pairs: what the map holds may depend on the
        # kernel (popitem's choice, LRU evictions), and the drawing must not.
        extra = 2 if self.kind == "lru" else 0
        drawn = [(data.draw(self.keys_strategy, label="key"), self._value(data))
                 for _ in range(self.capacity + extra)]
        self._seen.extend(k for k, _ in drawn if k not in self._seen)
        if self.kind == "lru":
            new = dict(drawn)
            for k, v in new.items():
                self.m[k] = v
            self._sync({**self.model, **new}, must=list(new)[-1:])
            return
        new = {}
        for k, v in drawn:
            if len(self.model) + len(new) >= self.capacity:
                break
            if k not in self.model:
                new[k] = v
        if new:
            self.m.update(new)
            self.model.update(new)

    @rule(data=st.data())
    def insert(self, data):
        k, v = self._key(data), self._value(data)
        if self.kind == "array":
            try:
                self.m.set(k, v, UpdateFlags.NOEXIST)
            except KeyExistsError:
                return
            raise AssertionError("insert (NOEXIST) into an array did not raise KeyExistsError")
        if self.kind == "lru":
            try:
                self.m.insert(k, v)
            except KeyExistsError:
                assert k in self.model, f"insert({k!r}) raised KeyExistsError for a missing key"
                self._sync(self.model, must=[k])
                return
            if k in self.model:
                event("LRU insert of a present key succeeded (evicted first)")
            self._sync({**self.model, k: v}, must=[k])
            return
        if k in self.model:
            try:
                self.m.insert(k, v)
            except KeyExistsError:
                return
            raise AssertionError(f"insert({k!r}) of a present key did not raise KeyExistsError")
        if self._full():
            event("insert on a full map")
            try:
                self.m.insert(k, v)
            except MapFullError:
                return
            raise AssertionError(f"insert({k!r}) into a full map did not raise MapFullError")
        self.m.insert(k, v)
        self.model[k] = v

    @rule(data=st.data())
    def replace(self, data):
        k, v = self._key(data), self._value(data)
        if self.kind == "array":
            self.m.set(k, v, UpdateFlags.EXIST)
            self.model[k] = v
            return
        present = k in self.model
        try:
            self.m.replace(k, v)
        except KeyError:
            if self.kind == "lru" and present:
                event("LRU replace lost the key (evicted first)")
                allowed = dict(self.model)
                del allowed[k]
                self._sync(allowed)
                return
            assert not present, f"replace({k!r}) raised KeyError for a present key"
            if self.kind == "lru":
                self._sync(self.model)
            return
        assert present, f"replace({k!r}) of a missing key did not raise KeyError"
        if self.kind == "lru":
            self._sync({**self.model, k: v}, must=[k])
        else:
            self.model[k] = v

    @precondition(_hashlike)
    @rule(data=st.data(), flags=st.sampled_from([UpdateFlags.ANY, UpdateFlags.NOEXIST,
                                                 UpdateFlags.EXIST]))
    def set_with_flags(self, data, flags):
        """``set(k, v, flags)`` agrees with ``m[k] = v`` / ``insert`` / ``replace``."""
        k, v = self._key(data), self._value(data)
        expected = {UpdateFlags.ANY: "set", UpdateFlags.NOEXIST: "insert",
                    UpdateFlags.EXIST: "replace"}[flags]
        present = k in self.model
        try:
            self.m.set(k, v, flags)
        except KeyExistsError:
            assert expected == "insert" and present
            if self.kind == "lru":
                self._sync(self.model, must=[k])
            return
        except MapFullError:
            assert self.kind == "hash" and self._full() and not present
            return
        except KeyError:
            assert expected == "replace"
            if self.kind == "lru":
                allowed = dict(self.model)
                allowed.pop(k, None)
                self._sync(allowed)
            else:
                assert not present
            return
        if self.kind == "lru":
            self._sync({**self.model, k: v}, must=[k])
            return
        assert not (expected == "insert" and present)
        assert not (expected == "replace" and not present)
        assert present or not self._full()
        self.model[k] = v

    @precondition(_hashlike)
    @rule(data=st.data())
    def update_many(self, data):
        pairs = {}
        for _ in range(data.draw(st.integers(0, 4), label="pairs")):
            pairs[self._key(data)] = self._value(data)
        if self.kind == "lru":
            self.m.update(pairs)
            self._sync({**self.model, **pairs}, must=list(pairs)[-1:])
            return
        expected = dict(self.model)
        full_at = None
        for k, v in pairs.items():
            if k not in expected and len(expected) >= self.capacity:
                full_at = k
                break
            expected[k] = v
        try:
            self.m.update(pairs)
        except MapFullError:
            assert full_at is not None, "update() raised MapFullError with room left"
            event("update filled the map")
        else:
            assert full_at is None, "update() past max_entries did not raise MapFullError"
        self.model = expected

    # -- deletes --------------------------------------------------------------------

    @rule(data=st.data())
    def delete(self, data):
        k = self._key(data)
        if self.kind == "array":
            try:
                del self.m[k]
            except TypeError:
                return
            raise AssertionError("del on an array map did not raise TypeError")
        if k in self.model:
            del self.m[k]
            del self.model[k]
        else:
            try:
                del self.m[k]
            except KeyError:
                return
            raise AssertionError(f"del m[{k!r}] of a missing key did not raise KeyError")

    @precondition(_hashlike)
    @rule(data=st.data(), with_default=st.booleans())
    def pop(self, data, with_default):
        k = self._key(data)
        marker = object()
        if k in self.model:
            got = self.m.pop(k, marker) if with_default else self.m.pop(k)
            assert got == self.model.pop(k)
        elif with_default:
            assert self.m.pop(k, marker) is marker
        else:
            try:
                self.m.pop(k)
            except KeyError:
                return
            raise AssertionError(f"pop({k!r}) of a missing key did not raise KeyError")

    @precondition(_hashlike)
    @rule()
    def popitem(self):
        if not self.model:
            try:
                self.m.popitem()
            except KeyError:
                return
            raise AssertionError("popitem() of an empty map did not raise KeyError")
        k, v = self.m.popitem()
        assert self.model.pop(k) == v

    @precondition(_hashlike)
    @rule()
    def clear(self):
        self.m.clear()
        self.model.clear()
        assert len(self.m) == 0

    # -- reads ----------------------------------------------------------------------

    @rule(data=st.data())
    def lookup(self, data):
        k = self._key(data)
        if self.kind == "array":
            assert self.m[k] == self.model[k]
            return
        if k in self.model:
            assert self.m[k] == self.model[k]
            assert k in self.m
            assert self.m.get(k) == self.model[k]
        else:
            assert k not in self.m
            assert self.m.get(k, "missing") == "missing"
            try:
                self.m[k]
            except KeyError:
                return
            raise AssertionError(f"m[{k!r}] of a missing key did not raise KeyError")

    @precondition(lambda self: self.kind == "array")
    @rule(data=st.data())
    def index_out_of_range(self, data):
        i = data.draw(st.one_of(st.integers(self.capacity, self.capacity + 3),
                                st.integers(-self.capacity - 3, -self.capacity - 1)))
        for op in (lambda: self.m[i], lambda: self.m.__setitem__(i, self.model[0])):
            try:
                op()
            except IndexError:
                continue
            raise AssertionError(f"index {i} of an array of {self.capacity} did not raise "
                                 f"IndexError")

    @rule(batch=st.booleans())
    def iterate(self, batch):
        """Iteration, items(), values() and len() agree with the model, read
        with batch lookups or with GET_NEXT_KEY."""
        self.m._use_batch = batch and type(self.m)._batch_ok
        try:
            if self.kind == "array":
                assert len(self.m) == self.capacity
                assert list(self.m) == self.model
                assert list(self.m.values()) == self.model
                assert dict(self.m.items()) == dict(enumerate(self.model))
                return
            items = dict(self.m.items())
            assert items == self.model
            keys = list(self.m)
            assert len(keys) == len(set(keys)) == len(self.model)
            assert set(keys) == set(self.model)
            assert len(list(self.m.values())) == len(self.model)
            assert len(self.m) == len(self.model)
            assert bool(self.m) == bool(self.model)
        finally:
            self.m._use_batch = type(self.m)._batch_ok
