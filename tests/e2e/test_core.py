"""The core, end to end: real programs loaded into the running kernel,
triggered by real workloads, checked by what pytrace printed."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.kernel

SLEEPER = r"""
#include <unistd.h>
int main(void) { for (int i = 0; i < 4000; i++) usleep(1000); return 0; }
"""

GETPPID_1000 = r"""
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { for (int i = 0; i < 1000; i++) syscall(SYS_getppid); return 0; }
"""

WRITES = r"""
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    static char buf[64];
    int fd = open("/dev/null", O_WRONLY);
    int sizes[] = {10, 20, 30, 40, 20};
    for (int i = 0; i < 5; i++)
        write(fd, buf, sizes[i]);
    return 0;
}
"""


def map_lines(stdout: str, name: str) -> list[tuple[str, int]]:
    """(key, value) of every `@name[key]: value` line."""
    found = []
    for line in stdout.splitlines():
        m = re.fullmatch(re.escape(name) + r"\[(.*)\]: (-?\d+)", line)
        if m:
            found.append((m.group(1), int(m.group(2))))
    return found


@pytest.mark.parametrize("body", ["{ @[comm] = count(); }", "< @[comm] = count(); >"], ids=["braces", "angles"])
def test_headline_one_liner_counts_context_switches(body, build_c, run_pytrace):
    sleeper = build_c(SLEEPER, name="ptsleeper")
    workload = subprocess.Popen([str(sleeper)])
    try:
        result = run_pytrace(["-e", f"tracepoint:sched:sched_switch {body}"], timeout=30, sigint_after=2.5)
    finally:
        workload.kill()
        workload.wait()
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Attaching 1 probe..."
    counts = map_lines(result.stdout, "@")
    assert dict(counts).get("ptsleeper", 0) >= 100, result.stdout
    values = [v for _, v in counts]
    assert values == sorted(values), "bpftrace prints a count map sorted by value"
    assert "Traceback" not in result.stderr


def test_predicate_on_comm_counts_exactly(build_c, run_pytrace):
    prog = build_c(GETPPID_1000, name="ppid1000")
    script = 'tracepoint:syscalls:sys_enter_getppid /comm == "ppid1000"/ { @calls = count(); }'
    rc, out, err = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert rc == 0, err
    assert "@calls: 1000" in out.splitlines()


def test_begin_printf_and_exit(run_pytrace):
    rc, out, err = run_pytrace(["-e", 'BEGIN { printf("hello %d %s\\n", 42, "world"); exit(); }'], timeout=20)
    assert rc == 0, err
    assert out.splitlines()[:2] == ["Attaching 1 probe...", "hello 42 world"]


def test_interval_exits_by_itself_after_five_ticks(run_pytrace):
    script = "interval:ms:100 { @ticks = count(); if (@ticks == 5) { exit(); } }"
    started = time.monotonic()
    rc, out, err = run_pytrace(["-e", script], timeout=20)
    elapsed = time.monotonic() - started
    assert rc == 0, err
    assert "@ticks: 5" in out.splitlines()
    assert elapsed < 10


def test_aggregations_over_known_write_sizes(build_c, run_pytrace):
    prog = build_c(WRITES, name="ptwrites")
    script = """
    tracepoint:syscalls:sys_enter_write /pid == cpid/
    {
        @count = count();
        @sum = sum(args->count);
        @avg = avg(args->count);
        @min = min(args->count);
        @max = max(args->count);
        @by_size[args->count] = count();
    }
    """
    rc, out, err = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert rc == 0, err
    lines = out.splitlines()
    for expected in ("@count: 5", "@sum: 120", "@avg: 24", "@min: 10", "@max: 40"):
        assert expected in lines
    assert dict(map_lines(out, "@by_size")) == {"10": 1, "20": 2, "30": 1, "40": 1}
    values = [v for _, v in map_lines(out, "@by_size")]
    assert values == sorted(values)


def test_syntax_error_points_at_line_and_column(run_pytrace):
    rc, out, err = run_pytrace(["-e", "BEGIN { @x = count(; }"], timeout=20)
    assert rc != 0
    lines = err.splitlines()
    assert lines[0].startswith("stdin:1:20: error:"), err
    assert lines[1] == "BEGIN { @x = count(; }"
    assert lines[2] == " " * 19 + "^"
    assert "Traceback" not in err


def test_map_type_error_points_at_the_conflicting_use(run_pytrace, tmp_path):
    script = tmp_path / "bad.pt"
    script.write_text('BEGIN\n{\n    @sizes[1] = 10;\n    @sizes["big"] = 20;\n}\n')
    rc, out, err = run_pytrace([str(script)], timeout=20)
    assert rc != 0
    lines = err.splitlines()
    assert lines[0].startswith(f"{script}:4:5: error: @sizes"), err
    assert lines[1] == '    @sizes["big"] = 20;'
    assert lines[2].startswith("    ^")
    assert "@sizes[" not in out


def test_script_file_with_shebang_and_stdin(run_pytrace, tmp_path):
    script = tmp_path / "hello.pt"
    script.write_text('#!/usr/bin/env pytrace\nBEGIN { printf("from file\\n"); exit(); }\n')
    rc, out, err = run_pytrace([str(script)], timeout=20)
    assert rc == 0, err
    assert "from file" in out.splitlines()
    rc, out, err = run_pytrace(["-"], timeout=20, input='BEGIN { printf("from stdin\\n"); exit(); }')
    assert rc == 0, err
    assert "from stdin" in out.splitlines()


def test_sigterm_prints_maps_and_runs_end(pytrace_cmd):
    script = 'interval:ms:10 { @n = count(); } END { printf("bye\\n"); }'
    proc = subprocess.Popen(
        [*pytrace_cmd, "-e", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert "bye" in lines
    n_line = next(i for i, line in enumerate(lines) if line.startswith("@n: "))
    assert re.fullmatch(r"@n: [1-9]\d*", lines[n_line])
    assert lines.index("bye") < n_line


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.08, 0.2])
def test_sigint_at_any_moment_of_start_up_stops_cleanly(pytrace_cmd, delay):
    """Ctrl-C during imports, compiling, loading or the loop: a clean exit,
    no traceback, nothing left behind."""
    proc = subprocess.Popen(
        [*pytrace_cmd, "--no-cache", "-e", "tracepoint:sched:sched_switch { @[comm] = count(); }"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    # -SIGINT: killed before Python installed any handler, like any program.
    assert proc.returncode in (0, 130, -signal.SIGINT), err
    assert "Traceback" not in err and "Exception ignored" not in err


FLOOD = r"""
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { for (int i = 0; i < 200000; i++) syscall(SYS_getppid); return 0; }
"""


def test_no_record_is_lost_silently(build_c, run_pytrace):
    """Whatever the ring buffer cannot hold is counted and reported: the
    printed lines plus the lost ones are exactly the events that fired."""
    prog = build_c(FLOOD, name="ptflood")
    script = 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("e %d\\n", pid); @n = count(); }'
    rc, out, err = run_pytrace(["-c", str(prog), "-e", script], timeout=60)
    assert rc == 0, err
    lines = out.splitlines()
    printed = sum(1 for line in lines if line.startswith("e "))
    lost = sum(int(m.group(1)) for line in lines if (m := re.fullmatch(r"Lost (\d+) events", line)))
    assert "@n: 200000" in lines
    assert printed + lost == 200000


def test_data_loc_string_field(run_pytrace):
    """`__data_loc char[]` fields (sched_process_exec's filename) are strings
    at a variable place in the record."""
    script = 'tracepoint:sched:sched_process_exec /pid == cpid/ { printf("exec %s|%s\\n", str(args->filename), args.filename); }'
    rc, out, err = run_pytrace(["-c", "/bin/true", "-e", script], timeout=20)
    assert rc == 0, err
    assert "exec /bin/true|/bin/true" in out.splitlines()


def test_tracefs_is_mounted_when_missing(pytrace_cmd):
    """In a private mount namespace without tracefs, pytrace mounts it."""
    import shlex
    import shutil

    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    trace = shlex.join([*pytrace_cmd, "-c", "/bin/true", "-e",
                        'tracepoint:sched:sched_process_exec /pid == cpid/ { printf("exec seen\\n"); }'])
    script = (
        "umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; "
        "test ! -e /sys/kernel/tracing/events || { echo 'still mounted'; exit 3; }; "
        f"{trace} && test -e /sys/kernel/tracing/events && echo mounted-again"
    )
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exec seen" in proc.stdout.splitlines()
    assert proc.stdout.splitlines()[-1] == "mounted-again"


def test_unknown_tracepoint_names_itself(run_pytrace):
    rc, out, err = run_pytrace(["-e", "tracepoint:syscalls:sys_enter_nosuchcall { @[comm] = count(); }"], timeout=20)
    assert rc == 1
    assert err.splitlines() == [
        "stdin:1:1: error: tracepoint not found: syscalls:sys_enter_nosuchcall",
        "tracepoint:syscalls:sys_enter_nosuchcall { @[comm] = count(); }",
        "^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
        "hint: list the available ones with: pytrace -l 'tracepoint:syscalls:*'",
    ]


IDENTITY = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("self %d %ld %d %d\n", getpid(), (long)syscall(SYS_gettid), getuid(), getgid());
    syscall(SYS_getppid);
    return 0;
}
"""


def test_builtins_agree_with_the_traced_process(build_c, run_pytrace):
    prog = build_c(IDENTITY, name="ptident")
    script = r"""
    tracepoint:syscalls:sys_enter_getppid /pid == cpid/
    {
        printf("bpf %d %d %d %d\n", pid, tid, uid, gid);
        printf("comm %s cpu_ok %d elapsed_ok %d nsecs_ok %d\n", comm, cpu < 4096, elapsed > 0, nsecs > elapsed);
        @r = rand;
    }
    """
    rc, out, err = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert rc == 0, err
    lines = out.splitlines()
    self_ids = next(line for line in lines if line.startswith("self ")).split()[1:]
    bpf_ids = next(line for line in lines if line.startswith("bpf ")).split()[1:]
    assert bpf_ids == self_ids
    assert "comm ptident cpu_ok 1 elapsed_ok 1 nsecs_ok 1" in lines
    assert any(re.fullmatch(r"@r: \d+", line) for line in lines)


DELETES = r"""
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { for (int i = 0; i < 6; i++) syscall(SYS_getppid); return 0; }
"""


def test_delete_and_multi_key_maps(build_c, run_pytrace):
    prog = build_c(DELETES, name="ptdel")
    script = """
    tracepoint:syscalls:sys_enter_getppid /pid == cpid/
    {
        @n++;
        @live[@n, "s"] = @n * 100;
        if (@n % 2 == 0) { delete(@live[@n, "s"]); }
        @last[comm] = @n;
    }
    """
    rc, out, err = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert rc == 0, err
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("@live")] == ["@live[1, s]: 100", "@live[3, s]: 300", "@live[5, s]: 500"]
    assert "@last[ptdel]: 6" in lines and "@n: 6" in lines


def test_wildcard_probes_share_one_program(build_c, run_pytrace):
    prog = build_c(GETPPID_1000, name="ptwild")
    script = "tracepoint:syscalls:sys_enter_getp* /pid == cpid/ { @[comm] = count(); @ids[args->__syscall_nr] = count(); }"
    rc, out, err = run_pytrace(["-c", str(prog), "-e", script], timeout=60)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Attaching ") and int(lines[0].split()[1]) >= 3
    assert "@[ptwild]: 1000" in lines
    assert "@ids[110]: 1000" in lines  # x86-64 getppid
