"""The grammar builds conflict-free in strict mode, and its disk cache is
used only when it is safe."""

from __future__ import annotations

import os

import pytest
from lark import Lark
from lark.exceptions import GrammarError

from pytrace import grammar
from pytrace.ast import dump
from pytrace.parser import parse
from pytrace.source import SourceFile


def test_grammar_builds_in_strict_mode():
    # build_parser() raises on any shift/reduce or reduce/reduce conflict and
    # on colliding terminals, so building it at all is the check.
    parser = grammar.build_parser()
    assert parser.options.strict is True
    assert parser.options.parser == "lalr"
    assert parser.options.propagate_positions is True
    assert grammar.make_parser().options.strict is True


def test_strict_options_reject_a_conflicting_grammar():
    """Guards the test above: with these options a dangling else is an error."""
    dangling_else = """
        stmt: "if" "x" stmt ("else" stmt)? | "s"
        program: stmt
        expr: "e"
        %ignore " "
    """
    with pytest.raises(GrammarError, match="Shift/Reduce"):
        Lark(dangling_else, **grammar.OPTIONS)


def test_make_parser_is_built_once():
    assert grammar.make_parser() is grammar.make_parser()


def test_disk_cache_round_trip(tmp_path):
    path = str(tmp_path / "tables")
    fresh = grammar.build_parser(cache=path)
    assert os.path.getsize(path) > 0
    cached = grammar.build_parser(cache=path)
    text = "kprobe:f /pid > 1/ { @[comm] = count(); if (a) { $x++ } else { return } }"
    assert fresh.parse(text, start="program") == cached.parse(text, start="program")


def test_cache_path_is_under_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(grammar.CACHE_DIR_ENV, str(tmp_path / "c"))
    path = grammar.cache_path()
    assert path is not None and path.startswith(str(tmp_path / "c") + os.sep)
    assert os.stat(tmp_path / "c").st_mode & 0o077 == 0


@pytest.mark.parametrize("value", ["", "relative/dir"])
def test_cache_can_be_turned_off(monkeypatch, value):
    monkeypatch.setenv(grammar.CACHE_DIR_ENV, value)
    assert grammar.cache_path() is None


def test_no_cache_in_a_directory_others_can_write(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv(grammar.CACHE_DIR_ENV, str(shared))
    assert grammar.cache_path() is None


def test_dump_of_a_parsed_script():
    prog = parse(SourceFile("s.bt", "BEGIN /1/ { @x[pid] = -1 }"))
    assert dump(prog) == (
        "(Program\n"
        "  probes:\n"
        "    (Probe\n"
        "      attach_points:\n"
        "        (AttachPoint 'BEGIN')\n"
        "      predicate:\n"
        "        (Integer 1)\n"
        "      body:\n"
        "        (Assign None\n"
        "          target:\n"
        "            (MapRef '@x'\n"
        "              keys:\n"
        "                (Builtin 'pid'))\n"
        "          value:\n"
        "            (Unary '-'\n"
        "              operand:\n"
        "                (Integer 1)))))"
    )


def _parse_in_a_new_process(env_extra: dict) -> str:
    """Parse a script in a fresh interpreter; print the AST and whether lark
    itself was imported."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from pytrace.parser import parse\nfrom pytrace.ast import dump\nfrom pytrace.source import SourceFile\n"
            "print(dump(parse(SourceFile('s', 'BEGIN { @[comm] = count(); $x = (1, \"a\"); }'))))\n"
            "print('lark imported:', 'lark' in sys.modules)\n")
    env = dict(os.environ, **env_extra)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def test_runs_use_the_generated_standalone_parser_without_importing_lark(tmp_path):
    cache = {grammar.CACHE_DIR_ENV: str(tmp_path / "c")}
    first = _parse_in_a_new_process(cache)  # generates it
    assert [p.name.startswith("parser-") for p in (tmp_path / "c").iterdir()].count(True) == 1
    second = _parse_in_a_new_process(cache)  # loads it
    assert second.endswith("lark imported: False\n")
    without_cache = _parse_in_a_new_process({grammar.CACHE_DIR_ENV: ""})  # lark's own parser
    assert first == without_cache == second.replace("False\n", "True\n")
