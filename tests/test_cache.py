"""The compile cache: a hit skips the compiler; anything that changes the
code that would be generated changes the key."""

from __future__ import annotations

import os
import subprocess
import sys

from pytrace import cache
from pytrace.driver import CompileOptions, compile_source
from pytrace.source import SourceFile

TEXT = "tracepoint:sched:sched_switch { @[comm] = count(); }"


def test_a_second_compile_comes_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = compile_source(SourceFile("a.pt", TEXT))
    assert cache.load(TEXT) == first
    second = compile_source(SourceFile("b.pt", TEXT))
    assert second == first.__class__(**{**_fields(first), "source_name": "b.pt"})


def test_the_key_follows_text_and_the_compiler_files(tmp_path):
    base = cache.key(TEXT)
    assert cache.key(TEXT + " ") != base
    module = os.path.join(os.path.dirname(cache.__file__), "sema", "types.py")
    st = os.stat(module)
    try:
        os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert cache.key(TEXT) != base
    finally:
        os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache.key(TEXT) == base


def test_a_cache_hit_imports_neither_lark_nor_llvmlite(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    code = (
        "import sys; from pytrace.driver import compile_source; from pytrace.source import SourceFile; "
        f"compile_source(SourceFile('t', {TEXT!r})); "
        "print(sorted(m for m in ('lark', 'llvmlite', 'bcc') if m in sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    hit = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    assert hit.stdout.strip() == "[]"


def test_an_unreadable_entry_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    os.makedirs(cache.directory())
    with open(os.path.join(cache.directory(), cache.key(TEXT) + ".pkl"), "wb") as f:
        f.write(b"not a pickle")
    assert cache.load(TEXT) is None
    assert compile_source(SourceFile("t", TEXT), CompileOptions()).probes


def _fields(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_the_cache_keeps_a_bounded_number_of_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    compiled = compile_source(SourceFile("t", TEXT), CompileOptions(use_cache=False))
    for i in range(6):
        cache.store(f"{TEXT} // {i}", compiled)
        if i >= 1:
            assert cache.load(f"{TEXT} // 0") is not None  # used all along: kept
    names = sorted(os.listdir(cache.directory()))
    assert len([n for n in names if n.endswith(".pkl")]) == 3
    assert cache.load(f"{TEXT} // 5") is not None and cache.load(f"{TEXT} // 0") is not None
    assert cache.load(f"{TEXT} // 1") is None
