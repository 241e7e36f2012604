"""The types of pytrace values, shared by semantic analysis, the IR and codegen.

    $x = 1            -> int64
    comm              -> string[16]
    args->filename    -> pointer (user memory), read with str()
    @c = count()      -> count (an aggregation: only a map value can be one)
"""

from __future__ import annotations

from dataclasses import dataclass

from pytrace.program import STRLEN_DEFAULT


@dataclass(frozen=True)
class Int:
    bits: int = 64
    signed: bool = True

    def __str__(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"


@dataclass(frozen=True)
class Str:
    """A NUL-padded string buffer of `size` bytes."""

    size: int

    def __str__(self) -> str:
        return f"string[{self.size}]"


@dataclass(frozen=True)
class Ptr:
    """An address, as `const char *` tracepoint fields are; `user` says
    which address space `str()` must read it from."""

    target: str
    user: bool = False

    def __str__(self) -> str:
        return f"{self.target} *"


@dataclass(frozen=True)
class Agg:
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

    def __str__(self) -> str:
        return "timestamp"


@dataclass(frozen=True)
class ProbeName:
    """The `probe` builtin: a u64 id that prints as the probe's name (a
    tracepoint's id in the code, so a wildcard's expansions share theirs)."""

    def __str__(self) -> str:
        return "probe"


PROBE = ProbeName()


@dataclass(frozen=True)
class Void:
    def __str__(self) -> str:
        return "none"


INT64 = Int(64, True)
UINT64 = Int(64, False)
BOOL = Int(64, False)
VOID = Void()
COMM = Str(16)
STRLEN = STRLEN_DEFAULT  # bpftrace 0.17's default string size (BPFTRACE_STRLEN)

INT_TYPE_NAMES = {
    f"{prefix}int{bits}": Int(bits, prefix == "")
    for bits in (8, 16, 32, 64)
    for prefix in ("", "u")
}


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
