"""SIGINT and SIGTERM during a trace: they ask the event loop to stop.

The handlers only set a flag; the signal's number also lands in a pipe
(signal.set_wakeup_fd) that the loop polls, so a signal wakes the loop
whenever it arrives and is never lost.
"""

from __future__ import annotations

import os
import _signal as signal  # the C module: `signal` imports enum, ~2 ms of every start


class StopSignals:
    """SIGINT/SIGTERM request a stop. The handlers set a flag, and the
    signal's number also lands in a pipe (signal.set_wakeup_fd) that the event
    loop polls, so a signal wakes the loop whenever it arrives. Outside the
    main thread signals cannot be caught; the pipe then just stays quiet."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        import _thread  # not threading: that costs ~4 ms of every start

        self._lock = _thread.allocate_lock()  # request() from another thread vs closing the pipe
        self.requested = False
        self._saved: list = []
        self._saved_wakeup = None
        self.fd = -1
        self._w = -1

    def _handler(self, signum, frame) -> None:
        self.requested = True

    def __enter__(self) -> StopSignals:
        self.fd, self._w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            # Handlers before the wakeup fd: a signal in between sets the
            # flag, which the loop checks before it first waits.
            for sig in self.SIGNALS:
                self._saved.append((sig, signal.signal(sig, self._handler)))
            self._saved_wakeup = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
            from pytrace.stop import requested_early

            self.requested = self.requested or requested_early()
        except ValueError:  # not the main thread: no signals, a quiet pipe
            pass
        except BaseException:
            self.__exit__()
            raise
        return self

    def request(self) -> None:
        """Ask the loop to stop, from any thread (the Python API's stream()
        does when its consumer stops reading)."""
        self.requested = True
        with self._lock:
            if self._w >= 0:
                try:
                    os.write(self._w, bytes([signal.SIGTERM]))
                except OSError:
                    pass

    def read_pipe(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        if any(b in self.SIGNALS for b in data):
            self.requested = True

    def __exit__(self, *exc) -> None:
        if self._saved_wakeup is not None:
            signal.set_wakeup_fd(self._saved_wakeup)
            self._saved_wakeup = None
        for sig, old in reversed(self._saved):
            signal.signal(sig, old)
        self._saved.clear()
        with self._lock:
            if self.fd >= 0:
                fd, w = self.fd, self._w
                self.fd = self._w = -1
                os.close(fd)
                os.close(w)
