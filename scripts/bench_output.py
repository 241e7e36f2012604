#!/usr/bin/env python3
"""Benchmark aggregations and output paths: pytrace against bpftrace, side
by side in one run, medians over rounds and pytrace/bpftrace ratios (below
1 means pytrace is better for every row).

    sudo .venv/bin/python scripts/bench_output.py [--rounds 5] [--only pytrace|bpftrace]

  map print (ms)        a workload makes 100,000 close() calls on distinct bad
                        fds; `@[args->fd] = count()` holds 100,000 keys
                        (BPFTRACE_MAP_KEYS_MAX=200000 for both). The time from
                        the workload's last call (it prints CLOCK_MONOTONIC on
                        stderr) to the tracer's exit: reading, sorting and
                        printing the map, plus the detach both tracers do.
  ns/event <kind>       run_time_ns / run_cnt of the program on
                        tracepoint:raw_syscalls:sys_enter while a workload
                        makes getppid() calls, with BPF run-time stats on, for
                        hist, sum keyed by comm, lhist and stats (and count,
                        for reference)
  json printf lost (%)  bench.py's printf flood (300k getppid() calls, each a
  json printf us/line   line) under -f json: lines lost, tracer CPU per line

Needs root, gcc, and bench.py next to this script (its helpers are shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

KEYS = 100_000
CLOSE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    for (long i = 0; i < n; i++)
        syscall(SYS_close, 1000000 + i);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fprintf(stderr, "workload-end %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
    return 0;
}
"""
MAP_PROG = "tracepoint:syscalls:sys_enter_close /pid == cpid/ { @[args->fd] = count(); }"

SYSCALLS_C = r"""
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    double seconds = atof(argv[1]);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        for (int i = 0; i < 1000; i++)
            syscall(SYS_getppid);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
    return 0;
}
"""
EVENT_PROGS = {
    "hist": "tracepoint:raw_syscalls:sys_enter { @h = hist(nsecs & 0xffff); }",
    "sum": "tracepoint:raw_syscalls:sys_enter { @[comm] = sum(args->id); }",
    "lhist": "tracepoint:raw_syscalls:sys_enter { @l = lhist(args->id, 0, 500, 10); }",
    "stats": "tracepoint:raw_syscalls:sys_enter { @s = stats(args->id); }",
    "count": "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }",
}


def build(folder: str, name: str, source: str) -> str:
    src, exe = os.path.join(folder, name + ".c"), os.path.join(folder, name)
    with open(src, "w") as f:
        f.write(source)
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True, capture_output=True)
    return exe


def run_map_print(argv: list[str], workload: str, timeout: float) -> float:
    """Seconds from the workload's end to the tracer's exit, with a
    KEYS-key map to print."""
    env = {**os.environ, "BPFTRACE_MAP_KEYS_MAX": str(2 * KEYS)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv + ["-c", f"{workload} {KEYS}", "-e", MAP_PROG], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True, env=env)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            bench._stop(proc, grace=2)
            raise bench.NotAvailable(f"no exit within {timeout:.0f}s") from None
        done = time.monotonic()
        out.seek(0)
        printed = sum(1 for line in out if line.startswith(b"@["))
        err.seek(0)
        text = err.read().decode(errors="replace")
    end = [line.split()[1] for line in text.splitlines() if line.startswith("workload-end ")]
    if proc.returncode != 0 or not end:
        raise bench.NotAvailable(f"exit {proc.returncode}: {bench._tail(text)}")
    if printed < KEYS:  # (the workload's own exit closes a few fds more)
        raise bench.NotAvailable(f"printed {printed} of {KEYS} keys")
    return done - float(end[0])


def run_event_cost(argv: list[str], prog: str, workload: str, seconds: float, timeout: float) -> float:
    """ns per event of the tracer's program on raw_syscalls:sys_enter."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv + ["-e", prog], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            before = {}
            while time.monotonic() < deadline and proc.poll() is None:
                infos = bench._tree_progs(proc.pid)
                if any(i.run_cnt > 0 for i in infos.values()):
                    before = infos
                    break
                time.sleep(0.05)
            if not before:
                err.seek(0)
                raise bench.NotAvailable(f"no running program: {bench._tail(err.read().decode(errors='replace'))}")
            subprocess.run([workload, str(seconds)], check=True)
            after = bench._tree_progs(proc.pid)
        finally:
            bench._stop(proc)
    best = None
    for prog_id, a in after.items():
        b = before.get(prog_id)
        if b is not None and a.run_cnt > b.run_cnt and (best is None or a.run_cnt - b.run_cnt > best[0]):
            best = (a.run_cnt - b.run_cnt, a.run_time_ns - b.run_time_ns)
    if best is None:
        raise bench.NotAvailable("its program did not run during the workload")
    return best[1] / best[0]


def _json_line(raw: bytes) -> bool:
    """A printf record of the flood: {"type": "printf", "data": "123 ptflood\\n"}."""
    return raw.startswith(b'{"type": "printf"') and raw.endswith(b' ptflood\\n"}\n')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.common_options(ap, rounds=5, timeout=120.0)
    ap.add_argument("--event-seconds", type=float, default=1.0)
    ap.add_argument("--skip", action="append", default=[], choices=["map", "events", "json"],
                    help="leave out a group of measurements (repeatable)")
    args = ap.parse_args()
    found = bench.tracers(args, "bench_output")
    if found is None:
        return 2
    variants, down, live = found

    metrics = []
    if "map" not in args.skip:
        metrics.append("map print (ms)")
    if "events" not in args.skip:
        metrics += [f"ns/event {kind}" for kind in EVENT_PROGS]
    if "json" not in args.skip:
        metrics += ["json printf lost (%)", "json printf us/line"]
    data = {(m, v.label): bench.Series() for m in metrics for v in variants}

    stats = bench.BpfStats() if "events" not in args.skip else None
    folder = tempfile.mkdtemp(prefix="pytrace-bench-output-")
    try:
        closer = build(folder, "ptclose", CLOSE_C)
        syscalls = build(folder, "ptsyscalls", SYSCALLS_C)
        flood = bench.build_flood(folder)
        for r in range(args.rounds):
            for v in bench._rotated(live, r):
                def sample(metric, measure, scale=1.0):
                    try:
                        value = measure() * scale
                        data[metric, v.label].values.append(value)
                        if args.verbose:
                            print(f"round {r + 1} {v.label}: {metric} {value:.2f}", file=sys.stderr)
                    except bench.NotAvailable as e:
                        data[metric, v.label].errors.append(str(e))

                if "map" not in args.skip:
                    sample("map print (ms)", lambda: run_map_print(v.argv, closer, args.timeout), 1e3)
                if "events" not in args.skip:
                    for kind, prog in EVENT_PROGS.items():
                        sample(f"ns/event {kind}",
                               lambda: run_event_cost(v.argv, prog, syscalls, args.event_seconds, args.timeout))
        if "json" not in args.skip:
            for r in range(args.rounds):
                for v in bench._rotated(live, r):
                    try:
                        p = bench.run_printf(v.argv + ["-f", "json"], flood, args.timeout, _json_line)
                        data["json printf lost (%)", v.label].values.append(p.lost_pct)
                        data["json printf us/line", v.label].values.append(p.us_per_line)
                    except bench.NotAvailable as e:
                        for m in ("json printf lost (%)", "json printf us/line"):
                            data[m, v.label].errors.append(str(e))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if stats is not None:
            stats.close()

    bench.print_medians(metrics, [v.label for v in variants], data, down, args.rounds)
    print(f"\nmap print: {MAP_PROG} over {KEYS} distinct fds (-c)")
    for kind, prog in EVENT_PROGS.items():
        print(f"ns/event {kind}: {prog}")
    bench.print_notes(data, down)
    return 0


if __name__ == "__main__":
    sys.exit(main())
