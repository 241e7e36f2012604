"""Upstream's macros, expanded in the AST before semantic analysis.

    macro add_one(x) { x + 1 }
    macro inc($v) { $v += 1; }
    BEGIN { $a = 1; inc($a); @ = add_one($a); }
becomes
    BEGIN { $a = 1; { $a += 1; }; @ = { $a + 1 }; }

A call is replaced by a block expression (ast.BlockExpr): a copy of the
macro's body in which
  - an expression parameter (`x`) is replaced by a copy of the argument,
  - a variable parameter (`$v`) names the caller's variable, so the macro
    can change it, and a map parameter (`@m`) the caller's map,
  - the body's own variables get names of their own, so they never collide
    with the caller's.
A macro used as a bare identifier (`one`) is a call without arguments.
Errors (an unknown macro's arity, a variable parameter given something
else, a macro that expands itself) are located at the call.
"""

from __future__ import annotations

import copy
from pytrace.plain import fields

from pytrace import ast
from pytrace.diagnostics import Diagnostics

DEPTH_MAX = 64  # nested expansions before a macro is taken to call itself


def expand(program: ast.Program, diags: Diagnostics) -> ast.Program:
    """The program with every macro call replaced (in place)."""
    macros: dict[str, ast.MacroDef] = {}
    for macro in program.macros:
        if macro.name in macros:
            diags.error(macro.span, f"macro {macro.name} is defined twice")
        macros[macro.name] = macro
    if not macros:
        return program
    expander = _Expander(macros, diags)
    for probe in program.probes:
        if probe.predicate is not None:
            probe.predicate = expander.rewrite(probe.predicate, 0)
        probe.body = expander.rewrite(probe.body, 0)
    return program


class _Expander:
    def __init__(self, macros: dict[str, ast.MacroDef], diags: Diagnostics):
        self.macros = macros
        self.diags = diags
        self.count = 0  # expansions so far: each renames its variables apart

    def rewrite(self, node, depth: int):
        """`node` with the macro calls under it expanded (children first)."""
        if isinstance(node, list):
            return [self.rewrite(item, depth) for item in node]
        if not isinstance(node, ast.Node):
            return node
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, (ast.Node, list)):
                setattr(node, f.name, self.rewrite(value, depth))
        if isinstance(node, ast.Call) and node.name in self.macros:
            return self.call(node, node.args, depth)
        if isinstance(node, ast.Builtin) and node.name in self.macros:
            return self.call(node, [], depth)
        return node

    def call(self, site: ast.Expr, args: list, depth: int) -> ast.Expr:
        macro = self.macros[site.name]
        if depth >= DEPTH_MAX:
            self.diags.error(site.span, f"macro {macro.name} expands into itself ({DEPTH_MAX} levels deep)")
            return ast.Integer(0, span=site.span)
        if len(args) != len(macro.params):
            self.diags.error(site.span, f"macro {macro.name} takes {len(macro.params)} argument"
                                        f"{'' if len(macro.params) == 1 else 's'}, got {len(args)}")
            return ast.Integer(0, span=site.span)
        self.count += 1
        body = copy.deepcopy(macro.body)
        exprs, names = {}, {}
        for param, arg in zip(macro.params, args):
            if param.startswith("$"):
                if not isinstance(arg, ast.Variable):
                    self.diags.error(arg.span, f"macro {macro.name}'s parameter {param} takes a variable, as in"
                                               f" {macro.name}($x)")
                    return ast.Integer(0, span=site.span)
                names[param] = arg.name
            elif param.startswith("@"):
                if not isinstance(arg, ast.MapRef) or arg.keys:
                    self.diags.error(arg.span, f"macro {macro.name}'s parameter {param} takes a map, as in"
                                               f" {macro.name}(@m)")
                    return ast.Integer(0, span=site.span)
                names[param] = arg.name
            else:
                exprs[param] = arg
        for node in ast.walk(body):
            _rename(node, names, self.count)
        body = _substitute(body, exprs, site.span)
        expanded = self.rewrite(body, depth + 1)
        expanded.span = site.span
        return expanded


def _rename(node: ast.Node, names: dict[str, str], count: int) -> None:
    """Point variable and map parameters at the caller's; give the body's
    own variables names no script can write (`$x` -> `$x#3`)."""
    def new(name: str) -> str:
        return names.get(name) or (f"{name}#{count}" if name.startswith("$") else name)

    if isinstance(node, ast.Variable) or isinstance(node, ast.Let):
        node.name = new(node.name)
    elif isinstance(node, ast.MapRef):
        node.name = new(node.name)
    elif isinstance(node, (ast.ForRange, ast.ForMap)):
        node.var = new(node.var)


def _substitute(node, exprs: dict[str, ast.Expr], span):
    """Expression parameters replaced by copies of their arguments."""
    if isinstance(node, list):
        return [_substitute(item, exprs, span) for item in node]
    if not isinstance(node, ast.Node):
        return node
    if isinstance(node, ast.Builtin) and node.name in exprs:
        return copy.deepcopy(exprs[node.name])
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, (ast.Node, list)):
            setattr(node, f.name, _substitute(value, exprs, span))
    return node
