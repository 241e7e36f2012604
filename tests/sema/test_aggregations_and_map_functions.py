"""Diagnostics of the aggregation rows and the map functions, compared as
the whole rendered text (location, source line, caret, hint)."""

from __future__ import annotations

import pytest

from pytrace.diagnostics import Diagnostics
from pytrace.parser import parse
from pytrace.sema.check import check
from pytrace.sema.types import Agg
from pytrace.source import SourceFile


def checked(text: str):
    source = SourceFile("t.pt", text)
    diags = Diagnostics(source)
    return check(parse(source), diags), diags


def errors(text: str) -> str:
    return checked(text)[1].render()


@pytest.mark.parametrize("text, rendered", [
    ("BEGIN { @x = lhist(1, 0, 10); }",
     "t.pt:1:14: error: lhist() takes 4 arguments, got 3\n"
     "BEGIN { @x = lhist(1, 0, 10); }\n"
     "             ^~~~~~~~~~~~~~~"),
    ("BEGIN { @x = hist(1, 2, 3); }",
     "t.pt:1:14: error: hist() takes 1 to 2 arguments, got 3\n"
     "BEGIN { @x = hist(1, 2, 3); }\n"
     "             ^~~~~~~~~~~~~"),
    ("BEGIN { @x = hist(1, 6); }",
     "t.pt:1:22: error: the k given to hist() must be from 0 to 5, not 6\n"
     "BEGIN { @x = hist(1, 6); }\n"
     "                     ^"),
    ("BEGIN { @x = hist(1, pid); }",
     "t.pt:1:22: error: the k given to hist() must be an integer literal\n"
     "BEGIN { @x = hist(1, pid); }\n"
     "                     ^~~"),
    ("BEGIN { @x = lhist(1, -5, 10, 1); }",
     "t.pt:1:23: error: the min given to lhist() must be at least 0, not -5\n"
     "BEGIN { @x = lhist(1, -5, 10, 1); }\n"
     "                      ^~"),
    ("BEGIN { @x = lhist(1, 0, 10, 0); }",
     "t.pt:1:14: error: lhist() step must be >= 1 (0 provided)\n"
     "BEGIN { @x = lhist(1, 0, 10, 0); }\n"
     "             ^~~~~~~~~~~~~~~~~~"),
    ("BEGIN { @x = lhist(1, 0, 10, 20); }",
     "t.pt:1:14: error: lhist() step is too large for the given range (provided step 20 for range 10)\n"
     "BEGIN { @x = lhist(1, 0, 10, 20); }\n"
     "             ^~~~~~~~~~~~~~~~~~~"),
    ("BEGIN { @x = lhist(1, 0, 5000, 1); }",
     "t.pt:1:14: error: lhist() too many buckets, must be <= 1000 (would need 5000)\n"
     "BEGIN { @x = lhist(1, 0, 5000, 1); }\n"
     "             ^~~~~~~~~~~~~~~~~~~~"),
    ('BEGIN { @x = stats(comm); }',
     "t.pt:1:20: error: the value given to stats() must be an integer, not string[16]\n"
     "BEGIN { @x = stats(comm); }\n"
     "                   ^~~~"),
    ("BEGIN { @h = hist(1); @h = hist(1, 2); }",
     "t.pt:1:23: error: @h is assigned hist(..., 2) here, but hist(..., 0) at 1:9\n"
     "BEGIN { @h = hist(1); @h = hist(1, 2); }\n"
     "                      ^~~~~~~~~~~~~~~\n"
     "hint: a map holds one kind of value everywhere"),
    ("BEGIN { @s = stats(1); if (@s > 1) { } }",
     "t.pt:1:28: error: @s holds a stats() aggregation, which a probe cannot read\n"
     "BEGIN { @s = stats(1); if (@s > 1) { } }\n"
     "                           ^~\n"
     "hint: print it with print(), or read a count(), sum(), min(), max() or avg() map"),
])
def test_aggregation_errors(text, rendered):
    assert errors(text) == rendered


@pytest.mark.parametrize("text, rendered", [
    ("BEGIN { @x[1] = 1; clear(@x[1]); }",
     "t.pt:1:26: error: the map given to clear() must not have a key: write clear(@x)\n"
     "BEGIN { @x[1] = 1; clear(@x[1]); }\n"
     "                         ^~~~~"),
    ("BEGIN { zero(5); }",
     "t.pt:1:14: error: zero() expects a map, as in zero(@x)\n"
     "BEGIN { zero(5); }\n"
     "             ^"),
    ("BEGIN { print(@nothing); }",
     "t.pt:1:15: error: map @nothing is given to print() but never assigned\n"
     "BEGIN { print(@nothing); }\n"
     "              ^~~~~~~~"),
    ("BEGIN { @x = 1; print(@x, pid); }",
     "t.pt:1:27: error: the top given to print() must be an integer literal\n"
     "BEGIN { @x = 1; print(@x, pid); }\n"
     "                          ^~~"),
    ("BEGIN { print(5, 2); }",
     "t.pt:1:9: error: print() of a value takes 1 argument, got 2\n"
     "BEGIN { print(5, 2); }\n"
     "        ^~~~~~~~~~~\n"
     "hint: top and div apply to a whole map: print(@x, 10)"),
    ("BEGIN { @x = 1; $n = len(@x); }",
     "t.pt:1:26: error: len() counts the keys of a map, and @x has none\n"
     "BEGIN { @x = 1; $n = len(@x); }\n"
     "                         ^~"),
    ("BEGIN { @x[1] = 1; $k = has_key(@x); }",
     "t.pt:1:25: error: has_key() takes a map and a key: has_key(@x, key)\n"
     "BEGIN { @x[1] = 1; $k = has_key(@x); }\n"
     "                        ^~~~~~~~~~~"),
    ('BEGIN { @x[1] = 1; $k = has_key(@x, "a"); }',
     "t.pt:1:25: error: @x is used with key [string[2]] here, but with key [int64] at 1:9\n"
     'BEGIN { @x[1] = 1; $k = has_key(@x, "a"); }\n'
     "                        ^~~~~~~~~~~~~~~~\n"
     "hint: a map must use the same number and kinds of keys everywhere"),
    ("BEGIN { delete(5); }",
     "t.pt:1:9: error: delete() takes a map element: delete(@x[key]) or delete(@x, key)\n"
     "BEGIN { delete(5); }\n"
     "        ^~~~~~~~~"),
    ("BEGIN { time(5); }",
     't.pt:1:9: error: time() takes an optional format string literal, as in time("%H:%M:%S\\n")\n'
     "BEGIN { time(5); }\n"
     "        ^~~~~~~"),
    ('BEGIN { $t = strftime(5, nsecs); }',
     't.pt:1:14: error: strftime() takes a format string literal and a time in nanoseconds, as in strftime("%H:%M:%S", nsecs)\n'
     "BEGIN { $t = strftime(5, nsecs); }\n"
     "             ^~~~~~~~~~~~~~~~~~"),
    ('BEGIN { printf("%q\\n", 1); }',
     "t.pt:1:16: error: printf format has an unknown conversion '%q'\n"
     'BEGIN { printf("%q\\n", 1); }\n'
     "               ^~~~~~\n"
     "hint: supported: %d %i %u %x %X %o %s %c %p %r %rx %rh %%, with - + space # 0, a width, .precision and hh h l ll j z t"),
])
def test_map_function_and_output_errors(text, rendered):
    assert errors(text) == rendered


def test_rows_give_the_map_types():
    result, diags = checked("BEGIN { @h = hist(-1, 3); @l = lhist(pid, 0, 100, 5); @s = stats(-2); @d[1] = count(); "
                            "delete(@d, 1); if (has_key(@d, 2)) { @n = len(@d); } print(@h, 1, 2); clear(@l); zero(@s); "
                            'time(); printf("%s\\n", strftime("%H", nsecs)); }')
    assert not diags.has_errors, diags.render()
    assert result.maps["@h"].value == Agg("hist", False, (3,))
    assert result.maps["@l"].value == Agg("lhist", False, (0, 100, 5))
    assert result.maps["@s"].value == Agg("stats", True, ())
