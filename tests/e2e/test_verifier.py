"""A program the verifier rejects is reported against the script line that
produced the failing instruction, with the verifier's own words under -v.

No valid script makes today's code generator produce a rejected program,
so the test makes one: it compiles a real script, changes one helper call
made for line 3 into a helper id the kernel does not have, and puts that
object in the compile cache, where the CLI finds it."""

from __future__ import annotations

import struct

import pytest

from pytrace import cache
from pytrace.driver import CompileOptions, compile_source
from pytrace.source import SourceFile

pytestmark = pytest.mark.kernel

SCRIPT = """BEGIN
{
    printf("first\\n");
    exit();
}
"""
RINGBUF_OUTPUT = 130


def corrupt_first_output_call(compiled) -> int:
    """Point the first ringbuf_output call at a helper that does not exist;
    returns that instruction's index."""
    probe = compiled.probes[0]
    insns = bytearray(probe.insns)
    for index in range(len(insns) // 8):
        code, _, _, imm = struct.unpack_from("<BBhi", insns, index * 8)
        if code == 0x85 and imm == RINGBUF_OUTPUT:
            struct.pack_into("<i", insns, index * 8 + 4, 999_999)
            probe.insns = bytes(insns)
            return index
    raise AssertionError("no ringbuf_output call")


def test_rejection_points_at_the_script_line(tmp_path, monkeypatch, run_pytrace):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = tmp_path / "rejected.pt"
    script.write_text(SCRIPT)
    compiled = compile_source(SourceFile(str(script), SCRIPT), CompileOptions(use_cache=False))
    index = corrupt_first_output_call(compiled)
    assert compiled.probes[0].span_of(index).line == 3
    cache.store(SCRIPT, compiled)

    rc, out, err = run_pytrace([str(script)], timeout=20, env={"XDG_CACHE_HOME": str(tmp_path)})
    assert rc == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"{script}:3:5: error: the BPF verifier rejected probe BEGIN: "), err
    assert "999999" in lines[0]
    assert lines[1] == '    printf("first\\n");'
    assert lines[2].startswith("    ^")
    assert lines[-1] == "(run with -v to see the verifier's log)"
    assert "first" not in out

    rc, out, err = run_pytrace(["-v", str(script)], timeout=20, env={"XDG_CACHE_HOME": str(tmp_path)})
    assert rc == 1
    assert f"{index}: (85) call" in err, "-v shows the verifier's own log"
