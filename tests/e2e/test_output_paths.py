"""Where output goes: -o FILE, -q, -B, output through a pipe while tracing,
and the probes-attached notice bpftrace's test engine waits for."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.kernel

SCRIPT = r"""
BEGIN { printf("begin\n"); }
tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @calls = count(); @h = hist(5); }
END { printf("end\n"); }
"""

GETPPID_200 = r"""
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { for (int i = 0; i < 200; i++) syscall(SYS_getppid); return 0; }
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_file_holds_what_stdout_would(fmt, run_pytrace, build_c, tmp_path):
    prog = build_c(GETPPID_200, name="getppid200")
    plain = run_pytrace(["-f", fmt, "-c", str(prog), "-e", SCRIPT], timeout=30)
    assert plain.rc == 0, plain.stderr
    path = tmp_path / "trace.out"
    to_file = run_pytrace(["-f", fmt, "-o", str(path), "-c", str(prog), "-e", SCRIPT], timeout=30)
    assert to_file.rc == 0, to_file.stderr
    # As in 0.17, the two newlines before the exit dump stay on the terminal.
    assert to_file.stdout == "\n\n"
    # The file is stdout's text but for those two.
    assert "\n\n\n" in plain.stdout
    assert path.read_text() == plain.stdout.replace("\n\n\n", "\n", 1)


def test_quiet_drops_only_the_banner(run_pytrace):
    loud = run_pytrace(["-e", 'BEGIN { printf("hi\\n"); exit(); }'], timeout=20)
    quiet = run_pytrace(["-qe", 'BEGIN { printf("hi\\n"); exit(); }'], timeout=20)
    assert loud.stdout == "Attaching 1 probe...\nhi\n\n\n"
    assert quiet.stdout == "hi\n\n\n"
    quiet_json = run_pytrace(["-q", "-f", "json", "-e", 'BEGIN { printf("hi\\n"); exit(); }'], timeout=20)
    assert [json.loads(x) for x in quiet_json.stdout.split("\n") if x] == [{"type": "printf", "data": "hi\n"}]


def test_bad_output_options_are_errors(run_pytrace, tmp_path):
    result = run_pytrace(["-o", str(tmp_path / "no" / "such" / "dir"), "-e", "BEGIN { exit(); }"], timeout=20)
    assert result.rc == 1
    assert result.stderr == f"error: cannot open output file '{tmp_path}/no/such/dir': No such file or directory\n"
    result = run_pytrace(["-f", "xml", "-e", "BEGIN { exit(); }"], timeout=20)
    assert result.rc == 1 and result.stderr == 'error: invalid output format "xml": -f takes text, json or folded\n'


def _start(pytrace_cmd, args, **kw):
    return subprocess.Popen([*pytrace_cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, **kw)


def _read_line(proc, timeout: float) -> bytes:
    """The next line of proc's stdout, or b"" when none came in time."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else b""


@pytest.mark.parametrize("flags", [[], ["-f", "json"], ["-B", "line"], ["-o", "/dev/stdout"]],
                         ids=["text", "json", "B-line", "o-file"])
def test_lines_arrive_through_a_pipe_while_tracing(flags, pytrace_cmd):
    """Each interval's line can be read before the next interval fires, while
    pytrace is still running: nothing waits in a buffer for the exit."""
    proc = _start(pytrace_cmd, [*flags, "-e", 'interval:ms:200 { printf("tick\\n"); }'])
    try:
        _read_line(proc, 10)  # the banner
        stamps = []
        for _ in range(3):
            line = _read_line(proc, 5)
            assert b"tick" in line, line
            stamps.append(time.monotonic())
        assert proc.poll() is None
        assert stamps[-1] - stamps[0] >= 0.25  # they came one by one, not in a burst at exit
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=20)


def test_full_buffering_holds_lines_until_exit(pytrace_cmd):
    proc = _start(pytrace_cmd, ["-q", "-B", "full", "-e", 'interval:ms:100 { printf("tick\\n"); }'])
    try:
        assert _read_line(proc, 1.0) == b""  # a few ticks are in the buffer, not in the pipe
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert out.count(b"tick\n") >= 5


def test_probes_attached_notice_for_bpftraces_test_engine(run_pytrace):
    result = run_pytrace(["-e", "tracepoint:syscalls:sys_enter_getppid { @ = count(); } interval:ms:100 { exit(); }"],
                         timeout=20, env={"__BPFTRACE_NOTIFY_PROBES_ATTACHED": "1"})
    assert result.rc == 0, result.stderr
    assert result.stderr == "__BPFTRACE_NOTIFY_PROBES_ATTACHED\n"
    plain = run_pytrace(["-e", "interval:ms:100 { exit(); }"], timeout=20)
    assert plain.stderr == ""


def test_upstream_style_output(run_pytrace):
    prog = 'BEGIN { @h = hist(3); @a = avg(4); @l = lhist(1030, 0, 4096, 1024); exit(); }'
    result = run_pytrace(["--output-style", "upstream", "-e", prog], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stderr == "Attached 1 probe\n"
    assert result.stdout == (
        "\n\n"
        "@a: 4\n"
        "@h:\n"
        "[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "\n"
        "@l:\n"
        "[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "\n"
    )


def test_an_output_file_fills_while_tracing(pytrace_cmd, tmp_path):
    path = tmp_path / "live.txt"
    proc = _start(pytrace_cmd, ["-o", str(path), "-e", 'interval:ms:100 { printf("tick\\n"); }'])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not path.exists() or path.read_text().count("tick") < 3):
            time.sleep(0.05)
        assert proc.poll() is None
        assert path.read_text().startswith("Attaching 1 probe...\ntick\ntick\ntick\n")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=20)


def test_time_and_strftime(run_pytrace):
    prog = ('BEGIN { time("%Y-%m-%d %H:%M:%S\\n"); printf("%s|\\n", strftime("%Y-%m-%d %H:%M:%S", nsecs)); '
            'print(strftime("%H:%M:%S.%f", nsecs)); exit(); }')
    before = time.time()
    result = run_pytrace(["-e", prog], timeout=20)
    after = time.time()
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    stamps = [time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S")) for text in (lines[1], lines[2].rstrip("|"))]
    for stamp in stamps:
        assert before - 1 <= stamp <= after + 1, result.stdout
    assert lines[2].endswith("|")
    clock, micros = lines[3].split(".")
    assert len(micros) == 6 and micros.isdigit() and len(clock) == 8


def test_json_records_of_an_interval_trace(run_pytrace):
    prog = ('interval:ms:100 { @n = count(); time("%H\\n"); print(@n); print(7); if (@n >= 2) { exit(); } }')
    result = run_pytrace(["-f", "json", "-e", prog], timeout=20)
    assert result.rc == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line]
    kinds = [r["type"] for r in records]
    assert kinds == ["attached_probes", "time", "map", "value", "time", "map", "value", "map"]
    assert records[0] == {"type": "attached_probes", "data": {"probes": 1}}
    assert records[2] == {"type": "map", "data": {"@n": 1}} and records[5] == {"type": "map", "data": {"@n": 2}}
    assert records[3] == {"type": "value", "data": 7}
    hour = int(records[1]["data"])
    assert records[1]["data"] == f"{hour:02d}\n" and abs(hour - time.localtime().tm_hour) in (0, 1, 23)


def test_begin_output_follows_the_probes_attached_notice(pytrace_cmd):
    """bpftrace prints BEGIN's output from its event loop, after the notice;
    its test engine reads both streams as one and wants the notice alone on a line."""
    proc = subprocess.run([*pytrace_cmd, "-e", 'BEGIN { printf("no newline"); } interval:ms:100 { exit(); }'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20,
                          env={**os.environ, "__BPFTRACE_NOTIFY_PROBES_ATTACHED": "1"})
    assert proc.stdout.decode().splitlines()[:3] == [
        "Attaching 2 probes...", "__BPFTRACE_NOTIFY_PROBES_ATTACHED", "no newline"]


def test_a_variable_may_hold_a_strftime_value(run_pytrace):
    result = run_pytrace(["-e", 'BEGIN { $t = strftime("%Y", nsecs); printf("%s\\n", $t); print($t); exit(); }'],
                         timeout=20)
    assert result.rc == 0, result.stderr
    year = time.strftime("%Y")
    assert result.stdout == f"Attaching 1 probe...\n{year}\n{year}\n\n\n"


def test_begin_output_is_flushed_before_any_event(pytrace_cmd):
    """The usual "Tracing... Hit Ctrl-C to end." comes out at once, although no
    other record follows it for a while."""
    proc = _start(pytrace_cmd, ["-e", 'BEGIN { printf("Tracing... Hit Ctrl-C to end.\\n"); }'
                                      " tracepoint:syscalls:sys_enter_getppid /pid == 1/ { @ = count(); }"])
    try:
        assert _read_line(proc, 10) == b"Attaching 2 probes...\n"
        assert _read_line(proc, 5) == b"Tracing... Hit Ctrl-C to end.\n"
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=20)


@pytest.mark.parametrize("args, message", [
    (["-c", 'sh -c "echo hi', "-e", "BEGIN { exit(); }"],
     "error: cannot read the -c command 'sh -c \"echo hi': No closing quotation.\n"),
    (["-c", " ", "-e", "BEGIN { exit(); }"], "error: the -c command is empty.\n"),
    (["-p", "1", "-c", "true", "-e", "BEGIN { exit(); }"],
     "error: -p and -c cannot be used together: trace a running process (-p) or start one (-c)\n"),
    (["-p", "999999999", "-e", "BEGIN { exit(); }"],
     "error: cannot trace process 999999999 (-p): there is no such process\n"),
])
def test_command_line_mistakes_are_one_sentence(args, message, run_pytrace):
    result = run_pytrace(args, timeout=20)
    assert result.rc == 1 and result.stderr == message
