"""Raw bytes from the kernel -> values (pytrace.values), using the layouts
in program.py and the rows of pytrace.aggregations.

Pure functions (no kernel), so they are tested on canned bytes:

    decode_key([Field("int", 0, 8, signed=True)], b"\\xff" * 8)  -> (-1,)
    merge_value(ValueSpec("count", 8), p64(2) + p64(3), 2)      -> 5

A per-CPU value is every CPU's slot one after the other, each slot
value_size rounded up to 8 bytes (the layout the kernel returns).
"""

from __future__ import annotations

import struct

from pytrace.aggregations import c_string, row
from pytrace.program import ARRAY_FMT, RESOLVED_FIELDS, Field, ValueSpec
from pytrace.runtime.names import NO_NAMES
from pytrace.values import Bool, Buffer, Pointer, enum_decoder


def buffer_value(raw: bytes) -> Buffer:
    """A buf() field: its byte count, then the bytes."""
    return Buffer(raw[8:8 + int.from_bytes(raw[:8], "little")])

__all__ = ["c_string", "decode_field", "decode_key", "decode_keys", "merge_value", "round_up8",
           "cpu_slots"]


def decode_field(field: Field, buf: bytes, names=None):
    raw = buf[field.offset:field.offset + field.size]
    if field.kind == "str":
        return c_string(raw)
    if field.kind in RESOLVED_FIELDS:
        return (names or NO_NAMES).resolver(field.kind, field.fmt)(raw)
    if field.kind == "tuple":
        parts = tuple(decode_field(part, raw, names) for part in field.elements)
        if field.fmt == ARRAY_FMT:  # a C array
            return list(parts)
        return dict(zip(field.fmt.split(","), parts)) if field.fmt else parts  # a record: by name
    if field.kind in ("int", "timestamp"):
        return int.from_bytes(raw, "little", signed=field.signed)
    if field.kind == "bool":
        return Bool(int.from_bytes(raw, "little"))
    if field.kind == "ptr":
        return Pointer(int.from_bytes(raw, "little"))
    if field.kind == "enum":
        return enum_decoder(field.fmt)(int.from_bytes(raw, "little", signed=True))
    if field.kind == "buf":
        return buffer_value(raw)
    raise ValueError(f"unknown field kind {field.kind!r}")


def decode_key(fields: list[Field], buf: bytes) -> tuple:
    """A map key's values, one per key field (() for a scalar map)."""
    return tuple(decode_field(f, buf) for f in fields)


_INT = {(8, True): "q", (8, False): "Q", (4, True): "i", (4, False): "I",
        (2, True): "h", (2, False): "H", (1, True): "b", (1, False): "B"}


def decode_keys(fields: list[Field], key_size: int, raw: bytes, n: int, names=None) -> list[tuple]:
    """`n` keys packed `key_size` apart, decoded in bulk: one struct pass
    over the buffer (or a memoryview cast for one 8-byte integer) instead
    of a slice and an unpack per key. `names` (runtime.names.Names)
    resolves the ids and addresses of RESOLVED_FIELDS."""
    if not fields:
        return [()] * n
    if len(fields) == 1 and fields[0].kind == "int" and fields[0].size == 8 == key_size:
        return [(k,) for k in memoryview(raw).cast("q" if fields[0].signed else "Q").tolist()]
    code, pos, convert = ["<"], 0, []
    for i, f in enumerate(fields):
        if f.offset > pos:
            code.append(f"{f.offset - pos}x")
        if f.kind == "str":
            code.append(f"{f.size}s")
            convert.append((i, c_string))
        elif f.kind in RESOLVED_FIELDS:
            code.append(f"{f.size}s")
            convert.append((i, (names or NO_NAMES).resolver(f.kind, f.fmt)))
        elif f.kind in ("bool", "ptr"):
            code.append("Q")
            convert.append((i, Bool if f.kind == "bool" else Pointer))
        elif f.kind == "enum":
            code.append("q")
            convert.append((i, enum_decoder(f.fmt)))
        elif f.kind == "buf":
            code.append(f"{f.size}s")
            convert.append((i, buffer_value))
        elif f.kind == "tuple":
            code.append(f"{f.size}s")
            convert.append((i, lambda raw, f=f: decode_field(Field("tuple", 0, f.size, fmt=f.fmt, elements=f.elements),
                                                             raw, names)))
        else:
            code.append(_INT[f.size, f.signed])
        pos = f.offset + f.size
    if key_size > pos:
        code.append(f"{key_size - pos}x")
    keys = list(struct.iter_unpack("".join(code), raw[:n * key_size]))
    if not keys or not convert:
        return keys
    if len(fields) == 1:
        (_, fn), = convert
        return [(fn(k),) for (k,) in keys]
    out = []
    for key in keys:
        parts = list(key)
        for i, fn in convert:
            parts[i] = fn(parts[i])
        out.append(tuple(parts))
    return out


def round_up8(n: int) -> int:
    return (n + 7) & ~7


def cpu_slots(buf: bytes, value_size: int, ncpus: int) -> list[bytes]:
    """Split a per-CPU lookup result into each CPU's value."""
    stride = round_up8(value_size)
    return [buf[i * stride:i * stride + value_size] for i in range(ncpus)]


def merge_value(spec: ValueSpec, raw, ncpus: int = 1):
    """The value of one map element from its raw bytes: every CPU's slot
    for a per-CPU map (ncpus of them), else the one value."""
    flat = memoryview(raw).cast("B").cast("Q")
    return row(spec.kind).merge(flat, ncpus, spec)
