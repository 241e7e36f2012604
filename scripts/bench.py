#!/usr/bin/env python3
"""Benchmark pytrace against bpftrace, side by side in one run.

    sudo .venv/bin/python scripts/bench.py [--rounds 5] [--only pytrace|bpftrace]

Each round runs every tracer once per measurement, in an order that rotates
from round to round, and the table shows medians over the rounds plus the
pytrace/bpftrace ratio (below 1 means pytrace is better for every row):

  start-up          spawn -> the `hi` line of `BEGIN { printf("hi\\n"); exit(); }`,
                    read unbuffered from a pipe; pytrace both with its compile
                    cache warm and with --no-cache (a full compile)
  exit              spawn -> process exit, for the same program
  peak RSS          ru_maxrss of the tracer (os.wait4), same program
  insns             xlated BPF instructions (xlated_prog_len / 8) of the program
                    `tracepoint:sched:sched_switch { @[comm] = count(); }`
  ns/event          run_time_ns / run_cnt of that program while a workload of
                    short sleeps switches context, with BPF run-time stats on
  printf lost (%)   a C program makes 300k getppid() calls as fast as it can,
                    each printing one line (`-c`); the share of lines not printed
                    (both tracers report them as lost)
  printf us/line    the tracer's CPU time (user + system, start-up included, the
                    workload's own time taken out) per line printed

A tracer's programs are found through its open file descriptors
(/proc/PID/fdinfo: `prog_id`), their sizes and run times through the bpf()
syscall (BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD); no bpftool needed.
Stats are switched on with BPF_ENABLE_STATS, which ends when this script does
(fallback: the kernel.bpf_stats_enabled sysctl, restored afterwards).

A tracer that cannot run a measurement shows `n/a` and the reason is printed
under the table. Needs root. Exits 0 whenever it could measure anything.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import selectors
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HI_PROG = 'BEGIN { printf("hi\\n"); exit(); }'
SWITCH_PROG = "tracepoint:sched:sched_switch { @[comm] = count(); }"
FLOOD_EVENTS = 300_000
PRINTF_PROG = 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d %s\\n", pid, comm); }'
FLOOD_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "flood-cpu-us %ld\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L
            + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    return 0;
}
"""

# ---- bpf(2) via ctypes --------------------------------------------------------

_SYS_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0
PROG_TYPES = {1: "socket_filter", 2: "kprobe", 5: "tracepoint", 7: "perf_event", 17: "raw_tracepoint", 26: "tracing"}

_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(cmd: int, attr: bytes) -> int:
    nr = _SYS_BPF.get(platform.machine())
    if nr is None:
        raise OSError(f"bpf() syscall number unknown on {platform.machine()}")
    buf = ctypes.create_string_buffer(attr, len(attr))
    ret = _libc.syscall(nr, cmd, buf, len(attr))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


@dataclass
class ProgInfo:
    id: int
    type: int
    name: str
    xlated_insns: int
    run_time_ns: int
    run_cnt: int


def prog_info(prog_id: int) -> ProgInfo:
    """bpf_prog_info of one program by id (needs CAP_SYS_ADMIN)."""
    fd = _bpf(BPF_PROG_GET_FD_BY_ID, struct.pack("=III", prog_id, 0, 0))
    try:
        info = ctypes.create_string_buffer(256)  # struct bpf_prog_info is ~230 bytes
        _bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, len(info), ctypes.addressof(info)))
        raw = info.raw
    finally:
        os.close(fd)
    # Offsets in struct bpf_prog_info (uapi linux/bpf.h).
    (ptype,) = struct.unpack_from("=I", raw, 0)
    (xlated_len,) = struct.unpack_from("=I", raw, 20)
    name = raw[64:80].split(b"\0", 1)[0].decode(errors="replace")
    run_time_ns, run_cnt = struct.unpack_from("=QQ", raw, 192)
    return ProgInfo(prog_id, ptype, name, xlated_len // 8, run_time_ns, run_cnt)


def prog_ids_of(pid: int) -> list[int]:
    """Ids of the BPF programs that process `pid` holds open."""
    ids = []
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return ids
    for fd in fds:
        try:
            if os.readlink(f"{fd_dir}/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.append(int(line.split()[1]))
        except OSError:
            continue
    return sorted(set(ids))


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a tracer might hold its programs in a child)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class BpfStats:
    """Kernel BPF run-time statistics on for the lifetime of this object."""

    SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"

    def __init__(self) -> None:
        self.fd: int | None = None
        self.restore: str | None = None
        try:
            self.fd = _bpf(BPF_ENABLE_STATS, struct.pack("=I", BPF_STATS_RUN_TIME))
            return
        except OSError:
            pass
        with open(self.SYSCTL) as f:
            self.restore = f.read().strip()
        with open(self.SYSCTL, "w") as f:
            f.write("1")

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.restore is not None:
            with open(self.SYSCTL, "w") as f:
                f.write(self.restore)
            self.restore = None


# ---- running a tracer ---------------------------------------------------------


class NotAvailable(Exception):
    """This tracer cannot do this measurement (the reason is the message)."""


def _tail(text: str, n: int = 3) -> str:
    lines = [
        ln for ln in text.strip().splitlines()
        if ln.strip() and "RLIMIT_MEMLOCK" not in ln and "setrlimit" not in ln.lower()
    ]
    return " | ".join(lines[-n:]) or "(no output)"


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGINT (repeated: bpftrace may miss one outside epoll_wait), then SIGKILL."""
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


@dataclass
class OneShot:
    first_line: float  # seconds, spawn -> "hi" line
    exit: float  # seconds, spawn -> exit
    maxrss_kib: int


def run_hi(argv: list[str], timeout: float) -> OneShot:
    """Run the BEGIN/printf/exit program; time the `hi` line and the exit."""
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            argv + ["-e", HI_PROG], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=err, bufsize=0, start_new_session=True,
        )
        first = None
        buf = b""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        fd = proc.stdout.fileno()
        try:
            while True:
                left = t0 + timeout - time.monotonic()
                if left <= 0:
                    raise NotAvailable(f"no exit within {timeout:.0f}s")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                if first is None:
                    buf += chunk
                    if b"hi\n" in buf and any(ln == b"hi" for ln in buf.split(b"\n")[:-1]):
                        first = time.monotonic() - t0
        except BaseException:
            _stop(proc, grace=2)
            raise
        finally:
            sel.close()
        _, status, ru = os.wait4(proc.pid, 0)
        t_exit = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if first is None or proc.returncode != 0:
            err.seek(0)
            raise NotAvailable(
                f"exit {proc.returncode}, {'no' if first is None else 'a'} 'hi' line: "
                f"{_tail(err.read().decode(errors='replace'))}"
            )
        return OneShot(first, t_exit, ru.ru_maxrss)


@dataclass
class PrintfCost:
    lost_pct: float
    us_per_line: float


def build_flood(folder: str) -> str:
    """The printf workload, compiled once per benchmark run."""
    src, exe = os.path.join(folder, "ptflood.c"), os.path.join(folder, "ptflood")
    with open(src, "w") as f:
        f.write(FLOOD_C)
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True, capture_output=True)
    return exe


def _text_line(raw: bytes) -> bool:
    return raw.endswith(b" ptflood\n") and raw.split(b" ", 1)[0].isdigit()


def run_printf(argv: list[str], flood: str, timeout: float, printed_line=_text_line) -> PrintfCost:
    """Run the printf flood under a tracer: lines printed, CPU per line.
    `printed_line(raw)` says whether an output line is one of the flood's."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv + ["-c", f"{flood} {FLOOD_EVENTS}", "-e", PRINTF_PROG], stdin=subprocess.DEVNULL,
            stdout=out, stderr=err, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:  # wait4 (not Popen.wait) for the tracer's rusage
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                _stop(proc, grace=2)
                raise NotAvailable(f"no exit within {timeout:.0f}s")
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        # Stream the output: holding 300k lines would grow this process, and
        # a forked tracer's ru_maxrss counts the parent's pages it started with.
        printed, flood_us, tail = 0, None, []
        for f in (out, err):
            f.seek(0)
            for raw in f:
                if printed_line(raw):
                    printed += 1
                elif raw.startswith(b"flood-cpu-us "):
                    flood_us = int(raw.split()[1])
                else:
                    tail = (tail + [raw.decode(errors="replace")])[-5:]
    if proc.returncode != 0:
        raise NotAvailable(f"exit {proc.returncode}: {_tail(''.join(tail))}")
    if not printed or flood_us is None:
        raise NotAvailable(f"{printed} lines printed, workload time {'missing' if flood_us is None else 'found'}")
    # wait4's rusage includes the -c workload, which the tracer reaped.
    cpu_us = (ru.ru_utime + ru.ru_stime) * 1e6 - flood_us
    return PrintfCost(100.0 * (FLOOD_EVENTS - printed) / FLOOD_EVENTS, cpu_us / printed)


@dataclass
class KernelCost:
    prog_name: str
    prog_type: str
    insns: int
    ns_per_event: float
    events: int


def _workload(seconds: float) -> int:
    """Short sleeps in a child process, i.e. many context switches; returns count."""
    code = (
        "import time\n"
        f"end = time.monotonic() + {seconds}\n"
        "n = 0\n"
        "while time.monotonic() < end:\n"
        "    time.sleep(0.00002); n += 1\n"
        "print(n)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


def run_switch(argv: list[str], seconds: float, timeout: float) -> KernelCost:
    """Run the sched_switch counter; measure its program during a workload."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv + ["-e", SWITCH_PROG], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
        )
        try:
            # Wait until one of its programs is attached: run_cnt starts to move.
            deadline = time.monotonic() + timeout
            before: dict[int, ProgInfo] = {}
            while time.monotonic() < deadline and proc.poll() is None:
                infos = _tree_progs(proc.pid)
                if any(i.run_cnt > 0 for i in infos.values()):
                    before = infos
                    break
                time.sleep(0.05)
            if not before:
                if proc.poll() is not None:
                    err.seek(0)
                    raise NotAvailable(f"exit {proc.returncode}: {_tail(err.read().decode(errors='replace'))}")
                raise NotAvailable(f"no running BPF program within {timeout:.0f}s")
            _workload(seconds)
            after = _tree_progs(proc.pid)
        finally:
            _stop(proc)
        best = None
        for pid_, a in after.items():
            b = before.get(pid_)
            if b is None:
                continue
            dcnt, dns = a.run_cnt - b.run_cnt, a.run_time_ns - b.run_time_ns
            if dcnt > 0 and (best is None or dcnt > best[1]):
                best = (a, dcnt, dns)
        if best is None:
            raise NotAvailable("its programs did not run during the workload")
        info, dcnt, dns = best
        return KernelCost(info.name, PROG_TYPES.get(info.type, str(info.type)), info.xlated_insns, dns / dcnt, dcnt)


def _tree_progs(pid: int) -> dict[int, ProgInfo]:
    infos = {}
    for p in process_tree(pid):
        for prog_id in prog_ids_of(p):
            try:
                infos[prog_id] = prog_info(prog_id)
            except OSError:
                pass  # unloaded meanwhile
    return infos


# ---- the benchmark ------------------------------------------------------------


@dataclass
class Series:
    """Samples of one metric for one tracer variant."""

    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None


@dataclass
class Variant:
    label: str  # column name
    argv: list[str]
    kernel: bool  # also run the sched_switch measurement


def compile_bytecode() -> None:
    """Byte-compile pytrace first: with PYTHONDONTWRITEBYTECODE set and stale
    .pyc files, every start would compile pytrace's modules again and the
    start-up rows would measure that."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "pytrace")],
                   stdout=subprocess.DEVNULL, check=False)


def ensure_tracefs() -> None:
    if os.path.isdir("/sys/kernel/tracing/events") or os.path.isdir("/sys/kernel/debug/tracing/events"):
        return
    subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=False)


def common_options(ap, rounds: int, timeout: float) -> None:
    """The options every benchmark script takes."""
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--only", choices=["pytrace", "bpftrace"])
    ap.add_argument("--pytrace", default=str(REPO / ".venv" / "bin" / "pytrace"))
    ap.add_argument("--bpftrace", default="bpftrace")
    ap.add_argument("--timeout", type=float, default=timeout)
    ap.add_argument("-v", "--verbose", action="store_true")


def tracers(args, name: str, no_cache: bool = False):
    """(variants, down: {label: why}, live variants) for a benchmark script's
    options, after the checks every one makes; None when not root."""
    if os.geteuid() != 0:
        print(f"{name}: needs root", file=sys.stderr)
        return None
    ensure_tracefs()
    compile_bytecode()
    variants = []
    if args.only in (None, "pytrace"):
        variants.append(Variant("pytrace", [args.pytrace], kernel=True))
        if no_cache:
            variants.append(Variant("pytrace --no-cache", [args.pytrace, "--no-cache"], kernel=True))
    if args.only in (None, "bpftrace"):
        variants.append(Variant("bpftrace", [args.bpftrace], kernel=True))
    down = {v.label: r for v in variants if (r := preflight(v, args.timeout))}
    return variants, down, [v for v in variants if v.label not in down]


def preflight(v: Variant, timeout: float) -> str | None:
    """Run the hi program once (this also warms pytrace's compile cache)."""
    if not shutil.which(v.argv[0]) and not os.access(v.argv[0], os.X_OK):
        return f"{v.argv[0]} not found"
    try:
        run_hi(v.argv, timeout)
    except NotAvailable as e:
        return str(e)
    except OSError as e:
        return str(e)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds to take medians over (default 5)")
    ap.add_argument("--only", choices=["pytrace", "bpftrace"], help="run one tracer only")
    ap.add_argument("--pytrace", default=str(REPO / ".venv" / "bin" / "pytrace"), help="pytrace command (default: .venv/bin/pytrace)")
    ap.add_argument("--bpftrace", default="bpftrace", help="bpftrace command (default: bpftrace)")
    ap.add_argument("--event-seconds", type=float, default=1.0, help="workload length per kernel-cost sample (default 1)")
    ap.add_argument("--timeout", type=float, default=60.0, help="give up on one run after this many seconds")
    ap.add_argument("--no-kernel", action="store_true", help="skip the sched_switch measurements (insns, ns/event)")
    ap.add_argument("--json", metavar="FILE", help="also write all samples as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every sample as it is taken")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("bench: needs root (the tracers load BPF programs)", file=sys.stderr)
        return 2
    ensure_tracefs()
    compile_bytecode()

    variants: list[Variant] = []
    if args.only in (None, "pytrace"):
        variants.append(Variant("pytrace", [args.pytrace], kernel=True))
        variants.append(Variant("pytrace --no-cache", [args.pytrace, "--no-cache"], kernel=False))
    if args.only in (None, "bpftrace"):
        variants.append(Variant("bpftrace", [args.bpftrace], kernel=True))

    down: dict[str, str] = {}
    for v in variants:
        reason = preflight(v, args.timeout)
        if reason:
            down[v.label] = reason
            print(f"bench: {v.label}: n/a: {reason}", file=sys.stderr)
    live = [v for v in variants if v.label not in down]

    metrics = ["first line (ms)", "exit (ms)", "peak RSS (MiB)", "insns (xlated)", "ns/event",
               "printf lost (%)", "printf us/line"]
    data: dict[tuple[str, str], Series] = {(m, v.label): Series() for m in metrics for v in variants}
    extra: dict[str, str] = {}

    stats = None
    if not args.no_kernel and any(v.kernel for v in live):
        try:
            stats = BpfStats()
        except OSError as e:
            print(f"bench: cannot enable BPF stats ({e}); ns/event will be n/a", file=sys.stderr)

    build_dir = tempfile.mkdtemp(prefix="pytrace-bench-")
    try:
        flood = build_flood(build_dir) if shutil.which("gcc") else None
        for r in range(args.rounds):
            order = _rotated(live, r)
            for v in order:
                try:
                    s = run_hi(v.argv, args.timeout)
                    data["first line (ms)", v.label].values.append(s.first_line * 1e3)
                    data["exit (ms)", v.label].values.append(s.exit * 1e3)
                    data["peak RSS (MiB)", v.label].values.append(s.maxrss_kib / 1024)
                    if args.verbose:
                        print(f"round {r + 1} {v.label}: first {s.first_line * 1e3:.1f} ms, exit {s.exit * 1e3:.1f} ms, "
                              f"rss {s.maxrss_kib / 1024:.1f} MiB", file=sys.stderr)
                except NotAvailable as e:
                    _failed(data, ("first line (ms)", "exit (ms)", "peak RSS (MiB)"), v.label, e)
            for v in order:
                if args.no_kernel or not v.kernel:
                    continue
                try:
                    k = run_switch(v.argv, args.event_seconds, args.timeout)
                    data["insns (xlated)", v.label].values.append(k.insns)
                    if stats is not None:
                        data["ns/event", v.label].values.append(k.ns_per_event)
                    else:
                        data["ns/event", v.label].errors.append("BPF stats unavailable")
                    extra[v.label] = f"{k.prog_type} program {k.prog_name!r}"
                    if args.verbose:
                        print(f"round {r + 1} {v.label}: {k.prog_type} {k.prog_name!r} {k.insns} insns, "
                              f"{k.ns_per_event:.0f} ns/event over {k.events} events", file=sys.stderr)
                except NotAvailable as e:
                    _failed(data, ("insns (xlated)", "ns/event"), v.label, e)
        # The printf floods run last, in their own rounds: each leaves the
        # machine busy for a moment (buffers freed, big files flushed), which
        # would slow the start-up samples that follow it.
        for r in range(args.rounds):
            order = _rotated(live, r)
            for v in order:
                if not v.kernel:
                    continue
                try:
                    if flood is None:
                        raise NotAvailable("gcc not found")
                    p = run_printf(v.argv, flood, args.timeout)
                    data["printf lost (%)", v.label].values.append(p.lost_pct)
                    data["printf us/line", v.label].values.append(p.us_per_line)
                    if args.verbose:
                        print(f"round {r + 1} {v.label}: printf lost {p.lost_pct:.1f}%, "
                              f"{p.us_per_line:.2f} us/line", file=sys.stderr)
                except NotAvailable as e:
                    _failed(data, ("printf lost (%)", "printf us/line"), v.label, e)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
        if stats is not None:
            stats.close()

    print_table(metrics, variants, data, down, extra, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {f"{m} | {label}": {"values": s.values, "errors": s.errors} for (m, label), s in data.items()},
                f, indent=2,
            )
    return 0


def _rotated(live: list, r: int) -> list:
    """This round's order of the tracers: each goes first in turn."""
    return live[r % len(live):] + live[: r % len(live)] if live else []


def _failed(data: dict, metrics: tuple, label: str, err: Exception) -> None:
    """A measurement could not be taken: keep why, for the n/a note."""
    for m in metrics:
        data[m, label].errors.append(str(err))


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x == int(x):
        return str(int(x))
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"


def print_medians(metrics, labels, data, down, rounds: int) -> None:
    """The table of medians, a column per tracer variant and the
    pytrace/bpftrace ratio ("-": not measured for that variant; "n/a":
    measuring it failed). Shared with bench_output.py."""
    has_both = "bpftrace" in labels and "pytrace" in labels
    header = ["metric (median)"] + labels + (["pytrace/bpftrace"] if has_both else [])
    rows = []
    for m in metrics:
        row = [m] + [_fmt(data[m, lb].median()) if data[m, lb].values or data[m, lb].errors or lb in down
                     else "-" for lb in labels]
        if has_both:
            p, b = data[m, "pytrace"].median(), data[m, "bpftrace"].median()
            row.append(f"{p / b:.2f}x" if p is not None and b else "n/a")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    print(f"\npytrace vs bpftrace: {rounds} rounds, interleaved; lower is better everywhere")
    line = lambda r: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))  # noqa: E731
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def print_notes(data, down) -> None:
    """Why a tracer could not measure something (n/a in the table)."""
    for (m, label), s in data.items():
        if s.errors:
            print(f"n/a {label} {m}: {s.errors[-1]}")
    for label, why in down.items():
        print(f"n/a {label}: {why}")


def print_table(metrics, variants, data, down, extra, args) -> None:
    print_medians(metrics, [v.label for v in variants], data, down, args.rounds)
    print()
    print(f"first line / exit / RSS: {HI_PROG}")
    print(f"insns / ns/event: {SWITCH_PROG} ({args.event_seconds:g}s of short sleeps per sample)")
    print(f"printf: {PRINTF_PROG} over {FLOOD_EVENTS} getppid() calls (-c)")
    for label, desc in extra.items():
        print(f"  {label}: {desc}")
    notes = dict(down)
    for (m, label), s in data.items():
        if s.errors and label not in notes:
            notes[label] = f"{m}: {s.errors[-1]}" + (f" ({len(s.errors)} of {args.rounds} runs)" if s.values else "")
    for label, why in notes.items():
        print(f"n/a {label}: {why}")


if __name__ == "__main__":
    sys.exit(main())
