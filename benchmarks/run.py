#!/usr/bin/env python3
"""pybpfmap benchmarks: every figure is a ratio against libbpf called from C
on the same kind of map, measured in the same run, pinned to the same CPU.

    python benchmarks/run.py [--quick] [--markdown]

Builds benchmarks/baseline.c against the libbpf pybpfmap was built with,
then, for each row, runs the C baseline and the Python equivalent in turn
(median of REPS runs, ns per entry) and prints the ratio and the target.
"""
import argparse
import gc
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUILD = os.path.join(HERE, ".build")
CPU = 0

import pybpfmap as bm  # noqa: E402

STRUCT48 = ("struct rec48 { __u64 a; __u32 b; __u32 c; "
            "struct { __u64 x; __u64 y; } in; __u64 d[2]; }")


def build_baseline():
    os.makedirs(BUILD, exist_ok=True)
    exe = os.path.join(BUILD, "baseline")
    src = os.path.join(HERE, "baseline.c")
    libdir = os.path.join(TOP, "build", "libbpf")
    if os.environ.get("PYBPFMAP_LIBBPF") == "system":
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libbpf"], check=True,
                               capture_output=True, text=True).stdout.split()
    else:
        flags = [f"-I{libdir}/include", f"{libdir}/obj/libbpf.a", "-lelf", "-lz"]
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run(["gcc", "-O2", "-o", exe, src, *flags], check=True)
    return exe


def c_baseline(exe, op, entries, ops, reps):
    if op == "ringbuf_consume":
        args = [exe, op, str(ringbuf_events(entries)), "0", str(reps), ringbuf_object()]
    else:
        args = [exe, op, str(entries), str(ops), str(reps)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
    return float(out[1])


def median_ns(fn, n, reps):
    samples = []
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(samples)


def filled_hash(entries, value="__u64", map_type=bm.MapType.HASH):
    m = bm.Map.create(map_type, "__u32", value, entries)
    if value == "__u64":
        m.update({i: i * 3 for i in range(entries)})
    return m


# ----------------------------------------------------------------- the rows

def lookups(m, entries, ops, reps):
    """ns per ``m[k]`` over ``ops`` keys cycling through the map."""
    keys = [i % entries for i in range(ops)]

    def run():
        for k in keys:
            m[k]
    return median_ns(run, ops, reps)


def row_hash_lookup(entries, ops, reps):
    return lookups(filled_hash(entries), entries, ops, reps)


def row_hash_update(entries, ops, reps):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=entries)
    keys = [i % entries for i in range(ops)]

    def run():
        for k in keys:
            m[k] = k
    return median_ns(run, ops, reps)


def row_items(entries, ops, reps):
    m = filled_hash(entries)
    return median_ns(lambda: dict(m.items()), entries, reps)


def row_update(entries, ops, reps):
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=entries)
    d = {i: i * 3 for i in range(entries)}
    return median_ns(lambda: m.update(d), entries, reps)


def row_to_numpy(entries, ops, reps):
    m = filled_hash(entries)
    if not hasattr(m, "to_numpy"):
        return None
    return median_ns(m.to_numpy, entries, reps)


def row_array_lookup(entries, ops, reps):
    a = bm.ArrayMap.create(value="__u64", max_entries=entries)
    return lookups(a, entries, ops, reps)


def row_percpu_lookup(entries, ops, reps):
    m = bm.PerCpuHashMap.create(key="__u32", value="__u64", max_entries=entries)
    m.update({i: i for i in range(entries)})
    return lookups(m, entries, ops, reps)


def row_struct_lookup(entries, ops, reps):
    m = bm.HashMap.create(key="__u32", value=STRUCT48, max_entries=entries)
    m.update({i: {"a": i, "b": 1, "c": 2, "in": {"x": 3, "y": 4}, "d": (5, 6)}
              for i in range(entries)})
    return lookups(m, entries, ops, reps)


EVENT16 = "struct event { __u32 seq; __u32 base; __u64 value; }"


def ringbuf_object():
    """tests/bpf/ringbuf.c compiled for BPF (its `produce` program emits
    16-byte events into the 16 MiB ring `events`)."""
    src = os.path.join(TOP, "tests", "bpf", "ringbuf.c")
    out = os.path.join(BUILD, "ringbuf.o")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        arch = os.uname().machine
        subprocess.run(["clang", "-g", "-O2", "-target", "bpf",
                        f"-I/usr/include/{arch}-linux-gnu", "-c", src, "-o", out], check=True)
    return out


def ringbuf_events(entries):
    return min(entries // 2, 500_000)


def _ringbuf_row(entries, reps, read):
    """ns per event of ``read(rb)`` after the program emitted a batch."""
    n = ringbuf_events(entries)
    with bm.load(ringbuf_object()) as obj:
        rb = obj.maps["events"]
        rb.event_type = EVENT16
        produce = obj.programs["produce"]
        packet = struct.pack("=II", n, 1) + bytes(56)
        samples = []
        for _ in range(reps):
            assert produce.test_run(packet).retval == 2
            gc.collect()
            t0 = time.perf_counter_ns()
            got = read(rb)
            samples.append((time.perf_counter_ns() - t0) / n)
            assert len(got) == n
        rb.close()
    return statistics.median(samples)


def row_ringbuf_read(entries, ops, reps):
    return _ringbuf_row(entries, reps, lambda rb: rb.read())


def row_ringbuf_numpy(entries, ops, reps):
    return _ringbuf_row(entries, reps, lambda rb: rb.read_numpy())


_MEM_CHILD = r"""
import gc, os, resource, sys
import pybpfmap as bm
n = int(sys.argv[1])
m = bm.HashMap.create(key="__u32", value="__u64", max_entries=n)
for start in range(0, n, 10000):  # small steps: keep the high-water mark low
    m.update({i: i * 3 for i in range(start, min(n, start + 10000))})
gc.collect()
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
base = rss()
assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < base * 1.5
d = dict(m.items())
held = rss() - base
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
print(peak, held, len(d))
"""


def row_memory(entries, ops, reps):
    out = subprocess.run([sys.executable, "-c", _MEM_CHILD, str(entries)], check=True,
                         capture_output=True, text=True).stdout.split()
    peak, held, n = map(int, out)
    assert n == entries
    return peak / held


ROWS = [
    # name, python row, C op, target ratio, description
    ("hash_lookup", row_hash_lookup, "hash_lookup", 1.5, "m[k] hash lookup, u32 -> u64, hit"),
    ("hash_update", row_hash_update, "hash_update", 1.5, "m[k] = v hash update"),
    ("items", row_items, "hash_batch_lookup", 1.5, "dict(m.items()) vs C batch lookup"),
    ("update", row_update, "hash_batch_update", 1.5, "m.update(d) vs C batch update"),
    ("to_numpy", row_to_numpy, "hash_batch_lookup", 1.15, "m.to_numpy() vs C batch lookup"),
    ("array_lookup", row_array_lookup, "array_lookup", 1.8, "a[i] array lookup"),
    ("struct_lookup", row_struct_lookup, "struct_lookup", 2.0,
     "48-byte nested struct lookup vs C lookup + memcpy"),
    ("percpu_lookup", row_percpu_lookup, "percpu_hash_lookup", 1.6,
     "per-CPU hash lookup, tuple result"),
    ("ringbuf_numpy", row_ringbuf_numpy, "ringbuf_consume", 3.0,
     "rb.read_numpy() of 16-byte events vs C consume"),
]


def scaling(exe, reps):
    """ns per entry of items(), update() and to_numpy() from 1k to 1M
    entries, each next to the C batch operation at the same size."""
    sizes = [1_000, 10_000, 100_000, 1_000_000]
    rows = [("dict(m.items())", row_items, "hash_batch_lookup"),
            ("m.update(d)", row_update, "hash_batch_update"),
            ("m.to_numpy()", row_to_numpy, "hash_batch_lookup")]
    print("\nscaling, ns per entry (pybpfmap / C = ratio):")
    print(f"{'entries':<18}" + "".join(f"{n:>22,}" for n in sizes))
    table = []
    for name, row, c_op in rows:
        cells = []
        for n in sizes:
            py = row(n, 0, reps)
            c = c_baseline(exe, c_op, n, 0, reps)
            cells.append((py, c))
            gc.collect()
        table.append((name, cells))
        print(f"{name:<18}" + "".join(
            f"{py:8.0f} /{c:5.0f} = {py / c:4.2f}" if py else f"{'-':>22}" for py, c in cells),
            flush=True)
    return sizes, table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k entries, fewer reps")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--only", help="comma-separated row names")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1k..1M scaling table")
    args = ap.parse_args()
    os.sched_setaffinity(0, {CPU})
    entries = 100_000 if args.quick else 1_000_000
    ops = 50_000 if args.quick else 200_000
    reps = 3 if args.quick else 5
    exe = build_baseline()
    only = set(args.only.split(",")) if args.only else None
    print(f"pybpfmap {bm.__version__} on libbpf {bm.libbpf_version()}; Python {sys.version.split()[0]}; "
          f"{entries} entries, {ops} ops per run, median of {reps}, CPU {CPU}")
    results = []
    for name, row, c_op, target, desc in ROWS:
        if only and name not in only:
            continue
        c_ns = c_baseline(exe, c_op, entries, ops, reps)
        py_ns = row(entries, ops, reps)
        gc.collect()
        if py_ns is None:
            results.append((desc, c_ns, None, None, target))
            print(f"{desc:<52} C {c_ns:8.1f} ns  pybpfmap: not available")
            continue
        ratio = py_ns / c_ns
        results.append((desc, c_ns, py_ns, ratio, target))
        mark = "ok" if ratio <= target else "MISSED"
        print(f"{desc:<52} C {c_ns:8.1f} ns  pybpfmap {py_ns:8.1f} ns  "
              f"{ratio:5.2f}x (target <= {target}x) {mark}", flush=True)
    if not only or "ringbuf_read" in only:
        ns = row_ringbuf_read(entries, ops, reps)
        rate = 1e9 / ns
        results.append(("ring buffer: rb.read() of 16-byte typed events, events/s",
                        None, ns, rate, 2e6))
        print(f"{'rb.read() of 16-byte typed events':<52} {rate / 1e6:5.2f}M events/s "
              f"({ns:.0f} ns each; target >= 2M/s) {'ok' if rate >= 2e6 else 'MISSED'}")
    if not only or "memory" in only:
        mem = row_memory(entries, ops, reps)
        results.append(("memory: peak RSS growth of dict(m.items()) / RSS the dict holds",
                        None, None, mem, 1.3))
        print(f"{'memory: peak RSS of dict(m.items()) / dict RSS':<52} {mem:5.2f}x (target <= 1.3x) "
              f"{'ok' if mem <= 1.3 else 'MISSED'}")
    scale = None if (args.no_scaling or only) else scaling(exe, reps)
    if args.markdown:
        print("\n| work | C ns/entry | pybpfmap ns/entry | ratio | target |")
        print("|---|---:|---:|---:|---:|")
        for desc, c_ns, py_ns, ratio, target in results:
            c = f"{c_ns:.0f}" if c_ns else "-"
            p = f"{py_ns:.0f}" if py_ns else "-"
            if "events/s" in desc:
                print(f"| {desc} | - | {p} | {ratio / 1e6:.2f}M/s | >= {target / 1e6:.0f}M/s |")
                continue
            r = f"{ratio:.2f}x" if ratio else "n/a"
            print(f"| {desc} | {c} | {p} | {r} | <= {target}x |")
        if scale:
            sizes, table = scale
            print("\n| ns per entry (ratio to C) | " + " | ".join(f"{n:,}" for n in sizes) + " |")
            print("|---|" + "---:|" * len(sizes))
            for name, cells in table:
                print(f"| `{name}` | " + " | ".join(
                    f"{py:.0f} ({py / c:.2f}x)" if py else "-" for py, c in cells) + " |")


if __name__ == "__main__":
    main()
