"""Stop requests (SIGINT, SIGTERM) that arrive before the trace runs.

Python's default SIGINT handling raises KeyboardInterrupt wherever the
interpreter happens to be, and during imports that exception can be
swallowed (in a weakref callback), leaving a trace that ignores Ctrl-C. So
the CLI installs these handlers first thing; they only note the request,
and the runtime's own handlers, once installed, stop at once when a request
was noted here.
"""

# The C module under `signal`: `signal` itself imports enum, ~6 ms during
# which a Ctrl-C would still raise KeyboardInterrupt.
import _signal

SIGNALS = (_signal.SIGINT, _signal.SIGTERM)
_requested = False


def _note(signum, frame) -> None:
    global _requested
    _requested = True


def install_early() -> None:
    for sig in SIGNALS:
        _signal.signal(sig, _note)


def requested_early() -> bool:
    return _requested
