"""Scripts that are long or deeply nested compile (the passes recurse over
the tree: they run with room to), and map types are learned to a fixed
point whatever the order of their uses."""

from __future__ import annotations

from pytrace.driver import CompileOptions, compile_source
from pytrace.source import SourceFile


def compile_text(text: str):
    return compile_source(SourceFile("t.pt", text), CompileOptions(use_cache=False))


def test_an_expression_of_5000_terms():
    compiled = compile_text("BEGIN { $x = 1; @x = " + " + ".join(["$x"] * 5000) + "; exit(); }")
    assert compiled.probes and compiled.probes[0].insns


def test_1000_nested_blocks():
    compiled = compile_text("BEGIN { " + "if (pid > 0) { " * 1000 + "@x = 1;" + " }" * 1000 + " }")
    assert compiled.probes[0].insns


def test_map_types_are_learned_to_a_fixed_point():
    compiled = compile_text("BEGIN { @a = @b; @b = @c; @c = @d; @d = @e; @e = \"text\"; }")
    values = {m.name: m.value.kind for m in compiled.maps if m.value is not None}
    assert values == {"@a": "str", "@b": "str", "@c": "str", "@d": "str", "@e": "str"}
