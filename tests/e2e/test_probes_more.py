"""Watchpoints, syscall tracepoints in bulk (run through one raw_syscalls
program), -l/-lv, and positional parameters, end to end."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

RECORDED = Path(__file__).parent / "bpftrace017"

WATCHED = r"""
#include <unistd.h>
long counter;
long other;
int main(void) { for (int i = 0; i < 13; i++) { counter++; other++; usleep(1000); } return 0; }
"""


def test_a_watchpoint_in_every_process(run_pytrace, build_c):
    """Without -p or -c a watchpoint is set on every CPU, as bpftrace sets it."""
    prog = build_c(WATCHED.replace("13", "3000"), name="watched", flags=("-no-pie",))  # runs past the compile
    nm = subprocess.run(["nm", str(prog)], capture_output=True, text=True, check=True).stdout
    counter = int(re.search(r"^([0-9a-f]+) B counter$", nm, re.M).group(1), 16)
    proc = subprocess.Popen([str(prog)])
    try:
        result = run_pytrace(["-e", f'watchpoint:{counter:#x}:8:w /comm == "watched"/ {{ @ = count(); }}'
                                    " interval:ms:200 { exit(); }"], timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert result.rc == 0, result.stderr
    assert int(re.search(r"^@: (\d+)$", result.stdout, re.M).group(1)) >= 20


def test_a_watchpoint_fires_on_writes_to_a_variable(run_pytrace, build_c):
    prog = build_c(WATCHED, name="watched", flags=("-no-pie",))
    nm = subprocess.run(["nm", str(prog)], capture_output=True, text=True, check=True).stdout
    counter = int(re.search(r"^([0-9a-f]+) B counter$", nm, re.M).group(1), 16)
    other = int(re.search(r"^([0-9a-f]+) B other$", nm, re.M).group(1), 16)
    script = (f"watchpoint:{counter:#x}:8:w {{ @[probe] = count(); }}"
              f" w:{other:#x}:8:rw /comm == \"watched\"/ {{ @other = count(); }}")
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    writes = int(re.search(rf"^@\[watchpoint:{counter}:8:w\]: (\d+)$", result.stdout, re.M).group(1))
    assert 13 <= writes <= 40  # the 13 increments; the loader may clear .bss too (bpftrace counts the same)
    assert int(re.search(r"^@other: (\d+)$", result.stdout, re.M).group(1)) >= 26  # read and written


@pytest.mark.parametrize("text, message", [
    ("watchpoint:0x1000:8:r { }", "stdin:1:1: error: invalid watchpoint mode 'r': x86 breakpoints cannot watch"
                                  " reads alone\nwatchpoint:0x1000:8:r { }\n^~~~~~~~~~~~~~~~~~~~~\n"
                                  "hint: watch reads and writes: rw\n"),
    ("watchpoint:0x1000:3:w { }", "stdin:1:1: error: invalid watchpoint length 3: it must be 1, 2, 4 or 8 bytes\n"
                                  "watchpoint:0x1000:3:w { }\n^~~~~~~~~~~~~~~~~~~~~\n"),
    ("watchpoint:0x1000:8:q { }", "stdin:1:1: error: invalid watchpoint mode 'q': it must be r, w, rw or x\n"
                                  "watchpoint:0x1000:8:q { }\n^~~~~~~~~~~~~~~~~~~~~\n"),
    ("watchpoint:0x1000 { }", "stdin:1:1: error: invalid watchpoint 'watchpoint:0x1000': expected"
                              " watchpoint:ADDRESS:LENGTH:MODE\nwatchpoint:0x1000 { }\n^~~~~~~~~~~~~~~~~\n"
                              "hint: for example watchpoint:0x404028:8:w (MODE r, w, rw or x)\n"),
])
def test_watchpoint_mistakes(text, message, rejected):
    assert rejected(text) == message


SYSCALLS = r"""
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 200; i++) syscall(SYS_getpid);
    for (int i = 0; i < 300; i++) syscall(SYS_getppid);
    for (int i = 0; i < 50; i++) getpriority(PRIO_PROCESS, 0);
    char path[32] = "/nonexistent/x";  /* on the stack: in memory when sys_enter reads it */
    for (int i = 0; i < 7; i++) close(openat(AT_FDCWD, path, O_RDONLY));
    return 0;
}
"""


def test_every_syscall_tracepoint_at_once(run_pytrace, build_c):
    """The 360-odd syscalls tracepoints go through one program per
    direction; `probe`, args and the counts are those of the tracepoints."""
    prog = build_c(SYSCALLS, name="sysmix")
    script = ("tracepoint:syscalls:sys_enter_* /pid == cpid/ { @[probe] = count(); }"
              " tracepoint:syscalls:sys_exit_* /pid == cpid/ { @ret[probe, args->ret] = count(); }"
              " tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @open[str(args->filename)] = count(); }")
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=60)
    assert result.rc == 0, result.stderr
    count = int(re.match(r"Attaching (\d+) probes", result.stdout).group(1))
    assert count > 700
    out = result.stdout
    assert "@[tracepoint:syscalls:sys_enter_getpid]: 200\n" in out
    assert "@[tracepoint:syscalls:sys_enter_getppid]: 300\n" in out
    assert "@[tracepoint:syscalls:sys_enter_getpriority]: 50\n" in out
    assert "@open[/nonexistent/x]: 7\n" in out
    assert "@ret[tracepoint:syscalls:sys_exit_openat, -2]: 7\n" in out
    assert "@ret[tracepoint:syscalls:sys_exit_close, -9]: 7\n" in out


def test_listing_tracepoints_as_bpftrace(run_pytrace):
    for pattern, name in (("tracepoint:sched:sched_sw*", "list_sched_sw.txt"),
                          ("t:sched:sched_sw*", "list_sched_sw.txt"),
                          ("tracepoint:*:sched_switch", "list_any_sched_switch.txt")):
        result = run_pytrace(["-l", pattern], timeout=30)
        assert result.rc == 0 and result.stdout == (RECORDED / name).read_text(), pattern
    for pattern, name in (("tracepoint:sched:sched_switch", "listv_sched_switch.txt"),
                          ("tracepoint:syscalls:sys_enter_openat", "listv_sys_enter_openat.txt"),
                          ("tracepoint:sched:sched_process_exec", "listv_sched_process_exec.txt")):
        result = run_pytrace(["-lv", pattern], timeout=30)
        assert result.rc == 0 and result.stdout == (RECORDED / name).read_text(), pattern
    result = run_pytrace(["-lv", "rawtracepoint:sched_switch"], timeout=30)
    assert result.stdout == ("rawtracepoint:sched_switch\n    bool preempt\n    struct task_struct * prev\n"
                             "    struct task_struct * next\n    unsigned int prev_state\n")
    result = run_pytrace(["-lv", "fentry:vfs_read"], timeout=30)
    assert result.stdout == ("fentry:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n"
                             "    loff_t * pos\n")
    everything = run_pytrace(["-l"], timeout=60).stdout.splitlines()
    assert everything == sorted(everything) and "tracepoint:sched:sched_switch" in everything
    assert "software:cpu-clock:" in everything and "rawtracepoint:sched_switch" in everything


def test_listing_a_programs_probes(run_pytrace, tmp_path):
    script = tmp_path / "probes.bt"
    script.write_text("tracepoint:sched:sched_sw* { }\nBEGIN { }\ni:ms:$1 { }\n")
    result = run_pytrace(["-l", str(script), "100"], timeout=30)
    assert result.stdout == ("tracepoint:sched:sched_swap_numa\ntracepoint:sched:sched_switch\nBEGIN\n"
                             "interval:ms:100\n")
    result = run_pytrace(["-l", "-e", "software:faults { } rt:sched_switch { }"], timeout=30)
    assert result.stdout == "software:faults\nrawtracepoint:sched_switch\n"


def test_listing_a_binary(run_pytrace, build_c):
    prog = build_c("void handle_a(void) {}\nvoid handle_b(void) {}\nint main(void) { return 0; }", name="two")
    result = run_pytrace(["-l", f"uprobe:{prog}:handle_*"], timeout=30)
    assert result.stdout == f"uprobe:{prog}:handle_a\nuprobe:{prog}:handle_b\n"
    result = run_pytrace(["-l", f"*:{prog}:handle_*"], timeout=30)  # every kind that lists a binary
    assert result.stdout == f"uprobe:{prog}:handle_a\nuprobe:{prog}:handle_b\n"
    result = run_pytrace(["-l", "uprobe:*"], timeout=30)
    assert result.rc == 1 and result.stderr == (
        "error: listing uprobe probes needs a binary: pytrace -l 'uprobe:/path/to/binary:*'"
        " (or a process: pytrace -p PID -l 'uprobe:*')\n")


def test_positional_parameters(run_pytrace):
    result = run_pytrace(["-e", 'BEGIN { printf("%d + %d = %d, %s %s|%s| %d\\n", $1, $2, $1 + $2, str($3),'
                                ' str($3 + 2), str($4), $#); exit(); }', "40", "0x2", "demo"], timeout=20)
    assert result.rc == 0 and result.stdout.splitlines()[1] == "40 + 2 = 42, demo mo|| 3"
    result = run_pytrace(["-e", "interval:ms:$1 { @ = count(); exit(); }", "--", "20"], timeout=20)
    assert result.rc == 0 and "@: 1" in result.stdout
    result = run_pytrace(["-e", 'BEGIN { printf("%s %s\\n", str($1, 3), ksym(kaddr(str($2))));'
                                ' @ = lhist(7, 0, $3, 5); exit(); }', "hello", "vfs_read", "10"], timeout=20)
    assert result.rc == 0 and result.stdout.splitlines()[1] == "hel vfs_read"
    assert "[5, 10)                1 |" in result.stdout
    result = run_pytrace(["-e", 'BEGIN { @ = $1 + 1; }', "word"], timeout=20)
    assert result.rc == 1 and result.stderr == (
        'stdin:1:13: error: $1 used numerically but given "word"\n'
        "BEGIN { @ = $1 + 1; }\n"
        "            ^~\n"
        "hint: read it as a string with str($1)\n")


THREADS = r"""
#include <pthread.h>
#include <unistd.h>
long counter;
void *worker(void *arg) { for (int i = 0; i < 10; i++) { __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST); usleep(1000); } return 0; }
int main(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], 0, worker, 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
    return 0;
}
"""


def test_a_watchpoint_sees_threads_started_later(run_pytrace, build_c):
    prog = build_c(THREADS, name="threads", flags=("-no-pie",))
    nm = subprocess.run(["nm", str(prog)], capture_output=True, text=True, check=True).stdout
    counter = int(re.search(r"^([0-9a-f]+) B counter$", nm, re.M).group(1), 16)
    result = run_pytrace(["-c", str(prog), "-e", f"watchpoint:{counter:#x}:8:w /tid != pid/ {{ @[tid] = count(); }}"],
                         timeout=30)
    assert result.rc == 0, result.stderr
    assert [int(n) for n in re.findall(r"^@\[\d+\]: (\d+)$", result.stdout, re.M)] == [10, 10, 10]
