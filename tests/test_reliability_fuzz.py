"""Hostile files (issue #7): Hypothesis fuzzing of ``BpfObject.open`` and of
the BTF reader, each in a child process so that a crash shows up as a signal
rather than taking pytest down.

Inputs are real objects from tests/bpf (and their raw ``.BTF`` sections)
mutated by Hypothesis -- truncated, bytes overwritten, ranges duplicated or
zeroed, the BTF header's counts and offsets rewritten -- and random bytes.
Every input must open or fail with an exception of the library (BpfError
and friends, or ValueError/TypeError/KeyError for BTF that libbpf accepts but
that describes no usable type).  The child writes each input to a file
before trying it, so a crash leaves the input behind for a regression test.

Bounded by time: PYBPFMAP_FUZZ_SECONDS (default 10 per target; 300 under
PYBPFMAP_SOAK=1).  Regression inputs found so far live in REGRESSIONS.
"""
import os
import struct
import subprocess
import sys

import pytest

from conftest import compile_bpf
from reliability_helpers import SOAK

SECONDS = float(os.environ.get("PYBPFMAP_FUZZ_SECONDS", 300 if SOAK else 10))
SOURCES = ["xdp_types", "drain_writer", "ringbuf", "lpm_route", "tail_call", "spin_lock"]

CHILD = r'''
import os, struct, sys, time
from hypothesis import HealthCheck, given, seed, settings, strategies as st
import pybpfmap as bm
from pybpfmap._ffi import ffi, lib
from pybpfmap.btf import reader
from pybpfmap.btf.codec import compile_type

target, budget, crash_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]
paths = sys.argv[4:]
objects = [open(p, "rb").read() for p in paths]
OK = (bm.BpfError, ValueError, TypeError, KeyError)


def btf_section(data):
    """The raw .BTF section of a 64-bit little-endian ELF object."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sec = lambda i: struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    stroff = sec(shstrndx)[4]
    for i in range(shnum):
        name, _, _, _, off, size = sec(i)[:6]
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".BTF":
            return data[off:off + size]
    raise LookupError("no .BTF")


blobs = [btf_section(d) for d in objects]
corpus = objects if target == "object" else blobs
counts = {"cases": 0, "opened": 0, "refused": 0}


def mutate(data, ops):
    b = bytearray(data)
    for kind, pos, n, byte in ops:
        if not b:
            break
        pos %= len(b)
        if kind == 0:      # overwrite bytes
            b[pos:pos + n] = bytes([byte]) * min(n, len(b) - pos)
        elif kind == 1:    # truncate
            del b[pos:]
        elif kind == 2:    # duplicate a range
            b[pos:pos] = b[pos:pos + n]
        elif kind == 3:    # a little-endian u32 at pos (counts, offsets, type ids)
            b[pos:pos + 4] = struct.pack("<I", [0, 1, byte, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF][n % 6])
        else:              # delete a range
            del b[pos:pos + n]
    return bytes(b)


def btf_header_edits(data, fields):
    """Rewrite the BTF header's hdr_len/type_off/type_len/str_off/str_len."""
    b = bytearray(data)
    if len(b) >= 24:
        for idx, value in fields:
            struct.pack_into("<I", b, 4 + 4 * (idx % 5), value)
    return bytes(b)


def use_spec(spec):
    # convert every type and compile a codec for each: the paths a map's
    # types take when they come from hostile BTF
    for i in range(1, min(len(spec) + 1, 400)):
        try:
            t = spec.type_by_id(i)
            compile_type(t)
        except OK:
            pass


def try_object(data):
    try:
        with bm.BpfObject.open(data) as obj:
            for name in obj.maps:
                spec = obj.maps[name]
                try:
                    (spec.key_type, spec.value_type, spec.key_size, repr(spec))
                except OK:
                    pass
            list(obj.programs)
        counts["opened"] += 1
    except OK:
        counts["refused"] += 1


def try_btf(data):
    # through a file (btf__parse, as Spec.from_file) and from memory (btf__new)
    path = crash_file + ".btf"
    with open(path, "wb") as f:
        f.write(data)
    for make in (lambda: reader.Spec.from_file(path),
                 lambda: reader.Spec(lib.btf__new(ffi.from_buffer(data), len(data)))):
        try:
            spec = make()
        except OK:
            counts["refused"] += 1
            continue
        counts["opened"] += 1
        use_spec(spec)
        spec.close()


def run(data):
    with open(crash_file, "wb") as f:
        f.write(data)
    counts["cases"] += 1
    (try_object if target == "object" else try_btf)(data)


ops = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 20), st.integers(1, 64),
                         st.integers(0, 255)), min_size=1, max_size=8)
header = st.lists(st.tuples(st.integers(0, 4), st.sampled_from(
    [0, 1, 8, 24, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])), max_size=3)
cases = st.one_of(
    st.tuples(st.sampled_from(range(len(corpus))), ops, header).map(
        lambda c: btf_header_edits(mutate(corpus[c[0]], c[1]), c[2]) if target == "btf"
        else mutate(corpus[c[0]], c[1])),
    st.binary(max_size=4096),
    st.binary(max_size=256).map(lambda b: (b"\x9f\xeb\x01\x00" if target == "btf"
                                           else b"\x7fELF\x02\x01\x01") + b),
)

deadline = time.monotonic() + budget
batch = 0
while time.monotonic() < deadline:
    @seed(batch)
    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cases)
    def fuzz(data):
        if time.monotonic() < deadline:
            run(data)
    fuzz()
    batch += 1
os.unlink(crash_file)
print(counts["cases"], counts["opened"], counts["refused"])
'''


def _limit_memory():
    # a runaway allocation becomes a MemoryError (a failure with a traceback)
    # instead of the OOM killer's SIGKILL, which also hurts the rest of the machine
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run_fuzz(target, tmp_path):
    paths = [compile_bpf(name) for name in SOURCES]
    crash_file = str(tmp_path / f"last-{target}-input")
    proc = subprocess.run([sys.executable, "-c", CHILD, target, str(SECONDS), crash_file, *paths],
                          capture_output=True, text=True, timeout=SECONDS * 4 + 120,
                          preexec_fn=_limit_memory)
    if proc.returncode != 0:
        kept = os.path.join(os.path.dirname(__file__), "bpf", ".build",
                            f"fuzz-crash-{target}.bin")
        if os.path.exists(crash_file):
            os.replace(crash_file, kept)
        pytest.fail(f"fuzzing {target} ended with {proc.returncode} (a signal if negative); "
                    f"the input is kept in {kept}\n{proc.stderr[-3000:]}")
    cases, opened, refused = map(int, proc.stdout.split())
    print(f"fuzz {target}: {cases} cases, {opened} opened, {refused} refused in {SECONDS:.0f}s")
    assert cases > 50
    assert opened + refused >= cases
    return cases


def test_fuzz_object_open(tmp_path):
    run_fuzz("object", tmp_path)


def test_fuzz_btf_reader(tmp_path):
    run_fuzz("btf", tmp_path)


# ------------------------------------------------ regressions found by fuzzing

def test_regression_section_table_offset_past_2_63(bpf_obj):
    """Found by the object fuzzer: an ELF whose section table offset does not
    fit a C ssize_t made the legacy-maps scan raise OverflowError."""
    import pybpfmap as bm
    data = bytearray(open(bpf_obj("xdp_types"), "rb").read())
    struct.pack_into("<Q", data, 0x28, (1 << 63) + 64)  # e_shoff
    with pytest.raises(bm.BpfError):
        bm.BpfObject.open(bytes(data))


def _raw_btf(types, strings=b"\0"):
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def test_regression_btf_int_of_two_gib(tmp_path):
    """Found by the BTF fuzzer: libbpf accepts a BTF INT of 0x7fffff04 bytes,
    and building its codec computed 1 << (8 * size), eating all memory (the
    OOM killer ended the run).  Now: TypeError at once."""
    from pybpfmap._ffi import ffi, lib
    from pybpfmap.btf import reader
    from pybpfmap.btf.codec import compile_type
    # name_off 0, info: kind INT (1) << 24, size, then the int encoding (bits)
    blob = _raw_btf(struct.pack("<III", 0, 1 << 24, 0x7FFFFF04) + struct.pack("<I", 32))
    path = tmp_path / "int.btf"
    path.write_bytes(blob)
    for spec in (reader.Spec.from_file(str(path)),
                 reader.Spec(lib.btf__new(ffi.from_buffer(blob), len(blob)))):
        t = spec.type_by_id(1)
        with pytest.raises(TypeError, match="not supported"):
            compile_type(t)
        spec.close()


# ------------------------------------------------------------------ atheris

ATHERIS_CHILD = r'''
import os, struct, sys
import atheris
with atheris.instrument_imports():
    import pybpfmap as bm
    from pybpfmap.btf import reader
    from pybpfmap.btf.codec import compile_type
from pybpfmap._ffi import ffi, lib

OK = (bm.BpfError, ValueError, TypeError, KeyError)


def one_input(data):
    if not data:
        return
    body = data[1:]
    if data[0] & 1:
        try:
            with bm.BpfObject.open(body) as obj:
                for name in obj.maps:
                    spec = obj.maps[name]
                    try:
                        spec.key_type, spec.value_type
                    except OK:
                        pass
        except OK:
            pass
        return
    btf = lib.btf__new(ffi.from_buffer(body), len(body)) if body else ffi.NULL
    if btf == ffi.NULL:
        return
    spec = reader.Spec(btf)
    for i in range(1, min(len(spec) + 1, 200)):
        try:
            compile_type(spec.type_by_id(i))
        except OK:
            pass
    spec.close()


atheris.Setup(sys.argv, one_input)
atheris.Fuzz()
'''


def test_atheris_fuzz_object_and_btf(tmp_path):
    """Coverage-guided (over pybpfmap's Python code) fuzzing with atheris, when
    it is installed (``make venv`` installs it where PyPI has a wheel)."""
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SOURCES:
        data = open(compile_bpf(name), "rb").read()
        (corpus / f"{name}.o").write_bytes(b"\x01" + data)
    seconds = max(5, int(SECONDS))
    proc = subprocess.run(
        [sys.executable, "-c", ATHERIS_CHILD, f"-max_total_time={seconds}", "-rss_limit_mb=3000",
         f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, timeout=seconds * 4 + 120, preexec_fn=_limit_memory)
    stats = [ln for ln in proc.stderr.splitlines() if ln.startswith("stat::number_of_executed_units")]
    if proc.returncode != 0:
        crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash", "oom")))
        pytest.fail(f"atheris ended with {proc.returncode}; artifacts {crashes}\n{proc.stderr[-3000:]}")
    assert stats, proc.stderr[-2000:]
    print(f"atheris: {stats[0].split(':')[-1].strip()} inputs in {seconds}s")
