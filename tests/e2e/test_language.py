"""The language beyond counters, end to end: tuples as values, map keys and
map values, printed as bpftrace 0.17 prints them (text and JSON)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.kernel


def test_tuples_as_values_keys_and_map_values(run_pytrace):
    script = ('BEGIN { $t = (comm, 7, "units", (1, -2)); printf("%s has %d %s %d\\n", $t.0, $t.1, $t.2, $t.3.1);'
              ' @last = (3, 30); @m[1] = (2, "y"); @k[(1, "x")] = 5; @pairs[1, 10] = count();'
              ' print((1, "two", (3, 4))); print($t.3); $u = (1,); print($u); exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\npytrace has 7 units -2\n(1, two, (3, 4))\n(1, -2)\n(1)\n\n\n"
                             "@k[1, x]: 5\n@last: (3, 30)\n@m[1]: (2, y)\n@pairs[1, 10]: 1\n")
    result = run_pytrace(["-f", "json", "-e", 'BEGIN { @last = (3, "x"); @m[1] = (2, "y"); @k[(1, "x")] = 5;'
                                              ' print((1, "two", (3, 4))); exit(); }'], timeout=20)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"type": "value", "data": [1, "two", [3, 4]]} in records
    assert {"type": "map", "data": {"@last": [3, "x"]}} in records
    assert {"type": "map", "data": {"@m": {"1": [2, "y"]}}} in records
    assert {"type": "map", "data": {"@k": {"1,x": 5}}} in records


@pytest.mark.parametrize("text, rendered", [
    ("BEGIN { $t = (1, 2); @ = $t.2; }",
     "stdin:1:26: error: the tuple has 2 parts: .0 to .1\nBEGIN { $t = (1, 2); @ = $t.2; }\n"
     "                         ^~~~\n"),
    ("BEGIN { $x = 1; @ = $x.0; }",
     "stdin:1:21: error: int64 is not a tuple: .0 reads a part of a tuple\nBEGIN { $x = 1; @ = $x.0; }\n"
     "                    ^~~~\n"),
])
def test_tuple_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


EXECS = r"""
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 2; i++) {
        if (fork() == 0) {
            /* on the stack: in memory when sys_enter reads them */
            char path[16], first[8], empty[1] = "", last[8];
            strcpy(path, "/bin/true"); strcpy(first, "first"); strcpy(last, i ? "two" : "one");
            char *argv[] = {path, first, empty, last, 0};
            execv(argv[0], argv);
            _exit(1);
        }
        wait(0);
    }
    return 0;
}
"""


def test_join_prints_an_argument_array(run_pytrace, build_c):
    prog = build_c(EXECS, name="execs")
    script = ('tracepoint:syscalls:sys_enter_execve /pid != cpid && comm == "execs"/'
              ' { printf("%s: ", comm); join(args->argv); join(args->argv, ","); }')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1:5] == ["execs: /bin/true first  one", "/bin/true,first,,one",
                                               "execs: /bin/true first  two", "/bin/true,first,,two"]
    result = run_pytrace(["-f", "json", "-c", str(prog), "-e",
                          'tracepoint:syscalls:sys_enter_execve /pid != cpid && comm == "execs"/ { join(args->argv); }'],
                         timeout=30)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r for r in records if r["type"] == "join"] == [{"type": "join", "data": "/bin/true first  one"},
                                                          {"type": "join", "data": "/bin/true first  two"}]


def test_loops_while_for_and_unroll(run_pytrace):
    script = ('BEGIN { $i = 0; while ($i < 5) { $i++; if ($i == 2) { continue; } if ($i == 4) { break; }'
              ' printf("w%d ", $i); } for ($j : 0..4) { if ($j == 1) { continue; } printf("f%d ", $j); }'
              ' unroll(3) { @u++; } $k = 0; unroll(5) { $k++; if ($k == 2) { continue; } if ($k == 4) { break; }'
              ' printf("u%d ", $k); } printf("\\n"); exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[1] == "w1 w3 f0 f2 f3 u1 u3 "
    assert "@u: 3\n" in result.stdout


GETPPIDS = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) { for (int i = atoi(argv[1]); i > 0; i--) getppid(); return 0; }
"""

FOR_MAP = r"""
tracepoint:syscalls:sys_enter_getppid /comm == "getppids"/ { @calls[comm, tid] = count(); @bytes[comm] = sum(3); }
tracepoint:syscalls:sys_enter_getppid /comm == "getppids"/ { @last[tid] = (comm, 7); }
END {
  $total = 0;
  for ($kv : @calls) { $total += $kv.1; printf("calls %s %d\n", $kv.0.0, $kv.1); }
  for ($kv : @bytes) { printf("bytes %s %d\n", $kv.0, $kv.1); }
  for ($e : @last) { printf("last %s %d\n", $e.1.0, $e.1.1); }
  printf("total %d\n", $total);
  @n[1] = 10; @n[2] = 20; @n[3] = 30;
  $hit = 0; $pairs = 0;
  for ($a : @n) { if ($a.0 == 2) { $hit = $a.1; break; } }
  for ($a : @n) { for ($b : @n) { $pairs++; } }
  printf("hit %d pairs %d\n", $hit, $pairs);
  for ($a : @n) { if ($a.1 > 0) { return; } }
  printf("not reached\n");
}
"""


def test_for_each_element_of_a_map(run_pytrace, build_c):
    """for ($kv : @map) over multi-key count() and sum() maps (totals over
    the CPUs), a tuple-valued map, break, nested loops sharing a variable,
    and return leaving the whole probe. (No condition on a counter the loop
    bumps: the verifier would follow each of its values, as it does for
    bpftrace's loops.)"""
    prog = build_c(GETPPIDS, name="getppids")
    result = run_pytrace(["-c", f"{prog} 25", "-e", FOR_MAP], timeout=30)
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1:8] == ["calls getppids 25", "bytes getppids 75", "last getppids 7", "total 25",
                          "hit 20 pairs 9", "", ""]
    assert "not reached" not in result.stdout


@pytest.mark.parametrize("text, rendered", [
    ("BEGIN { @h[1] = hist(5); for ($kv : @h) { } }",
     "stdin:1:37: error: a for loop cannot read @h's hist() values\n"
     "BEGIN { @h[1] = hist(5); for ($kv : @h) { } }\n"
     "                                    ^~\n"
     "hint: loop over a map of integers, strings or tuples, or of count(), sum(), min(), max() or avg()\n"),
    ("BEGIN { @x = 1; for ($kv : @x) { } }",
     "stdin:1:28: error: @x has no keys: a for loop goes over a map's keys\n"
     "BEGIN { @x = 1; for ($kv : @x) { } }\n"
     "                           ^~\n"
     "hint: read it as @x\n"),
    ("BEGIN { for ($kv : @nothing) { } }",
     "stdin:1:20: error: map @nothing is looped over but never assigned\n"
     "BEGIN { for ($kv : @nothing) { } }\n"
     "                   ^~~~~~~~\n"),
    ("BEGIN { @m[1] = 1; for ($kv : @m) { exit(); } }",
     "stdin:1:37: error: exit() cannot be called inside a for loop over a map\n"
     "BEGIN { @m[1] = 1; for ($kv : @m) { exit(); } }\n"
     "                                    ^~~~~~\n"
     "hint: set a variable, break, and call exit() after the loop\n"),
])
def test_for_map_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


@pytest.mark.parametrize("text, rendered", [
    ("BEGIN { break; }",
     "stdin:1:9: error: break is only allowed in a loop (while, for, unroll)\nBEGIN { break; }\n        ^~~~~\n"),
    ("BEGIN { unroll(101) { } }",
     "stdin:1:16: error: unroll takes a count from 1 to 100, not 101\nBEGIN { unroll(101) { } }\n"
     "               ^~~\n"),
])
def test_loop_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


def test_preamble_defines_enums_structs_and_lets(run_pytrace):
    script = """#include <linux/sched.h>
#define LIMIT 314
#define NEXT (LIMIT + 1)
enum color { RED = 1, GREEN, BLUE = -5 };
enum { A, B }
struct pair { int a; int b; }
BEGIN {
  let $small: uint8 = 300; let $name: string; let $later; $later = 0 ?: 7;
  printf("%d %d %d %d %d %d [%s] %d %d\\n", LIMIT, NEXT, RED, GREEN, BLUE, B, $name, $small, $later);
  @ns = 100ms + 1s + 2us + 1_000ns;
  exit();
}"""
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 1 probe...\n314 315 1 2 -5 1 [] 44 7\n\n\n@ns: 1100003000\n"


def test_config_block_and_map_declarations(run_pytrace):
    opened = ('tracepoint:syscalls:sys_enter_openat /pid == cpid/'
              ' { printf("%s|\\n", str(args->filename)); exit(); }')
    script = ('config = { max_strlen = 4; print_maps_on_exit = 0 } let @small = hash(2);'
              ' BEGIN { @small[1] = 1; @small[2] = 2; @small[3] = 3; } ' + opened)
    result = run_pytrace(["-c", "/bin/true", "-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 2 probes...\n/et|\n"
    assert "1 update of @small dropped: the map is full (2 keys" in result.stderr
    # the environment wins over the config block, as in bpftrace
    result = run_pytrace(["-c", "/bin/true", "-e", "config = { max_strlen = 4 } " + opened],
                         timeout=20, env={"BPFTRACE_MAX_STRLEN": "6"})
    assert result.stdout.startswith("Attaching 1 probe...\n/etc/|\n")


@pytest.mark.parametrize("text, rendered", [
    ("config = { bad_config = raw } BEGIN { }",
     "stdin:1:12: error: bad_config: not a known configuration option\n"
     "config = { bad_config = raw } BEGIN { }\n           ^~~~~~~~~~~~~~~~\n"),
    ("config = { stack_mode = fancy } BEGIN { }",
     "stdin:1:12: error: stack_mode must be one of bpftrace, perf, raw, not 'fancy'\n"
     "config = { stack_mode = fancy } BEGIN { }\n           ^~~~~~~~~~~~~~~~~~\n"),
    ("let @m = tree(5); BEGIN { @m[1] = 1; }",
     "stdin:1:1: error: tree is not a kind of map: use hash, lruhash, percpuhash, percpulruhash\n"
     "let @m = tree(5); BEGIN { @m[1] = 1; }\n^~~~~~~~~~~~~~~~~\n"),
    ("#define BAD 1 +\nBEGIN { }",
     "stdin:1:1: error: #define BAD must stand for an expression, not '1 +'\n#define BAD 1 +\n^~~~~~~~~~~~~~~\n"),
    ("BEGIN { $x = 1; let $x: string; }",
     "stdin:1:17: error: $x is already declared as int64\nBEGIN { $x = 1; let $x: string; }\n"
     "                ^~~~~~~~~~~~~~\n"),
])
def test_preamble_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


ARRAYS = r"""
struct A { int x[4]; long y; char name[8]; };
__attribute__((noinline)) int test_struct(struct A *a) { return a->x[1]; }
__attribute__((noinline)) int test_array(int *a) { return a[2]; }
int main(void)
{
    struct A a = { {1, 2, 3, 4}, 99, "hello" };
    int arr[5] = {10, 20, 30, 40, 50};
    test_struct(&a);
    test_array(arr);
    return 0;
}
"""


def test_indexing_and_dereferencing(run_pytrace, build_c):
    prog = build_c(ARRAYS, name="arrays")
    script = (f'struct A {{ int x[4]; long y; char name[8]; }}'
              f' uprobe:{prog}:test_struct {{ $a = (struct A *) arg0; $i = 3;'
              f' printf("%d %d %d %s %d %c %d\\n", $a.x[0], $a->x[$i], $a->y, $a->name, $a->name[1], $a->name[0],'
              f' $a->name[$i + 10]); }}'
              f' uprobe:{prog}:test_array {{ $p = (int32 *) arg0; printf("%d %d %d\\n", $p[0], *$p, $p[4]); }}')
    result = run_pytrace(["-c", str(prog), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 2 probes...\n1 4 99 hello 101 h 0\n10 10 50\n\n\n"


@pytest.mark.parametrize("text, rendered", [
    ("struct A { int x[4]; } BEGIN { $a = (struct A *)0; @ = $a->x[4]; }",
     "stdin:1:62: error: the index 4 is out of bounds for an array of 4\n"
     "struct A { int x[4]; } BEGIN { $a = (struct A *)0; @ = $a->x[4]; }\n"
     "                                                             ^\n"),
    ("BEGIN { @ = *pid; }",
     "stdin:1:13: error: uint64 is not a pointer: only a pointer can be dereferenced\n"
     "BEGIN { @ = *pid; }\n            ^~~~\n"
     "hint: cast an address to say what it points at: *(int32 *)addr\n"),
    ("BEGIN { @ = pid[1]; }",
     "stdin:1:13: error: uint64 cannot be indexed\nBEGIN { @ = pid[1]; }\n            ^~~\n"
     "hint: index a pointer, an array or a string\n"),
])
def test_index_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


def test_block_expressions_and_macros(run_pytrace):
    script = r"""
macro inc($x) { $x += 1; $x }
macro set(@m) { @m[1] = 2; }
macro add1(x) { x + 1 }
macro add3(z) { z + add1(add1(z)) }
macro twice(x) { x; x; }
macro one() { $y = 1; $y }
BEGIN {
  $a = 1; $b = inc($a); $y = 5;
  set(@m);
  if ({ $c = $a * 2; $c > 3 }) { printf("%d %d %d %d %d %d\n", $a, $b, $c, add3(1), one, $y); }
  twice({ printf("hi ") });
  _ = { print(7); 1 };
  exit();
}"""
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == "Attaching 1 probe...\n2 2 4 4 1 5\nhi hi 7\n\n\n@m[1]: 2\n"


@pytest.mark.parametrize("text, rendered", [
    ("macro f(x) { f(x) } BEGIN { @ = f(1); }",
     "stdin:1:14: error: macro f expands into itself (64 levels deep)\nmacro f(x) { f(x) } BEGIN { @ = f(1); }\n"
     "             ^~~~\n"),
    ("macro f(x) { x } BEGIN { @ = f(1, 2); }",
     "stdin:1:30: error: macro f takes 1 argument, got 2\nmacro f(x) { x } BEGIN { @ = f(1, 2); }\n"
     "                             ^~~~~~~\n"),
    ("macro f($x) { $x } BEGIN { @ = f(1); }",
     "stdin:1:34: error: macro f's parameter $x takes a variable, as in f($x)\n"
     "macro f($x) { $x } BEGIN { @ = f(1); }\n                                 ^\n"),
    ("BEGIN { @ = { $a = 1; }; }",
     "stdin:1:13: error: this block gives no value: end it with an expression, as in { $a = 1; $a }\n"
     "BEGIN { @ = { $a = 1; }; }\n            ^~~~~~~~~~~\n"),
])
def test_macro_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


def test_records_sizeof_offsetof_and_pointer_arithmetic(run_pytrace):
    script = r"""struct A { int32_t a; int32_t b; char c[28] }
struct Foo { int x; char c; }
BEGIN {
  $v = (x = 1, y = 2); $t = (a = 0, c = "str", d = (5, 6), e = $v);
  print($t); printf("%d %s %d\n", $t.a, $t.c, $t.e.y); @r[$v] = $t;
  @tuple = (0, 1, "str"); printf("%d %s\n", @tuple.1, @tuple.2);
  $x = 1;
  printf("%d %d %d %d %d %d\n", sizeof(struct Foo), sizeof(struct A), sizeof($x), sizeof(uint16), sizeof(uint64_t),
         sizeof((*(struct Foo *)0).c));
  printf("%d %d\n", offsetof(struct A, c), offsetof(struct task_struct, pid) > 0);
  $p = (struct A *)1024; printf("%lu %lu\n", $p - 5, $p + 1);
  @ptr = (int16 *)0x32; @ptr += 1; @dec = (int32 *)0x32; @dec--;
  exit();
}"""
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == (
        "Attaching 1 probe...\n{ .a = 0, .c = str, .d = (5, 6), .e = { .x = 1, .y = 2 } }\n0 str 2\n1 str\n"
        "8 36 8 2 8 1\n8 1\n844 1060\n\n\n@dec: 0x2e\n@ptr: 0x34\n"
        "@r[{ .x = 1, .y = 2 }]: { .a = 0, .c = str, .d = (5, 6), .e = { .x = 1, .y = 2 } }\n@tuple: (0, 1, str)\n")
    result = run_pytrace(["-f", "json", "-e", 'BEGIN { @r = (a = 1, b = (2, "x")); @p = (int8 *)50; exit(); }'],
                         timeout=20)
    assert '{"type": "map", "data": {"@r": {"a": 1, "b": [2,"x"]}}}' in result.stdout
    assert '{"type": "map", "data": {"@p": 50}}' in result.stdout


def test_enums_print_by_name(run_pytrace):
    script = ('enum Foo { ONE = 1, TWO = 2, OTHER = 99999 }; enum { A, B }'
              ' BEGIN { $one = ONE; @one = ONE; printf("%d %s %s %d %-5s|\\n", ONE, $one, @one, OTHER, B);'
              ' print((enum Foo)2); print((enum Foo)7); @k[TWO] = (ONE, A); @plain[ONE + 1] = TWO - 1; exit(); }')
    result = run_pytrace(["-e", script], timeout=20)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\n1 ONE ONE 99999 B    |\nTWO\n7\n\n\n@k[TWO]: (ONE, A)\n"
                             "@one: ONE\n@plain[2]: 1\n")
    result = run_pytrace(["-q", "-f", "json", "-e", 'enum { FOO = 333 }; BEGIN { print(FOO); @[FOO] = FOO; exit(); }'],
                         timeout=20)
    assert result.stdout.splitlines()[0] == '{"type": "value", "data": 333}'
    assert '{"type": "map", "data": {"@": {"333": 333}}}' in result.stdout


def test_long_strings_live_off_the_stack(run_pytrace, tmp_path):
    """max_strlen 1024 (upstream's default): a 600-byte path is read whole
    into printf, a map key and a variable, next to eight more strings; the
    default of 0.17 (64) cuts it, and counts the cut."""
    deep = tmp_path / "/".join(["d" * 50] * 11)
    deep.mkdir(parents=True)
    target = deep / "file.txt"
    target.write_text("x\n")
    path = str(target)
    assert 600 < len(path) < 1000
    probe = ('tracepoint:syscalls:sys_enter_openat /comm == "cat"/ {{ $p = str(args->filename); '
             'if (strcontains($p, "file.txt")) {{ @[$p] = count(); printf("%s %d\\n", $p, strlen($p)); '
             'printf("{many}\\n", {args}); }} }}').format(many="%s" * 8, args=", ".join(["comm"] * 8))
    long = run_pytrace(["-c", f"cat {path}", "-e", "config = { max_strlen = 1024 } " + probe], timeout=30)
    assert long.rc == 0, long.stderr
    lines = long.stdout.splitlines()  # cat's own "x" comes in between
    assert f"{path} {len(path)}" in lines and "cat" * 8 in lines
    assert f"@[{path}]: 1" in long.stdout
    short = run_pytrace(["-c", f"cat {path}", "-e", probe], timeout=30)
    assert short.rc == 0 and "@[" not in short.stdout  # cut before "file.txt"
    assert short.stderr == ("warning: 1 string read by str() filled the whole buffer and may have been cut short"
                            " (raise max_strlen: config = { max_strlen = 1024 }, or BPFTRACE_MAX_STRLEN)\n")


STRUCT_VALUES_C = r"""
struct Foo { int m; int n; };
struct Bar { char c; struct Foo f; long arr[3]; };
__attribute__((noinline)) void func(struct Foo *foo, struct Bar *bar) { asm volatile(""); }
int main(void) { struct Foo f = {2, 3}; struct Bar b = {'x', {4, -5}, {7, 8, 9}}; func(&f, &b); return 0; }
"""

STRUCT_VALUES = r"""
struct Foo { int m; int n; }
struct Bar { char c; struct Foo f; long arr[3]; }
uprobe:BINARY:func {
  $f = *((struct Foo *)arg0); print($f); printf("m %d n %d\n", $f.m, $f.n);
  @s = *((struct Foo *)arg0);
  @k[*((struct Foo *)arg0), 42] = 1;
  @t = (1, *((struct Foo *)arg0));
  $b = *((struct Bar *)arg1);
  @b = $b; @arr = $b.arr; @nested = $b.f; printf("%d %d\n", $b.arr[2], $b.f.n);
  @arrk[((struct Bar *)arg1)->arr] = 3;
}
"""


def test_structs_and_arrays_as_values(run_pytrace, build_c):
    """*p of a struct pointer and an array member copied into variables,
    map values, keys and tuples, printed as upstream prints them; members
    and elements read back from the copies."""
    prog = build_c(STRUCT_VALUES_C, name="structs")
    result = run_pytrace(["-c", str(prog), "-e", STRUCT_VALUES.replace("BINARY", str(prog))], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout == (
        "Attaching 1 probe...\n{ .m = 2, .n = 3 }\nm 2 n 3\n9 -5\n\n\n"
        "@arr: [7,8,9]\n"
        "@arrk[[7,8,9]]: 3\n"
        "@b: { .c = 120, .f = { .m = 4, .n = -5 }, .arr = [7,8,9] }\n"
        "@k[{ .m = 2, .n = 3 }, 42]: 1\n"
        "@nested: { .m = 4, .n = -5 }\n"
        "@s: { .m = 2, .n = 3 }\n"
        "@t: (1, { .m = 2, .n = 3 })\n")
    json = run_pytrace(["-f", "json", "-c", str(prog), "-e", STRUCT_VALUES.replace("BINARY", str(prog))], timeout=30)
    assert '{"type": "map", "data": {"@arr": [7,8,9]}}' in json.stdout.splitlines()
    assert '{"type": "map", "data": {"@s": {"m": 2, "n": 3}}}' in json.stdout.splitlines()


@pytest.mark.parametrize("text, rendered", [
    ("struct Foo { int m; } BEGIN { $f = *(struct Foo *)0; @x = $f.z; }",
     "stdin:1:59: error: struct Foo has no member 'z'\n"
     "struct Foo { int m; } BEGIN { $f = *(struct Foo *)0; @x = $f.z; }\n"
     "                                                          ^~~~\n"
     "hint: its members: m\n"),
    ("struct Foo { int a[2]; } BEGIN { $a = (*(struct Foo *)0).a; @x = $a[2]; }",
     "stdin:1:66: error: the index 2 is out of bounds for an array of 2\n"
     "struct Foo { int a[2]; } BEGIN { $a = (*(struct Foo *)0).a; @x = $a[2]; }\n"
     "                                                                 ^~~~~\n"),
])
def test_struct_value_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


ARRAYS_C = r"""
struct A { int x[4]; unsigned char y[4]; };
__attribute__((noinline)) void test_arrays(struct A *a, struct A *b, struct A *c) { asm volatile(""); }
int main(void) { struct A a = {{1,2,3,4},{1,2,3,4}}, b = a, c = {{1,2,3,5},{0}}; test_arrays(&a, &b, &c); return 0; }
"""


def test_array_comparisons_and_int_array_casts(run_pytrace, build_c):
    prog = build_c(ARRAYS_C, name="arrays")
    script = ('struct A { int x[4]; uint8_t y[4]; } uprobe:BIN:test_arrays { $a = (struct A *)arg0;'
              ' $b = (struct A *)arg1; $c = (struct A *)arg2;'
              ' printf("%d %d %d\\n", $a.x == $b.x, $a.x != $c.x, $a.x == $c.x); printf("y: %x\\n", (int32)$a.y); }'
              ' BEGIN { printf("%x %x\\n", ((int8[8])12345)[0], ((int8[])12345)[1]);'
              ' printf("ip: %x\\n", (uint32)pton("127.0.0.1")); print((int8[])"hello"); @a = (uint16[4])0x0004000300020001; }')
    result = run_pytrace(["-c", str(prog), "-e", script.replace("BIN", str(prog))], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 2 probes...\n39 30\nip: 100007f\n[104,101,108,108,111,0]\n"
                             "1 1 0\ny: 4030201\n\n\n@a: [1,2,3,4]\n")


@pytest.mark.parametrize("text, rendered", [
    ("BEGIN { @x = (int8[4])1; }",
     "stdin:1:14: error: int64 has 8 bytes, and int8[4] needs 4\n"
     "BEGIN { @x = (int8[4])1; }\n"
     "             ^~~~~~~~~~\n"
     "hint: cast to int8[8]\n"),
    ('BEGIN { @x = (uint16)pton("127.0.0.1"); }',
     'stdin:1:14: error: buffer[4] has 4 bytes: it cannot be cast to uint16\n'
     'BEGIN { @x = (uint16)pton("127.0.0.1"); }\n'
     '             ^~~~~~~~~~~~~~~~~~~~~~~~~\n'
     'hint: cast an array to the integer type of its size, as in (uint32) of 4 bytes\n'),
])
def test_array_cast_mistakes(text, rendered, rejected):
    assert rejected(text) == rendered


MULTI_DIM_C = r"""
struct B { int y[2][2]; };
__attribute__((noinline)) void f(struct B *b) { asm volatile(""); }
int main(void) { struct B b = {{{5,6},{7,8}}}; f(&b); return 0; }
"""


def test_multi_dimensional_arrays_and_indexed_values(run_pytrace, build_c):
    """int y[2][2] in a script struct, read in memory and from copies in a
    variable and in maps (@m[k][i][j]); a tuple indexed like an array."""
    prog = build_c(MULTI_DIM_C, name="multidim")
    script = ('struct B { int y[2][2]; } uprobe:BIN:f { $x = ((struct B *) arg0).y[1][0]; $b = ((struct B *) arg0).y;'
              ' @b = $b; @k[$b] = $b[1][1]; @m[0] = $b; $t = (4, 5, 6);'
              ' printf("%d %d %d %d\\n", $x, $b[0][1], @m[0][1][0], $t[2]); }')
    result = run_pytrace(["-c", str(prog), "-e", script.replace("BIN", str(prog))], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout == ("Attaching 1 probe...\n7 6 7 6\n\n\n@b: [[5,6],[7,8]]\n@k[[[5,6],[7,8]]]: 8\n"
                             "@m[0]: [[5,6],[7,8]]\n")


@pytest.mark.parametrize("style, expected", [("0.17", "0 0 1"), ("upstream", "1 1 1")])
def test_division_and_modulo_by_zero(style, expected, run_pytrace):
    """0.17 gives 0 for x / 0 and x % 0; upstream defines both as 1."""
    result = run_pytrace(["--output-style", style, "-e",
                          'BEGIN { $z = 0; printf("%d %d %d\\n", 5 / $z, 5 % $z, 7 % 3); exit(); }'], timeout=20)
    assert result.rc == 0, result.stderr
    assert expected in result.stdout.splitlines()
