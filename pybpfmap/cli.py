"""The ``pybpfmap`` command (also ``python -m pybpfmap``).

    pybpfmap list                               every map on the system
    pybpfmap show MAP [--limit N]               info and the first rows
    pybpfmap dump MAP [--json] [--limit N]      every entry (typed JSON with --json)
    pybpfmap watch MAP [--interval S] [--count N] [--limit N]
                                                a live table with rates of change
    pybpfmap demo [--duration S]                count system calls per process live

``MAP`` is a map id, a pinned path, or a map name.  Errors print one line
to stderr and exit non-zero, never a traceback.
"""
import argparse
import itertools
import json
import math
import os
import sys
import time

__all__ = ["main"]


class CliError(Exception):
    """An error to print as one line (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog.split()[0]} --help)\n")


# -- finding maps -------------------------------------------------------------------

def open_map(spec):
    """The map named by ``spec``: an id, a path pinned on bpffs, or a name."""
    import pybpfmap as bm
    if spec.isdigit():
        try:
            return bm.Map.from_id(int(spec))
        except bm.BpfError as exc:
            if exc.errno == 2:
                raise CliError(f"no map with id {spec}") from None
            raise
    if os.sep in spec or os.path.exists(spec):
        try:
            return bm.Map.from_pin(spec)
        except bm.BpfError as exc:
            if exc.errno == 2:
                raise CliError(f"nothing is pinned at {spec}") from None
            raise
    name = spec[:15]  # the kernel keeps 15 characters
    found = [info for info in bm.maps() if info.name == name]
    if not found:
        raise CliError(f"no map named {spec!r} (pybpfmap list shows them all)")
    if len(found) > 1:
        ids = ", ".join(str(info.id) for info in found)
        raise CliError(f"map name {spec!r} is ambiguous: ids {ids}; give an id instead")
    return bm.Map.from_id(found[0].id)


# -- commands -----------------------------------------------------------------------

def _flags_text(flags):
    if not int(flags):
        return "0"
    return "|".join(f.name for f in type(flags) if f.value and f in flags and f.name)


def _cmd_list(args):
    import pybpfmap as bm
    from .display import format_table
    rows = []
    for info in sorted(bm.maps(), key=lambda i: i.id):
        rows.append([info.id, getattr(info.type, "name", str(info.type)), info.name,
                     info.key_size, info.value_size, info.max_entries, _flags_text(info.flags)])
    for line in format_table(["id", "type", "name", "key", "value", "max_entries", "flags"],
                             rows):
        print(line)
    return 0


def _cmd_show(args):
    from .display import render_text
    with open_map(args.map) as m:
        print(render_text(m, limit=args.limit))
    return 0


def _cmd_dump(args):
    from .display import format_table, jsonable, table
    with open_map(args.map) as m:
        if args.json:
            items = m.items()
            if args.limit is not None:
                items = itertools.islice(items, args.limit)
            # one entry per line, written as the map is read
            sep = "\n "
            sys.stdout.write("[")
            for k, v in items:
                sys.stdout.write(sep + json.dumps({"key": jsonable(k), "value": jsonable(v)}))
                sep = ",\n "
            sys.stdout.write("\n]\n" if sep != "\n " else "]\n")
            return 0
        columns, rows, _ = table(m, limit=args.limit)
        if not rows:
            print("(empty)")
            return 0
        for line in format_table(columns, rows):
            print(line)
    return 0


# -- watch ----------------------------------------------------------------------------

def _summary(v):
    from .display import PerCpu
    return v.summary if isinstance(v, PerCpu) else v


def _is_counter(v):
    import enum
    import numbers
    v = _summary(v)
    return isinstance(v, numbers.Number) and not isinstance(v, (bool, enum.Enum))


class _Snapshots:
    """Successive tables of one map, with rates of change of its counters."""

    def __init__(self, m, limit):
        self.m = m
        self.limit = limit
        self.prev = None
        self.prev_time = None

    def take(self):
        """``(columns, rows)``: the map's rows with a ``<column>/s`` after each
        numeric value column, sorted by the first rate (largest first)."""
        from .display import table
        columns, rows, nkeys = table(self.m, limit=None)
        now = time.monotonic()
        counters = [i for i in range(nkeys, len(columns))
                    if rows and all(_is_counter(r[i]) for r in rows)]
        current = {}
        for r in rows:
            current[tuple(r[:nkeys])] = [_summary(r[i]) for i in counters]
        out_cols = list(columns[:nkeys])
        for i in range(nkeys, len(columns)):
            out_cols.append(columns[i])
            if i in counters:
                out_cols.append(f"{columns[i]}/s")
        dt = (now - self.prev_time) if self.prev_time is not None else None
        out_rows = []
        for r in rows:
            key = tuple(r[:nkeys])
            old = self.prev.get(key) if self.prev is not None else None
            row = list(r[:nkeys])
            rates = []
            for i in range(nkeys, len(columns)):
                row.append(r[i])
                if i in counters:
                    j = counters.index(i)
                    if dt and old is not None:
                        rate = (_summary(r[i]) - old[j]) / dt
                    elif dt:
                        rate = _summary(r[i]) / dt  # appeared since the last snapshot
                    else:
                        rate = None
                    rates.append(rate)
                    row.append("" if rate is None else round(rate, 1))
            out_rows.append((rates, row))
        if counters and dt:
            out_rows.sort(key=lambda rr: -(rr[0][0] or 0))
        self.prev, self.prev_time = current, now
        shown = [row for _, row in out_rows]
        if self.limit is not None:
            shown = shown[:self.limit]
        return out_cols, shown, len(rows)


def _plain_watch(title_fn, snap, interval, count):
    from .display import format_table
    n = 0
    while True:
        columns, rows, total = snap.take()
        print(f"--- {title_fn()} at {time.strftime('%H:%M:%S')}, {total} entries ---")
        if rows:
            for line in format_table(columns, rows):
                print(line)
        else:
            print("(empty)")
        sys.stdout.flush()
        n += 1
        if count is not None and n >= count:
            return
        time.sleep(interval)


def _rich_watch(title_fn, snap, interval, count):
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from .display import _text_cell

    def render():
        columns, rows, total = snap.take()
        t = Table(title=f"{title_fn()}: {total} entries, {time.strftime('%H:%M:%S')}",
                  title_justify="left")
        numeric = [bool(rows) and all(_is_counter(r[i]) or r[i] == "" for r in rows)
                   for i in range(len(columns))]
        for c, num in zip(columns, numeric):
            t.add_column(c, justify="right" if num else "left")
        for r in rows:
            t.add_row(*[_text_cell(v) for v in r])
        return t

    n = 0
    with Live(render(), console=Console(), auto_refresh=False) as live:
        n += 1
        while count is None or n < count:
            time.sleep(interval)
            live.update(render(), refresh=True)
            n += 1


def _use_rich():
    if not sys.stdout.isatty():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def watch(m, interval=1.0, count=None, limit=20, title=None):
    """Show ``m`` every ``interval`` seconds (``count`` times, or until
    Ctrl-C), redrawn in place on a terminal (with rich), printed snapshot
    after snapshot otherwise."""
    snap = _Snapshots(m, limit)

    def title_fn():
        return title or f"{type(m).__name__} {m.name!r} (id {m.id})"
    (_rich_watch if _use_rich() else _plain_watch)(title_fn, snap, interval, count)


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _cmd_watch(args):
    with open_map(args.map) as m:
        watch(m, args.interval, args.count, args.limit)
    return 0


# -- demo -----------------------------------------------------------------------------

def _cmd_demo(args):
    import pybpfmap as bm
    from . import hist, programs
    print(f"pybpfmap {bm.__version__} on libbpf {bm.libbpf_version()}, "
          f"{bm.possible_cpus()} possible CPUs")
    print(f"loading the bundled syscount program ({programs.source('syscount')}) ...")
    with programs.load("syscount") as obj:
        links = [p.attach() for p in obj.programs.values()]
        try:
            counts = obj.maps["syscalls"]
            interval = min(1.0, args.duration)
            snapshots = max(1, math.ceil(args.duration / interval))
            print(f"counting system calls per process for {args.duration:g} s "
                  f"(map {counts.name!r}, id {counts.id}) ...")
            watch(counts, interval, snapshots + 1, limit=10,
                  title="system calls per process (top 10 by rate)")
            print()
            print(f"system call durations, all processes ({obj.maps['latency_us'].name}):")
            print(hist.log2(obj.maps["latency_us"], "usecs"))
        finally:
            for link in links:
                link.detach()
    return 0


# -- main -----------------------------------------------------------------------------

def _parser():
    parser = _Parser(prog="pybpfmap", description="Explore eBPF maps.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list every map on the system").set_defaults(fn=_cmd_list)

    show = sub.add_parser("show", help="a map's info and first rows")
    show.add_argument("map", metavar="MAP", help="map id, pinned path or name")
    show.add_argument("--limit", type=_count, default=20, help="rows to show (default 20)")
    show.set_defaults(fn=_cmd_show)

    dump = sub.add_parser("dump", help="every entry of a map")
    dump.add_argument("map", metavar="MAP", help="map id, pinned path or name")
    dump.add_argument("--json", action="store_true", help='a JSON list of {"key", "value"}')
    dump.add_argument("--limit", type=_count, default=None, help="at most N entries")
    dump.set_defaults(fn=_cmd_dump)

    w = sub.add_parser("watch", help="a live table of a map with rates of change")
    w.add_argument("map", metavar="MAP", help="map id, pinned path or name")
    w.add_argument("--interval", type=_positive, default=1.0, help="seconds between updates")
    w.add_argument("--count", type=_count, default=None, help="stop after N updates")
    w.add_argument("--limit", type=_count, default=20, help="rows to show (default 20)")
    w.set_defaults(fn=_cmd_watch)

    demo = sub.add_parser("demo", help="count system calls per process, live")
    demo.add_argument("--duration", type=_positive, default=5.0, help="seconds (default 5)")
    demo.set_defaults(fn=_cmd_demo)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `pybpfmap dump m | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:  # one clear line, never a traceback
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"pybpfmap: error: {msg}", file=sys.stderr)
        return 1
