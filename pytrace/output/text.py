"""bpftrace's text output. The formatters are pure (values in, strings out);
`TextOutput` writes them.

    format_map(spec, [(("bash",), 12), (("sh",), 3)])  ->  "@[sh]: 3\\n@[bash]: 12\\n"

The default is bpftrace 0.17's text byte for byte (its blank lines, the
trailing space of a histogram's header, sorting); `UPSTREAM` selects the
spelling of current bpftrace where it now differs (`--output-style upstream`).
"""

from __future__ import annotations

import struct

from pytrace.aggregations import row
from pytrace.output import Output, buffered, by_name, sort_entries
from pytrace.values import Histogram, Stack


class Style:
    """Where 0.17's text and current upstream's differ."""

    __slots__ = ("name", "hist_header", "blank_after_stats", "lhist_suffix_any_step",
                 "single_lhist_buckets", "banner_on_stderr", "top_decade")

    def __init__(self, name, *, hist_header, blank_after_stats, lhist_suffix_any_step,
                 single_lhist_buckets, banner_on_stderr, top_decade):
        self.name = name
        self.hist_header = hist_header                      # after "@h:" of a histogram
        self.blank_after_stats = blank_after_stats          # an empty line after avg/stats maps
        self.lhist_suffix_any_step = lhist_suffix_any_step  # 1K in lhist labels whatever the step
        self.single_lhist_buckets = single_lhist_buckets    # [5] for a one-value lhist bucket
        self.banner_on_stderr = banner_on_stderr            # "Attached N probes" on stderr
        self.top_decade = top_decade                        # the last of K M G T P E in hist labels


V017 = Style("0.17", hist_header=" ", blank_after_stats=True, lhist_suffix_any_step=True,
             single_lhist_buckets=False, banner_on_stderr=False, top_decade=4)
UPSTREAM = Style("upstream", hist_header="", blank_after_stats=False,
                 lhist_suffix_any_step=False, single_lhist_buckets=True, banner_on_stderr=True,
                 top_decade=6)
STYLES = {"0.17": V017, "upstream": UPSTREAM}

BAR_WIDTH = 52


# --------------------------------------------------------------- values


def format_key(key: tuple) -> str:
    """`[1, abc]` (strings raw, no quotes, as bpftrace prints them); a
    stack as its frames, one a line, indented by 4."""
    return "[" + ", ".join(key_part(k) for k in key) + "]"


def key_part(part) -> str:
    """One part of a key as text (a stack's frames with a 4-space indent; a
    tuple's parts without parentheses, as 0.17 prints tuple keys)."""
    if isinstance(part, Stack):
        return format_stack(part, KEY_INDENT)
    if isinstance(part, tuple):
        return ", ".join(key_part(p) for p in part)
    if isinstance(part, (dict, list)):
        return format_value(part)
    return str(part)


def format_value(value) -> str:
    """A plain value as print(value) shows it."""
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, dict):  # a record or a struct, as upstream prints one
        return "{ " + ", ".join(f".{k} = {format_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):  # a C array
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, Stack):
        return format_stack(value)
    return str(value)


KEY_INDENT = 4     # a stack as a map key
VALUE_INDENT = 8   # a stack in print() and printf("%s")


def format_stack(stack: Stack, indent: int = VALUE_INDENT) -> str:
    """A stack as bpftrace 0.17 prints it: a newline, then a line per frame,
    innermost first (nothing at all for an empty stack). Mode "bpftrace":
    `sym+off` (the address in hex when nothing resolves it) after `indent`
    spaces; "perf": a tab, the address in hex and the symbol, and for a user
    stack its module in parentheses; "raw" (upstream's): the address."""
    if not stack.frames:
        return ""
    pad = " " * indent
    lines = ["\n"]
    for frame in stack.frames:
        if stack.mode == "perf":
            module = f" ({frame.module})" if stack.kind == "ustack" else ""
            lines.append(f"\t{frame.address:x} {frame}{module}\n")
        elif stack.mode == "raw":
            lines.append(f"{frame.address:x}\n")
        else:
            lines.append(f"{pad}{frame}\n")
    return "".join(lines)


def c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero); b == 0 divides by 1."""
    if b <= 1:
        return a
    q = abs(a) // b
    return q if a >= 0 else -q


# ----------------------------------------------------------- histograms


def _f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def bar_width(count: int, most: int) -> int:
    """bpftrace's `count / (float)max * 52`, in single precision as it
    computes it, truncated."""
    if most <= 0:
        return 0
    return int(_f32(_f32(_f32(float(count)) / _f32(float(most))) * BAR_WIDTH))


_SUFFIXES = "\0KMGTPE"


def log2_label(value: int, k: int, top_decade: int = 6) -> str:
    """A hist() bound: `4`, `1K`, `2M` (1024-based), as bpftrace labels them.
    0.17 stops at T (top_decade 4: 2^50 is `1024T`); upstream goes on to E."""
    if value <= 0:
        return str(value)
    power = max(value.bit_length() - 1 - k, 0)
    decade = min(power // 10, top_decade)
    text = str(value >> (10 * decade))
    return text + _SUFFIXES[decade] if decade else text


def linear_label(value: int, step: int, style: Style) -> str:
    """An lhist() bound: `1K` or `2M` when it divides evenly (0.17 always;
    upstream only for steps that are multiples of 1024)."""
    if value == 0 or (not style.lhist_suffix_any_step and step % 1024):
        return str(value)
    if value % (1 << 20) == 0:
        return f"{value >> 20}M"
    if value % 1024 == 0:
        return f"{value >> 10}K"
    return str(value)


def bucket_label(hist: Histogram, low, high, style: Style = V017) -> str:
    if hist.kind == "hist":
        (k,) = hist.params
        label = lambda v: log2_label(v, k, style.top_decade)  # noqa: E731
        single = True
    else:
        step = hist.params[2]
        label = lambda v: linear_label(v, step, style)  # noqa: E731
        single = style.single_lhist_buckets
    if low is None:
        return f"(..., {label(high)})"
    if high is None:
        return f"[{label(low)}, ...)"
    if single and high == low + 1:
        return f"[{label(low)}]"
    return f"[{label(low)}, {label(high)})"


def format_histogram(hist: Histogram, div: int = 0, style: Style = V017) -> str:
    """The rows of a histogram: label, count and a bar scaled to the largest
    bucket, from the first to the last non-empty bucket. print()'s `div`
    divides the counts of hist() (0.17 ignores it for lhist)."""
    if not hist.buckets:
        return ""
    most = max(b.count for b in hist.buckets)
    divide = div if hist.kind == "hist" else 0
    lines = []
    for b in hist.buckets:
        label = bucket_label(hist, b.low, b.high, style)
        bar = "@" * bar_width(b.count, most)
        lines.append(f"{label:<16}{c_div(b.count, divide):>8} |{bar:<{BAR_WIDTH}}|\n")
    return "".join(lines)


# ----------------------------------------------------------------- maps


def format_map(spec, entries: list, top: int = 0, div: int = 0, style: Style = V017) -> str:
    """A map as bpftrace prints it: entries sorted (see sort_entries), the
    `top` largest kept, values divided by `div`.

    0.17's quirks kept: a map with no entries prints an empty line (a scalar
    count() prints `@x: 0`, as 0.17's per-CPU array always holds one); avg
    and stats maps are followed by an empty line, histograms by one per key;
    `top` does not apply to stats(), and `div` to neither stats() nor lhist()."""
    shape = row(spec.value.kind).shape
    items = sort_entries(spec, entries)
    if top and shape != "stats":
        items = items[-top:]
    name = spec.name
    keyed = bool(spec.keys)

    def head(key) -> str:
        return name + format_key(key) if keyed else name

    if shape == "hist":
        parts = [f"{head(k)}:{style.hist_header}\n{format_histogram(v, div, style)}" for k, v in items]
        return "\n".join(parts) + "\n"
    if shape == "tseries":  # every key over the same intervals: up to the map's newest
        last = max((v.latest for _, v in items), default=0)
        return "".join(f"{head(k)}:\n{format_tseries(v.window(last))}\n" for k, v in items)
    if shape in ("average", "stats"):
        if shape == "average":
            lines = [f"{head(k)}: {c_div(v.average, div)}" for k, v in items]
        else:
            lines = [f"{head(k)}: count {v.count}, average {v.average}, total {v.total}" for k, v in items]
        return "\n".join(lines) + ("\n\n" if style.blank_after_stats or not items else "\n")
    if not items:
        return f"{name}: 0\n" if spec.value.kind == "count" and not keyed else "\n"
    if shape == "int" and div > 1:
        items = [(k, c_div(v, div)) for k, v in items]
    if shape == "str" and spec.value.kind in ("resolved", "tuple"):
        items = [(k, format_value(v)) for k, v in items]  # a stack's frames, a symbol's name, (1, a)
    if len(spec.keys) == 1 and spec.keys[0].kind in ("int", "str"):
        # the common case, and the big maps: no join per key
        lines = [f"{name}[{k}]: {v}" for (k,), v in items]
    else:
        lines = [f"{head(k)}: {v}" for k, v in items]
    return "\n".join(lines) + "\n"


GRAPH_WIDTH = 53   # upstream's tseries chart
GRAPH_PADDING = 21


def format_tseries(points: list[tuple[int, int | None]]) -> str:
    """A tseries as upstream draws it: a row per interval (its wall-clock
    start, a `*` placed between the smallest and largest value, the value;
    `-` for an interval without one), a `.` column at zero when the range
    crosses it, the range above and below."""
    if not points:
        return "<no data>\n"
    values = [v for _, v in points if v is not None]
    low, high = (min(values), max(values)) if values else (0, 0)
    if low == high:
        low, high = low - 1, high + 1
    step = (points[-1][0] - points[0][0]) // max(len(points) - 1, 1)
    digits, unit = next(((d, u) for limit, d, u in _UNITS if step >= limit), (9, "ns"))
    time_fmt = "hh:mm:ss" + (f".{unit}" if digits else "")
    time_size = 8 + (1 + digits if digits else 0)
    bounds = f"{low:<{GRAPH_PADDING}}{high:>{GRAPH_WIDTH - GRAPH_PADDING}}"
    out = [" " * (time_size + 1) + bounds,
           _pad_bytes(time_fmt, time_size + 1) + "|" + "_" * (GRAPH_WIDTH - 2) + "|"]
    zero = int(GRAPH_WIDTH * (low / (low - high))) if low < 0 < high else 0
    for ns, value in points:
        line = [" "] * GRAPH_WIDTH
        line[0] = line[-1] = "|"
        if zero > 0:
            line[zero] = "."
        stamp = _wall_time(ns, digits)
        if value is None:
            out.append(f"{stamp} {''.join(line)} -")
            continue
        at = int((GRAPH_WIDTH - 1) * ((low - value) / (low - high)))
        line[max(0, min(GRAPH_WIDTH - 1, at))] = "*"
        out.append(f"{stamp} {''.join(line)} {value}")
    bottom = "v" + "_" * (GRAPH_WIDTH - 2) + "v"
    out += [" " * time_size + " " + bottom, " " * time_size + " " + bounds]
    return "\n".join(out) + "\n"


# (smallest interval, fraction digits, unit) of a tseries' time column
_UNITS = ((1_000_000_000, 0, "s"), (1_000_000, 3, "ms"), (1_000, 6, "μs"))


def _pad_bytes(text: str, width: int) -> str:
    """Left-justified to `width` bytes, as C++'s setw pads UTF-8 text."""
    return text + " " * max(0, width - len(text.encode()))


def _wall_time(ns: int, digits: int) -> str:
    import time

    secs, rest = divmod(ns, 1_000_000_000)
    text = time.strftime("%H:%M:%S", time.localtime(secs))
    return f"{text}.{rest // 10 ** (9 - digits):0{digits}d}" if digits else text


def format_exit(maps: list, style: Style = V017) -> str:
    """Every map at exit, in name order."""
    return "".join(format_map(spec, entries, style=style) for spec, entries in by_name(maps))


def banner(count: int, style: Style = V017) -> str:
    s = "" if count == 1 else "s"
    if style.banner_on_stderr:
        return f"Attached {count} probe{s}\n"
    return f"Attaching {count} probe{s}...\n"


def truncated_warning(count: int) -> str:
    return (f"warning: {count} string{'' if count == 1 else 's'} read by str() filled the whole buffer"
            " and may have been cut short (raise max_strlen: config = { max_strlen = 1024 }, or BPFTRACE_MAX_STRLEN)\n")


def stacks_warning(count: int, limit: int) -> str:
    return (f"warning: {count} stack{'' if count == 1 else 's'} not kept: the stack map is full"
            f" ({limit} distinct stacks); those samples show an empty stack\n")


def dropped_warning(name: str, count: int, limit: int) -> str:
    return (f"warning: {count} update{'' if count == 1 else 's'} of {name} dropped: the map is full"
            f" ({limit} keys; raise BPFTRACE_MAP_KEYS_MAX)\n")


# --------------------------------------------------------------- output


class TextOutput(Output):
    """Text to `out` (stdout or the -o file); notes to `err`. `console` is
    where 0.17 writes the two newlines before the exit dump: stdout, even
    with -o. Each call writes its text; `flush()` ends a batch of records
    (the session flushes after every batch, so output is line-timely into
    a terminal, a pipe and a file alike)."""

    def __init__(self, out, err, console=None, style: Style = V017, buffering: str = "line"):
        self.out = out
        self.err = err
        self.console = console if console is not None else out
        self.style = style
        self.printf = out.write  # the hot path: one bound method, no wrapper
        buffered(self, out, buffering)

    def attached(self, count: int) -> None:
        stream = self.err if self.style.banner_on_stderr else self.out
        stream.write(banner(count, self.style))
        stream.flush()

    def value(self, value) -> None:
        self.out.write(format_value(value) + "\n")

    def time(self, text: str) -> None:
        self.out.write(text)

    def map(self, spec, entries: list, top: int = 0, div: int = 0) -> None:
        self.out.write(format_map(spec, entries, top, div, self.style))

    def exit_maps(self, maps: list) -> None:
        self.out.flush()
        self.console.write("\n\n")
        self.console.flush()
        self.out.write(format_exit(maps, self.style))
        self.out.flush()

    def lost(self, count: int) -> None:
        self.out.write(f"Lost {count} events\n")
        self.out.flush()

