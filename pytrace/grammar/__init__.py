"""The Lark parser for pytrace.lark, built once per process.

Building the LALR tables takes about half a second, far too long for a
command-line tool, so `make_parser()` caches the parser twice: in memory for
the process, and on disk through Lark's `cache=` option so that the next
process only unpickles the tables (Lark checks a hash of the grammar and the
options, and rebuilds on any change).

The disk cache is a pickle, and pytrace usually runs as root, so it is only
used in a directory that the current user owns and nobody else can write
(never a shared /tmp file). `PYTRACE_CACHE_DIR` overrides the place;
set it to the empty string to turn the disk cache off.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import stat

from lark import Lark

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

CACHE_DIR_ENV = "PYTRACE_CACHE_DIR"
_CACHE_FILE = "grammar.lark-cache"


def build_parser(cache: str | bool = False) -> Lark:
    """Build a new parser from the grammar file (no in-memory caching)."""
    return Lark.open_from_package(__name__, GRAMMAR_FILE, ("",), cache=cache, **OPTIONS)


@functools.cache
def make_parser() -> Lark:
    """The process-wide parser, loaded from the disk cache when possible."""
    path = cache_path()
    with _no_gc():
        return build_parser(cache=path if path is not None else False)


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
    base = os.environ.get(CACHE_DIR_ENV)
    if base is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "pytrace")
    if not base or not os.path.isabs(base):
        return None
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        info = os.stat(base)
    except OSError:
        return None
    if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return os.path.join(base, _CACHE_FILE)
