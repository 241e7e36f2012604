"""Real-world scripts, end to end: bpftrace's own tools, as Debian's
bpftrace 0.17 ships them (tests/corpus/NAME.bt) and as bpftrace's current
release has them (NAME.upstream.bt), plus tools rewritten for this kernel's
tracepoints where the originals need kprobes (tcplife, biolatency), and
one-liners from bpftrace's tutorial. Each runs against a workload that
makes its events happen, and what it prints is checked line by line.

The scripts are copied unchanged (their copyright headers included) unless
their header says otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass
class Case:
    """`script`: a file under tests/corpus, or a program text; `command`:
    the workload (-c) and the trace's lifetime; `expect`: regexes that must
    each match a line of stdout, in order; `stdin`: what the workload reads."""

    name: str
    script: str
    command: str
    expect: list[str]
    args: list[str] = field(default_factory=list)
    stdin: str | None = None
    programs: dict[str, str] = field(default_factory=dict)  # C sources the command runs, built first
    timeout: float = 30


FORKS = r"""
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 20; i++) {
        if (fork() == 0)
            _exit(0);
        wait(0);
    }
    usleep(1500000);
    return 0;
}
"""

SETUID = r"""
#include <unistd.h>
#include <sys/fsuid.h>
int main(void)
{
    setresuid(-1, 0, -1);
    setuid(0);
    setfsuid(0);
    return 0;
}
"""

THREADS = r"""
#include <pthread.h>
#include <unistd.h>
static void *work(void *arg) { (void)arg; return 0; }
int main(void)
{
    pthread_t t;
    for (int i = 0; i < 3; i++) {
        pthread_create(&t, 0, work, 0);
        pthread_join(t, 0);
    }
    usleep(300000);  /* alive while its addresses are named */
    return 0;
}
"""

RESOLVE = r"""
#include <netdb.h>
#include <stdio.h>
int main(void)
{
    struct addrinfo *res;
    if (getaddrinfo("localhost", 0, 0, &res) == 0)
        freeaddrinfo(res);
    gethostbyname("localhost");
    return 0;
}
"""

SLEEPER = r"""
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(void)
{
    struct timespec t = { 0, 123000000 };
    syscall(SYS_nanosleep, &t, 0);  /* glibc's nanosleep() calls clock_nanosleep */
    return 0;
}
"""

TCP = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
    int server = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(47123) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(server, (struct sockaddr *)&addr, sizeof(addr));
    listen(server, 1);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    connect(client, (struct sockaddr *)&addr, sizeof(addr));
    int conn = accept(server, 0, 0);
    char buf[4096];
    memset(buf, 'x', sizeof(buf));
    write(client, buf, sizeof(buf));
    read(conn, buf, sizeof(buf));
    close(client);
    close(conn);
    close(server);
    usleep(100000);
    return 0;
}
"""

DISKIO = "dd if=/dev/zero of={tmp}/corpus.io bs=64k count=32 oflag=direct status=none"

CASES = [
    Case("execsnoop", "execsnoop.bt", "/bin/sh -c '/bin/echo corpus-marker one two'",
         [r"^TIME\(ms\)\s+PID\s+ARGS$", r"^\d+\s+\d+\s+/bin/echo corpus-marker one two$"]),
    Case("execsnoop-upstream", "execsnoop.upstream.bt", "/bin/sh -c '/bin/echo corpus-marker one two'",
         [r"^TIME\s+PID\s+PPID\s+ARGS$", r"^\d\d:\d\d:\d\d\.\d{6} \d+\s+\d+\s+/bin/echo corpus-marker one two$"]),
    Case("opensnoop", "opensnoop.bt", "/bin/cat /etc/hostname",
         [r"^PID\s+COMM\s+FD\s+ERR\s+PATH$", r"^\d+\s+cat\s+\d+\s+0 /etc/hostname$"]),
    Case("opensnoop-upstream", "opensnoop.upstream.bt", "/bin/cat /etc/hostname",
         [r"^PID\s+COMM\s+FD\s+ERR\s+PATH$", r"^\d+\s+cat\s+\d+\s+0 /etc/hostname$"]),
    Case("statsnoop", "statsnoop.bt", "/usr/bin/stat /etc/hostname /nonexistent-corpus",
         [r"^PID\s+COMM\s+ERR\s+PATH$", r"^\d+\s+stat\s+0 /etc/hostname$", r"^\d+\s+stat\s+2 /nonexistent-corpus$"]),
    Case("syscount", "syscount.bt", "/bin/true",
         [r"^Counting syscalls", r"^Top 10 syscalls IDs:$", r"^@syscall\[\d+\]: \d+$", r"^Top 10 processes:$",
          r"^@process\[true\]: \d+$"]),
    Case("syscount-upstream", "syscount.upstream.bt", "/bin/true",
         [r"^Counting syscalls", r"^Top 10 syscalls IDs:$", r"^@syscall\[\d+\]: \d+$", r"^Top 10 processes:$",
          r"^@process\[true\]: \d+$"]),
    Case("runqlat", "runqlat.bt", "/bin/sleep 0.3",
         [r"^Tracing CPU scheduler", r"^@usecs:\s*$", r"^\[\d+(, \d+[KM]?\))?\]?\s+\d+ \|@*\s*\|$"]),
    Case("runqlat-upstream", "runqlat.upstream.bt", "/bin/sleep 0.3",
         [r"^Tracing CPU scheduler", r"^@usecs:\s*$", r"^\[\d+(, \d+[KM]?\))?\]?\s+\d+ \|@*\s*\|$"]),
    Case("killsnoop", "killsnoop.bt", "/bin/sh -c 'kill -USR1 999999; true'",
         [r"^TIME\s+PID\s+COMM\s+SIG\s+TPID\s+RESULT$", r"^\d\d:\d\d:\d\d\s+\d+\s+sh\s+10\s+999999 -3$"]),
    Case("killsnoop-upstream", "killsnoop.upstream.bt", "/bin/sh -c 'kill -USR1 999999; true'",
         [r"^TIME\s+PID\s+COMM\s+SIG\s+TPID\s+RESULT$", r"^[\d:.]+\s+\d+ sh\s+SIGUSR1\s+999999\s+-3$"]),
    Case("pidpersec", "pidpersec.bt", "./forks", [r"^Tracing new processes", r"^\d\d:\d\d:\d\d PIDs/sec: @: 2\d$"],
         programs={"forks": FORKS}),
    Case("setuids", "setuids.bt", "./setuid",
         [r"^TIME\s+PID\s+COMM\s+UID\s+SYSCALL\s+ARGS \(RET\)$",
          r"^[\d:]+ \d+\s+setuid\s+0\s+setresuid ruid=-1 euid=0 suid=-1 \(0\)$",
          r"^[\d:]+ \d+\s+setuid\s+0\s+setuid\s+uid=0 \(0\)$",
          r"^[\d:]+ \d+\s+setuid\s+0\s+setfsuid\s+uid=0 \(prevuid=0\)$"], programs={"setuid": SETUID}),
    Case("syncsnoop", "syncsnoop.bt", "/bin/sync", [r"^TIME\s+PID\s+COMM\s+EVENT$",
                                                     r"^[\d:]+\s+\d+\s+sync\s+tracepoint:syscalls:sys_enter_sync$"]),
    Case("threadsnoop-upstream", "threadsnoop.upstream.bt", "./threads",
         [r"^TIME\s+PID\s+COMM\s+FUNC$"] + [r"^\s*[\d:.]+\s+\d+ threads\s+work$"] * 3,
         programs={"threads": THREADS}),
    Case("gethostlatency", "gethostlatency.bt", "./resolve",
         [r"^TIME\s+PID\s+COMM\s+LATms\s+HOST$", r"^[\d:]+\s+\d+\s+resolve\s+\d+ localhost$",
          r"^[\d:]+\s+\d+\s+resolve\s+\d+ localhost$"], programs={"resolve": RESOLVE}),
    Case("naptime", "naptime.bt", "./sleeper",
         [r"^TIME\s+PPID\s+PCOMM\s+PID\s+COMM\s+SECONDS$", r"^[\d:]+ \d+\s+pytrace\s+\d+\s+sleeper\s+0\.123$"],
         programs={"sleeper": SLEEPER}),
    Case("naptime-upstream", "naptime.upstream.bt", "./sleeper",
         [r"^TIME\s+PPID\s+PCOMM\s+PID\s+COMM\s+SECONDS$", r"^[\d:]+ \d+\s+pytrace\s+\d+\s+sleeper\s+0\.123$"],
         programs={"sleeper": SLEEPER}),
    Case("bashreadline", "bashreadline.bt", "/bin/bash --norc -i",
         [r"^TIME\s+PID\s+COMMAND$", r"^[\d:]+\s+\d+\s+echo corpus-marker$"], stdin="echo corpus-marker\n"),
    Case("cpuwalk", "cpuwalk.bt", "/bin/sh -c 'timeout 0.5 sh -c \"while :; do :; done\"'",
         [r"^Sampling CPU at 99hz", r"^@cpu:\s*$", r"^\[\d+, \d+\)\s+\d+ \|@+\s*\|$"]),
    Case("runqlen-upstream", "runqlen.upstream.bt", "/bin/sh -c 'timeout 0.5 sh -c \"while :; do :; done\"'",
         [r"^Sampling run queue length", r"^@runqlen:\s*$", r"^\[0, 1\)\s+\d+ \|@+\s*\|$"]),
    Case("bitesize", "bitesize.bt", DISKIO, [r"^Tracing block device I/O", r"^I/O size \(bytes\) histograms",
                                             r"^@\[dd\]:\s*$", r"^\[64K, 128K\)\s+\d+ \|@+\s*\|$"]),
    Case("biolatency-upstream", "biolatency.upstream.bt", DISKIO,
         [r"^Tracing block device I/O", r"^@usecs:\s*$", r"^\[\d+(, \d+[KM]?\))?\]?\s+\d+ \|@*\s*\|$"]),
    Case("biosnoop-upstream", "biosnoop.upstream.bt", DISKIO,
         [r"^TIME\(ms\)\s+DISK ID\s+COMM\s+PID\s+LAT\(ms\)$", r"^\d+\s+\d+\s+\d+\s+dd\s+\d+\s+\d+$"]),
    Case("biostacks-upstream", "biostacks.upstream.bt", DISKIO,
         [r"^Tracing block I/O with init stacks", r"^@usecs\[$", r"^\s+\w+\+\d+$"]),
    Case("writeback", "writeback.bt", "/bin/sh -c 'dd if=/dev/zero of={tmp}/corpus.wb bs=1M count=4 status=none; sync'",
         [r"^TIME\s+DEVICE\s+PAGES\s+REASON\s+ms$", r"^[\d:]+\s+\S+\s+\d+\s+\w+\s+\d+\.\d{3}$"]),
    Case("tcplife-tracepoint", "tcplife.tracepoint.bt", "./tcp",
         [r"^PID\s+COMM\s+LADDR\s+LPORT\s+RADDR\s+RPORT\s+TX_KB\s+RX_KB\s+MS$",
          r"^\d+\s+tcp\s+127\.0\.0\.1\s+\d+\s+127\.0\.0\.1\s+47123\s+\d+\s+\d+\s+\d+$"], programs={"tcp": TCP}),
]


def _expect_in_order(result, patterns: list[str]) -> None:
    """The run succeeded and each pattern matches a line, in this order."""
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    at = 0
    for pattern in patterns:
        regex = re.compile(pattern)
        while at < len(lines) and not regex.search(lines[at]):
            at += 1
        assert at < len(lines), f"no line after the previous matches {pattern!r}:\n{result.stdout}\n{result.stderr}"
        at += 1


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_script(case: Case, run_pytrace, build_c, tmp_path):
    for name, source in case.programs.items():
        built = build_c(source, name=name)
        assert built.parent == tmp_path
    script = CORPUS / case.script
    command = case.command.format(tmp=tmp_path)
    result = run_pytrace(["-c", command, *case.args, str(script)], timeout=case.timeout, input=case.stdin,
                         cwd=str(tmp_path))
    _expect_in_order(result, case.expect)


def test_the_corpus_holds_thirty_scripts():
    scripts = {c.script for c in CASES} | {c.name for c in ONE_LINERS}
    assert len(scripts) >= 30, sorted(scripts)


# ------------------------------------------------------------ one-liners
# From bpftrace's one-liner tutorial (docs/tutorial_one_liners.md).

ONE_LINERS = [
    Case("files-opened", 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }',
         "/bin/cat /etc/hostname", [r"^cat /etc/hostname$"]),
    Case("syscalls-by-program", "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }", "/bin/true",
         [r"^@\[true\]: \d+$"]),
    Case("read-bytes-by-process", "tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }",
         "/bin/cat /etc/hostname", [r"^@\[cat\]: \d+$"]),
    Case("read-size-distribution", "tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }",
         "/bin/cat /etc/hostname", [r"^@\[cat\]:\s*$", r"^\[\d+(, \d+\))?\]?\s+\d+ \|@+\s*\|$"]),
    Case("profile-kernel-stacks", "profile:hz:99 { @[kstack] = count(); }",
         "/bin/sh -c 'timeout 0.5 sh -c \"while :; do :; done\"'", [r"^@\[$", r"^\]: \d+$"]),
    Case("scheduler-stacks", "tracepoint:sched:sched_switch { @[kstack] = count(); }", "/bin/sleep 0.2",
         [r"^@\[$", r"^\s+__schedule\+\d+$", r"^\]: \d+$"]),
    Case("block-io-sizes", "tracepoint:block:block_rq_issue { @ = hist(args->bytes); }", DISKIO,
         [r"^@:\s*$", r"^\[64K, 128K\)\s+\d+ \|@+\s*\|$"]),
    Case("page-faults", "software:page-faults:1 /comm == \"cat\"/ { @[comm] = count(); }", "/bin/cat /etc/hostname",
         [r"^@\[cat\]: \d+$"]),
    Case("process-exits", "tracepoint:sched:sched_process_exit /comm == \"false\"/"
         " { printf(\"%s %d\\n\", comm, curtask->exit_code >> 8); }", "/bin/sh -c '/bin/false; true'",
         [r"^false 1$"]),
    Case("malloc-bytes", "uprobe:libc:malloc /pid == cpid/ { @bytes = sum(arg0); @calls = count(); }",
         "/bin/ls /", [r"^@bytes: \d+$", r"^@calls: \d+$"]),
]


@pytest.mark.parametrize("case", ONE_LINERS, ids=[c.name for c in ONE_LINERS])
def test_one_liner(case: Case, run_pytrace, tmp_path):
    result = run_pytrace(["-c", case.command.format(tmp=tmp_path), "-e", case.script], timeout=case.timeout,
                         cwd=str(tmp_path))
    _expect_in_order(result, case.expect)
