"""C struct definitions written in a script, laid out as C lays them out.

    struct order { int id; int qty; long price_cents; char sku[12]; };
becomes
    Struct("order", size=32, members=(("id", int32, 0), ("qty", int32, 4),
                                      ("price_cents", int64, 8), ("sku", string[12], 16)))

Members are integers (C's names and the fixed-width ones), pointers, char
arrays (read as strings), other arrays (not readable yet) and structs
defined before. Each
member is aligned to its own alignment, the struct's size to its largest
(x86_64 and aarch64 agree on all of these).
"""

from __future__ import annotations

import re

from pytrace.sema.types import CArray, Int, Ptr, Str, Struct, c_layout

# C type names -> (bytes, signed)
INTEGERS = {
    "char": (1, True), "signed char": (1, True), "unsigned char": (1, False),
    "short": (2, True), "short int": (2, True), "signed short": (2, True), "unsigned short": (2, False),
    "unsigned short int": (2, False),
    "int": (4, True), "signed": (4, True), "signed int": (4, True), "unsigned": (4, False),
    "unsigned int": (4, False),
    "long": (8, True), "long int": (8, True), "signed long": (8, True), "unsigned long": (8, False),
    "unsigned long int": (8, False), "long long": (8, True), "long long int": (8, True),
    "signed long long": (8, True), "unsigned long long": (8, False), "unsigned long long int": (8, False),
    "bool": (1, False), "_Bool": (1, False),
    "size_t": (8, False), "ssize_t": (8, True), "uintptr_t": (8, False), "intptr_t": (8, True),
    "pid_t": (4, True), "uid_t": (4, False), "gid_t": (4, False), "off_t": (8, True), "time_t": (8, True),
}
for _bits in (8, 16, 32, 64):
    for _name, _signed in ((f"int{_bits}_t", True), (f"uint{_bits}_t", False), (f"s{_bits}", True),
                           (f"u{_bits}", False), (f"__s{_bits}", True), (f"__u{_bits}", False)):
        INTEGERS[_name] = (_bits // 8, _signed)

_MEMBER = re.compile(r"^(?P<type>(?:const\s+|volatile\s+)*(?:struct\s+)?[A-Za-z_][\w\s]*?)\s*(?P<stars>[*\s]*)"
                     r"\b(?P<name>[A-Za-z_]\w*)\s*(?P<counts>(?:\[\s*\d+\s*\]\s*)*)$")


class DeclError(Exception):
    """A member declaration pytrace cannot read (the message says which)."""


def define(name: str, members: list[str], known: dict[str, Struct]) -> Struct:
    """The struct `name` with these member declarations, laid out; structs
    it embeds or points to must be in `known` (or be `name` itself, through
    a pointer)."""
    laid = []
    offset, align = 0, 1
    for text in members:
        member_name, mtype = _member(text, name, known)
        size, member_align = size_align(mtype)
        offset = (offset + member_align - 1) // member_align * member_align
        if any(n == member_name for n, _, _ in laid):
            raise DeclError(f"struct {name} has two members named {member_name}")
        laid.append((member_name, mtype, offset))
        offset += size
        align = max(align, member_align)
    size = (offset + align - 1) // align * align
    return Struct(name, size, tuple(laid), align)


def _member(text: str, owner: str, known: dict[str, Struct]):
    match = _MEMBER.match(" ".join(text.split()))
    if match is None:
        raise DeclError(f"cannot read the member declaration '{text}' of struct {owner}")
    words = " ".join(w for w in match["type"].split() if w not in ("const", "volatile"))
    stars = match["stars"].count("*")
    mtype = _base(words, owner, known, pointer=stars > 0)
    for _ in range(stars):
        mtype = Ptr(words, pointee=mtype)
    counts = [int(n) for n in re.findall(r"\d+", match["counts"])]
    for i, count in enumerate(reversed(counts)):  # int y[2][3]: two arrays of three
        if i == 0 and words == "char" and not stars:  # char name[N] reads as a string, as in bpftrace
            mtype = Str(count)
        else:
            mtype = CArray(mtype, count)
    return match["name"], mtype


def _base(words: str, owner: str, known: dict[str, Struct], pointer: bool):
    if words.startswith("struct "):
        other = words[len("struct "):].strip()
        if other in known:
            return known[other]
        if pointer and other == owner:
            return Struct(owner, 0, (), 1)  # a pointer to itself: its layout is not needed yet
        raise DeclError(f"struct {other} is not defined before struct {owner}")
    if words == "void" and pointer:
        return Int(8, False)
    if words in INTEGERS:
        size, signed = INTEGERS[words]
        return Int(size * 8, signed)
    raise DeclError(f"unknown type '{words}' in struct {owner}")


def size_align(t) -> tuple[int, int]:
    """(bytes, alignment) of a member type."""
    found = c_layout(t)
    if found is None:
        raise DeclError(f"no layout for {t}")
    return found
