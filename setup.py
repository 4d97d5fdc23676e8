import os
import shutil
import subprocess

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class build_py_with_bpf(build_py):
    """Also compile the bundled BPF programs (pybpfmap/bpf/*.c) with clang,
    into the package (next to the sources for editable installs).  Without
    clang the build goes on, and pybpfmap compiles them on first use."""

    def run(self):
        super().run()
        clang = shutil.which("clang")
        if not clang:
            print("clang not found: bundled BPF programs will be compiled on first use")
            return
        src_dir = os.path.join(HERE, "pybpfmap", "bpf")
        out_dir = src_dir if getattr(self, "editable_mode", False) else \
            os.path.join(self.build_lib, "pybpfmap", "bpf")
        os.makedirs(out_dir, exist_ok=True)
        arch = os.uname().machine
        for name in sorted(os.listdir(src_dir)):
            if not name.endswith(".c"):
                continue
            out = os.path.join(out_dir, name[:-2] + ".bpf.o")
            cmd = [clang, "-g", "-O2", "-target", "bpf", f"-I/usr/include/{arch}-linux-gnu",
                   f"-I{os.path.join(HERE, 'build', 'libbpf', 'include')}",
                   "-c", os.path.join(src_dir, name), "-o", out]
            if subprocess.run(cmd).returncode != 0:
                print(f"warning: clang failed on {name}; it will be compiled on first use")


setup(
    # namespace discovery also takes the data folders (_cdefs, _csrc, bpf)
    packages=find_namespace_packages(include=["pybpfmap", "pybpfmap.*"]),
    package_data={"pybpfmap._cdefs": ["*.h"], "pybpfmap._csrc": ["*.c"],
                  "pybpfmap.bpf": ["*.c", "*.bpf.o"]},
    cffi_modules=["build_ffi.py:ffibuilder"],
    cmdclass={"build_py": build_py_with_bpf},
)
