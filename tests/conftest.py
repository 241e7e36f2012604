"""Shared pytest set-up for every test tier.

- The `kernel` marker: a test that loads BPF into the running kernel. Such a
  test skips, with the reason, when the kernel cannot be used here (not root,
  no BTF, bpf() refused). With PYTRACE_REQUIRE_KERNEL=1 (CI sets it) *any* skip
  of a kernel test, including one the test asks for itself, is reported as a
  failure instead, so a green CI run really ran them. Known kernel limitations
  belong in `xfail(strict=True)`, which stays an xfail.
- `--update-goldens`: golden-file tests rewrite their expected output instead
  of comparing (read the diff before committing it).
- Fixtures for end-to-end tests: `pytrace_cmd`, `run_pytrace`, `build_c`.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REQUIRE_KERNEL_ENV = "PYTRACE_REQUIRE_KERNEL"


def _require_kernel() -> bool:
    return os.environ.get(REQUIRE_KERNEL_ENV, "") not in ("", "0")


# ---- options and markers ------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files with the current output instead of comparing",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: loads BPF into the running kernel (needs root and BPF); skips when "
        f"impossible, fails instead when {REQUIRE_KERNEL_ENV}=1",
    )


def pytest_report_header(config: pytest.Config) -> str:
    reason = kernel_unavailable_reason()
    state = "usable" if reason is None else f"unusable ({reason})"
    return f"pytrace: kernel {state}; {REQUIRE_KERNEL_ENV}={int(_require_kernel())}"


@pytest.fixture(scope="session")
def update_goldens(pytestconfig: pytest.Config) -> bool:
    """True when golden tests should rewrite their expected files."""
    return bool(pytestconfig.getoption("--update-goldens"))


# ---- can the kernel be used? --------------------------------------------------

# bpf(2) syscall numbers; other architectures skip the syscall probe.
_SYS_BPF = {"x86_64": 321, "aarch64": 280, "armv7l": 386, "riscv64": 280, "ppc64le": 361, "s390x": 351}
_BPF_MAP_CREATE = 0
_BPF_MAP_TYPE_ARRAY = 2


def _probe_bpf_syscall() -> str | None:
    """Create and close a one-entry array map; None when bpf() works."""
    nr = _SYS_BPF.get(platform.machine())
    if nr is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 4)(_BPF_MAP_TYPE_ARRAY, 4, 8, 1)  # type, key, value, entries
    fd = libc.syscall(nr, _BPF_MAP_CREATE, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd < 0:
        err = ctypes.get_errno()
        return f"bpf(BPF_MAP_CREATE) failed: {os.strerror(err)}"
    os.close(fd)
    return None


@functools.cache
def kernel_unavailable_reason() -> str | None:
    """Why BPF programs cannot be loaded here, or None when they can."""
    if sys.platform != "linux":
        return f"not Linux ({sys.platform})"
    if os.geteuid() != 0:
        return "needs root (loads BPF programs)"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "kernel has no BTF (/sys/kernel/btf/vmlinux missing)"
    return _probe_bpf_syscall()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") is not None:
        reason = kernel_unavailable_reason()
        if reason is not None:
            pytest.skip(f"kernel test: {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and _require_kernel()
        and item.get_closest_marker("kernel") is not None
        and not hasattr(report, "wasxfail")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"kernel test skipped while {REQUIRE_KERNEL_ENV}=1: {reason}"


# ---- running pytrace ----------------------------------------------------------


@pytest.fixture(scope="session")
def pytrace_cmd() -> list[str]:
    """The command that starts pytrace, as an argv prefix."""
    for candidate in (Path(sys.executable).parent / "pytrace", REPO / ".venv" / "bin" / "pytrace"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    return [sys.executable, "-m", "pytrace"]


@dataclass
class PytraceResult:
    """What a pytrace run did. Unpacks as `rc, stdout, stderr = result`."""

    rc: int  # exit status; -N when killed by signal N
    stdout: str
    stderr: str
    timed_out: bool  # it was still running at `timeout` and had to be stopped
    duration: float  # seconds from start to exit

    def __iter__(self) -> Iterator:
        return iter((self.rc, self.stdout, self.stderr))


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _communicate(proc: subprocess.Popen, timeout: float) -> tuple[str, str] | None:
    try:
        return proc.communicate(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        return None


def run_pytrace_process(
    cmd: Sequence[str],
    args: Sequence[str],
    timeout: float = 30.0,
    sigint_after: float | None = None,
    *,
    input: str | None = None,
    cwd: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    kill_grace: float = 5.0,
) -> PytraceResult:
    """Run `cmd + args` in a session of its own and collect its output.

    `sigint_after`: send SIGINT (as Ctrl-C would, to the whole session) after
    that many seconds. At `timeout` it gets SIGINT, then SIGKILL `kill_grace`
    seconds later; the result says `timed_out`. Anything the run leaves behind
    in its session (e.g. a `-c` child) is killed at the end.
    """
    full_env = None if env is None else {**os.environ, **env}
    start = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, *args],
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        cwd=cwd,
        env=full_env,
        start_new_session=True,
    )
    timed_out = False
    try:
        out: tuple[str, str] | None = None
        pending_input = input
        if sigint_after is not None and sigint_after < timeout:
            out = _communicate_first(proc, pending_input, sigint_after)
            pending_input = None
            if out is None:
                _signal_group(proc, signal.SIGINT)
        if out is None:
            out = _communicate_first(proc, pending_input, timeout - (time.monotonic() - start))
        if out is None:
            timed_out = True
            _signal_group(proc, signal.SIGINT)
            out = _communicate(proc, kill_grace)
        if out is None:
            _signal_group(proc, signal.SIGKILL)
            out = proc.communicate()
    finally:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        _signal_group(proc, signal.SIGKILL)  # leftovers in its session
    return PytraceResult(proc.returncode, out[0], out[1], timed_out, time.monotonic() - start)


def _communicate_first(proc: subprocess.Popen, input: str | None, timeout: float) -> tuple[str, str] | None:
    # communicate() may be called again after a TimeoutExpired, but the input
    # must only be given the first time.
    try:
        return proc.communicate(input=input, timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        return None


@pytest.fixture
def rejected(run_pytrace) -> Callable[..., str]:
    """`rejected(program, *options)` -> what pytrace printed on stderr for a
    program it must refuse (exit code 1, nothing attached): the error tests
    compare the whole rendered message."""

    def run(text: str, *options: str) -> str:
        result = run_pytrace([*options, "-e", text], timeout=20)
        assert result.rc == 1, (result.rc, result.stdout, result.stderr)
        return result.stderr

    return run


@pytest.fixture
def run_pytrace(pytrace_cmd: list[str]) -> Callable[..., PytraceResult]:
    """`run_pytrace(args, timeout=30, sigint_after=None, *, input=, cwd=, env=)`.

    Example: `rc, out, err = run_pytrace(["-e", "BEGIN { exit(); }"], timeout=10)`.
    See `run_pytrace_process` for the signals sent.
    """

    def run(args: Sequence[str], timeout: float = 30.0, sigint_after: float | None = None, **kw) -> PytraceResult:
        if pytrace_cmd[1:] == ["-m", "pytrace"]:
            # Not installed: make `-m pytrace` find this checkout from any cwd.
            env = dict(kw.pop("env", None) or {})
            path = os.environ.get("PYTHONPATH")
            env["PYTHONPATH"] = str(REPO) + (os.pathsep + path if path else "")
            kw["env"] = env
        return run_pytrace_process(pytrace_cmd, args, timeout, sigint_after, **kw)

    return run


# ---- building C workloads -----------------------------------------------------


@pytest.fixture
def build_c(tmp_path: Path) -> Callable[..., Path]:
    """`build_c(source, name="prog", flags=(), cxx=False, extra={})` -> path
    of the built binary.

    Compiles the C source text with `gcc -g -O0 -pthread` (like the shared
    conformance cases; `cxx`: C++ with g++) into the test's tmp_path, with
    the `extra` sources ({file name: text}) linked in. Skips when the
    compiler is missing.
    """

    def build(source: str, name: str = "prog", flags: Sequence[str] = (), cxx: bool = False,
              extra: dict[str, str] | None = None) -> Path:
        compiler = shutil.which("g++" if cxx else "gcc")
        if compiler is None:
            pytest.skip("gcc/g++ not found (scripts/setup.sh --test installs them)")
        src = tmp_path / f"{name}.{'cc' if cxx else 'c'}"
        exe = tmp_path / name
        src.write_text(source)
        others = []
        for file_name, text in (extra or {}).items():
            path = tmp_path / file_name
            path.write_text(text)
            others.append(str(path))
        proc = subprocess.run(
            [compiler, "-g", "-O0", "-pthread", "-o", str(exe), str(src), *others, *flags],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.fail(f"{compiler} failed on {src}:\n{proc.stderr}", pytrace=False)
        return exe

    return build
