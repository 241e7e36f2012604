"""bpftrace's JSON output (-f json): one object per line (NDJSON), with the
record shapes of bpftrace 0.17 (upstream's, with `upstream`: a "count" in
attached_probes and lost_events, no blank lines before the exit dump):

    {"type": "attached_probes", "data": {"probes": 2}}
    {"type": "printf", "data": "hi 5\\n"}
    {"type": "map", "data": {"@k": {"bash,3": 1, "sh,1": 3}}}   several keys: "a,b"
    {"type": "stats", "data": {"@a": 15}}                      avg() is a "stats" record
    {"type": "hist", "data": {"@h": [{"min": 2, "max": 3, "count": 1}, ...]}}

The formatters are pure (values in, one line out); `JsonOutput` writes them.
An empty map prints nothing, as in 0.17.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C encoder, without dumps()'s checks

from pytrace.aggregations import row
from pytrace.output import Output, buffered, by_name, sort_entries
from pytrace.output.text import c_div, format_stack, key_part
from pytrace.values import EnumValue, Histogram, Pointer, Stack


def record(kind: str, data) -> str:
    return '{"type": "%s", "data": %s}\n' % (kind, data)


def string(text: str) -> str:
    """A JSON string, escaped as 0.17's json_escape does (\\u0008 and \\u000c
    for backspace and form feed, where the C encoder writes \\b and \\f)."""
    encoded = encode_basestring(text)
    if "\b" in text or "\f" in text:
        encoded = _zero_eight(encoded)
    return encoded


def _zero_eight(encoded: str) -> str:
    """\\b -> \\u0008 and \\f -> \\u000c, where the backslash is an escape's
    own (not the second of an escaped backslash)."""
    out, i = [], 0
    while i < len(encoded):
        c = encoded[i]
        if c == "\\" and i + 1 < len(encoded):
            nxt = encoded[i + 1]
            out.append({"b": "\\u0008", "f": "\\u000c"}.get(nxt, c + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def json_value(value) -> str:
    """A plain value: numbers bare, strings quoted, tuples as arrays (0.17
    writes them without spaces: `[1,"x"]`)."""
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(json_value(v) for v in value) + "]"
    if isinstance(value, dict):  # a record
        return "{" + ", ".join(f"{string(k)}: {json_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, (Pointer, EnumValue)):  # JSON keeps the number
        return str(int(value))
    if isinstance(value, bytes):  # a buf(): as %r prints it
        return string(str(value))
    if isinstance(value, Stack):
        return string(format_stack(value))
    return str(value)


def json_key(key: tuple) -> str:
    """A map key as an object key: the parts joined by "," (0.17), a tuple's
    too; a stack as the text key of a text map (frames indented by 4)."""
    return string(",".join(_json_key_part(k) for k in key))


def _json_key_part(part) -> str:
    if isinstance(part, (EnumValue, Pointer)):  # JSON keeps the number
        return str(int(part))
    if isinstance(part, tuple):
        return ",".join(_json_key_part(p) for p in part)
    return key_part(part)


def json_histogram(hist: Histogram, div: int = 0) -> str:
    """Closed [min, max] buckets; an open end drops its bound."""
    divide = div if hist.kind == "hist" else 0
    parts = []
    for b in hist.buckets:
        bounds = []
        if b.low is not None:
            bounds.append(f'"min": {b.low}')
        if b.high is not None:
            bounds.append(f'"max": {b.high - 1}')
        parts.append("{" + ", ".join(bounds + [f'"count": {c_div(b.count, divide)}']) + "}")
    return "[" + ", ".join(parts) + "]"


def _shape_value(shape: str, value, div: int) -> str:
    if shape == "hist":
        return json_histogram(value, div)
    if shape == "average":
        return str(c_div(value.average, div))
    if shape == "stats":
        return f'{{"count": {value.count}, "average": {value.average}, "total": {value.total}}}'
    if shape == "int":
        return str(int(c_div(value, div)))  # a pointer too: JSON keeps the number
    if shape == "tseries":
        return json_tseries(value)
    return json_value(value)


def json_tseries(points: list[tuple[int, int | None]]) -> str:
    """Upstream's shape: the intervals that have a value, each with its
    start (ISO 8601, local time, nanoseconds)."""
    import time

    parts = []
    for ns, value in points:
        if value is None:
            continue
        secs, rest = divmod(ns, 1_000_000_000)
        start = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(secs)) + f".{rest:09d}"
        parts.append(f'{{"interval_start":"{start}","value":{value}}}')
    return "[" + ",".join(parts) + "]"


def format_map(spec, entries: list, top: int = 0, div: int = 0) -> str:
    """One map record, or "" for a map with no entries."""
    agg = row(spec.value.kind)
    items = sort_entries(spec, entries)
    if agg.shape == "tseries":  # every key over the same intervals: up to the map's newest
        last = max((v.latest for _, v in items), default=0)
        items = [(k, v.window(last)) for k, v in items]
    if top and agg.shape != "stats":
        items = items[-top:]
    if not items:
        if spec.value.kind == "count" and not spec.keys:  # 0.17's array always holds one
            return record("map", "{%s: 0}" % string(spec.name))
        return ""
    name = string(spec.name)
    if spec.keys:
        body = "{" + ", ".join(f"{json_key(k)}: {_shape_value(agg.shape, v, div)}" for k, v in items) + "}"
    else:
        body = _shape_value(agg.shape, items[0][1], div)
    return record(agg.json_type, "{%s: %s}" % (name, body))


class JsonOutput(Output):
    """NDJSON records to `out`; `console` gets 0.17's two newlines before
    the exit dump (stdout, even with -o); `err` gets notes."""

    def __init__(self, out, err, console=None, buffering: str = "line", upstream: bool = False):
        self.upstream = upstream  # --output-style upstream: its record shapes
        self.out = out
        self.err = err
        self.console = console if console is not None else out
        write = out.write

        def printf(text: str, encode=encode_basestring) -> None:  # the hot path: no call of string()
            if "\b" in text or "\f" in text:
                write('{"type": "printf", "data": ' + string(text) + '}\n')
            else:
                write('{"type": "printf", "data": ' + encode(text) + '}\n')

        self.printf = printf
        buffered(self, out, buffering)

    def attached(self, count: int) -> None:
        self.out.write(self._counted("attached_probes", count, "probes"))
        self.out.flush()

    def _counted(self, kind: str, count: int, field: str) -> str:
        """0.17: {"type": T, "data": {F: N}}; upstream adds "count": N."""
        if self.upstream:
            return '{"type": "%s", "count": %d, "data": {"%s": %d}}\n' % (kind, count, field, count)
        return record(kind, f'{{"{field}": {count}}}')

    def value(self, value) -> None:
        self.out.write(record("value", json_value(value)))

    def time(self, text: str) -> None:
        self.out.write(record("time", string(text)))

    def join(self, text: str) -> None:
        self.out.write(record("join", string(text)))

    def map(self, spec, entries: list, top: int = 0, div: int = 0) -> None:
        self.out.write(format_map(spec, entries, top, div))

    def exit_maps(self, maps: list) -> None:
        self.out.flush()
        if not self.upstream:  # 0.17 prints its two newlines even in JSON
            self.console.write("\n\n")
            self.console.flush()
        self.out.write("".join(format_map(spec, entries) for spec, entries in by_name(maps)))
        self.out.flush()

    def lost(self, count: int) -> None:
        self.out.write(self._counted("lost_events", count, "events"))
        self.out.flush()

