#!/usr/bin/env python3
"""Benchmark attaching and detaching many probes: pytrace against bpftrace,
side by side in one run, medians over rounds and pytrace/bpftrace ratios
(below 1 means pytrace is better for every row).

    sudo .venv/bin/python scripts/bench_attach.py [--rounds 3] [--only pytrace|bpftrace]

The program is `tracepoint:syscalls:sys_enter_* { @[probe] = count(); }`:
every syscall tracepoint of the kernel (~360).

  attach (ms)        spawn (after three seconds of quiet, so that the kernel has
                     finished freeing the previous run's events) -> the
                     probes-attached notice on stderr
                     (__BPFTRACE_NOTIFY_PROBES_ATTACHED, which both print once
                     every probe is attached); pytrace with its compile cache
                     warm (one untimed run first) and with --no-cache
  exit (ms)          SIGINT (Ctrl-C) -> the tracer has exited (maps printed,
                     everything detached)
  kill (ms)          SIGKILL -> the tracer is reaped: the kernel closes its
                     perf events as the process dies, and each tracepoint's
                     detach waits out an RCU grace period
  left attached      programs of the tracer still loaded after it exited
                     (should be 0)

Needs root, and bench.py next to this script (its helpers are shared).
"""

from __future__ import annotations

import argparse
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

PROG = "tracepoint:syscalls:sys_enter_* { @[probe] = count(); }"
NOTIFY = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


SETTLE = 3.0  # seconds of quiet before each start: the kernel finishes freeing the last run's events


def start_attached(argv: list[str], timeout: float) -> tuple[subprocess.Popen, float]:
    """Start the tracer and wait for its attached notice: (process, seconds)."""
    time.sleep(SETTLE)
    env = dict(os.environ, **{NOTIFY: "1"})
    t0 = time.monotonic()
    proc = subprocess.Popen(argv + ["-e", PROG], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True, bufsize=0)
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    seen = b""
    while NOTIFY.encode() not in seen:
        left = t0 + timeout - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            bench._stop(proc)
            raise bench.NotAvailable(f"not attached: {bench._tail(seen.decode(errors='replace'))}")
        if sel.select(left):
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                proc.wait()
                raise bench.NotAvailable(f"exited: {bench._tail(seen.decode(errors='replace'))}")
            seen += chunk
    attached = time.monotonic() - t0
    sel.close()
    return proc, attached


def drain(proc: subprocess.Popen) -> None:
    """Read stderr in the background so the tracer never blocks on it."""
    import threading

    def read():
        while proc.stderr.read(65536):
            pass

    threading.Thread(target=read, daemon=True).start()


def run_exit(argv: list[str], timeout: float) -> tuple[float, float, int]:
    """(attach seconds, SIGINT -> exit seconds, programs left)."""
    proc, attached = start_attached(argv, timeout)
    drain(proc)
    time.sleep(0.5)
    ids = set(bench.prog_ids_of(proc.pid))
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        bench._stop(proc)
        raise bench.NotAvailable(f"no exit within {timeout:.0f}s of SIGINT") from None
    exited = time.monotonic() - t0
    return attached, exited, len(ids & loaded_prog_ids())


def run_kill(argv: list[str], timeout: float) -> float:
    """SIGKILL -> reaped, seconds."""
    proc, _ = start_attached(argv, timeout)
    drain(proc)
    time.sleep(0.5)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return time.monotonic() - t0


def loaded_prog_ids() -> set[int]:
    """Every BPF program id the kernel has loaded now."""
    ids, current = set(), 0
    while (current := _next_id(current)) is not None:
        ids.add(current)
    return ids


def _next_id(current: int) -> int | None:
    """BPF_PROG_GET_NEXT_ID after `current`, or None at the end."""
    import ctypes
    import struct

    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(struct.pack("<II", current, 0).ljust(16, b"\0"))
    nr = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine, 321)
    if libc.syscall(nr, 11, attr, 16) != 0:
        return None
    return struct.unpack_from("<II", attr.raw)[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.common_options(ap, rounds=3, timeout=180.0)
    args = ap.parse_args()
    found = bench.tracers(args, "bench_attach", no_cache=True)
    if found is None:
        return 2
    variants, down, live = found
    for v in live:
        if v.label == "pytrace":
            run_kill(v.argv, args.timeout)  # fills the compile cache
    metrics = ["attach (ms)", "exit (ms)", "kill (ms)", "left attached"]
    data = {(m, v.label): bench.Series() for m in metrics for v in variants}
    for r in range(args.rounds):
        for v in bench._rotated(live, r):
            try:
                attached, exited, left = run_exit(v.argv, args.timeout)
                data["attach (ms)", v.label].values.append(attached * 1e3)
                data["exit (ms)", v.label].values.append(exited * 1e3)
                data["left attached", v.label].values.append(left)
                killed = run_kill(v.argv, args.timeout)
                data["kill (ms)", v.label].values.append(killed * 1e3)
                if args.verbose:
                    print(f"round {r + 1} {v.label}: attach {attached * 1e3:.0f} ms, exit {exited * 1e3:.0f} ms,"
                          f" kill {killed * 1e3:.0f} ms, left {left}", file=sys.stderr)
            except bench.NotAvailable as e:
                bench._failed(data, tuple(metrics), v.label, e)
    bench.print_medians(metrics, [v.label for v in variants], data, down, args.rounds)
    print(f"\nprogram: {PROG}")
    bench.print_notes(data, down)
    return 0


if __name__ == "__main__":
    sys.exit(main())
