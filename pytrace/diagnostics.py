"""Diagnostics: what the compiler tells a user about a script.

Passes collect diagnostics instead of printing or exiting, so the driver can
stop after the first pass that found errors and the CLI decides how to show
them (bpftrace's pass manager works the same way).
"""

from __future__ import annotations

from pytrace.record import Record
from pytrace.source import SourceFile, Span, render_caret


class Diagnostic(Record):
    """One message about a place in the script, with optional hints."""

    __slots__ = ("span", "message", "hints", "severity")

    def __init__(self, span: Span, message: str, hints: list[str] | None = None, severity: str = "error"):
        self.span = span
        self.message = message
        self.hints = hints if hints is not None else []
        self.severity = severity

    def render(self, source: SourceFile) -> str:
        """`file:line:col: error: message`, the source line, a caret, hints."""
        where = f"{source.name}:{self.span}" if self.span.line else source.name
        parts = [f"{where}: {self.severity}: {self.message}"]
        caret = render_caret(source, self.span)
        if caret:
            parts.append(caret)
        parts.extend(f"hint: {hint}" for hint in self.hints)
        return "\n".join(parts)


class Diagnostics:
    """The diagnostics a compile collected, in the order they were found."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.items: list[Diagnostic] = []

    def error(self, span: Span, message: str, *hints: str) -> Diagnostic:
        diag = Diagnostic(span, message, list(hints))
        self.items.append(diag)
        return diag

    def warning(self, span: Span, message: str, *hints: str) -> Diagnostic:
        diag = Diagnostic(span, message, list(hints), "warning")
        self.items.append(diag)
        return diag

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def render(self) -> str:
        return "\n".join(d.render(self.source) for d in self.items)


class CompileError(Exception):
    """A script that cannot be compiled; carries every diagnostic found."""

    def __init__(self, diagnostics: Diagnostics):
        super().__init__(diagnostics.render())
        self.diagnostics = diagnostics


class UserError(Exception):
    """A fatal problem the user can fix (not a pytrace bug): the CLI prints
    the message as one line and exits non-zero, without a traceback."""
