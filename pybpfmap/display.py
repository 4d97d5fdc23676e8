"""How maps look in Jupyter, IPython and the terminal.

``Map._repr_html_`` and ``Map._repr_pretty_`` come here: an info header
(name, id, type, key/value types, entries, flags) and a table of the first
rows, one column per struct field (nested fields dotted), per-CPU values
summed with the per-CPU values one click away, ``char`` arrays as text when
they are printable.  :func:`table` gives the same rows as plain data for the
command line, :func:`jsonable` turns decoded values into JSON-ready ones.
"""
import enum
import html
import ipaddress
import itertools
import numbers

from .btf.codec import PerCpuCodec
from .btf.records import Record

__all__ = ["max_rows", "info_lines", "table", "render_text", "render_html", "cell_text",
           "jsonable"]

#: rows shown by ``_repr_html_``/``_repr_pretty_`` (and ``pybpfmap show``)
max_rows = 20
#: array elements shown in one cell before ``…``
max_elements = 16


# -- one value as text -----------------------------------------------------------------

def _bytes_text(b):
    """``b`` as text when it is printable UTF-8, else as ``0x`` and hex digits."""
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        s = None
    if s is not None and s.isprintable():
        return s
    return "0x" + b.hex()


def cell_text(v):
    """A short human-readable text for one decoded value."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, (bytes, bytearray)):
        return _bytes_text(bytes(v))
    if isinstance(v, Record):
        inner = ", ".join(f"{n}={cell_text(x)}" for n, x in zip(v._fields, v))
        return f"{type(v).__name__}({inner})"
    if isinstance(v, tuple):
        shown = [cell_text(x) for x in v[:max_elements]]
        if len(v) > max_elements:
            shown.append(f"… {len(v) - max_elements} more")
        return "(" + ", ".join(shown) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, float):
        return repr(v)
    if hasattr(v, "id") and hasattr(v, "fd") and hasattr(v, "max_entries"):  # a Map value
        return f"map id {v.id}"
    return str(v)


def jsonable(v):
    """``v`` as JSON-ready data: records as objects, arrays as lists, enums by
    name, bytes as text when printable (else hex), addresses as strings."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, (int, float, str)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return _bytes_text(bytes(v))
    if isinstance(v, Record):
        return {n: jsonable(x) for n, x in zip(v._fields, v)}
    if isinstance(v, (tuple, list)):
        return [jsonable(x) for x in v]
    if isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network, ipaddress.IPv4Address,
                      ipaddress.IPv6Address)):
        return str(v)
    if hasattr(v, "id") and hasattr(v, "max_entries"):
        return {"map_id": v.id}
    return str(v)


# -- rows -----------------------------------------------------------------------------

def _flatten(value, name, out):
    """Append ``(column, leaf value)`` for ``value``: records become one column
    per field, dotted when nested."""
    if isinstance(value, Record):
        for field, v in zip(value._fields, value):
            _flatten(v, f"{name}.{field}" if name else field, out)
    else:
        out.append((name, value))


class PerCpu:
    """One cell of per-CPU values: shown as their sum, expandable."""

    def __init__(self, values):
        self.values = list(values)

    @property
    def summary(self):
        vals = self.values
        if all(isinstance(v, numbers.Number) and not isinstance(v, (bool, enum.Enum))
               for v in vals):
            return sum(vals)
        if all(v == vals[0] for v in vals):
            return vals[0]
        return None

    def text(self):
        s = self.summary
        if s is not None:
            return cell_text(s)
        return "[" + ", ".join(cell_text(v) for v in self.values) + "]"

    def __repr__(self):
        return f"PerCpu({self.values!r})"


def _percpu_columns(cpu_values):
    """Columns of a per-CPU value: each leaf column gathers its CPUs' values."""
    per_cpu = []
    for v in cpu_values:
        cols = []
        _flatten(v, "", cols)
        per_cpu.append(cols)
    if not per_cpu:
        return []
    return [(name, PerCpu(cols[i][1] for cols in per_cpu))
            for i, (name, _) in enumerate(per_cpu[0])]


def _is_array(m):
    from .maps.array import ArrayMap
    return isinstance(m, ArrayMap)


def table(m, limit=max_rows):
    """The first ``limit`` entries of ``m`` (all with ``None``) as
    ``(columns, rows, nkeys)``: ``rows`` are lists of leaf values (or
    :class:`PerCpu`) in column order, the first ``nkeys`` columns are the
    key's.  Raises what iterating the map raises."""
    percpu = isinstance(m._vc, PerCpuCodec)
    items = m.items()
    if limit is not None:
        items = itertools.islice(items, limit)
    keyname = "index" if _is_array(m) else "key"
    kcols_all, vcols_all = [], []
    for k, v in items:
        kc = []
        _flatten(k, "", kc)
        if len(kc) == 1 and kc[0][0] == "":
            kc = [(keyname, kc[0][1])]
        if percpu:
            vc = _percpu_columns(v)
        else:
            vc = []
            _flatten(v, "", vc)
        if len(vc) == 1 and vc[0][0] == "":
            vc = [("value", vc[0][1])]
        kcols_all.append(kc)
        vcols_all.append(vc)
    knames = list(dict.fromkeys(n for kc in kcols_all for n, _ in kc))
    vnames = list(dict.fromkeys(n for vc in vcols_all for n, _ in vc))
    rename_k, rename_v = {}, {}
    if set(knames) & set(vnames):
        rename_k = {n: n if n in ("key", "index") else f"key.{n}" for n in knames}
        rename_v = {n: n if n == "value" else f"value.{n}" for n in vnames}
    columns = [rename_k.get(n, n) for n in knames] + [rename_v.get(n, n) for n in vnames]
    rows = []
    for kc, vc in zip(kcols_all, vcols_all):
        kd, vd = dict(kc), dict(vc)
        rows.append([kd.get(n, "") for n in knames] + [vd.get(n, "") for n in vnames])
    if limit is None or len(rows) < limit:  # every entry: show them in key order
        try:
            rows.sort(key=lambda r: r[:len(knames)])
        except TypeError:
            pass
    return columns, rows, len(knames)


def _type_text(t, size):
    from .btf import types as T
    return T.c_name(t) if t is not None else f"{size} bytes"


def _count(m):
    """``len(m)``, or ``None`` for maps that cannot tell."""
    try:
        return len(m)
    except Exception:  # noqa: BLE001 - queues, ring buffers ... have no length
        return None


def info_lines(m):
    """``[(label, text)]`` describing map ``m`` (the header of every view)."""
    info = m._info
    tname = getattr(info.type, "name", str(info.type))
    flags = info.flags
    flag_text = (" | ".join(f.name for f in type(flags) if f.value and f in flags and f.name)
                 if int(flags) else "0") if hasattr(flags, "__iter__") else str(int(flags))
    count = _count(m)
    entries = f"{count} / {info.max_entries}" if count is not None else f"? / {info.max_entries}"
    return [("name", info.name or "(unnamed)"), ("id", str(info.id)), ("type", tname),
            ("key", _type_text(m.key_type, info.key_size)),
            ("value", _type_text(m.value_type, info.value_size)),
            ("entries", entries), ("flags", flag_text or "0")]


def _rows_or_reason(m, limit):
    try:
        return table(m, limit), None
    except Exception as exc:  # noqa: BLE001 - show the map even if it cannot be listed
        return None, f"{type(exc).__name__}: {exc}"


# -- text -----------------------------------------------------------------------------

def _text_cell(v):
    return v.text() if isinstance(v, PerCpu) else cell_text(v)


def _numeric(v):
    if isinstance(v, PerCpu):
        v = v.summary
    return isinstance(v, numbers.Number) and not isinstance(v, (bool, enum.Enum))


def format_table(columns, rows):
    """Rows as aligned text lines (numbers right-aligned)."""
    cells = [[_text_cell(v) for v in row] for row in rows]
    numeric = [all(_numeric(row[i]) for row in rows) if rows else False
               for i in range(len(columns))]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join((v.rjust(w) if num else v.ljust(w))
                         for v, w, num in zip(values, widths, numeric)).rstrip()
    out = [line(columns)]
    out.extend(line(r) for r in cells)
    return out


def render_text(m, limit=max_rows):
    """A plain-text view: one header line, then the first ``limit`` rows."""
    if m.closed:
        return repr(m)
    head = "  ".join(f"{label}: {value}" for label, value in info_lines(m))
    lines = [f"{type(m).__name__}  {head}"]
    result, reason = _rows_or_reason(m, limit)
    if reason is not None:
        lines.append(f"(entries cannot be listed: {reason})")
        return "\n".join(lines)
    columns, rows, _ = result
    if not rows:
        lines.append("(empty)")
        return "\n".join(lines)
    lines.extend(format_table(columns, rows))
    count = _count(m)
    if limit is not None and count is not None and count > len(rows):
        lines.append(f"… {count - len(rows)} more")
    return "\n".join(lines)


def repr_pretty(m, p, cycle):
    """IPython's pretty printer hook."""
    p.text(repr(m) if cycle else render_text(m))


# -- HTML -----------------------------------------------------------------------------

_STYLE = ("<style>.pybpfmap table{border-collapse:collapse}"
          ".pybpfmap td,.pybpfmap th{padding:2px 8px;text-align:left;font-family:monospace}"
          ".pybpfmap td.n{text-align:right}.pybpfmap details{display:inline}"
          ".pybpfmap .hdr span{margin-right:1.2em}</style>")


def _html_cell(v):
    if isinstance(v, PerCpu):
        inner = "<br>".join(f"cpu{i}: {html.escape(cell_text(x))}"
                            for i, x in enumerate(v.values))
        return (f"<details><summary>{html.escape(v.text())}</summary>{inner}</details>")
    return html.escape(cell_text(v))


def render_html(m, limit=max_rows):
    """The HTML view used by ``_repr_html_``."""
    if m.closed:
        return f"<pre>{html.escape(repr(m))}</pre>"
    parts = [_STYLE, '<div class="pybpfmap"><div class="hdr">',
             f"<strong>{html.escape(type(m).__name__)}</strong> "]
    for label, value in info_lines(m):
        parts.append(f"<span><b>{html.escape(label)}</b> <code>{html.escape(value)}</code></span>")
    parts.append("</div>")
    result, reason = _rows_or_reason(m, limit)
    if reason is not None:
        parts.append(f"<p><i>entries cannot be listed: {html.escape(reason)}</i></p></div>")
        return "".join(parts)
    columns, rows, _ = result
    if not rows:
        parts.append("<p><i>empty</i></p></div>")
        return "".join(parts)
    parts.append("<table><thead><tr>")
    parts.extend(f"<th>{html.escape(c)}</th>" for c in columns)
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>")
        for v in row:
            cls = ' class="n"' if _numeric(v) else ""
            parts.append(f"<td{cls}>{_html_cell(v)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    count = _count(m)
    if limit is not None and count is not None and count > len(rows):
        parts.append(f"<p><i>showing {len(rows)} of {count} entries</i></p>")
    parts.append("</div>")
    return "".join(parts)
