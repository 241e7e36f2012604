"""The value model: what a map or a print() holds, as plain Python values.

The runtime decodes kernel bytes into these once; the text output, the JSON
output and the Python API (`pytrace.run`) all read the same values:

    int, str          counts, sums, min/max, plain values, strings
    tuple             several keys: ("bash", 3)
    Stats             avg() and stats(): count, total, average
    Histogram         hist() and lhist(): buckets of [low, high) with counts
    TimeSeries        tseries(): a value per interval

Plain classes (not dataclasses): this module is on every run's path.
"""

from __future__ import annotations


class Bool(int):
    """A bool value (upstream's `true`/`false`): an int, 0 or 1, that prints
    as bpftrace prints it, in text and JSON alike."""

    __slots__ = ()

    def __new__(cls, value) -> "Bool":
        return super().__new__(cls, 1 if value else 0)

    def __str__(self) -> str:
        return "true" if self else "false"

    def __repr__(self) -> str:
        return "True" if self else "False"


class EnumValue(int):
    """A value of an enum: an int that prints as its enumerator's name (or
    as the number, when no enumerator has it); JSON keeps the number."""

    def __new__(cls, value: int, label: str | None = None) -> "EnumValue":
        self = super().__new__(cls, value)
        self.label = label
        return self

    def __str__(self) -> str:
        return self.label if self.label is not None else int.__repr__(self)


def enum_decoder(labels: str):
    """EnumValue from an int, for a Field's fmt "1=ONE,2=TWO"."""
    names = {}
    for item in labels.split(","):
        if item:
            value, name = item.split("=", 1)
            names[int(value)] = name
    return lambda v: EnumValue(v, names.get(v))


class Pointer(int):
    """A pointer value: an int that prints in hex, as bpftrace prints one
    (`0x7ffd1234`); JSON keeps the number."""

    __slots__ = ()

    def __str__(self) -> str:
        return hex(self)

    def __repr__(self) -> str:
        return f"Pointer({hex(self)})"


class Buffer(bytes):
    """A buf() value: raw bytes that print as bpftrace's %r prints them
    (printable ASCII as is, other bytes as \\xNN)."""

    __slots__ = ()

    def __str__(self) -> str:
        return escape_bytes(self)


def escape_bytes(data: bytes, how: str = "") -> str:
    """%r: printable ASCII as is, other bytes \\xNN; %rx: every byte \\xNN;
    %rh: every byte as two hex digits, with spaces between."""
    if how == "h":
        return " ".join(f"{b:02x}" for b in data)
    if how == "x":
        return "".join(f"\\x{b:02x}" for b in data)
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in data)


class Stats:
    """count/total of avg() or stats(); `average` truncates toward zero, as
    bpftrace's integer division does."""

    __slots__ = ("count", "total")

    def __init__(self, count: int, total: int):
        self.count = count
        self.total = total

    @property
    def average(self) -> int:
        if self.count == 0:
            return 0
        q = abs(self.total) // self.count
        return q if self.total >= 0 else -q

    def __eq__(self, other):
        return isinstance(other, Stats) and (self.count, self.total) == (other.count, other.total)

    def __hash__(self):
        return hash((self.count, self.total))

    def __repr__(self):
        return f"Stats(count={self.count}, total={self.total}, average={self.average})"


class Bucket:
    """Values in [low, high); `low` is None for the bucket below the range
    (negative values in hist), `high` None for the one above it (lhist)."""

    __slots__ = ("low", "high", "count")

    def __init__(self, low: int | None, high: int | None, count: int):
        self.low = low
        self.high = high
        self.count = count

    def __eq__(self, other):
        return isinstance(other, Bucket) and (self.low, self.high, self.count) == (
            other.low, other.high, other.count)

    def __hash__(self):
        return hash((self.low, self.high, self.count))

    def __repr__(self):
        return f"Bucket({self.low}, {self.high}, {self.count})"


class Histogram:
    """A hist() or lhist() value: `buckets` from the first to the last
    non-empty one, in order. `kind` ("hist" or "lhist") and `params` (k, or
    min, max, step) say how bpftrace labels the buckets."""

    __slots__ = ("buckets", "kind", "params")

    def __init__(self, buckets: list[Bucket], kind: str = "hist", params: tuple = (0,)):
        self.buckets = buckets
        self.kind = kind
        self.params = tuple(params)

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    def percentile(self, p: float) -> float | None:
        """An estimate of the p-th percentile (0..100) from the buckets: the
        value where the running count reaches p% of the total, interpolated
        linearly inside its bucket. None for an empty histogram. Open-ended
        buckets give their one known bound."""
        if not 0 <= p <= 100:
            raise ValueError(f"percentile {p} is not between 0 and 100")
        total = self.total
        if total == 0:
            return None
        want = total * p / 100
        seen = 0
        for b in self.buckets:
            if b.count and seen + b.count >= want:
                if b.low is None:
                    return float(b.high)
                if b.high is None:
                    return float(b.low)
                inside = (want - seen) / b.count
                return b.low + (b.high - b.low) * inside
            seen += b.count
        last = self.buckets[-1]
        return float(last.high if last.high is not None else last.low)

    def __eq__(self, other):
        return isinstance(other, Histogram) and (self.buckets, self.kind, self.params) == (
            other.buckets, other.kind, other.params)

    def __hash__(self):
        return hash((tuple(self.buckets), self.kind, self.params))

    def __repr__(self):
        return f"Histogram({self.kind}{self.params}, {self.buckets!r})"


class Frame:
    """One frame of a stack: its address and, when it resolved, the
    function (`name`, demangled), the offset into it and the module (the
    binary's path, or "[kernel.kallsyms]")."""

    __slots__ = ("address", "name", "offset", "module")

    def __init__(self, address: int, name: str | None = None, offset: int = 0, module: str = ""):
        self.address = address
        self.name = name
        self.offset = offset
        self.module = module

    def __str__(self) -> str:
        """`name+offset` as bpftrace prints a frame, or the address in hex."""
        return f"{self.name}+{self.offset}" if self.name is not None else f"0x{self.address:x}"

    def __eq__(self, other):
        return isinstance(other, Frame) and (self.address, self.name, self.offset, self.module) == (
            other.address, other.name, other.offset, other.module)

    def __hash__(self):
        return hash((self.address, self.name, self.offset))

    def __repr__(self):
        return f"Frame({self.address:#x}, {self.name!r}, {self.offset}, {self.module!r})"


class Stack:
    """A kstack or ustack: `frames` innermost first; `kind` "kstack" or
    "ustack", `mode` how bpftrace prints it ("bpftrace", "perf", "raw"),
    `pid` the process of a ustack (0 for a kstack). Two stacks are the same
    key only with the same frames, in the same process."""

    __slots__ = ("frames", "kind", "mode", "pid")

    def __init__(self, frames, kind: str = "kstack", mode: str = "bpftrace", pid: int = 0):
        self.frames = tuple(frames)
        self.kind = kind
        self.mode = mode
        self.pid = pid

    def _key(self):
        return (self.kind, self.mode, self.pid, tuple(f.address for f in self.frames))

    def __eq__(self, other):
        return isinstance(other, Stack) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __lt__(self, other):
        return self._key() < other._key()

    def __repr__(self):
        return f"Stack({self.kind}, pid={self.pid}, {[str(f) for f in self.frames]!r})"


class TimeSeries:
    """tseries(): `points` maps an interval's number (its start in
    nanoseconds of CLOCK_TAI, divided by `interval`) to its value;
    `wall_offset` turns TAI nanoseconds into wall-clock ones."""

    __slots__ = ("points", "interval", "count", "wall_offset")

    def __init__(self, points: dict[int, int], interval: int, count: int, wall_offset: int = 0):
        self.points = points
        self.interval = interval
        self.count = count
        self.wall_offset = wall_offset

    @property
    def latest(self) -> int:
        """The newest interval with a value (0: none)."""
        return max(self.points, default=0)

    def window(self, last: int) -> list[tuple[int, int | None]]:
        """(wall-clock ns, value or None) of the `count` intervals up to
        `last` (the map's newest), from the first this series has a value
        in, as upstream shows them."""
        first = last - self.count + 1
        have = [e for e in self.points if first <= e <= last]
        start = min(have) if have else last
        return [(e * self.interval + self.wall_offset, self.points.get(e)) for e in range(start, last + 1)]

    def __eq__(self, other) -> bool:
        return isinstance(other, TimeSeries) and (self.points, self.interval, self.count) == (
            other.points, other.interval, other.count)

    def __repr__(self) -> str:
        return f"TimeSeries({self.interval}ns x {self.count}, {self.points!r})"
