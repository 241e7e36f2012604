"""Parse script text into an `ast.Program`.

    kprobe:do_nanosleep /pid > 100/ { @[comm] = count(); }
becomes
    Program([Probe([AttachPoint("kprobe:do_nanosleep")],
                   Binary(">", Builtin("pid"), Integer(100)),
                   [Assign(MapRef("@", [Builtin("comm")]), Call("count", []))])])

Lark builds a parse tree from grammar/pytrace.lark; `_ToAst` turns it into
AST nodes, one method per grammar alias, each attaching a `Span`. Nothing of
Lark (no `Tree`, no `Token`, no Lark exception) leaves this module: bad input
raises `CompileError` holding one diagnostic that names the offending token
in plain words, e.g. `syntax error: unexpected ";", expected ")"`.
"""

from __future__ import annotations

import functools


from pytrace import ast
from pytrace.diagnostics import CompileError, Diagnostics
from pytrace.grammar import L, make_parser
from pytrace.source import NO_SPAN, SourceFile, Span

# The parse-tree classes of the parser in use (pytrace.grammar: Lark's
# standalone parser, or lark's own).
Token, Transformer_NonRecursive, v_args = L.Token, L.Transformer_NonRecursive, L.v_args
UnexpectedCharacters, UnexpectedInput, UnexpectedToken = L.UnexpectedCharacters, L.UnexpectedInput, L.UnexpectedToken
VisitError, PatternStr = L.VisitError, L.PatternStr


def parse(source: SourceFile) -> ast.Program:
    """The AST of a whole script; raises CompileError on a syntax error."""
    return _parse(source, "program")


def parse_expr(source: SourceFile) -> ast.Expr:
    """The AST of a single expression (for tests and tools)."""
    return _parse(source, "expr")


# What the preprocessor takes as defined: pytrace reads kernel types from BTF.
PREDEFINED = ("BPFTRACE_HAVE_BTF",)


def preprocess(text: str) -> str:
    """C's conditional lines (#ifdef, #ifndef, #if defined(X), #else, #endif)
    resolved, as bpftrace's scripts use them (`#ifndef BPFTRACE_HAVE_BTF`):
    the lines of a branch not taken, and the conditional lines themselves,
    become empty lines, so every position stays where it was. #define and
    #include lines of the branches taken stay for the grammar."""
    defined = set(PREDEFINED)
    taking = [True]  # one entry per open #if: whether its current branch is taken
    out = []
    for line in text.split("\n"):
        words = line.strip().lstrip("#").split() if line.lstrip().startswith("#") else []
        directive = words[0] if words else ""
        if directive in ("ifdef", "ifndef", "if"):
            name = words[1] if len(words) > 1 else ""
            if directive == "if":
                name = name.replace("defined", "").strip("() ")
            known = name in defined
            taking.append(all(taking) and (known if directive != "ifndef" else not known))
            out.append("")
        elif directive == "else" and len(taking) > 1:
            outer = all(taking[:-1])
            taking[-1] = outer and not taking[-1]
            out.append("")
        elif directive == "endif" and len(taking) > 1:
            taking.pop()
            out.append("")
        elif not all(taking):
            out.append("")
        else:
            if directive == "define" and len(words) > 1:
                defined.add(words[1])
            out.append(line)
    return "\n".join(out)


class _Include:
    """An #include line, on its way into Program.includes."""

    def __init__(self, name: str):
        self.name = name


class _SyntaxProblem(Exception):
    """Raised inside the transformer for input the grammar accepts but the
    language does not (`09`, `"\\q"`, `1 = 2`); becomes a diagnostic."""

    def __init__(self, span: Span, message: str):
        super().__init__(message)
        self.span = span
        self.message = message


def _parse(source: SourceFile, start: str):
    try:
        text = source.text
        if start == "program" and "#" in text:
            text = preprocess(text)
        tree = make_parser().parse(text, start=start)
        try:
            return _ToAst().transform(tree)
        except VisitError as e:
            raise e.orig_exc from None
    except UnexpectedInput as e:
        span, message = _describe_lark_error(e, source, start)
    except _SyntaxProblem as e:
        span, message = e.span, e.message
    diags = Diagnostics(source)
    diags.error(span, message)
    raise CompileError(diags)


# ------------------------------------------------------------------ positions


def _meta_span(meta) -> Span:
    if meta.empty:
        return NO_SPAN
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


# ------------------------------------------------------------ tree -> AST


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    """One method per rule or `-> alias` in pytrace.lark. (The non-recursive
    transformer, so a 5000-term `a + a + ...` does not hit Python's
    recursion limit.)"""

    def __default__(self, data, children, meta):
        raise AssertionError(f"no AST builder for grammar rule {data!r}")

    # probes

    def program(self, meta, items):
        def of(kind):
            return [i for i in items if isinstance(i, kind)]

        config = [c for block in items if isinstance(block, list) for c in block]
        if not of(ast.Probe):
            last = _meta_span(meta)
            raise _SyntaxProblem(Span(last.end_line, last.end_col, last.end_line, last.end_col + 1),
                                 "syntax error: no probes in the script")
        return ast.Program(of(ast.Probe), of(ast.StructDef), of(ast.EnumDef), config, of(ast.MapDecl),
                           of(ast.Define), of(ast.MacroDef), [i.name for i in items if isinstance(i, _Include)],
                           span=_meta_span(meta))

    def macro_def(self, meta, children):
        name, *params, body = children
        return ast.MacroDef(str(name), [str(p) for p in params if p is not None], body, span=_meta_span(meta))

    def macro_param(self, meta, children):
        (tok,) = children
        return tok

    def struct_def(self, meta, children):
        name, *members = children
        if members and members[-1] is None:  # the optional `;`
            members.pop()
        return ast.StructDef(str(name), [str(m).rstrip(";").strip() for m in members], span=_meta_span(meta))

    def enum_def(self, meta, children):
        name, *items = children
        values, nxt = [], 0
        for item in items:
            if item is None:
                continue
            label, value = item
            nxt = value if value is not None else nxt
            values.append((label, nxt))
            nxt += 1
        return ast.EnumDef(str(name) if name is not None else None, values, span=_meta_span(meta))

    def enumerator(self, meta, children):
        name, value = children
        return str(name), value

    def signed_int(self, meta, children):
        sign, tok = children
        value = _integer_value(tok)
        return -value if sign is not None else value

    def config_block(self, meta, children):
        return [c for c in children if c is not None]

    def config_item(self, meta, children):
        name, value = children
        if isinstance(value, Token):
            value = _unescape(value) if value.type == "STRING" else str(value)
        return ast.ConfigItem(str(name), value, span=_meta_span(meta))

    def map_decl(self, meta, children):
        name, kind, size = children
        return ast.MapDecl(str(name), str(kind), _integer_value(size) if size is not None else None,
                           span=_meta_span(meta))

    def preproc(self, meta, children):
        (tok,) = children
        words = str(tok)[1:].split(None, 2)
        if words[0] == "define" and len(words) == 3:
            span = _token_span(tok)
            try:
                value = _parse(SourceFile(f"#define {words[1]}", words[2].strip()), "expr")
            except CompileError:
                raise _SyntaxProblem(span, f"#define {words[1]} must stand for an expression,"
                                           f" not {words[2].strip()!r}") from None
            _respan(value, span)  # errors in it point at the #define line
            return ast.Define(words[1], value, span=span)
        if words[0] == "include" and len(words) > 1:  # kernel types come from BTF; macros from sema.headers
            return _Include(" ".join(words[1:]).strip().strip('<>"'))
        return None

    def probe(self, meta, children):
        attach_points, predicate, body = children
        return ast.Probe(attach_points, predicate, body, span=_meta_span(meta))

    def attach_points(self, meta, tokens):
        return [ast.AttachPoint(str(t), span=_token_span(t)) for t in tokens]

    def predicate(self, meta, children):
        expr, _endpred = children
        return expr

    # statements

    def stmt_list(self, meta, stmts):
        return [s for s in stmts if s is not None]

    def block_expr(self, meta, children):
        *stmts, last = children
        stmts = [s for s in stmts if s is not None]
        value = None
        if isinstance(last, ast.ExprStmt):  # the unterminated last expression is the value
            value = last.expr
        elif last is not None:
            stmts.append(last)
        return ast.BlockExpr(stmts, value, span=_meta_span(meta))

    angle_list = stmt_list

    def block(self, meta, children):
        (stmts,) = children
        return stmts

    def expr_stmt(self, meta, children):
        (expr,) = children
        return ast.ExprStmt(expr, span=_meta_span(meta))

    def assign(self, meta, children):
        target, value = children
        if isinstance(target, ast.Builtin) and target.name == "_":  # `_ = f();`: the value is discarded
            return ast.ExprStmt(value, span=_meta_span(meta))
        _check_assignable(target, "=")
        return ast.Assign(target, value, span=_meta_span(meta))

    def compound_assign(self, meta, children):
        target, op, value = children
        _check_assignable(target, str(op))
        return ast.Assign(target, value, op=str(op)[:-1], span=_meta_span(meta))

    def let_stmt(self, meta, children):
        var, type_name, value = children
        return ast.Let(str(var), type_name, value, span=_meta_span(meta))

    def type_name(self, meta, children):
        (name,) = children
        return name

    def string_type(self, meta, children):
        return "string"

    def struct_type(self, meta, children):
        name, *stars = children
        return f"struct {name} " + "*" * len(stars)

    def return_stmt(self, meta, children):
        return ast.Return(span=_meta_span(meta))

    def break_stmt(self, meta, children):
        return ast.Break(span=_meta_span(meta))

    def continue_stmt(self, meta, children):
        return ast.Continue(span=_meta_span(meta))

    def while_stmt(self, meta, children):
        cond, body = children
        return ast.While(cond, body, span=_meta_span(meta))

    def unroll_stmt(self, meta, children):
        count, body = children
        return ast.Unroll(count, body, span=_meta_span(meta))

    def for_stmt(self, meta, children):
        var, start, _dots, end, body = children
        return ast.ForRange(str(var), start, end, body, span=_meta_span(meta))

    def for_map(self, meta, children):
        var, name, body = children
        return ast.ForMap(str(var), ast.MapRef(str(name), [], span=_token_span(name)), body, span=_meta_span(meta))

    def if_stmt(self, meta, children):
        cond, then, otherwise = children
        return ast.If(cond, then, otherwise, span=_meta_span(meta))

    def else_branch(self, meta, children):
        (branch,) = children
        return branch if isinstance(branch, list) else [branch]

    # expressions

    def ternary(self, meta, children):
        cond, then, otherwise = children
        return ast.Ternary(cond, then, otherwise, span=_meta_span(meta))

    def elvis(self, meta, children):
        cond, otherwise = children  # `a ?: b` is `a ? a : b`
        return ast.Ternary(cond, cond, otherwise, span=_meta_span(meta))

    def binary(self, meta, children):
        left, op, right = children
        return ast.Binary(str(op), left, right, span=_meta_span(meta))

    def unary(self, meta, children):
        op, operand = children
        return ast.Unary(str(op), operand, span=_meta_span(meta))

    def pre_incdec(self, meta, children):
        op, target = children
        _check_assignable(target, str(op))
        return ast.IncDec(target, str(op), prefix=True, span=_meta_span(meta))

    def post_incdec(self, meta, children):
        target, op = children
        _check_assignable(target, str(op))
        return ast.IncDec(target, str(op), prefix=False, span=_meta_span(meta))

    def cast(self, meta, children):
        type_name, operand = children
        return ast.Cast(type_name, operand, span=_meta_span(meta))

    def pointer_cast(self, meta, children):
        type_name, *stars, operand = children
        return ast.Cast(f"{type_name} " + "*" * len(stars), operand, span=_meta_span(meta))

    def array_cast(self, meta, children):
        type_name, count, operand = children
        return ast.Cast(f"{type_name}[{'' if count is None else _integer_value(count)}]", operand,
                        span=_meta_span(meta))

    def enum_cast(self, meta, children):
        name, operand = children
        return ast.Cast(f"enum {name}", operand, span=_meta_span(meta))

    def index(self, meta, children):
        obj, index = children
        return ast.Index(obj, index, span=_meta_span(meta))

    def address_of(self, meta, children):
        _amp, var = children
        return ast.AddressOf(ast.Variable(str(var), span=_token_span(var)), span=_meta_span(meta))

    def deref(self, meta, children):
        _star, operand = children
        return ast.Deref(operand, span=_meta_span(meta))

    def struct_cast(self, meta, children):
        name, *stars, operand = children
        return ast.Cast(f"struct {name} " + "*" * len(stars), operand, span=_meta_span(meta))

    def cast_type(self, meta, children):
        (tok,) = children
        return str(tok)

    def field(self, meta, children):
        obj, name = children
        return ast.FieldAccess(obj, str(name), arrow=False, span=_meta_span(meta))

    def tuple(self, meta, children):
        return ast.Tuple(list(children), span=_meta_span(meta))

    def record(self, meta, children):
        fields = [c for c in children if c is not None]
        names = [name for name, _ in fields]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _SyntaxProblem(_meta_span(meta), f"the record names field '{name}' twice")
        return ast.Tuple([value for _, value in fields], names, span=_meta_span(meta))

    def sizeof_type(self, meta, children):
        (type_name,) = children
        return ast.SizeOf(type_name, None, span=_meta_span(meta))

    def sizeof_expr(self, meta, children):
        (operand,) = children
        return ast.SizeOf(None, operand, span=_meta_span(meta))

    def offsetof(self, meta, children):
        type_name, *path = children
        return ast.OffsetOf(type_name, [str(p) for p in path], span=_meta_span(meta))

    def record_field(self, meta, children):
        name, value = children
        return str(name), value

    def tuple_index(self, meta, children):
        obj, index = children
        return ast.TupleIndex(obj, _integer_value(index), span=_meta_span(meta))

    def arrow_field(self, meta, children):
        obj, name = children
        return ast.FieldAccess(obj, str(name), arrow=True, span=_meta_span(meta))

    def call(self, meta, children):
        name, args = children
        return ast.Call(str(name), args or [], span=_meta_span(meta), name_span=_token_span(name))

    def args(self, meta, exprs):
        return list(exprs)

    def map(self, meta, children):
        name, keys = children if len(children) == 2 else (children[0], None)
        return ast.MapRef(str(name), keys or [], span=_meta_span(meta))

    def variable(self, meta, children):
        (tok,) = children
        return ast.Variable(str(tok), span=_token_span(tok))

    def positional(self, meta, children):
        (tok,) = children
        return ast.Positional(int(str(tok)[1:]), span=_token_span(tok))

    def param_count(self, meta, children):
        (tok,) = children
        return ast.ParamCount(span=_token_span(tok))

    def builtin(self, meta, children):
        (tok,) = children
        if tok in ("true", "false"):
            return ast.Boolean(tok == "true", span=_token_span(tok))
        if tok in ("ppid", "pcomm"):  # upstream's: the parent's process id and name, through curtask
            span = _token_span(tok)
            parent = ast.FieldAccess(ast.Builtin("curtask", span=span), "real_parent", arrow=True, span=span)
            return ast.FieldAccess(parent, "tgid" if tok == "ppid" else "comm", arrow=True, span=span)
        return ast.Builtin(str(tok), span=_token_span(tok))

    def integer(self, meta, children):
        (tok,) = children
        return ast.Integer(_integer_value(tok), span=_token_span(tok))

    def duration(self, meta, children):
        (tok,) = children
        text = str(tok).replace("_", "")
        digits = text.rstrip("nsuhdm")
        return ast.Integer(int(digits) * _DURATION_NS[text[len(digits):]], span=_token_span(tok))

    def string(self, meta, children):
        (tok,) = children
        return ast.String(_unescape(tok), span=_token_span(tok))


def _respan(node, span: Span) -> None:
    for child in ast.walk(node):
        child.span = span


_DURATION_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
                "h": 3_600_000_000_000, "d": 86_400_000_000_000}


def _check_assignable(target: ast.Expr, op: str) -> None:
    """Only maps and variables can be assigned or incremented."""
    if not isinstance(target, (ast.MapRef, ast.Variable)):
        raise _SyntaxProblem(
            target.span, f'syntax error: "{op}" needs a map (@name) or a variable ($name)'
        )


# ------------------------------------------------------------------ literals


def _integer_value(tok: Token) -> int:
    """`123`, `1_000`, `0x1f`, and C octal `0755`."""
    text = str(tok).replace("_", "")
    if text[:2] in ("0x", "0X"):
        return int(text[2:], 16)
    if "e" in text:  # 1e6
        digits, exponent = text.split("e")
        return int(digits) * 10 ** int(exponent)
    if len(text) > 1 and text[0] == "0":
        if any(d in "89" for d in text):
            raise _SyntaxProblem(_token_span(tok), f'syntax error: invalid octal number "{tok}"')
        return int(text[1:], 8)
    return int(text, 10)


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
                   "f": "\f", "v": "\v"}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def _unescape(tok: Token) -> str:
    """The value of a string literal: C escapes resolved.

    `\\xNN` and octal `\\NNN` give the character with that code (0-255); the
    string cannot span lines, so a column in it is the token column + index.
    """
    raw = str(tok)[1:-1]
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        start = i
        esc = raw[i + 1]  # the lexer guarantees a character after "\"
        i += 2
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            continue
        if esc in _OCTAL:
            while i < len(raw) and i - start < 4 and raw[i] in _OCTAL:
                i += 1
            code = int(raw[start + 1 : i], 8)
        elif esc == "x" and i < len(raw) and raw[i] in _HEX:
            while i < len(raw) and i - start < 4 and raw[i] in _HEX:
                i += 1
            code = int(raw[start + 2 : i], 16)
        else:
            code = -1
        if not 0 <= code <= 0xFF:
            col = tok.column + 1 + start
            raise _SyntaxProblem(
                Span(tok.line, col, tok.line, col + i - start),
                f'syntax error: invalid escape sequence "{raw[start:i]}" in string',
            )
        out.append(chr(code))
    return "".join(out)


# ------------------------------------------------------------- error wording
#
# Terminals are talked about by a key: their text for fixed tokens (`")"`,
# `"if"`), their grammar name for the others (`NAME`). The sets below use
# those keys, so they do not depend on the names Lark makes up for `"->"`.

# What a user would call the non-fixed terminals in "expected ...".
_PHRASES = {
    "$END": "end of input",
    "ATTACH_POINT": "an attach point",
    "NAME": "an identifier",
    "VAR": "a variable",
    "POSITIONAL": "a positional parameter",
    "PARAM_COUNT": "$#",
    "MAP": "a map",
    "INT": "a number",
    "DURATION": "a duration",
    "STRING": "a string",
    "COMPOUND_ASSIGN": "an assignment operator",
}
# How an unexpected non-fixed token is shown: `identifier "foo"`.
_TOKEN_KINDS = {
    "ATTACH_POINT": "attach point",
    "NAME": "identifier",
    "VAR": "variable",
    "POSITIONAL": "positional parameter",
    "PARAM_COUNT": "parameter count",
    "MAP": "map",
    "INT": "number",
    "DURATION": "duration",
    "STRING": "string",
    "COMPOUND_ASSIGN": "operator",
}

# Keys that can start an expression; together they read "an expression".
_EXPR_START = {"sizeof", "offsetof", "INT", "DURATION", "STRING", "NAME", "VAR", "POSITIONAL", "$#", "MAP", "(", "-", "!", "~", "++", "--", "*", "&", "{",
               "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"}
# What could extend a complete expression (or make it an assignment target).
_CONTINUE_EXPR = {"||", "&&", "|", "^", "&", "==", "!=", "<", ">", "<=", ">=", "<<", ">>",
                  "+", "-", "*", "/", "%", "++", "--", "?", ".", "->", "(", "[", "=",
                  "COMPOUND_ASSIGN"}
# What closes an open construct; `>` closes a `< >` body when it is not an operator.
_CLOSERS = {")", "]", "}", "ENDPRED", ">"}
_MAX_LISTED = 6


def _describe_lark_error(e: UnexpectedInput, source: SourceFile, start: str) -> tuple[Span, str]:
    """A span and plain-words message for a Lark syntax error."""
    if isinstance(e, UnexpectedCharacters):
        line, col = e.line, e.column
        if e.char == '"':
            # The lexer matches whole strings, so this one has no closing quote.
            end = max(len(source.line(line)) + 1, col + 1)
            return Span(line, col, line, end), "syntax error: unterminated string"
        char = e.char if e.char.isprintable() else e.char.encode("unicode_escape").decode()
        return Span(line, col, line, col + 1), f'syntax error: unexpected character "{char}"'
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if start == "program" and tok.type == "$END" and not getattr(e.state, "value_stack", True):
            return _end_span(tok), "syntax error: no probes in the script"
        if tok.type == "$END":
            span, what = _end_span(tok), "end of input"
        else:
            span, what = _token_span(tok), _describe_token(tok)
        message = f"syntax error: unexpected {what}"
        wanted = _describe_expected(_expected_keys(e), _after_expression(e))
        if wanted:
            message += f", expected {wanted}"
        return span, message
    # UnexpectedEOF is only raised by Lark's other parsers; keep a fallback.
    line, col = max(getattr(e, "line", 1), 1), max(getattr(e, "column", 1), 1)
    return Span(line, col, line, col + 1), "syntax error"


def _end_span(tok: Token) -> Span:
    """Just after the last real token (Lark's $END borrows its position), so
    the caret shows where something is missing; 1:1 for an empty script."""
    if tok.end_line is None or tok.end_column is None:
        return Span(1, 1, 1, 2)
    return Span(tok.end_line, tok.end_column, tok.end_line, tok.end_column + 1)


def _key(name: str) -> str:
    term = _terminals_by_name().get(name)
    if term is not None and isinstance(term.pattern, PatternStr):
        return term.pattern.value
    return name


@functools.cache
def _terminals_by_name() -> dict:
    return {t.name: t for t in make_parser().terminals}


def _describe_token(tok: Token) -> str:
    key = _key(tok.type)
    if key in _TOKEN_KINDS:
        return f'{_TOKEN_KINDS[key]} "{tok}"' if key != "STRING" else f"string {tok}"
    return f'"{tok}"'


def _expected_keys(e: UnexpectedToken) -> set[str]:
    """The terminals that could have come next. Lark's own `expected` is the
    row of an LALR state shared with other contexts (it offers `]` inside a
    call); feeding each candidate to a copy of the parser gives the exact set."""
    try:
        names = e.interactive_parser.accepts()
    except (AttributeError, UnexpectedInput):  # no parser to replay: Lark's guess
        names = set(e.expected or ())
    return {_key(n) for n in names}


# Parse-tree values that are (or end with) a complete expression.
_EXPR_TREES = {"enum_cast", "sizeof_type", "sizeof_expr", "offsetof", "record", "block_expr", "index", "deref", "pointer_cast", "ternary", "binary", "unary", "pre_incdec", "post_incdec", "cast", "field", "tuple", "tuple_index",
               "arrow_field", "call", "map", "variable", "positional", "param_count", "builtin",
               "integer", "string", "duration", "elvis"}
_EXPR_END_KEYS = {"INT", "DURATION", "STRING", "NAME", "VAR", "POSITIONAL", "$#", "MAP", ")", "]", "++",
                  "--"}


def _after_expression(e: UnexpectedToken) -> bool:
    """Whether the parser had just read a complete expression when it failed."""
    try:
        top = e.state.value_stack[-1]
    except (AttributeError, IndexError):
        return False
    if isinstance(top, Token):
        return _key(top.type) in _EXPR_END_KEYS
    return getattr(top, "data", None) in _EXPR_TREES


def _describe_expected(keys: set[str], after_expr: bool) -> str:
    """`")"`, `";" or "}"`, `an expression`: the likely omissions only.

    After a complete expression, operators are possible but never what was
    left out, so they are dropped. When something can be closed, only the
    closers are named (for `f(a;` that is `")"`, not `","`), plus `;` if a
    statement could end here. Otherwise expression starters fold into
    "an expression".
    """
    keys = set(keys)
    if after_expr:
        keys -= _CONTINUE_EXPR
    if "ATTACH_POINT" in keys or len(keys & _EXPR_START) >= 3:
        # a struct, enum, config or map declaration may come, but that is not what is missing
        keys -= {"struct", "enum", "config", "let", "macro", "PREPROC"}
    closers = keys & _CLOSERS
    if closers:
        keys = closers | (keys & {";"} if after_expr else set())
    phrases = []
    if len(keys & _EXPR_START) >= 3:
        keys -= _EXPR_START
        phrases.append("an expression")
    quoted = sorted("/" if k == "ENDPRED" else k for k in keys if k not in _PHRASES)
    items = [f'"{k}"' for k in quoted]
    items += sorted(_PHRASES[k] for k in keys if k in _PHRASES) + phrases
    if not items:
        return "an operator" if after_expr else ""
    if len(items) > _MAX_LISTED:
        items = items[:_MAX_LISTED] + ["..."]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
