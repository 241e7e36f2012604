"""The probe-kind table: spellings, and the errors of attach points."""

from __future__ import annotations

import pytest

from pytrace import probe_kinds
from pytrace.diagnostics import Diagnostics
from pytrace.sema import probes
from pytrace.source import SourceFile, Span


@pytest.mark.parametrize("spelling, name", [
    ("tracepoint", "tracepoint"), ("t", "tracepoint"), ("Tracepoint", "tracepoint"),
    ("BEGIN", "begin"), ("begin", "begin"), ("End", "end"), ("i", "interval"),
    ("u", "uprobe"), ("U", "usdt"), ("kfunc", "fentry"), ("kretfunc", "fexit"), ("rt", "rawtracepoint"),
])
def test_spellings(spelling, name):
    assert probe_kinds.provider(spelling).name == name


def test_every_kind_has_a_program_type_and_an_attach_function_or_a_phase():
    from pytrace.runtime import attach

    for row in probe_kinds.PROBE_KINDS.values():
        if not row.supported:
            continue
        assert row.prog_type and hasattr(probes, "_expand_" + row.expand)
        if row.phase == "event":
            assert hasattr(attach, "attach_" + row.attach), row.name


def errors(text: str) -> str:
    source = SourceFile("t.pt", text)
    diags = Diagnostics(source)
    probes.resolve(text, Span(1, 1, 1, len(text) + 1), diags)
    return diags.render()


@pytest.mark.parametrize("text, rendered", [
    ("uprobe:/nonexistent/bin:main", "t.pt:1:1: error: binary not found: /nonexistent/bin\n"
                                     "uprobe:/nonexistent/bin:main\n^" + "~" * 27 + "\n"
                                     "hint: give its path, the name of a program in PATH, or a library's name (libc)"),
    ("ur:libc:no_such_function", "t.pt:1:1: error: function not found: no_such_function in LIBC\n"
                                 "ur:libc:no_such_function\n^~~~~~~~~~~~~~~~~~~~~~~~\n"
                                 "hint: list its functions with: pytrace -l 'uretprobe:LIBC:*'"),
    ("uprobe:/bin/sh", "t.pt:1:1: error: invalid uprobe 'uprobe:/bin/sh': expected uprobe:BINARY:FUNCTION\n"
                       "uprobe:/bin/sh\n^~~~~~~~~~~~~~"),
    ("ur:libc:getpid+4", "t.pt:1:1: error: invalid uretprobe 'uretprobe:LIBC:getpid+4': a uretprobe takes no offset\n"
                         "ur:libc:getpid+4\n^~~~~~~~~~~~~~~~"),
    ("bogus:x", "t.pt:1:1: error: unknown probe type 'bogus' in attach point 'bogus:x'\n"
                "bogus:x\n^~~~~~~\nhint: pytrace knows: begin, end, tracepoint, interval, kprobe, kretprobe, uprobe, uretprobe, usdt, profile, software, hardware, watchpoint, rawtracepoint, fentry, fexit"),
    ("BEGIN:x", "t.pt:1:1: error: BEGIN takes nothing after it: write BEGIN { ... }\nBEGIN:x\n^~~~~~~"),
])
def test_attach_point_errors(text, rendered):
    from pytrace import symbols

    assert errors(text) == rendered.replace("LIBC", symbols.find_binary("libc") or "LIBC")


def test_case_insensitive_providers_expand():
    assert errors("Interval:ms:5") == ""
    assert errors("BEGIN") == "" and errors("end") == ""


@pytest.mark.parametrize("text, name", [
    ("interval:100ms", "interval:ms:100"), ("i:1s", "interval:s:1"), ("interval:hz:99", "interval:hz:99"),
    ("interval:2000000", "interval:us:2000"), ("profile:1_000us", "profile:us:1000"),
    ("software:cpu:1e6", "software:cpu:1e6"), ("watchpoint:0x1000:8:rw", "watchpoint:4096:8:rw"),
])
def test_attach_point_spellings(text, name):
    diags = Diagnostics(SourceFile("t.pt", text))
    (target,) = probes.resolve(text, Span(1, 1, 1, len(text) + 1), diags)
    assert not diags.has_errors and target.name == name


def test_raw_tracepoint_wildcards():
    diags = Diagnostics(SourceFile("t.pt", "rt:sched_sw*"))
    names = [t.name for t in probes.resolve("rt:sched_sw*", Span(1, 1, 1, 13), diags)]
    assert names == ["rawtracepoint:sched_swap_numa", "rawtracepoint:sched_switch"]
