"""C declarations as BTF types: ``"struct flow { __u32 saddr; ... }"``.

:func:`parse_type` parses one or more C declarations with pycparser (which
ships with cffi) and lays the last one out exactly as clang does for the BPF
target (the x86-64 SysV rules: natural alignment, tail padding, bitfields
packed into storage units of their declared type, ``:0`` forcing
alignment).  ``__attribute__((packed))`` and ``__attribute__((aligned(N)))``
(also spelled ``__packed`` / ``__aligned(N)``) are honoured on structs,
unions and members, ``packed`` on enums too; other attributes are ignored.
"""
import re

from pycparser import c_ast, c_parser

from . import types as T
from .parse import BASE_TYPES, base_type

__all__ = ["parse_type"]

_KEYWORDS = {"char", "short", "int", "long", "float", "double", "signed", "unsigned",
             "_Bool", "void", "__int128"}
_ATTR_TYPE = "__pybpfmap_attr"
_MARK = "__pybpfmap_"
_PREAMBLE_NAMES = sorted(n for n in BASE_TYPES if " " not in n and n not in _KEYWORDS)
_PREAMBLE_SET = frozenset(_PREAMBLE_NAMES + [_ATTR_TYPE])
_IDENT_RE = re.compile(r"[A-Za-z_]\w*")


def _preamble(src):
    """Typedefs (on one line) for the known type names ``src`` uses."""
    used = sorted(_PREAMBLE_SET.intersection(_IDENT_RE.findall(src)))
    return "".join(f"typedef int {n};" for n in used) + "\n", len(used)


def _error(text, msg):
    return ValueError(f"bad C declaration {text!r}: {msg}")


# -- pre-processing: comments, __int128 spellings, attributes ----------------------

_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_TOKEN_RE = re.compile(r"\s+|[A-Za-z_]\w*|\d[\w.]*|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|"
                       r"->|<<|>>|[<>=!]=|&&|\|\||.", re.S)


def _tokens(s):
    """(text, start, end) tokens; an __attribute__((...)) is one token."""
    out = []
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        tok = m.group()
        if tok in ("__attribute__", "__attribute"):
            j = m.end()
            while j < len(s) and s[j].isspace():
                j += 1
            if j >= len(s) or s[j] != "(":
                raise ValueError("__attribute__ without (( ))")
            depth = 0
            k = j
            while k < len(s):
                if s[k] == "(":
                    depth += 1
                elif s[k] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            if depth:
                raise ValueError("unbalanced parentheses in __attribute__")
            out.append(("ATTR", pos, k + 1, s[j + 1:k]))
            pos = k + 1
            continue
        if not tok.isspace():
            out.append((tok, pos, m.end(), None))
        pos = m.end()
    return out


def _split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _attributes(content):
    """The packed/aligned attributes in the inside of __attribute__((...))."""
    inner = content.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    found = []
    for item in _split_top(inner):
        m = re.match(r"^(\w+)\s*(?:\((.*)\))?$", item, re.S)
        if not m:
            continue
        name = m.group(1).strip("_")
        if name == "packed":
            found.append("packed")
        elif name == "aligned":
            arg = m.group(2)
            n = 8 if arg is None or not arg.strip() else _eval_text(arg)
            if n <= 0 or n & (n - 1):
                raise ValueError(f"aligned({arg}) is not a power of two")
            found.append(f"aligned_{n}")
    return found


def _eval_text(expr):
    node = c_parser.CParser().parse(f"int __x = {expr};").ext[0].init
    return _Converter("")._eval(node)


def _preprocess(text):
    s = _COMMENT_RE.sub(" ", text)
    s = re.sub(r"\b__packed\b", " __attribute__((packed)) ", s)
    s = re.sub(r"\b__aligned\s*\(((?:[^()]|\([^()]*\))*)\)", r" __attribute__((aligned(\1))) ", s)
    s = re.sub(r"\bunsigned\s+__int128\b|\b__int128\s+unsigned\b", "__uint128_t", s)
    s = re.sub(r"\bsigned\s+__int128\b|\b__int128\s+signed\b", "__int128", s)
    toks = _tokens(s)
    if not any(t[0] == "ATTR" for t in toks):
        return s
    real = [i for i, t in enumerate(toks) if t[0] != "ATTR"]
    # Braces: which body each token is in, and what kind of body each '{' opens.
    enclosing, match, kind, stack = {}, {}, {}, []
    for pos, i in enumerate(real):
        tok = toks[i][0]
        enclosing[i] = stack[-1] if stack else None
        if tok == "{":
            p1 = toks[real[pos - 1]][0] if pos >= 1 else ""
            p2 = toks[real[pos - 2]][0] if pos >= 2 else ""
            if p1 in ("struct", "union") or (p2 in ("struct", "union") and p1 not in "{};"):
                kind[i] = "struct"
            elif p1 == "enum" or p2 == "enum":
                kind[i] = "enum"
            else:
                kind[i] = "other"
            stack.append(i)
        elif tok == "}":
            if not stack:
                raise ValueError("unbalanced braces")
            match[i] = stack.pop()
            match[match[i]] = i
    inserts = []  # (position, text)
    removes = []
    for i, tok in enumerate(toks):
        if tok[0] != "ATTR":
            continue
        removes.append((tok[1], tok[2]))
        attrs = _attributes(tok[3])
        if not attrs:
            continue
        before = [j for j in real if j < i]
        after = [j for j in real if j > i]
        p = before[-1] if before else None
        ptok = toks[p][0] if p is not None else ""
        body = None
        if ptok == "}" and kind.get(match[p]) in ("struct", "enum"):
            body = match[p]
        elif ptok in ("struct", "union", "enum") or (
                p is not None and len(before) >= 2
                and toks[before[-2]][0] in ("struct", "union", "enum")
                and re.match(r"[A-Za-z_]", ptok)):
            for j in after[:2]:
                if toks[j][0] == "{":
                    body = j
                    break
            if body is None:
                continue  # attributes on a bare reference: nothing to lay out
        if body is not None:
            if kind[body] == "enum":
                close = match[body]
                prev = [j for j in real if j < close][-1]
                sep = "" if toks[prev][0] in (",", "{") else ","
                for a in attrs:
                    if a == "packed":
                        inserts.append((toks[close][1], f"{sep} {_MARK}e_packed "))
                        sep = ","
            else:
                mark = " ".join(f"{_ATTR_TYPE} {_MARK}s_{a};" for a in attrs)
                inserts.append((toks[body][2], f" {mark} "))
            continue
        e = enclosing.get(p) if p is not None else None
        if p is not None and toks[p][0] == "{":
            e = p
        if e is None or kind.get(e) != "struct":
            raise ValueError("__attribute__ is supported on structs, unions, enums and "
                             "struct members only")
        start = e
        for j in before:
            if j > e and enclosing.get(j) == e and toks[j][0] == ";":
                start = j
        mark = " ".join(f"{_ATTR_TYPE} {_MARK}m_{a};" for a in attrs)
        inserts.append((toks[start][2], f" {mark} "))
    edits = [(a, b, "") for a, b in removes] + [(a, a, txt) for a, txt in inserts]
    # Apply from the end; at equal positions, insertions go after removals.
    for a, b, txt in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        s = s[:a] + txt + s[b:]
    return s


# -- AST to types ------------------------------------------------------------------

def _round_up(n, a):
    return (n + a - 1) // a * a


def _c_int(literal):
    s = literal.rstrip("uUlL")
    if s.lower().startswith(("0x", "0b")):
        return int(s, 0)
    if len(s) > 1 and s.startswith("0"):
        return int(s, 8)
    return int(s)


def _c_char(literal):
    body = literal[1:-1]
    if body.startswith("\\"):
        esc = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7,
               "b": 8, "f": 12, "v": 11}
        if body[1] in "xX":
            return int(body[2:], 16)
        if body[1:].isdigit():
            return int(body[1:], 8)
        if body[1] in esc and len(body) == 2:
            return esc[body[1]]
        raise ValueError(f"unsupported character constant {literal}")
    if len(body) != 1:
        raise ValueError(f"unsupported character constant {literal}")
    return ord(body)


def _cdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


_BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _cdiv, "%": lambda a, b: a - _cdiv(a, b) * b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "&&": lambda a, b: int(bool(a and b)), "||": lambda a, b: int(bool(a or b)),
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
}


class _Converter:
    def __init__(self, text):
        self.text = text
        self.tags = {}          # (kind, name) -> Struct/Union/Enum
        self.typedefs = {}      # user typedefs
        self.consts = {}        # enumerator constants
        self.incomplete = set()  # ids of declared-but-undefined structs/unions
        self.refs = []          # (node, attr) that may point at an incomplete struct

    def error(self, msg):
        return _error(self.text, msg)

    # constant expressions
    def _eval(self, node):
        if isinstance(node, c_ast.Constant):
            if node.type == "char":
                return _c_char(node.value)
            if node.type in ("int", "unsigned int", "long int", "unsigned long int",
                             "long long int", "unsigned long long int"):
                return _c_int(node.value)
            raise self.error(f"unsupported constant {node.value}")
        if isinstance(node, c_ast.ID):
            if node.name not in self.consts:
                raise self.error(f"unknown constant {node.name!r}")
            return self.consts[node.name]
        if isinstance(node, c_ast.UnaryOp):
            if node.op == "sizeof":
                if isinstance(node.expr, c_ast.Typename):
                    return self.convert(node.expr.type).size
                raise self.error("sizeof of an expression is not supported")
            v = self._eval(node.expr)
            ops = {"-": lambda a: -a, "+": lambda a: a, "~": lambda a: ~a,
                   "!": lambda a: int(not a)}
            if node.op not in ops:
                raise self.error(f"unsupported operator {node.op!r}")
            return ops[node.op](v)
        if isinstance(node, c_ast.BinaryOp):
            if node.op not in _BINOPS:
                raise self.error(f"unsupported operator {node.op!r}")
            a, b = self._eval(node.left), self._eval(node.right)
            if node.op in ("/", "%") and b == 0:
                raise self.error("division by zero in a constant")
            return _BINOPS[node.op](a, b)
        if isinstance(node, c_ast.TernaryOp):
            return self._eval(node.iftrue) if self._eval(node.cond) else \
                self._eval(node.iffalse)
        if isinstance(node, c_ast.Cast):
            return self._eval(node.expr)
        raise self.error(f"unsupported constant expression ({type(node).__name__})")

    # types
    def _ref(self, node, attr, target):
        setattr(node, attr, target)
        if id(T.resolve(target)) in self.incomplete:
            self.refs.append((node, attr))
        return node

    def _quals(self, t, quals):
        for q in quals or ():
            if q == "const":
                t = self._ref(T.Const(None), "type", t)
            elif q == "volatile":
                t = self._ref(T.Volatile(None), "type", t)
            elif q == "restrict":
                t = self._ref(T.Restrict(None), "type", t)
        return t

    def _base(self, names):
        if len(names) == 1:
            n = names[0]
            if n in self.typedefs:
                return self.typedefs[n]
            if n == "void":
                return T.VOID
            t = base_type(n)
            if t is not None and n != _ATTR_TYPE:
                return t
        words = list(names)
        unsigned = "unsigned" in words
        signed = "signed" in words
        longs = words.count("long")
        rest = {w for w in words if w not in ("unsigned", "signed", "long", "int")}
        if unsigned and signed:
            raise self.error("both signed and unsigned")
        if rest == {"double"} and longs:
            raise self.error("long double is not supported")
        if len(rest) > 1 or longs > 2:
            raise self.error(f"unknown type {' '.join(names)!r}")
        if rest:
            (word,) = rest
            if word in ("float", "double", "_Bool", "void"):
                if unsigned or signed or longs or "int" in words:
                    raise self.error(f"bad type {' '.join(names)!r}")
                return T.VOID if word == "void" else base_type(word)
            if word == "char":
                return base_type("unsigned char" if unsigned else
                                 "signed char" if signed else "char")
            if word == "__int128":
                return base_type("unsigned __int128" if unsigned else "__int128")
            if word == "short":
                return base_type("unsigned short" if unsigned else "short")
            raise self.error(f"unknown type {' '.join(names)!r}")
        prefix = "unsigned " if unsigned else ""
        if longs == 2:
            return base_type(prefix + "long long")
        if longs == 1:
            return base_type(prefix + "long")
        return base_type(prefix + "int")

    def convert(self, node):
        """The type of a declarator node (TypeDecl, PtrDecl, ArrayDecl, ...)."""
        if isinstance(node, c_ast.Typename):
            return self.convert(node.type)
        if isinstance(node, c_ast.TypeDecl):
            inner = node.type
            if isinstance(inner, c_ast.IdentifierType):
                t = self._base(inner.names)
            elif isinstance(inner, (c_ast.Struct, c_ast.Union)):
                t = self.record(inner)
            elif isinstance(inner, c_ast.Enum):
                t = self.enum(inner)
            else:
                raise self.error(f"unsupported type {type(inner).__name__}")
            return self._quals(t, node.quals)
        if isinstance(node, c_ast.PtrDecl):
            target = self.convert(node.type)
            return self._quals(self._ref(T.Ptr(None), "target", target), node.quals)
        if isinstance(node, c_ast.ArrayDecl):
            elem = self.convert(node.type)
            self._complete(elem, "array element")
            if node.dim is None:
                n = 0
            else:
                n = self._eval(node.dim)
                if n < 0:
                    raise self.error(f"negative array size {n}")
            return T.Array(elem, n)
        if isinstance(node, c_ast.FuncDecl):
            ret = self.convert(node.type)
            params = []
            for p in (node.args.params if node.args else ()):
                if isinstance(p, c_ast.EllipsisParam):
                    params.append(T.Param("", T.VOID))
                    continue
                pt = self.convert(p.type)
                if isinstance(pt, T.Void):
                    continue  # (void)
                params.append(T.Param(p.name or "", pt))
            return T.FuncProto(ret, params)
        raise self.error(f"unsupported declarator {type(node).__name__}")

    def _complete(self, t, what):
        r = T.resolve(t)
        if id(r) in self.incomplete:
            raise self.error(f"{what} has incomplete type {T.c_name(r)}")
        if isinstance(r, (T.Void, T.FuncProto, T.Fwd)):
            raise self.error(f"{what} cannot have type {T.c_name(r)}")

    def record(self, node):
        kind = "union" if isinstance(node, c_ast.Union) else "struct"
        cls = T.Union if kind == "union" else T.Struct
        name = node.name or ""
        key = ("record", name)
        existing = self.tags.get(key) if name else None
        if existing is not None and existing.kind != kind:
            raise self.error(f"{name!r} is declared as {existing.kind} and {kind}")
        if node.decls is None:  # a reference: `struct foo`
            if existing is None:
                existing = cls(name, 0)
                self.tags[key] = existing
                self.incomplete.add(id(existing))
            return existing
        if existing is not None and id(existing) not in self.incomplete:
            raise self.error(f"redefinition of {kind} {name}")
        rec = existing if existing is not None else cls(name, 0)
        if name:
            self.tags[key] = rec
        self.incomplete.add(id(rec))  # until its members are known
        self._layout(rec, node.decls, kind == "union")
        self.incomplete.discard(id(rec))
        return rec

    def _layout(self, rec, decls, is_union):
        packed = False
        struct_align = 0
        pending = []   # member attributes waiting for the next member
        specs = []     # (name, type, bits or None, align attr, packed member)
        for d in decls:
            mark = self._marker(d)
            if mark is not None:
                scope, attr = mark
                if scope == "s":
                    if attr == "packed":
                        packed = True
                    else:
                        struct_align = max(struct_align, int(attr.split("_")[1]))
                else:
                    pending.append(attr)
                continue
            if not isinstance(d, c_ast.Decl):
                raise self.error(f"unexpected {type(d).__name__} in {T.c_name(rec)}")
            if d.name is None and isinstance(d.type, (c_ast.Struct, c_ast.Union)):
                t = self.record(d.type)
                if d.type.name:
                    pending = []
                    continue  # a nested tag declaration declares no member
                name = ""
            elif d.name is None and isinstance(d.type, c_ast.Enum):
                self.enum(d.type)
                pending = []
                continue
            else:
                t = self.convert(d.type)
                name = d.name or ""
            align_attr = 0
            mpacked = False
            for a in pending:
                if a == "packed":
                    mpacked = True
                else:
                    align_attr = max(align_attr, int(a.split("_")[1]))
            pending = []
            for al in d.align or ():
                align_attr = max(align_attr, self._eval(al.alignment))
            bits = None
            if d.bitsize is not None:
                bits = self._eval(d.bitsize)
                r = T.resolve(t)
                if not isinstance(r, (T.Int, T.Enum)):
                    raise self.error(f"bitfield {name or '<unnamed>'} has non-integer type "
                                     f"{T.c_name(t)}")
                if bits < 0 or bits > r.size * 8:
                    raise self.error(f"bitfield {name or '<unnamed>'} has width {bits}, "
                                     f"more than its type's {r.size * 8} bits"
                                     if bits > 0 else f"negative bitfield width {bits}")
                if bits == 0 and name:
                    raise self.error(f"named bitfield {name} has zero width")
            elif not name and not isinstance(T.resolve(t), T.Struct):
                raise self.error("a member needs a name")
            self._complete(t, f"member {name or '<anonymous>'} of {T.c_name(rec)}")
            specs.append((name, t, bits, align_attr, mpacked))
        names = [s[0] for s in specs if s[0]]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise self.error(f"duplicate member {dup[0]!r} in {T.c_name(rec)}")
        for i, (name, t, bits, _, _) in enumerate(specs):
            r = T.resolve(t)
            if isinstance(r, T.Array) and r.nelems == 0 and bits is None \
                    and i != len(specs) - 1 and not is_union:
                raise self.error(f"flexible array member {name} is not last")
        members, size, align = _lay_out(specs, packed, struct_align, is_union)
        rec.members = members
        rec._size = size
        rec.align = align

    def _marker(self, d):
        if isinstance(d, c_ast.Decl) and d.name and d.name.startswith(_MARK) \
                and isinstance(d.type, c_ast.TypeDecl) \
                and isinstance(d.type.type, c_ast.IdentifierType) \
                and d.type.type.names == [_ATTR_TYPE]:
            scope, _, attr = d.name[len(_MARK):].partition("_")
            return scope, attr
        return None

    def enum(self, node):
        name = node.name or ""
        key = ("enum", name)
        if node.values is None:
            existing = self.tags.get(key) if name else None
            if existing is None:
                raise self.error(f"enum {name} is not defined")
            return existing
        if name and key in self.tags:
            raise self.error(f"redefinition of enum {name}")
        values = {}
        packed = False
        nxt = 0
        for e in node.values.enumerators:
            if e.name == f"{_MARK}e_packed":
                packed = True
                continue
            v = self._eval(e.value) if e.value is not None else nxt
            if e.name in values or e.name in self.consts:
                raise self.error(f"duplicate enumerator {e.name}")
            values[e.name] = v
            self.consts[e.name] = v
            nxt = v + 1
        if not values:
            raise self.error(f"enum {name or '<anonymous>'} has no values")
        lo, hi = min(values.values()), max(values.values())
        signed = lo < 0
        size = None
        for n in ((1, 2, 4, 8) if packed else (4, 8)):
            bits = n * 8
            if signed and -(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1)):
                size = n
            elif not signed and hi < (1 << bits):
                size = n
            if size:
                break
        if size is None:
            raise self.error(f"enum {name or '<anonymous>'} values do not fit in 64 bits")
        t = T.Enum(name, size, values, signed=signed)
        if name:
            self.tags[key] = t
        return t

    def declaration(self, node):
        """The type a top-level declaration declares."""
        if isinstance(node, c_ast.Typedef):
            t = T.Typedef(node.name, None)
            self._ref(t, "type", self.convert(node.type))
            self.typedefs[node.name] = t
            return t
        if isinstance(node, c_ast.Decl):
            if node.name is None:
                if isinstance(node.type, (c_ast.Struct, c_ast.Union)):
                    return self.record(node.type)
                if isinstance(node.type, c_ast.Enum):
                    return self.enum(node.type)
            return self.convert(node.type)
        raise self.error(f"unsupported top-level {type(node).__name__}")

    def finish(self):
        """Pointers (and typedefs) to structs never defined point at a Fwd instead."""
        fwds = {}
        for node, attr in self.refs:
            target = getattr(node, attr)
            r = T.resolve(target)
            if id(r) in self.incomplete and target is r:
                fwd = fwds.get(id(r))
                if fwd is None:
                    fwd = fwds[id(r)] = T.Fwd(r.name, union=isinstance(r, T.Union))
                setattr(node, attr, fwd)


def _lay_out(specs, packed, struct_align, is_union):
    """Members, size and alignment of a struct/union, as clang lays it out."""
    members = []
    off = 0        # bits, next free position (structs)
    extent = 0     # bits, the largest member (unions)
    align = 1
    for name, t, bits, align_attr, mpacked in specs:
        natural = T.alignof(t)
        is_packed = packed or mpacked
        if bits is not None:
            if bits == 0:
                # ":0" moves to the next unit of its type even in a packed
                # struct (clang), without raising the struct's alignment
                if not is_union:
                    off = _round_up(off, natural * 8)
                continue
            if is_union:
                pos = 0
                extent = max(extent, bits)
            else:
                if align_attr:
                    off = _round_up(off, align_attr * 8)
                if not is_packed:
                    unit = natural * 8
                    if off // unit != (off + bits - 1) // unit:
                        off = _round_up(off, unit)
                pos = off
                off += bits
            if name:
                members.append(T.Member(name, t, pos, bits))
                align = max(align, 1 if is_packed else natural, align_attr or 1)
            continue
        a = 1 if is_packed else natural
        if align_attr:
            a = max(a, align_attr)
        size_bits = t.size * 8
        if is_union:
            pos = 0
            extent = max(extent, size_bits)
        else:
            off = _round_up(off, a * 8)
            pos = off
            off += size_bits
        members.append(T.Member(name, t, pos, 0))
        align = max(align, a)
    if struct_align:
        align = max(align, struct_align)
    used = extent if is_union else off
    size = _round_up((used + 7) // 8, align)
    return members, size, align


_LINE_RE = re.compile(r":(\d+):(\d+):")


def parse_type(text):
    """Parse C declarations; return the type of the last one.

    ``text`` may hold several declarations (``"struct a { int x; }; struct b
    { struct a inner; }"``), later ones referring to earlier tags and
    typedefs.  Raises ``ValueError`` for text that is not a declaration this
    module can lay out.
    """
    if not isinstance(text, str):
        raise TypeError(f"a C declaration is a str, not {type(text).__name__}")
    try:
        src = _preprocess(text)
    except ValueError as exc:
        raise _error(text, str(exc)) from None
    src = src.strip()
    if not src:
        raise _error(text, "empty declaration")
    if not src.endswith(";"):
        src += ";"
    preamble, skip = _preamble(src)
    try:
        ast = c_parser.CParser().parse(preamble + src, filename="<decl>")
    except c_parser.ParseError as exc:
        msg = _LINE_RE.sub(lambda m: f":{int(m.group(1)) - 1}:{m.group(2)}:", str(exc))
        raise _error(text, f"cannot parse it ({msg})") from None
    decls = ast.ext[skip:]
    if not decls:
        raise _error(text, "no declaration")
    conv = _Converter(text)
    t = None
    try:
        for node in decls:
            t = conv.declaration(node)
    except RecursionError:
        raise _error(text, "nested too deeply") from None
    if id(T.resolve(t)) in conv.incomplete:
        raise _error(text, f"{T.c_name(T.resolve(t))} is declared but never defined")
    conv.finish()
    return t
