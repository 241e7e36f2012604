"""The compiled program: plain data handed from the compiler to the runtime.

This is the whole contract between the two halves. The runtime imports
nothing from the compiler; it reads these records, creates the maps, patches
the relocations and loads the instructions. A `CompiledProgram` pickles, which
is what the compile cache stores.

Layouts are offsets and sizes in bytes, little-endian, as the BPF code writes
them: map keys, map values and ring-buffer records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
RINGBUF_SIZE = 1 << 20


@dataclass(frozen=True)
class Field:
    """One value in a key, a map value or a record.

    kind "int": a little-endian integer of `size` bytes (signed or not).
    kind "str": a NUL-padded string buffer of `size` bytes.
    """

    kind: str
    offset: int
    size: int
    signed: bool = False


@dataclass(frozen=True)
class ValueSpec:
    """What a map's value is, which says how to merge CPUs and print it.

    kind     per-CPU layout (each CPU's slot is padded to 8 bytes)
    count    u64
    sum      i64/u64 (signed says which)
    min/max  {i64 value; u64 set}: `set` is 0 on CPUs that never saw a value
    avg      {u64 count; i64 total}
    int      i64/u64, not per-CPU (plain assignment)
    str      char[size], not per-CPU
    """

    kind: str
    size: int
    signed: bool = True


@dataclass
class MapSpec:
    name: str                 # as the user wrote it: "@", "@calls"
    symbol: str               # the ELF symbol the code's relocations name
    map_type: int
    key_size: int
    value_size: int           # of one CPU's value for per-CPU maps
    max_entries: int
    keys: list[Field] = field(default_factory=list)  # [] for a scalar map
    value: ValueSpec | None = None                   # None: not a user map

    @property
    def per_cpu(self) -> bool:
        return self.map_type in (MAP_PERCPU_HASH, MAP_PERCPU_ARRAY)

    @property
    def printable(self) -> bool:
        return self.value is not None


@dataclass
class Relocation:
    """Instruction `insn` (an ld_imm64) refers to `symbol`: a map (the
    loader puts the map's fd there) or a CONST_* (the loader puts its value)."""

    insn: int
    symbol: str


@dataclass
class ProbeSpec:
    """One BPF program and where it attaches.

    kind        target
    begin/end   ()                     run once with BPF_PROG_TEST_RUN
    tracepoint  (category, event)
    interval    (period_ns,)           a cpu-clock perf event on CPU 0
    """

    kind: str
    name: str                 # display name: "tracepoint:sched:sched_switch"
    target: tuple
    prog_type: int
    function: str             # the function's name in the object
    insns: bytes = b""
    relocations: list[Relocation] = field(default_factory=list)
    span: Span = NO_SPAN      # the attach point in the script


@dataclass
class PrintfSpec:
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

    fmt: str
    args: list[Field] = field(default_factory=list)


@dataclass
class CompiledProgram:
    source_name: str
    probes: list[ProbeSpec]
    maps: list[MapSpec]
    printfs: list[PrintfSpec] = field(default_factory=list)
    elf: bytes = b""          # the object the probes were taken from

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
