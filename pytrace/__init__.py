"""pytrace: a bpftrace-compatible dynamic tracer written in Python.

Importing this package is cheap on purpose: it loads neither the compiler
(Lark, llvmlite) nor libbcc. Each stage imports what it needs when it runs.
"""

__version__ = "0.1.0"
