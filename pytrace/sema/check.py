"""Type checking: every expression gets a type, every map a key and value type.

    BEGIN { @sizes[1] = 10; @sizes["big"] = 20; }
is rejected at `@sizes["big"]`: the map is keyed by int64 at its first use.

A map's types come from all of its uses anywhere in the script, so the
checker first walks the program quietly to learn them (a map may be read in
one probe and assigned in a later one), then walks it again reporting
errors. A probe body is checked once per attach target, because `args`
differs between tracepoints.
"""

from __future__ import annotations

import difflib
import os

from pytrace import ast, probe_kinds
from pytrace import program as prog
from pytrace.arch import registers
from pytrace.plain import dataclass, field
from pytrace.aggregations import AGGREGATIONS
from pytrace.diagnostics import Diagnostics
from pytrace.sema import builtins, probes
from pytrace.sema.cdecl import INTEGERS as C_INTEGERS
from pytrace.sema.printf import SUPPORTED, FormatProblem, conversions, parse_format
from pytrace.sema.types import (
    BOOL, FUNC, INT64, TRUTH, Bool, INT_TYPE_NAMES, PROBE, STACK_LIMIT, STRLEN, UINT64, VOID, Agg, CArray, Int, Ptr, Resolved,
    Buffer, CValue, Enum, Str, Struct, Timestamp, Tuple, byte_size, c_layout, arith_result, as_int, describe, widened, is_int, stack_type,
)
from pytrace.source import Span

STACK_MODES = ("bpftrace", "perf", "raw")
UNROLL_MAX = 100  # bpftrace's limit
# Probes on user-space code: a pointer cast there points into user memory.
USER_SPACE_KINDS = ("uprobe", "uretprobe", "usdt")
# curtask: the current task (bpf_get_current_task), its members from BTF
CURTASK = Ptr("struct task_struct", False, Struct("task_struct", 0, (), 8))
ARITH_OPS = {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}
COMPARE_OPS = {"==", "!=", "<", ">", "<=", ">="}
LOGIC_OPS = {"&&", "||"}


class ArgsType:
    """The type of `args` in a tracepoint probe: only `args.field` is a value."""

    def __str__(self) -> str:
        return "args"


ARGS = ArgsType()


@dataclass
class MapInfo:
    """A map's types as learned from its uses, and where each was set."""

    name: str
    keys: list | None = None
    value: object = None
    keys_span: Span | None = None
    value_span: Span | None = None
    declared: object = None  # its `let @m = kind(size);` (ast.MapDecl), if any


@dataclass
class Instance:
    """One probe body at one attach target, with its expression types."""

    probe: ast.Probe
    target: probes.AttachTarget
    types: dict[int, object] = field(default_factory=dict)
    variables: dict[str, object] = field(default_factory=dict)
    # printf and time() calls: id(call) -> the parsed format pieces
    formats: dict[int, list] = field(default_factory=dict)
    # calls with constant arguments (print's top/div): id(call) -> values
    constants: dict[int, tuple] = field(default_factory=dict)
    structs: dict = field(default_factory=dict)  # the script's structs, by name
    # expressions written one way and meaning another (`pid()` is `pid`):
    # id(expr) -> the expression lowering compiles instead
    aliases: dict[int, ast.Expr] = field(default_factory=dict)
    # structs and C arrays used as values: id(expr) -> the CValue lowering
    # copies the memory at the expression's address into
    copies: dict[int, object] = field(default_factory=dict)

    def type_of(self, expr: ast.Expr):
        return self.types[id(expr)]


@dataclass
class Checked:
    program: ast.Program
    instances: list[Instance]
    maps: dict[str, MapInfo]
    given: probes.Given = probes.NOTHING_GIVEN
    strlen: int = STRLEN  # the string size (BPFTRACE_STRLEN)


def check(program: ast.Program, diags: Diagnostics, strlen: int = STRLEN,
          given: probes.Given = probes.NOTHING_GIVEN) -> Checked:
    """Resolve attach points and type the program; errors go to `diags`."""
    structs = _structs(program, diags)
    names = _names(program)
    enums = _enums(program)
    instances = []
    for probe in program.probes:
        for ap in probe.attach_points:
            text = attach_text(ap, given.params, diags)
            if text is None:
                continue
            for target in probes.resolve(text, ap.span, diags, given):
                instances.append(Instance(probe, target, structs=structs))
    if not instances and not diags.has_errors:
        diags.error(program.probes[0].span, "no probe attaches to anything: every attach point is missing")
    maps: dict[str, MapInfo] = {}

    def walk(reporter: _Reporter) -> None:
        for inst in instances:
            inst.types.clear()
            inst.variables.clear()
            inst.formats.clear()
            inst.constants.clear()
            inst.aliases.clear()
            inst.copies.clear()
            _Checker(inst, maps, reporter, strlen, given, structs, names, enums).check_probe()

    # Quiet passes learn map types from every use until they stop changing
    # (`@a = @b; @b = @c; @c = 1` learns one map a pass; a type only grows,
    # so this ends), then a final pass reports.
    learned = None
    while True:
        walk(_Reporter(None))
        now = _map_types(maps)
        if now == learned:
            break
        learned = now
    walk(_Reporter(diags))
    _declared_maps(program, maps, diags)
    return Checked(program, instances, maps, given, strlen)


# Upstream's map declarations: `let @m = kind(size);`. An LRU map evicts
# its oldest key instead of refusing a new one when full.
MAP_KINDS = ("hash", "lruhash", "percpuhash", "percpulruhash")


def _declared_maps(program: ast.Program, maps: dict, diags: Diagnostics) -> None:
    for decl in program.map_decls:
        if decl.kind not in MAP_KINDS:
            diags.error(decl.span, f"{decl.kind} is not a kind of map: use {', '.join(MAP_KINDS)}")
        elif decl.size is None or decl.size < 1:
            diags.error(decl.span, f"{decl.kind}() takes the number of keys the map holds, as in {decl.kind}(1024)")
        elif decl.name not in maps:
            continue  # declared, never used: no map to make
        elif maps[decl.name].declared is not None:
            diags.error(decl.span, f"{decl.name} is declared twice")
        else:
            maps[decl.name].declared = decl


def enum_name(program: ast.Program, enum: ast.EnumDef) -> str:
    """An enum's name; an anonymous one is named by its place."""
    return enum.name if enum.name is not None else f"#{program.enums.index(enum)}"


def _enums(program: ast.Program) -> dict:
    """Each enum's type, by name."""
    return {enum_name(program, e): Enum(64, True, enum_name(program, e), tuple((v, n) for n, v in e.values))
            for e in program.enums}


def _kernel_enumerator(name: str) -> int | None:
    from pytrace import btf

    if not name.isupper() and not name[:1].isupper():
        return None  # enumerators are capitalised; do not read BTF for every unknown name
    try:
        return btf.kernel_types().enumerator(name)
    except btf.BtfError:
        return None


INET = Resolved("inet", 4)  # ntop(): [family][count][16 bytes], named by the runtime


def _names(program: ast.Program) -> dict:
    """What each enumerator and #define stands for: an expression (an
    enumerator is its value, typed as its enum's, so it prints by name)."""
    from pytrace.sema.headers import macros

    names = {name: ast.Integer(value) for name, value in macros(program.includes).items()}
    for enum in program.enums:
        for label, value in enum.values:
            names[label] = ast.Cast(f"enum {enum_name(program, enum)}", ast.Integer(value, span=enum.span),
                                    span=enum.span)
    for define in program.defines:
        names[define.name] = define.value
    return names


def _map_types(maps: dict) -> tuple:
    """What the quiet passes have learned so far, to see when they stop learning."""
    return tuple((name, repr(info.keys), repr(info.value)) for name, info in maps.items())


def _structs(program: ast.Program, diags: Diagnostics) -> dict:
    """The script's struct definitions, laid out, by name."""
    from pytrace.sema.cdecl import DeclError, define

    structs: dict = {}
    for sdef in program.structs:
        if sdef.name in structs:
            diags.error(sdef.span, f"struct {sdef.name} is defined twice")
            continue
        try:
            structs[sdef.name] = define(sdef.name, sdef.members, structs)
        except DeclError as err:
            diags.error(sdef.span, str(err))
    return structs


def attach_text(ap: ast.AttachPoint, params: tuple[str, ...], diags: Diagnostics) -> str | None:
    """The attach point with its positional parameters ($1) replaced by
    their text (`uprobe:$1:main`), or None after reporting a missing one."""
    text = ap.text
    if "$" not in text:
        return text
    import re

    missing = [int(n) for n in re.findall(r"\$(\d+)", text) if not 1 <= int(n) <= len(params)]
    if missing:
        diags.error(ap.span, f"attach point {text} uses ${missing[0]}, but {_count(len(params), 'positional parameter')}"
                             f" {'was' if len(params) == 1 else 'were'} given",
                    "give it after the script: pytrace script.pt ARG1 ARG2 ...")
        return None
    return re.sub(r"\$(\d+)", lambda m: params[int(m.group(1)) - 1], text)


def param_value(params: tuple[str, ...], index: int) -> int | str:
    """Positional parameter `index` ($1 is 1) as bpftrace reads it: an
    integer when its text is one (decimal, or 0x hex), else the text; a
    parameter not given is 0 (or "" in str()). 0x is hex, a leading 0 octal."""
    if not 1 <= index <= len(params):
        return 0
    text = params[index - 1]
    try:
        if text[:2].lower() == "0x":
            return int(text, 16)
        return int(text, 8) if len(text) > 1 and text[0] == "0" else int(text, 10)
    except ValueError:
        return text


class _Reporter:
    """Reports each distinct error once (a body checked for several targets
    would otherwise repeat it), or nothing during the quiet passes."""

    def __init__(self, diags: Diagnostics | None):
        self.diags = diags
        self.seen: set[tuple] = set()

    @property
    def final(self) -> bool:
        return self.diags is not None

    def error(self, span: Span, message: str, *hints: str) -> None:
        if self.diags is None or (span, message) in self.seen:
            return
        self.seen.add((span, message))
        self.diags.error(span, message, *hints)


class _Checker:
    def __init__(self, inst: Instance, maps: dict[str, MapInfo], reporter: _Reporter, strlen: int = STRLEN,
                 given: probes.Given = probes.NOTHING_GIVEN, structs: dict | None = None,
                 names: dict | None = None, enums: dict | None = None):
        self.structs = structs or {}  # the script's struct definitions
        self.enums = enums or {}  # the script's enums: name -> types.Enum
        self.names = names or {}  # enumerators and #defines: name -> the expression it stands for
        self.loops = 0  # how many loops enclose the statement being checked
        self.map_loops = 0  # how many of them are `for ($kv : @map)` (run as callbacks)
        self.stack_mode = given.stack_mode  # kstack/ustack without a mode
        self.strlen = strlen  # BPFTRACE_STRLEN: the size of a string str() reads
        self.params = given.params  # the positional parameters
        self.truth = BOOL if given.bools else TRUTH  # what a comparison gives
        self.given = given
        self.inst = inst
        self.maps = maps
        self.report = reporter
        self.target = inst.target

    # ------------------------------------------------------------ statements

    def check_probe(self) -> None:
        probe = self.inst.probe
        if probe.predicate is not None:
            self.expect_int(probe.predicate, "a predicate")
        self.block(probe.body)

    def block(self, stmts: list[ast.Stmt]) -> None:
        for stmt in stmts:
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)

    def stmt_ExprStmt(self, stmt: ast.ExprStmt) -> None:
        self.expr(stmt.expr, statement=True)

    def stmt_If(self, stmt: ast.If) -> None:
        self.expect_int(stmt.cond, "an if condition")
        self.block(stmt.then)
        if stmt.otherwise is not None:
            self.block(stmt.otherwise)

    def stmt_Return(self, stmt: ast.Return) -> None:
        pass

    def loop(self, body: list[ast.Stmt]) -> None:
        self.loops += 1
        try:
            self.block(body)
        finally:
            self.loops -= 1

    def stmt_While(self, stmt: ast.While) -> None:
        self.expect_int(stmt.cond, "a while condition")
        self.loop(stmt.body)

    def stmt_Unroll(self, stmt: ast.Unroll) -> None:
        count = self.constant(stmt.count, "the count given to unroll")
        if count is not None and not 1 <= count <= UNROLL_MAX:
            self.report.error(stmt.count.span, f"unroll takes a count from 1 to {UNROLL_MAX}, not {count}")
        if count is not None:
            self.inst.constants[id(stmt)] = (count,)
        self.loop(stmt.body)

    def stmt_ForRange(self, stmt: ast.ForRange) -> None:
        for bound in (stmt.start, stmt.end):
            self.expect_int(bound, "a bound of a for range")
        known = self.inst.variables.get(stmt.var)
        if known is not None and not is_int(known):
            self.report.error(stmt.span, f"{stmt.var} holds {describe(known)}; a for range counts integers")
        self.inst.variables[stmt.var] = INT64
        self.loop(stmt.body)

    def stmt_ForMap(self, stmt: ast.ForMap) -> None:
        """$kv is the tuple (key, value): the key a tuple itself when the map
        has several; an aggregation's value is its total over the CPUs."""
        element = self.map_element(stmt.map)
        outer = self.inst.variables.pop(stmt.var, None)  # $kv is the loop's own, as upstream scopes it
        if element is not None:
            self.inst.variables[stmt.var] = element
        self.map_loops += 1
        try:
            self.loop(stmt.body)
        finally:
            self.map_loops -= 1
            self.inst.types[id(stmt)] = self.inst.variables.pop(stmt.var, None)
            if outer is not None:
                self.inst.variables[stmt.var] = outer

    def map_element(self, ref: ast.MapRef):
        info = self.maps.get(ref.name)
        if info is None or info.value is None:
            if self.report.final:
                self.report.error(ref.span, f"map {ref.name} is looped over but never assigned")
            return None
        if not info.keys:
            self.report.error(ref.span, f"{ref.name} has no keys: a for loop goes over a map's keys",
                              f"read it as {ref.name}")
            return None
        value = info.value
        if isinstance(value, Agg):
            if AGGREGATIONS[value.kind].read is None:
                self.report.error(ref.span, f"a for loop cannot read {ref.name}'s {value.kind}() values",
                                  "loop over a map of integers, strings or tuples, or of count(), sum(), min(), "
                                  "max() or avg()")
                return None
            value = Int(64, value.signed)
        key = info.keys[0] if len(info.keys) == 1 else Tuple(tuple(info.keys))
        return Tuple((key, value))

    def stmt_Break(self, stmt: ast.Break) -> None:
        if not self.loops:
            self.report.error(stmt.span, "break is only allowed in a loop (while, for, unroll)")

    def stmt_Continue(self, stmt: ast.Continue) -> None:
        if not self.loops:
            self.report.error(stmt.span, "continue is only allowed in a loop (while, for, unroll)")

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        target = stmt.target
        if isinstance(target, ast.MapRef):
            self.assign_map(stmt, target)
        elif isinstance(target, ast.Variable):
            self.assign_variable(stmt, target)
        else:
            self.report.error(target.span, "only a map (@name) or a variable ($name) can be assigned to")

    def assign_map(self, stmt: ast.Assign, target: ast.MapRef) -> None:
        keys = self.map_keys(target)
        value = stmt.value
        if isinstance(value, ast.Call) and value.name in AGGREGATIONS:
            if stmt.op is not None:
                self.report.error(stmt.span, f"{value.name}() cannot be used with '{stmt.op}='; write {target.name} = {value.name}(...)")
                return
            vtype = self.aggregation(value)
        elif stmt.op is not None:
            known = self.map_read(target, keys, target.span)
            self.expect_int(value, f"the right side of '{stmt.op}=' on {target.name}")
            vtype = known if isinstance(known, Ptr) else INT64
        else:
            vtype = self.value_expr(value, f"the value of {target.name}")
        self.types_set(target, vtype)
        if vtype is not None:
            self.unify_value(target, vtype, stmt.span)

    def stmt_Let(self, stmt: ast.Let) -> None:
        """`let $x[: type][ = value];`: a declared type holds, and a value
        is converted to it, as an assignment would be."""
        declared = self.type_named(stmt.type_name, stmt.span) if stmt.type_name else None
        known = self.inst.variables.get(stmt.name)
        if declared is not None:
            if known is not None and known != declared and not (isinstance(known, Str) and isinstance(declared, Str)):
                self.report.error(stmt.span, f"{stmt.name} is already declared as {describe(known)}")
                return
            self.inst.variables[stmt.name] = declared
        if stmt.value is None:
            return
        value = stmt.value
        if isinstance(declared, Int) and stmt.type_name in INT_TYPE_NAMES:
            value = ast.Cast(stmt.type_name, value, span=value.span)
        assign = ast.Assign(ast.Variable(stmt.name, span=stmt.span), value, span=stmt.span)
        self.inst.aliases[id(stmt)] = assign
        self.stmt_Assign(assign)

    def assign_variable(self, stmt: ast.Assign, target: ast.Variable) -> None:
        known = self.inst.variables.get(target.name)
        if stmt.op is not None:
            if known is None:
                self.report.error(target.span, f"undefined variable '{target.name}'", f"assign it first: {target.name} = ...")
            self.expect_int(stmt.value, f"the right side of '{stmt.op}=' on {target.name}")
            self.types_set(target, known)
            return
        vtype = self.value_expr(stmt.value, f"the value of {target.name}", timestamp=True)
        if vtype is None:
            return
        if known is not None and not _compatible(known, vtype) and known != vtype:
            self.report.error(stmt.value.span, f"{target.name} holds {describe(known)}; it cannot be assigned {describe(vtype)}")
            return
        if isinstance(known, Str) and isinstance(vtype, Str):
            vtype = Str(max(known.size, vtype.size))
        self.inst.variables[target.name] = vtype if known is None or isinstance(vtype, Str) else known
        self.types_set(target, self.inst.variables[target.name])

    def aggregation(self, call: ast.Call):
        """An aggregation call against its row: argument count, the value,
        the constant parameters and their ranges."""
        agg = AGGREGATIONS[call.name]
        n = len(call.args)
        if not agg.min_args <= n <= agg.max_args:
            want = (_count(agg.min_args, "argument") if agg.min_args == agg.max_args
                    else f"{agg.min_args} to {agg.max_args} arguments")
            self.report.error(call.span, f"{call.name}() takes {want}, got {n}")
            return None
        signed = False
        if agg.takes_value:
            arg = self.expect_int(call.args[0], f"the value given to {call.name}()")
            signed = arg.signed if isinstance(arg, Int) else False
        params = []
        for i, param in enumerate(agg.params):
            pos = int(agg.takes_value) + i
            if pos >= n:
                params.append(param.default)
                continue
            if param.choices and isinstance(call.args[pos], ast.String):  # tseries(v, 1s, 10, "max")
                if call.args[pos].value not in param.choices:
                    self.report.error(call.args[pos].span, f"the {param.name} given to {call.name}() must be one of "
                                      f"{', '.join(repr(c) for c in param.choices)}")
                    return None
                params.append(param.choices.index(call.args[pos].value))
                continue
            value = self.constant(call.args[pos], f"the {param.name} given to {call.name}()")
            if value is None:
                return None
            if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
                self.report.error(call.args[pos].span, f"the {param.name} given to {call.name}() must be {_range(param)}, not {value}")
                return None
            params.append(value)
        problem = agg.check(tuple(params)) if agg.check else None
        if problem:
            self.report.error(call.span, problem)
            return None
        result = Agg(call.name, signed if agg.signed == "arg" else False, tuple(params))
        self.types_set(call, result)
        return result

    def constant(self, expr: ast.Expr, what: str) -> int | None:
        """An integer literal (or a negated one, or a positional parameter
        that is a number), as the value it is."""
        value = _literal(expr)
        if value is None and isinstance(expr, ast.Positional) and expr.index > 0:
            found = param_value(self.params, expr.index)
            value = found if isinstance(found, int) else None
        if value is None:
            self.report.error(expr.span, f"{what} must be an integer literal")
            return None
        self.types_set(expr, INT64)
        return value

    # --------------------------------------------------------------- maps

    def map_keys(self, ref: ast.MapRef):
        """Check a map's key expressions against its known key types."""
        types = []
        for key in ref.keys:
            t = self.as_value(key, self.expr(key))
            if t is None:
                return None
            if isinstance(t, (Int, Ptr)):
                t = widened(t)
            elif not isinstance(t, (Str, Resolved, Tuple, Buffer, CValue)):
                self.report.error(key.span, f"a map key must be an integer or a string, not {describe(t)}")
                return None
            types.append(t)
        if len(types) == 1 and isinstance(types[0], Tuple) and not types[0].names:
            types = list(types[0].elements)  # @m[(a, b)] is @m[a, b], as upstream: the same bytes
        info = self.maps.setdefault(ref.name, MapInfo(ref.name))
        if info.keys is None:
            info.keys, info.keys_span = types, ref.span
            return types
        if not _same_shape(info.keys, types):
            self.report.error(
                ref.span,
                f"{ref.name} is used with key {_keys_str(types)} here, but with key {_keys_str(info.keys)} at {info.keys_span}",
                "a map must use the same number and kinds of keys everywhere",
            )
            return None
        info.keys = [Str(max(a.size, b.size)) if isinstance(a, Str) else a for a, b in zip(info.keys, types)]
        return info.keys

    def unify_value(self, ref: ast.MapRef, vtype, span: Span) -> None:
        info = self.maps.setdefault(ref.name, MapInfo(ref.name))
        if info.value is None:
            info.value, info.value_span = vtype, span
            return
        old = info.value
        if isinstance(old, Agg) or isinstance(vtype, Agg):
            if isinstance(old, Agg) and isinstance(vtype, Agg) and (old.kind, old.params) == (vtype.kind, vtype.params):
                if vtype.signed and not old.signed:
                    info.value = vtype
                return
        elif _compatible(old, vtype):
            if isinstance(old, Str):
                info.value = Str(max(old.size, vtype.size))
            return
        self.report.error(
            span,
            f"{ref.name} is assigned {_value_str(vtype)} here, but {_value_str(old)} at {info.value_span}",
            "a map holds one kind of value everywhere",
        )

    def map_read(self, ref: ast.MapRef, keys, span: Span):
        info = self.maps.get(ref.name)
        value = info.value if info else None
        if value is None:
            if self.report.final:
                self.report.error(span, f"map {ref.name} is read but never assigned")
            return None
        if isinstance(value, Agg):
            if AGGREGATIONS[value.kind].read is None:
                self.report.error(span, f"{ref.name} holds a {value.kind}() aggregation, which a probe cannot read",
                                  "print it with print(), or read a count(), sum(), min(), max() or avg() map")
                return None
            return Int(64, value.signed)
        return value

    # ---------------------------------------------------------- expressions

    def expect_int(self, expr: ast.Expr, what: str):
        t = self.expr(expr)
        if t is None and not self.report.final:
            # Unknown while learning types (`@x = @x + 1` reads @x before any
            # use has typed it): an operand of arithmetic is an integer.
            return INT64
        if t is not None and not is_int(t):
            self.report.error(expr.span, f"{what} must be an integer, not {describe(t)}")
            return None
        return t

    def value_expr(self, expr: ast.Expr, what: str, timestamp: bool = False):
        """An expression whose value is stored: an integer or a string (or,
        in a variable, a strftime() value or a pointer that keeps its type)."""
        t = self.as_value(expr, self.expr(expr))
        if t is None:
            return None
        if isinstance(t, Ptr):
            return t
        if timestamp and isinstance(t, Timestamp):
            return t
        if not isinstance(t, (Int, Str, Resolved, Tuple, Buffer, CValue)):
            self.report.error(expr.span, f"{what} must be an integer or a string, not {describe(t)}")
            return None
        return t

    def as_value(self, expr: ast.Expr, t):
        """The type `expr` is stored as: a struct or a C array (whose
        expression is its address) becomes a copy of its memory, CValue;
        anything else stays."""
        if isinstance(t, Struct) and t.members or isinstance(t, CArray) and c_layout(t) is not None:
            if isinstance(t, CArray):
                user = t.user
            else:
                holder = self.inst.types.get(id(expr.operand)) if isinstance(expr, ast.Deref) else None
                user = holder.user if isinstance(holder, Ptr) else self.target.kind in USER_SPACE_KINDS
            t = CValue(CArray(t.element, t.count) if isinstance(t, CArray) else t, user)
            self.inst.copies[id(expr)] = t
        return t

    def value_member(self, e: ast.Expr, obj: CValue, name: str | None, index: int | None):
        """A member (`$s.m`) or an element (`$a[1]`) of a copied struct or
        array: read from the copy (constants[id(e)] = its offset)."""
        if name is not None:
            if not isinstance(obj.of, Struct):
                self.report.error(e.span, f"{describe(obj)} has no fields")
                return None
            found = obj.of.member(name)
            if found is None:
                names = [m[0] for m in obj.of.members]
                hint = _did_you_mean(name, names, "its members")
                self.report.error(e.span, f"{describe(obj)} has no member '{name}'", hint)
                return None
            _, mtype, offset = found
        else:
            if not isinstance(obj.of, CArray):
                self.report.error(e.span, f"{describe(obj)} cannot be indexed")
                return None
            if index is None:
                self.report.error(e.span, "an array copied into a variable or map is indexed by a number",
                                  "index the array in memory instead: $p->arr[$i]")
                return None
            if not 0 <= index < obj.of.count:
                self.report.error(e.span, f"the index {index} is out of bounds for an array of {obj.of.count}")
                return None
            mtype, offset = obj.of.element, index * c_layout(obj.of.element)[0]
        self.inst.constants[id(e)] = (offset,)
        if isinstance(mtype, (Struct, CArray)):
            return CValue(mtype, obj.user)
        if isinstance(mtype, Ptr):
            return Ptr(mtype.target, obj.user, mtype.pointee)
        return mtype

    def types_set(self, expr: ast.Expr, t) -> None:
        self.inst.types[id(expr)] = t

    def expr(self, expr: ast.Expr, statement: bool = False):
        """The type of `expr` (None when unknown or wrong), recorded for
        lowering. `statement`: the value is not used (printf(), exit())."""
        if isinstance(expr, (ast.Call, ast.BlockExpr)):
            t = getattr(self, "expr_" + type(expr).__name__)(expr, statement)
        else:
            t = getattr(self, "expr_" + type(expr).__name__)(expr)
        self.types_set(expr, t)
        return t

    def expr_BlockExpr(self, e: ast.BlockExpr, statement: bool = False):
        self.block(e.stmts)
        if e.value is not None:
            return self.expr(e.value, statement)
        if not statement:
            self.report.error(e.span, "this block gives no value: end it with an expression, as in { $a = 1; $a }")
            return None
        return VOID

    def expr_Integer(self, e: ast.Integer):
        if e.value >= 1 << 64:
            self.report.error(e.span, f"integer {e.value} does not fit in 64 bits")
            return None
        return UINT64 if e.value >= 1 << 63 else INT64

    def expr_Boolean(self, e: ast.Boolean):
        return BOOL

    def expr_String(self, e: ast.String):
        return Str(len(e.value.encode()) + 1)

    def expr_Builtin(self, e: ast.Builtin):
        if e.name in self.names:
            return self.alias(e, self.names[e.name])
        if e.name in builtins.VARIABLES:
            return builtins.VARIABLES[e.name]
        if e.name == "probe":
            return PROBE
        if e.name in ("kstack", "ustack"):
            return stack_type(e.name, self.stack_mode)
        if e.name == "curtask":
            return CURTASK
        if e.name == "probetype":  # upstream: the provider; BEGIN and END are "special"
            kind = probe_kinds.kind(self.target.kind)
            return self.alias(e, ast.String("special" if kind.phase in ("begin", "end") else kind.name, span=e.span))
        if e.name == "usermode":
            return self.usermode(e)
        if e.name == "func":
            if not self.target.func:
                self.report.error(e.span, f"func is not available in a {self.target.name} probe",
                                  "only probes on a function (uprobe, kprobe, fentry and their return probes) have one")
                return None
            return FUNC
        context = probe_kinds.kind(self.target.kind).context
        if e.name == "args":
            if context != "tracepoint" and not self.target.typed_args:
                self.report.error(e.span, f"args is not available in a {self.target.name} probe")
                return None
            return ARGS
        if e.name == "retval":
            if context not in ("regs_ret", "raw_ret"):
                self.report.error(e.span, f"retval is not available in a {self.target.name} probe",
                                  "only return probes (kretprobe, uretprobe, fexit) have one")
                return None
            return UINT64
        index = builtins.sarg_index(e.name)
        if index is not None:
            if context != "regs":
                self.report.error(e.span, f"{e.name} is not available in a {self.target.name} probe",
                                  "sarg0, sarg1, ... read the stack of a uprobe or kprobe")
                return None
            return UINT64
        index = builtins.arg_index(e.name)
        if index is not None and context == "usdt":
            args = self.target.usdt_args
            if index >= len(args):
                names = {0: "", 1: ": arg0"}.get(len(args), f": arg0 to arg{len(args) - 1}")
                self.report.error(e.span, f"{self.target.name} has {_count(len(args), 'argument')}{names}")
                return None
            return UINT64  # sign-extended from its size, typed unsigned as bpftrace 0.17 types argN
        if index is not None:
            if context not in ("raw", "raw_ret", "regs"):
                self.report.error(e.span, f"{e.name} is not available in a {self.target.name} probe")
                return None
            nargs = self.target.nargs if context != "regs" else len(registers().args)
            if nargs is not None and index >= nargs and context == "regs":
                self.report.error(e.span, f"{self.target.name} can read {_count(nargs, 'argument')} from"
                                          f" registers: arg0 to arg{nargs - 1}")
                return None
            if self.target.nargs is not None and index >= self.target.nargs:
                self.report.error(e.span, f"{self.target.name} passes {_count(self.target.nargs, 'argument')}:"
                                          f" arg0 to arg{self.target.nargs - 1}")
                return None
            return UINT64
        value = _kernel_enumerator(e.name)
        if value is not None:  # TCP_ESTABLISHED, SKB_DROP_REASON_*: the kernel's enums (BTF)
            return self.alias(e, ast.Integer(value, span=e.span))
        close = difflib.get_close_matches(e.name, list(builtins.VARIABLES) + ["args", "probe", "retval", "func", "kstack", "ustack", "curtask"], n=1)
        hints = [f"did you mean '{close[0]}'?"] if close else []
        self.report.error(e.span, f"unknown identifier '{e.name}'", *hints)
        return None

    def expr_Positional(self, e: ast.Positional):
        if e.index == 0:
            self.report.error(e.span, "there is no $0: positional parameters count from $1")
            return None
        value = param_value(self.params, e.index)
        if not isinstance(value, int):
            self.report.error(e.span, f'${e.index} used numerically but given "{value}"',
                              f"read it as a string with str(${e.index})")
            return None
        self.inst.constants[id(e)] = (value,)
        return INT64 if value < 1 << 63 else UINT64

    def expr_ParamCount(self, e: ast.ParamCount):
        self.inst.constants[id(e)] = (len(self.params),)
        return INT64

    def expr_Variable(self, e: ast.Variable):
        t = self.inst.variables.get(e.name)
        if t is None:
            if self.report.final:
                self.report.error(e.span, f"undefined variable '{e.name}'", f"assign it before use: {e.name} = ...")
            return None
        return t

    def expr_MapRef(self, e: ast.MapRef):
        keys = self.map_keys(e)
        if keys is None and e.keys:
            return None
        return self.map_read(e, keys, e.span)

    def expr_Unary(self, e: ast.Unary):
        t = self.expect_int(e.operand, f"the operand of '{e.op}'")
        if t is None:
            return None
        return self.truth if e.op == "!" else arith_result(t, t)

    def expr_Binary(self, e: ast.Binary):
        if e.op in ("==", "!="):
            a, b = self.expr(e.left), self.expr(e.right)
            if a is None or b is None:
                return None
            if isinstance(a, Str) and isinstance(b, Str):
                return self.truth
            if isinstance(a, (CArray, CValue)) and isinstance(b, (CArray, CValue)):  # arrays: byte for byte
                a, b = self.as_value(e.left, a), self.as_value(e.right, b)
                if a.of == b.of:
                    return self.truth
            if is_int(a) and is_int(b):
                return self.truth
            self.report.error(e.span, f"cannot compare {describe(a)} with {describe(b)}")
            return None
        what = f"an operand of '{e.op}'"
        a = self.expect_int(e.left, what)
        b = self.expect_int(e.right, what)
        if a is None or b is None:
            return None
        if e.op in COMPARE_OPS or e.op in LOGIC_OPS:
            return self.truth
        if e.op in ("+", "-") and isinstance(a, Ptr) and not isinstance(b, Ptr):
            return a  # pointer arithmetic: in elements of what it points at
        if e.op == "+" and isinstance(b, Ptr) and not isinstance(a, Ptr):
            return b
        return arith_result(a, b)

    def expr_Ternary(self, e: ast.Ternary):
        self.expect_int(e.cond, "a ?: condition")
        a, b = self.expr(e.then), self.expr(e.otherwise)
        if a is None or b is None:
            return None
        if is_int(a) and is_int(b):
            return arith_result(a, b)
        if isinstance(a, Str) and isinstance(b, Str):
            return Str(max(a.size, b.size))
        self.report.error(e.span, f"the branches of ?: differ: {describe(a)} and {describe(b)}")
        return None

    def expr_Tuple(self, e: ast.Tuple):
        parts = []
        for element in e.elements:
            t = self.as_value(element, self.expr(element))
            if t is None:
                return None
            if isinstance(t, (Int, Ptr)):
                t = widened(t)
            elif not isinstance(t, (Str, Resolved, Tuple, Buffer, CValue)):
                self.report.error(element.span, f"a tuple holds integers, strings, stacks and tuples, not {describe(t)}")
                return None
            parts.append(t)
        return Tuple(tuple(parts), tuple(e.names))

    def expr_TupleIndex(self, e: ast.TupleIndex):
        t = self.expr(e.obj)
        if t is None:
            return None
        if not isinstance(t, Tuple):
            self.report.error(e.span, f"{describe(t)} is not a tuple: .{e.index} reads a part of a tuple")
            return None
        if e.index >= len(t.elements):
            self.report.error(e.span, f"the tuple has {_count(len(t.elements), 'part')}: .0 to .{len(t.elements) - 1}")
            return None
        return t.elements[e.index]

    def expr_SizeOf(self, e: ast.SizeOf):
        """A constant: the size of a type, or of an expression's type."""
        if e.type_name is not None and e.type_name.startswith("struct ") and not e.type_name.endswith("*"):
            pointer = self.type_named(e.type_name + " *", e.span)  # the struct itself
            t = pointer.pointee if pointer is not None else None
            if isinstance(t, Struct) and not t.members:
                t = self.struct_named(t.name) or t
        elif e.type_name is not None:
            t = self.type_named(e.type_name, e.span)
        elif isinstance(e.operand, ast.Builtin) and e.operand.name in C_INTEGERS:  # sizeof(uint64_t)
            t = Int(8 * C_INTEGERS[e.operand.name][0], C_INTEGERS[e.operand.name][1])
        else:
            t = self.expr(e.operand)
        if t is None:
            return None
        if isinstance(t, Ptr) and e.type_name is not None and e.type_name.endswith("*"):
            size = 8
        else:
            layout = c_layout(t)
            size = layout[0] if layout is not None else byte_size(t)
        return self.alias(e, ast.Integer(size, span=e.span))

    def expr_OffsetOf(self, e: ast.OffsetOf):
        """A constant: a member's offset (through nested struct members)."""
        struct = self.type_named(e.type_name + " *", e.span)
        if struct is None:
            return None
        struct, offset = struct.pointee, 0
        for name in e.path:
            if isinstance(struct, Struct) and not struct.members:
                struct = self.struct_named(struct.name) or struct
            found = struct.member(name) if isinstance(struct, Struct) else None
            if found is None:
                self.report.error(e.span, f"{describe(struct)} has no member '{name}'")
                return None
            _, struct, at = found
            offset += at
        return self.alias(e, ast.Integer(offset, span=e.span))

    def expr_Cast(self, e: ast.Cast):
        if e.type_name.endswith("]"):
            return self.array_cast(e)
        operand = self.expr(e.operand)
        if isinstance(operand, (CArray, CValue, Buffer)):  # (uint32)array: its bytes as an integer
            return self.array_to_int(e, operand)
        self.expect_int(e.operand, f"a cast to {e.type_name}")
        return self.type_named(e.type_name, e.span)

    def array_cast(self, e: ast.Cast):
        """`(int8[8])12345`, `(uint8[])"abc"`: an integer's 8 bytes or a
        string's or buffer's bytes seen as a C array (the count, when left
        out, is what fits)."""
        base, _, count_text = e.type_name[:-1].partition("[")
        element = INT_TYPE_NAMES[base]
        esize = element.bits // 8
        operand = self.as_value(e.operand, self.expr(e.operand))
        if operand is None:
            return None
        if is_int(operand):
            size = 8
        elif isinstance(operand, (Str, CValue)):
            size = operand.size if isinstance(operand, Str) else c_layout(operand.of)[0]
        elif isinstance(operand, Buffer):
            size = operand.size
        else:
            self.report.error(e.operand.span, f"a cast to {e.type_name} needs an integer, a string or an array, "
                                              f"not {describe(operand)}")
            return None
        count = int(count_text) if count_text else size // esize
        if count * esize != size:
            hints = [f"cast to {base}[{size // esize}]"] if size % esize == 0 else []
            self.report.error(e.span, f"{describe(operand)} has {size} bytes, and {e.type_name} needs {count * esize}",
                              *hints)
            return None
        return CValue(CArray(element, count), False)

    def array_to_int(self, e: ast.Cast, operand):
        """`(uint32)$arr`: an array (or buffer) of exactly the integer's size."""
        target = INT_TYPE_NAMES.get(e.type_name)
        operand = self.as_value(e.operand, operand)
        size = operand.size if isinstance(operand, Buffer) else c_layout(operand.of)[0]
        if target is None or size != target.bits // 8:
            self.report.error(e.span, f"{describe(operand)} has {size} bytes: it cannot be cast to {e.type_name}",
                              "cast an array to the integer type of its size, as in (uint32) of 4 bytes")
            return None
        return target

    def type_named(self, type_name: str, span: Span):
        """The type a cast or a `let` names: an integer type, bool, string,
        or a pointer to a struct."""
        if type_name == "string":
            return Str(self.strlen)
        if type_name.startswith("enum "):
            found = self.enums.get(type_name[5:])
            if found is None:
                self.report.error(span, f"{type_name} is not defined",
                                  f"define it before the probes: {type_name} {{ A, B }};")
            return found
        if type_name.startswith("struct "):
            name = type_name.split()[1]
            struct = self.struct_named(name)
            if struct is None:
                known = ", ".join(sorted(self.structs)) or "none"
                self.report.error(span, f"struct {name} is not defined in the script nor in the kernel's BTF",
                                  f"define it before the probes, as in C: struct {name} {{ int x; }}; (defined: {known})")
                return None
            user = self.target.kind in USER_SPACE_KINDS
            pointee = struct
            for _ in range(type_name.count("*") - 1):
                pointee = Ptr(f"struct {name}", user, pointee)
            return Ptr(f"struct {name}", user, pointee)
        if type_name.endswith("*"):  # (int32 *)p, (uint8 **)p
            base = type_name.rstrip("* ")
            user = self.target.kind in USER_SPACE_KINDS
            t = INT_TYPE_NAMES[base]
            for _ in range(type_name.count("*")):
                t = Ptr(str(t) if isinstance(t, Ptr) else base, user, t)  # a pointer names what it points at
            return t
        return INT_TYPE_NAMES.get(type_name, INT64)

    def expr_Index(self, e: ast.Index):
        """`p[i]` of a typed pointer, `s.a[i]` of an array member, `$s[i]`
        of a string (a byte)."""
        obj = self.expr(e.obj)
        if self.expect_int(e.index, "an index") is None or obj is None:
            return None
        if isinstance(obj, Str):
            self.in_bounds(e, obj.size, "string")
            return Int(8, True)
        if isinstance(obj, CValue):
            return self.value_member(e, obj, None, _literal(e.index))
        if isinstance(obj, Tuple) and _literal(e.index) is not None:  # upstream: $t[0] is $t.0
            return self.alias(e, ast.TupleIndex(e.obj, _literal(e.index), span=e.span))
        if isinstance(obj, CArray):
            self.in_bounds(e, obj.count, "array")
            element = obj.element
        elif isinstance(obj, Ptr) and obj.pointee is not None:
            element = obj.pointee
        elif isinstance(obj, Ptr):
            self.report.error(e.obj.span, f"pytrace does not know what {describe(obj)} points at",
                              "cast it to say: (int32 *)p, (struct task_struct *)p")
            return None
        else:
            self.report.error(e.obj.span, f"{describe(obj)} cannot be indexed",
                              "index a pointer, an array or a string")
            return None
        return self.element(element, obj, e.span)

    def in_bounds(self, e: ast.Index, count: int, what: str) -> None:
        index = _literal(e.index)
        if index is not None and not 0 <= index < count:
            article = "an" if what[0] in "aeiou" else "a"
            self.report.error(e.index.span, f"the index {index} is out of bounds for {article} {what} of {count}")

    def element(self, element, holder, span: Span):
        """What reading an element (or a pointee) of `holder` gives."""
        user = holder.user if isinstance(holder, (Ptr, CArray)) else self.target.kind in USER_SPACE_KINDS
        if isinstance(element, Ptr):
            return Ptr(element.target, user, element.pointee)
        if isinstance(element, CArray):
            return CArray(element.element, element.count, user)
        if isinstance(element, (Int, Str, Struct, CArray)):
            return element
        self.report.error(span, f"pytrace cannot read a {describe(element)} yet")
        return None

    def expr_AddressOf(self, e: ast.AddressOf):
        """A pointer to the variable, typed by what it holds (the kernel's
        memory: the BPF stack or scratch value), read back with `*`."""
        t = self.expr(e.var)
        if t is None:
            return None
        pointee = t.of if isinstance(t, CValue) else t
        return Ptr(str(pointee), False, pointee)

    def expr_Deref(self, e: ast.Deref):
        obj = self.expr(e.operand)
        if obj is None:
            return None
        if not isinstance(obj, Ptr):
            self.report.error(e.span, f"{describe(obj)} is not a pointer: only a pointer can be dereferenced",
                              "cast an address to say what it points at: *(int32 *)addr")
            return None
        if obj.pointee is None:
            self.report.error(e.operand.span, f"pytrace does not know what {describe(obj)} points at",
                              "cast it to say: *(int32 *)p")
            return None
        return self.element(obj.pointee, obj, e.span)

    def expr_IncDec(self, e: ast.IncDec):
        target = e.target
        if isinstance(target, ast.Variable):
            t = self.expr_Variable(target)
            self.types_set(target, t)
            if t is not None and not is_int(t):
                self.report.error(e.span, f"'{e.op}' needs an integer, but {target.name} holds {describe(t)}")
                return None
            return t
        if isinstance(target, ast.MapRef):
            keys = self.map_keys(target)
            if keys is None and target.keys:
                return None
            self.types_set(target, INT64)
            self.unify_value(target, INT64, e.span)
            return INT64
        self.report.error(e.span, f"'{e.op}' applies to a map or a variable")
        return None

    def expr_FieldAccess(self, e: ast.FieldAccess):
        obj = self.expr(e.obj)
        if obj is None:
            return None
        if isinstance(obj, (Ptr, Struct)):
            return self.member(e, obj)
        if isinstance(obj, CValue):
            return self.value_member(e, obj, e.field, None)
        if isinstance(obj, Tuple) and obj.names:  # a record's field
            if e.field not in obj.names:
                self.report.error(e.span, f"the record has no field '{e.field}'",
                                  f"its fields: {', '.join(obj.names)}")
                return None
            return obj.elements[obj.names.index(e.field)]
        if obj is not ARGS:
            self.report.error(e.span, f"{describe(obj)} has no fields")
            return None
        if self.target.typed_args:
            return self.btf_arg(e)
        fld = self.target.fields.get(e.field)
        if fld is None or fld.name.startswith("common_"):
            names = [n for n in self.target.fields if not n.startswith("common_")]
            hint = _did_you_mean(e.field, names, "its fields")
            if fld is not None:  # common_pid, common_flags...: the record's header, not args
                hint = "the common_ fields are the record's header, not its arguments: read pid, tid, cpu instead"
            self.report.error(e.span, f"{self.target.name} has no field '{e.field}'", hint)
            return None
        return field_type(fld, self.target.target[0], self.strlen)

    def btf_arg(self, e: ast.FieldAccess):
        """`args.prev` of a raw tracepoint or fentry: its type from BTF."""
        for index, (name, ptype) in enumerate(self.target.typed_args):
            if name == e.field:
                if ptype is None:
                    self.report.error(e.span, f"pytrace cannot read argument {name} of {self.target.name} yet")
                    return None
                context = probe_kinds.kind(self.target.kind).context
                if context == "regs" and index >= len(registers().args):
                    self.report.error(e.span, f"argument {name} of {self.target.name} is passed on the stack,"
                                              " which pytrace cannot read by name yet", "read it with sargN")
                    return None
                return ptype
        names = [name for name, _ in self.target.typed_args]
        hint = _did_you_mean(e.field, names, "its arguments")
        self.report.error(e.span, f"{self.target.name} has no argument '{e.field}'", hint)
        return None

    def struct_named(self, name: str):
        """A struct the script defines, else the kernel's (BTF), else None."""
        found = self.structs.get(name)
        if found is None:
            from pytrace import btf

            try:
                found = btf.kernel_types().struct(name)
            except btf.BtfError:
                found = None
        return found

    def member(self, e: ast.FieldAccess, obj):
        """`p->m` of a pointer to a script struct (or `p.m`, which follows
        the pointer as upstream bpftrace does), `s.m` of a struct member."""
        struct = obj.pointee if isinstance(obj, Ptr) else obj
        if isinstance(struct, Struct) and not struct.members and struct.source != "dwarf":
            struct = self.struct_named(struct.name) or struct  # known so far by its name only
        if not isinstance(struct, Struct):
            self.report.error(e.span, f"{describe(obj)} has no fields")
            return None
        if isinstance(obj, Struct) and e.arrow:
            self.report.error(e.span, f"{describe(obj)} is not a pointer: write .{e.field}")
            return None
        found = struct.member(e.field)
        if found is None:
            names = [m[0] for m in struct.members]
            hint = _did_you_mean(e.field, names, "its members")
            self.report.error(e.span, f"struct {struct.name} has no member '{e.field}'", hint)
            return None
        mtype = found[1]
        user = obj.user if isinstance(obj, Ptr) else self.target.kind in USER_SPACE_KINDS
        if isinstance(mtype, Ptr):
            return Ptr(mtype.target, user, mtype.pointee)
        if isinstance(mtype, CArray):  # its value is its address, as a struct's
            return CArray(mtype.element, mtype.count, user)
        return mtype

    def expr_Call(self, e: ast.Call, statement: bool = False):
        name = e.name
        if name in AGGREGATIONS:
            self.report.error(e.span, f"{name}() must be assigned to a map, as in @x = {name}(...)")
            return None
        if name in builtins.VARIABLES and name not in builtins.FUNCTIONS:
            if e.args:
                self.report.error(e.span, f"{name} is a builtin variable and takes no arguments: write {name} or {name}()")
                return None
            return self.alias(e, ast.Builtin(name, span=e.span))  # upstream: pid() is pid
        if name not in builtins.FUNCTIONS:
            close = difflib.get_close_matches(name, builtins.ALL_CALLABLE, n=1)
            hints = [f"did you mean '{close[0]}'?"] if close else []
            self.report.error(e.name_span, f"unknown function '{name}'", *hints)
            return None
        result = getattr(self, "call_" + name)(e)
        if result is VOID and not statement:
            self.report.error(e.span, f"{name}() does not return a value")
            return None
        return result

    def alias(self, e: ast.Expr, meaning: ast.Expr):
        """Check `meaning`, which lowering compiles in place of `e`."""
        self.inst.aliases[id(e)] = meaning
        return self.expr(meaning)

    def call_str(self, e: ast.Call):
        if not 1 <= len(e.args) <= 2:
            self.report.error(e.span, f"str() takes 1 or 2 arguments, got {len(e.args)}")
            return None
        text = self.param_text(e.args[0])
        if text is not None:  # str($1), str($1 + 2), str($1, 4): the parameter's text (from byte 2; 4 bytes)
            if len(e.args) == 2:
                limit = self.constant(e.args[1], "the length given to str()")
                text = text.encode()[:max(limit or 0, 0)].decode(errors="replace")
            self.inst.constants[id(e)] = (text,)
            return Str(len(text.encode()) + 1)
        t = self.expr(e.args[0])
        if t is not None and not isinstance(t, (Ptr, Int, Str)):
            self.report.error(e.args[0].span, f"str() reads a string from an address, not from {describe(t)}")
        strlen = self.strlen
        size = strlen
        if len(e.args) == 2:
            n = e.args[1]
            self.expect_int(n, "the length given to str()")
            if not isinstance(n, ast.Integer) or not 1 <= n.value <= strlen:
                self.report.error(n.span, f"the length given to str() must be a number from 1 to {strlen}",
                                  "max_strlen (config, or BPFTRACE_MAX_STRLEN) sets the longest string")
            else:
                size = n.value + 1 if n.value < strlen else strlen
        return Str(size) if not isinstance(t, Str) else t

    def arity(self, e: ast.Call, low: int, high: int, usage: str) -> bool:
        """Whether the call has low..high arguments; else an error showing
        how it is called."""
        if low <= len(e.args) <= high:
            return True
        want = str(low) if low == high else f"at most {high}" if low == 0 else f"{low} to {high}"
        self.report.error(e.span, f"{e.name}() takes {want} argument{'' if high == 1 else 's'}, got {len(e.args)}",
                          f"call it as {usage}")
        return False

    def expect_str(self, expr: ast.Expr, what: str):
        t = self.expr(expr)
        if t is not None and not isinstance(t, Str):
            self.report.error(expr.span, f"{what} must be a string, not {describe(t)}")
            return None
        return t

    def call_nsecs(self, e: ast.Call):
        """nsecs(), nsecs(monotonic|boot|tai|sw_tai): upstream's clocks."""
        if not self.arity(e, 0, 1, "nsecs(monotonic), nsecs(boot), nsecs(tai) or nsecs(sw_tai)"):
            return None
        if e.args:
            mode = e.args[0]
            if not isinstance(mode, ast.Builtin) or mode.name not in builtins.NSECS_MODES:
                self.report.error(mode.span, "nsecs() takes a clock: monotonic, boot, tai or sw_tai")
                return None
        return UINT64

    def call_bswap(self, e: ast.Call):
        if not self.arity(e, 1, 1, "bswap(n)"):
            return None
        t = self.expect_int(e.args[0], "bswap()'s argument")
        return Int(as_int(t).bits, False) if t is not None else None

    def call_strncmp(self, e: ast.Call):
        """0 when the strings' first n bytes are equal (up to a NUL), else 1."""
        if not self.arity(e, 3, 3, 'strncmp(s1, s2, n), as in strncmp(comm, "bash", 4)'):
            return None
        self.expect_str(e.args[0], "strncmp()'s first argument")
        self.expect_str(e.args[1], "strncmp()'s second argument")
        n = self.constant(e.args[2], "strncmp()'s length")
        if n is not None and n < 0:
            self.report.error(e.args[2].span, "strncmp()'s length must not be negative")
        self.inst.constants[id(e)] = (n,)
        return INT64

    def call_strcontains(self, e: ast.Call):
        if not self.arity(e, 2, 2, 'strcontains(haystack, needle), as in strcontains(comm, "sh")'):
            return None
        self.expect_str(e.args[0], "strcontains()'s haystack")
        self.expect_str(e.args[1], "strcontains()'s needle")
        return self.truth

    def call_buf(self, e: ast.Call):
        """buf(p, n), buf(array): raw bytes, printed with %r (at most
        max_strlen of them when n is not a literal)."""
        if not self.arity(e, 1, 2, "buf(address, length) or buf(array)"):
            return None
        t = self.expr(e.args[0])
        if t is None:
            return None
        if len(e.args) == 1:
            if isinstance(t, CArray):
                return Buffer(c_layout(t)[0])
            if isinstance(t, Str):
                return Buffer(t.size)
            self.report.error(e.args[0].span, f"buf() of {describe(t)} needs a length: buf(p, n)")
            return None
        if not isinstance(t, (Ptr, Int, CArray, Str)):
            self.report.error(e.args[0].span, f"buf() reads from an address, not from {describe(t)}")
            return None
        self.expect_int(e.args[1], "buf()'s length")
        n = _literal(e.args[1])
        if n is not None and n < 0:
            self.report.error(e.args[1].span, "buf()'s length must not be negative")
            return None
        return Buffer(n if n is not None else self.strlen)

    def bytes_arg(self, arg: ast.Expr, what: str, t=None):
        """The Buffer an argument that is bytes gives (a buf(), an array
        member, a string); None after reporting. `t`: its type, if known."""
        t = self.expr(arg) if t is None else t
        if isinstance(t, Buffer):
            return t
        if isinstance(t, CArray):
            return Buffer(c_layout(t)[0])
        if isinstance(t, Str):
            return Buffer(t.size)
        if t is not None:
            self.report.error(arg.span, f"{what} takes bytes (an array, a buf() or a string), not {describe(t)}")
        return None

    def call_ntop(self, e: ast.Call):
        """ntop(addr), ntop(family, addr): an IPv4 or IPv6 address as text."""
        if not self.arity(e, 1, 2, "ntop(address) or ntop(family, address), family 2 (AF_INET) or 10"):
            return None
        if len(e.args) == 2:
            self.expect_int(e.args[0], "ntop()'s address family")
        addr = e.args[-1]
        t = self.expr(addr)
        if t is None:
            return None
        found = t if is_int(t) else self.bytes_arg(addr, "ntop()", t)
        if isinstance(found, Buffer) and found.size > 16:
            self.report.error(addr.span, f"ntop() takes at most 16 bytes (an IPv6 address), not {found.size}")
            return None
        return INET if found else None

    def call_pton(self, e: ast.Call):
        """pton("10.0.0.1"): the address's bytes (4 for IPv4, 16 for IPv6)."""
        if not self.arity(e, 1, 1, 'pton("127.0.0.1") or pton("::1")'):
            return None
        arg = e.args[0]
        if not isinstance(arg, ast.String):
            self.report.error(arg.span, "pton() takes an address as a string literal")
            return None
        import socket

        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                packed = socket.inet_pton(family, arg.value)
            except OSError:
                continue
            self.inst.constants[id(e)] = (packed,)
            return Buffer(len(packed))
        self.report.error(arg.span, f'"{arg.value}" is not an IPv4 or IPv6 address')
        return None

    def call_macaddr(self, e: ast.Call):
        if not self.arity(e, 1, 1, "macaddr(bytes), as in macaddr($eth->h_source)"):
            return None
        found = self.bytes_arg(e.args[0], "macaddr()")
        if found is not None and found.size < 6:
            self.report.error(e.args[0].span, f"macaddr() needs 6 bytes, and {describe(found)} has {found.size}")
            return None
        return Resolved("macaddr", 1 + Buffer(6).value_size // 8, "buf") if found else None

    def call_strerror(self, e: ast.Call):
        if not self.arity(e, 1, 1, "strerror(errno)"):
            return None
        self.expect_int(e.args[0], "strerror()'s error number")
        return Resolved("strerror")

    def call_syscall_name(self, e: ast.Call):
        if not self.arity(e, 1, 1, "syscall_name(args.id)"):
            return None
        self.expect_int(e.args[0], "syscall_name()'s system call number")
        return Resolved("syscall_name")

    def call_cgroup_path(self, e: ast.Call):
        """cgroup_path(id[, filter]): the cgroup's path, found at print time."""
        if not self.arity(e, 1, 2, "cgroup_path(cgroup) or cgroup_path(cgroup, \"unified\")"):
            return None
        self.expect_int(e.args[0], "cgroup_path()'s cgroup id")
        mode = ""
        if len(e.args) == 2:
            if not isinstance(e.args[1], ast.String):
                self.report.error(e.args[1].span, "cgroup_path()'s filter must be a string literal")
                return None
            mode = e.args[1].value
        return Resolved("cgroup_path", 1, mode)

    def call_kptr(self, e: ast.Call):
        """kptr(p), uptr(p): the same address, read from kernel or user memory."""
        if not self.arity(e, 1, 1, f"{e.name}(pointer)"):
            return None
        t = self.expect_int(e.args[0], f"{e.name}()'s argument")
        if t is None:
            return None
        user = e.name == "uptr"
        if isinstance(t, Ptr):
            return Ptr(t.target, user, t.pointee)
        return Ptr("void", user)

    call_uptr = call_kptr

    def usermode(self, e: ast.Builtin):
        """1 when the probe interrupted user code: the privilege level in
        the saved cs register (x86-64 only, as upstream), so only probes
        whose context holds registers."""
        row = probe_kinds.kind(self.target.kind)
        regs = registers()
        if regs.name != "x86_64":
            self.report.error(e.span, f"usermode is only available on x86_64, not {regs.name}")
            return None
        if row.context not in ("regs", "regs_ret", "usdt") and row.prog_type != prog.PROG_PERF_EVENT:
            self.report.error(e.span, f"usermode is not available in a {self.target.name} probe",
                              "probes on registers have it: kprobe, uprobe, usdt, profile, software, interval")
            return None
        self.inst.constants[id(e)] = (regs.by_name["cs"],)
        return UINT64

    def call_assert(self, e: ast.Call):
        """assert(cond, "message"): upstream's macro, `if (!cond) {
        errorf("assert failed: %s", message); exit(1); }`."""
        if not self.arity(e, 2, 2, 'assert($x > 0, "x must be positive")'):
            return VOID
        cond, message = e.args
        if self.expect_int(cond, "assert()'s condition") is None or self.expect_str(message, "assert()'s message") is None:
            return VOID
        fail = [ast.ExprStmt(ast.Call("errorf", [ast.String("assert failed: %s", span=e.span), message],
                                      span=e.span), span=e.span),
                ast.ExprStmt(ast.Call("exit", [ast.Integer(1, span=e.span)], span=e.span), span=e.span)]
        meaning = ast.BlockExpr([ast.If(ast.Unary("!", cond, span=cond.span), fail, None, span=e.span)], None,
                                span=e.span)
        self.inst.aliases[id(e)] = meaning
        self.expr(meaning, statement=True)
        return VOID

    def call_cgroupid(self, e: ast.Call):
        """cgroupid("/sys/fs/cgroup/x"): the cgroup v2 id of that directory,
        its inode number, found at compile time."""
        if not self.arity(e, 1, 1, 'cgroupid("/sys/fs/cgroup/system.slice")'):
            return None
        path = e.args[0]
        if not isinstance(path, ast.String):
            self.report.error(path.span, "cgroupid() takes the cgroup's path as a string literal")
            return None
        try:
            inode = os.stat(path.value).st_ino
        except OSError as err:
            self.report.error(path.span, f"cannot find cgroup {path.value}: {err.strerror}",
                              "give the cgroup's directory in the cgroup v2 file system, as in /sys/fs/cgroup/user.slice")
            return None
        return self.alias(e, ast.Integer(inode, span=e.span))

    def call_override(self, e: ast.Call):
        """override(rc) (--unsafe, kprobes only, as in bpftrace): the probed
        function returns rc without running (bpf_override_return)."""
        if not self.arity(e, 1, 1, "override(-1)"):
            return VOID
        self.expect_int(e.args[0], "override()'s return value")
        if self.target.kind != "kprobe":
            self.report.error(e.span, f"override() is not available in a {self.target.name} probe",
                              "only kprobes can make a function return early")
        elif not self.given.unsafe:
            self.report.error(e.span, "override() is unsafe: it changes what the kernel does; "
                                      "run with --unsafe to allow it")
        return VOID

    def call_reg(self, e: ast.Call):
        """reg("ip"): a register of a kprobe's or uprobe's pt_regs."""
        if not self.arity(e, 1, 1, 'reg("ip")'):
            return None
        arg = e.args[0]
        regs = registers()
        if not isinstance(arg, ast.String):
            self.report.error(arg.span, "reg() takes a register's name as a string literal",
                              f"{regs.name} has {', '.join(regs.by_name)}")
            return None
        if arg.value not in regs.by_name:
            self.report.error(arg.span, f"unknown register '{arg.value}'", f"{regs.name} has {', '.join(regs.by_name)}")
            return None
        if probe_kinds.kind(self.target.kind).context != "regs":
            self.report.error(e.span, f"reg() is not available in a {self.target.name} probe",
                              "only kprobes and uprobes have registers")
            return None
        self.inst.constants[id(e)] = (regs.by_name[arg.value],)
        return UINT64

    def call_signal(self, e: ast.Call):
        """signal(SIGKILL), signal("KILL"), signal(9) (--unsafe): to the
        current process."""
        if not self.arity(e, 1, 1, 'signal("SIGUSR1") or signal(10)'):
            return VOID
        if not self.given.unsafe:
            self.report.error(e.span, "signal() is unsafe: it changes the system; run with --unsafe to allow it")
            return VOID
        arg = e.args[0]
        if isinstance(arg, (ast.String, ast.Builtin)):
            name = arg.value if isinstance(arg, ast.String) else arg.name
            number = builtins.SIGNALS.get(name) or builtins.SIGNALS.get("SIG" + name)
            if number is None:
                self.report.error(arg.span, f"{name} is not a signal", "as in signal(\"SIGUSR1\") or signal(10)")
                return VOID
            self.inst.constants[id(e)] = (number,)
            return VOID
        self.expect_int(arg, "signal()'s signal number")
        return VOID

    def call_getopt(self, e: ast.Call):
        """getopt("name", default[, "help"]): the script's option --name
        (given after the script or `--`, as --name or --name=value), typed as
        its default: a bool (present or not), a number or a string."""
        if not self.arity(e, 1, 3, 'getopt("name"), getopt("depth", 35) or getopt("name", false, "what it does")'):
            return None
        name = e.args[0]
        if not isinstance(name, ast.String):
            self.report.error(name.span, "getopt() takes the option's name as a string literal")
            return None
        default = e.args[1] if len(e.args) > 1 else ast.Boolean(False, span=e.span)
        if not isinstance(default, (ast.Boolean, ast.Integer, ast.String)):
            self.report.error(default.span, "getopt()'s default must be a literal: true, false, a number or a string")
            return None
        given = None
        for word in self.params:
            if word == "--" + name.value or word.startswith(f"--{name.value}="):
                given = word.partition("=")[2] if "=" in word else None
                break
        else:
            return self.alias(e, default)
        if isinstance(default, ast.Boolean):
            value = ast.Boolean(given is None or given.lower() in ("1", "true", "yes"), span=e.span)
        elif isinstance(default, ast.Integer):
            if given is None or not given.lstrip("-").isdigit():
                self.report.error(e.span, f"option --{name.value} takes a number: --{name.value}=N")
                return None
            value = ast.Integer(int(given), span=e.span)
        else:
            value = ast.String(given or "", span=e.span)
        return self.alias(e, value)

    def call_strlen(self, e: ast.Call):
        if not self.arity(e, 1, 1, "strlen(s)"):
            return None
        self.expect_str(e.args[0], "strlen()'s argument")
        return UINT64

    def call_kstack(self, e: ast.Call):
        """kstack(N), kstack(MODE), kstack(MODE, N): MODE bpftrace, perf or raw."""
        mode, limit = self.stack_mode, STACK_LIMIT
        args = list(e.args)
        if args and isinstance(args[0], ast.Builtin) and args[0].name in STACK_MODES:
            mode = args.pop(0).name
        if args:
            value = _literal(args[0])
            if len(args) > 1 or value is None or not 1 <= value <= STACK_LIMIT:
                self.report.error(e.span, f"{e.name}() takes a mode (bpftrace, perf or raw) and/or a"
                                          f" number of frames from 1 to {STACK_LIMIT}, as in {e.name}(perf, 8)")
                return None
            limit = value
        return stack_type(e.name, mode, limit)

    call_ustack = call_kstack

    def param_text(self, arg: ast.Expr) -> str | None:
        """The text str() reads from `$N` or `$N + K` (K bytes into it), or
        None when `arg` is neither."""
        skip = 0
        if isinstance(arg, ast.Binary) and arg.op == "+" and isinstance(arg.right, ast.Integer):
            arg, skip = arg.left, arg.right.value
        if not isinstance(arg, ast.Positional):
            return None
        if arg.index == 0:
            self.report.error(arg.span, "there is no $0: positional parameters count from $1")
            return ""
        text = self.params[arg.index - 1] if arg.index <= len(self.params) else ""
        return text.encode()[skip:].decode(errors="replace")

    def call_exit(self, e: ast.Call):
        if self.map_loops:
            self.report.error(e.span, "exit() cannot be called inside a for loop over a map",
                              "set a variable, break, and call exit() after the loop")
        if len(e.args) > 1:
            self.report.error(e.span, f"exit() takes at most 1 argument (an exit code), got {len(e.args)}")
        elif e.args:
            self.expect_int(e.args[0], "exit()'s code")
        return VOID

    # ------------------------------------------------------ map functions

    def whole_map(self, e: ast.Call, arg: ast.Expr) -> MapInfo | None:
        """The map a map function (print, clear, zero, len) is given: a map
        named without a key, assigned somewhere in the script."""
        if not isinstance(arg, ast.MapRef):
            self.report.error(arg.span, f"{e.name}() expects a map, as in {e.name}(@x)")
            return None
        if arg.keys:
            self.report.error(arg.span, f"the map given to {e.name}() must not have a key: write {e.name}({arg.name})")
            return None
        info = self.maps.get(arg.name)
        if info is None or info.value is None:
            if self.report.final:
                self.report.error(arg.span, f"map {arg.name} is given to {e.name}() but never assigned")
            return None
        return info

    def call_print(self, e: ast.Call):
        if not 1 <= len(e.args) <= 3:
            self.report.error(e.span, f"print() takes 1 to 3 arguments, got {len(e.args)}")
            return VOID
        arg = e.args[0]
        if isinstance(arg, ast.MapRef) and not arg.keys:
            self.whole_map(e, arg)
            values = []
            for extra, what in zip(e.args[1:], ("top", "div")):
                value = self.constant(extra, f"the {what} given to print()")
                if value is not None and value < 0:
                    self.report.error(extra.span, f"the {what} given to print() must not be negative")
                values.append(value or 0)
            self.inst.constants[id(e)] = tuple(values + [0] * (2 - len(values)))
            return VOID
        if len(e.args) != 1:
            self.report.error(e.span, f"print() of a value takes 1 argument, got {len(e.args)}",
                              "top and div apply to a whole map: print(@x, 10)")
            return VOID
        t = self.as_value(arg, self.expr(arg))
        if t is not None and not isinstance(t, (Int, Ptr, Str, Timestamp, Resolved, Tuple, Buffer, CValue)):
            self.report.error(arg.span, f"print() cannot print {describe(t)}")
        return VOID

    def call_clear(self, e: ast.Call):
        if len(e.args) != 1:
            self.report.error(e.span, f"{e.name}() takes 1 argument, got {len(e.args)}")
            return VOID
        self.whole_map(e, e.args[0])
        return VOID

    call_zero = call_clear

    def call_len(self, e: ast.Call):
        if len(e.args) != 1:
            self.report.error(e.span, f"len() takes 1 argument, got {len(e.args)}")
            return None
        info = self.whole_map(e, e.args[0])
        if info is not None and info.keys == []:
            self.report.error(e.args[0].span, f"len() counts the keys of a map, and {info.name} has none")
        return INT64

    def call_delete(self, e: ast.Call):
        target = delete_target(e)
        if target is None:
            self.report.error(e.span, "delete() takes a map element: delete(@x[key]) or delete(@x, key)")
            return VOID
        self.map_keys(target)
        return self.truth  # whether there was a key to delete (upstream)

    def call_has_key(self, e: ast.Call):
        if len(e.args) != 2 or not isinstance(e.args[0], ast.MapRef) or e.args[0].keys:
            self.report.error(e.span, "has_key() takes a map and a key: has_key(@x, key)")
            return None
        self.map_keys(ast.MapRef(e.args[0].name, [e.args[1]], span=e.span))
        return BOOL

    # ---------------------------------------------------------- output

    def format_pieces(self, e: ast.Call, fmt: ast.String) -> list | None:
        self.types_set(fmt, self.expr_String(fmt))
        try:
            pieces = parse_format(fmt.value)
        except FormatProblem as problem:
            self.report.error(fmt.span, str(problem), f"supported: {SUPPORTED}")
            return None
        self.inst.formats[id(e)] = pieces
        return pieces

    def call_printf(self, e: ast.Call):
        """printf and the functions that take a format like it: errorf,
        warnf, cat (a file name), system (a command, with --unsafe)."""
        if not e.args or not isinstance(e.args[0], ast.String):
            self.report.error(e.span, f"{e.name}() needs a format string literal as its first argument")
            return VOID
        if e.name in builtins.UNSAFE and not self.given.unsafe:
            self.report.error(e.span, f"{e.name}() is unsafe: it changes the system; run with --unsafe to allow it")
            return VOID
        if e.name in ("errorf", "warnf"):  # bpftrace's location prefix: file:line:col-endcol
            span = e.span
            self.inst.constants[id(e)] = (f"{self.given.source_name}:{span.line}:{span.col}-{span.end_col}",)
        pieces = self.format_pieces(e, e.args[0])
        args = e.args[1:]
        if pieces is None:
            for arg in args:
                self.expr(arg)
            return VOID
        specs = conversions(pieces)
        if len(specs) != len(args):
            self.report.error(
                e.span,
                f"{e.name} format expects {_count(len(specs), 'argument')}, but {len(args)} {'was' if len(args) == 1 else 'were'} given",
            )
        for spec, arg in zip(specs, args):
            t = self.expr(arg)
            if t is None:
                continue
            if spec.conv[0] == "r" and not isinstance(t, (Buffer, Str)):
                self.report.error(arg.span, f"printf %{spec.conv} needs a buffer, not {describe(t)}",
                                  "read one with buf(address, length)")
            elif spec.conv[0] == "r":
                pass
            elif spec.conv == "s" and not isinstance(t, (Str, Timestamp, Resolved, Bool, Buffer, Enum)):
                self.report.error(arg.span, f"printf %s needs a string, not {describe(t)}", "use str() to read a string from an address")
            elif spec.conv != "s" and not is_int(t):
                self.report.error(arg.span, f"printf %{spec.conv} needs an integer, not {describe(t)}")
        for arg in args[len(specs):]:
            self.expr(arg)
        return VOID

    call_errorf = call_warnf = call_cat = call_system = call_printf

    def call_debugf(self, e: ast.Call):
        """debugf("fmt", ...): bpf_trace_printk, to the kernel's trace
        buffer (/sys/kernel/tracing/trace_pipe), as upstream: at most 3
        arguments, integers or strings for %s."""
        if not e.args or not isinstance(e.args[0], ast.String):
            self.report.error(e.span, "debugf() takes a format string literal first, as in debugf(\"pid %d\", pid)")
            return VOID
        if len(e.args) > 4:
            self.report.error(e.args[4].span, "debugf() takes at most 3 arguments after the format "
                                              "(bpf_trace_printk's limit)", "use printf() for more")
            return VOID
        self.expr(e.args[0])
        try:
            wanted = conversions(parse_format(e.args[0].value))
        except FormatProblem as problem:
            self.report.error(e.args[0].span, f"debugf: {problem}")
            return VOID
        if len(wanted) != len(e.args) - 1:
            given = len(e.args) - 1
            self.report.error(e.span, f"debugf()'s format has {len(wanted)} conversion{'' if len(wanted) == 1 else 's'}"
                                      f" but {given} argument{' follows' if given == 1 else 's follow'}")
            return VOID
        for spec, arg in zip(wanted, e.args[1:]):
            if spec.conv == "s":
                self.expect_str(arg, "debugf %s's argument")
            else:
                self.expect_int(arg, f"debugf %{spec.conv}'s argument")
        return VOID

    def call_join(self, e: ast.Call):
        """join(argv[, sep]): the strings of a NULL-ended array of char
        pointers (at most JOIN_MAX), printed joined by sep (a space)."""
        if not 1 <= len(e.args) <= 2 or (len(e.args) == 2 and not isinstance(e.args[1], ast.String)):
            self.report.error(e.span, 'join() takes an array of strings and an optional separator literal,'
                                      ' as in join(args->argv, ",")')
            return VOID
        self.expect_int(e.args[0], "the array given to join()")
        if len(e.args) == 2:
            self.types_set(e.args[1], self.expr_String(e.args[1]))
        return VOID

    def call_time(self, e: ast.Call):
        if len(e.args) > 1 or (e.args and not isinstance(e.args[0], ast.String)):
            self.report.error(e.span, "time() takes an optional format string literal, as in time(\"%H:%M:%S\\n\")")
            return VOID
        if e.args:
            self.types_set(e.args[0], self.expr_String(e.args[0]))
        return VOID

    def call_ksym(self, e: ast.Call):
        """ksym(addr), usym(addr): the symbol an address is in, as text."""
        if len(e.args) != 1:
            self.report.error(e.span, f"{e.name}() takes 1 argument, an address, got {len(e.args)}")
            return None
        self.expect_int(e.args[0], f"the address given to {e.name}()")
        return Resolved("ksym") if e.name == "ksym" else Resolved("usym", 2)

    call_usym = call_ksym

    def call_percpu_kaddr(self, e: ast.Call):
        """percpu_kaddr("name"[, cpu]): the address of a per-CPU kernel
        variable on this CPU (or on `cpu`; 0 for a CPU that does not
        exist), found through its BTF."""
        if not self.arity(e, 1, 2, 'percpu_kaddr("runqueues") or percpu_kaddr("runqueues", 0)'):
            return None
        name = e.args[0]
        if not isinstance(name, ast.String):
            self.report.error(name.span, "percpu_kaddr() takes the variable's name as a string literal")
            return None
        self.expr(name)
        if len(e.args) == 2:
            self.expect_int(e.args[1], "percpu_kaddr()'s cpu")
        from pytrace import btf

        try:
            btf.var_id(name.value)
        except btf.BtfError as err:
            self.report.error(name.span, f"{err}", "percpu_kaddr() reads the kernel's per-CPU variables from its BTF")
            return None
        return UINT64

    def call_kaddr(self, e: ast.Call):
        """kaddr("name"): a kernel symbol's address (found at load: KASLR
        moves it every boot); uaddr("name"): a symbol's address in the
        binary a uprobe or USDT probe is on."""
        given = (e.args[0].value if isinstance(e.args[0], ast.String) else
                 self.param_text(e.args[0].args[0]) if isinstance(e.args[0], ast.Call) and e.args[0].name == "str"
                 and len(e.args[0].args) == 1 else None) if len(e.args) == 1 else None
        if given is None:
            self.report.error(e.span, f'{e.name}() takes a symbol name as a string literal, as in {e.name}("name")')
            return None
        name = given
        self.types_set(e.args[0], Str(len(name.encode()) + 1))
        if e.name == "kaddr":
            from pytrace.sema.probes import kernel_symbols

            try:
                known = name in kernel_symbols()
            except OSError as err:
                self.report.error(e.span, f"cannot read the kernel's symbols: {err.strerror}")
                return None
            if not known:
                self.report.error(e.args[0].span, f"kernel symbol not found: {name}")
                return None
            self.inst.constants[id(e)] = (name,)
            return UINT64
        if self.target.kind not in ("uprobe", "uretprobe", "usdt"):
            self.report.error(e.span, f"uaddr() is not available in a {self.target.name} probe",
                              "it finds a symbol in the binary of a uprobe or usdt probe")
            return None
        from pytrace import symbols

        address = None
        try:
            address = symbols.symbol_address(self.target.target[0], name)
        except symbols.SymbolError:
            pass
        if address is None:
            self.report.error(e.args[0].span, f"symbol not found in {self.target.target[0]}: {name}")
            return None
        self.inst.constants[id(e)] = (address,)
        return UINT64

    call_uaddr = call_kaddr

    def call_strftime(self, e: ast.Call):
        if len(e.args) != 2 or not isinstance(e.args[0], ast.String):
            self.report.error(e.span, "strftime() takes a format string literal and a time in nanoseconds, as in strftime(\"%H:%M:%S\", nsecs)")
            return None
        self.types_set(e.args[0], self.expr_String(e.args[0]))
        self.expect_int(e.args[1], "the time given to strftime()")
        return Timestamp(e.args[0].value)


def delete_target(e: ast.Call) -> ast.MapRef | None:
    """The element delete() removes, for both spellings: delete(@x[k])
    (0.17) and delete(@x, k) (upstream); delete(@x) for a scalar map."""
    if not e.args or not isinstance(e.args[0], ast.MapRef):
        return None
    ref = e.args[0]
    if len(e.args) == 1:
        return ref
    if len(e.args) == 2 and not ref.keys:
        return ast.MapRef(ref.name, [e.args[1]], span=ref.span)
    return None


def _literal(expr: ast.Expr) -> int | None:
    if isinstance(expr, ast.Integer):
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.Integer):
        return -expr.operand.value
    return None


def _range(param) -> str:
    if param.high is None:
        return f"at least {param.low}"
    return f"from {param.low} to {param.high}"


def field_type(fld, category: str, strlen: int = STRLEN):
    """The pytrace type of a tracepoint field, from its C declaration."""
    if fld.data_loc:
        return Str(strlen)
    if fld.array_len is not None and fld.type.startswith("char"):
        return Str(fld.size)
    if fld.array_len:  # `__u8 saddr[4]`: an array in the record, its value its address
        size = fld.size // fld.array_len
        element = Int(size * 8, fld.signed) if size in (1, 2, 4, 8) else UINT64
        return CArray(element, fld.array_len)
    if "*" in fld.type:
        target = fld.type.rstrip("*").strip()
        base = target.replace("const ", "").replace("volatile ", "").strip()
        pointee = None
        if fld.type.count("*") == 1 and base.startswith("struct "):
            pointee = Struct(base.split()[1], 0)  # its members come from BTF when read
        elif fld.type.count("*") == 1 and base in C_INTEGERS and "char" not in base:
            size, signed = C_INTEGERS[base]
            pointee = Int(8 * size, signed)
        return Ptr(target, user=category == "syscalls", pointee=pointee)
    if fld.size in (1, 2, 4, 8):
        return Int(fld.size * 8, fld.signed)
    return UINT64


def _did_you_mean(name: str, names: list[str], what: str) -> str:
    """A hint for a name that is not among `names`: the closest one, else
    the names (`what`: "its members")."""
    close = difflib.get_close_matches(name, names, n=1)
    return f"did you mean '{close[0]}'?" if close else f"{what}: {_listed(names)}"


def _listed(names: list[str], most: int = 12) -> str:
    """Names for a hint, the first `most` of them (a kernel struct has hundreds)."""
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f", ... ({len(names) - most} more)"


def _compatible(a, b) -> bool:
    return (is_int(a) and is_int(b)) or (isinstance(a, Str) and isinstance(b, Str)) or a == b


def _same_shape(a: list, b: list) -> bool:
    return len(a) == len(b) and all(_compatible(x, y) for x, y in zip(a, b))


def _keys_str(types: list) -> str:
    return "[" + ", ".join(describe(t) for t in types) + "]" if types else "[] (no key)"


def _value_str(t) -> str:
    if isinstance(t, Agg):
        args = ["..."] * AGGREGATIONS[t.kind].takes_value + [str(p) for p in t.params]
        return f"{t.kind}({', '.join(args)})"
    return f"a value of type {describe(t)}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
