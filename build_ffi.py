"""cffi builder for pybpfmap._libbpf (API / out-of-line mode).

This file is imported by setup.py (``cffi_modules``) without importing the
package.  It decides which libbpf to build against:

* vendored (default): the static libbpf built from ``libbpf/`` (libbpf 1.5.0,
  compiled with -fPIC by ``make`` in that tree and linked into the module);
* system: ``PYBPFMAP_LIBBPF=system`` uses the distribution's libbpf, found
  through pkg-config; it must be 1.5 or newer (pybpfmap uses its 1.5 API:
  ring_buffer__consume_n, BTF load logs, pin/get options ...).

The cdefs come from ``pybpfmap/_cdefs/*.h`` in a fixed order.
"""
import os
import re
import shlex
import subprocess
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
CDEFS = ("types.h", "bpf.h", "btf.h", "libbpf.h", "pybpfmap.h", "fastpath.h")
CSOURCES = ("helpers.c", "fastpath.c")
LIBBPF_SRC = os.path.join(HERE, "libbpf", "src")
BUILD_DIR = os.path.join(HERE, "build", "libbpf")
MIN_SYSTEM_LIBBPF = (1, 5)


def package_version():
    with open(os.path.join(HERE, "pybpfmap", "_version.py")) as f:
        return re.search(r'__version__ = "([^"]+)"', f.read()).group(1)


def _pkg_config(*args):
    out = subprocess.run(["pkg-config", *args, "libbpf"], check=True,
                         capture_output=True, text=True).stdout
    return shlex.split(out)


def system_libbpf():
    """Compiler and linker flags for the system libbpf, found by pkg-config."""
    try:
        version = _pkg_config("--modversion")[0]
    except (OSError, subprocess.CalledProcessError):
        sys.exit("PYBPFMAP_LIBBPF=system, but pkg-config cannot find libbpf "
                 "(apt-get install libbpf-dev pkg-config)")
    if tuple(int(p) for p in version.split(".")[:2]) < MIN_SYSTEM_LIBBPF:
        sys.exit(f"PYBPFMAP_LIBBPF=system needs libbpf >= "
                 f"{'.'.join(map(str, MIN_SYSTEM_LIBBPF))}, this system has {version}; "
                 f"build with the vendored libbpf instead (unset PYBPFMAP_LIBBPF)")
    cflags = _pkg_config("--cflags")
    libs = _pkg_config("--libs")
    return dict(
        include_dirs=[f[2:] for f in cflags if f.startswith("-I")],
        library_dirs=[f[2:] for f in libs if f.startswith("-L")],
        libraries=[f[2:] for f in libs if f.startswith("-l")] + ["elf", "z"],
        extra_objects=[],
        origin=f"system {version}",
    )


def vendored_libbpf():
    """Build libbpf/ into a static, position-independent archive."""
    if not os.path.exists(os.path.join(LIBBPF_SRC, "libbpf.c")):
        sys.exit("libbpf/ is empty: run `make deps` (or scripts/fetch-libbpf.sh) "
                 "to populate the vendored libbpf, or set PYBPFMAP_LIBBPF=system")
    objdir = os.path.join(BUILD_DIR, "obj")
    incdir = os.path.join(BUILD_DIR, "include")
    make = ["make", "-C", LIBBPF_SRC, "-j", str(os.cpu_count() or 1),
            "BUILD_STATIC_ONLY=1", f"OBJDIR={objdir}", f"DESTDIR={BUILD_DIR}",
            "INCLUDEDIR=/include", "LIBDIR=/lib", "UAPIDIR=/include",
            "EXTRA_CFLAGS=-fPIC -O2 -g"]
    subprocess.run(make + ["install_headers", "install_uapi_headers",
                           os.path.join(objdir, "libbpf.a")],
                   check=True, stdout=subprocess.DEVNULL)
    version = {}
    with open(os.path.join(LIBBPF_SRC, "libbpf_version.h")) as f:
        for name, value in re.findall(r"#define LIBBPF_(MAJOR|MINOR)_VERSION (\d+)", f.read()):
            version[name] = value
    return dict(
        include_dirs=[incdir],
        library_dirs=[],
        libraries=["elf", "z"],
        extra_objects=[os.path.join(objdir, "libbpf.a")],
        origin=f"vendored {version['MAJOR']}.{version['MINOR']}",
    )


def make_ffibuilder():
    lib = system_libbpf() if os.environ.get("PYBPFMAP_LIBBPF") == "system" else vendored_libbpf()
    ffi = FFI()
    for name in CDEFS:
        with open(os.path.join(HERE, "pybpfmap", "_cdefs", name)) as f:
            ffi.cdef(f.read())
    helpers = ""
    for name in CSOURCES:
        with open(os.path.join(HERE, "pybpfmap", "_csrc", name)) as f:
            helpers += f"\n/* ---- {name} ---- */\n" + f.read()
    source = "\n".join([
        "#include <bpf/bpf.h>",
        "#include <bpf/btf.h>",
        "#include <bpf/libbpf.h>",
        f'const char pybpfmap_build_version[] = "{package_version()}";',
        f'const char pybpfmap_libbpf_origin[] = "{lib["origin"]}";',
        helpers,
    ])
    ffi.set_source("pybpfmap._libbpf", source,
                   include_dirs=lib["include_dirs"],
                   library_dirs=lib["library_dirs"],
                   libraries=lib["libraries"],
                   extra_objects=lib["extra_objects"],
                   extra_compile_args=["-O2", "-Wno-unused-function"])
    return ffi


ffibuilder = make_ffibuilder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
