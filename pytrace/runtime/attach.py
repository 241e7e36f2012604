"""Attach loaded programs to their events, detach them, run BEGIN/END.

A probe kind's row (pytrace.probe_kinds) names its attach function here,
`attach_<name>(program) -> Attachment`:

    tracepoint  (category, event)  -> perf event on the tracepoint (bcc)
    interval    (period_ns,)       -> software cpu-clock perf event on CPU 0 (bcc)
    profile     (freq, period_ns)  -> cpu-clock perf event on every online CPU
    software    (config, count)    -> software perf event on every online CPU
    rawtracepoint (event,)         -> BPF_RAW_TRACEPOINT_OPEN (a link fd, not a perf event)
    kprobe      (function, offset) -> the kprobe PMU's perf event (kretprobe: its retprobe bit)
    uprobe      (path, offset, semaphore) -> the uprobe PMU's perf event (uretprobe: its
                                   retprobe bit; a USDT semaphore as ref_ctr_offset), in every
                                   process or, with -p, in that one
    hardware    (config, count)    -> hardware perf event on every online CPU
    begin/end   ()                 -> not attached: run once with BPF_PROG_TEST_RUN

An Attachment holds every perf event fd of one probe (a probe that samples
on each CPU has one per CPU). Detaching is closing them (bcc disables each
first).
"""

from __future__ import annotations

import ctypes as ct
import errno as E
import fcntl
import os

from pytrace import probe_kinds
from pytrace.runtime import bpf, libbcc
from pytrace.runtime.alternatives import same_event_elsewhere
from pytrace.runtime.errors import AttachError, NeedRootError, RuntimeFailure
from pytrace.runtime.loader import Program

PERF_EVENT_IOC_DISABLE = 0x2401  # _IO('$', 1)
PERF_TYPE_TRACEPOINT = 2


class Attachment:
    """A program attached through perf events (or, `perf=False`, through
    other fds, a raw tracepoint's); `close()` detaches it. `links` are the
    BPF links that tie the program to the perf events."""

    def __init__(self, program: Program, perf_fds: list[int], perf: bool = True):
        self.program = program
        self.perf_fds = list(perf_fds)
        self.perf = perf
        self.links: list[int] = []

    def disable(self) -> None:
        """Stop it firing at once (perf events only; the others stop when
        closed)."""
        if self.perf:
            for fd in self.perf_fds:
                fcntl.ioctl(fd, PERF_EVENT_IOC_DISABLE, 0)

    def close(self) -> None:
        links, self.links = self.links, []
        for fd in links:
            os.close(fd)
        fds, self.perf_fds = self.perf_fds, []
        for fd in fds:
            if self.perf:
                libbcc.bpf_close_perf_event_fd(fd)
            else:
                os.close(fd)


def stop_all(attachments: list[Attachment]) -> None:
    """Stop every probe from firing, at once. Detaching (closing) is slow:
    the kernel waits out an RCU grace period per tracepoint, one at a time
    under its event mutex (~70 ms each, half a minute for 360 syscall
    tracepoints). Disabling the perf events is an ioctl each, so END and the
    maps come out right away and the closes follow."""
    for a in attachments:
        a.disable()


def close_in_background(attachments: list[Attachment]):
    """Close (detach) stopped attachments in a thread of their own; returns
    the function that waits for it. The closes are syscalls that release
    the GIL, so the printing of the maps goes on meanwhile."""
    if not attachments:
        return lambda: None
    import threading

    def close_all() -> None:
        for a in attachments:
            a.close()

    thread = threading.Thread(target=close_all, name="pytrace-detach", daemon=True)
    thread.start()
    return thread.join


def attach(program: Program, pid: int = -1, child: int = -1) -> Attachment:
    """Attach a probe of an "event" kind with its row's function; `pid` is
    the -p process, for the kinds that attach to one (row.per_process), and
    `child` the -c command's (a watchpoint without -p watches that one)."""
    spec = program.spec
    row = probe_kinds.kind(spec.kind)
    if row.attach is None:
        raise AttachError(f"pytrace cannot attach probes of kind {spec.kind!r} ({spec.name}).")
    function = globals()["attach_" + row.attach]
    if row.name == "watchpoint" and pid <= 0:
        return function(program, child, on_exec=True)
    if row.per_process:
        return function(program, pid)
    return function(program)


def attach_interval(program: Program) -> Attachment:
    """A cpu-clock perf event on CPU 0 that fires every period."""
    (period_ns,) = program.spec.target
    return _perf_events(program, [dict(cpu=0)], probe_kinds.PERF_TYPE_SOFTWARE,
                        probe_kinds.PERF_COUNT_SW_CPU_CLOCK, int(period_ns), 0, "a cpu-clock perf event")


def attach_profile(program: Program) -> Attachment:
    """A cpu-clock perf event on every online CPU, by frequency or period."""
    freq, period = program.spec.target
    return _per_cpu(program, probe_kinds.PERF_TYPE_SOFTWARE, probe_kinds.PERF_COUNT_SW_CPU_CLOCK,
                    period, freq, "a cpu-clock perf event")


def attach_software(program: Program) -> Attachment:
    """A software perf event on every online CPU, every `count` events."""
    config, count = program.spec.target
    return _per_cpu(program, probe_kinds.PERF_TYPE_SOFTWARE, config, count, 0, "a software perf event")


def attach_hardware(program: Program) -> Attachment:
    """A hardware perf event on every online CPU, every `count` events."""
    config, count = program.spec.target
    return _per_cpu(program, probe_kinds.PERF_TYPE_HARDWARE, config, count, 0, "a hardware perf event")


def _per_cpu(program: Program, ev_type: int, config: int, period: int, freq: int, what: str) -> Attachment:
    """One perf event per online CPU (system-wide, pid -1), as bpftrace does."""
    return _perf_events(program, [dict(cpu=cpu) for cpu in online_cpus()], ev_type, config,
                        period, freq, what)


def _perf_events(program: Program, places: list[dict], ev_type: int, config: int, period: int,
                 freq: int, what: str) -> Attachment:
    """Perf events at `places` (perf_event_open's pid/cpu, and bp_addr/bp_len
    where the event takes them; on_exec: enabled when the process execs),
    each running the program through a link; all closed again when one
    fails."""
    attachment = Attachment(program, [])
    try:
        for place in places:
            try:
                fd = bpf.perf_event_open(ev_type, config, period=period, freq=freq, **place)
            except OSError as err:
                raise _attach_failure(program.spec.name, err.errno, what,
                                      hardware=ev_type == probe_kinds.PERF_TYPE_HARDWARE) from None
            attachment.perf_fds.append(fd)
            link(attachment, fd, enable=not place.get("on_exec"))
    except BaseException:
        attachment.close()
        raise
    return attachment


def link(attachment: Attachment, perf_fd: int, enable: bool = True) -> None:
    """Run the attachment's program on a perf event, its probe's id as the
    cookie (what `probe` reads where a wildcard's expansions share one
    program)."""
    spec = attachment.program.spec
    try:
        attachment.links.append(bpf.attach_perf_event(perf_fd, attachment.program.fd, spec.probe_id, enable))
    except OSError as err:
        raise _attach_failure(spec.name, err.errno, "its perf event") from None


def online_cpus() -> list[int]:
    """The ids of the online CPUs (/sys/devices/system/cpu/online: `0-3,6`)."""
    with open("/sys/devices/system/cpu/online") as f:
        text = f.read().strip()
    ids = []
    for part in text.split(","):
        if part.strip():
            low, _, high = part.partition("-")
            ids.extend(range(int(low), int(high or low) + 1))
    return ids


def attach_rawtracepoint(program: Program) -> Attachment:
    """BPF_RAW_TRACEPOINT_OPEN on the event's name."""
    (event,) = program.spec.target
    try:
        fd = bpf.raw_tracepoint_open(event, program.fd)
    except OSError as err:
        if err.errno == E.ENOENT:
            raise AttachError(f"cannot attach {program.spec.name}: the kernel has no raw tracepoint {event}.") from None
        raise _attach_failure(program.spec.name, err.errno, "the raw tracepoint") from None
    return Attachment(program, [fd], perf=False)


def pmu_type(name: str) -> int | None:
    """The perf type number of a dynamic PMU (kprobe, uprobe), or None when
    the kernel has none by that name."""
    try:
        with open(f"/sys/bus/event_source/devices/{name}/type") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def pmu_bit(name: str, field: str) -> int:
    """The config bit of a PMU's format field (`retprobe` is `config:0`)."""
    try:
        with open(f"/sys/bus/event_source/devices/{name}/format/{field}") as f:
            return int(f.read().split(":")[1].split("-")[0])
    except (OSError, ValueError, IndexError):
        return 0


def attach_kprobe(program: Program) -> Attachment:
    """A kprobe (or kretprobe) through the kprobe PMU: perf_event_open with
    the function's name in config1 and the offset in config2."""
    spec = program.spec
    func, offset = spec.target
    ptype = pmu_type("kprobe")
    if ptype is None:
        raise AttachError(f"cannot attach {spec.name}: this kernel has no kprobes (built without"
                          f" CONFIG_KPROBES){same_event_elsewhere(func)}")
    ret = 1 << pmu_bit("kprobe", "retprobe") if spec.kind == "kretprobe" else 0
    name = ct.create_string_buffer(func.encode())
    return _perf_events(program, [dict(cpu=0, bp_addr=ct.addressof(name), bp_len=offset)], ptype, ret,
                        0, 0, "a kprobe")


def attach_uprobe(program: Program, pid: int = -1) -> Attachment:
    """A uprobe (or uretprobe) through the uprobe PMU: perf_event_open with
    the binary's path in config1 and the file offset in config2; a USDT
    semaphore's file offset goes in the config's ref_ctr_offset bits (the
    kernel then counts the probe's users in every process that maps the
    file). System-wide (any process, on CPU 0's context) or, with -p, in
    one process on every CPU."""
    spec = program.spec
    path, offset, semaphore = spec.target
    ptype = pmu_type("uprobe")
    if ptype is None:
        raise AttachError(f"cannot attach {spec.name}: this kernel has no uprobes (built without"
                          " CONFIG_UPROBE_EVENTS).")
    config = 1 << pmu_bit("uprobe", "retprobe") if spec.kind == "uretprobe" else 0
    if semaphore:
        config |= semaphore << pmu_bit("uprobe", "ref_ctr_offset")
    name = ct.create_string_buffer(path.encode())
    place = dict(pid=pid, cpu=-1) if pid > 0 else dict(cpu=0)
    return _perf_events(program, [dict(place, bp_addr=ct.addressof(name), bp_len=offset)], ptype, config,
                        0, 0, "a uprobe")


PERF_TYPE_BREAKPOINT = 5
HW_BREAKPOINT_X = 4


def threads(pid: int) -> list[int]:
    """The thread ids of a process now (a watchpoint is per thread)."""
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return [pid]


def attach_watchpoint(program: Program, pid: int = -1, on_exec: bool = False) -> Attachment:
    """A hardware breakpoint (the breakpoint PMU) on the address, every
    access: in every thread of the -p process; in the -c command from its
    exec on (before it, the held child is still a copy of pytrace, whose
    memory is not the command's), its threads included; else on every CPU,
    whatever runs there (as bpftrace)."""
    spec = program.spec
    address, length, bp_type = spec.target
    if bp_type == HW_BREAKPOINT_X:
        length = ct.sizeof(ct.c_long)  # an execution breakpoint covers an instruction: the kernel wants this
    where = dict(bp_type=bp_type, bp_addr=address, bp_len=length)
    if pid > 0 and on_exec:
        places = [dict(where, pid=pid, cpu=-1, on_exec=True, inherit=True)]
    elif pid > 0:  # each thread now, and the threads they start later
        places = [dict(where, pid=tid, cpu=-1, inherit=True) for tid in threads(pid)]
    else:
        places = [dict(where, cpu=cpu) for cpu in online_cpus()]
    return _perf_events(program, places, PERF_TYPE_BREAKPOINT, 0, 1, 0, "a hardware breakpoint")


def attach_tracing(program: Program) -> Attachment:
    """A tracing program (fentry/fexit) attaches to the function it was
    loaded for: BPF_RAW_TRACEPOINT_OPEN without a name."""
    try:
        fd = bpf.raw_tracepoint_open(None, program.fd)
    except OSError as err:
        raise _attach_failure(program.spec.name, err.errno, "the kernel function") from None
    return Attachment(program, [fd], perf=False)


def attach_tracepoint(program: Program) -> Attachment:
    from pytrace import tracefs  # not at import: BEGIN-only scripts never need it

    category, event = program.spec.target
    name = program.spec.name
    try:
        root = tracefs.root()
    except tracefs.TracefsError as err:
        raise AttachError(f"cannot attach {name}: {err}.") from None
    if not tracefs.exists(category, event):
        raise AttachError(
            f"cannot attach {name}: the kernel has no tracepoint {category}:{event}"
            f" (not in {root}/events)."
        )
    return _perf_events(program, [dict(cpu=0)], PERF_TYPE_TRACEPOINT, tracefs.event_id(category, event),
                        1, 0, "the tracepoint")


def _attach_failure(name: str, err: int, what: str, hardware: bool = False) -> RuntimeFailure:
    if err in (E.EPERM, E.EACCES):
        if not bpf.can_use_bpf():
            return NeedRootError()
        return AttachError(
            f"the kernel refused to attach {name} to {what} ({os.strerror(err)}); perf events"
            " may be restricted (kernel.perf_event_paranoid, lockdown)."
        )
    if hardware and err in (E.ENOENT, E.ENODEV, E.EOPNOTSUPP):
        return AttachError(
            f"cannot attach {name}: this machine has no hardware performance counters (no CPU PMU;"
            " virtual machines often have none); software events such as software:cpu-clock work."
        )
    if err == E.ENOENT or err == E.ENODEV or err == E.EOPNOTSUPP:
        return AttachError(f"cannot attach {name}: this kernel does not support {what}.")
    return AttachError(f"cannot attach {name} to {what}: {os.strerror(err) if err else 'failed'}.")


def run_once(program: Program) -> None:
    """Run a BEGIN/END program once, now, on this CPU."""
    try:
        bpf.prog_test_run(program.fd)
    except OSError as err:
        raise RuntimeFailure(
            f"cannot run {program.spec.name}: BPF_PROG_TEST_RUN failed ({err.strerror})."
        ) from None
