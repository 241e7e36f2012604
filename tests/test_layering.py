"""Imports point down the pipeline only (STYLE.md's table): the runtime
never loads the compiler, the compiler never loads the runtime, and the IR
knows nothing of Lark or llvmlite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytrace"

FORBIDDEN = {
    "runtime": {"lark", "llvmlite", "elftools", "pytrace.ast", "pytrace.parser", "pytrace.sema", "pytrace.ir",
                "pytrace.codegen", "pytrace.driver", "pytrace.cli", "bcc"},
    "sema": {"lark", "llvmlite", "pytrace.ir", "pytrace.codegen", "pytrace.runtime", "pytrace.parser"},
    "ir": {"lark", "llvmlite", "pytrace.codegen", "pytrace.runtime", "pytrace.parser"},
    # The IR's data and its tools carry spans, not AST nodes (lower.py reads the AST).
    "ir/nodes.py": {"pytrace.ast"}, "ir/verify.py": {"pytrace.ast"}, "ir/printer.py": {"pytrace.ast"},
    "codegen": {"lark", "pytrace.ast", "pytrace.parser", "pytrace.runtime", "pytrace.sema.check"},
    "program.py": {"lark", "llvmlite", "pytrace.sema", "pytrace.ir", "pytrace.codegen", "pytrace.runtime"},
    # macros rewrite the AST between the parser and sema; settings are read by the compiler and the runtime
    "macros.py": {"lark", "llvmlite", "pytrace.parser", "pytrace.sema", "pytrace.ir", "pytrace.codegen",
                  "pytrace.runtime"},
    "settings.py": {"lark", "llvmlite", "pytrace.ast", "pytrace.sema", "pytrace.ir", "pytrace.codegen",
                    "pytrace.runtime"},
}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_imports_point_down_the_pipeline(part):
    files = [PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).glob("*.py"))
    assert files
    for path in files:
        bad = {name for name in imports_of(path)
               if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[part])}
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}"
