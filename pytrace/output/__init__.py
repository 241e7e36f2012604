"""Everything the user sees goes through one `Output`: the session and the
record handlers call its methods, never write to a stream themselves.

    Output              the interface (and what every output shares)
    text.TextOutput     bpftrace 0.17's text (or upstream's, `style`)
    json.JsonOutput     bpftrace's NDJSON records (-f json)
    capture.Capture     values and lines for the Python API

The formatting itself is pure functions in `text` and `json` (values in,
strings out), tested without a kernel; an Output only decides where the
strings go and when they are flushed.
"""

from __future__ import annotations

from operator import itemgetter

from pytrace.aggregations import by_value, row



class Output:
    """The interface. `entries` are (key tuple, value) pairs as decoded
    (see pytrace.values); a map is described by its MapSpec. `warnings`
    False (--no-warnings) mutes the warnings."""

    warnings = True

    def attached(self, count: int) -> None:
        raise NotImplementedError

    def printf(self, text: str) -> None:
        raise NotImplementedError

    def value(self, value) -> None:
        """print(value): one int or string."""
        raise NotImplementedError

    def time(self, text: str) -> None:
        raise NotImplementedError

    def join(self, text: str) -> None:
        """join(): the joined strings, a line of text (no newline given)."""
        self.printf(text + "\n")

    def map(self, spec, entries: list, top: int = 0, div: int = 0) -> None:
        """print(@m) during the run, and every map at exit."""
        raise NotImplementedError

    def exit_maps(self, maps: list) -> None:
        """What is printed when tracing stops: [(spec, entries)] in any order."""
        raise NotImplementedError

    def lost(self, count: int) -> None:
        """The ring buffer had no room for `count` records."""
        raise NotImplementedError

    def truncated(self, count: int) -> None:
        """`count` strings filled their buffer (may have been cut short):
        a warning on `self.err`, in every format."""
        from pytrace.output.text import truncated_warning

        if self.warnings:
            self.err.write(truncated_warning(count))
        self.err.flush()

    def stacks_lost(self, count: int, limit: int) -> None:
        """`count` stacks could not be kept: the stack map held `limit`
        distinct stacks (they read as empty stacks)."""
        from pytrace.output.text import stacks_warning

        if self.warnings:
            self.err.write(stacks_warning(count, limit))
        self.err.flush()

    def dropped(self, name: str, count: int, limit: int) -> None:
        """`count` updates of map `name` failed: it held `limit` keys (a
        warning on `self.err`, in every format)."""
        from pytrace.output.text import dropped_warning

        if self.warnings:
            self.err.write(dropped_warning(name, count, limit))
        self.err.flush()

    def message(self, text: str, warning: bool = False) -> None:
        """errorf(), warnf() and failed cat(): a line on `self.err`, in every
        format (a warning unless warnings are off)."""
        if self.warnings or not warning:
            self.err.write(text)
            self.err.flush()

    def flush(self) -> None:
        pass


def buffered(output: Output, stream, mode: str) -> None:
    """-B: when `output` pushes its text out. "line": at every `flush()`
    (the session flushes after each batch of records, so lines come out as
    the events happen, into a terminal, a pipe or a file alike); "full":
    only when the stream's buffer fills and at the end; "none": after every
    printf too."""
    if mode == "full":
        output.flush = _nothing
    else:
        output.flush = stream.flush
    if mode == "none":
        flush, printf = stream.flush, output.printf

        def unbuffered(text: str) -> None:
            printf(text)
            flush()

        output.printf = unbuffered


def _nothing() -> None:
    pass


def sort_entries(spec, entries: list) -> list:
    """A map's entries in the order bpftrace 0.17 prints them: ascending by
    the row's sort key (count, average, histogram total, ...); by key for
    rows without one (strings), integer keys compared as unsigned 64-bit
    values, as 0.17 compares them. Ties of the sort key (which 0.17 leaves
    in the kernel's random hash order) go by key, so output is stable.

    Two stable sorts (by key, then by value) rather than one on (value,
    key) tuples: on a 100,000-key map of equal counts that is 36 ms
    instead of 280."""
    sort_key = row(spec.value.kind).sort_key
    if sort_key is None:
        key_order = _key_order
        return sorted(entries, key=lambda kv: key_order(kv[0]))
    if len(spec.keys) == 1:
        ordered = sorted(entries, key=_first_key)
    else:
        ordered = sorted(entries, key=_KEY)
    ordered.sort(key=_VALUE if sort_key is by_value else lambda kv: sort_key(kv[1]))
    return ordered


_KEY = itemgetter(0)
_VALUE = itemgetter(1)


def _first_key(kv):
    return kv[0][0]


def _key_order(key: tuple) -> tuple:
    return tuple(k & 0xFFFFFFFFFFFFFFFF if isinstance(k, int) else k for k in key)


def by_name(maps: list) -> list:
    """Maps in the order bpftrace prints them at exit: by name."""
    return sorted(maps, key=lambda m: m[0].name)
