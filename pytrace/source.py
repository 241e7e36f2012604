"""Source text and positions in it.

Every AST node, IR instruction and diagnostic carries a `Span`, so an error
found in any stage can point at the script text that caused it.
"""

from __future__ import annotations

from pytrace.record import Record


class SourceFile(Record):
    """A script: its display name (a path, or "stdin" for -e and -) and text."""

    __slots__ = ("name", "text")

    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text

    def line(self, number: int) -> str:
        """The text of 1-based line `number`, without its newline."""
        lines = self.text.split("\n")
        if 1 <= number <= len(lines):
            return lines[number - 1].rstrip("\r")
        return ""


class Span(Record):
    """A range of source text: 1-based lines and columns, end exclusive."""

    __slots__ = ("line", "col", "end_line", "end_col")

    def __init__(self, line: int, col: int, end_line: int, end_col: int):
        self.line = line
        self.col = col
        self.end_line = end_line
        self.end_col = end_col

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


# For nodes made by the compiler itself (no text of their own).
NO_SPAN = Span(0, 0, 0, 0)


def render_caret(source: SourceFile, span: Span) -> str:
    """The source line of `span` and a line with `^~~~` under it.

    A span that runs over several lines is underlined to the end of its
    first line.
    """
    if span.line <= 0:
        return ""
    raw = source.line(span.line)
    start = len(raw[: span.col - 1].expandtabs(8))
    if span.end_line == span.line and span.end_col > span.col:
        end = len(raw[: span.end_col - 1].expandtabs(8))
    else:
        end = len(raw.expandtabs(8))
    width = max(end - start, 1)
    return f"{raw.expandtabs(8)}\n{' ' * start}^{'~' * (width - 1)}"
