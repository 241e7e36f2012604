"""pytrace.symbols without a kernel: binaries, functions, file offsets,
demangling, USDT notes, and a process's symbols (this test's own)."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess

import pytest

from pytrace import symbols

PROG = r"""
#include <sys/sdt.h>
__attribute__((noinline)) int target(int x) { DTRACE_PROBE2(prov, here, x, -x); return x + 1; }
int main(void) { return target(1) == 2 ? 0 : 1; }
"""


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    folder = tmp_path_factory.mktemp("symbols")
    src, exe = folder / "p.c", folder / "p"
    src.write_text(PROG)
    if subprocess.run(["gcc", "-O1", "-o", str(exe), str(src)], capture_output=True).returncode != 0:
        pytest.fail("gcc could not build the test program (scripts/setup.sh --test installs it)")
    return exe


def test_binaries_by_path_program_and_library():
    assert symbols.find_binary("/bin/sh") == "/bin/sh"
    assert symbols.find_binary("sh").endswith("/sh")
    libc = symbols.find_binary("libc")
    assert libc and re.search(r"/libc\.so\.6$", libc)
    assert symbols.find_binary("libc.so.6") == symbols.find_binary("c") == libc
    assert symbols.find_binary("/no/such/binary") is None and symbols.find_binary("no-such-lib-xyz") is None


def test_functions_and_the_file_offset_of_one(prog):
    nm = subprocess.run(["nm", str(prog)], capture_output=True, text=True, check=True).stdout
    address = int(re.search(r"^([0-9a-f]+) T target$", nm, re.M).group(1), 16)
    found = {s.name: s for s in symbols.functions(str(prog))}
    assert found["target"].address == address and found["target"].size > 0
    # a PIE's text is loaded at its file offset: the two agree here
    assert symbols.file_offset(str(prog), "target") == symbols.file_offset(str(prog), address=address)
    with pytest.raises(symbols.SymbolError):
        symbols.file_offset(str(prog), "no_such_function")


def test_demangle():
    assert symbols.demangle("_ZN4shop8checkoutERNS_4CartEi") == "shop::checkout(shop::Cart&, int)"
    assert symbols.demangle("main") == "main" and symbols.demangle("_Zbogus") == "_Zbogus"


def test_usdt_notes(prog):
    (probe,) = symbols.usdt_probes(str(prog))
    assert (probe.provider, probe.name, probe.semaphore) == ("prov", "here", 0)
    (location,) = probe.locations
    assert location.path == str(prog) and len(location.args) == 2
    assert all(a.size == -4 for a in location.args)


def test_this_process_resolves_its_own_libc():
    getpid = ctypes.cast(ctypes.CDLL(None).getpid, ctypes.c_void_p).value
    found = symbols.ProcessSymbols(os.getpid()).resolve(getpid + 2)
    assert (found.name, found.offset) == ("getpid", 2) and found.module.endswith("libc.so.6")
    assert symbols.ProcessSymbols(os.getpid()).resolve(8).name is None
    assert symbols.ProcessSymbols(999999999).resolve(getpid).name is None  # no such process
