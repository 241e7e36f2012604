"""uprobes and uretprobes on programs built here: exact calls, arguments
and return values (PIE and not), libraries by name, wildcards, addresses
and offsets, C++ names, `func`, sargN, and -p (one process only)."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

pytestmark = pytest.mark.kernel

CALLS = r"""
#include <stdio.h>
__attribute__((noinline)) long compute(long a, int b, const char *s) { return a * b - s[0]; }
__attribute__((noinline)) void handle_open(void) { }
__attribute__((noinline)) void handle_read(void) { }
__attribute__((noinline)) void handle_close(void) { }
__attribute__((noinline)) void unrelated(void) { }
__attribute__((noinline)) long many(long a, long b, long c, long d, long e, long f, long g, long h)
{ return a + b + c + d + e + f + g + h; }
int main(void)
{
    char word[8] = "xyz";
    long acc = 0;
    for (int i = 1; i <= 10; i++) {
        word[0] = 'a' + i;
        acc += compute(i, -i, word);
    }
    handle_open(); handle_read(); handle_read(); handle_read(); handle_close(); unrelated();
    acc += many(1, 2, 3, 4, 5, 6, 70, 80);
    return acc == 0;
}
"""


def lines_of(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line and line != "Attaching 2 probes..."]


@pytest.mark.parametrize("flags", [(), ("-no-pie",)], ids=["pie", "no-pie"])
def test_calls_arguments_and_return_values_are_exact(flags, run_pytrace, build_c):
    prog = build_c(CALLS, name="calls", flags=flags)
    script = (f'uprobe:{prog}:compute {{ printf("in %d %d %s\\n", arg0, arg1, str(arg2)); }}'
              f' uretprobe:{prog}:compute {{ printf("out %d\\n", retval); @ret = sum((int64)retval); @n = count(); }}')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    want = []
    for i in range(1, 11):
        want += [f"in {i} {-i} {chr(ord('a') + i)}yz", f"out {i * -i - (ord('a') + i)}"]
    assert lines_of(result.stdout)[:20] == want
    assert f"@ret: {sum(i * -i - (ord('a') + i) for i in range(1, 11))}" in result.stdout
    assert "@n: 10" in result.stdout


def test_wildcards_func_and_probe(run_pytrace, build_c):
    prog = build_c(CALLS, name="calls")
    result = run_pytrace(["-c", str(prog), "-e",
                          f'uprobe:{prog}:handle_* {{ @[func] = count(); @p[probe] = count(); }}'], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.startswith("Attaching 3 probes...\n")
    assert re.findall(r"^@\[(\w+)\]: (\d+)$", result.stdout, re.M) == [
        ("handle_close", "1"), ("handle_open", "1"), ("handle_read", "3")]
    assert f"@p[uprobe:{prog}:handle_read]: 3" in result.stdout
    assert "unrelated" not in result.stdout


def test_an_address_an_offset_and_stack_arguments(run_pytrace, build_c):
    prog = build_c(CALLS, name="calls", flags=("-no-pie",))
    nm = subprocess.run(["nm", str(prog)], capture_output=True, text=True, check=True).stdout
    address = int(re.search(r"^([0-9a-f]+) T compute$", nm, re.M).group(1), 16)
    script = (f"uprobe:{prog}:{address:#x} {{ @[probe, func] = count(); }}"
              f" uprobe:{prog}:compute+4 {{ @off[func] = count(); }}"
              f" uprobe:{prog}:many {{ @stack = sum(sarg0 + sarg1); @reg = sum(arg5); }}")
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert f"@[uprobe:{prog}:{address}, compute]: 10" in result.stdout
    assert "@off[compute]: 10" in result.stdout
    assert "@stack: 150\n" in result.stdout and "@reg: 6\n" in result.stdout


GETPID = r"""
#include <unistd.h>
int main(void) { for (int i = 0; i < 100; i++) getpid(); return 0; }
"""


def test_a_library_by_name(run_pytrace, build_c):
    from pytrace import symbols

    prog = build_c(GETPID, name="getpid100")
    result = run_pytrace(["-c", str(prog), "-e", "uprobe:libc:getpid /pid == cpid/ { @[probe] = count(); }"],
                         timeout=30)
    assert result.rc == 0, result.stderr
    assert f"@[uprobe:{symbols.find_binary('libc')}:getpid]: 100\n" in result.stdout


CXX = r"""
namespace shop {
struct Cart { int items = 0; };
__attribute__((noinline)) int checkout(Cart &c, int extra) { return c.items + extra; }
}
int main() { shop::Cart c; int total = 0; for (int i = 0; i < 7; i++) total += shop::checkout(c, i); return total == 0; }
"""


def test_cxx_functions_by_their_demangled_names(run_pytrace, build_c):
    prog = build_c(CXX, name="shop", cxx=True)
    result = run_pytrace(["-c", str(prog), "-e",
                          f'uprobe:{prog}:cpp:shop::checkout {{ @[func] = count(); @sum = sum(arg1); }}'], timeout=30)
    assert result.rc == 0, result.stderr
    assert "@[shop::checkout(shop::Cart&, int)]: 7\n" in result.stdout
    assert "@sum: 21\n" in result.stdout
    listed = run_pytrace(["-l", f"uprobe:{prog}:*checkout*"], timeout=30)
    assert listed.stdout == f"uprobe:{prog}:_ZN4shop8checkoutERNS_4CartEi\n"


TICKER = r"""
#include <unistd.h>
__attribute__((noinline)) void tick(int i) { (void)i; }
int main(void) { for (int i = 0; i < 1500; i++) { tick(i); usleep(5000); } return 0; }
"""


def test_p_attaches_to_that_process_only_and_ends_with_it(run_pytrace, build_c):
    prog = build_c(TICKER, name="ticker")
    target = subprocess.Popen([str(prog)])
    other = subprocess.Popen([str(prog)])
    try:
        time.sleep(0.2)
        script = f'uprobe:{prog}:tick {{ @[pid] = count(); }} interval:ms:400 {{ exit(); }}'
        result = run_pytrace(["-p", str(target.pid), "-e", script], timeout=30)
        assert result.rc == 0, result.stderr
        seen = re.findall(r"^@\[(\d+)\]: (\d+)$", result.stdout, re.M)
        assert [p for p, _ in seen] == [str(target.pid)]
        assert int(seen[0][1]) >= 20
        # a tracepoint under -p fires only in that process, and the trace ends when it does
        target.kill()
        target.wait()
        late = subprocess.Popen([str(prog)])
        result = run_pytrace(["-p", str(late.pid), "-e",
                              "tracepoint:syscalls:sys_enter_clock_nanosleep { @[pid] = count(); }"
                              " interval:ms:300 { exit(); }"], timeout=30)
        late.kill()
        late.wait()
        assert re.findall(r"^@\[(\d+)\]", result.stdout, re.M) == [str(late.pid)]
    finally:
        for proc in (target, other):
            proc.kill()
            proc.wait()


def test_p_ends_the_trace_when_the_process_exits(run_pytrace, build_c):
    prog = build_c("#include <unistd.h>\nint main(void) { usleep(1000000); return 0; }", name="brief")
    proc = subprocess.Popen([str(prog)])
    try:
        result = run_pytrace(["-p", str(proc.pid), "-e", "interval:ms:50 { @ticks = count(); }"], timeout=30)
    finally:
        proc.wait()
    assert result.rc == 0 and not result.timed_out, result.stderr
    # ticks every 50 ms from the attach (after a compile) until the process ends at 1 s
    assert 2 <= int(re.search(r"^@ticks: (\d+)$", result.stdout, re.M).group(1)) <= 22


@pytest.mark.parametrize("text, first_line", [
    ("uprobe:/nonexistent/bin:main { }", "stdin:1:1: error: binary not found: /nonexistent/bin"),
    ("uprobe:BIN:no_such_fn { }", "stdin:1:1: error: function not found: no_such_fn in BIN"),
    ("uprobe:BIN:nothing_* { }", "stdin:1:1: error: no function of BIN matches nothing_*"),
    ("uprobe:BIN:compute { @ = retval; }", "stdin:1:COL: error: retval is not available in a uprobe:BIN:compute probe"),
    ("uretprobe:BIN:compute+4 { }", "stdin:1:1: error: invalid uretprobe 'uretprobe:BIN:compute+4': a uretprobe takes no offset"),
    ("uprobe:BIN:compute+4096 { }", "stdin:1:1: error: offset 4096 is past the end of compute (SIZE bytes)"),
    ("tracepoint:sched:sched_switch { @ = func; }", "stdin:1:37: error: func is not available in a tracepoint:sched:sched_switch probe"),
])
def test_mistakes(text, first_line, run_pytrace, build_c):
    prog = build_c(CALLS, name="calls")
    nm = subprocess.run(["nm", "-S", str(prog)], capture_output=True, text=True, check=True).stdout
    size = int(re.search(r"^[0-9a-f]+ ([0-9a-f]+) T compute$", nm, re.M).group(1), 16)
    text = text.replace("BIN", str(prog))
    first_line = first_line.replace("BIN", str(prog)).replace("SIZE", str(size))
    first_line = first_line.replace("COL", str(text.find("retval") + 1))
    result = run_pytrace(["-e", text], timeout=20)
    assert result.rc == 1 and result.stderr.splitlines()[0] == first_line


STRUCTS = r"""
struct point { short x; short y; };
struct item { char tag; struct point at; unsigned long long big; struct item *next; char name[5]; int neg; };
__attribute__((noinline)) void visit(struct item *it) { (void)it; }
int main(void)
{
    struct item b = { 'b', {3, -4}, 1ULL << 40, 0, "bee", -7 };
    struct item a = { 'a', {1, 2}, 99, &b, "ay", -1 };
    visit(&a);
    return 0;
}
"""


def test_struct_arguments_read_through_the_scripts_definitions(run_pytrace, build_c):
    prog = build_c(STRUCTS, name="items")
    script = ("struct point { short x; short y; };\n"
              "struct item { char tag; struct point at; unsigned long long big; struct item *next;"
              " char name[5]; int neg; };\n"
              f"uprobe:{prog}:visit {{ $i = (struct item *)arg0;"
              ' printf("%c %d %d %lu %s %d | %c %d %s %d\\n", $i->tag, $i->at.x, $i->at.y, $i->big, $i->name,'
              " $i->neg, $i->next->tag, $i->next->at.y, $i->next.name, $i->next->neg);"
              " @[$i->next->name] = sum($i->at.x + $i->next->at.x); }")
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1] == "a 1 2 99 ay -1 | b -4 bee -7"
    assert "@[bee]: 4\n" in result.stdout


def test_struct_mistakes(run_pytrace):
    result = run_pytrace(["-e", "struct a { int x; };\nBEGIN { $p = (struct a *)0; @ = $p->y; }"], timeout=20)
    assert result.rc == 1 and result.stderr == (
        "stdin:2:33: error: struct a has no member 'y'\n"
        "BEGIN { $p = (struct a *)0; @ = $p->y; }\n"
        "                                ^~~~~\n"
        "hint: its members: x\n")
    result = run_pytrace(["-e", "struct a { float x; };\nBEGIN { }"], timeout=20)
    assert result.rc == 1 and result.stderr == (
        "stdin:1:1: error: unknown type 'float' in struct a\n"
        "struct a { float x; };\n"
        "^~~~~~~~~~~~~~~~~~~~~~\n")


def test_probes_on_one_function_run_in_the_scripts_order(run_pytrace, build_c):
    prog = build_c(CALLS, name="calls")
    script = (f'uprobe:{prog}:handle_open {{ printf("first\\n"); }} uprobe:{prog}:handle_open {{ printf("second\\n"); }}'
              f' uretprobe:{prog}:handle_open {{ printf("ret1\\n"); }} uretprobe:{prog}:handle_open {{ printf("ret2\\n"); }}')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.stdout.splitlines()[1:5] == ["first", "second", "ret1", "ret2"]


def test_every_binary_of_a_process(run_pytrace, build_c):
    prog = build_c(TICKER, name="ticker")
    target = subprocess.Popen([str(prog)])
    try:
        time.sleep(0.2)
        result = run_pytrace(["-p", str(target.pid), "-e",
                              "uprobe:*:tick { @[probe] = count(); } interval:ms:200 { exit(); }"], timeout=30)
        listed = run_pytrace(["-p", str(target.pid), "-l", "uprobe:*:tick"], timeout=30)
    finally:
        target.kill()
        target.wait()
    assert result.rc == 0, result.stderr
    assert re.search(rf"^@\[uprobe:{re.escape(str(prog))}:tick\]: \d+$", result.stdout, re.M)
    assert listed.stdout == f"uprobe:{prog}:tick\n"


DWARF = r"""
#include <stdint.h>
#include <string.h>
struct inner { int a; long b; };
struct order { int id; int qty; long price; char sku[12]; struct inner *in; const char *note; };
typedef unsigned long ulong_t;
__attribute__((noinline)) int submit(struct order *o, int flag, const char *who, ulong_t n, uint8_t small)
{ return o->id + flag; }
int main(void)
{
    char who[8], note[8];
    strcpy(who, "bob");
    strcpy(note, "hi");
    struct inner in = {1, -2};
    struct order o = {7, 2, 150, "APPLE", &in, note};
    return submit(&o, 3, who, 9, 255) == 10 ? 0 : 1;
}
"""


def test_arguments_by_name_from_dwarf(run_pytrace, build_c):
    prog = build_c(DWARF, name="orders")
    script = (f'uprobe:{prog}:submit {{ printf("%d %d %s %s %d %d %s %d %d\\n", args.o->id, args.flag,'
              " str(args.who), args.o->sku, args.n, args.small, str(args.o->note), args.o->in->b, args.o->price); }")
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1] == "7 3 bob APPLE 9 255 hi -2 150"
    listed = run_pytrace(["-lv", f"uprobe:{prog}:submit"], timeout=30)
    assert listed.stdout == (f"uprobe:{prog}:submit\n    struct order* o\n    int flag\n    const char* who\n"
                             "    ulong_t n\n    uint8_t small\n")
    result = run_pytrace(["-e", f"uprobe:{prog}:submit {{ @ = args.nope; }}"], timeout=30)
    assert result.rc == 1 and result.stderr.splitlines()[0].endswith(
        f"error: uprobe:{prog}:submit has no argument 'nope'")
