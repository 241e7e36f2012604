"""Golden tests of the lowering: each case is a 1-5 line program aimed at one
lowering decision, and its IR as `ir.printer` prints it (which verifies the
IR first). `pytest --update-goldens` rewrites cases.test: read the diff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytrace.diagnostics import Diagnostics
from pytrace.ir import printer
from pytrace.ir.lower import lower
from pytrace.parser import parse
from pytrace.sema.check import check
from pytrace.source import SourceFile

CASES = Path(__file__).with_name("cases.test")
CASE_RE = re.compile(r"^\[case (?P<name>[\w-]+)\]\n(?P<program>.*?)\n\[out\]\n(?P<out>.*?)(?=^\[case |\Z)", re.S | re.M)


def load_cases() -> list[tuple[str, str, str]]:
    return [(m["name"], m["program"], m["out"].rstrip("\n") + "\n") for m in CASE_RE.finditer(CASES.read_text())]


def lower_text(program: str) -> str:
    source = SourceFile("case", program)
    diags = Diagnostics(source)
    checked = check(parse(source), diags)
    assert not diags.has_errors, diags.render()
    return printer.format_module(lower(checked))


def write_cases(cases: list[tuple[str, str, str]]) -> None:
    CASES.write_text("\n".join(f"[case {name}]\n{program}\n[out]\n{out}" for name, program, out in cases))


@pytest.mark.parametrize("name, program, expected", load_cases(), ids=[c[0] for c in load_cases()])
def test_lowering(name, program, expected, update_goldens):
    actual = lower_text(program)
    if update_goldens:
        write_cases([(n, p, actual if n == name else o) for n, p, o in load_cases()])
        return
    assert actual == expected
