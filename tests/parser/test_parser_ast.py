"""Parser: scripts and expressions against hand-written ASTs.

AST equality ignores spans (ast.py), so these trees are written without
positions; test_parser_spans.py checks the positions.
"""

from __future__ import annotations

import pytest

from pytrace.ast import (
    AttachPoint,
    Assign,
    Binary,
    Builtin,
    Call,
    Cast,
    ExprStmt,
    FieldAccess,
    If,
    IncDec,
    Integer,
    MapRef,
    Probe,
    Program,
    Return,
    String,
    Ternary,
    Unary,
    Variable,
)
from pytrace.parser import parse, parse_expr
from pytrace.source import SourceFile


def P(text: str) -> Program:
    return parse(SourceFile("test.bt", text))


def E(text: str):
    return parse_expr(SourceFile("test.bt", text))


def body(text: str) -> list:
    """The statements of `BEGIN { text }`."""
    return P("BEGIN { " + text + " }").probes[0].body


a, b, c, d, e = (Builtin(n) for n in "abcde")


def one(n: int) -> Integer:
    return Integer(n)


# ------------------------------------------------------------------- programs


def test_docstring_example():
    assert P("tracepoint:sched:sched_switch { @[comm] = count(); }") == Program(
        [
            Probe(
                [AttachPoint("tracepoint:sched:sched_switch")],
                None,
                [Assign(MapRef("@", [Builtin("comm")]), Call("count", []))],
            )
        ]
    )


def test_both_body_forms_build_the_same_ast():
    braces = P("tracepoint:sched:sched_switch { @[comm] = count(); }")
    angles = P("tracepoint:sched:sched_switch < @[comm] = count(); >")
    assert braces == angles


def test_angle_body_keeps_greater_than_inside_statements():
    braces = P("kprobe:f /pid > 1/ { if (a > b) { @x = a > b; } $y = c >> 2; @z = d >= e; }")
    angles = P("kprobe:f /pid > 1/ < if (a > b) { @x = a > b; } $y = c >> 2; @z = d >= e; >")
    assert braces == angles
    assert angles.probes[0].body[0].cond == Binary(">", a, b)


def test_empty_bodies():
    assert P("BEGIN {} END <>") == Program([Probe([AttachPoint("BEGIN")], None, []), Probe([AttachPoint("END")], None, [])])


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN",
        "begin",
        "END",
        "end",
        "tracepoint:sched:sched_switch",
        "tracepoint:syscalls:sys_enter_*",
        "interval:ms:100",
        "interval:s:1",
        "uprobe:/bin/bash:readline",
        "uprobe:./workload:fn",
        "kprobe:do_sys_open*",
        "t:sched:sched_switch",
        "uprobe:/lib/x86_64-linux-gnu/libc.so.6:malloc",
        "usdt:./a:prov:probe",
        "profile:hz:99",
        "software:cpu-clock:1000",
        "watchpoint:0x1234:8:w",
        "uprobe:/bin/x:fn+16",
        'uprobe:./a:"ns::f<int>"',
        "kprobe:sys_enter_[ab]*",
    ],
)
def test_attach_point_text_is_kept_exactly(text):
    for script in (f"{text} {{ }}", f"{text}{{}}", f"{text} < >", f"{text} /1/ {{}}", f"{text}\n{{}}"):
        (probe,) = P(script).probes
        assert probe.attach_points == [AttachPoint(text)], script


def test_several_attach_points():
    probe = P("kprobe:a, kprobe:b,kprobe:c\n, uprobe:/bin/sh:main { }").probes[0]
    assert [ap.text for ap in probe.attach_points] == ["kprobe:a", "kprobe:b", "kprobe:c", "uprobe:/bin/sh:main"]


def test_predicate_with_division_inside():
    probe = P("kprobe:f / $a / 2 > 1 / { }").probes[0]
    assert probe.predicate == Binary(">", Binary("/", Variable("$a"), Integer(2)), Integer(1))


def test_predicate_end_before_comment_and_angle_body():
    assert P("kprobe:f /pid/ // why\n { }").probes[0].predicate == Builtin("pid")
    assert P("kprobe:f /pid/ /* why */ < >").probes[0].predicate == Builtin("pid")
    assert P("kprobe:f /pid/{}").probes[0].predicate == Builtin("pid")


def test_several_probes():
    prog = P("BEGIN { @a = 1 }\nkprobe:f { @b = 2; }\nEND { exit() }")
    assert [p.attach_points[0].text for p in prog.probes] == ["BEGIN", "kprobe:f", "END"]
    assert prog.probes[2].body == [ExprStmt(Call("exit", []))]


# ------------------------------------------------------ comments and shebang


def test_comments_are_ignored():
    prog = P(
        "// leading comment\n"
        "BEGIN /* inline */ { // trailing\n"
        "  @x = 1; /* multi\n line */ @y = 2 // last\n"
        "}\n"
        "/* end */"
    )
    assert prog.probes[0].body == [Assign(MapRef("@x"), one(1)), Assign(MapRef("@y"), Integer(2))]


def test_comment_right_after_attach_point():
    assert P("BEGIN// c\n{}").probes[0].attach_points == [AttachPoint("BEGIN")]
    assert P("uprobe:/bin/sh:main/* c */{}").probes[0].attach_points == [AttachPoint("uprobe:/bin/sh:main")]


def test_shebang_line_is_ignored_and_lines_still_count():
    prog = P("#!/usr/bin/env pytrace\nBEGIN { @x = 1 }\n")
    assert prog.probes[0].body == [Assign(MapRef("@x"), one(1))]
    assert prog.probes[0].span.line == 2


# ----------------------------------------------------------------- statements


def test_map_and_variable_assignments():
    assert body("@x = 1; @x[a] = 2; @x[a, b] = 3; @ = 4; @[a] = 5; $v = 6") == [
        Assign(MapRef("@x"), one(1)),
        Assign(MapRef("@x", [a]), Integer(2)),
        Assign(MapRef("@x", [a, b]), Integer(3)),
        Assign(MapRef("@"), Integer(4)),
        Assign(MapRef("@", [a]), Integer(5)),
        Assign(Variable("$v"), Integer(6)),
    ]


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"])
def test_compound_assignment(op):
    assert body(f"@x[a] {op}= 2; $y {op}= b") == [
        Assign(MapRef("@x", [a]), Integer(2), op=op),
        Assign(Variable("$y"), b, op=op),
    ]


def test_increment_and_decrement():
    assert body("@x++; @y--; ++$a; --@m[b]") == [
        ExprStmt(IncDec(MapRef("@x"), "++", prefix=False)),
        ExprStmt(IncDec(MapRef("@y"), "--", prefix=False)),
        ExprStmt(IncDec(Variable("$a"), "++", prefix=True)),
        ExprStmt(IncDec(MapRef("@m", [b]), "--", prefix=True)),
    ]


def test_if_else_if_else():
    assert body("if (a) { @x = 1 } else if (b) { @x = 2; } else { @x = 3 }") == [
        If(
            a,
            [Assign(MapRef("@x"), one(1))],
            [If(b, [Assign(MapRef("@x"), Integer(2))], [Assign(MapRef("@x"), Integer(3))])],
        )
    ]


def test_if_without_else_needs_no_semicolon():
    assert body("if (a) { } @x = 1") == [If(a, [], None), Assign(MapRef("@x"), one(1))]


def test_return_with_and_without_semicolon():
    assert body("return;") == [Return()]
    assert body("return") == [Return()]
    assert body("if (a) { return } return") == [If(a, [Return()]), Return()]


def test_empty_statements_and_optional_last_semicolon():
    assert body(";; @x = 1;; ;") == [Assign(MapRef("@x"), one(1))]
    assert body("@x = 1; @y = 2") == body("@x = 1; @y = 2;")
    assert body("") == []


def test_expression_statements():
    assert body('printf("%d\\n", pid); exit()') == [
        ExprStmt(Call("printf", [String("%d\n"), Builtin("pid")])),
        ExprStmt(Call("exit", [])),
    ]


def test_angle_body_statement_forms():
    assert P("BEGIN < ; @x = 1; if (a) { @y = 2 } else { } $z += 1; @x++; return; >").probes[0].body == [
        Assign(MapRef("@x"), one(1)),
        If(a, [Assign(MapRef("@y"), Integer(2))], []),
        Assign(Variable("$z"), one(1), op="+"),
        ExprStmt(IncDec(MapRef("@x"), "++", prefix=False)),
        Return(),
    ]


# ---------------------------------------------------- precedence, associativity


@pytest.mark.parametrize(
    "text, tree",
    [
        ("a + b * c", Binary("+", a, Binary("*", b, c))),
        ("a * b + c", Binary("+", Binary("*", a, b), c)),
        ("a - b - c", Binary("-", Binary("-", a, b), c)),
        ("a / b % c", Binary("%", Binary("/", a, b), c)),
        ("a << b + c", Binary("<<", a, Binary("+", b, c))),
        ("a < b << c", Binary("<", a, Binary("<<", b, c))),
        ("a < b < c", Binary("<", Binary("<", a, b), c)),
        ("a == b < c", Binary("==", a, Binary("<", b, c))),
        ("a != b >= c", Binary("!=", a, Binary(">=", b, c))),
        ("a & b == c", Binary("&", a, Binary("==", b, c))),
        ("a ^ b & c", Binary("^", a, Binary("&", b, c))),
        ("a | b ^ c", Binary("|", a, Binary("^", b, c))),
        ("a && b | c", Binary("&&", a, Binary("|", b, c))),
        ("a || b && c", Binary("||", a, Binary("&&", b, c))),
        ("a || b || c", Binary("||", Binary("||", a, b), c)),
        ("a ? b : c", Ternary(a, b, c)),
        ("a ? b : c ? d : e", Ternary(a, b, Ternary(c, d, e))),
        ("a ? b ? c : d : e", Ternary(a, Ternary(b, c, d), e)),
        ("a || b ? c : d", Ternary(Binary("||", a, b), c, d)),
        ("(a + b) * c", Binary("*", Binary("+", a, b), c)),
        ("-a * b", Binary("*", Unary("-", a), b)),
        ("!a == b", Binary("==", Unary("!", a), b)),
        ("~-a", Unary("~", Unary("-", a))),
        ("a - -b", Binary("-", a, Unary("-", b))),
        ("(int8)a + b", Binary("+", Cast("int8", a), b)),
        ("(uint64)-1", Cast("uint64", Unary("-", one(1)))),
        ("(int32)(a + b)", Cast("int32", Binary("+", a, b))),
        ("$x++ + 1", Binary("+", IncDec(Variable("$x"), "++", prefix=False), one(1))),
        ("-@x++", Unary("-", IncDec(MapRef("@x"), "++", prefix=False))),
        ("a.b->c", FieldAccess(FieldAccess(a, "b"), "c", arrow=True)),
        ("-args->x", Unary("-", FieldAccess(Builtin("args"), "x", arrow=True))),
        ("f(a, b + c)", Call("f", [a, Binary("+", b, c)])),
        ("f(g(a))", Call("f", [Call("g", [a])])),
    ],
)
def test_precedence(text, tree):
    assert E(text) == tree


@pytest.mark.parametrize("t", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"])
def test_every_cast_type(t):
    assert E(f"({t})a") == Cast(t, a)


def test_args_field_access():
    assert E("args.filename") == FieldAccess(Builtin("args"), "filename", arrow=False)
    assert E("args->filename") == FieldAccess(Builtin("args"), "filename", arrow=True)


def test_type_names_are_still_identifiers_outside_casts():
    assert E("int8 + 1") == Binary("+", Builtin("int8"), one(1))


# ------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    "text, value",
    [
        ("0", 0),
        ("42", 42),
        ("1_000_000", 1_000_000),
        ("0x1F", 31),
        ("0XfF", 255),
        ("0xdead_beef", 0xDEADBEEF),
        ("0755", 0o755),
        ("00", 0),
        ("0_7", 7),
    ],
)
def test_integers(text, value):
    assert E(text) == Integer(value)


@pytest.mark.parametrize(
    "text, value",
    [
        (r'""', ""),
        (r'"plain %s"', "plain %s"),
        (r'"a\nb\tc"', "a\nb\tc"),
        (r'"\\ \" \r"', '\\ " \r'),
        (r'"\0"', "\0"),
        (r'"\x41\x4a\x4A\x7"', "AJJ\x07"),
        (r'"\101\60\0101"', "A0\x081"),
        (r'"\377"', "\xff"),
        ('"caf\u00e9"', "caf\u00e9"),
    ],
)
def test_string_escapes(text, value):
    assert E(text) == String(value)


def test_builtins_variables_maps():
    assert E("pid") == Builtin("pid")
    assert E("comm") == Builtin("comm")
    assert E("$name_1") == Variable("$name_1")
    assert E("@") == MapRef("@")
    assert E("@m[a, b]") == MapRef("@m", [a, b])
    assert E("@[comm]") == MapRef("@", [Builtin("comm")])
