"""Privileges (issue #7): every entry point run as uid 65534 with no
capabilities, and with only some of CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and
CAP_SYS_ADMIN, in a child started through ``setpriv``.

What the kernel (6.x) allows is asserted exactly, so that the table in the
README ("Reliability and security") stays true: a refusal must be a
``BpfPermissionError`` whose message names the capability that is missing,
and what works must work.  The parent passes the child an fd of one of its
maps (``pass_fds``) and pins another for it.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

import pybpfmap as bm
from conftest import need

CHILD = r"""
import json, sys
import pybpfmap as bm
args = json.loads(sys.argv[1])
out = {}

def attempt(name, fn):
    try:
        out[name] = {"ok": True, "detail": fn()}
    except Exception as exc:
        out[name] = {"ok": False, "cls": type(exc).__name__, "errno": getattr(exc, "errno", None),
                     "perm": isinstance(exc, PermissionError), "msg": str(exc)}

def closed(m):
    m.close()

attempt("create", lambda: closed(bm.HashMap.create(key=4, value=8, max_entries=4)))
attempt("create typed", lambda: closed(bm.HashMap.create(key="__u32", value="__u64", max_entries=4)))
attempt("create devmap", lambda: closed(bm.Map.create(bm.MapType.DEVMAP, key=4, value=4,
                                                       max_entries=4)))
attempt("from_id", lambda: closed(bm.Map.from_id(args["id"])))
attempt("maps", lambda: len(bm.maps()) > 0)
attempt("from_pin", lambda: closed(bm.Map.from_pin(args["pin"])))
attempt("from_pin 0600", lambda: closed(bm.Map.from_pin(args["pin600"])))
attempt("open", lambda: bm.BpfObject.open(args["xdp"]).close())
for kind in ("socket", "xdp", "tracepoint"):
    attempt("load " + kind, lambda: bm.load(args[kind]).close())

def inherited():
    m = bm.Map.from_fd(args["fd"])
    typed = m.key_type is not None
    key = (lambda k: k) if typed else (lambda k: k.to_bytes(4, "little"))
    num = (lambda v: v) if typed else (lambda v: int.from_bytes(v, "little"))
    before = num(m[key(1)])
    m[key(1)] = 99 if typed else (99).to_bytes(8, "little")
    del m[key(2)]
    keys = sorted(num(k) for k in m.keys())
    m.close()
    return {"typed": typed, "before": before, "keys": keys}

attempt("inherited fd", inherited)
print(json.dumps(out))
"""

ALL = ("create", "create typed", "create devmap", "from_id", "maps", "from_pin", "from_pin 0600",
       "open", "load socket", "load xdp", "load tracepoint", "inherited fd")

# capabilities given -> {entry point: capability named in the refusal}; the
# entry points not listed work.  "file mode": EACCES from the pin's mode.
SCENARIOS = {
    "none": {"create": "CAP_BPF", "create typed": "CAP_BPF",
             "create devmap": "CAP_BPF and CAP_NET_ADMIN", "from_id": "CAP_SYS_ADMIN",
             "maps": "CAP_SYS_ADMIN", "from_pin 0600": "file mode", "load socket": "CAP_BPF",
             "load xdp": "CAP_BPF and CAP_NET_ADMIN", "load tracepoint": "CAP_BPF and CAP_PERFMON"},
    "bpf": {"create devmap": "CAP_NET_ADMIN", "from_id": "CAP_SYS_ADMIN", "maps": "CAP_SYS_ADMIN",
            "from_pin 0600": "file mode", "load xdp": "CAP_NET_ADMIN",
            "load tracepoint": "CAP_PERFMON"},
    "bpf,perfmon": {"create devmap": "CAP_NET_ADMIN", "from_id": "CAP_SYS_ADMIN",
                    "maps": "CAP_SYS_ADMIN", "from_pin 0600": "file mode",
                    "load xdp": "CAP_NET_ADMIN"},
    "bpf,net_admin": {"from_id": "CAP_SYS_ADMIN", "maps": "CAP_SYS_ADMIN",
                      "from_pin 0600": "file mode", "load tracepoint": "CAP_PERFMON"},
    "sys_admin": {"from_pin 0600": "file mode"},
}


@pytest.fixture(scope="module")
def setpriv():
    path = shutil.which("setpriv")
    need(path is not None, "setpriv (util-linux) is not installed")
    need(os.geteuid() == 0, "dropping privileges needs root")
    return path


@pytest.fixture(scope="module")
def parent_side(bpffs_root):
    """A map (fd passed to the child, also pinned 0666 and 0600) and objects."""
    from conftest import compile_bpf
    import uuid
    m = bm.HashMap.create(key="__u32", value="__u64", max_entries=8, name="privs")
    m.update({1: 10, 2: 20, 3: 30})
    pin_dir = os.path.join(bpffs_root, f"pybpfmap-privs-{uuid.uuid4().hex[:8]}")
    os.mkdir(pin_dir)
    os.chmod(pin_dir, 0o755)
    pin, pin600 = os.path.join(pin_dir, "open"), os.path.join(pin_dir, "closed")
    m.pin(pin)
    os.chmod(pin, 0o666)
    m.pin(pin600)
    os.chmod(pin600, 0o600)
    args = {"id": m.id, "fd": m.fd, "pin": pin, "pin600": pin600,
            "socket": compile_bpf("sock_filter"), "xdp": compile_bpf("drain_writer"),
            "tracepoint": compile_bpf("tp_getpid")}
    yield m, args
    shutil.rmtree(pin_dir, ignore_errors=True)
    m.close()


def run_child(setpriv, caps, m, args):
    if caps == "none":
        capflags = ["--inh-caps=-all", "--bounding-set=-all"]
    else:
        plus = ",".join("+" + c for c in caps.split(","))
        capflags = [f"--inh-caps=-all,{plus}", f"--ambient-caps={plus}",
                    f"--bounding-set=-all,{plus}"]
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(bm.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *capflags,
         sys.executable, "-c", CHILD, json.dumps(args)],
        capture_output=True, text=True, timeout=120, env=env, cwd="/", pass_fds=[m.fd])
    need(proc.returncode == 0 or "Permission denied" not in proc.stderr,
         f"uid 65534 cannot run this python: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", f"the library printed to stderr: {proc.stderr}"
    return json.loads(proc.stdout)


@pytest.mark.parametrize("caps", list(SCENARIOS))
def test_every_entry_point_under_reduced_privileges(setpriv, parent_side, caps):
    m, args = parent_side
    m.update({1: 10, 2: 20, 3: 30})
    results = run_child(setpriv, caps, m, args)
    assert set(results) == set(ALL)
    refused = SCENARIOS[caps]
    for name, res in results.items():
        if name not in refused:
            assert res["ok"], f"{name} with {caps}: {res}"
            continue
        assert not res["ok"], f"{name} with {caps} worked, expected a refusal"
        assert res["cls"] == "BpfPermissionError", res
        assert res["perm"] is True
        if refused[name] == "file mode":
            assert res["errno"] == 13 and "file permissions" in res["msg"], res
        else:
            assert res["errno"] == 1, res
            assert f"lacks {refused[name]} " in res["msg"], res
    # an fd the process holds works without any capability (Linux 6.5+): it
    # read the parent's data and changed it
    inherited = results["inherited fd"]["detail"]
    assert inherited["before"] == 10 and inherited["keys"] == [1, 3]
    assert dict(m.items()) == {1: 99, 3: 30}
    # its BTF cannot be read without CAP_SYS_ADMIN: the map comes back untyped
    assert inherited["typed"] == (caps == "sys_admin")
