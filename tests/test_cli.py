"""The command line: bpftrace's flags, parsed without argparse."""

from __future__ import annotations

import pytest

from pytrace.cli import UsageError, parse_args


def test_program_and_command():
    opts = parse_args(["-c", "./a.out 1 2", "-e", "BEGIN { }", "x", "y"])
    assert (opts.command, opts.program, opts.script, opts.args) == ("./a.out 1 2", "BEGIN { }", None, ["x", "y"])


def test_options_may_follow_the_script_as_with_getopt_long():
    opts = parse_args(["script.pt", "40", "-v", "demo"])
    assert opts.verbose and opts.script == "script.pt" and opts.args == ["40", "demo"]
    opts = parse_args(["script.pt", "--", "-v", "demo"])
    assert not opts.verbose and opts.args == ["-v", "demo"]


def test_combined_short_options():
    opts = parse_args(["-qe", "BEGIN { }"])
    assert opts.quiet and opts.program == "BEGIN { }"
    opts = parse_args(["-lv", "tracepoint:sched:*"])
    assert opts.verbose and opts.list == "tracepoint:sched:*"
    opts = parse_args(["-fjson", "-ofile.txt", "-Bnone", "-e", "x"])
    assert (opts.format, opts.output, opts.buffering) == ("json", "file.txt", "none")


def test_upstream_long_spellings():
    opts = parse_args(["--cmd", "ls", "--output=f.txt", "--quiet", "--verbose", "-e", "x"])
    assert (opts.command, opts.output, opts.quiet, opts.verbose) == ("ls", "f.txt", True, True)
    assert parse_args(["--list", "t:sched:*"]).list == "t:sched:*"


def test_output_options():
    opts = parse_args(["-f", "json", "-o", "out.txt", "-q", "-B", "full", "--output-style=upstream", "-e", "x"])
    assert (opts.format, opts.output, opts.quiet, opts.buffering, opts.style) == ("json", "out.txt", True, "full", "upstream")
    assert parse_args(["-e", "x"]).format == "text"


def test_stdin_script_and_double_dash():
    assert parse_args(["-"]).script == "-"
    assert parse_args(["--", "-weird-name.pt"]).script == "-weird-name.pt"


def test_list_with_and_without_pattern():
    assert parse_args(["-l"]).list == "*"
    assert parse_args(["-l", "tracepoint:sched:*"]).list == "tracepoint:sched:*"


def test_long_options_with_equals_and_repeats():
    opts = parse_args(["--dump=ir", "--dump", "llvm,asm", "--emit-elf", "o.elf", "--no-cache", "--dry-run", "-e", "BEGIN{}"])
    assert opts.dump == ["ir", "llvm,asm"] and opts.emit_elf == "o.elf" and opts.no_cache and opts.dry_run


@pytest.mark.parametrize("argv, message", [
    (["-x"], "unknown option '-x'"),
    (["-e"], "option -e needs a value"),
    (["--bogus=1"], "unknown option '--bogus'"),
    (["--dry-run=1"], "option --dry-run takes no value"),
    (["-f", "yaml", "-e", "x"], 'invalid output format "yaml": -f takes text, json or folded'),
    (["-B", "some"], 'invalid buffering mode "some": -B takes line, full or none'),
    (["-p", "x1", "-e", "x"], 'invalid process id "x1": -p takes a number > 0'),
])
def test_bad_command_lines(argv, message):
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


def test_help_and_version_exit_zero(capsys):
    for flag in ("-h", "--version"):
        with pytest.raises(SystemExit) as exit_:
            parse_args([flag])
        assert exit_.value.code == 0
    assert "usage: pytrace" in capsys.readouterr().out


def test_include_options():
    opts = parse_args(["--include", "linux/errno.h", "-I", "/usr/include", "--include=linux/fs.h", "-e", "x"])
    assert opts.includes == ["linux/errno.h", "linux/fs.h"]


def test_k_asks_for_helper_checks():
    assert parse_args(["-k", "-e", "x"]).helper_errors and parse_args(["-kk", "-e", "x"]).helper_errors
    assert not parse_args(["-e", "x"]).helper_errors
