"""The abstract syntax tree a script parses into.

    tracepoint:sched:sched_switch { @[comm] = count(); }
becomes
    Program([Probe([AttachPoint("tracepoint:sched:sched_switch")], None,
                   [Assign(MapRef("@", [Builtin("comm")]), Call("count", []))])])

Nodes are plain dataclasses. Each has a `span` that equality ignores, so a
test can compare a parse with a hand-written tree.
"""

from __future__ import annotations

from pytrace.plain import dataclass, field, fields
from typing import Optional

from pytrace.source import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


@dataclass
class Node:
    span: Span = _span()

    def children(self) -> list["Node"]:
        """The child nodes, in source order (for generic walks)."""
        out: list[Node] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, list):
                out.extend(v for v in value if isinstance(v, Node))
        return out


# ---------------------------------------------------------------- expressions


@dataclass
class Expr(Node):
    pass


@dataclass
class Integer(Expr):
    value: int


@dataclass
class Boolean(Expr):
    """`true` or `false` (upstream's spelling; 0.17 has no bool)."""

    value: bool


@dataclass
class String(Expr):
    value: str  # escapes already resolved


@dataclass
class Builtin(Expr):
    """A bare identifier: `pid`, `comm`, `args`, `cpid`, ..."""

    name: str


@dataclass
class Variable(Expr):
    """A scratch variable, `$name`."""

    name: str  # with the leading "$"


@dataclass
class Positional(Expr):
    """A positional parameter, `$1`: a word of the command line after the
    script (an integer when it reads as one, else a string)."""

    index: int


@dataclass
class ParamCount(Expr):
    """`$#`: how many positional parameters were given."""


@dataclass
class MapRef(Expr):
    """`@name` or `@name[k1, k2]`; the bare `@` is the map named "@"."""

    name: str  # with the leading "@"
    keys: list[Expr] = field(default_factory=list)


@dataclass
class Unary(Expr):
    op: str  # "-", "!", "~"
    operand: Expr


@dataclass
class Binary(Expr):
    op: str  # C spelling: "+", "==", "&&", "<<", ...
    left: Expr
    right: Expr


@dataclass
class Ternary(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass
class Call(Expr):
    """`name(args...)`: functions (printf, str, exit, delete) and
    aggregations (count, sum, ...)."""

    name: str
    args: list[Expr] = field(default_factory=list)
    name_span: Span = _span()


@dataclass
class FieldAccess(Expr):
    """`obj.field` or `obj->field` (`args.filename`, `args->filename`)."""

    obj: Expr
    field: str
    arrow: bool = False


@dataclass
class BlockExpr(Expr):
    """`{ $a = 1; $a + 1 }`: run the statements, then give `value` (None:
    a block that gives nothing, used as a statement)."""

    stmts: list
    value: Optional[Expr] = None


@dataclass
class SizeOf(Expr):
    """`sizeof(type)` (type_name) or `sizeof(expr)` (its type's size; the
    expression is not evaluated)."""

    type_name: Optional[str] = None
    operand: Optional[Expr] = None


@dataclass
class OffsetOf(Expr):
    """`offsetof(struct foo, bar.x)`: the member's offset in the struct."""

    type_name: str = ""
    path: list[str] = field(default_factory=list)


@dataclass
class Index(Expr):
    """`p[i]`: element i of a pointer's array, a struct's array member or a
    string."""

    obj: Expr
    index: Expr


@dataclass
class AddressOf(Expr):
    """`&$x` (upstream): the address of a variable's storage."""

    var: Variable


@dataclass
class Deref(Expr):
    """`*p`: the value a pointer points at."""

    operand: Expr


@dataclass
class Tuple(Expr):
    """`(a, b, c)` (and `(a,)`); a record `(x = 1, y = 2)` has `names`."""

    elements: list[Expr] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


@dataclass
class TupleIndex(Expr):
    """`t.1`: a part of a tuple, counted from 0."""

    obj: Expr
    index: int


@dataclass
class Cast(Expr):
    """`(int32)expr`."""

    type_name: str
    operand: Expr


@dataclass
class IncDec(Expr):
    """`x++`, `x--`, `++x`, `--x` on a map or variable."""

    target: Expr
    op: str  # "++" or "--"
    prefix: bool


# ----------------------------------------------------------------- statements


@dataclass
class Stmt(Node):
    pass


@dataclass
class ExprStmt(Stmt):
    expr: Expr


@dataclass
class Let(Stmt):
    """`let $x;`, `let $x: uint8 = 1;`: a variable declared in its block,
    with a type (`type_name`, as written) and/or a first value."""

    name: str
    type_name: Optional[str] = None
    value: Optional[Expr] = None


@dataclass
class Assign(Stmt):
    """`target = value`, or `target op= value` when `op` is set ("+", ...)."""

    target: Expr  # MapRef or Variable
    value: Expr
    op: Optional[str] = None


@dataclass
class If(Stmt):
    """`if (cond) {then} else {otherwise}`; `else if` nests an If."""

    cond: Expr
    then: list[Stmt]
    otherwise: Optional[list[Stmt]] = None


@dataclass
class Return(Stmt):
    pass


@dataclass
class While(Stmt):
    cond: Expr
    body: list[Stmt]


@dataclass
class Unroll(Stmt):
    """`unroll(N) {body}`: the body N times."""

    count: Expr
    body: list[Stmt]


@dataclass
class ForMap(Stmt):
    """`for ($kv : @map) {body}`: the body once per element, with $kv the
    tuple (key, value)."""

    var: str
    map: MapRef
    body: list[Stmt]


@dataclass
class ForRange(Stmt):
    """`for ($i : start..end) {body}`: $i from start to end - 1."""

    var: str
    start: Expr
    end: Expr
    body: list[Stmt]


@dataclass
class Break(Stmt):
    pass


@dataclass
class Continue(Stmt):
    pass


# --------------------------------------------------------------------- probes


@dataclass
class AttachPoint(Node):
    """The text of one attach point, as written: `tracepoint:sched:*`,
    `BEGIN`, `interval:ms:100`. Semantic analysis splits it."""

    text: str


@dataclass
class Probe(Node):
    attach_points: list[AttachPoint]
    predicate: Optional[Expr]
    body: list[Stmt]


@dataclass
class StructDef(Node):
    """`struct name { int a; char b[4]; };`: the member declarations as
    written, one string each ("int a", "char b[4]")."""

    name: str
    members: list[str] = field(default_factory=list)


@dataclass
class EnumDef(Node):
    """`enum name { A, B = 5 };`: each enumerator and its value."""

    name: Optional[str]
    values: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class ConfigItem(Node):
    """One `name = value` of upstream's `config = { ... }` block."""

    name: str
    value: object  # int, or str for a string or a bare word


@dataclass
class MapDecl(Node):
    """Upstream's `let @name = kind(size);` (kind: hash, lruhash, ...)."""

    name: str
    kind: str
    size: Optional[int] = None


@dataclass
class Define(Node):
    """`#define NAME text`: NAME stands for the expression `text` (object-like
    macros only; `#include` lines are accepted and need nothing: kernel
    types come from BTF)."""

    name: str
    value: Expr


@dataclass
class MacroDef(Node):
    """Upstream's `macro name(x, $v, @m) { ...; value }`: calls are replaced
    by the body (pytrace.macros), with the arguments in place of the
    parameters."""

    name: str
    params: list[str]
    body: "BlockExpr"


@dataclass
class Program(Node):
    probes: list[Probe]
    structs: list[StructDef] = field(default_factory=list)
    enums: list[EnumDef] = field(default_factory=list)
    config: list[ConfigItem] = field(default_factory=list)
    map_decls: list[MapDecl] = field(default_factory=list)
    defines: list[Define] = field(default_factory=list)
    macros: list[MacroDef] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # the headers #include names, as written


def dump(node: object, indent: int = 0) -> str:
    """An indented s-expression of a tree, for tests and `--dump ast`."""
    pad = "  " * indent
    if isinstance(node, list):
        if not node:
            return pad + "[]"
        return "\n".join(dump(item, indent) for item in node)
    if not isinstance(node, Node):
        return pad + repr(node)
    simple = []
    nested = []
    for f in fields(node):
        if f.name in ("span", "name_span"):
            continue
        value = getattr(node, f.name)
        if f.name in ("structs", "enums", "config", "map_decls", "defines", "macros", "includes") and not value:
            continue  # a program without them reads as before
        if isinstance(value, (Node, list)) and (
            isinstance(value, Node) or any(isinstance(v, Node) for v in value)
        ):
            nested.append((f.name, value))
        else:
            simple.append(repr(value))
    head = pad + "(" + " ".join([type(node).__name__] + simple)
    if not nested:
        return head + ")"
    lines = [head]
    for name, value in nested:
        lines.append(f"{pad}  {name}:")
        lines.append(dump(value, indent + 2))
    return "\n".join(lines) + ")"


def walk(node: object):
    """Every node in a tree, depth first (iteratively: trees can be deep)."""
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            todo.extend(reversed(item))
        elif isinstance(item, Node):
            yield item
            todo.extend(reversed([getattr(item, f.name) for f in fields(item)
                                  if isinstance(getattr(item, f.name), (Node, list))]))
