"""Semantic errors: the whole rendered diagnostic is compared, so a change of
wording or caret position shows up here."""

from __future__ import annotations

import pytest

from pytrace.diagnostics import Diagnostics
from pytrace.parser import parse
from pytrace.sema.check import check
from pytrace.sema.types import COMM, INT64, Agg, Int, Str
from pytrace.source import SourceFile


def checked(text: str):
    source = SourceFile("t.pt", text)
    diags = Diagnostics(source)
    result = check(parse(source), diags)
    return result, diags


def errors(text: str) -> str:
    _, diags = checked(text)
    return diags.render()


def test_map_types_come_from_every_use():
    result, diags = checked('BEGIN { @a[comm, 1] = count(); @b = "x"; @b = "longer"; @c = @d + 1; } END { @d = 5; }')
    assert not diags.has_errors, diags.render()
    maps = result.maps
    assert maps["@a"].keys == [COMM, INT64] and maps["@a"].value == Agg("count", False)
    assert maps["@b"].value == Str(7)
    assert maps["@c"].value == INT64 and maps["@d"].value == INT64


def test_map_key_conflict_is_reported_at_the_second_use():
    text = 'BEGIN\n{\n    @sizes[1] = 10;\n    @sizes["big"] = 20;\n}\n'
    assert errors(text) == (
        "t.pt:4:5: error: @sizes is used with key [string[4]] here, but with key [int64] at 3:5\n"
        '    @sizes["big"] = 20;\n'
        "    ^~~~~~~~~~~~~\n"
        "hint: a map must use the same number and kinds of keys everywhere"
    )


def test_map_value_conflict():
    assert errors("BEGIN { @x = count(); @x = 5; }").startswith(
        "t.pt:1:23: error: @x is assigned a value of type int64 here, but count() at 1:9"
    )


def test_undefined_variable():
    assert errors("BEGIN { @bytes = sum($total); }").splitlines()[0] == (
        "t.pt:1:22: error: undefined variable '$total'"
    )


def test_unknown_function_suggests_the_close_one():
    out = errors("BEGIN { @calls[comm] = counts(); }")
    assert out.splitlines()[0] == "t.pt:1:24: error: unknown function 'counts'"
    assert out.splitlines()[-1] == "hint: did you mean 'count'?"


def test_unknown_identifier():
    assert errors("BEGIN { @x = pdi; }").splitlines()[0] == "t.pt:1:14: error: unknown identifier 'pdi'"


def test_aggregation_outside_a_map_assignment():
    assert "count() must be assigned to a map" in errors("BEGIN { $x = count(); }")


@pytest.mark.parametrize(
    "text, message",
    [
        ('BEGIN { printf("%d %d\\n", 1); }', "printf format expects 2 arguments, but 1 was given"),
        ('BEGIN { printf("%s\\n", 1); }', "printf %s needs a string, not int64"),
        ('BEGIN { printf("%d\\n", comm); }', "printf %d needs an integer, not string[16]"),
        ("BEGIN { $x = comm; $x = 1; }", "$x holds string[16]; it cannot be assigned int64"),
        ("BEGIN { @x = 1 + comm; }", "an operand of '+' must be an integer, not string[16]"),
        ('BEGIN { if (comm == 1) { } }', "cannot compare string[16] with int64"),
        ("BEGIN { @x = args.foo; }", "args is not available in a BEGIN probe"),
        ("interval:xs:5 { }", "invalid interval 'interval:xs:5'"),
        ("iter:task { }", "probe type 'iter' is not supported by pytrace yet"),
        ("BEGIN { exit(1, 2); }", "exit() takes at most 1 argument (an exit code), got 2"),
        ("BEGIN { @a = hist(1); @b = @a; }", "@a holds a hist() aggregation, which a probe cannot read"),
    ],
)
def test_errors(text, message):
    assert message in errors(text)


def test_each_error_is_reported_once_per_site():
    out = errors("BEGIN { @x = y; } END { @z = y; }")
    assert out.count("unknown identifier 'y'") == 2
    assert len([l for l in out.splitlines() if ": error: " in l]) == 2


def test_signedness_of_aggregations_follows_the_argument():
    result, diags = checked("BEGIN { @s = sum(-1); @u = sum(pid); @m = min(1); }")
    assert not diags.has_errors
    assert result.maps["@s"].value == Agg("sum", True)
    assert result.maps["@u"].value == Agg("sum", False)


def test_casts():
    result, diags = checked("BEGIN { $x = (int32)1; $y = (uint8)$x; }")
    assert not diags.has_errors, diags.render()
    inst = result.instances[0]
    assert inst.variables == {"$x": Int(32, True), "$y": Int(8, False)}


def test_a_map_may_be_read_in_its_own_first_assignment():
    result, diags = checked("BEGIN { @x = @x + 1; @y[1] = @y[1] * 2; }")
    assert not diags.has_errors, diags.render()
    assert result.maps["@x"].value == INT64 and result.maps["@y"].value == INT64
