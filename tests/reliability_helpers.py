"""Helpers shared by the tests/test_reliability_*.py modules.

``no_bpf_calls()`` swaps every reference pybpfmap holds to a function of its
compiled libbpf binding (``pybpfmap._ffi.lib`` itself, and the module-level
aliases of the hot paths such as ``base._lookup_elem``) for a recording
wrapper, so a test can assert that bad input was refused before the kernel
was asked anything.  ``soak(default, long)`` picks a count: the long one
under ``PYBPFMAP_SOAK=1``.
"""
import contextlib
import os
import sys
import time
import types

import pybpfmap._ffi as _ffi

SOAK = os.environ.get("PYBPFMAP_SOAK") == "1"

#: libbpf/pybpfmap C functions that reach the kernel (or may).  The rest of
#: the binding (btf_kind, btf__name_by_offset ...) only reads memory.
_SYSCALL_PREFIXES = ("bpf_", "pybpfmap_lookup", "pybpfmap_update", "btf__load",
                     "pybpfmap_ringbuf", "pybpfmap_perfbuf", "pybpfmap_user_ringbuf",
                     "ring_buffer__", "perf_buffer__", "user_ring_buffer__")


def soak(default, long):
    """``long`` under PYBPFMAP_SOAK=1, else ``default``."""
    return long if SOAK else default


class _RecordingLib:
    """Stands in for ``lib``: every function that reaches the kernel is logged."""

    def __init__(self, lib, calls, wrap):
        self._lib = lib
        self._calls = calls
        self._wrap = wrap

    def __getattr__(self, name):
        value = getattr(self._lib, name)
        if callable(value) and name.startswith(_SYSCALL_PREFIXES):
            return self._wrap(name, value, self._calls)
        return value


def _recording(name, fn, calls):
    def call(*args):
        calls.append(name)
        return fn(*args)
    call.__name__ = name
    return call


def _timing(name, fn, calls):
    def call(*args):
        t0 = time.monotonic()
        try:
            return fn(*args)
        finally:
            calls.append((name, t0, time.monotonic()))
    call.__name__ = name
    return call


def no_bpf_calls():
    """Yield a list that collects the names of kernel-reaching libbpf calls
    made by pybpfmap inside the block; every reference is restored after."""
    return _swapped(_recording)


def timed_bpf_calls():
    """Like :func:`no_bpf_calls`, collecting ``(name, start, end)`` of each call."""
    return _swapped(_timing)


@contextlib.contextmanager
def _swapped(wrap):
    lib = _ffi.lib
    by_id = {}
    for name in dir(lib):
        if name.startswith(_SYSCALL_PREFIXES):
            value = getattr(lib, name)
            if callable(value):
                by_id[id(value)] = (name, value)
    calls = []
    proxy = _RecordingLib(lib, calls, wrap)
    saved = []

    def swap(namespace, setter):
        for attr, value in list(namespace.items()):
            if value is lib:
                saved.append((setter, attr, value))
                setter(attr, proxy)
            elif id(value) in by_id and by_id[id(value)][1] is value:
                saved.append((setter, attr, value))
                setter(attr, wrap(by_id[id(value)][0], value, calls))

    for modname, module in list(sys.modules.items()):
        if not (modname == "pybpfmap" or modname.startswith("pybpfmap.")):
            continue
        if not isinstance(module, types.ModuleType) or modname.startswith("pybpfmap._libbpf") \
                or module is lib:
            continue
        swap(vars(module), lambda a, v, m=module: setattr(m, a, v))
        for obj in list(vars(module).values()):
            if isinstance(obj, type) and obj.__module__ == modname:
                swap(dict(vars(obj)), lambda a, v, c=obj: setattr(c, a, v))
    try:
        yield calls
    finally:
        for setter, attr, value in reversed(saved):
            setter(attr, value)
