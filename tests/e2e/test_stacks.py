"""Stacks and symbols: kstack/ustack as map keys, in print() and printf,
their modes and limits, in JSON; a short-lived process still symbolised
at exit; ksym/usym/kaddr/uaddr; flame graphs (-f folded, --flamegraph)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.kernel

CHAIN = r"""
#include <unistd.h>
__attribute__((noinline)) void leaf(int i) { (void)i; }
__attribute__((noinline)) void middle(int i) { leaf(i); }
__attribute__((noinline)) void outer(int i) { middle(i); }
__attribute__((noinline)) void report(void) { }
int main(void) { for (int i = 0; i < 4; i++) outer(i); report(); usleep(200000); return 0; }
"""

BURN = r"""
#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) void hot_loop(void) { for (unsigned long i = 0; i < 1000000; i++) sink += i * i; }
int main(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do { hot_loop(); clock_gettime(CLOCK_MONOTONIC, &b); }
    while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 600);
    return 0;
}
"""

FRAME = r"[A-Za-z_][\w.]*\+\d+"


@pytest.fixture
def chain(build_c):
    return build_c(CHAIN, name="chain", flags=("-fno-omit-frame-pointer",))


def test_ustack_as_a_key_in_print_and_in_printf(chain, run_pytrace):
    script = (f'uprobe:{chain}:leaf {{ @[ustack] = count(); @k[kstack] = count(); @three[ustack(3)] = count();'
              f' if (arg0 == 0) {{ print(ustack(2)); printf("[%s]\\n", ustack(1)); }} }}')
    result = run_pytrace(["-c", str(chain), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    out = result.stdout
    # print(): a newline, frames indented by 8, and print's own newline
    assert re.search(r"^Attaching 1 probe...\n\n        leaf\+0\n        middle\+\d+\n\n\[\n        leaf\+0\n\]\n", out)
    # keys: frames indented by 4 (the process exits before the maps print, and still resolves)
    assert re.search(r"^@\[\n    leaf\+0\n    middle\+\d+\n    outer\+\d+\n    main\+\d+\n(    " + FRAME
                     + r"\n)*\]: 4$", out, re.M), out
    assert re.search(r"^@three\[\n    leaf\+0\n    middle\+\d+\n    outer\+\d+\n\]: 4$", out, re.M)
    assert "@k[]: 4\n" in out  # no kernel frames in user mode: an empty stack prints as nothing


def test_the_default_mode_from_the_environment(chain, run_pytrace):
    result = run_pytrace(["-c", str(chain), "-e", f"uprobe:{chain}:leaf {{ @[ustack(1)] = count(); }}"],
                         timeout=30, env={"BPFTRACE_STACK_MODE": "raw"})
    assert re.search(r"^@\[\n[0-9a-f]+\n\]: 4$", result.stdout, re.M), result.stdout


def test_perf_mode_and_json(chain, run_pytrace):
    script = f"uprobe:{chain}:leaf {{ @[ustack(perf, 2)] = count(); }}"
    result = run_pytrace(["-c", str(chain), "-e", script], timeout=30)
    assert re.search(r"^@\[\n\t[0-9a-f]+ leaf\+0 \(" + re.escape(str(chain)) + r"\)\n\t[0-9a-f]+ middle\+\d+ \("
                     + re.escape(str(chain)) + r"\)\n\]: 4$", result.stdout, re.M), result.stdout
    result = run_pytrace(["-f", "json", "-c", str(chain), "-e",
                          f"uprobe:{chain}:leaf {{ @s[ustack(2)] = count(); if (arg0 == 3) {{ print(ustack(1)); }} }}"],
                         timeout=30)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"type": "value", "data": "\n        leaf+0\n"} in records
    (stacks,) = [r["data"]["@s"] for r in records if r["type"] == "map"]
    ((key, count),) = stacks.items()
    assert re.fullmatch(r"\n    leaf\+0\n    middle\+\d+\n", key) and count == 4


def test_profile_ustack_names_the_hot_function_of_a_process_gone_by_exit(build_c, run_pytrace):
    """The burner exits before the maps print; its frames still resolve (the
    runtime read its memory map when the code first reported the pid)."""
    burn = build_c(BURN, name="burner", flags=("-fno-omit-frame-pointer",))
    result = run_pytrace(["-c", str(burn), "-e", "profile:hz:99 /pid == cpid/ { @[ustack] = count(); }"], timeout=30)
    assert result.rc == 0, result.stderr
    hot = sum(int(n) for n in re.findall(r"^    hot_loop\+\d+\n    main\+\d+\n(?:    " + FRAME + r"\n)*\]: (\d+)$",
                                         result.stdout, re.M))
    assert hot >= 40, result.stdout


def test_kstack_shows_kernel_symbols(build_c, run_pytrace):
    prog = build_c("#include <unistd.h>\nint main(void) { for (int i = 0; i < 50; i++) getppid(); return 0; }",
                   name="ppid")
    result = run_pytrace(["-c", str(prog), "-e",
                          "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[kstack] = count(); }"], timeout=30)
    assert result.rc == 0, result.stderr
    assert re.search(r"^@\[\n(    " + FRAME + r"\n)*    do_syscall_64\+\d+\n(    " + FRAME + r"\n)*\]: 50$",
                     result.stdout, re.M), result.stdout


def test_symbols_and_addresses(chain, run_pytrace):
    script = (f'uprobe:{chain}:leaf /arg0 == 0/ {{ printf("%s %s %s\\n", func, usym(uaddr("middle")),'
              f' ksym(kaddr("vfs_read") + 4)); @[func, ksym(kaddr("do_sys_openat2"))] = count(); }}')
    result = run_pytrace(["-c", str(chain), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "leaf middle vfs_read" or lines[1].startswith("leaf 0x")  # a PIE's uaddr is relative
    assert "@[leaf, do_sys_openat2]: 1" in result.stdout


def test_flame_graph_and_folded_stacks(build_c, run_pytrace, tmp_path):
    burn = build_c(BURN, name="burner", flags=("-fno-omit-frame-pointer",))
    svg = tmp_path / "profile.svg"
    script = "profile:hz:99 /pid == cpid/ { @[ustack] = count(); }"
    result = run_pytrace(["--flamegraph", str(svg), "-c", str(burn), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    root = ET.parse(svg).getroot()
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(re.match(r"hot_loop \([\d,]+ samples, [\d.]+%\)", t or "") for t in titles), titles
    folded = run_pytrace(["-f", "folded", "-c", str(burn), "-e", script], timeout=30)
    assert folded.rc == 0 and folded.stderr.startswith("Attaching 1 probe...\n")
    lines = folded.stdout.splitlines()
    assert lines and all(re.fullmatch(r"\S.*\S (\d+)", line) for line in lines), lines
    hot = [line for line in lines if re.search(r"(^|;)main;hot_loop \d+$", line)]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in hot) >= 40


@pytest.mark.parametrize("text, first_line", [
    ("BEGIN { @ = kstack(9999); }", "stdin:1:13: error: kstack() takes a mode (bpftrace, perf or raw) and/or a number"
                                    " of frames from 1 to 127, as in kstack(perf, 8)"),
    ('BEGIN { @ = kaddr("no_such_symbol_x"); }', "stdin:1:19: error: kernel symbol not found: no_such_symbol_x"),
    ('BEGIN { @ = uaddr("main"); }', "stdin:1:13: error: uaddr() is not available in a BEGIN probe"),
    ("BEGIN { @ = ustack + 1; }", "stdin:1:13: error: an operand of '+' must be an integer, not ustack"),
])
def test_mistakes(text, first_line, run_pytrace):
    result = run_pytrace(["-e", text], timeout=20)
    assert result.rc == 1 and result.stderr.splitlines()[0] == first_line


def test_stacks_and_symbols_as_map_values(chain, run_pytrace):
    script = (f"uprobe:{chain}:leaf {{ @s = ustack(2); @by[arg0] = ustack(1); @f = func; @p = probe;"
              f" @k = kstack; }}")
    result = run_pytrace(["-c", str(chain), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    out = result.stdout
    assert re.search(r"^@s: \n        leaf\+0\n        middle\+\d+\n\n", out, re.M), out
    assert "@by[0]: \n        leaf+0\n\n@by[1]: \n        leaf+0\n\n" in out
    assert "@f: leaf\n" in out and f"@p: uprobe:{chain}:leaf\n" in out and "@k: \n" in out
    result = run_pytrace(["-f", "json", "-c", str(chain), "-e", f"uprobe:{chain}:leaf {{ @s = ustack(1); }}"],
                         timeout=30)
    assert '{"type": "map", "data": {"@s": "\\n        leaf+0\\n"}}' in result.stdout.splitlines()


PATHS = r"""
#include <unistd.h>
__attribute__((noinline)) void leaf(void) { }
__attribute__((noinline)) void a(void) { leaf(); }
__attribute__((noinline)) void b(void) { leaf(); }
__attribute__((noinline)) void c(void) { leaf(); }
int main(void) { a(); b(); c(); usleep(200000); return 0; }
"""


def test_stacks_the_full_stack_map_cannot_keep_are_reported(build_c, run_pytrace):
    prog = build_c(PATHS, name="paths", flags=("-fno-omit-frame-pointer",))
    result = run_pytrace(["-c", str(prog), "-e", f"uprobe:{prog}:leaf {{ @[ustack(2)] = count(); }}"],
                         timeout=30, env={"PYTRACE_STACKS_MAX": "2"})
    assert result.rc == 0
    assert result.stderr == ("warning: 1 stack not kept: the stack map is full (2 distinct stacks);"
                             " those samples show an empty stack\n")
    assert "@[]: 1\n" in result.stdout and result.stdout.count("    leaf+0\n") == 2
