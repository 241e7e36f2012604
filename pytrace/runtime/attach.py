"""Attach loaded programs to their events, detach them, run BEGIN/END.

    tracepoint  (category, event)  -> perf event on the tracepoint (bcc)
    interval    (period_ns,)       -> software cpu-clock perf event on CPU 0 (bcc)
    begin/end   ()                 -> not attached: run once with BPF_PROG_TEST_RUN

Detaching is closing the perf event fd (bcc disables it first).
"""

from __future__ import annotations

import errno as E
import fcntl
import os

from pytrace.runtime import bpf, libbcc
from pytrace.runtime.errors import AttachError, NeedRootError, RuntimeFailure
from pytrace.runtime.loader import Program

PERF_TYPE_SOFTWARE = 1
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_EVENT_IOC_DISABLE = 0x2401  # _IO('$', 1)


class Attachment:
    """A program attached through a perf event; `close()` detaches it."""

    def __init__(self, program: Program, perf_fd: int):
        self.program = program
        self.perf_fd = perf_fd

    def disable(self) -> None:
        if self.perf_fd >= 0:
            fcntl.ioctl(self.perf_fd, PERF_EVENT_IOC_DISABLE, 0)

    def close(self) -> None:
        fd, self.perf_fd = self.perf_fd, -1
        if fd >= 0:
            libbcc.bpf_close_perf_event_fd(fd)


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


def attach(program: Program) -> Attachment:
    spec = program.spec
    if spec.kind == "tracepoint":
        return _attach_tracepoint(program, *spec.target)
    if spec.kind == "interval":
        (period_ns,) = spec.target
        fd = libbcc.bpf_attach_perf_event(
            program.fd, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, int(period_ns), 0, -1, 0, -1
        )
        if fd < 0:
            raise _attach_failure(spec.name, libbcc.errno(), "a cpu-clock perf event")
        return Attachment(program, fd)
    raise AttachError(f"pytrace cannot attach probes of kind {spec.kind!r} ({spec.name}).")


def _attach_tracepoint(program: Program, category: str, event: str) -> Attachment:
    from pytrace import tracefs  # not at import: BEGIN-only scripts never need it

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
    fd = libbcc.bpf_attach_tracepoint(program.fd, category.encode(), event.encode())
    if fd < 0:
        raise _attach_failure(name, libbcc.errno(), "the tracepoint")
    return Attachment(program, fd)


def _attach_failure(name: str, err: int, what: str) -> RuntimeFailure:
    if err in (E.EPERM, E.EACCES):
        if not bpf.can_use_bpf():
            return NeedRootError()
        return AttachError(
            f"the kernel refused to attach {name} to {what} ({os.strerror(err)}); perf events"
            " may be restricted (kernel.perf_event_paranoid, lockdown)."
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
