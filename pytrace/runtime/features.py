"""What this kernel and this pytrace can do, for `--info`, in bpftrace's
layout (bpftrace's test suite reads it for REQUIRES_FEATURE).

Helpers are probed the way libbpf does: a three-instruction program that
calls the helper is loaded; the verifier names an unknown helper ("invalid
func", "unknown func") or one the program type may not call ("cannot
call"), and any other outcome (even a rejection for the arguments) means
the helper exists.
"""

from __future__ import annotations

import os
import struct

from pytrace.runtime import bpf

PROG_TYPE_TRACEPOINT = 5
PROG_TYPE_TRACING = 26

# (--info name, helper id)
HELPERS = (
    ("probe_read", 4), ("probe_read_str", 45), ("probe_read_user", 112), ("probe_read_user_str", 114),
    ("probe_read_kernel", 113), ("probe_read_kernel_str", 115), ("get_current_cgroup_id", 80),
    ("send_signal", 109), ("override_return", 58), ("get_boot_ns", 125), ("get_tai_ns", 208),
    ("get_func_ip", 173), ("jiffies64", 118), ("lookup_percpu_elem", 195),
)


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, dst | (src << 4), off, imm)


def has_helper(helper_id: int, prog_type: int = PROG_TYPE_TRACEPOINT) -> bool:
    insns = _insn(0x85, imm=helper_id) + _insn(0xB7) + _insn(0x95)  # call; r0 = 0; exit
    try:
        fd, _ = bpf.prog_load(prog_type, "pytrace_probe", insns)
    except bpf.ProgLoadError as err:
        return not any(text in err.log for text in ("invalid func", "unknown func", "cannot call"))
    os.close(fd)
    return True


def can_load_tracing() -> bool:
    """fentry/fexit: whether the kernel loads BPF tracing programs at all
    (this VM's lockdown refuses them)."""
    insns = _insn(0xB7) + _insn(0x95)
    try:
        fd, _ = bpf.prog_load(PROG_TYPE_TRACING, "pytrace_probe", insns, attach_type=24)  # BPF_TRACE_FENTRY
    except bpf.ProgLoadError as err:
        return err.errno not in (1, 22, 524)  # EPERM, EINVAL (no BTF id), ENOTSUPP
    os.close(fd)
    return True


def info_text(version: str, llvm: str) -> str:
    """The whole --info report."""
    uname = os.uname()
    yes = {True: "yes", False: "no"}
    helpers = {name: has_helper(hid) for name, hid in HELPERS}
    kprobes = os.path.exists("/sys/kernel/tracing/kprobe_events") or os.path.exists(
        "/sys/kernel/debug/tracing/kprobe_events")
    lines = ["System", f"  OS: {uname.sysname} {uname.release} {uname.version}", f"  Arch: {uname.machine}", "",
             "Build", f"  version: v{version}", f"  LLVM: {llvm}", "  unsafe uprobe: no", "  bfd: no",
             "  libdw (DWARF support): yes", "",
             "Kernel helpers"]
    lines += [f"  {name}: {yes[found]}" for name, found in helpers.items()]
    lines += ["  dpath: no", "  skboutput: no", "",
              "Kernel features", "  Instruction limit: 1000000", "  Loop support: yes",
              f"  btf: {yes[os.path.exists('/sys/kernel/btf/vmlinux')]}", "  map batch: yes",
              "  uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount): yes", "",
              "Map types", "  hash: yes", "  percpu hash: yes", "  array: yes", "  percpu array: yes",
              "  stack_trace: yes", "  perf_event_array: yes", "  ringbuf: yes", "",
              "Probe types", f"  kprobe: {yes[kprobes]}", "  tracepoint: yes", "  perf_event: yes",
              f"  kfunc: {yes[can_load_tracing()]}", "  iter:task: no", "  iter:task_file: no",
              "  kprobe_multi: no", "  uprobe_multi: no", "  raw_tp_special: yes"]
    return "\n".join(lines) + "\n"
