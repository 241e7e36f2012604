"""Probes on perf events: profile (a sample on every CPU), software events
(page faults, context switches) and hardware events (this VM has no PMU:
one clear sentence), end to end on workloads built here."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.kernel

FAULTS = r"""
#include <stdlib.h>
#include <sys/mman.h>
/* Touch PAGES fresh anonymous pages: one page fault each. */
int main(int argc, char **argv)
{
    long pages = atol(argv[1]);
    char *p = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long i = 0; i < pages; i++)
        p[i * 4096] = 1;
    return 0;
}
"""

SPIN = r"""
#include <time.h>
/* Burn CPU for 600 ms. */
int main(void)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec < 600000000L);
    return 0;
}
"""

SLEEPS = r"""
#include <unistd.h>
int main(void) { for (int i = 0; i < 100; i++) usleep(1000); return 0; }
"""


def value(stdout: str, name: str) -> int:
    return int(re.search(rf"^{re.escape(name)}: (\d+)$", stdout, re.M).group(1))


def test_software_page_faults_count_every_fault(run_pytrace, build_c):
    prog = build_c(FAULTS, name="faults")
    # comm is the binary's only after exec: the faults of the forked child
    # before it (which depend on the tracer's own memory) are not counted
    script = 'software:page-faults:1 /pid == cpid && comm == "faults"/ { @ = count(); }'
    base = run_pytrace(["-c", f"{prog} 0", "-e", script], timeout=30)
    more = run_pytrace(["-c", f"{prog} 1000", "-e", script], timeout=30)
    assert base.rc == 0 and more.rc == 0, base.stderr + more.stderr
    # the 1000 pages touched, on top of what starting the program costs
    assert abs(value(more.stdout, "@") - value(base.stdout, "@") - 1000) <= 10


def test_software_context_switches_and_default_counts(run_pytrace, build_c):
    prog = build_c(SLEEPS, name="sleeps")
    result = run_pytrace(["-c", str(prog), "-e", "software:cs:1 /pid == cpid/ { @cs = count(); }"
                          " software:faults /pid == cpid/ { @every100 = count(); }"], timeout=30)
    assert result.rc == 0, result.stderr
    assert 100 <= value(result.stdout, "@cs") <= 250  # a switch per usleep(), and preemptions on a busy machine
    assert result.stdout.startswith("Attaching 2 probes...")
    assert value(result.stdout, "@every100") == 0  # ~50 faults: fewer than one every 100


def test_profile_samples_a_busy_process_at_its_frequency(run_pytrace, build_c):
    prog = build_c(SPIN, name="spinner")
    result = run_pytrace(["-c", str(prog), "-e", 'profile:hz:99 /comm == "spinner"/ { @samples = count(); }'],
                         timeout=30)
    assert result.rc == 0, result.stderr
    assert 45 <= value(result.stdout, "@samples") <= 70  # 99 Hz for 0.6 s


def test_profile_fires_on_every_cpu(run_pytrace):
    result = run_pytrace(["-e", "profile:ms:10 { @[cpu] = count(); } interval:ms:500 { exit(); }"], timeout=30)
    assert result.rc == 0, result.stderr
    assert len(re.findall(r"^@\[\d+\]: \d+$", result.stdout, re.M)) >= 1


def test_hardware_events_say_there_is_no_pmu(run_pytrace):
    result = run_pytrace(["-e", "hardware:cpu-cycles:1000000 { @ = count(); }"], timeout=30)
    assert result.rc == 1
    assert result.stderr == (
        "error: cannot attach hardware:cpu-cycles:1000000: this machine has no hardware performance"
        " counters (no CPU PMU; virtual machines often have none); software events such as"
        " software:cpu-clock work.\n"
    )


@pytest.mark.parametrize("text, message", [
    ("profile:xs:5 { }", "stdin:1:1: error: invalid profile probe 'profile:xs:5': expected profile:UNIT:N"
                         " with UNIT one of hz, s, ms, us and N > 0"),
    ("software:bogus { }", "stdin:1:1: error: unknown software event 'bogus'"),
    ("s:cs:0 { }", "stdin:1:1: error: invalid software probe 'software:cs:0': the count must be a number > 0"),
    ("h:cycles:x { }", "stdin:1:1: error: invalid hardware probe 'hardware:cycles:x': the count must be a number > 0"),
])
def test_attach_point_mistakes(text, message, rejected):
    assert rejected(text).splitlines()[0] == message


GETPPID_1000 = r"""
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { for (int i = 0; i < 1000; i++) syscall(SYS_getppid); return 0; }
"""


def test_raw_tracepoint_arguments(run_pytrace, build_c):
    """raw_syscalls' sys_enter passes (struct pt_regs *regs, long id): arg1
    is the syscall number."""
    prog = build_c(GETPPID_1000, name="ppid1000")
    script = ("rawtracepoint:sys_enter /pid == cpid && arg1 == 110/ { @getppid = count(); }"
              " rt:sched_switch { @preempt[arg0] = count(); }")
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert value(result.stdout, "@getppid") == 1000
    assert set(re.findall(r"^@preempt\[(\d+)\]", result.stdout, re.M)) <= {"0", "1"}


@pytest.mark.parametrize("text, rendered", [
    ("rawtracepoint:sched_switch { @ = arg4; }",
     "stdin:1:34: error: rawtracepoint:sched_switch passes 4 arguments: arg0 to arg3\n"
     "rawtracepoint:sched_switch { @ = arg4; }\n"
     "                                 ^~~~\n"),
    ("rawtracepoint:nope { }",
     "stdin:1:1: error: raw tracepoint not found: nope\n"
     "rawtracepoint:nope { }\n"
     "^~~~~~~~~~~~~~~~~~\n"
     "hint: the kernel's raw tracepoints are its tracepoints' events: pytrace -l 'tracepoint:*:nope*'\n"),
    ("tracepoint:sched:sched_switch { @ = arg0; }",
     "stdin:1:37: error: arg0 is not available in a tracepoint:sched:sched_switch probe\n"
     "tracepoint:sched:sched_switch { @ = arg0; }\n"
     "                                    ^~~~\n"),
])
def test_raw_tracepoint_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


def test_kprobes_compile_load_and_end_with_the_kernel_limit(run_pytrace):
    """This kernel is built without kprobes: the programs pass the verifier,
    and attaching says why it cannot, naming a tracepoint for the same call."""
    result = run_pytrace(["-e", 'kprobe:do_nanosleep { @[comm] = count(); printf("%d\\n", arg1); }'], timeout=30)
    assert result.rc == 1
    assert result.stdout == "Attaching 1 probe...\n"
    assert result.stderr == (
        "error: cannot attach kprobe:do_nanosleep: this kernel has no kprobes (built without"
        " CONFIG_KPROBES); tracepoint:syscalls:sys_enter_nanosleep and sys_exit_nanosleep trace the"
        " same system call.\n"
    )
    result = run_pytrace(["-e", "kr:vfs_read { @ = hist(retval); }"], timeout=30)
    assert result.rc == 1 and result.stderr == (
        "error: cannot attach kretprobe:vfs_read: this kernel has no kprobes (built without"
        " CONFIG_KPROBES); tracepoint:syscalls:sys_enter_read and sys_exit_read trace the same system call.\n"
    )


@pytest.mark.parametrize("text, first_line", [
    ("kprobe:nope_fn { }", "stdin:1:1: error: kernel function not found: nope_fn"),
    ("kprobe:vfs_read { @ = retval; }", "stdin:1:23: error: retval is not available in a kprobe:vfs_read probe"),
    ("kprobe:vfs_read { @ = arg6; }", "stdin:1:23: error: kprobe:vfs_read can read 6 arguments from registers: arg0 to arg5"),
    ("kretprobe:vfs_read+4 { }", "stdin:1:1: error: invalid kretprobe 'kretprobe:vfs_read+4': a kretprobe takes no offset"),
])
def test_kprobe_mistakes(text, first_line, rejected):
    assert rejected(text).splitlines()[0] == first_line


def test_fentry_and_fexit_are_built_and_refused_by_this_kernel(run_pytrace):
    result = run_pytrace(["-e", "fentry:vfs_read { @[comm] = count(); @a = arg2; }"], timeout=30)
    assert result.rc == 1
    assert result.stderr == (
        "error: the kernel refused to load fentry:vfs_read (EPERM): it does not allow fentry programs"
        " (kernel lockdown); tracepoint:syscalls:sys_enter_read and sys_exit_read trace the same system call.\n"
    )
    result = run_pytrace(["-e", "kretfunc:do_nanosleep { @r = hist(retval); }"], timeout=30)
    assert result.rc == 1 and "it does not allow fexit programs" in result.stderr
    result = run_pytrace(["-e", "kfunc:nope_fn { }"], timeout=30)
    assert result.rc == 1 and result.stderr.splitlines()[0] == "stdin:1:1: error: kernel function not found in BTF: nope_fn"


GETP = r"""
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 200; i++) syscall(SYS_getpid);
    for (int i = 0; i < 300; i++) syscall(SYS_getppid);
    for (int i = 0; i < 50; i++) getpriority(PRIO_PROCESS, 0);
    return 0;
}
"""


def test_a_wildcard_keyed_by_probe_shows_exactly_the_syscalls_made(run_pytrace, build_c):
    """The expansions share one program; `probe` is each one's attach cookie."""
    prog = build_c(GETP, name="getp")
    result = run_pytrace(["-c", str(prog), "-e", "tracepoint:syscalls:sys_enter_getp* /pid == cpid/ { @[probe] = count(); }"],
                         timeout=30)
    assert result.rc == 0, result.stderr
    keyed = re.findall(r"^@\[(.*)\]: (\d+)$", result.stdout, re.M)
    assert keyed == [("tracepoint:syscalls:sys_enter_getpriority", "50"),
                     ("tracepoint:syscalls:sys_enter_getpid", "200"),
                     ("tracepoint:syscalls:sys_enter_getppid", "300")]


def test_probe_in_printf_print_and_json(run_pytrace):
    result = run_pytrace(["-e", 'interval:ms:50 { printf("%s|\\n", probe); print(probe); @[probe] = 1; exit(); }'], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 1 probe...\ninterval:ms:50|\ninterval:ms:50\n\n\n@[interval:ms:50]: 1\n"
    result = run_pytrace(["-f", "json", "-e", "BEGIN { @[probe] = 1; exit(); }"], timeout=20)
    assert '{"type": "map", "data": {"@": {"BEGIN": 1}}}' in result.stdout.splitlines()


def test_raw_tracepoint_arguments_typed_from_btf(run_pytrace, build_c):
    """args.prev/args.next are `struct task_struct *` (from BTF), and their
    members are read from kernel memory; curtask likewise."""
    prog = build_c(SLEEPS, name="sleeper")
    script = ('rawtracepoint:sched_switch /args.prev->pid == cpid/ { @[args.prev->comm, args.preempt] = count(); }'
              ' BEGIN { printf("%s %d\\n", curtask->comm, curtask->tgid == pid); }')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1] == "pytrace 1"
    assert 100 <= int(re.search(r"^@\[sleeper, 0\]: (\d+)$", result.stdout, re.M).group(1)) <= 130
    result = run_pytrace(["-e", "rawtracepoint:sched_switch { @ = args.nope; }"], timeout=20)
    assert result.rc == 1 and result.stderr.splitlines()[0] == (
        "stdin:1:34: error: rawtracepoint:sched_switch has no argument 'nope'")


def test_kprobe_and_fentry_wildcards_expand_from_the_kernels_symbols(run_pytrace):
    result = run_pytrace(["-l", "-e", "kprobe:vfs_rea* { } fexit:vfs_readv* { }"], timeout=30)
    assert result.stdout == "kprobe:vfs_read\nkprobe:vfs_readlink\nkprobe:vfs_readv\nfexit:vfs_readv\n"
    result = run_pytrace(["-e", "kprobe:vfs_rea* { @[func] = count(); }"], timeout=30)
    assert result.rc == 1 and result.stdout == "Attaching 3 probes...\n"
    assert result.stderr.startswith("error: cannot attach kprobe:vfs_read: this kernel has no kprobes")
