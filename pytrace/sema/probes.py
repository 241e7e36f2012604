"""Attach points: what each `provider:...` text means and what it expands to.

    tracepoint:sched:sched_process_*
expands to one `AttachTarget` per matching tracepoint, each with the fields
of its record (from tracefs), because a probe body is compiled once per
target (`args` differs between them).

The provider is looked up in pytrace.probe_kinds; its row names the
expander here (`_expand_<name>`) that reads the rest of the text.
"""

from __future__ import annotations

import fnmatch
import os
from pytrace.plain import dataclass, field

from pytrace import probe_kinds, tracefs
from pytrace.diagnostics import Diagnostics
from pytrace.source import Span

INTERVAL_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "hz": None}


@dataclass
class AttachTarget:
    """One concrete place a probe body runs."""

    kind: str           # its row in pytrace.probe_kinds: begin, tracepoint, ...
    name: str           # display name, e.g. tracepoint:sched:sched_switch
    target: tuple
    span: Span
    fields: dict[str, tracefs.TracepointField] = field(default_factory=dict)
    nargs: int | None = None  # how many argN a raw tracepoint passes
    event_id: int | None = None  # a tracepoint's id (its records' common_type)
    syscall_nr: int | None = None  # a syscalls:sys_enter_X/sys_exit_X tracepoint's system call number
    func: str = ""      # the function it is on (uprobe, kprobe, fentry): what `func` reads
    usdt_args: tuple = ()  # a USDT location's arguments (pytrace.symbols.UsdtArgument)
    typed_args: tuple = ()  # (name, type) of the arguments `args.NAME` reads: BTF's, or a uprobe's DWARF


class Given:
    """What the command line and environment give a script besides its
    text: the -p process (-1 for none; uprobes on libraries are found in its
    maps), the positional parameters ($1, $2, ...), the default stack mode,
    and whether truth values are bools (upstream: `1 == 1` prints true) or
    integers (0.17: it prints 1)."""

    def __init__(self, pid: int = -1, params: tuple[str, ...] = (), stack_mode: str = "bpftrace",
                 bools: bool = False, unsafe: bool = False, source_name: str = "stdin",
                 missing_probes: str = "error", helper_errors: bool = False):
        self.helper_errors = helper_errors  # -k: failed helper calls are reported
        self.missing_probes = missing_probes  # an attach point that names nothing: error, warn or ignore
        self.bools = bools
        self.unsafe = unsafe  # --unsafe: system(), signal() and the like are allowed
        self.source_name = source_name  # where errorf() and warnf() say they are
        self.pid = pid
        self.params = tuple(params)
        self.stack_mode = stack_mode  # how kstack/ustack print unless they say (BPFTRACE_STACK_MODE)


NOTHING_GIVEN = Given()


def missing(diags: Diagnostics, span: Span, message: str, *hints: str) -> None:
    """An attach point that names nothing there is (a function, a binary, a
    tracepoint): an error unless the script's missing_probes setting says to
    warn or to skip it (check.py decides)."""
    diags.error(span, message, *hints).severity = "missing"


def resolve(text: str, span: Span, diags: Diagnostics, given: Given = NOTHING_GIVEN) -> list[AttachTarget]:
    """Every target an attach point names; [] after reporting an error."""
    spelling, _, rest = text.partition(":")
    row = probe_kinds.provider(spelling)
    if row is None:
        supported = ", ".join(k.name for k in probe_kinds.PROBE_KINDS.values() if k.supported)
        diags.error(span, f"unknown probe type '{spelling}' in attach point '{text}'",
                    f"pytrace knows: {supported}")
        return []
    if not row.supported:
        diags.error(span, f"probe type '{row.name}' is not supported by pytrace yet")
        return []
    expand = globals()["_expand_" + row.expand]
    before = len(diags.items)
    targets = expand(rest, span, diags, given) if row.expand in _NEEDS_GIVEN else expand(rest, span, diags)
    _settle_missing(diags, before, given.missing_probes)
    return targets


def _settle_missing(diags: Diagnostics, start: int, setting: str) -> None:
    """What `missing` reported since `start`: errors, warnings or nothing,
    as the script's missing_probes setting says."""
    kept = diags.items[:start]
    for diag in diags.items[start:]:
        if diag.severity == "missing":
            if setting == "ignore":
                continue
            diag.severity = "warning" if setting == "warn" else "error"
        kept.append(diag)
    diags.items[:] = kept


def _expand_begin(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _special("begin", "BEGIN", rest, span, diags)


def _expand_end(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _special("end", "END", rest, span, diags)


def _special(kind: str, name: str, rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    if rest:
        diags.error(span, f"{name} takes nothing after it: write {name} {{ ... }}")
        return []
    return [AttachTarget(kind, name, (), span)]


def _expand_tracepoint(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
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
        missing(
            diags,
            span,
            f"tracepoint not found: {category}:{event}",
            f"list the available ones with: pytrace -l 'tracepoint:{category}:*'",
        )
        return []
    targets = []
    for cat, ev in pairs:
        fields = {f.name: f for f in tracefs.read_format(cat, ev)}
        targets.append(AttachTarget("tracepoint", f"tracepoint:{cat}:{ev}", (cat, ev), span, fields,
                                    event_id=tracefs.event_id(cat, ev), syscall_nr=_syscall_nr(cat, ev)))
    return targets


def _syscall_nr(category: str, event: str) -> int | None:
    """The system call a syscalls:sys_enter_X or sys_exit_X tracepoint is
    for (pytrace.syscall_table), or None."""
    if category != "syscalls" or not event.startswith(("sys_enter_", "sys_exit_")):
        return None
    from pytrace.syscall_table import syscall_number

    return syscall_number(event.split("_", 2)[2], os.uname().machine)


def _number(text: str) -> int | None:
    """A count in an attach point: 100, 1_000, 1e6 (as bpftrace reads them)."""
    import re

    match = re.fullmatch(r"(\d[\d_]*)(?:e(\d+))?", text)
    if match is None:
        return None
    return int(match.group(1).replace("_", "")) * 10 ** int(match.group(2) or 0)


def _unit_count(rest: str) -> tuple[str, str]:
    """`ms:100` and upstream's `100ms` (a bare number: nanoseconds) as (unit, count)."""
    import re

    if ":" not in rest:
        match = re.fullmatch(r"(\d[\d_e]*)(ns|us|ms|s|hz)?", rest)
        if match:
            count, unit = match.groups()
            if unit in (None, "ns"):
                return "us", str(max(int(_number(count) or 0) // 1000, 1)) if _number(count) else count
            return unit, count
    unit, _, count = rest.partition(":")
    return unit, count


def _expand_interval(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    unit, count = _unit_count(rest)
    if unit not in INTERVAL_UNITS or not _number(count):
        diags.error(
            span,
            f"invalid interval 'interval:{rest}': expected interval:UNIT:N with UNIT one of s, ms, us, hz and N > 0",
        )
        return []
    n = _number(count)
    period = 1_000_000_000 // n if unit == "hz" else INTERVAL_UNITS[unit] * n
    return [AttachTarget("interval", f"interval:{unit}:{n}", (period,), span)]


PROFILE_UNITS = ("hz", "s", "ms", "us")


def _expand_profile(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """profile:hz:N samples N times a second, profile:s|ms|us:N every N units,
    on every CPU. Target: (frequency, period_ns), one of them 0."""
    unit, count = _unit_count(rest)
    if unit not in PROFILE_UNITS or not _number(count):
        diags.error(span, f"invalid profile probe 'profile:{rest}': expected profile:UNIT:N with UNIT"
                          " one of hz, s, ms, us and N > 0")
        return []
    n = _number(count)
    target = (n, 0) if unit == "hz" else (0, INTERVAL_UNITS[unit] * n)
    return [AttachTarget("profile", f"profile:{unit}:{n}", target, span)]


def _expand_software(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _perf_counter("software", probe_kinds.SOFTWARE_EVENTS, rest, span, diags)


def _expand_hardware(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _perf_counter("hardware", probe_kinds.HARDWARE_EVENTS, rest, span, diags)


def _perf_counter(kind: str, table, rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """software:EVENT[:COUNT] and hardware:EVENT[:COUNT]: the probe runs every
    COUNT events (the event's default when left out). Target: (config, count)."""
    name, _, count = rest.partition(":")
    event = probe_kinds.perf_event(table, name)
    if event is None:
        names = ", ".join(e.name for e in table)
        diags.error(span, f"unknown {kind} event '{name}'", f"{kind} events: {names}")
        return []
    if count and not _number(count):
        diags.error(span, f"invalid {kind} probe '{kind}:{rest}': the count must be a number > 0")
        return []
    n = _number(count) if count else event.default
    return [AttachTarget(kind, f"{kind}:{rest}", (event.config, n), span)]


WATCH_MODES = {"r": 1, "w": 2, "rw": 3, "x": 4}  # HW_BREAKPOINT_R, _W, _RW, _X
WATCH_LENGTHS = (1, 2, 4, 8)


def _expand_watchpoint(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """watchpoint:ADDRESS:LENGTH:MODE: a hardware breakpoint on LENGTH
    bytes at ADDRESS (in the -p or -c process, else in every process),
    firing on reads (r), writes (w), both (rw) or execution (x). Target:
    (address, length, bp_type)."""
    parts = rest.split(":")
    bad = f"invalid watchpoint 'watchpoint:{rest}': expected watchpoint:ADDRESS:LENGTH:MODE"
    if len(parts) != 3:
        diags.error(span, bad, "for example watchpoint:0x404028:8:w (MODE r, w, rw or x)")
        return []
    text, length_text, mode = parts
    try:
        address = int(text, 0)
        length = int(length_text, 0)
    except ValueError:
        diags.error(span, bad, "ADDRESS and LENGTH are numbers, as in watchpoint:0x404028:8:w")
        return []
    if length not in WATCH_LENGTHS:
        diags.error(span, f"invalid watchpoint length {length}: it must be 1, 2, 4 or 8 bytes")
        return []
    if mode not in WATCH_MODES:
        diags.error(span, f"invalid watchpoint mode '{mode}': it must be r, w, rw or x")
        return []
    if mode == "r" and os.uname().machine in ("x86_64", "i686"):
        diags.error(span, "invalid watchpoint mode 'r': x86 breakpoints cannot watch reads alone",
                    "watch reads and writes: rw")
        return []
    name = f"watchpoint:{address}:{length}:{mode}"  # the address in decimal, as bpftrace names it
    return [AttachTarget("watchpoint", name, (address, length, WATCH_MODES[mode]), span)]


def _expand_rawtracepoint(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """rawtracepoint:EVENT (or MODULE:EVENT; wildcards too): the kernel's
    tracepoint before its record is made, arguments arg0..argN as the
    kernel passes them (their number, names and types from BTF)."""
    from pytrace import btf

    event = rest.rpartition(":")[2]
    if not event:
        diags.error(span, f"invalid raw tracepoint 'rawtracepoint:{rest}': expected rawtracepoint:EVENT")
        return []
    try:
        if _is_wildcard(event):
            events = [name[len("btf_trace_"):] for name in btf.names(btf.KIND_TYPEDEF)
                      if name.startswith("btf_trace_") and fnmatch.fnmatchcase(name[len("btf_trace_"):], event)]
        else:
            events = [event]
        found = [(e, btf.raw_tracepoint_args(e)) for e in events]
    except btf.BtfError as err:
        diags.error(span, f"cannot check raw tracepoint {event}: {err}")
        return []
    found = [(e, n) for e, n in found if n is not None]
    if not found:
        missing(diags, span, f"raw tracepoint not found: {event}",
                    f"the kernel's raw tracepoints are its tracepoints' events: pytrace -l 'tracepoint:*:{event}*'")
        return []
    return [AttachTarget("rawtracepoint", f"rawtracepoint:{e}", (e,), span, nargs=n,
                         typed_args=_typed_args(lambda types, e=e: types.raw_tracepoint_params(e)))
            for e, n in found]


def _expand_kprobe(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _kernel_function("kprobe", rest, span, diags)


def _expand_kretprobe(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _kernel_function("kretprobe", rest, span, diags)


def _kernel_function(kind: str, rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """kprobe:FUNC[+OFFSET] or kprobe:MODULE:FUNC (and kretprobe:...): a
    kernel function, checked against /proc/kallsyms. Target: (function,
    offset)."""
    func = _one_name(kind, "FUNCTION", rest.partition("+")[0], span, diags, shown=rest)
    if func is None:
        return []
    plus, offset_text = rest.partition("+")[1:]
    offset = 0
    if plus:
        try:
            offset = int(offset_text, 0)
        except ValueError:
            offset = -1
        if offset < 0 or kind == "kretprobe":
            diags.error(span, f"invalid {kind} '{kind}:{rest}': "
                              + ("a kretprobe takes no offset" if kind == "kretprobe" else "the offset must be a number"))
            return []
    try:
        known = kernel_functions()
    except OSError as err:
        diags.error(span, f"cannot read the kernel's symbols: {err.strerror}")
        return []
    funcs = sorted(fnmatch.filter(known, func)) if _is_wildcard(func) else [func] if func in known else []
    if not funcs:
        missing(diags, span, f"kernel function not found: {func}", "is it spelled as in /proc/kallsyms?")
        return []
    return [AttachTarget(kind, f"{kind}:{f}" + (f"+{offset}" if offset else ""), (f, offset), span, func=f)
            for f in funcs]


_kallsyms: dict[str, str] | None = None


def kernel_symbols() -> dict[str, str]:
    """The kernel's symbols (/proc/kallsyms, built-in ones): name -> type letter."""
    global _kallsyms
    if _kallsyms is None:
        names = {}
        with open("/proc/kallsyms") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    names.setdefault(parts[2], parts[1])
        _kallsyms = names
    return _kallsyms


def kernel_functions() -> set[str]:
    """The names of the kernel's functions (text symbols of /proc/kallsyms)."""
    return {name for name, kind in kernel_symbols().items() if kind in ("t", "T")}


def _expand_fentry(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _btf_function("fentry", rest, span, diags)


def _expand_fexit(rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    return _btf_function("fexit", rest, span, diags)


def _btf_function(kind: str, rest: str, span: Span, diags: Diagnostics) -> list[AttachTarget]:
    """fentry:[MODULE:]FUNC and fexit:...: a kernel function BTF describes;
    its arguments are arg0..argN (fexit adds retval). Target: (function,)."""
    from pytrace import btf

    func = _one_name(kind, "FUNCTION", rest, span, diags, wildcards=True)
    if func is None:
        return []
    try:
        funcs = fnmatch.filter(btf.names(btf.KIND_FUNC), func) if _is_wildcard(func) else [func]
        found = [(f, btf.func_args(f)) for f in funcs]
    except btf.BtfError as err:
        diags.error(span, f"cannot check {kind}:{func}: {err}")
        return []
    found = [(f, n) for f, n in found if n is not None]
    if not found:
        missing(diags, span, f"kernel function not found in BTF: {func}")
        return []
    return [AttachTarget(kind, f"{kind}:{f}", (f,), span, nargs=n, func=f,
                         typed_args=_typed_args(lambda types, f=f: types.function_params(f)))
            for f, n in found]


def _dwarf_args(path: str, func: str) -> tuple:
    """A uprobe's arguments by name and type from its binary's DWARF, or ()."""
    from pytrace import dwarf

    params = dwarf.function_params(path, func)
    return tuple((p.name, p.type) for p in params) if params else ()


def _typed_args(find) -> tuple:
    """Named, typed arguments from the kernel's BTF (`args.prev`), or ()."""
    from pytrace import btf

    try:
        return tuple(find(btf.kernel_types()) or ())
    except btf.BtfError:
        return ()


def _one_name(kind: str, what: str, rest: str, span: Span, diags: Diagnostics, shown: str | None = None,
              wildcards: bool = True):
    """The last `:` part of an attach point (an optional MODULE: before it
    is ignored), or None after reporting it missing."""
    name = rest.rpartition(":")[2]
    if not name or (not wildcards and _is_wildcard(name)):
        diags.error(span, f"invalid {kind} '{kind}:{shown if shown is not None else rest}': expected {kind}:{what}")
        return None
    return name


# ------------------------------------------------------------------ uprobes

_NEEDS_GIVEN = {"uprobe", "uretprobe", "usdt"}


def _expand_usdt(rest: str, span: Span, diags: Diagnostics, given: Given) -> list[AttachTarget]:
    """usdt:BINARY:PROVIDER:NAME or usdt:BINARY:NAME (any provider),
    wildcards in each part; with -p, the process's libraries count too.
    One target per location of every matching probe (each location has its
    own argument places). Target: (path, file offset, semaphore offset)."""
    from pytrace import symbols

    binary, sep, spec = rest.partition(":")
    if not sep or not (binary or given.pid > 0) or not spec or spec.count(":") > 1:
        diags.error(span, f"invalid usdt probe 'usdt:{rest}': expected usdt:BINARY:[PROVIDER:]NAME")
        return []
    provider, _, name = spec.replace('"', "").rpartition(":")
    try:
        paths = _binaries(binary, given.pid)
        if not paths:
            missing(diags, span, f"binary not found: {binary}",
                        "give its path, the name of a program in PATH, or a library's name (libc)")
            return []
        probes = [p for path in paths for p in symbols.usdt_probes(path, given.pid if len(paths) == 1 else -1)]
    except symbols.SymbolError as err:
        diags.error(span, f"cannot use usdt 'usdt:{rest}': {err}")
        return []
    chosen = [p for p in probes if fnmatch.fnmatchcase(p.name, name)
              and (not provider or fnmatch.fnmatchcase(p.provider, provider))]
    providers = sorted({p.provider for p in chosen})
    if not provider and not _is_wildcard(name) and len(providers) > 1:
        diags.error(span, f"usdt:{rest} names a probe of {len(providers)} providers: {', '.join(providers)}",
                    f"name the provider, as in usdt:{binary}:{providers[0]}:{name}")
        return []
    targets = []
    for probe in chosen:
        shown = binary if "/" in binary and not _is_wildcard(binary) else probe.path
        for location in probe.locations:
            targets.append(AttachTarget(
                "usdt", f"usdt:{shown}:{probe.provider}:{probe.name}",
                (location.path, location.offset, probe.semaphore), span, usdt_args=location.args))
    if not targets:
        missing(diags, span, f"usdt probe not found: {spec} in {binary}",
                    f"list its probes with: pytrace -l 'usdt:{binary}:*'")
    return targets


def _expand_uprobe(rest: str, span: Span, diags: Diagnostics, given: Given) -> list[AttachTarget]:
    return _user_function("uprobe", rest, span, diags, given)


def _expand_uretprobe(rest: str, span: Span, diags: Diagnostics, given: Given) -> list[AttachTarget]:
    return _user_function("uretprobe", rest, span, diags, given)


def _user_function(kind: str, rest: str, span: Span, diags: Diagnostics, given: Given) -> list[AttachTarget]:
    """uprobe:BINARY:FUNCTION, with FUNCTION a name, a wildcard, NAME+OFFSET,
    an address (0x...), a quoted name ("ns::f(int)") or cpp:NAME (matched
    against demangled C++ names); BINARY a path (wildcards allowed), a
    program in PATH or a library by name (libc). Target: (path, file
    offset, 0 = no semaphore)."""
    from pytrace import symbols

    binary, sep, spec = rest.partition(":")
    if not sep or not binary or not spec:
        diags.error(span, f"invalid {kind} '{kind}:{rest}': expected {kind}:BINARY:FUNCTION")
        return []
    try:
        paths = _binaries(binary, given.pid)
    except symbols.SymbolError as err:
        diags.error(span, f"cannot use {kind} '{kind}:{rest}': {err}")
        return []
    if not paths:
        missing(diags, span, f"binary not found: {binary}",
                    "give its path, the name of a program in PATH, or a library's name (libc)")
        return []
    targets = []
    for path in paths:
        try:
            places = _functions_in(kind, path, spec, span, diags, several=len(paths) > 1)
        except symbols.SymbolError as err:
            diags.error(span, f"cannot use {kind} '{kind}:{rest}': {err}")
            return []
        if places is None:
            return []
        # named as bpftrace names it: a path as written, a library or program by where it was found
        shown = binary if "/" in binary and not _is_wildcard(binary) else path
        for label, func, offset in places:
            typed = _dwarf_args(path, func) if kind == "uprobe" and not _is_wildcard(spec) else ()
            targets.append(AttachTarget(kind, f"{kind}:{shown}:{label}", (path, offset, 0), span, func=func,
                                        typed_args=typed))
    if not targets:
        diags.error(span, f"no function of {binary} matches {spec}",
                    f"list them with: pytrace -l '{kind}:{binary}:*'")
    return targets


def _is_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _binaries(binary: str, pid: int) -> list[str]:
    """The files a uprobe's BINARY names (several for a wildcard; with -p,
    `*` or nothing is every file the process has mapped executable)."""
    from pytrace import symbols

    if binary in ("*", "") and pid > 0:
        return symbols.mapped_files(pid)
    if _is_wildcard(binary):
        import glob

        return sorted(os.path.abspath(p) for p in glob.glob(binary) if os.path.isfile(p))
    found = symbols.find_binary(binary, pid)
    return [found] if found else []


def _functions_in(kind: str, path: str, spec: str, span: Span, diags: Diagnostics, several: bool = False):
    """[(label, function, file offset)] for the FUNCTION part, or None after
    an error. The label is how the probe is named: the function as the
    script wrote it (a wildcard's matches by their own names). With
    `several` binaries, one without the function has none of it."""
    from pytrace import symbols

    name, cpp = spec, False
    if name.startswith("cpp:"):
        name, cpp = name[4:], True
    if name.startswith('"') and '"' in name[1:]:  # "ns::f(int)" or "name"+4
        quoted, _, after = name[1:].partition('"')
        name = quoted + after
    if name[:1].isdigit():
        try:
            address = int(name, 0)
        except ValueError:
            diags.error(span, f"invalid address '{name}' in {kind}:{path}:{spec}")
            return None
        inside = [sym for sym in symbols.functions(path) if sym.address <= address < sym.address + max(sym.size, 1)]
        func = symbols.demangle(inside[0].name) if inside else name
        return [(str(address), func, symbols.file_offset(path, address=address))]
    base, plus, extra = name.partition("+")
    offset = 0
    if plus:
        if kind == "uretprobe":
            diags.error(span, f"invalid uretprobe '{kind}:{path}:{spec}': a uretprobe takes no offset")
            return None
        try:
            offset = int(extra, 0)
        except ValueError:
            diags.error(span, f"invalid offset '{extra}' in {kind}:{path}:{spec}: expected a number")
            return None
    funcs = symbols.functions(path)
    wildcard = _is_wildcard(base)
    matches = []
    for sym in funcs:
        if sym.address == 0:
            continue
        readable = symbols.demangle(sym.name)
        names = (sym.name, readable, readable.split("(")[0]) if (cpp or readable != sym.name) else (sym.name,)
        if any(fnmatch.fnmatchcase(n, base) if wildcard else n == base for n in names):
            matches.append((sym, readable))
    if not matches:
        if wildcard or several:
            return []
        missing(diags, span, f"function not found: {base} in {path}",
                    f"list its functions with: pytrace -l '{kind}:{path}:*'")
        return None
    places = []
    seen = set()
    for sym, readable in matches:
        if sym.address in seen:
            continue  # aliases of one function: one probe
        seen.add(sym.address)
        if offset and offset >= max(sym.size, 1):
            diags.error(span, f"offset {offset} is past the end of {readable} ({sym.size} bytes)")
            return None
        where = symbols.file_offset(path, address=sym.address) + offset
        label = (sym.name if wildcard else base) + (f"+{offset}" if plus else "")
        places.append((label, readable, where))
    return places
