"""The aggregation kinds: one row each, read by every stage.

    @lat = hist($us, 2)
is the row "hist" with params (2,). Sema checks the call against the row
(how many arguments, which are constants and what they may be); layout sizes
the per-CPU value from `words(params)` ((64 - k) * 2^k + 1 u64 buckets);
codegen updates the value in place with the emitter the row names
(`update`) and reads it as an integer in a probe by `read`; the runtime
merges the CPUs' words into a value (`merge`) and sorts a map's entries by
`sort_key`; the text and JSON outputs print a value by its `shape`. A new kind
is a new row here (and, when its update is new, one emitter in codegen).

Every value is per CPU: a CPU only ever writes its own slot, so updates are
plain loads and stores (no atomics), and the runtime adds the slots up.

This module is plain Python (no llvmlite, no kernel), shared by the compiler
and the runtime.
"""

from __future__ import annotations

from pytrace.record import Record
from pytrace.values import Bool, Bucket, Buffer, Histogram, Pointer, Stats, TimeSeries

MASK64 = (1 << 64) - 1


class Param(Record):
    """A constant argument after the value: `hist(v, k)`'s k."""

    __slots__ = ("name", "default", "low", "high", "choices")

    def __init__(self, name: str, default: int | None = None, low: int | None = None,
                 high: int | None = None, choices: tuple[str, ...] = ()):
        self.name = name
        self.default = default   # None: required
        self.low = low           # the range it must be in (None: unbounded)
        self.high = high
        self.choices = choices   # given as one of these strings instead: its index


class Aggregation(Record):
    """One aggregation kind. See the module docstring for who reads what.

    takes_value  whether the first argument is the value aggregated
                 (count() has none)
    params       the constant arguments after it
    signed       "arg": the value's words are signed when the argument is;
                 False: always unsigned (counts)
    words        params -> how many u64 words one CPU's value has
    update       codegen's in-place emitter: `_agg_<update>`
    read         how a probe reads the map as an integer across CPUs
                 ("sum", "min", "max", "avg"), or None when it cannot
    merge        (flat words of every CPU, ncpus, spec) -> the value
    sort_key     value -> what bpftrace 0.17 sorts a map's entries by
    shape        how outputs print the value: "int", "average", "stats", "hist"
    json_type    the record type of the map in -f json output
    check        params -> a message when they are unusable, else None
    """

    __slots__ = ("name", "takes_value", "params", "signed", "words", "update", "read",
                 "merge", "sort_key", "shape", "json_type", "check")

    def __init__(self, name, *, takes_value=True, params=(), signed="arg", words, update,
                 read, merge, sort_key, shape, json_type, check=None):
        self.name = name
        self.takes_value = takes_value
        self.params = params
        self.signed = signed
        self.words = words
        self.update = update
        self.read = read
        self.merge = merge
        self.sort_key = sort_key
        self.shape = shape
        self.json_type = json_type
        self.check = check

    @property
    def min_args(self) -> int:
        return int(self.takes_value) + sum(1 for p in self.params if p.default is None)

    @property
    def max_args(self) -> int:
        return int(self.takes_value) + len(self.params)


# ------------------------------------------------------------------ merging
# `flat` is every CPU's u64 words in a row (CPU 0's words, then CPU 1's, ...):
# a memoryview cast to "Q", so reading it copies nothing. A value that is not
# per CPU has ncpus == 1.


def _wrap(value: int, signed: bool) -> int:
    """Wrap to 64 bits as the kernel's u64/i64 arithmetic does."""
    value &= MASK64
    if signed and value >> 63:
        value -= 1 << 64
    return value


def _merge_sum(flat, ncpus, spec) -> int:
    return _wrap(sum(flat), spec.signed)


def _merge_extreme(pick):
    def merge(flat, ncpus, spec) -> int:
        seen = [_wrap(flat[i], spec.signed) for i in range(0, 2 * ncpus, 2) if flat[i + 1]]
        return pick(seen) if seen else 0
    return merge


def _merge_stats(flat, ncpus, spec) -> Stats:
    count = sum(flat[0::2])
    total = _wrap(sum(flat[1::2]), spec.signed)
    return Stats(count, total)


def _columns(flat, ncpus, words: int) -> list[int]:
    if ncpus == 1:
        return list(flat)
    return [sum(flat[i::words]) for i in range(words)]


def _merge_hist(flat, ncpus, spec) -> Histogram:
    (k,) = spec.params
    counts = _columns(flat, ncpus, spec.size // 8)
    return Histogram(_buckets(counts, lambda i: log2_bounds(i, k)), "hist", spec.params)


def _merge_lhist(flat, ncpus, spec) -> Histogram:
    counts = _columns(flat, ncpus, spec.size // 8)
    low, high, step = spec.params
    return Histogram(_buckets(counts, lambda i: linear_bounds(i, low, high, step)), "lhist",
                     spec.params)


def _buckets(counts: list[int], bounds) -> list[Bucket]:
    """The buckets from the first to the last non-empty one (bpftrace prints
    that range, empty buckets inside it included)."""
    used = [i for i, c in enumerate(counts) if c]
    if not used:
        return []
    return [Bucket(*bounds(i), counts[i]) for i in range(used[0], used[-1] + 1)]


# tseries(v, interval, count[, agg]): per interval, `count` slots of three
# words (value, meta, interval number) chosen by the interval number modulo
# `count`; meta is the time of the last write (no agg), whether the slot has
# a value (min, max) or how many values it added (avg).
TSERIES_AGGS = ("none", "avg", "max", "min", "sum")
TSERIES_SLOT_WORDS = 3


def _merge_tseries(flat, ncpus, spec) -> TimeSeries:
    """Each slot's newest interval over the CPUs, the CPUs' values for it
    combined by the agg (as upstream's reduce_tseries_value)."""
    import time

    interval, count, agg = spec.params
    how = TSERIES_AGGS[agg]
    words = count * TSERIES_SLOT_WORDS
    points: dict[int, int] = {}
    for slot in range(count):
        found: dict[int, list[int]] = {}
        for cpu in range(ncpus):
            at = cpu * words + slot * TSERIES_SLOT_WORDS
            value, meta, epoch = _wrap(flat[at], spec.signed), flat[at + 1], flat[at + 2]
            if not epoch:
                continue
            current = found.get(epoch)
            if current is None:
                found[epoch] = [value, meta]
            elif how == "none":
                if meta > current[1]:
                    found[epoch] = [value, meta]
            elif how in ("sum", "avg"):
                current[0] += value
                current[1] += meta
            else:
                current[0] = (min if how == "min" else max)(current[0], value)
        if found:
            epoch = max(found)
            value, meta = found[epoch]
            if how == "avg":
                value = int(value / meta) if meta else 0
            points[epoch] = _wrap(value, spec.signed)
    # TAI runs a whole number of seconds ahead of UTC (37 s since 2017, 0
    # when nothing set it): the two clocks read one after the other differ
    # by that and a few microseconds
    wall = round((time.time_ns() - time.clock_gettime_ns(time.CLOCK_TAI)) / 1e9) * 1_000_000_000
    return TimeSeries(points, interval, count, wall)


def _by_latest(v: TimeSeries) -> int:
    return v.latest


# ------------------------------------------------------------ bucket bounds


def log2_buckets(k: int) -> int:
    """How many buckets hist(v, k) has: one for negatives, 2^k for 0..2^k-1,
    then 2^k per power of two up to 2^63."""
    return (64 - k) * (1 << k) + 1


def _log2_upper(index: int, k: int) -> int:
    """The first value past bucket `index` (bpftrace's hist_index_label)."""
    n = 1 << k
    if index < 2 * n:
        return index
    power = (index >> k) - 1
    return (1 << power) * (n + (index & (n - 1)))


def log2_bounds(index: int, k: int) -> tuple[int | None, int | None]:
    """[low, high) of a hist bucket; low is None for the negative bucket."""
    if index == 0:
        return None, 0
    return _log2_upper(index - 1, k), _log2_upper(index, k)


def log2_index(value: int, k: int) -> int:
    """The bucket a value falls in, as the BPF code computes it (tests use it
    as the reference): the value is read as a signed 64-bit integer."""
    value = _wrap(value, True)
    if value < 0:
        return 0
    mask = (1 << k) - 1
    if value <= mask:
        return value + 1
    top = value.bit_length() - 1 - k
    return ((top + 1) << k) + ((value >> top) & mask) + 1


def linear_buckets(low: int, high: int, step: int) -> int:
    """lhist: one bucket below `low`, one per step, one from `high` up."""
    return (high - low) // step + 2


def linear_bounds(index: int, low: int, high: int, step: int) -> tuple[int | None, int | None]:
    last = (high - low) // step + 1
    if index == 0:
        return None, low
    if index == last:
        return high, None
    return low + (index - 1) * step, low + index * step


def linear_index(value: int, low: int, high: int, step: int) -> int:
    """The bucket of a value, as the BPF code (and bpftrace 0.17) computes it:
    `high` itself and everything above go to the last bucket."""
    value = _wrap(value, True)
    if value < low:
        return 0
    if value > high:
        return (high - low) // step + 1
    return (value - low) // step + 1


def _check_lhist(params) -> str | None:
    low, high, step = params
    if step <= 0:
        return f"lhist() step must be >= 1 ({step} provided)"
    if low > high:
        return f"lhist() min must be less than max (provided min {low} and max {high})"
    if high - low < step:
        return f"lhist() step is too large for the given range (provided step {step} for range {high - low})"
    if (high - low) // step > 1000:
        return f"lhist() too many buckets, must be <= 1000 (would need {(high - low) // step})"
    return None


# -------------------------------------------------------------------- table


def by_value(v):
    return v


def _by_average(v: Stats):
    return v.average


def _by_total(v: Histogram):
    return v.total


AGGREGATIONS: dict[str, Aggregation] = {a.name: a for a in (
    Aggregation("count", takes_value=False, signed=False, words=lambda p: 1, update="add",
                read="sum", merge=_merge_sum, sort_key=by_value, shape="int", json_type="map"),
    Aggregation("sum", words=lambda p: 1, update="add", read="sum", merge=_merge_sum,
                sort_key=by_value, shape="int", json_type="map"),
    Aggregation("min", words=lambda p: 2, update="min", read="min",
                merge=_merge_extreme(min), sort_key=by_value, shape="int", json_type="map"),
    Aggregation("max", words=lambda p: 2, update="max", read="max",
                merge=_merge_extreme(max), sort_key=by_value, shape="int", json_type="map"),
    Aggregation("avg", words=lambda p: 2, update="mean", read="avg", merge=_merge_stats,
                sort_key=_by_average, shape="average", json_type="stats"),
    Aggregation("stats", words=lambda p: 2, update="mean", read=None, merge=_merge_stats,
                sort_key=_by_average, shape="stats", json_type="stats"),
    Aggregation("hist", params=(Param("k", 0, 0, 5),), signed=False,
                words=lambda p: log2_buckets(p[0]), update="log2", read=None,
                merge=_merge_hist, sort_key=_by_total, shape="hist", json_type="hist"),
    Aggregation("lhist", params=(Param("min", low=0), Param("max", low=0), Param("step")),
                signed=False, words=lambda p: linear_buckets(*p), update="linear", read=None,
                merge=_merge_lhist, sort_key=_by_total, shape="hist", json_type="hist",
                check=_check_lhist),
    Aggregation("tseries", params=(Param("interval", low=1), Param("number of intervals", low=1, high=1000),
                                   Param("aggregation", 0, 0, len(TSERIES_AGGS) - 1, choices=TSERIES_AGGS)),
                words=lambda p: p[1] * TSERIES_SLOT_WORDS, update="tseries", read=None,
                merge=_merge_tseries, sort_key=_by_latest, shape="tseries", json_type="tseries"),
)}


def _merge_int(flat, ncpus, spec) -> int:
    return _wrap(flat[0], spec.signed)


def _merge_bool(flat, ncpus, spec):
    return Bool(flat[0])


def _merge_ptr(flat, ncpus, spec) -> Pointer:
    return Pointer(flat[0])


def _merge_buf(flat, ncpus, spec) -> Buffer:
    raw = flat.cast("B")[:spec.size].tobytes()
    return Buffer(raw[8:8 + int.from_bytes(raw[:8], "little")])


def _merge_str(flat, ncpus, spec) -> str:
    return c_string(flat.cast("B")[:spec.size].tobytes())


def _merge_raw(flat, ncpus, spec) -> bytes:
    return flat.cast("B")[:spec.size].tobytes()


# Map values that are not aggregations (`@x = 5`, `@s = comm`): not per
# CPU, not callable, but merged, sorted and printed through the same row
# interface. 0.17 sorts a map of ints by value, of strings by key (None).
PLAIN: dict[str, Aggregation] = {a.name: a for a in (
    Aggregation("int", words=lambda p: 1, update=None, read=None, merge=_merge_int,
                sort_key=by_value, shape="int", json_type="map"),
    Aggregation("bool", signed=False, words=lambda p: 1, update=None, read=None, merge=_merge_bool,
                sort_key=by_value, shape="str", json_type="map"),
    Aggregation("ptr", signed=False, words=lambda p: 1, update=None, read=None, merge=_merge_ptr,
                sort_key=by_value, shape="int", json_type="map"),
    # an enum's value, params (its labels, "1=ONE,2=TWO"): named by the runtime
    Aggregation("enum", signed=True, words=lambda p: 1, update=None, read=None, merge=_merge_int,
                sort_key=by_value, shape="int", json_type="map"),
    Aggregation("buf", signed=False, words=None, update=None, read=None, merge=_merge_buf,
                sort_key=None, shape="str", json_type="map"),
    Aggregation("str", signed=False, words=None, update=None, read=None, merge=_merge_str,
                sort_key=None, shape="str", json_type="map"),
    # ids and addresses (a stack, a symbol: types.Resolved), params (field
    # kind, stack mode): the raw bytes, which the runtime resolves
    Aggregation("resolved", signed=False, words=None, update=None, read=None, merge=_merge_raw,
                sort_key=None, shape="str", json_type="map"),
    # a tuple, params its parts' fields: the raw bytes, which the runtime decodes
    Aggregation("tuple", signed=False, words=None, update=None, read=None, merge=_merge_raw,
                sort_key=None, shape="str", json_type="map"),
)}


def row(kind: str) -> Aggregation:
    """The row of a ValueSpec kind: an aggregation or a plain value."""
    found = AGGREGATIONS.get(kind)
    return found if found is not None else PLAIN[kind]


def c_string(raw: bytes) -> str:
    """A NUL-padded char buffer as text: up to the first NUL, invalid UTF-8
    as U+FFFD."""
    end = raw.find(b"\0")
    if end >= 0:
        raw = raw[:end]
    return raw.decode("utf-8", errors="replace")
