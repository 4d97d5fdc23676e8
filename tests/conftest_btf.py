"""Helpers shared by the BTF tests: random C struct declarations, clang, layout compare."""
import os
import shutil
import subprocess

from conftest import need
from hypothesis import strategies as st

from pybpfmap.btf import types as T

CLANG = shutil.which("clang")
BPFTOOL = "/usr/sbin/bpftool" if os.path.exists("/usr/sbin/bpftool") else shutil.which("bpftool")
INCLUDE = "/usr/include/x86_64-linux-gnu"

INTS = [("char", 8), ("unsigned char", 8), ("signed char", 8), ("short", 16),
        ("unsigned short", 16), ("int", 32), ("unsigned int", 32), ("long", 64),
        ("unsigned long", 64), ("long long", 64), ("unsigned long long", 64),
        ("__u8", 8), ("__u16", 16), ("__u32", 32), ("__u64", 64), ("__s8", 8),
        ("__s16", 16), ("__s32", 32), ("__s64", 64)]
SCALARS = [n for n, _ in INTS] + ["_Bool", "__int128", "unsigned __int128"]
FLOATS = ["float", "double"]


def clang_or_skip():
    need(CLANG is not None, "clang is not installed")
    return CLANG


def compile_btf(decls, workdir, name="t"):
    """Compile ``decls`` plus a global ``struct t v;`` with clang; return the .o path."""
    src = os.path.join(workdir, f"{name}.c")
    obj = os.path.join(workdir, f"{name}.o")
    with open(src, "w") as f:
        f.write("#include <linux/types.h>\n" + decls + ";\nstruct t v;\n")
    res = subprocess.run([clang_or_skip(), "-g", "-O2", "-target", "bpf", f"-I{INCLUDE}",
                          "-c", src, "-o", obj], capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f"clang rejected the declaration:\n{decls}\n{res.stderr}")
    return obj


def layout(t, depth=0):
    """A comparable description of the layout of ``t`` (sizes and bit offsets)."""
    r = T.resolve(t)
    if isinstance(r, T.Struct):
        return (r.kind, r.size, tuple((m.name, m.bit_offset, m.bitfield_size,
                                       layout(m.type, depth + 1)) for m in r.members))
    if isinstance(r, T.Array):
        return ("array", r.nelems, layout(r.elem, depth + 1))
    if isinstance(r, T.Ptr):
        return ("ptr", 8)
    if isinstance(r, T.Enum):
        return ("enum", r.size)
    return (r.kind, r.size)


_UNNAMED = "/*pad*/ "


@st.composite
def struct_decls(draw, floats=True, max_fields=8, packed=True):
    """C text declaring helper types and, last, ``struct t``; returns the text."""
    aux = []
    counter = [0]

    def fresh(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    scalars = SCALARS + (FLOATS if floats else [])

    def fields(depth, n_max):
        out = []
        n = draw(st.integers(1, n_max))
        for _ in range(n):
            kind = draw(st.sampled_from(
                ["scalar", "scalar", "array", "bitfield", "bitfield", "bitfield", "unnamed",
                 "enum", "ptr"] + (["nested", "anon", "union"] if depth < 2 else [])))
            name = fresh("f")
            attr = ""
            if draw(st.integers(0, 9)) == 0 and kind not in ("bitfield", "unnamed"):
                attr = f" __attribute__((aligned({draw(st.sampled_from([1, 2, 4, 8, 16]))})))"
            if kind == "scalar":
                out.append(f"{draw(st.sampled_from(scalars))} {name}{attr};")
            elif kind == "array":
                dims = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
                base = draw(st.sampled_from(scalars + ["char"] * 3))
                out.append(f"{base} {name}{''.join(f'[{d}]' for d in dims)}{attr};")
            elif kind in ("bitfield", "unnamed"):
                tname, bits = draw(st.sampled_from(INTS + [("_Bool", 1)]))
                lo = 0 if kind == "unnamed" else 1
                width = draw(st.integers(lo, bits))
                if kind == "unnamed":
                    out.append(f"{_UNNAMED}{tname} : {width};")
                else:
                    out.append(f"{tname} {name} : {width};")
            elif kind == "enum":
                ename = fresh("e")
                vals = draw(st.lists(st.integers(-5, 300), min_size=1, max_size=4, unique=True))
                body = ", ".join(f"{ename}_{i} = {v}" for i, v in enumerate(vals))
                aux.append(f"enum {ename} {{ {body} }};")
                if draw(st.booleans()):
                    out.append(f"enum {ename} {name} : {draw(st.integers(10, 32))};")
                else:
                    out.append(f"enum {ename} {name};")
            elif kind == "ptr":
                out.append(f"void *{name};")
            elif kind == "nested":
                sname = fresh("s")
                body = " ".join(fields(depth + 1, 4))
                aux.append(f"struct {sname} {{ {body} }};")
                out.append(f"struct {sname} {name}{attr};")
            elif kind == "anon":
                which = draw(st.sampled_from(["struct", "union"]))
                body = " ".join(fields(depth + 1, 3))
                out.append(f"{which} {{ {body} }};")
            else:  # a named union member
                body = " ".join(fields(depth + 1, 3))
                out.append(f"union {{ {body} }} {name};")
        if all(f.startswith(_UNNAMED) for f in out):
            out.append(f"int {fresh('f')};")  # at least one named member
        return out

    body = " ".join(fields(0, max_fields))
    tail = ""
    if packed and draw(st.integers(0, 5)) == 0:
        tail = " __attribute__((packed))"
    return "\n".join(aux + [f"struct t {{ {body} }}{tail}"])
