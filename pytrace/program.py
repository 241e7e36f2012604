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
MAP_RINGBUF = 27

PROG_TRACEPOINT = 5
PROG_PERF_EVENT = 7
PROG_RAW_TRACEPOINT = 17

# Every ring-buffer record starts with a u64 record id: RECORD_EXIT asks the
# runtime to stop; id n >= RECORD_PRINTF_BASE is printfs[n - RECORD_PRINTF_BASE].
RECORD_EXIT = 0
RECORD_PRINTF_BASE = 1

# Symbols whose 64-bit immediate the loader fills in at load time (the code
# reads them as `ld_imm64` constants, so they cost nothing per event and the
# object stays reusable from the compile cache).
CONST_CPID = "pytrace_const_cpid"
CONST_START_NS = "pytrace_const_start_ns"

# The ring buffer every printf and exit() record goes through.
RINGBUF_NAME = "__pytrace_ringbuf"
# Its size is chosen at compile time by where records can come from: probes
# on events can burst (8 MiB holds ~170k small records while Python drains
# them; bpftrace's per-CPU perf buffers hold less), while BEGIN, END and
# interval probes write a few. A big buffer costs start-up time and memory:
# it is mapped twice into the process.
RINGBUF_SIZE = 1 << 23
RINGBUF_SIZE_SMALL = 1 << 18

# A per-CPU array with one u64 (key 0): how many records the ring buffer had
# no room for. The runtime reports them ("Lost N events"), never drops silently.
LOST_NAME = "__pytrace_lost"


class Field(Record):
    """One value in a key, a map value or a record.

    kind "int": a little-endian integer of `size` bytes (signed or not).
    kind "str": a NUL-padded string buffer of `size` bytes.
    """

    __slots__ = ("kind", "offset", "size", "signed")

    def __init__(self, kind: str, offset: int, size: int, signed: bool = False):
        self.kind = kind
        self.offset = offset
        self.size = size
        self.signed = signed


class ValueSpec(Record):
    """What a map's value is, which says how to merge CPUs and print it.

    kind     per-CPU layout (each CPU's slot is padded to 8 bytes)
    count    u64
    sum      i64/u64 (signed says which)
    min/max  {i64 value; u64 set}: `set` is 0 on CPUs that never saw a value
    avg      {u64 count; i64 total}
    int      i64/u64, not per-CPU (plain assignment)
    str      char[size], not per-CPU
    """

    __slots__ = ("kind", "size", "signed")

    def __init__(self, kind: str, size: int, signed: bool = True):
        self.kind = kind
        self.size = size
        self.signed = signed


class MapSpec(Record):
    """A map to create.

    name         as the user wrote it: "@", "@calls"
    symbol       the ELF symbol the code's relocations name
    value_size   of one CPU's value for per-CPU maps
    keys         the key's layout; [] for a scalar map (one u64 key, 0)
    value        what the value is; None for maps that are not user maps
    """

    __slots__ = ("name", "symbol", "map_type", "key_size", "value_size", "max_entries", "keys", "value")

    def __init__(self, name: str, symbol: str, map_type: int, key_size: int, value_size: int,
                 max_entries: int, keys: list[Field] | None = None, value: ValueSpec | None = None):
        self.name = name
        self.symbol = symbol
        self.map_type = map_type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.keys = keys if keys is not None else []
        self.value = value

    @property
    def per_cpu(self) -> bool:
        return self.map_type in (MAP_PERCPU_HASH, MAP_PERCPU_ARRAY)

    @property
    def printable(self) -> bool:
        return self.value is not None


class Relocation(Record):
    """Instruction `insn` (an ld_imm64) refers to `symbol`: a map (the
    loader puts the map's fd there) or a CONST_* (the loader puts its value)."""

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

    __slots__ = ("kind", "name", "target", "prog_type", "function", "insns", "relocations", "span", "lines")

    def __init__(self, kind: str, name: str, target: tuple, prog_type: int, function: str,
                 insns: bytes = b"", relocations: list[Relocation] | None = None, span: Span = NO_SPAN,
                 lines: list[tuple[int, int, int]] | None = None):
        self.kind = kind
        self.name = name
        self.target = target
        self.prog_type = prog_type
        self.function = function
        self.insns = insns
        self.relocations = relocations if relocations is not None else []
        self.span = span
        self.lines = lines if lines is not None else []

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


class PrintfSpec(Record):
    """A printf call: its format (escapes resolved) and where each argument
    sits in the record.

    Record layout: bytes 0..8 hold the u64 record id
    (RECORD_PRINTF_BASE + index of this PrintfSpec), and each arg's
    `Field.offset` counts from the START of the record, id included, so
    every offset is >= 8 (e.g. `printf("%d %s", pid, comm)`: args
    [Field("int", 8, 8, signed=True), Field("str", 16, 16)], record 32
    bytes). Ints are little-endian of 1, 2, 4 or 8 bytes; strings are
    NUL-padded buffers. Args are in format order; gaps and trailing padding
    are allowed.
    """

    __slots__ = ("fmt", "args")

    def __init__(self, fmt: str, args: list[Field] | None = None):
        self.fmt = fmt
        self.args = args if args is not None else []


class CompiledProgram(Record):
    """Everything a run needs; `elf` is the object the probes came from."""

    __slots__ = ("source_name", "probes", "maps", "printfs", "elf")

    def __init__(self, source_name: str, probes: list[ProbeSpec], maps: list[MapSpec],
                 printfs: list[PrintfSpec] | None = None, elf: bytes = b""):
        self.source_name = source_name
        self.probes = probes
        self.maps = maps
        self.printfs = printfs if printfs is not None else []
        self.elf = elf

    def map_by_symbol(self, symbol: str) -> MapSpec:
        for spec in self.maps:
            if spec.symbol == symbol:
                return spec
        raise KeyError(symbol)

    @property
    def attached_count(self) -> int:
        """The number in "Attaching N probes...": every probe, BEGIN and
        END included, as bpftrace counts them."""
        return len(self.probes)
