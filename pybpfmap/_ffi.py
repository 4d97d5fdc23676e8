"""The one import point of the compiled libbpf binding.

Everything else in pybpfmap does ``from ._ffi import ffi, lib``.  The
compiled module carries the package version it was built for; a mismatch
(an old build left in place after an upgrade) is reported at import.
"""
from ._version import __version__

try:
    from ._libbpf import ffi, lib
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "pybpfmap's compiled module pybpfmap._libbpf is missing or broken "
        f"({exc}); rebuild it with `pip install -e .` (or `make deps` first)"
    ) from exc

_built = ffi.string(lib.pybpfmap_build_version).decode()
if _built != __version__:  # pragma: no cover - depends on the install
    raise ImportError(
        f"pybpfmap._libbpf was built for pybpfmap {_built}, but this is "
        f"pybpfmap {__version__}; rebuild it with `pip install -e .`"
    )


def libbpf_version():
    """Return the version of libbpf pybpfmap runs on, and where it came from.

    For example ``"1.5.0 (vendored 1.5)"`` or ``"1.1.2 (system 1.1.2)"``.
    """
    version = ffi.string(lib.libbpf_version_string()).decode().lstrip("v")
    origin = ffi.string(lib.pybpfmap_libbpf_origin).decode()
    return f"{version} ({origin})"
