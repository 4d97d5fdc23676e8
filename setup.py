from setuptools import find_namespace_packages, setup

setup(
    # namespace discovery also takes the data folders (_cdefs, _csrc, bpf)
    packages=find_namespace_packages(include=["pybpfmap", "pybpfmap.*"]),
    package_data={"pybpfmap._cdefs": ["*.h"], "pybpfmap._csrc": ["*.c"],
                  "pybpfmap.bpf": ["*.c"]},
    cffi_modules=["build_ffi.py:ffibuilder"],
)
