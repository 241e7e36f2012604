"""Parser: every node carries the span of its text (1-based, end exclusive)."""

from __future__ import annotations

from pytrace.plain import fields

from pytrace.grammar import L

from pytrace import ast
from pytrace.parser import parse
from pytrace.source import NO_SPAN, SourceFile, Span

SCRIPT = """\
#!/usr/bin/env pytrace
kprobe:a, kprobe:b /pid > 1/
{
    @x[comm] = count();
    printf("%d\\n",
           $v + 1);
}
"""


def assert_span(node: ast.Node, line: int, col: int, end_line: int, end_col: int) -> None:
    assert node.span == Span(line, col, end_line, end_col), type(node).__name__


def test_probe_and_attach_point_spans():
    prog = parse(SourceFile("s.bt", SCRIPT))
    (probe,) = prog.probes
    assert_span(prog, 2, 1, 7, 2)
    assert_span(probe, 2, 1, 7, 2)
    assert_span(probe.attach_points[0], 2, 1, 2, 9)
    assert_span(probe.attach_points[1], 2, 11, 2, 19)
    assert_span(probe.predicate, 2, 21, 2, 28)
    assert_span(probe.predicate.right, 2, 27, 2, 28)


def test_statement_and_expression_spans():
    (probe,) = parse(SourceFile("s.bt", SCRIPT)).probes
    assign, printf = probe.body
    assert_span(assign, 4, 5, 4, 23)
    assert_span(assign.target, 4, 5, 4, 13)
    assert_span(assign.target.keys[0], 4, 8, 4, 12)
    assert_span(assign.value, 4, 16, 4, 23)
    assert assign.value.name_span == Span(4, 16, 4, 21)
    # A node over several lines runs from its first to its last character.
    assert_span(printf, 5, 5, 6, 19)
    assert_span(printf.expr, 5, 5, 6, 19)
    assert printf.expr.name_span == Span(5, 5, 5, 11)
    assert_span(printf.expr.args[0], 5, 12, 5, 18)
    assert_span(printf.expr.args[1], 6, 12, 6, 18)


def test_every_node_has_a_span_and_no_lark_object_leaks():
    text = (
        "BEGIN < if (a) { return; } else if (b) { @x += (int8)-c ? d.e : f->g; } $v++; --@y; >\n"
        'END { @s = "x\\n"; }'
    )
    seen = []

    def walk(node: ast.Node) -> None:
        seen.append(node)
        assert node.span != NO_SPAN, node
        for f in fields(node):
            value = getattr(node, f.name)
            for item in value if isinstance(value, list) else [value]:
                assert not isinstance(item, (L.Token, L.Tree)), (node, f.name)
                assert type(item) in (str, int, bool, type(None), Span) or isinstance(item, ast.Node)
        for child in node.children():
            walk(child)

    walk(parse(SourceFile("s.bt", text)))
    assert {type(n).__name__ for n in seen} >= {
        "Program", "Probe", "AttachPoint", "If", "Return", "Assign", "Ternary", "Cast", "Unary",
        "FieldAccess", "Builtin", "IncDec", "Variable", "MapRef", "String",
    }


def test_keyword_only_statement_has_a_span():
    (probe,) = parse(SourceFile("s.bt", "BEGIN {\n  return;\n}")).probes
    assert_span(probe.body[0], 2, 3, 2, 9)


def test_very_long_and_deep_expressions_parse():
    """The transformer is not recursive, so size is not limited by Python's stack."""
    long_sum = " + ".join(["1"] * 5000)
    (probe,) = parse(SourceFile("s.bt", f"BEGIN {{ @x = {long_sum}; }}")).probes
    assert probe.body[0].value.span == Span(1, 14, 1, 14 + len(long_sum))
    nested = "(" * 2000 + "pid" + ")" * 2000
    (probe,) = parse(SourceFile("s.bt", f"BEGIN {{ @x = {nested}; }}")).probes
    assert probe.body[0].value == ast.Builtin("pid")
