"""The Python API's Output: lines of text as they complete, and every map's
value at exit (pytrace.values), instead of anything written to a stream."""

from __future__ import annotations

from pytrace.output import Output
from pytrace.output.text import format_map, format_value


class Capture(Output):
    """Collects what a trace shows. `on_line(line)` is called for every
    complete line of printf/print/time output, in order (without its
    newline); `maps` holds {name: value} once the trace has stopped."""

    def __init__(self, on_line):
        self.on_line = on_line
        self._partial = ""
        self.maps: dict = {}
        self.lost_records = 0
        self.dropped_updates: dict[str, int] = {}
        self.truncated_strings = 0
        self.lost_stacks = 0
        self.messages: list[str] = []  # errorf(), warnf(): "file:line:col-col: ERROR: text"

    def _text(self, text: str) -> None:
        if "\n" not in text:
            self._partial += text
            return
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.on_line(line)

    def attached(self, count: int) -> None:
        pass

    def printf(self, text: str) -> None:
        self._text(text)

    def value(self, value) -> None:
        self._text(format_value(value) + "\n")

    def time(self, text: str) -> None:
        self._text(text)

    def map(self, spec, entries: list, top: int = 0, div: int = 0) -> None:
        self._text(format_map(spec, entries, top, div))

    def exit_maps(self, maps: list) -> None:
        if self._partial:
            self.on_line(self._partial)
            self._partial = ""
        for spec, entries in maps:
            self.maps[spec.name] = map_value(spec, entries)

    def lost(self, count: int) -> None:
        self.lost_records += count

    def truncated(self, count: int) -> None:
        self.truncated_strings += count

    def dropped(self, name: str, count: int, limit: int) -> None:
        self.dropped_updates[name] = count

    def stacks_lost(self, count: int, limit: int) -> None:
        self.lost_stacks += count

    def message(self, text: str, warning: bool = False) -> None:
        self.messages.append(text.rstrip("\n"))


def map_value(spec, entries: list):
    """A map as a Python value: a scalar map's value (an unset count() is 0,
    another unset scalar None), or a dict by key: {"bash": 12} for one key,
    {("bash", 3): 1} for several."""
    if not spec.keys:
        if entries:
            return entries[0][1]
        return 0 if spec.value.kind == "count" else None
    if len(spec.keys) == 1:
        return {key[0]: value for key, value in entries}
    return dict(entries)
