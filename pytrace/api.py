"""The Python API: run a bpftrace script and get its results as Python
values, or stream its output lines as they happen.

    import pytrace
    r = pytrace.run('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }', duration=2)
    r.maps["@"]           # {"bash": 12, ...}
    for line in pytrace.stream('interval:ms:100 { printf("tick\\n"); }'):
        ...               # "tick", as each arrives; break detaches everything

A script error raises TraceError, whose message is the diagnostic the CLI
prints (file:line:col, the line, a caret). Loading this module loads
neither Lark, llvmlite nor libbcc: compiling and tracing do, when called.
"""

from __future__ import annotations

__all__ = ["Result", "TraceError", "run", "stream"]


class TraceError(Exception):
    """The script cannot be compiled or traced. `str(err)` is the message
    the pytrace command would print (a rendered diagnostic for script
    errors); `detail` holds more (a verifier log), or ""."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


class Result:
    """What a trace produced.

    maps       {"@name": value} for every map: an int or str for a scalar
               map, a dict by key for a keyed one (tuple keys for several
               keys); hist()/lhist() values are pytrace.values.Histogram,
               avg()/stats() values Stats
    lines      the printf/print/time output, a line per item, in order
    lost       records the ring buffer had no room for
    dropped    {"@name": updates refused because the map was full}
    truncated  strings that filled their buffer (may have been cut short)
    lost_stacks  stacks the full stack map could not keep (they read as empty)
    """

    def __init__(self, maps: dict, lines: list[str], lost: int = 0, dropped: dict | None = None,
                 truncated: int = 0, lost_stacks: int = 0):
        self.maps = maps
        self.lines = lines
        self.lost = lost
        self.dropped = dropped or {}
        self.truncated = truncated
        self.lost_stacks = lost_stacks

    def __repr__(self) -> str:
        return f"Result(maps={self.maps!r}, lines={len(self.lines)} lines)"


def _compile(script: str, args, pid: int | None):
    from pytrace.diagnostics import CompileError, UserError
    from pytrace.driver import CompileOptions, compile_source
    from pytrace.source import SourceFile

    source = SourceFile("stdin", script)
    try:
        return compile_source(source, CompileOptions(params=tuple(str(a) for a in args), pid=pid or -1))
    except CompileError as err:
        raise TraceError(err.diagnostics.render()) from None
    except UserError as err:
        raise TraceError(str(err)) from None


def _trace(script: str, compiled, capture, command, duration, stop=None, pid: int | None = None) -> None:
    from pytrace.diagnostics import Diagnostic
    from pytrace.runtime.child import split_command
    from pytrace.runtime.errors import RuntimeFailure, VerifierError
    from pytrace.runtime.session import RunOptions, run as run_session
    from pytrace.source import SourceFile

    try:
        argv = split_command(command) if command is not None else None
        run_session(compiled, RunOptions(command=argv, output=capture, quiet=True,
                                         duration=duration, stop=stop, pid=pid))
    except VerifierError as err:
        source = SourceFile(compiled.source_name, script)
        message = f"the BPF verifier rejected probe {err.probe.name}: {err.reason}"
        raise TraceError(Diagnostic(err.span, message).render(source), err.detail) from None
    except RuntimeFailure as err:
        raise TraceError(str(err), err.detail) from None


def run(script: str, duration: float | None = None, command=None, args=(), pid: int | None = None) -> Result:
    """Trace until the script calls exit(), `command` (a string or an argv
    list, started once the probes are attached) ends, `duration` seconds
    pass, the `pid` process (-p: uprobes attach to it, other probes fire
    only in it) exits, or SIGINT/SIGTERM arrive; then return the Result.
    `args` are the positional parameters ($1, $2, ...)."""
    from pytrace.output.capture import Capture

    compiled = _compile(script, args, pid)
    lines: list[str] = []
    capture = Capture(lines.append)
    _trace(script, compiled, capture, command, duration, pid=pid)
    return Result(capture.maps, lines, capture.lost_records, capture.dropped_updates,
                  capture.truncated_strings, capture.lost_stacks)


def stream(script: str, duration: float | None = None, command=None, args=(), pid: int | None = None):
    """Yield the output lines as they happen, while tracing in a thread of
    its own. Leaving the loop (break, an exception, the generator closed)
    stops the trace and detaches everything before the generator returns."""
    import queue
    import threading

    from pytrace.output.capture import Capture
    from pytrace.runtime.signals import StopSignals

    compiled = _compile(script, args, pid)
    items: queue.SimpleQueue = queue.SimpleQueue()
    done = object()
    failure: list[BaseException] = []
    stop = StopSignals()

    def trace() -> None:
        try:
            _trace(script, compiled, Capture(items.put), command, duration, stop=stop, pid=pid)
        except BaseException as err:  # handed to the consumer's thread
            failure.append(err)
        finally:
            items.put(done)

    thread = threading.Thread(target=trace, name="pytrace-stream", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                break
            yield item
    finally:
        stop.request()
        thread.join()
    if failure:
        raise failure[0]
