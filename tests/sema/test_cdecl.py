"""C struct definitions of a script: member types and C's layout."""

from __future__ import annotations

import pytest

from pytrace.sema.cdecl import DeclError, define
from pytrace.sema.types import CArray, Int, Ptr, Str, Struct


def test_members_are_aligned_and_the_size_rounded():
    order = define("order", ["int id", "int qty", "long price_cents", "char sku[12]"], {})
    assert order.members == (("id", Int(32), 0), ("qty", Int(32), 4), ("price_cents", Int(64), 8),
                             ("sku", Str(12), 16))
    assert (order.size, order.align) == (32, 8)


def test_every_kind_of_member():
    point = define("point", ["short x", "unsigned short y"], {})
    assert point.size == 4 and point.align == 2
    item = define("item", ["char tag", "struct point at", "uint64_t big", "struct item *next",
                           "const char *label", "u8 flags[3]", "unsigned long long  n"], {"point": point})
    offsets = {name: (offset, t) for name, t, offset in item.members}
    assert offsets["tag"] == (0, Int(8, True))
    assert offsets["at"] == (2, point)
    assert offsets["big"] == (8, Int(64, False))
    assert offsets["next"][0] == 16 and isinstance(offsets["next"][1], Ptr)
    assert offsets["next"][1].pointee == Struct("item", 0, (), 1)  # resolved by name when followed
    assert offsets["label"] == (24, Ptr("char", pointee=Int(8, True)))
    assert offsets["flags"] == (32, CArray(Int(8, False), 3))
    assert offsets["n"] == (40, Int(64, False))
    assert item.size == 48


@pytest.mark.parametrize("members, message", [
    (["float x"], "unknown type 'float' in struct s"),
    (["struct other o"], "struct other is not defined before struct s"),
    (["int x", "long x"], "struct s has two members named x"),
    (["int (*fn)(void)"], "cannot read the member declaration 'int (*fn)(void)' of struct s"),
])
def test_mistakes(members, message):
    with pytest.raises(DeclError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        define("s", members, {})
