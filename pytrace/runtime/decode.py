"""Raw bytes from the kernel -> Python values, using the layouts in program.py.

Pure functions (no kernel), so they are tested on canned bytes:

    decode_key([Field("int", 0, 8, signed=True)], b"\\xff" * 8)  -> (-1,)
    merge_value(ValueSpec("count", 8), [p64(2), p64(3)])        -> 5
"""

from __future__ import annotations

from pytrace.program import Field, ValueSpec

_MASK64 = (1 << 64) - 1


def c_string(raw: bytes) -> str:
    """A NUL-padded char buffer as text: up to the first NUL, raw bytes kept
    as far as the text allows (invalid UTF-8 becomes U+FFFD)."""
    end = raw.find(b"\0")
    if end >= 0:
        raw = raw[:end]
    return raw.decode("utf-8", errors="replace")


def decode_field(field: Field, buf: bytes) -> int | str:
    raw = buf[field.offset:field.offset + field.size]
    if field.kind == "str":
        return c_string(raw)
    if field.kind == "int":
        return int.from_bytes(raw, "little", signed=field.signed)
    raise ValueError(f"unknown field kind {field.kind!r}")


def decode_key(fields: list[Field], buf: bytes) -> tuple:
    """A map key's values, one per key field (() for a scalar map)."""
    return tuple(decode_field(f, buf) for f in fields)


def cpu_slots(buf: bytes, value_size: int, ncpus: int) -> list[bytes]:
    """Split a per-CPU lookup result into each CPU's value (each CPU's slot
    is value_size rounded up to 8 bytes)."""
    stride = round_up8(value_size)
    return [buf[i * stride:i * stride + value_size] for i in range(ncpus)]


def round_up8(n: int) -> int:
    return (n + 7) & ~7


def _u64(b: bytes, at: int = 0) -> int:
    return int.from_bytes(b[at:at + 8], "little")


def _i64(b: bytes, at: int = 0) -> int:
    return int.from_bytes(b[at:at + 8], "little", signed=True)


def _wrap(value: int, signed: bool) -> int:
    """Wrap to 64 bits as the kernel's u64/i64 arithmetic does."""
    value &= _MASK64
    if signed and value >> 63:
        value -= 1 << 64
    return value


def merge_value(spec: ValueSpec, slots: list[bytes]) -> int | str:
    """One printable value from a map value's slots (one slot per CPU for a
    per-CPU map, a single slot otherwise); see ValueSpec for the layouts."""
    kind = spec.kind
    if kind == "count":
        return _wrap(sum(_u64(s) for s in slots), False)
    if kind == "sum":
        read = _i64 if spec.signed else _u64
        return _wrap(sum(read(s) for s in slots), spec.signed)
    if kind in ("min", "max"):
        read = _i64 if spec.signed else _u64
        seen = [read(s) for s in slots if _u64(s, 8)]
        if not seen:
            return 0
        return min(seen) if kind == "min" else max(seen)
    if kind == "avg":
        count = sum(_u64(s) for s in slots)
        total = sum(_i64(s, 8) for s in slots)
        return c_div(total, count)
    if kind == "int":
        return int.from_bytes(slots[0][:spec.size], "little", signed=spec.signed)
    if kind == "str":
        return c_string(slots[0][:spec.size])
    raise ValueError(f"unknown map value kind {kind!r}")


def c_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, as C does; 0 when b is 0."""
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q
