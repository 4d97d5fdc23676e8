"""The ``pybpfmap`` command (also ``python -m pybpfmap``).

Errors print one line to stderr and exit non-zero, never a traceback.
"""
import argparse
import os
import sys

__all__ = ["main"]


def _cmd_list(args):
    import pybpfmap as bm
    rows = bm.maps()
    print(f"{'id':>6}  {'type':<16} {'name':<16} {'key':>5} {'value':>6} {'max':>8}")
    for info in rows:
        tname = getattr(info.type, "name", str(info.type))
        print(f"{info.id:>6}  {tname:<16} {info.name:<16} {info.key_size:>5} "
              f"{info.value_size:>6} {info.max_entries:>8}")
    return 0


def _comm_counts():
    counts = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm", "rb") as f:
                comm = f.read().strip()[:15]
        except OSError:
            continue
        counts[comm] = counts.get(comm, 0) + 1
    return counts


def _cmd_demo(args):
    """Create a typed kernel map, fill it with process counts per command
    name from /proc, and print it."""
    import pybpfmap as bm
    print(f"pybpfmap {bm.__version__} on libbpf {bm.libbpf_version()}, "
          f"{bm.possible_cpus()} possible CPUs")
    with bm.HashMap.create(key="char[16]", value="__u64", max_entries=4096,
                           name="demo_comm") as m:
        m.update(_comm_counts())
        print(repr(m))
        print(f"{len(m)} command names; the ten with most processes:")
        top = sorted(m.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        for comm, count in top:
            print(f"  {comm.decode(errors='replace'):<16} {count:>5}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pybpfmap", description="Explore eBPF maps.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list every map on the system").set_defaults(fn=_cmd_list)
    demo = sub.add_parser("demo", help="create a typed map, fill it and show it")
    demo.add_argument("--duration", type=float, default=0.0, help="(used by the live demo)")
    demo.set_defaults(fn=_cmd_demo)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line, never a traceback
        print(f"pybpfmap: error: {exc}", file=sys.stderr)
        return 1
