from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["pybpfmap", "pybpfmap.*"]),
    package_data={"pybpfmap": ["_cdefs/*.h", "_csrc/*.c", "bpf/*.c"]},
    cffi_modules=["build_ffi.py:ffibuilder"],
)
