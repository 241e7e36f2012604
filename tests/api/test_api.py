"""The Python API on the real kernel: pytrace.run returns the data as
Python values, pytrace.stream yields lines as they happen, and errors raise
TraceError with the CLI's diagnostic."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pytrace
from pytrace.values import Bucket, Histogram, Stats

pytestmark = pytest.mark.kernel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from test_teardown import ours, wait_until_gone  # noqa: E402

VALUES = (REPO / "tests" / "e2e" / "bpftrace017" / "values.c").read_text()

SCRIPT = r"""
tracepoint:syscalls:sys_enter_lseek /pid == cpid/
{
    $v = (int64)args->offset;
    @calls = count();
    @by_whence[args->whence] = count();
    @pair[comm, args->whence] = sum($v);
    @h = hist($v);
    @l = lhist($v, 0, 100, 50);
    @st = stats($v);
    @last = comm;
    printf("v=%d\n", $v);
}
"""


@pytest.fixture
def values(build_c):
    return build_c(VALUES, name="values")


def test_run_returns_exact_values(values):
    r = pytrace.run(SCRIPT, command=[str(values), "0:3", "0:5", "1:-2", "2:150", "0:0"])
    assert r.maps["@calls"] == 5
    assert r.maps["@by_whence"] == {0: 3, 1: 1, 2: 1}
    assert r.maps["@pair"] == {("values", 0): 8, ("values", 1): -2, ("values", 2): 150}
    assert r.maps["@st"] == Stats(5, 156) and r.maps["@st"].average == 31
    assert r.maps["@last"] == "values"
    h = r.maps["@h"]
    assert isinstance(h, Histogram) and h.total == 5
    assert h.buckets[:4] == [Bucket(None, 0, 1), Bucket(0, 1, 1), Bucket(1, 2, 0), Bucket(2, 4, 1)]
    assert h.buckets[4] == Bucket(4, 8, 1) and h.buckets[-1] == Bucket(128, 256, 1)
    assert r.maps["@l"].buckets == [Bucket(None, 0, 1), Bucket(0, 50, 3), Bucket(50, 100, 0), Bucket(100, None, 1)]
    assert r.lines == ["v=3", "v=5", "v=-2", "v=150", "v=0"]
    assert r.lost == 0 and r.dropped == {} and r.truncated == 0


def test_run_reports_what_the_kernel_could_not_keep(values):
    script = ("tracepoint:syscalls:sys_enter_lseek /pid == cpid/ { @[args->offset] = count(); }"
              " tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @f[str(args->filename, 4)] = count(); }")
    os.environ["PYTRACE_MAP_KEYS_MAX"] = "3"
    try:
        r = pytrace.run(script, command=[str(values)] + [f"0:{v}" for v in range(10)])
    finally:
        del os.environ["PYTRACE_MAP_KEYS_MAX"]
    assert len(r.maps["@"]) == 3
    assert r.dropped["@"] == 7
    assert r.truncated > 0  # the loader's opens of /etc/ld.so.cache and libc, cut to 4 bytes


def test_run_for_a_duration():
    start = time.monotonic()
    r = pytrace.run("interval:ms:100 { @ticks = count(); }", duration=0.55)
    assert 0.5 <= time.monotonic() - start < 5
    assert 4 <= r.maps["@ticks"] <= 6


def test_run_until_exit_with_empty_maps():
    r = pytrace.run('BEGIN { @never[1] = count(); delete(@never[1]); print(42); print("s"); exit(); }')
    assert r.maps == {"@never": {}}
    assert r.lines == ["42", "s"]


def test_stream_yields_lines_as_they_happen_and_detaches_on_break():
    seen = []
    start = time.monotonic()
    for line in pytrace.stream('interval:ms:200 { printf("tick\\n"); }'):
        seen.append((line, time.monotonic() - start))
        assert ours(), "the probe is attached while lines come"
        if len(seen) == 3:
            break
    assert [line for line, _ in seen] == ["tick"] * 3
    assert seen[2][1] - seen[0][1] >= 0.3  # one by one, as they fired
    assert wait_until_gone() == []


def test_stream_ends_with_the_trace(values):
    lines = list(pytrace.stream(SCRIPT, command=[str(values), "0:1", "0:2"]))
    assert lines == ["v=1", "v=2"]
    assert wait_until_gone() == []


def test_a_script_error_raises_with_the_rendered_diagnostic():
    with pytest.raises(pytrace.TraceError) as err:
        pytrace.run("BEGIN { @x = lhist(1, 0, 10); }")
    assert str(err.value) == (
        "stdin:1:14: error: lhist() takes 4 arguments, got 3\n"
        "BEGIN { @x = lhist(1, 0, 10); }\n"
        "             ^~~~~~~~~~~~~~~"
    )
    with pytest.raises(pytrace.TraceError) as err:
        list(pytrace.stream("tracepoint:nosuch:event { }"))
    assert "nosuch" in str(err.value)


def test_importing_pytrace_stays_cheap():
    code = ("import sys, pytrace\n"
            "heavy = {'lark', 'llvmlite', 'ctypes', 'pytrace.api', 'pytrace.runtime.session'} & set(sys.modules)\n"
            "assert not heavy, heavy\n"
            "assert callable(pytrace.run) and callable(pytrace.stream)\n"
            "assert pytrace.TraceError.__name__ == 'TraceError'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr


CHAIN = r"""
#include <unistd.h>
__attribute__((noinline)) void leaf(int i) { (void)i; }
__attribute__((noinline)) void middle(int i) { leaf(i); }
int main(void) { for (int i = 0; i < 3; i++) middle(i); usleep(100000); return 0; }
"""


def test_stacks_are_values_and_positional_parameters_are_given(tmp_path):
    from pytrace.values import Stack

    src, exe = tmp_path / "chain.c", tmp_path / "chain"
    src.write_text(CHAIN)
    subprocess.run(["gcc", "-O0", "-fno-omit-frame-pointer", "-o", str(exe), str(src)], check=True)
    result = pytrace.run("uprobe:$1:leaf { @[ustack] = count(); @arg = sum(arg0 + $2); }",
                         command=[str(exe)], args=[exe, 10])
    ((stack, count),) = result.maps["@"].items()
    assert isinstance(stack, Stack) and count == 3 and stack.kind == "ustack"
    assert [f.name for f in stack.frames[:3]] == ["leaf", "middle", "main"]
    assert stack.frames[0].offset == 0 and stack.frames[0].module == str(exe)
    assert result.maps["@arg"] == 0 + 1 + 2 + 30
