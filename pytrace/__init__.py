"""pytrace: a bpftrace-compatible dynamic tracer written in Python.

    import pytrace
    r = pytrace.run('tracepoint:sched:sched_switch { @[comm] = count(); }', duration=1)
    r.maps["@"]    # {"bash": 12, ...}

Importing this package is cheap on purpose: it loads neither the compiler
(Lark, llvmlite) nor libbcc, nor even the API module until it is used. Each
stage imports what it needs when it runs.
"""

__version__ = "0.1.0"

__all__ = ["Result", "TraceError", "run", "stream", "__version__"]


def run(script, duration=None, command=None, args=()):
    """Trace `script` and return a Result (see pytrace.api.run)."""
    from pytrace.api import run as _run

    return _run(script, duration=duration, command=command, args=args)


def stream(script, duration=None, command=None, args=()):
    """Yield output lines as they happen (see pytrace.api.stream)."""
    from pytrace.api import stream as _stream

    return _stream(script, duration=duration, command=command, args=args)


def __getattr__(name):
    if name in ("Result", "TraceError"):
        from pytrace import api

        return getattr(api, name)
    raise AttributeError(f"module 'pytrace' has no attribute {name!r}")
