"""The compiled program: plain data handed from the compiler to the runtime.

This is the whole contract between the two halves. The runtime imports
nothing from the compiler; it reads these records, creates the maps, patches
the relocations and loads the instructions. A `CompiledProgram` pickles, which
is what the compile cache stores. The classes are plain `Record`s, not
dataclasses, because every run (cache hits included) loads this module.

Layouts are offsets and sizes in bytes, little-endian, as the BPF code writes
them: map keys, map values and ring-buffer records.
"""

from __future__ import annotations

from pytrace.record import Record
from pytrace.source import NO_SPAN, Span

# BPF constants from uapi linux/bpf.h (only those the contract names).
MAP_HASH = 1
MAP_ARRAY = 2
MAP_PERCPU_HASH = 5
MAP_PERCPU_ARRAY = 6
MAP_LRU_HASH = 9
MAP_LRU_PERCPU_HASH = 10
MAP_RINGBUF = 27

# Map flags: a map made with this one allocates an element when a key is
# first stored, instead of all max_entries of them up front.
MAP_NO_PREALLOC = 1

PROG_KPROBE = 2
PROG_TRACEPOINT = 5
PROG_PERF_EVENT = 7
PROG_RAW_TRACEPOINT = 17
PROG_TRACING = 26
ATTACH_TRACE_FENTRY = 24
ATTACH_TRACE_FEXIT = 25

# Every ring-buffer record starts with a u64 record id: RECORD_EXIT asks the
# runtime to stop; RECORD_PID (then the pid) says a process's user-space
# addresses were seen for the first time (the runtime reads its memory map
# at once, so its symbols resolve even after it exits); id n >=
# RECORD_OUTPUT_BASE is outputs[n - RECORD_OUTPUT_BASE].
RECORD_EXIT = 0
RECORD_PID = 1
RECORD_OUTPUT_BASE = 2

# Symbols whose 64-bit immediate the loader fills in at load time (the code
# reads them as `ld_imm64` constants, so they cost nothing per event and the
# object stays reusable from the compile cache).
CONST_CPID = "pytrace_const_cpid"
# kaddr("vfs_read"): KADDR_PREFIX + the name, filled with the symbol's
# address in /proc/kallsyms when loaded (KASLR moves it every boot).
KADDR_PREFIX = "pytrace_kaddr_"
# percpu_kaddr("runqueues"): PERCPU_PREFIX + the name, an ld_imm64 the
# loader makes a BPF_PSEUDO_BTF_ID of the kernel variable (its BTF id),
# which bpf_per_cpu_ptr / bpf_this_cpu_ptr turn into an address.
PERCPU_PREFIX = "pytrace_percpu_"
CONST_START_NS = "pytrace_const_start_ns"

# What the `probe` builtin reads: this plus the probe's index (through the
# attach cookie of a perf event, so the expansions of a wildcard can share
# one program; a constant in the code otherwise).
PROBE_ID_BASE = 1 << 32

# Many syscalls:sys_enter_X (or sys_exit_X) tracepoints are not attached one
# by one: each tracepoint's detach waits out an RCU grace period (~80 ms,
# half a minute for all of them), so from DISPATCH_MIN of them on, one
# program on raw_syscalls:sys_enter (sys_exit), whose records have the same
# layout, tail-calls each probe's code from a program table indexed by the
# system call number. `probe` there is DISPATCH_ID_BASE[event] + the number.
DISPATCH_MIN = 8
DISPATCH_TABLES = {"sys_enter": "__pytrace_sys_enter", "sys_exit": "__pytrace_sys_exit"}
DISPATCH_SLOTS = 1024
DISPATCH_ID_BASE = {"sys_enter": PROBE_ID_BASE + (1 << 20), "sys_exit": PROBE_ID_BASE + (2 << 20)}
MAP_PROG_ARRAY = 3

# join(): the strings it reads from an array, at most (bpftrace's 16).
JOIN_MAX = 16

# Field.fmt of a C array's Field("tuple"): it decodes as a list, printed [1,2,3].
ARRAY_FMT = "[]"

# bpftrace 0.17's default string size (BPFTRACE_STRLEN changes it), and
# upstream's (with --output-style upstream).
STRLEN_DEFAULT = 64
STRLEN_UPSTREAM = 1024

# The ring buffer every printf and exit() record goes through.
RINGBUF_NAME = "__pytrace_ringbuf"
# Its size is chosen at compile time by where records can come from: probes
# on events can burst (16 MiB holds ~400k small records while Python drains
# them: a flood of 300k printf lines as fast as getppid() goes, rendered as
# JSON, loses none; 8 MiB lost up to 12%), while BEGIN, END and interval
# probes write a few. A big buffer costs start-up time and memory: it is
# mapped twice into the process (pages are touched only as records fill it).
RINGBUF_SIZE = 1 << 24
RINGBUF_SIZE_SMALL = 1 << 18

# What the kernel side could not do, counted so that the runtime reports it
# (never drops silently): an array of one element, COUNTER_WORDS(n) u64s,
# that the code updates with atomic adds through a direct pointer (its
# relocation is a map *value*: the loader patches BPF_PSEUDO_MAP_VALUE).
#   word 0       records the full ring buffer had no room for ("Lost N events")
#   word 1       strings str() read that filled their whole buffer (cut short,
#                unless they were exactly that long)
#   word 2       stacks the stack map had no room for
#   word 3 + i   updates of user map i the kernel refused (the map was full)
COUNTERS_NAME = "__pytrace_counters"
COUNTER_LOST = 0
COUNTER_TRUNCATED = 1
COUNTER_STACKS = 2
COUNTER_WORDS_BEFORE_MAPS = 3


def counter_dropped(map_index: int) -> int:
    return COUNTER_WORDS_BEFORE_MAPS + map_index


# Symbols whose relocations point into a map's value rather than at the map.
VALUE_SYMBOLS = (COUNTERS_NAME,)
# A one-element array of zeros, as big as the largest aggregation value: a new
# key of a value too big for the stack (a histogram) is created from it.
ZERO_NAME = "__pytrace_zero"
# Stacks (kstack, ustack): the code copies the frames with bpf_get_stack into
# a per-CPU scratch value, hashes them, and stores them in the stack map
# under that 64-bit hash (once per distinct stack); map keys and records
# carry the hash (a ustack also the pid). A value is the byte count
# bpf_get_stack returned, then up to STACK_FRAMES_MAX addresses. Unlike the
# kernel's stack-trace maps (one stack per hash bucket, a colliding stack
# dropped or overwritten), distinct stacks never replace each other.
# Buffers that do not fit on the BPF stack (long strings, big printf records
# and tuples): one per-CPU array value, as big as the most one function uses.
BUFS_NAME = "__pytrace_bufs"
STACKS_NAME = "__pytrace_stacks"
SCRATCH_NAME = "__pytrace_scratch"
STACK_FRAMES_MAX = 127
STACK_VALUE_SIZE = 8 + 8 * STACK_FRAMES_MAX
STACKS_MAX = 65536
# The processes whose user-space addresses the code has reported (RECORD_PID).
PIDS_NAME = "__pytrace_pids"
PIDS_MAX = 65536
# One past the highest possible CPU id, a load-time constant: reading an
# aggregation in a probe adds up every CPU's slot, by CPU id (ids without a
# CPU have no slot and are skipped).
CONST_NCPUS = "pytrace_const_ncpus"
# Kernel functions (kfuncs) the code may call: the relocation on the call
# names one, and the loader puts its BTF id from /sys/kernel/btf/vmlinux there.
KFUNC_MAP_ELEM_COUNT = "bpf_map_sum_elem_count"
KFUNCS = (KFUNC_MAP_ELEM_COUNT,)


# Field kinds whose bytes are ids or addresses the runtime resolves into
# names, stacks and symbols when it prints them (sema.types.Resolved).
RESOLVED_FIELDS = ("probe", "func", "kstack", "ustack", "ksym", "usym", "username", "inet", "macaddr",
                   "strerror", "cgroup_path", "syscall_name")


class Field(Record):
    """One value in a key, a map value or a record.

    kind "int": a little-endian integer of `size` bytes (signed or not).
    kind "str": a NUL-padded string buffer of `size` bytes.
    kind "timestamp": a u64 of nanoseconds (CLOCK_MONOTONIC) that prints as
    wall-clock time in the strftime format `fmt` (strftime()).
    kind "probe": a u64 probe id that prints as the probe's name
    (CompiledProgram.probe_names); the other RESOLVED_FIELDS likewise print
    as what their ids or addresses stand for (`fmt` is a stack's mode).
    kind "tuple": `elements` are its parts' fields, offsets from its start;
    a record's `fmt` is its field names, comma-separated.
    """

    __slots__ = ("kind", "offset", "size", "signed", "fmt", "elements")

    def __init__(self, kind: str, offset: int, size: int, signed: bool = False, fmt: str = "",
                 elements: tuple = ()):
        self.kind = kind
        self.offset = offset
        self.size = size
        self.signed = signed
        self.fmt = fmt
        self.elements = tuple(elements)


class ValueSpec(Record):
    """What a map's value is: `kind` names its row in pytrace.aggregations
    (which says how to merge CPUs, sort and print it), `size` is one CPU's
    value in bytes, `params` the aggregation's constant arguments.

    kind          per-CPU layout (u64 words; each CPU's slot is 8-aligned)
    count         [n]
    sum           [total] (signed says how to read it)
    min/max       [value, set]: `set` is 0 on CPUs that never saw a value
    avg/stats     [count, total]
    hist          params (k,): (64 - k) * 2^k + 1 bucket counts
    lhist         params (min, max, step): (max - min) / step + 2 bucket counts
    int           i64/u64, not per-CPU (plain assignment)
    str           char[size], not per-CPU
    """

    __slots__ = ("kind", "size", "signed", "params")

    def __init__(self, kind: str, size: int, signed: bool = True, params: tuple = ()):
        self.kind = kind
        self.size = size
        self.signed = signed
        self.params = tuple(params)


class MapSpec(Record):
    """A map to create. The user's maps come first in CompiledProgram.maps,
    in order: map i counts its failed updates in key i of DROPPED_NAME.

    name         as the user wrote it: "@", "@calls"
    symbol       the ELF symbol the code's relocations name
    value_size   of one CPU's value for per-CPU maps
    max_entries  0 for a user map: the runtime's limit (BPFTRACE_MAP_KEYS_MAX)
    flags        MAP_NO_PREALLOC for maps of big values (histograms): 4096
                 preallocated keys of a per-CPU hist(v, 5) would be 15 KiB x
                 4096 x the CPUs
    keys         the key's layout; [] for a scalar map (one u64 key, 0)
    value        what the value is; None for maps that are not user maps
    """

    __slots__ = ("name", "symbol", "map_type", "key_size", "value_size", "max_entries", "keys", "value",
                 "flags")

    def __init__(self, name: str, symbol: str, map_type: int, key_size: int, value_size: int,
                 max_entries: int, keys: list[Field] | None = None, value: ValueSpec | None = None,
                 flags: int = 0):
        self.name = name
        self.symbol = symbol
        self.map_type = map_type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.keys = keys if keys is not None else []
        self.value = value
        self.flags = flags  # BPF_F_* map flags (MAP_NO_PREALLOC)

    @property
    def per_cpu(self) -> bool:
        return self.map_type in (MAP_PERCPU_HASH, MAP_PERCPU_ARRAY, MAP_LRU_PERCPU_HASH)

    @property
    def printable(self) -> bool:
        return self.value is not None


class Relocation(Record):
    """Instruction `insn` (an ld_imm64) refers to `symbol`: a map (the
    loader puts the map's fd there), a map's value (VALUE_SYMBOLS: the fd
    and the offset the code gave), a CONST_* (the loader puts its value), or
    a kernel function (KFUNCS: the call gets its BTF id)."""

    __slots__ = ("insn", "symbol")

    def __init__(self, insn: int, symbol: str):
        self.insn = insn
        self.symbol = symbol


class ProbeSpec(Record):
    """One BPF program and where it attaches.

    kind        target
    begin/end   ()                     run once with BPF_PROG_TEST_RUN
    tracepoint  (category, event)
    interval    (period_ns,)           a cpu-clock perf event on CPU 0

    name is for display ("tracepoint:sched:sched_switch"), function is the
    function's name in the object (probes with the same function run the
    same code: the runtime loads it once), span the attach point in the script.
    lines maps code to script: (first instruction index, line, column)
    entries in instruction order, each valid until the next.
    """

    __slots__ = ("kind", "name", "target", "prog_type", "function", "insns", "relocations", "span", "lines",
                 "probe_id", "dispatch", "internal", "subprograms")

    def __init__(self, kind: str, name: str, target: tuple, prog_type: int, function: str,
                 insns: bytes = b"", relocations: list[Relocation] | None = None, span: Span = NO_SPAN,
                 lines: list[tuple[int, int, int]] | None = None, probe_id: int = 0,
                 dispatch: tuple | None = None, internal: bool = False, subprograms: tuple[int, ...] = ()):
        self.kind = kind
        self.name = name
        self.target = target
        self.prog_type = prog_type
        self.function = function
        self.insns = insns
        self.relocations = relocations if relocations is not None else []
        self.span = span
        self.lines = lines if lines is not None else []
        self.probe_id = probe_id  # what `probe` reads: the attach cookie, or a constant
        # (program table symbol, index): not attached but put in that table,
        # which a dispatcher (internal: not one of the script's probes) runs
        self.dispatch = dispatch
        self.internal = internal
        # where the code's callbacks (for-map bodies) start, by instruction:
        # the kernel wants them described (BTF func_info) to load the program
        self.subprograms = tuple(subprograms)

    def span_of(self, insn: int) -> Span:
        """Where in the script instruction `insn` came from (the attach
        point when the code has no line for it)."""
        found = None
        for first, line, col in self.lines:
            if first > insn:
                break
            if line:
                found = (line, col)
        if found is None:
            return self.span
        return Span(found[0], found[1], found[0], found[1] + 1)


class Conversion(Record):
    """One `%...` of a printf format (not `%%`), as sema parsed it:
    `%-08.3lld` is flags "-0", width "8", precision "3", length "ll", conv "d"."""

    __slots__ = ("flags", "width", "precision", "length", "conv")

    def __init__(self, flags: str, width: str, precision: str | None, length: str | None,
                 conv: str):
        self.flags = flags
        self.width = width
        self.precision = precision
        self.length = length
        self.conv = conv


class OutputSpec(Record):
    """A statement that sends a ring-buffer record for the runtime to act on,
    one per call site (its record id is RECORD_OUTPUT_BASE + its index).

    kind          what the runtime does with the record
    printf        renders `pieces` (text and Conversions) with `args`
    print_value   prints the one value in `args` (print(42), print(@m[k]))
    print_map     prints the map whose symbol is `map`, keeping the `top`
                  largest entries (0: all) and dividing values by `div`
    clear / zero  deletes the map's entries / sets its values to zero
    time          prints the wall-clock time formatted by `fmt` (strftime)

    Record layout: bytes 0..8 hold the record id; each arg's `Field.offset`
    counts from the START of the record, id included, so every offset is
    >= 8 (e.g. `printf("%d %s", pid, comm)`: args [Field("int", 8, 8,
    signed=True), Field("str", 16, 16)], record 32 bytes). Ints are
    little-endian of 1, 2, 4 or 8 bytes; strings NUL-padded buffers; args
    are in format order; gaps and trailing padding are allowed.
    """

    __slots__ = ("kind", "args", "pieces", "fmt", "map", "top", "div")

    def __init__(self, kind: str, args: list[Field] | None = None, *, pieces: list | None = None,
                 fmt: str = "", map: str = "", top: int = 0, div: int = 0):
        self.kind = kind
        self.args = args if args is not None else []
        self.pieces = pieces if pieces is not None else []
        self.fmt = fmt
        self.map = map
        self.top = top
        self.div = div


class CompiledProgram(Record):
    """Everything a run needs; `elf` is the object the probes came from."""

    __slots__ = ("source_name", "probes", "maps", "outputs", "elf", "probe_names", "probe_funcs", "settings", "warnings")

    def __init__(self, source_name: str, probes: list[ProbeSpec], maps: list[MapSpec],
                 outputs: list[OutputSpec] | None = None, elf: bytes = b"",
                 probe_names: dict[int, str] | None = None, probe_funcs: dict[int, str] | None = None,
                 settings: dict | None = None, warnings: list[str] | None = None):
        self.source_name = source_name
        self.probes = probes
        self.maps = maps
        self.outputs = outputs if outputs is not None else []
        self.elf = elf
        self.probe_names = probe_names if probe_names is not None else {}  # `probe` id -> name
        self.probe_funcs = probe_funcs if probe_funcs is not None else {}  # `probe` id -> `func`
        self.settings = settings if settings is not None else {}  # the config block's run-time settings
        self.warnings = warnings if warnings is not None else []  # the compiler's, rendered: shown at every run

    def map_by_symbol(self, symbol: str) -> MapSpec:
        for spec in self.maps:
            if spec.symbol == symbol:
                return spec
        raise KeyError(symbol)

    @property
    def attached_count(self) -> int:
        """The number in "Attaching N probes...": every probe, BEGIN and
        END included, as bpftrace counts them (a dispatcher is not one)."""
        return sum(1 for p in self.probes if not p.internal)
