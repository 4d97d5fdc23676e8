"""Route libbpf's messages to Python.

libbpf prints through one process-wide callback.  pybpfmap installs its own:
messages go to the ``pybpfmap.libbpf`` logger (warnings at WARNING, the rest
at DEBUG), and while a :func:`capture` block is active in a thread they are
also collected there, which is how ``LoadError.log`` gets the verifier log.
"""
import contextlib
import logging
import threading

from ._ffi import ffi, lib

logger = logging.getLogger("pybpfmap.libbpf")
_local = threading.local()
_LEVELS = {0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG}


@ffi.def_extern()
def _pybpfmap_log(level, msg):
    text = ffi.string(msg).decode(errors="replace")
    sink = getattr(_local, "sink", None)
    if sink is not None:
        sink.append(text)
    # captured messages end up in an exception; log them only for debugging
    py_level = logging.DEBUG if sink is not None else _LEVELS.get(level, logging.DEBUG)
    logger.log(py_level, "%s", text.rstrip("\n"))


@contextlib.contextmanager
def capture():
    """Collect libbpf's messages from this thread into a list."""
    previous = getattr(_local, "sink", None)
    sink = []
    _local.sink = sink
    try:
        yield sink
    finally:
        _local.sink = previous


lib.pybpfmap_install_print()


def summary(lines, default):
    """The most telling line of captured libbpf output, without its prefix."""
    text = [ln.strip() for ln in "".join(lines).splitlines() if ln.strip()]
    if not text:
        return default
    last = text[-1]
    return last[len("libbpf: "):] if last.startswith("libbpf: ") else last


def verifier_log(text):
    """The verifier's own log(s) from libbpf output (between the BEGIN/END
    PROG LOAD LOG markers), or ``""``."""
    out, inside = [], False
    for line in text.splitlines():
        if "-- BEGIN PROG LOAD LOG --" in line:
            inside = True
            continue
        if "-- END PROG LOAD LOG --" in line:
            inside = False
            continue
        if inside:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")


def verifier_reason(vlog):
    """The line saying why the verifier refused, e.g. "R0 invalid mem access"."""
    lines = [ln for ln in vlog.splitlines() if ln.strip()]
    for line in reversed(lines):
        if not line.startswith(("processed ", "verification time", "stack depth")):
            return line.strip()
    return ""
