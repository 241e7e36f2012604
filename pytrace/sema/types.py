"""The types of pytrace values, shared by semantic analysis, the IR and codegen.

    $x = 1            -> int64
    comm              -> string[16]
    args->filename    -> pointer (user memory), read with str()
    @c = count()      -> count (an aggregation: only a map value can be one)
"""

from __future__ import annotations

from pytrace.plain import dataclass

from pytrace.program import ARRAY_FMT, STRLEN_DEFAULT, Field

# Every type says how its values are laid out, in one place, for sema,
# lowering, codegen and the program contract alike:
#   value_size  bytes a value takes in a buffer, key, value or record
#             (a struct's value is its address: 8, whatever its C size)
#   buffer    whether a value lives in a stack buffer (the code passes its
#             address) rather than in a register
#   field(o)  the Field that describes a value stored at offset o
# Integers of every width travel as 64 bits.


class _Word:
    """A type whose values are one 64-bit register."""

    value_size = 8
    buffer = False

    def field(self, offset: int) -> Field:
        return Field("int", offset, 8, getattr(self, "signed", False))


@dataclass(frozen=True)
class Int(_Word):
    bits: int = 64
    signed: bool = True

    def __str__(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"


@dataclass(frozen=True)
class Bool(Int):
    """`true`, `false`, `(bool)x`: an integer that is 0 or 1 and prints as
    false or true (upstream's bool; 0.17 has none)."""

    bits: int = 64
    signed: bool = False

    def field(self, offset: int) -> Field:
        return Field("bool", offset, 8)

    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class Enum(Int):
    """A value of a script's enum: an integer that prints as its
    enumerator's name (upstream; JSON keeps the number). `labels` are
    (value, name) pairs."""

    bits: int = 64
    signed: bool = True
    name: str = ""
    labels: tuple = ()

    def field(self, offset: int) -> Field:
        return Field("enum", offset, 8, True, fmt=enum_labels(self.labels))

    def __str__(self) -> str:
        return f"enum {self.name}"


def enum_labels(labels: tuple) -> str:
    """How an enum's names travel in a Field's fmt: "1=ONE,2=TWO"."""
    return ",".join(f"{value}={name}" for value, name in labels)


@dataclass(frozen=True)
class Str:
    """A NUL-padded string buffer of `size` bytes."""

    size: int
    buffer = True

    @property
    def value_size(self) -> int:
        return self.size

    def field(self, offset: int) -> Field:
        return Field("str", offset, self.size)

    def __str__(self) -> str:
        return f"string[{self.size}]"


@dataclass(frozen=True)
class Buffer:
    """buf(p, n): up to `size` raw bytes, after a u64 of how many there are."""

    size: int
    buffer = True

    @property
    def value_size(self) -> int:
        return 8 + (self.size + 7) // 8 * 8

    def field(self, offset: int) -> Field:
        return Field("buf", offset, self.value_size)

    def __str__(self) -> str:
        return f"buffer[{self.size}]"


@dataclass(frozen=True)
class Ptr(_Word):
    """An address, as `const char *` tracepoint fields are; `user` says
    which address space `str()` must read it from; `pointee` is the type
    at the address when known (a script's struct: `->` reads its members)."""

    target: str
    user: bool = False
    pointee: object = None
    signed = False

    def field(self, offset: int) -> Field:
        return Field("ptr", offset, 8)

    def __str__(self) -> str:
        return f"{self.target} *"


@dataclass(frozen=True)
class Struct(_Word):
    """A C struct the script defines: `members` are (name, type, offset).
    An expression of a struct type is the struct in memory: its value is
    the address, and `.member` reads from there."""

    name: str
    size: int
    members: tuple = ()
    align: int = 1
    source: str = ""  # "dwarf": a binary's, whose members are never looked up by name

    def member(self, name: str):
        for member in self.members:
            if member[0] == name:
                return member
        return None

    def __str__(self) -> str:
        return f"struct {self.name}"


@dataclass(frozen=True)
class CArray(_Word):
    """A C array member other than a char array (which reads as a string)."""

    element: object
    count: int
    user: bool = False  # as a value (its address): which memory it is in

    def __str__(self) -> str:
        return f"{self.element}[{self.count}]"


@dataclass(frozen=True)
class CValue:
    """A struct or a C array copied out of memory into a buffer, in its C
    layout: what `$s = *p`, `@m[*p]`, `(1, *p)` and `print(*p)` hold, and
    an array member stored (`@a = $s->arr`). It prints as upstream prints
    it: a struct as `{ .m = 2, .n = 3 }`, an array as `[1,2,3]`. `user`:
    which memory it is read from."""

    of: object  # Struct | CArray
    user: bool = False
    buffer = True

    @property
    def size(self) -> int:
        return (c_layout(self.of)[0] + 7) // 8 * 8

    @property
    def value_size(self) -> int:
        return self.size

    def field(self, offset: int) -> Field:
        return c_field(self.of, offset)

    def __str__(self) -> str:
        return str(self.of)


def c_field(t: object, offset: int) -> Field:
    """How a value of C type `t` at `offset` decodes: members and elements
    at their C offsets and sizes (a struct is a record, an array a list)."""
    if isinstance(t, Struct):
        return Field("tuple", offset, t.size, fmt=",".join(m[0] for m in t.members),
                     elements=tuple(c_field(m[1], m[2]) for m in t.members))
    if isinstance(t, CArray):
        size = c_layout(t.element)[0]
        return Field("tuple", offset, size * t.count, fmt=ARRAY_FMT,
                     elements=tuple(c_field(t.element, i * size) for i in range(t.count)))
    if isinstance(t, Str):
        return Field("str", offset, t.size)
    if isinstance(t, Ptr):
        return Field("ptr", offset, 8)
    if isinstance(t, Enum):
        return Field("enum", offset, t.bits // 8, True, fmt=enum_labels(t.labels))
    if isinstance(t, Bool):
        return Field("bool", offset, 1)
    if isinstance(t, Int):
        return Field("int", offset, t.bits // 8, t.signed)
    raise TypeError(f"no C field for {t}")


@dataclass(frozen=True)
class Agg(_Word):
    """An aggregation's value: a row of pytrace.aggregations, with the
    signedness of what it aggregates and its constant arguments
    (`hist(v, 2)` is Agg("hist", False, (2,)))."""

    kind: str
    signed: bool = True
    params: tuple = ()

    def __str__(self) -> str:
        return f"{self.kind}"


@dataclass(frozen=True)
class Timestamp:
    """strftime(fmt, ns): nanoseconds the runtime prints as wall-clock time
    in `fmt` (only printf's %s and print() take one)."""

    fmt: str
    value_size = 8
    buffer = False

    def field(self, offset: int) -> Field:
        return Field("timestamp", offset, 8, fmt=self.fmt)

    def __str__(self) -> str:
        return "timestamp"


@dataclass(frozen=True)
class Resolved:
    """A value the code sends as ids or addresses and the runtime turns
    into text when it prints it (the kernel side cannot: names and symbols
    live in user space). `kind` is its Field kind, one of:

        probe   the probe's id -> its name (the attach cookie, so a
                wildcard's expansions share code)
        func    the probe's id -> the function it is on (uprobe, kprobe)
        kstack  a stack's hash in the stack map -> its frames, symbolised
        ustack  the same, and the pid, whose symbols the frames are
        ksym    a kernel address -> its symbol
        usym    a user address and the pid -> its symbol

    `words` u64s travel (2 for the user-space kinds: the pid follows);
    stacks print in `mode` ("bpftrace", "perf", "raw") with at most
    `limit` frames."""

    kind: str
    words: int = 1
    mode: str = ""
    limit: int = 0

    @property
    def value_size(self) -> int:
        return 8 * self.words

    @property
    def buffer(self) -> bool:
        return self.words > 1

    def field(self, offset: int) -> Field:
        return Field(self.kind, offset, self.value_size, fmt=self.mode)

    def __str__(self) -> str:
        if self.kind in ("kstack", "ustack") and (self.mode != "bpftrace" or self.limit != STACK_LIMIT):
            return f"{self.kind}({self.mode}, {self.limit})"
        return self.kind


STACK_LIMIT = 127  # frames of a stack by default (the kernel's perf_event_max_stack)
PROBE = Resolved("probe")
FUNC = Resolved("func")


def stack_type(kind: str, mode: str = "bpftrace", limit: int = STACK_LIMIT) -> Resolved:
    return Resolved(kind, 2 if kind == "ustack" else 1, mode, limit)


@dataclass(frozen=True)
class Tuple:
    """`(1, "a", pid)`: its parts one after the other, each 8-byte aligned
    (integers take 8 bytes, as everywhere), in a buffer."""

    elements: tuple
    names: tuple = ()  # a record's field names (upstream's named tuples)
    buffer = True

    @property
    def value_size(self) -> int:
        return self.size

    def field(self, offset: int) -> Field:
        return Field("tuple", offset, self.size, fmt=",".join(self.names),
                     elements=tuple(t.field(o) for t, o in zip(self.elements, self.offsets())))

    @property
    def size(self) -> int:
        return sum(part_size(t) for t in self.elements)

    def offsets(self) -> list[int]:
        at, out = 0, []
        for t in self.elements:
            out.append(at)
            at += part_size(t)
        return out

    def __str__(self) -> str:
        if self.names:
            return "record (" + ", ".join(f"{n} = {t}" for n, t in zip(self.names, self.elements)) + ")"
        return "(" + ", ".join(str(t) for t in self.elements) + ")"


def part_size(t) -> int:
    """The bytes a value of this type takes in a key, a value, a record or a
    tuple: a multiple of 8 (integers are stored as 64 bits)."""
    return (byte_size(t) + 7) & ~7


@dataclass(frozen=True)
class Void(_Word):
    def __str__(self) -> str:
        return "none"


INT64 = Int(64, True)
UINT64 = Int(64, False)
BOOL = Bool()
TRUTH = Int(64, False)  # what a comparison or `!` gives: 0.17 prints 1 or 0
VOID = Void()
COMM = Str(16)
STRLEN = STRLEN_DEFAULT  # bpftrace 0.17's default string size (BPFTRACE_STRLEN)

INT_TYPE_NAMES = {
    f"{prefix}int{bits}": Int(bits, prefix == "")
    for bits in (8, 16, 32, 64)
    for prefix in ("", "u")
}
INT_TYPE_NAMES["bool"] = BOOL


def in_buffer(t: object) -> bool:
    """Whether a value of this type lives in a stack buffer (the code passes
    its address) rather than in a register: strings, tuples, two-word ids."""
    return t.buffer


def byte_size(t: object) -> int:
    """How many bytes a value of this type takes in a buffer, key or record."""
    return t.value_size


def c_layout(t: object) -> tuple[int, int] | None:
    """(bytes, alignment) of a value of this type in C memory: a struct
    member, an array element, what a pointer points at (None: no C
    layout)."""
    if isinstance(t, Bool):
        return 1, 1
    if isinstance(t, Int):
        return t.bits // 8, t.bits // 8
    if isinstance(t, Ptr):
        return 8, 8
    if isinstance(t, Str):
        return t.size, 1
    if isinstance(t, CArray):
        found = c_layout(t.element)
        return (found[0] * t.count, found[1]) if found else None
    if isinstance(t, Struct):
        return t.size, t.align
    return None


def widened(t: object):
    """The type a value has once stored (in a key, a tuple, a variable, a
    record): integers take 64 bits (an address becomes a uint64); strings,
    tuples, timestamps, resolved ids and bools keep their type."""
    if isinstance(t, (Str, Timestamp, Resolved, Tuple, Bool, Buffer, Enum, CValue)):
        return t
    return Int(64, t.signed if isinstance(t, Int) else False)


def is_int(t: object) -> bool:
    return isinstance(t, (Int, Ptr))


def as_int(t: object) -> Int:
    """The integer a value behaves as in arithmetic (pointers are u64)."""
    if isinstance(t, Int):
        return t
    return UINT64


def arith_result(a: object, b: object) -> Int:
    """bpftrace does arithmetic in 64 bits; signed unless an operand is not."""
    return Int(64, as_int(a).signed and as_int(b).signed)


def describe(t: object) -> str:
    return str(t) if t is not None else "unknown"
