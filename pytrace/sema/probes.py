"""Attach points: what each `provider:...` text means and what it expands to.

    tracepoint:sched:sched_process_*
expands to one `AttachTarget` per matching tracepoint, each with the fields
of its record (from tracefs), because a probe body is compiled once per
target (`args` differs between them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytrace import tracefs
from pytrace.diagnostics import Diagnostics
from pytrace.source import Span

PROVIDER_ALIASES = {"t": "tracepoint", "i": "interval"}
INTERVAL_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "hz": None}
NOT_YET = {
    "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "profile", "software",
    "hardware", "watchpoint", "rawtracepoint", "fentry", "fexit", "kfunc", "kretfunc",
}


@dataclass
class AttachTarget:
    """One concrete place a probe body runs."""

    kind: str           # begin | end | tracepoint | interval
    name: str           # display name, e.g. tracepoint:sched:sched_switch
    target: tuple
    span: Span
    fields: dict[str, tracefs.TracepointField] = field(default_factory=dict)


def resolve(text: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """Every target an attach point names; [] after reporting an error."""
    if text in ("BEGIN", "begin"):
        return [AttachTarget("begin", "BEGIN", (), span)]
    if text in ("END", "end"):
        return [AttachTarget("end", "END", (), span)]
    provider, _, rest = text.partition(":")
    provider = PROVIDER_ALIASES.get(provider, provider)
    if provider == "tracepoint":
        return _tracepoints(rest, span, diags)
    if provider == "interval":
        return _interval(rest, span, diags)
    if provider in NOT_YET:
        diags.error(span, f"probe type '{provider}' is not supported by pytrace yet")
    else:
        diags.error(
            span,
            f"unknown probe type '{provider}' in attach point '{text}'",
            "supported here: BEGIN, END, tracepoint:CATEGORY:NAME, interval:ms:N",
        )
    return []


def _tracepoints(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    category, sep, event = rest.partition(":")
    if not sep or not category or not event or ":" in event:
        diags.error(span, f"invalid tracepoint 'tracepoint:{rest}': expected tracepoint:CATEGORY:NAME")
        return []
    try:
        if "*" in rest or "?" in rest:
            pairs = tracefs.list_tracepoints(rest)
        else:
            pairs = [(category, event)] if tracefs.exists(category, event) else []
    except (OSError, tracefs.TracefsError) as err:
        diags.error(span, f"cannot read tracepoints: {err}")
        return []
    if not pairs:
        diags.error(
            span,
            f"tracepoint not found: {category}:{event}",
            f"list the available ones with: pytrace -l 'tracepoint:{category}:*'",
        )
        return []
    targets = []
    for cat, ev in pairs:
        fields = {f.name: f for f in tracefs.read_format(cat, ev)}
        targets.append(AttachTarget("tracepoint", f"tracepoint:{cat}:{ev}", (cat, ev), span, fields))
    return targets


def _interval(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    unit, _, count = rest.partition(":")
    if unit not in INTERVAL_UNITS or not count.isdigit() or int(count) == 0:
        diags.error(
            span,
            f"invalid interval 'interval:{rest}': expected interval:UNIT:N with UNIT one of s, ms, us, hz and N > 0",
        )
        return []
    n = int(count)
    period = 1_000_000_000 // n if unit == "hz" else INTERVAL_UNITS[unit] * n
    return [AttachTarget("interval", f"interval:{unit}:{n}", (period,), span)]
