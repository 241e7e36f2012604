"""The -c command: started before the probes are loaded, run after they
are attached, and never left behind."""

from __future__ import annotations

import os
import _signal as signal  # the C module: `signal` imports enum, ~2 ms of every start

from pytrace.runtime.errors import RuntimeFailure


def split_command(command) -> list[str]:
    """The -c command as an argv: a string split as a shell would (without
    running one), or a sequence taken as it is. Raises RuntimeFailure when
    it cannot be read or is empty."""
    if isinstance(command, str):
        import shlex  # imports re: only when there is a command to split

        try:
            argv = shlex.split(command)
        except ValueError as err:
            raise RuntimeFailure(f"cannot read the -c command {command!r}: {err}.") from None
    else:
        argv = [str(word) for word in command]
    if not argv:
        raise RuntimeFailure("the -c command is empty.")
    return argv


class HeldChild:
    """The -c command, forked at once (so its pid is known when the programs
    are loaded) but blocked reading a pipe until `release()`; closing the pipe
    instead makes it exit quietly without running the command."""

    def __init__(self, argv: list[str]):
        path = find_executable(argv[0])
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                try:
                    signal.set_wakeup_fd(-1)
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        signal.signal(sig, signal.SIG_DFL)
                except ValueError:
                    pass
                os.close(w)
                if os.read(r, 1) == b"x":
                    os.close(r)
                    os.execv(path, argv)
            except BaseException as err:  # noqa: BLE001
                try:
                    os.write(2, f"pytrace: cannot run {argv[0]}: {err}\n".encode())
                finally:
                    os._exit(127)
            os._exit(0)
        os.close(r)
        self.pid = pid
        self._go = w
        self.released = False
        self.reaped = False
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError as err:
            os.close(w)  # the child exits without running the command
            os.waitpid(pid, 0)
            raise RuntimeFailure(f"cannot watch the -c command: pidfd_open failed ({err.strerror}).")

    def release(self) -> None:
        os.write(self._go, b"x")
        os.close(self._go)
        self._go = -1
        self.released = True

    def _exited(self, timeout: float = 0) -> bool:
        import select

        p = select.poll()
        p.register(self.pidfd, select.POLLIN)
        return bool(p.poll(timeout * 1000))

    def terminate(self) -> None:
        """Stop the command if it still runs (bpftrace does, when the trace ends first)."""
        if self.released and not self._exited():
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        if self.reaped:
            return
        if self._go >= 0:
            os.close(self._go)  # never released: it exits without running the command
            self._go = -1
        else:
            self.terminate()
        if not self._exited(2.0):
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(self.pid, 0)
        os.close(self.pidfd)
        self.reaped = True


def find_executable(name: str) -> str:
    import shutil

    path = name if "/" in name else shutil.which(name)
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise RuntimeFailure(f"cannot run the -c command: {name!r} is not an executable file"
                             + ("." if "/" in name else " found in PATH."))
    return path
