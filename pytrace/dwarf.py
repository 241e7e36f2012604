"""A binary's DWARF debug information, for uprobes: a function's
parameters by name and type, and the structs they point to.

    function_params("./app", "submit")
        -> [Param("o", "struct order*", Ptr(... Struct("order", 56, members))), Param("flag", "int", int32)]

uprobe `args.o->price` reads the parameter from its argument register (the
ABI's order, as bpftrace does) and the member from user memory; `-lv`
prints the declarations (`    struct order* o`), as bpftrace 0.17 does.
Read with pyelftools (bcc has no DWARF types); only when a script or a
listing asks, since reading DWARF takes a while.
"""

from __future__ import annotations

from pytrace.record import Record

# Structs are followed this many pointers deep; a deeper struct is known by
# its name and size only.
DEPTH = 4


class Param(Record):
    """A parameter: its name, its type as C declares it, its pytrace type
    (None when pytrace cannot read it: a float, a struct passed by value)."""

    __slots__ = ("name", "decl", "type")

    def __init__(self, name: str, decl: str, type):
        self.name = name
        self.decl = decl
        self.type = type


_cache: dict[tuple[str, str], list[Param] | None] = {}


def function_params(path: str, function: str) -> list[Param] | None:
    """The parameters of `function` in `path`'s DWARF, or None when it has
    no debug information for it."""
    key = (path, function)
    if key not in _cache:
        _cache[key] = _read(path, function)
    return _cache[key]


def _read(path: str, function: str) -> list[Param] | None:
    from elftools.common.exceptions import ELFError

    try:
        from elftools.elf.elffile import ELFFile

        with open(path, "rb") as f:
            elf = ELFFile(f)
            if not elf.has_dwarf_info():
                return None
            for cu in elf.get_dwarf_info().iter_CUs():
                for die in cu.iter_DIEs():
                    if die.tag == "DW_TAG_subprogram" and _name(die) == function and "DW_AT_low_pc" in die.attributes:
                        return [Param(_name(c) or f"arg{i}", _decl(_type(c)), _convert(_type(c), 0))
                                for i, c in enumerate(p for p in die.iter_children()
                                                      if p.tag == "DW_TAG_formal_parameter")]
    except (OSError, ELFError, KeyError, ValueError):
        return None
    return None


def _name(die) -> str | None:
    attr = die.attributes.get("DW_AT_name")
    return attr.value.decode(errors="replace") if attr is not None else None


def _type(die):
    """The DIE of `die`'s type, or None for void."""
    return die.get_DIE_from_attribute("DW_AT_type") if "DW_AT_type" in die.attributes else None


def _decl(die) -> str:
    """A type as C spells it, as bpftrace 0.17 prints it: `const char*`,
    `struct order*`, `ulong_t`."""
    if die is None:
        return "void"
    tag = die.tag
    if tag in ("DW_TAG_base_type", "DW_TAG_typedef"):
        return _name(die) or "?"
    if tag == "DW_TAG_pointer_type":
        return _decl(_type(die)) + "*"  # `struct order*`, as bpftrace 0.17 prints DWARF types
    if tag in ("DW_TAG_const_type", "DW_TAG_volatile_type"):
        return ("const " if tag == "DW_TAG_const_type" else "volatile ") + _decl(_type(die))
    if tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_enumeration_type"):
        kind = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union"}.get(tag, "enum")
        return f"{kind} {_name(die) or '(anonymous)'}"
    if tag == "DW_TAG_array_type":
        count = _count(die)
        return f"{_decl(_type(die))}[{count if count is not None else ''}]"
    return "?"


def _count(die) -> int | None:
    for sub in die.iter_children():
        if sub.tag == "DW_TAG_subrange_type":
            if "DW_AT_count" in sub.attributes:
                return sub.attributes["DW_AT_count"].value
            if "DW_AT_upper_bound" in sub.attributes:
                return sub.attributes["DW_AT_upper_bound"].value + 1
    return None


_converted: dict[tuple[int, int], object] = {}


def _convert(die, depth: int):
    """The pytrace type of a DWARF type (see pytrace.sema.types), `depth`
    pointers from the parameter (memoised: structs point to each other)."""
    if die is None:
        return None
    key = (id(die.cu), die.offset, depth)
    if key not in _converted:
        _converted[key] = _convert_new(die, depth)
    return _converted[key]


def _convert_new(die, depth: int):
    from pytrace.sema.types import CArray, Int, Ptr, Str, Struct

    while die is not None and die.tag in ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type",
                                          "DW_TAG_restrict_type"):
        die = _type(die)
    if die is None:
        return None
    size = die.attributes["DW_AT_byte_size"].value if "DW_AT_byte_size" in die.attributes else 0
    if die.tag == "DW_TAG_base_type":
        encoding = die.attributes["DW_AT_encoding"].value
        if encoding == 0x04 or size not in (1, 2, 4, 8):  # DW_ATE_float, or a size BPF cannot load
            return None
        return Int(size * 8, encoding in (0x05, 0x06))  # DW_ATE_signed, DW_ATE_signed_char
    if die.tag == "DW_TAG_enumeration_type":
        return Int(size * 8 if size in (1, 2, 4, 8) else 32, True)
    if die.tag == "DW_TAG_pointer_type":
        target = _type(die)
        pointee = _convert(target, depth + 1) if depth < DEPTH else None
        return Ptr(_decl(target), True, pointee)
    if die.tag == "DW_TAG_array_type":
        element, count = _convert(_type(die), depth), _count(die)
        if count is None or element is None:
            return None
        return Str(count) if element == Int(8, True) or element == Int(8, False) else CArray(element, count)
    if die.tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
        members = []
        if depth < DEPTH:
            for member in die.iter_children():
                if member.tag != "DW_TAG_member" or "DW_AT_bit_size" in member.attributes:
                    continue
                where = member.attributes.get("DW_AT_data_member_location")
                offset = where.value if where is not None and isinstance(where.value, int) else 0
                mtype = _convert(_type(member), depth)
                if _name(member) and mtype is not None:
                    members.append((_name(member), mtype, offset))
        return Struct(_name(die) or "(anonymous)", size, tuple(members), 8, "dwarf")
    return None
