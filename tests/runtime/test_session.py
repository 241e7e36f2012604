"""session.run on the real kernel, with hand-assembled programs (bpf_asm.py).

Each in-process run also checks teardown: no file descriptor left open (maps,
programs, perf events, ring buffer, epoll, pipes, pidfd) and no child left
unreaped.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bpf_asm
from pytrace.program import RECORD_OUTPUT_BASE
from pytrace.runtime.errors import AttachError, RuntimeFailure, VerifierError
from pytrace.runtime.session import RunOptions, run

pytestmark = pytest.mark.kernel

HERE = Path(__file__).resolve().parent
PY = sys.executable


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def no_children() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture
def clean():
    """Fails the test if the run leaked an fd or a child."""
    before = open_fds()
    yield
    leaked = open_fds() - before
    assert not leaked, f"leaked fds: {leaked}"
    assert no_children(), "a child was left unreaped"


def trace(program, command=None, verbose=False) -> tuple[int, str]:
    out = io.StringIO()
    err = io.StringIO()
    code = run(program, RunOptions(command=command, out=out, verbose=verbose, err=err))
    return code, out.getvalue()


def test_begin_printf_and_exit(clean):
    assert trace(bpf_asm.hello_program()) == (0, "Attaching 1 probe...\nhello 42\n\n\n")


def test_begin_end_and_records_after_exit_dropped(clean):
    code, out = trace(bpf_asm.begin_end_program())
    assert (code, out) == (0, "Attaching 2 probes...\nhello 42\nend bye\n\n\n")


def test_maps_printed_in_bpftrace_order(clean):
    # bpftrace 0.17 prints exactly this for
    # BEGIN { @x[1]=1; @x[2]=1; @x[3]=0; @x[-1]=7; @y=3; exit(); }
    code, out = trace(bpf_asm.int_map_program())
    assert out == "Attaching 1 probe...\n\n\n@x[3]: 0\n@x[1]: 1\n@x[2]: 1\n@x[-1]: 7\n@y: 3\n"


def test_tracepoint_counts_with_command(clean):
    n = 250
    code, out = trace(
        bpf_asm.getppid_program(),
        command=[PY, "-c", f"import os\nfor _ in range({n}): os.getppid()"],
    )
    comm = os.path.basename(PY)[:15]
    assert (code, out) == (0, f"Attaching 1 probe...\n\n\n@calls: {n}\n@comm[{comm}]: {n}\n")


def test_cpid_and_start_ns_constants(clean, tmp_path):
    pidfile = tmp_path / "pid"
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    code, out = trace(bpf_asm.consts_program(), command=["/bin/sh", "-c", f"echo $$ > {pidfile}"])
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    banner, line, *rest = out.split("\n")
    cpid, start_ns = map(int, line.split())
    assert banner == "Attaching 1 probe..." and rest == ["", "", ""]
    assert cpid == int(pidfile.read_text())
    assert before <= start_ns <= after


def test_interval_probe_and_exit(clean):
    code, out = trace(bpf_asm.tick_program())
    assert (code, out) == (0, "Attaching 1 probe...\ntick\n\n\n")


def test_command_exit_stops_the_trace(clean):
    t = time.monotonic()
    code, out = trace(bpf_asm.tick_program(100_000_000_000, exit_=False), command=["/bin/true"])
    assert (code, out) == (0, "Attaching 1 probe...\n\n\n")
    assert time.monotonic() - t < 5


def test_exit_terminates_a_running_command(clean):
    t = time.monotonic()
    code, out = trace(bpf_asm.tick_program(), command=["/bin/sleep", "30"])
    assert (code, out) == (0, "Attaching 1 probe...\ntick\n\n\n")
    assert time.monotonic() - t < 5


def test_begin_exit_never_runs_the_command(clean, tmp_path):
    marker = tmp_path / "ran"
    code, out = trace(bpf_asm.hello_program(), command=["/bin/touch", str(marker)])
    assert out == "Attaching 1 probe...\nhello 42\n\n\n"
    assert not marker.exists()


def test_verifier_error(clean):
    with pytest.raises(VerifierError) as info:
        trace(bpf_asm.bad_program())
    err = info.value
    assert str(err).startswith("stdin:3:1: the BPF verifier rejected probe BEGIN: R0 !read_ok")
    assert "R0 !read_ok" in err.detail and err.errno
    assert "\n" not in str(err)


def test_missing_tracepoint_is_an_attach_error(clean, tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(AttachError, match="no tracepoint nosuch:event"):
        trace(bpf_asm.missing_tracepoint_program(), command=["/bin/touch", str(marker)])
    assert not marker.exists()


def test_missing_command():
    with pytest.raises(RuntimeFailure, match="not an executable"):
        trace(bpf_asm.hello_program(), command=["/nonexistent/cmd"])
    with pytest.raises(RuntimeFailure, match="found in PATH"):
        trace(bpf_asm.hello_program(), command=["no-such-command-pytrace"])


def test_verbose_reports_verifier_stats():
    out, err = io.StringIO(), io.StringIO()
    run(bpf_asm.hello_program(), RunOptions(out=out, verbose=True, err=err))
    note = err.getvalue()
    assert note.startswith("BEGIN: ") and "processed " in note and note.count("\n") == 1


def test_ring_buffer_bursts_in_batches(clean):
    """More records than one batch, all printed, in order."""
    n = 3 * 4096 + 17
    a = bpf_asm.Asm()
    # A counted loop (bounded, the verifier accepts it) emitting n records.
    a.mov(bpf_asm.R6, 0)
    a.label("loop")
    a.stx(bpf_asm.FP, -8, bpf_asm.R6)
    a.st(bpf_asm.FP, -16, RECORD_OUTPUT_BASE)
    a.ld_sym(bpf_asm.R1, bpf_asm.RINGBUF_NAME)
    a.mov_reg(bpf_asm.R2, bpf_asm.FP)
    a.add(bpf_asm.R2, -16)
    a.mov(bpf_asm.R3, 16)
    a.mov(bpf_asm.R4, 0)
    a.call(bpf_asm.HELPER_RINGBUF_OUTPUT)
    a.add(bpf_asm.R6, 1)
    a.jump(0xA5, bpf_asm.R6, n, "loop")    # if r6 < n goto loop (jlt imm)
    a.output([0])
    a.ret0()
    prog = bpf_asm.hello_program()
    prog.probes[0] = bpf_asm.probe("begin", a)
    code, out = trace(prog)
    lines = out.split("\n")
    assert lines[0] == "Attaching 1 probe..."
    assert lines[1:n + 1] == [f"hello {i}" for i in range(n)]
    assert lines[n + 1:] == ["", "", ""]


# --- signals: a session in a child process


def start(name: str, *command: str) -> subprocess.Popen:
    args = [PY, str(HERE / "bpf_asm.py"), name]
    if command:
        args += ["-c", *command]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(proc: subprocess.Popen, text: str) -> list[str]:
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, f"ended before {text!r}: {lines}"
        lines.append(line)
        if line.startswith(text):
            return lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_and_prints_maps(sig):
    proc = start("idle")
    try:
        head = wait_for_line(proc, "hello 42")
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    # "\n\n", the never-fired scalar count() as bpftrace prints it, an empty map
    assert "".join(head) + rest == "Attaching 2 probes...\nhello 42\n\n\n@calls: 0\n\n"


def test_signal_during_start_up_is_not_lost():
    """A signal sent at any moment once run() has started (it prints the
    banner first) stops the trace: during loading, BEGIN, attaching, or the
    loop (bpftrace sometimes ignores one that arrives outside its epoll_wait).
    Before run(), Python's own SIGINT handling applies (and may even swallow
    a KeyboardInterrupt raised inside an import), so the test waits for the
    banner."""
    for delay in (0.0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.03):
        for sig in (signal.SIGINT, signal.SIGTERM):
            proc = start("ticks")
            try:
                wait_for_line(proc, "Attaching 1 probe...")
                time.sleep(delay)
                proc.send_signal(sig)
                out, err = proc.communicate(timeout=10)
            finally:
                proc.kill()
                proc.wait()
            assert proc.returncode == 0, (delay, sig, err)
            assert out.endswith("\n\n") and set(out.split()) <= {"tick"}, (delay, out)


def test_signal_with_command_running(tmp_path):
    proc = start("idle", "/bin/sleep", "31.4159")
    try:
        wait_for_line(proc, "hello 42")
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    # the sleep was terminated, not left behind
    left = subprocess.run(["pgrep", "-f", "sleep 31.4159"], capture_output=True, text=True)
    assert left.stdout == ""


def test_verifier_error_with_a_long_log(clean):
    """A log bigger than the first buffer: grown until it fits, and the
    reason is still the line that explains the rejection."""
    a = bpf_asm.Asm()
    a.mov(bpf_asm.R6, 0)
    a.label("loop")
    a.add(bpf_asm.R6, 1)
    a.jump(0xA5, bpf_asm.R6, 5000, "loop")   # if r6 < 5000 goto loop
    a.mov(bpf_asm.R1, 0)
    a.ldx(bpf_asm.R0, bpf_asm.R1, 0)         # read through a scalar: rejected
    a.exit()
    prog = bpf_asm.bad_program()
    prog.probes[0] = bpf_asm.probe("begin", a, line=2)
    with pytest.raises(VerifierError) as info:
        trace(prog)
    err = info.value
    assert len(err.log) > 256 * 1024
    assert str(err) == (
        "stdin:2:1: the BPF verifier rejected probe BEGIN: R1 invalid mem access 'scalar'"
    )
