#!/usr/bin/env python3
"""Benchmark compiling: pytrace against bpftrace, side by side in one run,
medians over rounds and pytrace/bpftrace ratios (below 1 means pytrace is
better for every row).

    sudo .venv/bin/python scripts/bench_compile.py [--rounds 3] [--only pytrace|bpftrace]

  new one-liner (ms)     spawn -> the first line of a one-liner never run
                         before (pytrace: a compile-cache miss; the common
                         case in an incident, where every one-liner is new)
  200 probes, 1000 lines (s)
                         compile only: pytrace --dry-run --no-cache, bpftrace
                         --emit-elf (which also compiles without attaching)
  1000 one-line probes (s)
  5000 lines (s)         1000 probes of five statements
  s per 1000 lines       the 5000-line figure per 1000 lines: against the
                         1000-line figure it shows whether compile time grows
                         linearly

The large scripts trace the kernel's syscall tracepoints (one probe each,
round robin), with map updates, a predicate and printf, so the compiler does
real work per line.

Needs root, and bench.py next to this script (its helpers are shared).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def syscall_tracepoints() -> list[str]:
    base = "/sys/kernel/tracing/events/syscalls"
    if not os.path.isdir(base):
        base = "/sys/kernel/debug/tracing/events/syscalls"
    return sorted(f"tracepoint:syscalls:{name}" for name in os.listdir(base) if name.startswith("sys_enter_"))


def big_script(probes: int, lines_per_probe: int) -> str:
    """`probes` probes of `lines_per_probe` lines each (the attach point and
    its closing brace included)."""
    points = syscall_tracepoints()
    out = []
    for i in range(probes):
        body = [f'  @calls{i % 50}[comm] = count();', f"  @last{i % 50} = nsecs;",
                f'  if (pid == {i}) {{ printf("probe {i} %d\\n", tid); }}', f"  @sizes{i % 50} = hist(tid);",
                f"  @sum{i % 50}[cpu] = sum({i});", f"  $x{i} = tid * {i};"]
        stmts = body[:max(lines_per_probe - 2, 1)]
        out.append(f"{points[i % len(points)]} /pid != {i}/ {{")
        out.extend(stmts)
        out.append("}")
    return "\n".join(out) + "\n"


def one_liners(count: int) -> str:
    points = syscall_tracepoints()
    return "\n".join(f"{points[i % len(points)]} {{ @c{i % 100}[comm] = count(); }}" for i in range(count)) + "\n"


def compile_time(argv: list[str], label: str, script: str, timeout: float) -> float:
    """Seconds to compile `script` without attaching it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "script.bt")
        with open(path, "w") as f:
            f.write(script)
        if label == "bpftrace":
            cmd = argv + ["--emit-elf", os.path.join(tmp, "out.o"), path]
        else:
            cmd = argv + ["--dry-run", "--no-cache", path]
        t0 = time.monotonic()
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout, check=False)
        took = time.monotonic() - t0
        if done.returncode != 0:
            raise bench.NotAvailable(f"exit {done.returncode}: {bench._tail(done.stderr.decode(errors='replace'))}")
        return took


def new_one_liner(argv: list[str], timeout: float) -> float:
    """Spawn -> first line of a one-liner the tracer has not seen (a fresh
    number in the text makes it a compile-cache miss for pytrace)."""
    n = random.randrange(1 << 40)
    prog = f'BEGIN {{ printf("hi {n}\\n"); exit(); }}'
    t0 = time.monotonic()
    proc = subprocess.Popen(argv + ["-e", prog], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)
    line = b""
    deadline = t0 + timeout
    while b"\n" not in line or not line.startswith(b"hi"):
        if time.monotonic() > deadline:
            bench._stop(proc)
            raise bench.NotAvailable("no line")
        chunk = proc.stdout.readline()
        if not chunk:
            break
        line = chunk
    took = time.monotonic() - t0
    proc.communicate(timeout=timeout)
    if not line.startswith(f"hi {n}".encode()):
        raise bench.NotAvailable(f"exit {proc.returncode}: no hi line")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.common_options(ap, rounds=3, timeout=300.0)
    args = ap.parse_args()
    found = bench.tracers(args, "bench_compile")
    if found is None:
        return 2
    variants, down, live = found
    scripts = {"200 probes, 1000 lines (s)": big_script(200, 5), "1000 one-line probes (s)": one_liners(1000),
               "5000 lines (s)": big_script(1000, 5)}
    metrics = ["new one-liner (ms)", *scripts, "s per 1000 lines"]
    data = {(m, v.label): bench.Series() for m in metrics for v in variants}
    for r in range(args.rounds):
        for v in bench._rotated(live, r):
            try:
                data["new one-liner (ms)", v.label].values.append(new_one_liner(v.argv, args.timeout) * 1e3)
                for metric, script in scripts.items():
                    took = compile_time(v.argv, v.label, script, args.timeout)
                    data[metric, v.label].values.append(took)
                    if metric == "5000 lines (s)":
                        data["s per 1000 lines", v.label].values.append(took / 5)
                    if args.verbose:
                        print(f"round {r + 1} {v.label}: {metric} {took:.2f}", file=sys.stderr)
            except (bench.NotAvailable, subprocess.TimeoutExpired) as e:
                bench._failed(data, tuple(metrics), v.label, e)
    bench.print_medians(metrics, [v.label for v in variants], data, down, args.rounds)
    bench.print_notes(data, down)
    return 0


if __name__ == "__main__":
    sys.exit(main())
