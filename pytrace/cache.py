"""The compile cache: a repeated run of the same script skips the compiler.

The key is the script text, pytrace's version, the running kernel (whose
tracepoint formats the code depends on) and a fingerprint of pytrace's own
files, so a changed compiler never runs code an older one cached. Entries are pickled
`CompiledProgram`s under $XDG_CACHE_HOME/pytrace (or ~/.cache/pytrace).
Load-time values (the -c child's pid, the start time) are not in the code:
the runtime patches them in, so a cached object is valid for every run.
"""

from __future__ import annotations

import os
import stat

try:  # the C half of pickle: `pickle` itself imports re and more, ~6 ms
    from _pickle import UnpicklingError, loads
except ImportError:  # pragma: no cover
    from pickle import UnpicklingError, loads

try:  # the builtin module: hashlib loads OpenSSL, ~5 ms at every start
    from _sha256 import sha256
except ImportError:  # pragma: no cover
    from hashlib import sha256

from pytrace import __version__
from pytrace.program import CompiledProgram

FORMAT = 1
MAX_ENTRIES = 256  # beyond this, storing an entry removes the oldest ones


def directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pytrace")


CACHE_DIR_ENV = "PYTRACE_CACHE_DIR"


def safe_directory() -> str | None:
    """A directory for what pytrace derives once and loads on later runs
    (the parse tables, the kernel's BTF index), or None when there is no
    safe one. Those files are loaded as code or pickles and pytrace usually
    runs as root, so the directory must belong to the current user and be
    writable by nobody else (never a shared /tmp). PYTRACE_CACHE_DIR
    overrides the place; the empty string turns these caches off."""
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
    return base


def source_fingerprint() -> str:
    """Names, sizes and modification times of the package's source files:
    a stat per file, far cheaper than reading them."""
    package = os.path.dirname(os.path.abspath(__file__))
    parts = []
    stack = [package]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    stack.append(entry.path)
                elif entry.name.endswith((".py", ".lark")):
                    st = entry.stat()
                    parts.append(f"{entry.path}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(sorted(parts))


def key(text: str) -> str:
    h = sha256()
    uname = os.uname()
    for part in (str(FORMAT), __version__, uname.release, uname.version, source_fingerprint(), text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def load(text: str) -> CompiledProgram | None:
    path = os.path.join(directory(), key(text) + ".pkl")
    try:
        with open(path, "rb") as f:
            compiled = loads(f.read())
        os.utime(path)  # used now: pruning removes the least recently used
    except (OSError, UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    return compiled if isinstance(compiled, CompiledProgram) else None


def store(text: str, compiled: CompiledProgram) -> None:
    """Write atomically; a cache that cannot be written is not an error."""
    import pickle
    import tempfile

    folder = directory()
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(compiled, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, os.path.join(folder, key(text) + ".pkl"))
        _prune(folder)
    except OSError:
        pass


def _prune(folder: str) -> None:
    """Keep the cache from growing without end: every distinct script, and
    every change to pytrace itself, makes a new entry."""
    with os.scandir(folder) as entries:
        found = [(e.stat().st_mtime_ns, e.path) for e in entries if e.name.endswith(".pkl")]
    if len(found) > MAX_ENTRIES:
        for _, path in sorted(found)[: len(found) - MAX_ENTRIES]:
            try:
                os.unlink(path)
            except OSError:
                pass
