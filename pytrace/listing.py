"""`pytrace -l [PATTERN]` and `-lv`: the probes that match, one a line, as
bpftrace 0.17 prints them.

    -l 'tracepoint:sched:sched_sw*'   tracepoint:sched:sched_swap_numa
                                      tracepoint:sched:sched_switch
    -lv 'tracepoint:sched:sched_switch'
                                      tracepoint:sched:sched_switch
                                          char prev_comm[16]
                                          pid_t prev_pid ...

A probe kind's row (pytrace.probe_kinds) names its lister here
(`_list_<listing>(rest, verbose)`, yielding (name, detail lines) for the
part after the provider). A pattern with a known provider lists that kind;
any other pattern (`*sched_switch*`, or none) is matched against the full
names of every kind that can be listed without a binary, and the result is
sorted, as bpftrace sorts it. uprobe and usdt patterns need the binary:
`uprobe:./app:*`, `usdt:./app:*`.
"""

from __future__ import annotations

import fnmatch
import os

from pytrace import probe_kinds


class ListError(Exception):
    """A pattern that cannot be listed (a binary that does not exist...)."""


def list_probes(pattern: str | None, verbose: bool = False, pid: int = -1) -> list[str]:
    """The lines `-l PATTERN` (`-lv` with verbose) prints."""
    pattern = pattern or "*"
    spelling, sep, rest = pattern.partition(":")
    row = probe_kinds.provider(spelling) if sep else None
    if row is not None and row.listing is not None:
        named = [(f"{row.name}:{name}", detail) for name, detail in _lister(row)(rest, verbose, pid)]
    elif sep and ("*" in spelling or "?" in spelling) and rest.partition(":")[0] not in ("", "*"):
        # `*:./app:*`: every kind that can list what follows (uprobes and USDT of the binary)
        named = []
        for row in _rows_named(spelling):
            try:
                named += [(f"{row.name}:{name}", detail) for name, detail in _lister(row)(rest, verbose, pid)]
            except ListError:
                pass
        named.sort()
    else:
        named = []
        for row in probe_kinds.PROBE_KINDS.values():
            if row.listing in _EVERYWHERE or (pid > 0 and row.listing in _IN_A_PROCESS):
                named += [(f"{row.name}:{name}", detail) for name, detail in _lister(row)("*", verbose, pid)
                          if fnmatch.fnmatchcase(f"{row.name}:{name}", pattern)]
        named.sort()
    lines = []
    for name, detail in named:
        lines.append(name)
        if verbose:
            lines += [f"    {d}" for d in detail]
    return lines


def _rows_named(glob: str) -> list:
    """The rows whose provider matches a glob and whose lister takes a
    binary (uprobes, USDT), each lister once."""
    seen, rows = set(), []
    for row in probe_kinds.PROBE_KINDS.values():
        if row.listing in _IN_A_PROCESS and row.listing not in seen and fnmatch.fnmatchcase(row.name, glob):
            seen.add(row.listing)
            rows.append(row)
    return rows


# With -p, `-l` lists the process's uprobes and USDT probes too.
_IN_A_PROCESS = ("uprobe", "usdt")


# The kinds `-l` lists with no pattern (the others need a binary, or list
# nothing useful: intervals and profiles are not things in the kernel).
_EVERYWHERE = ("tracepoint", "software", "hardware", "rawtracepoint", "kprobe")


def _lister(row):
    return globals()["_list_" + row.listing]


def _list_tracepoint(rest: str, verbose: bool, pid: int):
    from pytrace import tracefs

    category, _, event = rest.partition(":")
    for cat, ev in tracefs.list_tracepoints(f"{category or '*'}:{event or '*'}"):
        yield f"{cat}:{ev}", (_tracepoint_fields(cat, ev) if verbose else [])


def _tracepoint_fields(category: str, event: str) -> list[str]:
    """The fields of a tracepoint's record as declared in its format file
    (`char prev_comm[16]`, `__data_loc char[] filename`), common ones left
    out, as bpftrace -lv shows them."""
    from pytrace import tracefs

    path = os.path.join(tracefs.root(), "events", category, event, "format")
    fields = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("field:"):
                decl = line[len("field:"):].split(";")[0].strip()
                if not decl.split("[")[0].split()[-1].lstrip("*").startswith("common_"):
                    fields.append(decl)
    return fields


def _list_software(rest: str, verbose: bool, pid: int):
    return _perf_events(probe_kinds.SOFTWARE_EVENTS, rest)


def _list_hardware(rest: str, verbose: bool, pid: int):
    return _perf_events(probe_kinds.HARDWARE_EVENTS, rest)


def _perf_events(table, rest: str):
    """`software:cpu-clock:` (the count left empty, as bpftrace writes it)."""
    glob = rest.partition(":")[0] or "*"
    for event in table:
        if fnmatch.fnmatchcase(event.name, glob) or (event.alias and fnmatch.fnmatchcase(event.alias, glob)):
            yield f"{event.name}:", []


def _list_rawtracepoint(rest: str, verbose: bool, pid: int):
    """The events with a btf_trace_<event> typedef in the kernel's BTF
    (-lv: their arguments, as __bpf_trace_<event> declares them)."""
    for name, _ in _btf_names(btf_kind="typedef", prefix="btf_trace_", glob=rest.rpartition(":")[2] or "*"):
        yield name, (_declarations(f"__bpf_trace_{name}", skip=1) if verbose else [])


def _list_kprobe(rest: str, verbose: bool, pid: int):
    """From tracefs's available_filter_functions (the functions kprobes can
    attach to); nothing where the kernel has no kprobes or hides the list."""
    from pytrace import tracefs

    glob = rest or "*"
    try:
        with open(os.path.join(tracefs.root(), "available_filter_functions")) as f:
            names = sorted({line.split()[0] for line in f if line.strip()})
    except (OSError, tracefs.TracefsError):
        return
    for name in names:
        if fnmatch.fnmatchcase(name, glob):
            yield name, []


def _list_fentry(rest: str, verbose: bool, pid: int):
    """The kernel's functions in its BTF (-lv: their parameters)."""
    for name, _ in _btf_names(btf_kind="func", prefix="", glob=rest.rpartition(":")[2] or "*"):
        yield name, (_declarations(name) if verbose else [])


def _declarations(func: str, skip: int = 0) -> list[str]:
    from pytrace import btf

    try:
        return btf.kernel_types().declarations(func, skip) or []
    except btf.BtfError:
        return []


def _btf_names(btf_kind: str, prefix: str, glob: str):
    """Names of BTF types of a kind that start with `prefix` (cut off) and
    match `glob`; nothing without BTF."""
    from pytrace import btf

    try:
        names = btf.names(btf.KIND_TYPEDEF if btf_kind == "typedef" else btf.KIND_FUNC)
    except btf.BtfError:
        return
    for name in names:
        if name.startswith(prefix) and fnmatch.fnmatchcase(name[len(prefix):], glob):
            yield name[len(prefix):], []


def _list_uprobe(rest: str, verbose: bool, pid: int):
    """`uprobe:BINARY[:GLOB]`: the binary's functions, sorted, by their
    names in the ELF (C++ names mangled, as bpftrace lists them); with -p,
    `uprobe:*` lists every binary the process maps. -lv: their parameters,
    from DWARF."""
    from pytrace import symbols

    binary, _, glob = rest.partition(":")
    for shown, path in _binaries(binary, pid, "uprobe"):
        try:
            names = sorted({sym.name for sym in symbols.functions(path) if sym.address})
        except symbols.SymbolError as err:
            raise ListError(str(err)) from None
        for name in names:
            if fnmatch.fnmatchcase(name, glob or "*"):
                yield f"{shown}:{name}", (_dwarf_declarations(path, name) if verbose else [])


def _dwarf_declarations(path: str, function: str) -> list[str]:
    """A function's parameters as its DWARF declares them (`int i`)."""
    from pytrace import dwarf

    return [f"{p.decl} {p.name}" for p in dwarf.function_params(path, function) or []]


def _list_usdt(rest: str, verbose: bool, pid: int):
    """`usdt:BINARY[:[PROVIDER:]GLOB]`: the binary's USDT probes (with -p,
    `usdt:*`: of every binary the process maps)."""
    from pytrace import symbols

    binary, _, spec = rest.partition(":")
    provider_glob, _, name_glob = spec.rpartition(":") if spec.count(":") else ("*", "", spec)
    for shown, path in _binaries(binary, pid, "usdt"):
        try:
            probes = symbols.usdt_probes(path, -1)
        except symbols.SymbolError as err:
            raise ListError(str(err)) from None
        names = sorted({f"{p.provider}:{p.name}" for p in probes
                        if fnmatch.fnmatchcase(p.provider, provider_glob or "*")
                        and fnmatch.fnmatchcase(p.name, name_glob or "*")})
        for name in names:
            yield f"{shown}:{name}", []


def _binaries(binary: str, pid: int, kind: str) -> list[tuple[str, str]]:
    """(as shown, path) of the binaries a pattern names: one binary, files
    matching a wildcard, or with -p every file the process maps."""
    import glob

    from pytrace import symbols

    if binary in ("", "*") and pid > 0:
        return [(path, path) for path in symbols.mapped_files(pid)]
    if not binary or binary == "*":
        raise ListError(f"listing {kind} probes needs a binary: pytrace -l '{kind}:/path/to/binary:*'"
                        f" (or a process: pytrace -p PID -l '{kind}:*')")
    if "*" in binary or "?" in binary:
        return [(path, path) for path in sorted(glob.glob(binary)) if os.path.isfile(path)]
    try:
        path = symbols.find_binary(binary, pid)
    except symbols.SymbolError as err:
        raise ListError(str(err)) from None
    if path is None:
        raise ListError(f"binary not found: {binary}")
    return [(binary if "/" in binary else path, path)]
