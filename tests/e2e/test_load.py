"""Tier 4: every sample program passes the kernel's verifier (loaded, not
attached). Each line exercises a different corner of the code generator."""

from __future__ import annotations

import pytest

from pytrace.driver import CompileOptions, compile_source
from pytrace.runtime import bpf, loader
from pytrace.runtime.maps import Map
from pytrace.source import SourceFile

pytestmark = pytest.mark.kernel

PROGRAMS = [
    'BEGIN { @a = "x"; @a = comm; printf("%s\\n", @a); exit(); }',
    'BEGIN { @m[comm, pid, "k"] = count(); @m[comm, pid, "longer key"] = count(); }',
    'BEGIN { $a = comm; $b = "pytrace"; if ($a == $b) { printf("same\\n"); } else { printf("diff %s\\n", $a); } }',
    'BEGIN { @x = (1 > 2) ? "yes" : "no"; $s = pid > 1 ? comm : "short"; @y[$s] = 1; }',
    "BEGIN { @x[1, 2] = 5; delete(@x[1, 2]); delete(@x[3, 4]); }",
    'BEGIN { printf("%c%c %-20s|%20s| %05d %x %X %o %% %lld %p\\n", 80, 84, "l", "r", 42, 1, 2, 8, -1, 4096); }',
    "BEGIN { @n = -1; @u = (uint64)-1; @i8 = (int8)255; @d = 1 << 63; @e = 0xffffffffffffffff; }",
    "BEGIN { $x = 10; $x -= 3; $x *= 2; $x /= 7; $x %= 3; $x <<= 4; $x >>= 1; $x &= 0xff; $x |= 1; $x ^= 3; @r = $x; }",
    "BEGIN { @c++; @c++; --@c; @d--; @e = @e + 1; @f[1] = @f[1] * 2; }",
    "BEGIN { @s = sum(5); @mn = min(-5); @mx = max(-5); @av = avg(-3); @c = count(); if (@c > 1) { exit(); } }",
    "BEGIN { @x = nsecs > 0; @y = elapsed; @z = cpu; @r = rand; @u = uid; @g = gid; @t = tid; @p = cpid; }",
    'BEGIN { printf("%s %s %s\\n", comm, comm, comm); @k[comm] = comm; return; printf("never\\n"); }',
    "BEGIN { @a = 7 / 0; @b = 7 % 0; @c = -7 / 2; @d = -7 % 3; @e = (uint32)-7 / 2; }",
    'tracepoint:sched:sched_switch { printf("%s -> %s\\n", args->prev_comm, args.next_comm); }',
    'tracepoint:sched:sched_switch /args->prev_comm == "swapper/0" || args->next_pid == 1/ { @[args->next_comm] = count(); }',
    "tracepoint:sched:sched_switch { @s[args->prev_comm, args.next_pid] = max(args->prev_prio); @t = (int16)args->prev_state; }",
    'tracepoint:sched:sched_process_exec { printf("%s %s\\n", str(args->filename), args.filename); @[args->filename] = count(); }',
    'tracepoint:syscalls:sys_enter_openat /comm == "cat" && pid > 1/ { @[str(args->filename)] = count(); $x = args->flags; '
    'if ($x & 1) { printf("%s %d\\n", comm, $x); } else { @n[$x, comm] = sum($x); } }',
    "tracepoint:syscalls:sys_enter_openat { @p[tid] = args->filename; } "
    'tracepoint:syscalls:sys_exit_openat /@p[tid]/ { printf("%s = %d\\n", str(@p[tid]), args->ret); delete(@p[tid]); }',
    'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", str(args->filename, 8), str(args->filename, 16)); }',
    "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }",
    "tracepoint:syscalls:sys_enter_* { @[comm] = count(); }",
    "interval:us:100 { @n = count(); if (@n > 100) { exit(); } } interval:hz:50 { @h = count(); } END { @e = 1; }",
    "BEGIN { @h = hist(-1); @h = hist(0); @h = hist(1 << 40); @k[comm] = hist(pid, 3); @h5 = hist(nsecs, 5); }",
    "BEGIN { @l = lhist(-5, 0, 100, 10); @l = lhist(1000, 0, 100, 10); @m[pid, comm] = lhist(rand % 1000, 0, 1000, 1); }",
    "BEGIN { @s = stats(-3); @a[1] = avg(5); $x = @a[1] + @s2; @s2 = sum(2); @mn = min(3); @v = (int64)@mn + @a[1]; }",
    'BEGIN { @c = count(); print(@c); print(@c, 3); print(@c, 1, 2); print(5); print("x"); print(@c); clear(@c); zero(@c); }',
    'BEGIN { @m[1] = 2; if (has_key(@m, 1)) { delete(@m, 1); } time(); time("%H\\n"); printf("%s\\n", strftime("%H:%M", nsecs)); }',
    "rawtracepoint:sched_switch { @[arg0, arg3] = count(); @h = hist(arg3); } profile:hz:49 { @p[cpu] = count(); }",
    "software:page-faults:100 { @f[comm] = count(); } software:cs { @c = sum(cpu); }",
]


@pytest.mark.parametrize("text", PROGRAMS, ids=[str(i) for i in range(len(PROGRAMS))])
def test_program_passes_the_verifier(text):
    compiled = compile_source(SourceFile("t.pt", text), CompileOptions(use_cache=False))
    maps = [Map(spec, bpf.possible_cpus()) for spec in compiled.maps]
    try:
        fds = {m.spec.symbol: m.fd for m in maps}
        loaded = {}
        for probe in compiled.probes:
            if probe.function not in loaded:
                loaded[probe.function] = loader.load(probe, fds, cpid=1, start_ns=0, cpu_ids=bpf.possible_cpu_ids_end(),
                                                      source_name="t.pt")
        for prog in loaded.values():
            prog.close()
    finally:
        for m in maps:
            m.close()
