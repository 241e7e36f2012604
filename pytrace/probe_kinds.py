"""The probe kinds: one row each, read by every stage.

    interval:ms:100 { ... }
is the row "interval": sema expands its attach point with the function the
row names (`expand`: sema.probes._expand_interval), codegen gives the
program the row's BPF program type, the session runs it in the row's phase
(BEGIN before anything is attached, END after everything is stopped, the
rest attached in between) and attaches it with the runtime function the row
names (`attach`: runtime.attach.attach_interval). A new probe type is a new
row, plus its expander and its attach function.

Rows without an expander are bpftrace's probe types pytrace does not build
yet: naming one is a clear error rather than "unknown probe type".

Plain data: this module is shared by the compiler and the runtime.
"""

from __future__ import annotations

from pytrace import program as prog
from pytrace.record import Record


class ProbeKind(Record):
    """One probe type.

    name       the provider as bpftrace spells it: "tracepoint"
    aliases    other spellings: "t"
    prog_type  the BPF program type of its code
    phase      "begin" | "end": run once with BPF_PROG_TEST_RUN, before
               attaching / after stopping; "event": attached
    rate       "low": fires a few times (BEGIN, END, intervals): a small ring
               buffer will do; "high": may burst
    expand     the sema.probes expander (`_expand_<expand>`), None when
               pytrace does not build this kind yet
    attach     the runtime.attach function (`attach_<attach>`) for "event" kinds
    context    what the probe's context gives the script: "tracepoint" (`args`,
               the record's fields from tracefs), "raw" (`arg0`..`argN`, the
               u64 arguments of a raw tracepoint), "regs" (`arg0`..`argN` from
               the argument registers of pt_regs, see pytrace.arch), "regs_ret"
               (`retval` from pt_regs), "raw_ret" (a u64 array of the arguments
               and then `retval`: fexit), "usdt" (`arg0`..`argN` where the
               USDT note says each is at its location), or "none"
    load_attach  the expected_attach_type a tracing program is loaded with
               (fentry, fexit: with the BTF id of the function), or 0
    cookie     attached through perf events with a BPF cookie: `probe` reads
               it (bpf_get_attach_cookie), so expansions can share code
    per_process  -p attaches it to that process (uprobes, USDT, watchpoints);
               the other event kinds fire everywhere and -p filters them
    listing    the pytrace.listing lister (`_list_<listing>`) that -l uses,
               None for kinds there is nothing to list of
    pid_filter -p runs the probe only in that process: false for kinds that
               do not fire in a process of their own (interval timers)
    newest_first  the kernel runs this kind's probes on one event newest
               first (uprobes): the runtime attaches them last first
    """

    __slots__ = ("name", "aliases", "prog_type", "phase", "rate", "expand", "attach", "context",
                 "load_attach", "cookie", "per_process", "listing", "pid_filter", "newest_first")

    def __init__(self, name: str, *, aliases=(), prog_type: int = 0, phase: str = "event",
                 rate: str = "high", expand: str | None = None, attach: str | None = None,
                 context: str = "none", load_attach: int = 0, cookie: bool = False,
                 per_process: bool = False, listing: str | None = None, pid_filter: bool = True,
                 newest_first: bool = False):
        self.name = name
        self.aliases = tuple(aliases)
        self.prog_type = prog_type
        self.phase = phase
        self.rate = rate
        self.expand = expand
        self.attach = attach
        self.context = context
        self.load_attach = load_attach
        self.cookie = cookie
        self.per_process = per_process
        self.listing = listing
        self.pid_filter = pid_filter
        self.newest_first = newest_first

    @property
    def supported(self) -> bool:
        return self.expand is not None


PROBE_KINDS: dict[str, ProbeKind] = {k.name: k for k in (
    ProbeKind("begin", aliases=("BEGIN",), prog_type=prog.PROG_RAW_TRACEPOINT, phase="begin",
              rate="low", expand="begin"),
    ProbeKind("end", aliases=("END",), prog_type=prog.PROG_RAW_TRACEPOINT, phase="end",
              rate="low", expand="end"),
    ProbeKind("tracepoint", aliases=("t",), prog_type=prog.PROG_TRACEPOINT, expand="tracepoint",
              attach="tracepoint", context="tracepoint", cookie=True, listing="tracepoint"),
    ProbeKind("interval", aliases=("i",), prog_type=prog.PROG_PERF_EVENT, rate="low",
              expand="interval", attach="interval", cookie=True, pid_filter=False),
    # bpftrace's other probe types: named, not built yet.
    ProbeKind("kprobe", aliases=("k",), prog_type=prog.PROG_KPROBE, expand="kprobe",
              attach="kprobe", context="regs", cookie=True, listing="kprobe"),
    ProbeKind("kretprobe", aliases=("kr",), prog_type=prog.PROG_KPROBE, expand="kretprobe",
              attach="kprobe", context="regs_ret", cookie=True, listing="kprobe"),
    ProbeKind("uprobe", aliases=("u",), prog_type=prog.PROG_KPROBE, expand="uprobe", attach="uprobe",
              context="regs", cookie=True, per_process=True, listing="uprobe", newest_first=True),
    ProbeKind("uretprobe", aliases=("ur",), prog_type=prog.PROG_KPROBE, expand="uretprobe",
              attach="uprobe", context="regs_ret", cookie=True, per_process=True, listing="uprobe",
              newest_first=True),
    ProbeKind("usdt", aliases=("U",), prog_type=prog.PROG_KPROBE, expand="usdt", attach="uprobe",
              context="usdt", cookie=True, per_process=True, listing="usdt", newest_first=True),
    ProbeKind("profile", aliases=("p",), prog_type=prog.PROG_PERF_EVENT, expand="profile",
              attach="profile", cookie=True),
    ProbeKind("software", aliases=("s",), prog_type=prog.PROG_PERF_EVENT, expand="software",
              attach="software", cookie=True, listing="software"),
    ProbeKind("hardware", aliases=("h",), prog_type=prog.PROG_PERF_EVENT, expand="hardware",
              attach="hardware", cookie=True, listing="hardware"),
    ProbeKind("watchpoint", aliases=("w",), prog_type=prog.PROG_PERF_EVENT, expand="watchpoint",
              attach="watchpoint", cookie=True, per_process=True),
    ProbeKind("asyncwatchpoint", aliases=("aw",)),
    ProbeKind("rawtracepoint", aliases=("rt",), prog_type=prog.PROG_RAW_TRACEPOINT,
              expand="rawtracepoint", attach="rawtracepoint", context="raw", listing="rawtracepoint"),
    ProbeKind("fentry", aliases=("f", "kfunc"), prog_type=prog.PROG_TRACING, expand="fentry",
              attach="tracing", context="raw", load_attach=prog.ATTACH_TRACE_FENTRY, listing="fentry"),
    ProbeKind("fexit", aliases=("fr", "kretfunc"), prog_type=prog.PROG_TRACING, expand="fexit",
              attach="tracing", context="raw_ret", load_attach=prog.ATTACH_TRACE_FEXIT, listing="fentry"),
    ProbeKind("iter", aliases=("it",)),
)}

_BY_SPELLING = {alias: k for k in PROBE_KINDS.values() for alias in (k.name, *k.aliases)}


class PerfEvent(Record):
    """A software or hardware perf event a probe can count: its name, perf's
    alias, its `config` (uapi linux/perf_event.h) and the default count of
    events between two runs of the probe (bpftrace 0.17's table)."""

    __slots__ = ("name", "alias", "config", "default")

    def __init__(self, name: str, alias: str, config: int, default: int):
        self.name = name
        self.alias = alias
        self.config = config
        self.default = default


PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1
PERF_COUNT_SW_CPU_CLOCK = 0

SOFTWARE_EVENTS = [PerfEvent(*row) for row in (
    ("alignment-faults", "", 7, 1),
    ("bpf-output", "", 10, 1),
    ("context-switches", "cs", 3, 1000),
    ("cpu-clock", "cpu", 0, 1000000),
    ("cpu-migrations", "", 4, 1),
    ("dummy", "", 9, 1),
    ("emulation-faults", "", 8, 1),
    ("major-faults", "", 6, 1),
    ("minor-faults", "", 5, 100),
    ("page-faults", "faults", 2, 100),
    ("task-clock", "", 1, 1),
)]

HARDWARE_EVENTS = [PerfEvent(*row) for row in (
    ("backend-stalls", "", 8, 1000000),
    ("branch-instructions", "branches", 4, 100000),
    ("branch-misses", "", 5, 100000),
    ("bus-cycles", "", 6, 100000),
    ("cache-misses", "", 3, 1000000),
    ("cache-references", "", 2, 1000000),
    ("cpu-cycles", "cycles", 0, 1000000),
    ("frontend-stalls", "", 7, 1000000),
    ("instructions", "", 1, 1000000),
    ("ref-cycles", "", 9, 1000000),
)]


def perf_event(table: list[PerfEvent], spelling: str) -> PerfEvent | None:
    for event in table:
        if spelling in (event.name, event.alias) and spelling:
            return event
    return None


def kind(name: str) -> ProbeKind:
    """The row of a ProbeSpec's kind."""
    return PROBE_KINDS[name]


def provider(spelling: str) -> ProbeKind | None:
    """The row an attach point's provider names: an exact spelling or alias
    first (`u` is uprobe, `U` usdt), then a full name in any case, as newer
    bpftrace accepts (`Tracepoint:`, `begin`)."""
    found = _BY_SPELLING.get(spelling)
    if found is None:
        found = PROBE_KINDS.get(spelling.lower())
    return found
