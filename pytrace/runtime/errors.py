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
    its last lines.
    """

    TAIL_LINES = 40

    def __init__(self, probe, errno: int, log: str, source_name: str = ""):
        self.probe = probe
        self.errno = errno
        self.log = log
        lines = [ln for ln in log.splitlines() if ln.strip()]
        reason = _verifier_reason(lines) or os.strerror(errno)
        where = _where(probe, source_name)
        message = f"{where}the BPF verifier rejected probe {probe.name}: {reason}"
        super().__init__(message, "\n".join(lines[-self.TAIL_LINES:]))


class AttachError(RuntimeFailure):
    """A loaded probe could not be attached to its event."""


def _where(probe, source_name: str) -> str:
    span = getattr(probe, "span", None)
    if span is not None and span.line:
        return f"{source_name or 'script'}:{span}: "
    return ""


def _verifier_reason(lines: list[str]) -> str:
    """The line of the log that says what is wrong: the last line before the
    verifier's closing statistics."""
    for line in reversed(lines):
        text = line.strip()
        if text.startswith(("processed ", "verification time", "stack depth")):
            continue
        return text.rstrip(".")
    return ""
