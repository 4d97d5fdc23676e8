"""The pybpfmap command, run as a subprocess: exit codes, one-line errors,
JSON output, watch snapshots when stdout is not a terminal, the demo."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest

import pybpfmap as bm

STATS = "struct stats { __u64 count; char comm[16]; enum kind { READ, WRITE } kind; __u8 raw[2]; }"


def cli(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "pybpfmap", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def one_line_error(result, code=1):
    assert result.returncode == code, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("pybpfmap")
    return lines[0]


@pytest.fixture
def stats_map():
    name = f"cli{uuid.uuid4().hex[:8]}"
    with bm.HashMap.create(key="__u32", value=STATS, max_entries=64, name=name) as m:
        m[1] = (10, b"bash", 1, b"\x00\xff")
        m[2] = (20, b"sshd", 0, b"ok")
        yield m


def test_list(stats_map):
    r = cli("list")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["id", "type", "name", "key", "value", "max_entries", "flags"]
    mine = [ln for ln in lines if ln.split()[0] == str(stats_map.id)]
    assert mine and mine[0].split()[1:4] == ["HASH", stats_map.name, "4"]


def test_show_by_name_id_and_pin(stats_map, pin_dir):
    path = os.path.join(pin_dir, "stats")
    stats_map.pin(path)
    for spec in (stats_map.name, str(stats_map.id), path):
        r = cli("show", spec)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].startswith("HashMap") and f"id: {stats_map.id}" in lines[0]
        assert "entries: 2 / 64" in lines[0]
        assert lines[1].split() == ["key", "count", "comm", "kind", "raw"]
        assert lines[2].split() == ["1", "10", "bash", "WRITE", "0x00ff"]
        assert lines[3].split() == ["2", "20", "sshd", "READ", "ok"]


def test_dump_text_and_limit(stats_map):
    r = cli("dump", stats_map.name)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3
    r = cli("dump", stats_map.name, "--limit", "1", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)) == 1


def test_dump_json_is_typed(stats_map):
    r = cli("dump", str(stats_map.id), "--json")
    assert r.returncode == 0, r.stderr
    data = sorted(json.loads(r.stdout), key=lambda e: e["key"])
    assert data == [
        {"key": 1, "value": {"count": 10, "comm": "bash", "kind": "WRITE", "raw": "0x00ff"}},
        {"key": 2, "value": {"count": 20, "comm": "sshd", "kind": "READ", "raw": "ok"}},
    ]


def test_dump_json_arrays_percpu_and_empty():
    ncpus = bm.possible_cpus()
    with bm.PerCpuArrayMap.create(value="struct p { __u32 a[2]; }", max_entries=2,
                                  name=f"pc{uuid.uuid4().hex[:8]}") as m:
        m[1] = [((i, i + 1),) for i in range(ncpus)]
        data = json.loads(cli("dump", str(m.id), "--json").stdout)
        assert data[1] == {"key": 1, "value": [{"a": [i, i + 1]} for i in range(ncpus)]}
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=2) as m:
        assert json.loads(cli("dump", str(m.id), "--json").stdout) == []
        assert cli("dump", str(m.id)).stdout.strip() == "(empty)"


def test_errors_are_one_line(stats_map):
    assert "no map named 'no_such_map_x'" in one_line_error(cli("show", "no_such_map_x"))
    assert "no map with id 4000000000" in one_line_error(cli("dump", "4000000000"))
    assert "nothing is pinned" in one_line_error(cli("show", "/sys/fs/bpf/no/such/pin"))
    one_line_error(cli("dump"), code=2)
    one_line_error(cli("watch", stats_map.name, "--interval", "0"), code=2)
    one_line_error(cli("frobnicate"), code=2)
    one_line_error(cli(), code=2)
    with bm.QueueMap.create(value="__u32", max_entries=2) as q:
        line = one_line_error(cli("dump", str(q.id)))
        assert "QUEUE" in line


def test_ambiguous_name_lists_ids():
    name = f"dup{uuid.uuid4().hex[:8]}"
    with bm.HashMap.create(key="__u32", value="__u32", max_entries=2, name=name) as a, \
            bm.HashMap.create(key="__u32", value="__u32", max_entries=2, name=name) as b:
        line = one_line_error(cli("show", name))
        assert "ambiguous" in line and str(a.id) in line and str(b.id) in line


def test_watch_prints_snapshots_with_rates(stats_map):
    stop = threading.Event()

    def bump():
        while not stop.is_set():
            v = stats_map[1]
            stats_map[1] = v._replace(count=v.count + 100)
            time.sleep(0.02)
    t = threading.Thread(target=bump)
    t.start()
    try:
        r = cli("watch", stats_map.name, "--interval", "0.3", "--count", "3")
    finally:
        stop.set()
        t.join()
    assert r.returncode == 0, r.stderr
    blocks = r.stdout.split("--- ")[1:]
    assert len(blocks) == 3
    header = blocks[0].splitlines()[1].split()
    assert header == ["key", "count", "count/s", "comm", "kind", "raw"]
    last = blocks[-1].splitlines()
    assert last[2].split()[0] == "1"  # the busiest key first
    assert float(last[2].split()[2]) > 100  # ~5000/s
    assert float(last[3].split()[2]) == 0.0


def test_console_script(stats_map):
    exe = os.path.join(os.path.dirname(sys.executable), "pybpfmap")
    if not os.path.exists(exe):
        pytest.skip("the pybpfmap console script is not installed in this environment")
    r = subprocess.run([exe, "show", str(stats_map.id)], capture_output=True, text=True)
    assert r.returncode == 0 and "sshd" in r.stdout


def test_demo(tracefs, tmp_path):
    env = dict(os.environ, PYBPFMAP_CACHE=str(tmp_path / "cache"))
    r = cli("demo", "--duration", "1", env=env)
    assert r.returncode == 0, r.stderr
    assert "system calls per process" in r.stdout
    assert "key  count  count/s  comm" in r.stdout
    assert "     usecs               : count     distribution" in r.stdout
    from pybpfmap import programs
    if programs.prebuilt("syscount") is None:
        assert os.listdir(tmp_path / "cache")  # compiled once, cached


def test_demo_without_clang(tmp_path):
    """The package build compiled the program, so the demo needs no clang;
    without that object it says clang is missing, in one line."""
    from pybpfmap import programs
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty), PYBPFMAP_CACHE=str(tmp_path / "cache"))
    env.pop("CLANG", None)
    r = cli("demo", "--duration", "1", env=env)
    if programs.prebuilt("syscount"):
        assert r.returncode == 0, r.stderr
    else:
        assert "clang is not installed" in one_line_error(r)
    code = ("import pybpfmap.cli as c, pybpfmap.programs as p; p.prebuilt = lambda name: None; "
            "raise SystemExit(c.main(['demo', '--duration', '1']))")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "clang is not installed" in one_line_error(r)


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_bundled_program_cache_is_reused(tmp_path, monkeypatch):
    from pybpfmap import programs
    monkeypatch.setenv("PYBPFMAP_CACHE", str(tmp_path))
    monkeypatch.setattr(programs, "prebuilt", lambda name: None)
    first = programs.compile("syscount")
    mtime = os.path.getmtime(first)
    assert programs.compile("syscount") == first and os.path.getmtime(first) == mtime
    with pytest.raises(ValueError, match="no bundled BPF program"):
        programs.source("nope")
    assert "syscount" in programs.available()


def test_watch_on_a_terminal_redraws_with_rich(stats_map):
    pytest.importorskip("rich")
    import pty
    import select
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="120", LINES="40", TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "pybpfmap", "watch", stats_map.name,
                             "--interval", "0.2", "--count", "3"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    text = out.decode(errors="replace")
    assert f"HashMap '{stats_map.name}'" in text and "2 entries" in text
    assert "count/s" in text and "sshd" in text
    assert "\x1b[" in text  # drawn in place with terminal control sequences
    assert "---" not in text  # not the plain snapshot format
