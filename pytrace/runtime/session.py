"""Run a compiled program: the whole life of a trace, as bpftrace 0.17 runs it.

    Attaching N probes...         banner (before anything is loaded)
    fork the -c command, held     (its pid is the load-time constant cpid)
    create maps, load programs    (relocations patched; verifier log kept)
    run BEGIN (BPF_PROG_TEST_RUN), print its records
    attach the other probes, release the -c command
    loop: epoll(ring buffer, signal pipe, child pidfd) -> print records
    stop: detach, run END, print records, "\\n\\n", then every map
    teardown in reverse order, on every path (an ExitStack)

The loop stops on exit(), SIGINT/SIGTERM (checked after every wake-up, so a
signal is never lost), or when the -c command exits (after a last drain).

Importing this module loads no C library: the kernel-facing modules are
imported by `run()`.
"""

from __future__ import annotations

import sys
import time

from pytrace.program import LOST_NAME, RINGBUF_NAME, CompiledProgram
from pytrace.runtime.child import HeldChild
from pytrace.runtime.errors import LoadError, NeedRootError
from pytrace.runtime.signals import StopSignals

TYPE_CHECKING = False  # not `from typing import ...`: typing costs ~6 ms to import
if TYPE_CHECKING:
    from contextlib import ExitStack
    from typing import TextIO


# The ValueSpec kinds this runtime knows how to merge and print.
VALUE_KINDS = ("count", "sum", "min", "max", "avg", "int", "str")


class RunOptions:
    """How to run: the -c command (already split), where output goes, -v.
    (A plain class: importing dataclasses would cost ~20 ms per start.)"""

    def __init__(self, command: list[str] | None = None, out: TextIO | None = None,
                 verbose: bool = False, err: TextIO | None = None):
        self.command = command
        self.out = out if out is not None else sys.stdout
        self.verbose = verbose          # -v: verifier statistics on `err`
        self.err = err                  # where -v notes go (None: sys.stderr)


def run(program: CompiledProgram, options: RunOptions | None = None) -> int:
    """Load, attach and run `program` until it stops; print its output and
    maps on `options.out`. Returns the exit code (0). Raises a
    `RuntimeFailure` (one-sentence message) when the trace cannot run."""
    from pytrace.runtime.bpf import can_use_bpf
    from pytrace.runtime.format import FormatError, compile_printf

    options = options or RunOptions()
    if not can_use_bpf():
        raise NeedRootError()
    try:
        printfs = [compile_printf(p) for p in program.printfs]
    except FormatError as err:
        raise LoadError(f"{err} (a pytrace bug).") from None
    for spec in program.maps:
        if spec.value is not None and spec.value.kind not in VALUE_KINDS:
            raise LoadError(
                f"map {spec.name} has a value kind pytrace cannot print ({spec.value.kind!r});"
                " this is a pytrace bug."
            )

    from contextlib import ExitStack

    with ExitStack() as stack:
        # Signals first: from here on SIGINT/SIGTERM stop the trace cleanly.
        stop = stack.enter_context(StopSignals())
        out = options.out
        n = program.attached_count
        out.write(f"Attaching {n} probe{'' if n == 1 else 's'}...\n")
        out.flush()
        return _Session(program, options, printfs, stack, stop).run()


class _Session:
    def __init__(self, program: CompiledProgram, options: RunOptions, printfs,
                 stack: ExitStack, stop: StopSignals):
        self.program = program
        self.options = options
        self.out = options.out
        self.printfs = printfs
        self.stack = stack
        self.stop = stop

    def run(self) -> int:
        from pytrace.runtime import attach, bpf, loader
        from pytrace.runtime.events import RecordHandler, RingBuffer
        from pytrace.runtime.maps import Map

        program, stack, stop = self.program, self.stack, self.stop
        child = None
        if self.options.command:
            child = HeldChild(self.options.command)
            stack.callback(child.reap)

        ncpus = bpf.possible_cpus()
        maps: list[Map] = []
        for spec in program.maps:
            m = Map(spec, ncpus)
            stack.callback(m.close)
            maps.append(m)
        map_fds = {m.spec.symbol: m.fd for m in maps}
        self.ring = None
        self.lost_map = None
        self.lost_reported = 0
        for m in maps:
            if RINGBUF_NAME in (m.spec.symbol, m.spec.name):
                self.ring = RingBuffer(m.fd)
                stack.callback(self.ring.close)
            elif m.spec.symbol == LOST_NAME:
                self.lost_map = m
        self.handler = RecordHandler(self.printfs)

        start_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        programs = []
        loaded: dict[str, loader.Program] = {}  # probes with one function share its program
        for probe in program.probes:
            if probe.function in loaded:
                programs.append(loaded[probe.function].for_probe(probe))
                continue
            prog = loader.load(
                probe, map_fds, cpid=child.pid if child else 0, start_ns=start_ns,
                source_name=program.source_name, verbose=self.options.verbose,
            )
            stack.callback(prog.close)
            programs.append(prog)
            loaded[probe.function] = prog
            if self.options.verbose:
                stats = "; ".join(ln.strip() for ln in prog.log.splitlines() if ln.strip())
                self._note(f"{probe.name}: {stats or 'loaded'}")

        for prog in programs:
            if prog.spec.kind == "begin" and not self.handler.exit_seen:
                attach.run_once(prog)
                self._drain()

        attachments = []
        if not self.handler.exit_seen and not stop.requested:
            for prog in programs:
                if stop.requested:  # attaching hundreds of probes takes a while
                    break
                if prog.spec.kind not in ("begin", "end"):
                    a = attach.attach(prog)
                    stack.callback(a.close)
                    attachments.append(a)
            if child and not stop.requested:
                child.release()
            self._loop(child)

        attach.stop_all(attachments)  # closing them (slow) is the ExitStack's job
        if child:
            child.terminate()
        self._drain()
        self.handler.resume()
        for prog in programs:
            if prog.spec.kind == "end":
                attach.run_once(prog)
                self._drain()

        self._report_lost()
        from pytrace.runtime.format import format_exit

        self.out.write(format_exit((m.spec, m.entries()) for m in maps if m.spec.printable))
        self.out.flush()
        return 0

    def _loop(self, child: HeldChild | None) -> None:
        import select

        ep = select.epoll()
        self.stack.callback(ep.close)
        if self.ring is not None:
            ep.register(self.ring.fd, select.EPOLLIN)
        ep.register(self.stop.fd, select.EPOLLIN)
        if child:
            ep.register(child.pidfd, select.EPOLLIN)
        stop = self.stop
        next_lost_check = time.monotonic() + 1.0
        while not stop.requested:
            child_exited = False
            for fd, _ in ep.poll(1.0):
                if fd == stop.fd:
                    stop.read_pipe()
                elif child and fd == child.pidfd:
                    child_exited = True
            self._drain(once=True)
            if time.monotonic() >= next_lost_check:
                self._report_lost()
                next_lost_check = time.monotonic() + 1.0
            if self.handler.exit_seen or child_exited:
                break

    def _report_lost(self) -> None:
        """Say how many records the full ring buffer dropped since the last
        report, as bpftrace says it ("Lost N events")."""
        if self.lost_map is None:
            return
        total = self.lost_map.counter_total()
        if total > self.lost_reported:
            self.out.write(f"Lost {total - self.lost_reported} events\n")
            self.out.flush()
            self.lost_reported = total

    def _drain(self, once: bool = False) -> None:
        """Print the pending records: one batch, or (once=False) all of them."""
        ring = self.ring
        if ring is None:
            return
        wrote = False
        while True:
            records = ring.read()
            text = self.handler.handle(records)
            if text:
                self.out.write(text)
                wrote = True
            if once or len(records) < ring.BATCH:
                break
        if wrote:
            self.out.flush()

    def _note(self, text: str) -> None:
        err = self.options.err or sys.stderr
        err.write(text + "\n")
        err.flush()
