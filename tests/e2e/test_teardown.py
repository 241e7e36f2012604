"""Nothing stays behind: after any way pytrace ends, the kernel holds none
of its programs and the -c command is gone; without root it says so."""

from __future__ import annotations

import ctypes
import os
import platform
import shutil
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.kernel

_SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 11, 13, 15
_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(cmd: int, attr: ctypes.Array) -> int:
    return _libc.syscall(_SYS_BPF, cmd, attr, ctypes.sizeof(attr))


def loaded_program_names() -> list[str]:
    """The names of every BPF program in the kernel."""
    names, prog_id = [], 0
    while True:
        attr = (ctypes.c_uint32 * 4)(prog_id, 0, 0, 0)
        if _bpf(BPF_PROG_GET_NEXT_ID, attr) != 0:
            return names
        prog_id = attr[1]
        fd_attr = (ctypes.c_uint32 * 4)(prog_id, 0, 0, 0)
        fd = _bpf(BPF_PROG_GET_FD_BY_ID, fd_attr)
        if fd < 0:
            continue
        info = ctypes.create_string_buffer(256)
        info_attr = (ctypes.c_uint64 * 2)(fd | (ctypes.sizeof(info) << 32), ctypes.addressof(info))
        if _bpf(BPF_OBJ_GET_INFO_BY_FD, info_attr) == 0:
            # struct bpf_prog_info: name is char[16] at offset 64.
            names.append(info.raw[64:80].split(b"\0")[0].decode())
        os.close(fd)


def ours() -> list[str]:
    return [n for n in loaded_program_names() if n.startswith(("tracepoint_", "interval_", "begin_", "end_"))]


def wait_until_gone(timeout: float = 5.0) -> list[str]:
    """Programs are freed a little after their last fd closes (RCU)."""
    deadline = time.monotonic() + timeout
    while (left := ours()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


SCRIPT = "tracepoint:sched:sched_switch { @[comm] = count(); } interval:ms:50 { @t = count(); }"


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "exit"])
def test_kernel_holds_nothing_after_exit(pytrace_cmd, how):
    assert wait_until_gone() == [], "programs of an earlier run are still loaded"
    script = SCRIPT + (" interval:ms:2000 { exit(); }" if how == "exit" else "")
    proc = subprocess.Popen([*pytrace_cmd, "-e", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    time.sleep(1.0)
    assert len(ours()) >= 2, "the trace's programs should be loaded while it runs"
    if how != "exit":
        proc.send_signal(getattr(signal, how))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert wait_until_gone() == []


def test_c_command_is_not_left_running(pytrace_cmd):
    """A trace that ends first takes its -c command down with it (SIGTERM, as
    bpftrace does; like bpftrace, only the command itself is signalled)."""
    proc = subprocess.Popen([*pytrace_cmd, "-c", "sleep 30", "-e", "interval:ms:200 { exit(); }"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    leftovers = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert leftovers == []
    assert wait_until_gone() == []


def test_not_root_is_one_clear_sentence(pytrace_cmd):
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    proc = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *pytrace_cmd,
                           "-e", "BEGIN { exit(); }"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: pytrace needs root to load BPF programs and read tracepoints; run it with sudo"
