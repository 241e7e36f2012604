"""Parser: syntax errors, compared as the full rendered diagnostic.

Each case is a script and exactly what the user sees: `file:line:col`, the
message, the source line and the caret. A script is split into lines with
`|` marking the left margin, so leading spaces stay visible.
"""

from __future__ import annotations

import pytest

from pytrace.diagnostics import CompileError
from pytrace.parser import parse, parse_expr
from pytrace.source import SourceFile


def lines(text: str) -> str:
    """Strip the indentation up to and including `|` on every line."""
    return "\n".join(line.split("|", 1)[1] for line in text.strip().split("\n"))


def render_error(script: str, name: str = "script.bt") -> str:
    with pytest.raises(CompileError) as info:
        parse(SourceFile(name, script))
    diags = info.value.diagnostics
    assert len(diags.items) == 1
    assert str(info.value) == diags.render()
    return diags.render()


CASES = {
    "missing_rparen": (
        r"""
        |#!/usr/bin/env pytrace
        |tracepoint:syscalls:sys_enter_openat
        |{
        |    printf("%s\n", str(args->filename);
        |}
        """,
        r"""
        |script.bt:4:39: error: syntax error: unexpected ";", expected ")"
        |    printf("%s\n", str(args->filename);
        |                                      ^
        """,
    ),
    "missing_rbrace": (
        """
        |BEGIN {
        |  @x = 1;
        |
        """,
        """
        |script.bt:2:10: error: syntax error: unexpected end of input, expected "}"
        |  @x = 1;
        |         ^
        """,
    ),
    "missing_semicolon_or_rbrace": (
        """
        |BEGIN { @x = 1 @y = 2 }
        """,
        """
        |script.bt:1:16: error: syntax error: unexpected map "@y", expected ";" or "}"
        |BEGIN { @x = 1 @y = 2 }
        |               ^~
        """,
    ),
    "missing_predicate_slash": (
        """
        |kprobe:do_nanosleep /pid == 1 { @x = 1; }
        """,
        """
        |script.bt:1:31: error: syntax error: unexpected "{", expected "/"
        |kprobe:do_nanosleep /pid == 1 { @x = 1; }
        |                              ^
        """,
    ),
    "bad_character": (
        """
        |BEGIN { @x = `date`; }
        """,
        """
        |script.bt:1:14: error: syntax error: unexpected character "`"
        |BEGIN { @x = `date`; }
        |             ^
        """,
    ),
    "unterminated_string": (
        r"""
        |BEGIN {
        |  printf("hello\n);
        |}
        """,
        r"""
        |script.bt:2:10: error: syntax error: unterminated string
        |  printf("hello\n);
        |         ^~~~~~~~~~
        """,
    ),
    "escaped_quote_does_not_end_string": (
        r"""
        |BEGIN { $s = "a\"; }
        """,
        r"""
        |script.bt:1:14: error: syntax error: unterminated string
        |BEGIN { $s = "a\"; }
        |             ^~~~~~~
        """,
    ),
    "empty_program": (
        "",
        """
        |script.bt:1:1: error: syntax error: no probes in the script
        |
        |^
        """,
    ),
    "only_comments": (
        """
        |// nothing to trace
        """,
        """
        |script.bt:1:1: error: syntax error: no probes in the script
        |// nothing to trace
        |^
        """,
    ),
    "probe_without_body": (
        """
        |BEGIN
        """,
        """
        |script.bt:1:6: error: syntax error: unexpected end of input, expected ",", "/", "<" or "{"
        |BEGIN
        |     ^
        """,
    ),
    "body_without_attach_point": (
        """
        |{ @x = 1; }
        """,
        """
        |script.bt:1:1: error: syntax error: unexpected "{", expected an attach point
        |{ @x = 1; }
        |^
        """,
    ),
    "stray_rbrace": (
        """
        |BEGIN { } }
        """,
        """
        |script.bt:1:11: error: syntax error: unexpected "}", expected an attach point or end of input
        |BEGIN { } }
        |          ^
        """,
    ),
    "missing_expression": (
        """
        |BEGIN { @x = ; }
        """,
        """
        |script.bt:1:14: error: syntax error: unexpected ";", expected an expression
        |BEGIN { @x = ; }
        |             ^
        """,
    ),
    "missing_rsqb": (
        """
        |BEGIN { @x[1, 2 = 3; }
        """,
        """
        |script.bt:1:17: error: syntax error: unexpected "=", expected "]"
        |BEGIN { @x[1, 2 = 3; }
        |                ^
        """,
    ),
    "ternary_without_colon": (
        """
        |BEGIN { $x = pid ? 1; }
        """,
        """
        |script.bt:1:21: error: syntax error: unexpected ";", expected ":"
        |BEGIN { $x = pid ? 1; }
        |                    ^
        """,
    ),
    "if_without_braces": (
        """
        |BEGIN { if (pid) @x = 1; }
        """,
        """
        |script.bt:1:18: error: syntax error: unexpected map "@x", expected "{"
        |BEGIN { if (pid) @x = 1; }
        |                 ^~
        """,
    ),
    "identifier_after_expression": (
        """
        |BEGIN { foo bar }
        """,
        """
        |script.bt:1:13: error: syntax error: unexpected identifier "bar", expected ";" or "}"
        |BEGIN { foo bar }
        |            ^~~
        """,
    ),
    "angle_body_statement_needs_semicolon": (
        """
        |BEGIN < @x = 1 >
        """,
        """
        |script.bt:1:17: error: syntax error: unexpected end of input, expected an expression
        |BEGIN < @x = 1 >
        |                ^
        """,
    ),
    "invalid_octal": (
        """
        |BEGIN { @x = 0789; }
        """,
        """
        |script.bt:1:14: error: syntax error: invalid octal number "0789"
        |BEGIN { @x = 0789; }
        |             ^~~~
        """,
    ),
    "invalid_escape": (
        r"""
        |BEGIN { printf("a\qb"); }
        """,
        r"""
        |script.bt:1:18: error: syntax error: invalid escape sequence "\q" in string
        |BEGIN { printf("a\qb"); }
        |                 ^~
        """,
    ),
    "octal_escape_out_of_range": (
        r"""
        |BEGIN { printf("\400"); }
        """,
        r"""
        |script.bt:1:17: error: syntax error: invalid escape sequence "\400" in string
        |BEGIN { printf("\400"); }
        |                ^~~~
        """,
    ),
    "assign_to_builtin": (
        """
        |BEGIN { pid = 1; }
        """,
        """
        |script.bt:1:9: error: syntax error: "=" needs a map (@name) or a variable ($name)
        |BEGIN { pid = 1; }
        |        ^~~
        """,
    ),
    "compound_assign_to_call": (
        """
        |BEGIN { f() += 1; }
        """,
        """
        |script.bt:1:9: error: syntax error: "+=" needs a map (@name) or a variable ($name)
        |BEGIN { f() += 1; }
        |        ^~~
        """,
    ),
    "increment_a_number": (
        """
        |BEGIN { 1++; }
        """,
        """
        |script.bt:1:9: error: syntax error: "++" needs a map (@name) or a variable ($name)
        |BEGIN { 1++; }
        |        ^
        """,
    ),
    "shebang_only_on_first_line": (
        """
        |BEGIN { }
        |#!/usr/bin/env pytrace
        """,
        """
        |script.bt:2:1: error: syntax error: unexpected character "#"
        |#!/usr/bin/env pytrace
        |^
        """,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_syntax_error(name):
    script, expected = CASES[name]
    if script:
        script = lines(script) + "\n"
    assert render_error(script) == lines(expected)


def test_expression_entry_point_errors():
    with pytest.raises(CompileError) as info:
        parse_expr(SourceFile("e", "1 +"))
    assert info.value.diagnostics.render() == lines(
        """
        |e:1:4: error: syntax error: unexpected end of input, expected an expression
        |1 +
        |   ^
        """
    )


SAMPLE = """\
#!/usr/bin/env pytrace
kprobe:do_sys_open*, t:syscalls:sys_enter_openat /pid > 100 && comm != "sh"/ {
  @opens[comm, (int32)args->flags] = count(); $n += 0x10;
  if (@n[tid]++ > 3) { printf("%s %d\\n", str(args.filename), -$n); } else { return; }
}
interval:s:1 < @x = $a ? 1 : 2; @y--; >
"""


@pytest.mark.parametrize("cut", range(len(SAMPLE) + 1))
def test_no_lark_exception_escapes_for_any_prefix(cut):
    """Every prefix of a script parses or fails with a CompileError."""
    try:
        parse(SourceFile("p.bt", SAMPLE[:cut]))
    except CompileError as e:
        (diag,) = e.diagnostics.items
        assert diag.message.startswith("syntax error")
        assert diag.span.line >= 1


@pytest.mark.parametrize("junk", ["@", "$", "{", "}", ")", "<", ">", "/", ";", "0x", "\"", "'", "\\", "#", "\0", "é"])
def test_no_lark_exception_escapes_for_junk(junk):
    for text in (junk, f"BEGIN {{ {junk} }}", f"BEGIN /{junk}/ {{}}", f"kprobe:{junk} {{}}"):
        try:
            parse(SourceFile("j.bt", text))
        except CompileError as e:
            assert len(e.diagnostics.items) == 1
