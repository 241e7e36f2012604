"""Builtins and functions beyond 0.17's core, end to end: bools, string
functions, bswap, clocks, process facts and exit codes, checked by BEGIN
programs that print what they compute."""

from __future__ import annotations

import os
import pwd
import random
import re

import pytest

pytestmark = pytest.mark.kernel


def test_string_functions(run_pytrace):
    script = r'''BEGIN {
      printf("%d %d %d %d\n", strncmp("hello", "help", 3), strncmp("hello", "help", 4),
             strncmp(comm, "pytr", 4), strncmp("ab", "abc", 0));
      printf("%d %d %d %d %d\n", strcontains("hello-test-world", "test"), strcontains("hello", "xyz"),
             strcontains("abc", ""), strcontains(comm, "trace"), strcontains("ab", "abc"));
      printf("%d %d %d\n", strlen("hello"), strlen(""), strlen(comm));
      exit();
    }'''
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 1 probe...\n0 1 0 0\n1 0 1 1 0\n5 0 7\n\n\n"


def test_bswap_and_bools(run_pytrace):
    script = (r'BEGIN { printf("%llx %x %x %x %x\n", bswap(0x1122334455667788), bswap((int32)0x12345678),'
              r' bswap((int16)0x1234), bswap((int8)0x12), bswap(bswap(0x1234)));'
              r' print((true, false)); print(1 == 1); @b[true] = false; @c = (bool)5; exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\n8877665544332211 78563412 3412 12 1234\n(true, false)\n1\n\n\n"
                             "@b[true]: false\n@c: true\n")


def test_comparisons_are_bools_in_upstream_style(run_pytrace):
    script = ('BEGIN { print(1 == 1); printf("%s %d\\n", 1 > 2, 1 < 2); @s = strcontains("ab", "b");'
              ' @t = (!0, 2); exit(); }')
    result = run_pytrace(["--output-style", "upstream", "-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "true\nfalse 1\n\n\n@s: true\n@t: (true, 2)\n"


def test_process_and_machine_builtins(run_pytrace):
    script = (r'BEGIN { printf("%d %d %d %d %s\n", ncpus, numaid, jiffies > 0, cgroup > 0, username);'
              r' printf("%d %d %d\n", ppid, pid() == pid, nsecs(boot) > 0 && nsecs(tai) > nsecs(monotonic));'
              r' exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    me = pwd.getpwuid(os.getuid()).pw_name
    # pytrace is the run_pytrace child: its parent is this test process
    assert result.stdout == f"Attaching 1 probe...\n{os.cpu_count()} 0 1 1 {me}\n{os.getpid()} 1 1\n\n\n"


def test_exit_code(run_pytrace):
    result = run_pytrace(["-e", "BEGIN { @x = 1; exit(3); }"], timeout=20)
    assert (result.rc, result.stdout) == (3, "Attaching 1 probe...\n\n\n@x: 1\n")
    result = run_pytrace(["-e", "interval:ms:10 { exit(2 + 3); }"], timeout=20)
    assert result.rc == 5


@pytest.mark.parametrize("text, rendered", [
    ('BEGIN { @ = strncmp("a", "b"); }',
     'stdin:1:13: error: strncmp() takes 3 arguments, got 2\nBEGIN { @ = strncmp("a", "b"); }\n'
     '            ^~~~~~~~~~~~~~~~~\nhint: call it as strncmp(s1, s2, n), as in strncmp(comm, "bash", 4)\n'),
    ('BEGIN { @ = strcontains(pid, "b"); }',
     'stdin:1:25: error: strcontains()\'s haystack must be a string, not uint64\n'
     'BEGIN { @ = strcontains(pid, "b"); }\n                        ^~~\n'),
    ('BEGIN { @ = nsecs(fast); }',
     'stdin:1:19: error: nsecs() takes a clock: monotonic, boot, tai or sw_tai\nBEGIN { @ = nsecs(fast); }\n'
     '                  ^~~~\n'),
    ('BEGIN { exit(1, 2); }',
     'stdin:1:9: error: exit() takes at most 1 argument (an exit code), got 2\nBEGIN { exit(1, 2); }\n'
     '        ^~~~~~~~~~\n'),
])
def test_function_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


STRUCTS = r"""
#include <stdint.h>
struct S { const char *a; char b[4]; uint8_t c[4]; int d[2]; };
__attribute__((noinline)) int func(struct S *s) { return s->b[0]; }
int main(void)
{
    char text[] = "\t\x08\x07z";
    struct S s = { text, {5, 4, 3, 2}, {1, 2, 3, 4}, {5, 6} };
    return func(&s) == 5 ? 0 : 1;
}
"""


def test_buf_and_percent_r(run_pytrace, build_c):
    prog = build_c(STRUCTS, name="structs")
    script = (f'struct S {{ const char *a; char b[4]; uint8_t c[4]; int d[2]; }}'
              f' uprobe:{prog}:func {{ $s = (struct S *)arg0;'
              f' printf("%r-%r-%r-%r\\n", buf($s->a, 4), buf($s->b, 4), buf($s->c), buf($s->d)); }}')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1] == (r"\x09\x08\x07z-\x05\x04\x03\x02-\x01\x02\x03\x04-"
                                             r"\x05\x00\x00\x00\x06\x00\x00\x00")
    script = ('BEGIN { printf("%r|%rx|%rh\\n", buf("Hi\\tthere", 8), buf("Hello\\0", 6), buf("Hello\\0", 6));'
              ' $n = 3; print(buf("abcdef", $n)); @k[buf("ok_key", 7), 1] = count(); @v = buf("ok_value", 8);'
              ' exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\nHi\\x09there|\\x48\\x65\\x6c\\x6c\\x6f\\x00|48 65 6c 6c 6f 00\n"
                             "abc\n\n\n@k[ok_key\\x00, 1]: 1\n@v: ok_value\n")


def test_errorf_warnf_cat_and_system(run_pytrace, tmp_path):
    (tmp_path / "note.txt").write_text("a note\n")
    script = (f'BEGIN {{ errorf("bad: %d, %s", 10, "two"); warnf("careful %d\\n", 1);'
              f' cat("{tmp_path}/%s", "note.txt"); cat("/no/such/file"); printf("a\\n");'
              f' system("echo %d %s", 1, "ok"); printf("b\\n"); exit(); }}')
    result = run_pytrace(["--unsafe", "-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 1 probe...\na note\na\n1 ok\nb\n\n\n"
    assert result.stderr == ("stdin:1:9-41: ERROR: bad: 10, two\nstdin:1:43-67: WARNING: careful 1\n"
                             "ERROR: failed to open file '/no/such/file': No such file or directory\n")
    result = run_pytrace(["--no-warnings", "-e", 'BEGIN { warnf("careful"); exit(); }'], timeout=20)
    assert (result.rc, result.stderr) == (0, "")


def test_system_needs_unsafe(run_pytrace):
    result = run_pytrace(["-e", 'BEGIN { system("touch /tmp/x"); }'], timeout=20)
    assert result.rc == 1
    assert result.stderr == ('stdin:1:9: error: system() is unsafe: it changes the system; run with --unsafe'
                             ' to allow it\nBEGIN { system("touch /tmp/x"); }\n        ^~~~~~~~~~~~~~~~~~~~~~\n')


NET = r"""
#include <stdio.h>
struct Dev { const char *name; unsigned char mac[6]; };
__attribute__((noinline)) int func(struct Dev *d) { return d->mac[0]; }
int main(void)
{
    char name[] = "eth0";  /* on the stack: in memory when the probe reads it */
    struct Dev d = { name, {0x05, 0x04, 0x03, 0x02, 0x01, 0xab} };
    func(&d);
    fprintf(stderr, "survived\n");
    return 0;
}
"""


def test_network_and_error_text(run_pytrace, build_c):
    script = ('BEGIN { printf("%s, %s, %s\\n", ntop(1), ntop(0x0100007f), ntop(0x0000ffff));'
              ' printf("%s %s\\n", ntop(2, pton("127.0.0.1")), ntop(10, pton("::1")));'
              ' @[ntop(2, pton("10.1.2.3"))] = 1; printf("%s|%s\\n", strerror(1), strerror(2)); exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\n1.0.0.0, 127.0.0.1, 255.255.0.0\n127.0.0.1 ::1\n"
                             "Operation not permitted|No such file or directory\n\n\n@[10.1.2.3]: 1\n")
    prog = build_c(NET, name="net")
    script = (f'struct Dev {{ const char *name; unsigned char mac[6]; }}'
              f' uprobe:{prog}:func {{ $d = (struct Dev *)arg0; printf("%s %s\\n", macaddr($d->mac),'
              f' str(uptr($d->name))); @[macaddr($d->mac)] = count(); @ip = (reg("ip") & 0xfff) == (uaddr("func") & 0xfff); }}')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\n05:04:03:02:01:AB eth0\n\n\n"
                             "@[05:04:03:02:01:AB]: 1\n@ip: 1\n")


def test_signal_stops_the_traced_process(run_pytrace, build_c):
    prog = build_c(NET, name="net")
    result = run_pytrace(["--unsafe", "-c", str(prog), "-e", f'uprobe:{prog}:func {{ signal("KILL"); }}'],
                         timeout=30)
    assert result.rc == 0, result.stderr
    assert "survived" not in result.stderr
    result = run_pytrace(["-e", f'uprobe:{prog}:func {{ signal(9); }}'], timeout=30)
    assert result.rc == 1 and "signal() is unsafe" in result.stderr


def test_info_reports_what_this_kernel_can_do(run_pytrace):
    result = run_pytrace(["--info"], timeout=30)
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "System" and "Kernel helpers" in lines and "Probe types" in lines
    assert "  send_signal: yes" in lines and "  Loop support: yes" in lines and "  btf: yes" in lines
    # this machine: no kprobes, and BPF tracing programs (fentry) are refused
    assert "  kprobe: no" in lines and "  kfunc: no" in lines


GETPPIDS = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) { for (int i = atoi(argv[1]); i > 0; i--) getppid(); return 0; }
"""

SPIN = r"""
#include <time.h>
int main(void)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec < 400000000L);
    return 0;
}
"""


def _own_cgroup() -> str:
    """The cgroup v2 directory this process (and a -c child) runs in."""
    with open("/proc/self/cgroup") as f:
        unified = [line.split("::", 1)[1].strip() for line in f if line.startswith("0::")]
    return "/sys/fs/cgroup" + unified[0].rstrip("/")


def test_probetype_cgroupid_and_assert(run_pytrace, build_c):
    prog = build_c(GETPPIDS, name="getppids")
    cgroup = _own_cgroup()
    script = (f'BEGIN {{ printf("%s %d\\n", probetype, cgroupid("{cgroup}") == {os.stat(cgroup).st_ino}); }}'
              f' tracepoint:syscalls:sys_enter_getppid /comm == "getppids" && cgroup == cgroupid("{cgroup}")/'
              ' { @[probetype] = count(); assert(@[probetype] <= 3, "at most three"); }')
    result = run_pytrace(["-c", f"{prog} 3", "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1] == "special 1"
    assert "@[tracepoint]: 3" in result.stdout
    failing = run_pytrace(["-c", f"{prog} 5", "-e", script], timeout=30)
    assert failing.rc == 1
    assert failing.stderr.endswith("ERROR: assert failed: at most three\n"), failing.stderr


def test_usermode_tells_user_from_kernel_samples(run_pytrace, build_c):
    prog = build_c(SPIN, name="spin")
    result = run_pytrace(["-c", str(prog), "-e", 'profile:hz:199 /comm == "spin"/ { @[usermode] = count(); }'],
                         timeout=30)
    assert result.rc == 0, result.stderr
    assert int(re.search(r"^@\[1\]: (\d+)$", result.stdout, re.M).group(1)) > 20


@pytest.mark.parametrize("text, rendered", [
    ("tracepoint:sched:sched_switch { @[usermode] = count(); }",
     "stdin:1:35: error: usermode is not available in a tracepoint:sched:sched_switch probe\n"
     "tracepoint:sched:sched_switch { @[usermode] = count(); }\n"
     "                                  ^~~~~~~~\n"
     "hint: probes on registers have it: kprobe, uprobe, usdt, profile, software, interval\n"),
    ('BEGIN { @ = cgroupid("/no/such/cgroup"); }',
     "stdin:1:22: error: cannot find cgroup /no/such/cgroup: No such file or directory\n"
     'BEGIN { @ = cgroupid("/no/such/cgroup"); }\n'
     "                     ^~~~~~~~~~~~~~~~~\n"
     "hint: give the cgroup's directory in the cgroup v2 file system, as in /sys/fs/cgroup/user.slice\n"),
    ("BEGIN { assert(1); }",
     "stdin:1:9: error: assert() takes 2 arguments, got 1\n"
     "BEGIN { assert(1); }\n"
     "        ^~~~~~~~~\n"
     "hint: call it as assert($x > 0, \"x must be positive\")\n"),
])
def test_probetype_usermode_cgroupid_assert_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


def test_tseries_aggregations(run_pytrace):
    """tseries() with each aggregation, in one 1000 s interval (the writes
    take microseconds): the chart's row shows the combined value."""
    script = ('BEGIN { @sum = tseries(5, 1000s, 3, "sum"); @sum = tseries(7, 1000s, 3, "sum");'
              ' @max = tseries(5, 1000s, 2, "max"); @max = tseries(-9, 1000s, 2, "max");'
              ' @min = tseries(5, 1000s, 2, "min"); @min = tseries(-9, 1000s, 2, "min");'
              ' @avg["k"] = tseries(4, 1000s, 2, "avg"); @avg["k"] = tseries(7, 1000s, 2, "avg");'
              ' @last = tseries(4, 1000s, 2); @last = tseries(-3, 1000s, 2); exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    rows = re.findall(r"^(@\S+):\n.*\n.*\n\d\d:\d\d:\d\d\.0{9} \|\s+\*\s+\| (-?\d+)$", result.stdout, re.M)
    assert rows == [("@avg[k]", "5"), ("@last", "-3"), ("@max", "5"), ("@min", "-9"), ("@sum", "12")]
    assert "hh:mm:ss.ns        |" + "_" * 51 + "|" in result.stdout


def test_tseries_mistakes(rejected):
    assert rejected('BEGIN { @ = tseries(1, 1s, 5, "median"); }') == (
        "stdin:1:31: error: the aggregation given to tseries() must be one of 'none', 'avg', 'max', 'min', 'sum'\n"
        'BEGIN { @ = tseries(1, 1s, 5, "median"); }\n'
        "                              ^~~~~~~~\n")


def test_include_option_brings_a_headers_constants(run_pytrace):
    script = 'BEGIN { printf("%d\\n", EINVAL); exit(); }'
    result = run_pytrace(["--include", "linux/errno.h", "-I", "/usr/include", "-e", script], timeout=20)
    assert result.rc == 0 and result.stdout.splitlines()[1] == "22", result.stderr
    without = run_pytrace(["-e", script], timeout=20)
    assert without.rc == 1 and "unknown identifier 'EINVAL'" in without.stderr


def test_debugf_writes_to_the_kernels_trace_buffer(run_pytrace):
    token = random.randrange(1 << 30)
    result = run_pytrace(["-e", f'BEGIN {{ debugf("pytrace-debugf %d %s", {token}, comm); exit(); }}'], timeout=20)
    assert result.rc == 0, result.stderr
    base = "/sys/kernel/tracing" if os.path.isdir("/sys/kernel/tracing/events") else "/sys/kernel/debug/tracing"
    with open(f"{base}/trace") as f:
        lines = [line for line in f if f"pytrace-debugf {token} " in line]
    assert len(lines) == 1 and lines[0].rstrip().endswith(f"bpf_trace_printk: pytrace-debugf {token} pytrace")


@pytest.mark.parametrize("text, rendered", [
    ('BEGIN { debugf("%d %d %d %d", 1, 2, 3, 4); }',
     'stdin:1:40: error: debugf() takes at most 3 arguments after the format (bpf_trace_printk\'s limit)\n'
     'BEGIN { debugf("%d %d %d %d", 1, 2, 3, 4); }\n'
     '                                       ^\n'
     'hint: use printf() for more\n'),
    ('BEGIN { debugf("%d %d", 1); }',
     'stdin:1:9: error: debugf()\'s format has 2 conversions but 1 argument follows\n'
     'BEGIN { debugf("%d %d", 1); }\n'
     '        ^~~~~~~~~~~~~~~~~~\n'),
])
def test_debugf_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


def test_address_of_a_variable(run_pytrace):
    script = ('BEGIN { $x = 41; $p = &$x; $s = "abc"; $q = &$s;'
              ' printf("%d %d %s\\n", *$p + 1, $p != 0, *$q); exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0 and result.stdout.splitlines()[1] == "42 1 abc", result.stderr


@pytest.mark.parametrize("args, rendered", [
    (["--unsafe", "-e", "kprobe:vfs_read { override(-1); }"],
     "error: the kernel refused to load kprobe:vfs_read: it cannot make functions return early (override() needs "
     "a kernel built with CONFIG_BPF_KPROBE_OVERRIDE, and a kprobe on a function that allows error injection)\n"),
    (["-e", "kprobe:vfs_read { override(-1); }"],
     "stdin:1:19: error: override() is unsafe: it changes what the kernel does; run with --unsafe to allow it\n"
     "kprobe:vfs_read { override(-1); }\n"
     "                  ^~~~~~~~~~~~\n"),
    (["--unsafe", "-e", "tracepoint:sched:sched_switch { override(-1); }"],
     "stdin:1:33: error: override() is not available in a tracepoint:sched:sched_switch probe\n"
     "tracepoint:sched:sched_switch { override(-1); }\n"
     "                                ^~~~~~~~~~~~\n"
     "hint: only kprobes can make a function return early\n"),
])
def test_override_is_kprobe_only_and_unsafe(args, rendered, run_pytrace):
    """This kernel has no kprobes and no override: the run ends with the
    sentence that says so."""
    result = run_pytrace(args, timeout=20)
    assert result.rc == 1 and result.stderr == rendered


@pytest.mark.parametrize("text, rendered", [
    ('BEGIN { printf("%d\\n", percpu_kaddr("runqueues") != 0); exit(); }',
     "error: the kernel refused to load BEGIN: it does not know where its variable runqueues is "
     "(percpu_kaddr() needs a kernel built with CONFIG_KALLSYMS_ALL)\n"),
    ('BEGIN { @ = percpu_kaddr("no_such_var"); }',
     'stdin:1:26: error: the kernel has no variable no_such_var\n'
     'BEGIN { @ = percpu_kaddr("no_such_var"); }\n'
     '                         ^~~~~~~~~~~~~\n'
     "hint: percpu_kaddr() reads the kernel's per-CPU variables from its BTF\n"),
])
def test_percpu_kaddr_on_this_kernel(text, rendered, rejected):
    """Built (the variable's BTF id in a BPF_PSEUDO_BTF_ID ld_imm64, see
    tests/codegen); this kernel keeps no addresses of its variables, so a
    run ends with the sentence that says so."""
    assert rejected(text) == rendered


def test_k_reports_failed_helpers(run_pytrace):
    """-k: a lookup of a missing key, a delete of one, a read of a bad
    address each print where and what failed; without -k nothing does."""
    script = 'BEGIN { @[1] = 1; printf("%d\\n", @[2]); delete(@x[3]); $p = (int32 *)8; @y = *$p; @x[3] = 1; exit(); }'
    result = run_pytrace(["-k", "-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stderr == (
        "stdin:1:34-38: WARNING: Can't lookup map element because it does not exist.\n"
        "       Additional Info - helper: map_lookup_elem, retcode: 0\n"
        "stdin:1:41-54: WARNING: Can't delete map element because it does not exist.\n"
        "       Additional Info - helper: map_delete_elem, retcode: -2\n"
        "stdin:1:78-81: WARNING: Numerical result out of range\n"
        "       Additional Info - helper: probe_read_kernel, retcode: -34\n")
    quiet = run_pytrace(["-e", script], timeout=20)
    assert quiet.rc == 0 and quiet.stderr == ""
    assert run_pytrace(["-k", "--no-warnings", "-e", script], timeout=20).stderr == ""
