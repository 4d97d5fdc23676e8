"""Histograms kept in maps, printed like BCC and plotted with matplotlib.

Tracing programs count events per bucket: an array (or hash) of bucket ->
count, or a hash keyed by ``struct { <section>; <bucket>; }`` that keeps one
histogram per section (a process name, a disk ...)::

    h = bm.hist.log2(obj.maps["latency"])      # bucket i >= 1: 2^(i-1) .. 2^i - 1
    print(h)                                   # the same text as BCC's print_log2_hist
    h.plot()                                   # matplotlib bar chart (if installed)
    h                                          # in Jupyter: the plot

``bm.hist.linear(m)`` is the same for buckets of one value each
(``print_linear_hist``).  Per-CPU counts are summed.
"""
import base64
import html
import io

from .btf.records import Record
from .display import cell_text

__all__ = ["log2", "linear", "Histogram"]

#: widest bar, as in BCC
STARS_MAX = 40
#: the two bucket field names tools use (BCC: ``slot``)
_BUCKET_NAMES = ("slot", "bucket", "bin", "index", "idx")


def _stars(val, val_max, width):
    """BCC's bar: ``width * val / val_max`` stars, '+' when val exceeds val_max."""
    i = 0
    text = ""
    while not (i > (width * val / val_max) - 1 or i > width - 1):
        text += "*"
        i += 1
    if val > val_max:
        text = text[:-1] + "+"
    return text


def _count_of(value):
    """A bucket's count: ints as they are, per-CPU tuples summed, a record's
    first field (``struct { __u64 count; }``)."""
    if isinstance(value, Record):
        value = value[0]
    if isinstance(value, tuple):
        return sum(_count_of(v) for v in value)
    return int(value)


class Histogram:
    """Bucket counts read from a map, one histogram per section.

    ``sections`` maps each section (``None`` when the map has none) to a
    list of counts indexed by bucket.  ``str()`` renders it like BCC; use
    :meth:`plot` for a chart.
    """

    def __init__(self, sections, kind="log2", val_type="value", section_header="Bucket ptr",
                 section_print_fn=None, strip_leading_zero=False):
        self.sections = sections
        self.kind = kind
        self.val_type = val_type
        self.section_header = section_header
        self.section_print_fn = section_print_fn
        self.strip_leading_zero = strip_leading_zero

    @property
    def counts(self):
        """The counts of a histogram without sections (``ValueError`` otherwise)."""
        if list(self.sections) != [None]:
            raise ValueError("this histogram has sections; use .sections")
        return self.sections[None]

    def bucket_range(self, i):
        """``(low, high)`` of the values bucket ``i`` counts (BCC's labels)."""
        if self.kind == "linear":
            return i, i
        low, high = (1 << i) >> 1, (1 << i) - 1
        if low == high:  # bucket 1 is labelled 0 -> 1, as in BCC
            low -= 1
        return low, high

    # -- text -----------------------------------------------------------------------

    def _section_label(self, section):
        if self.section_print_fn is not None:
            return f"{self.section_header} = {self.section_print_fn(section)}"
        return f"{self.section_header} = {cell_text(section)}"

    def _lines(self, vals):
        idx_max, val_max = -1, 0
        for i, v in enumerate(vals):
            if v > 0:
                idx_max = i
            if v > val_max:
                val_max = v
        out = []
        if self.kind == "linear":
            if idx_max >= 0:
                out.append("     %-13s : count     distribution" % self.val_type)
            for i in range(0, idx_max + 1):
                out.append("        %-10d : %-8d |%-*s|"
                           % (i, vals[i], STARS_MAX, _stars(vals[i], val_max, STARS_MAX)))
            return out
        if idx_max <= 32:
            header = "     %-19s : count     distribution"
            body = "%10d -> %-10d : %-8d |%-*s|"
            stars = STARS_MAX
        else:
            header = "               %-29s : count     distribution"
            body = "%20d -> %-20d : %-8d |%-*s|"
            stars = STARS_MAX // 2
        if idx_max > 0:
            out.append(header % self.val_type)
        strip = self.strip_leading_zero
        for i in range(1, idx_max + 1):
            low, high = self.bucket_range(i)
            val = vals[i]
            if strip and not val:
                continue
            strip = False
            out.append(body % (low, high, val, stars, _stars(val, val_max, stars)))
        return out

    def __str__(self):
        lines = []
        for section, vals in self.sections.items():
            if section is not None:
                lines.append("")
                lines.append(self._section_label(section))
            lines.extend(self._lines(vals))
        return "\n".join(lines)

    def __repr__(self):
        total = sum(sum(v) for v in self.sections.values())
        sections = "" if list(self.sections) == [None] else f", {len(self.sections)} sections"
        return f"<Histogram {self.kind}{sections}, {total} counts>"

    # -- plots ----------------------------------------------------------------------

    def _labels(self, n):
        labels = []
        for i in range(n):
            low, high = self.bucket_range(i)
            labels.append(str(low) if low == high else f"{low}-{high}")
        return labels

    def plot(self, ax=None):
        """Draw the histogram as bars with matplotlib; returns the ``Axes``.

        Sections are drawn side by side in one chart.  Raises ``ImportError``
        when matplotlib is not installed.
        """
        try:
            import matplotlib
            if ax is None:
                import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plot() needs matplotlib: pip install matplotlib") from None
        del matplotlib
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.5))
        first = 0 if self.kind == "linear" else 1
        last = max((max((i for i, v in enumerate(vals) if v), default=first)
                    for vals in self.sections.values()), default=first)
        n = max(last + 1, first + 1)
        xs = list(range(first, n))
        nsec = max(len(self.sections), 1)
        width = 0.8 / nsec
        for j, (section, vals) in enumerate(self.sections.items()):
            ys = [vals[i] if i < len(vals) else 0 for i in xs]
            offset = (j - (nsec - 1) / 2) * width
            label = None if section is None else (
                self.section_print_fn(section) if self.section_print_fn else cell_text(section))
            ax.bar([x + offset for x in xs], ys, width=width, label=label)
        ax.set_xticks(xs)
        ax.set_xticklabels(self._labels(n)[first:], rotation=45, ha="right", fontsize=8)
        ax.set_xlabel(self.val_type)
        ax.set_ylabel("count")
        if len(self.sections) > 1 or None not in self.sections:
            ax.legend(title=self.section_header, fontsize=8)
        return ax

    def _png(self):
        import matplotlib
        from matplotlib.figure import Figure
        del matplotlib
        fig = Figure(figsize=(8, 3.5))
        ax = fig.add_subplot()
        self.plot(ax)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return buf.getvalue()

    def _repr_html_(self):
        try:
            png = self._png()
        except ImportError:
            return f"<pre>{html.escape(str(self))}</pre>"
        data = base64.b64encode(png).decode("ascii")
        return (f'<img alt="{html.escape(repr(self))}" '
                f'src="data:image/png;base64,{data}"/>')

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self) if cycle else str(self))


def _split_key(key, bucket, section):
    """``(section, bucket index)`` of one decoded key."""
    if isinstance(key, Record):
        fields = key._fields
        b = bucket if bucket is not None else next(
            (f for f in fields if f in _BUCKET_NAMES), fields[-1])
        if b not in fields:
            raise ValueError(f"the key has no field {b!r} (fields: {', '.join(fields)})")
        if section is not None:
            sec = getattr(key, section)
        else:
            rest = [f for f in fields if f != b]
            sec = getattr(key, rest[0]) if len(rest) == 1 else tuple(
                getattr(key, f) for f in rest) or None
        return sec, int(getattr(key, b))
    if isinstance(key, int):
        return None, int(key)
    raise TypeError(f"histogram keys must be bucket integers or structs holding one, "
                    f"not {type(key).__name__}")


def _read(m, kind, max_buckets, bucket=None, section=None, **kwargs):
    if hasattr(m, "items"):
        items = m.items()
    else:
        items = enumerate(m)  # a plain sequence of counts
    sections = {}
    for key, value in items:
        sec, i = _split_key(key, bucket, section)
        if not 0 <= i < max_buckets:
            raise ValueError(f"bucket {i} is outside 0..{max_buckets - 1} for a {kind} histogram")
        vals = sections.get(sec)
        if vals is None:
            vals = sections[sec] = []
        if len(vals) <= i:
            vals.extend([0] * (i + 1 - len(vals)))
        vals[i] += _count_of(value)
    if not sections:
        sections[None] = []
    try:
        ordered = dict(sorted(sections.items(), key=lambda kv: kv[0]))
    except TypeError:
        ordered = sections
    return Histogram(ordered, kind, **kwargs)


def log2(m, val_type="value", *, bucket=None, section=None, section_header="Bucket ptr",
         section_print_fn=None, strip_leading_zero=False):
    """Read a log2 histogram from map ``m`` (or any sequence of counts).

    Keys are bucket numbers, as BCC's ``bpf_log2l()`` computes them (bucket
    ``i >= 1`` counts values from ``2**(i-1)`` to ``2**i - 1``; bucket 1 is
    printed ``0 -> 1``), or structs of a section and a bucket: the bucket
    field is ``bucket`` if given, else one named slot/bucket/bin/index, else
    the last; the other field is the section (``section`` to choose).
    Values are counts, per-CPU counts (summed) or structs whose first field
    is the count.  Returns a :class:`Histogram`.
    """
    return _read(m, "log2", 65, bucket=bucket, section=section, val_type=val_type,
                 section_header=section_header, section_print_fn=section_print_fn,
                 strip_leading_zero=strip_leading_zero)


def linear(m, val_type="value", *, bucket=None, section=None, section_header="Bucket ptr",
           section_print_fn=None):
    """Read a linear histogram (bucket ``i`` counts the value ``i``) from
    map ``m``, as BCC's ``print_linear_hist`` shows it; see :func:`log2`."""
    return _read(m, "linear", 1 << 20, bucket=bucket, section=section, val_type=val_type,
                 section_header=section_header, section_print_fn=section_print_fn)
