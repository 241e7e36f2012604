"""What can go wrong while running a compiled program.

Every error is a `RuntimeFailure` whose message is one sentence the CLI prints
as `error: <message>`. Longer material (a verifier log) goes in `detail`,
which the CLI shows with -v (and otherwise says that -v shows it). These are `UserError`s: a refused load or a
missing tracepoint is not a pytrace crash, so no traceback.
"""

from __future__ import annotations

import os

from pytrace.diagnostics import UserError


class RuntimeFailure(UserError):
    """Base class: `str(e)` is one sentence; `detail` is extra text or ""."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


class NeedRootError(RuntimeFailure):
    """Not allowed to use bpf() at all."""

    def __init__(self, message: str = ""):
        super().__init__(
            message
            or "pytrace needs root (CAP_BPF and CAP_PERFMON) to load BPF programs; run it with sudo."
        )


class LoadError(RuntimeFailure):
    """A map or program could not be created (other than a verifier rejection)."""


class VerifierError(LoadError):
    """The kernel's verifier rejected a probe's program.

    `probe` is the ProbeSpec, `errno` the load's errno, `log` the whole
    verifier log (possibly only its tail, if it was huge); `detail` holds
    its last lines. `insn` is the instruction the verifier stopped at (or
    None) and `span` the script text that instruction came from.
    """

    TAIL_LINES = 40

    def __init__(self, probe, errno: int, log: str, source_name: str = ""):
        self.probe = probe
        self.errno = errno
        self.log = log
        lines = [ln for ln in log.splitlines() if ln.strip()]
        self.reason = _verifier_reason(lines) or os.strerror(errno)
        self.insn = _failing_insn(lines)
        self.span = probe.span_of(self.insn) if self.insn is not None else probe.span
        where = f"{source_name or 'script'}:{self.span}: " if self.span.line else ""
        message = f"{where}the BPF verifier rejected probe {probe.name}: {self.reason}"
        super().__init__(message, "\n".join(lines[-self.TAIL_LINES:]))


class AttachError(RuntimeFailure):
    """A loaded probe could not be attached to its event."""


def _failing_insn(lines: list[str]) -> int | None:
    """The last instruction the verifier printed (`12: (85) call ...`),
    which is where it gave up."""
    for line in reversed(lines):
        number, sep, rest = line.partition(": (")
        if sep and number.isdigit():
            return int(number)
    return None


def _verifier_reason(lines: list[str]) -> str:
    """The line of the log that says what is wrong: the last line before the
    verifier's closing statistics."""
    for line in reversed(lines):
        text = line.strip()
        if text.startswith(("processed ", "verification time", "stack depth")):
            continue
        return text.rstrip(".")
    return ""
