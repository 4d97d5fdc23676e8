"""The BPF programs bundled with pybpfmap (``pybpfmap/bpf/*.c``).

The package build compiles them next to their sources
(``pybpfmap/bpf/NAME.bpf.o``, see ``setup.py``) when clang is there; where it
was not, they are compiled with clang on first use into a cache directory
(``$PYBPFMAP_CACHE``, else ``$XDG_CACHE_HOME/pybpfmap``, else
``~/.cache/pybpfmap``), keyed by the source and the compiler, so later uses
load the cached object::

    obj = bm.programs.load("syscount")   # a loaded bm.BpfObject
    links = [p.attach() for p in obj.programs.values()]

``syscount``: system calls per process (``syscalls``: tgid -> struct
proc_stats {count, comm}) and a log2 histogram of their durations in
microseconds (``latency_us``), from the raw_syscalls tracepoints.
"""
import hashlib
import os
import shutil
import subprocess

__all__ = ["available", "source", "prebuilt", "build", "compile", "load", "ClangError"]

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bpf")


class ClangError(RuntimeError):
    """clang is missing or failed to compile a bundled program."""


def available():
    """Names of the bundled programs."""
    return sorted(f[:-2] for f in os.listdir(_HERE) if f.endswith(".c"))


def source(name):
    """Path of the C source of bundled program ``name``; ``ValueError`` if unknown."""
    path = os.path.join(_HERE, f"{name}.c")
    if not name.isidentifier() or not os.path.exists(path):
        raise ValueError(f"no bundled BPF program {name!r} (there are: {', '.join(available())})")
    return path


def cache_dir():
    """Where compiled objects are kept."""
    explicit = os.environ.get("PYBPFMAP_CACHE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pybpfmap")


def _clang():
    path = os.environ.get("CLANG") or shutil.which("clang")
    if not path:
        raise ClangError("clang is not installed; it compiles the bundled BPF programs "
                         "(apt-get install clang, or run make deps)")
    return path


def _flags():
    flags = ["-g", "-O2", "-target", "bpf", f"-I/usr/include/{os.uname().machine}-linux-gnu"]
    # a source checkout built against the vendored libbpf has its headers here
    vendored = os.path.join(os.path.dirname(os.path.dirname(_HERE)), "build", "libbpf", "include")
    if os.path.isdir(vendored):
        flags.append(f"-I{vendored}")
    return flags


def prebuilt(name):
    """The object the package build made for ``name``, if it is there and
    not older than the source; else None."""
    src = source(name)
    obj = os.path.join(_HERE, f"{name}.bpf.o")
    if os.path.exists(obj) and os.path.getmtime(obj) >= os.path.getmtime(src):
        return obj
    return None


def build(name, out, clang=None):
    """Compile bundled program ``name`` into ``out`` (used by the package
    build).  Raises :class:`ClangError` when clang is missing or fails."""
    src = source(name)
    clang = clang or _clang()
    tmp = f"{out}.{os.getpid()}.tmp"
    try:
        proc = subprocess.run([clang, *_flags(), "-c", src, "-o", tmp], capture_output=True,
                              text=True)
    except OSError as exc:
        raise ClangError(f"cannot run {clang}: {exc.strerror}") from None
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln] or \
            proc.stderr.splitlines() or ["(no output)"]
        raise ClangError(f"clang failed to compile {os.path.basename(src)}: {errors[0].strip()}")
    os.replace(tmp, out)
    return out


def compile(name):  # noqa: A001 - the natural name; shadows the builtin only here
    """Return the path of bundled program ``name``'s object: the one the
    package build made, or one compiled now (once; cached).

    Raises :class:`ClangError` when it must be compiled and clang is missing
    or fails.
    """
    ready = prebuilt(name)
    if ready:
        return ready
    src = source(name)
    clang = _clang()
    flags = _flags()
    with open(src, "rb") as f:
        text = f.read()
    digest = hashlib.sha256(text + os.fsencode(clang) + " ".join(flags).encode()).hexdigest()
    out_dir = cache_dir()
    out = os.path.join(out_dir, f"{name}-{digest[:16]}.bpf.o")
    if os.path.exists(out):
        return out
    os.makedirs(out_dir, exist_ok=True)
    return build(name, out, clang)


def load(name, pin_root=None):
    """Compile (if needed) and load bundled program ``name``; returns a loaded
    :class:`pybpfmap.BpfObject` (close it, or use it as a context manager)."""
    from .object import load as load_object
    return load_object(compile(name), pin_root=pin_root)
