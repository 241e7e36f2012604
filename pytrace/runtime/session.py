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

import os

from pytrace.program import (
    COUNTER_LOST, COUNTER_STACKS, COUNTER_TRUNCATED, COUNTERS_NAME, RINGBUF_NAME, STACKS_NAME, CompiledProgram,
    counter_dropped,
)
from pytrace import settings
from pytrace.runtime.child import HeldChild
from pytrace.runtime.errors import LoadError, NeedRootError, RuntimeFailure
from pytrace.runtime.signals import StopSignals

TYPE_CHECKING = False  # not `from typing import ...`: typing costs ~6 ms to import
if TYPE_CHECKING:
    from contextlib import ExitStack
    from typing import TextIO


NOTIFY_ENV = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


class RunOptions:
    """How to run: the -c command (already split), where output goes, -v.
    (A plain class: importing dataclasses would cost ~20 ms per start.)

    `output` is the Output everything goes through; without one, bpftrace
    0.17's text goes to `out`. `quiet` (-q) leaves out the banner."""

    def __init__(self, command: list[str] | None = None, out: TextIO | None = None,
                 verbose: bool = False, err: TextIO | None = None, output=None,
                 quiet: bool = False, map_keys_max: int | None = None, on_ready=None,
                 duration: float | None = None, stop=None, pid: int | None = None):
        self.command = command
        self.out = out if out is not None else sys.stdout
        self.verbose = verbose          # -v: verifier statistics on `err`
        self.err = err                  # where -v notes go (None: sys.stderr)
        self.output = output
        self.quiet = quiet
        self.map_keys_max = map_keys_max  # None: from the environment
        self.on_ready = on_ready          # called once every probe is attached
        self.duration = duration          # seconds to trace (None: until exit/-c/signal)
        self.stop = stop                  # a StopSignals to use (another thread may request())
        self.pid = pid                    # -p: the process uprobes attach to; tracing ends when it exits


def run(program: CompiledProgram, options: RunOptions | None = None) -> int:
    """Load, attach and run `program` until it stops; print its output and
    maps on `options.out`. Returns the exit code (0). Raises a
    `RuntimeFailure` (one-sentence message) when the trace cannot run."""
    from pytrace.runtime.bpf import can_use_bpf

    from pytrace.aggregations import AGGREGATIONS, PLAIN

    options = options or RunOptions()
    if not can_use_bpf():
        raise NeedRootError()
    for spec in program.maps:
        if spec.value is not None and spec.value.kind not in AGGREGATIONS and spec.value.kind not in PLAIN:
            raise LoadError(
                f"map {spec.name} has a value kind pytrace cannot print ({spec.value.kind!r});"
                " this is a pytrace bug."
            )
    output = options.output
    if output is None:
        from pytrace.output.text import TextOutput

        output = TextOutput(options.out, options.err or sys.stderr)

    from contextlib import ExitStack

    with ExitStack() as stack:
        # Signals first: from here on SIGINT/SIGTERM stop the trace cleanly.
        stop = stack.enter_context(options.stop or StopSignals())
        if not options.quiet:
            output.attached(program.attached_count)
        return _Session(program, options, output, stack, stop).run()


def attach_order(programs: list) -> list:
    """The programs in the order to attach them, so that probes on one
    event run in the script's order, as bpftrace's do: the kernel runs a
    uprobe's consumers newest first (rows with newest_first: attached last
    first), a tracepoint's perf events oldest first."""
    from pytrace.probe_kinds import kind

    later = [p for p in programs if not kind(p.spec.kind).newest_first]
    return [p for p in reversed(programs) if kind(p.spec.kind).newest_first] + later


def _stack_reader(stacks):
    """A stack's frames from the stack map by its hash: the value is the
    byte count bpf_get_stack wrote, then the addresses."""
    import struct

    def frames(stack_hash: int) -> list[int]:
        raw = stacks.lookup(struct.pack("<Q", stack_hash))
        if raw is None:
            return []
        nbytes = int.from_bytes(raw[:8], "little")
        return list(struct.unpack_from(f"<{nbytes // 8}Q", raw, 8))

    return frames


def _watch(pid: int) -> int:
    """A pidfd of the -p process: readable when it exits."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        raise RuntimeFailure(f"cannot trace process {pid} (-p): there is no such process.") from None
    except OSError as err:
        raise RuntimeFailure(f"cannot watch process {pid} (-p): {err.strerror}.") from None


def phase(program) -> str:
    """When a program runs: "begin", "event" (attached) or "end"."""
    from pytrace.probe_kinds import kind

    return kind(program.spec.kind).phase


class _Session:
    def __init__(self, program: CompiledProgram, options: RunOptions, output,
                 stack: ExitStack, stop: StopSignals):
        self.program = program
        self.options = options
        self.output = output
        self.stack = stack
        self.stop = stop

    def run(self) -> int:
        from pytrace.runtime import attach, bpf, loader
        from pytrace.runtime.events import RecordHandler, RingBuffer
        from pytrace.runtime.maps import Map, keys_max
        from pytrace.runtime.printf import FormatError

        program, stack, stop = self.program, self.stack, self.stop
        child = None
        if self.options.command:
            child = HeldChild(self.options.command)
            stack.callback(child.reap)
        self.target = None
        if self.options.pid:
            self.target = _watch(self.options.pid)
            stack.callback(os.close, self.target)

        ncpus = bpf.possible_cpus()
        cpu_ids = bpf.possible_cpu_ids_end()
        limit = self.options.map_keys_max or keys_max(program.settings)
        self.keys_limit = limit
        from pytrace.runtime.maps import stacks_spec
        from pytrace.runtime.names import Names

        names = Names(program.probe_names, program.probe_funcs)
        stack.callback(names.close)
        maps: list[Map] = []
        for spec in program.maps:
            if spec.symbol == STACKS_NAME:
                spec = stacks_spec(spec)
            m = Map(spec, ncpus, limit, names)
            stack.callback(m.close)
            maps.append(m)
            if spec.symbol == STACKS_NAME:
                names.stacks = _stack_reader(m)
        map_fds = {m.spec.symbol: m.fd for m in maps}
        self.maps = maps
        self.ring = None
        self.counters = None
        self.lost_reported = 0
        for m in maps:
            if RINGBUF_NAME in (m.spec.symbol, m.spec.name):
                self.ring = RingBuffer(m.fd)
                stack.callback(self.ring.close)
            elif m.spec.symbol == COUNTERS_NAME:
                self.counters = m
        try:
            self.handler = RecordHandler(program.outputs, self.output, {m.spec.symbol: m for m in maps},
                                         names=names)
        except FormatError as err:
            raise LoadError(f"{err} (a pytrace bug).") from None

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
                cpu_ids=cpu_ids,
            )
            stack.callback(prog.close)
            programs.append(prog)
            loaded[probe.function] = prog
            if self.options.verbose:
                stats = "; ".join(ln.strip() for ln in prog.log.splitlines() if ln.strip())
                self._note(f"{probe.name}: {stats or 'loaded'}")

        # BEGIN's records are held until every probe is attached (bpftrace
        # prints them from its event loop, after its probes-attached notice),
        # unless BEGIN called exit(): then nothing else is attached or run.
        held: list[bytes] = []
        for prog in programs:
            if phase(prog) == "begin" and not self.handler.would_exit(held):
                attach.run_once(prog)
                held += self._collect()
        if self.handler.would_exit(held):
            self.handler.handle(held)
            self.output.flush()
            held = []

        attachments = []
        by_symbol = {m.spec.symbol: m for m in maps}
        if not self.handler.exit_seen and not stop.requested:
            for prog in programs:
                if phase(prog) == "event" and prog.spec.dispatch is not None:
                    table, index = prog.spec.dispatch
                    by_symbol[table].put(index, prog.fd)  # its dispatcher runs it
            for prog in attach_order(programs):
                if stop.requested:  # attaching hundreds of probes takes a while
                    break
                if phase(prog) == "event" and prog.spec.dispatch is None:
                    a = attach.attach(prog, self.options.pid or -1, child.pid if child else -1)
                    stack.callback(a.close)
                    attachments.append(a)
            if child and not stop.requested:
                child.release()
            if not stop.requested:
                self._ready()
            if held:
                self.handler.handle(held)
                self.output.flush()
            self._loop(child)

        attach.stop_all(attachments)
        # Closing them is slow (an RCU wait per tracepoint): do it in a thread
        # while END runs and the maps print; the ExitStack joins it first.
        stack.callback(attach.close_in_background(attachments))
        if child:
            child.terminate()
        self._drain()
        self.handler.resume()
        for prog in programs:
            if phase(prog) == "end":
                attach.run_once(prog)
                self._drain()

        self._report_lost()
        # Big maps make an object or two per key and no cycles: the cyclic
        # GC would only walk them over and over (a third of the time).
        import gc

        gc.disable()
        try:
            if _setting("print_maps_on_exit", program):
                self.output.exit_maps([(m.spec, m.entries()) for m in maps if m.spec.printable])
        finally:
            gc.enable()
        self._report_dropped()
        return self.handler.exit_code

    def _ready(self) -> None:
        """Every probe is attached: tell whoever waits for it (bpftrace's
        test engine sets NOTIFY_ENV and waits for the line on stderr)."""
        if os.environ.get(NOTIFY_ENV):
            err = self.options.err or sys.stderr
            err.write(NOTIFY_ENV + "\n")
            err.flush()
        if self.options.on_ready is not None:
            self.options.on_ready()

    def _report_dropped(self) -> None:
        """Say which maps lost updates because they were full, and how many
        strings were cut short."""
        if self.counters is None:
            return
        words = self.counters.words()
        if words[COUNTER_TRUNCATED]:
            self.output.truncated(words[COUNTER_TRUNCATED])
        if words[COUNTER_STACKS]:
            stacks = next(m for m in self.maps if m.spec.symbol == STACKS_NAME)
            self.output.stacks_lost(words[COUNTER_STACKS], stacks.max_entries)
        for index, m in enumerate(self.maps):
            if not m.spec.printable:
                break  # the user's maps come first
            count = words[counter_dropped(index)]
            if count:
                self.output.dropped(m.spec.name, count, m.max_entries)

    def _loop(self, child: HeldChild | None) -> None:
        import select

        ep = select.epoll()
        self.stack.callback(ep.close)
        if self.ring is not None:
            ep.register(self.ring.fd, select.EPOLLIN)
        ep.register(self.stop.fd, select.EPOLLIN)
        if child:
            ep.register(child.pidfd, select.EPOLLIN)
        if self.target is not None:
            ep.register(self.target, select.EPOLLIN)
        stop = self.stop
        next_lost_check = time.monotonic() + 1.0
        deadline = None if self.options.duration is None else time.monotonic() + self.options.duration
        while not stop.requested:
            child_exited = False
            wait = 1.0 if deadline is None else max(min(1.0, deadline - time.monotonic()), 0.0)
            for fd, _ in ep.poll(wait):
                if fd == stop.fd:
                    stop.read_pipe()
                elif (child and fd == child.pidfd) or fd == self.target:
                    child_exited = True
            self._drain(once=True)
            if time.monotonic() >= next_lost_check:
                self._report_lost()
                next_lost_check = time.monotonic() + 1.0
            if self.handler.exit_seen or child_exited:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break

    def _report_lost(self) -> None:
        """Say how many records the full ring buffer dropped since the last
        report, as bpftrace says it ("Lost N events")."""
        if self.counters is None:
            return
        total = self.counters.words()[COUNTER_LOST]
        if total > self.lost_reported:
            self.output.lost(total - self.lost_reported)
            self.lost_reported = total

    def _collect(self) -> list[bytes]:
        """Every record in the ring buffer now, unhandled."""
        records: list[bytes] = []
        if self.ring is not None:
            while True:
                batch = self.ring.read()
                records += batch
                if len(batch) < self.ring.BATCH:
                    break
        return records

    def _drain(self, once: bool = False) -> None:
        """Print the pending records: one batch, or (once=False) all of them."""
        ring = self.ring
        if ring is None:
            return
        wrote = False
        while True:
            records = ring.read()
            if records:
                self.handler.handle(records)
                wrote = True
            if once or len(records) < ring.BATCH:
                break
        if wrote:
            self.output.flush()

    def _note(self, text: str) -> None:
        err = self.options.err or sys.stderr
        err.write(text + "\n")
        err.flush()


def _setting(name: str, program):
    """A run-time setting: environment, then the script's config block."""
    try:
        return settings.resolve(name, program.settings)
    except settings.SettingError as e:
        raise LoadError(f"{e}.") from None
