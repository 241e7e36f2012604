"""Byte layouts of map keys, map values and printf records.

Every part starts 8-byte aligned and the buffers are zero-filled, so keys
compare equal byte for byte and the BPF code can copy in 8-byte words.
"""

from __future__ import annotations

from pytrace.aggregations import AGGREGATIONS
from pytrace.program import MAP_HASH, MAP_PERCPU_HASH, Field, ValueSpec
from pytrace.sema.types import Agg, Bool, Buffer, CValue, Enum, Ptr, enum_labels, Int, Resolved, Str, Timestamp, Tuple, part_size


def align8(n: int) -> int:
    return (n + 7) & ~7


def fields_for(types: list, start: int = 0) -> tuple[list[Field], int]:
    """Consecutive fields for values of these types; returns (fields, end)."""
    fields, offset = [], start
    for t in types:
        fields.append(t.field(offset))
        offset += part_size(t)
    return fields, offset


def key_layout(types: list) -> tuple[list[Field], int]:
    """A scalar map has one u64 key, always 0."""
    if not types:
        return [], 8
    return fields_for(types)


def value_layout(vtype) -> tuple[ValueSpec, int]:
    """(value spec, BPF map type) for a map's value type."""
    if isinstance(vtype, Agg):
        words = AGGREGATIONS[vtype.kind].words(vtype.params)
        return ValueSpec(vtype.kind, 8 * words, vtype.signed, vtype.params), MAP_PERCPU_HASH
    if isinstance(vtype, Bool):
        return ValueSpec("bool", 8, False), MAP_HASH
    if isinstance(vtype, Enum):
        return ValueSpec("enum", 8, True, (enum_labels(vtype.labels),)), MAP_HASH
    if isinstance(vtype, Ptr):
        return ValueSpec("ptr", 8, False), MAP_HASH
    if isinstance(vtype, Buffer):
        return ValueSpec("buf", vtype.value_size, False), MAP_HASH
    if isinstance(vtype, Str):
        return ValueSpec("str", align8(vtype.size), False), MAP_HASH
    if isinstance(vtype, Resolved):  # a stack, a symbol, a probe: resolved when printed
        return ValueSpec("resolved", 8 * vtype.words, False, (vtype.kind, vtype.mode)), MAP_HASH
    if isinstance(vtype, CValue):  # a struct or array: its members' fields
        return ValueSpec("tuple", vtype.size, False, (vtype.field(0),)), MAP_HASH
    if isinstance(vtype, Tuple):  # its parts' fields, to decode it with
        return ValueSpec("tuple", vtype.size, False, (vtype.field(0),)), MAP_HASH
    return ValueSpec("int", 8, vtype.signed if isinstance(vtype, Int) else True), MAP_HASH
