"""The builtin variables and functions, as one table each.

Semantic analysis checks calls against these tables; codegen never checks
user input again.
"""

from __future__ import annotations

from pytrace.sema.types import COMM, UINT64

# name -> type. `args` is handled by the checker (its type is the probe's).
VARIABLES = {
    "pid": UINT64,
    "tid": UINT64,
    "uid": UINT64,
    "gid": UINT64,
    "nsecs": UINT64,
    "elapsed": UINT64,
    "cpu": UINT64,
    "rand": UINT64,
    "cpid": UINT64,
    "comm": COMM,
}

# Aggregations: `@m = NAME(args)`; value is how many arguments they take.
AGGREGATIONS = {"count": 0, "sum": 1, "avg": 1, "min": 1, "max": 1}

# Functions called as statements or expressions.
FUNCTIONS = {"printf", "exit", "str", "delete"}

ALL_CALLABLE = sorted(set(AGGREGATIONS) | FUNCTIONS)
