"""The Lark parser for pytrace.lark, built once per process.

Building the LALR tables takes about half a second, far too long for a
command-line tool, and even `import lark` costs ~75 ms (its grammar
compiler, interegular, logging...), a third of a new one-liner's start.
So the parser a run uses is Lark's *standalone* parser for this grammar
(lark.tools.standalone: the runtime half of Lark and the tables, in one
module), generated on the first run after any change of the grammar, of
Lark or of Python, and kept compiled in the cache directory: later runs
load it in ~25 ms and never import lark. `L` is the module the parse-tree
classes come from (Token, Transformer, the exceptions): the standalone
module, or lark itself when there is no cache directory (then the parser is
built with Lark's own `cache=` pickle, or from scratch).

The disk cache is a pickle, and pytrace usually runs as root, so it is only
used in a directory that the current user owns and nobody else can write
(never a shared /tmp file). `PYTRACE_CACHE_DIR` overrides the place;
set it to the empty string to turn the disk cache off.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import importlib.util
import io
import marshal
import os
import sys
import types

GRAMMAR_FILE = "pytrace.lark"

# Entry points: a whole script, or one expression (for tests and tools).
START_RULES = ("program", "expr")

OPTIONS = dict(
    parser="lalr",
    lexer="contextual",
    strict=True,  # a grammar conflict or terminal collision fails the build
    propagate_positions=True,
    maybe_placeholders=True,
    start=list(START_RULES),
)

CACHE_DIR_ENV = "PYTRACE_CACHE_DIR"  # as pytrace.cache.safe_directory reads it
_CACHE_FILE = "grammar.lark-cache"
_STANDALONE = "pytrace._standalone_parser"  # the generated module's name


def build_parser(cache: str | bool = False):
    """Build a new Lark parser from the grammar file (no in-memory caching)."""
    from lark import Lark

    return Lark.open_from_package(__name__, GRAMMAR_FILE, ("",), cache=cache, **OPTIONS)


@functools.cache
def make_parser():
    """The process-wide parser: the standalone one, else Lark's."""
    with _no_gc():
        if L.__name__ == _STANDALONE:
            return L.Lark_StandAlone()
        path = cache_path()
        return build_parser(cache=path if path is not None else False)


def _runtime() -> types.ModuleType:
    """The standalone parser module from the cache directory (generated and
    compiled there when missing), or lark when there is no safe cache."""
    path = cache_path()
    if path is None:
        return _lark_runtime()
    code_path = os.path.join(os.path.dirname(path), f"parser-{_standalone_key()}.marshal")
    try:
        with open(code_path, "rb") as f:
            code = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        code = _generate(code_path)
    module = types.ModuleType(_STANDALONE)
    sys.modules[_STANDALONE] = module  # for dataclasses and pickling, as an import would
    exec(code, module.__dict__)
    return module


def _lark_runtime() -> types.ModuleType:
    """lark's classes under the names the standalone module has."""
    import lark
    from lark import exceptions, lexer, tree, visitors

    merged = types.ModuleType("lark")
    for module in (exceptions, lexer, tree, visitors, lark):
        merged.__dict__.update(vars(module))
    return merged


def _standalone_key() -> str:
    """What the generated module depends on: the grammar, the options, the
    Lark installation (its __init__ holds the version) and Python's bytecode
    version, read without importing lark."""
    digest = hashlib.sha256()
    digest.update(_grammar_text().encode())
    digest.update(repr(sorted(OPTIONS.items())).encode())
    digest.update(importlib.util.MAGIC_NUMBER)
    spec = importlib.util.find_spec("lark")
    if spec is not None and spec.origin:
        with open(spec.origin, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:20]


def _grammar_text() -> str:
    with open(os.path.join(os.path.dirname(__file__), GRAMMAR_FILE), encoding="utf-8") as f:
        return f.read()


# Lark 1.3's generator leaves out an import its Transformer_NonRecursive uses.
_PREAMBLE = "from typing import cast\n"

# Imports the standalone module makes for little, ~15 ms of every run:
# logging (its logger is set to CRITICAL, so a silent one is the same),
# dataclasses (one frozen class: pytrace.plain does that), inspect (two
# one-line functions). Each is replaced only where the text is found.
_LIGHTER = (
    ("import logging\n", ""),
    ("from dataclasses import dataclass\n", "from pytrace.plain import dataclass\n"),
    ('logger: logging.Logger = logging.getLogger("lark")\nlogger.addHandler(logging.StreamHandler())\n',
     "class _SilentLogger:\n    def __getattr__(self, name):\n        return lambda *args, **kwargs: None\n"
     "logger = _SilentLogger()\n"),
    ("logger.setLevel(logging.CRITICAL)\n", ""),
    ("from inspect import getmembers, getmro\n",
     "def getmro(cls):\n    return cls.__mro__\n"
     "def getmembers(obj):\n    return sorted((n, getattr(obj, n)) for n in dir(obj) if hasattr(obj, n))\n"),
)


def _lighten(source: str) -> str:
    """The generated module with _LIGHTER applied; unchanged when any of
    its texts is missing (another Lark version) or logging is still used."""
    lighter = source
    for old, new in _LIGHTER:
        if old not in lighter:
            return _PREAMBLE + source
        lighter = lighter.replace(old, new)
    if "logging." in lighter:
        return _PREAMBLE + source
    return _PREAMBLE + lighter


def _generate(code_path: str) -> types.CodeType:
    """Generate the standalone module, compile it and store the code (written
    to a temporary name and renamed: concurrent runs never see half a file)."""
    from lark import Lark
    from lark.tools.standalone import gen_standalone

    out = io.StringIO()
    # from the text: a parser opened from the package would carry its
    # loader (an object the standalone module cannot rebuild) in its options
    gen_standalone(Lark(_grammar_text(), **OPTIONS), out=out)
    source = _lighten(out.getvalue())
    code = compile(source, f"<standalone parser for {GRAMMAR_FILE}>", "exec")
    tmp = f"{code_path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            marshal.dump(code, f)
        os.replace(tmp, code_path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return code


@contextlib.contextmanager
def _no_gc():
    """Loading the tables allocates tens of thousands of small objects and no
    garbage cycles; the cyclic collector's passes over them were about 15% of
    a cached load (~2-3 ms), so it is paused for the load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cache_path() -> str | None:
    """Where the parse tables are cached, or None when there is no safe place."""
    from pytrace.cache import safe_directory

    base = safe_directory()
    return None if base is None else os.path.join(base, _CACHE_FILE)


L = _runtime()
