"""bpf() commands bcc does not wrap usefully, as plain functions.

- `prog_load`: BPF_PROG_LOAD with a verifier log we keep. bcc_prog_load
  would do the same, but prints the whole log plus hints to stderr whenever
  a load fails, and the CLI has to say it in one sentence instead.
- `prog_test_run`: BPF_PROG_TEST_RUN (no bcc wrapper), which runs BEGIN and
  END programs once.

Also the small facts about the machine the loader needs (possible CPUs,
capabilities). Failures raise OSError(errno); callers turn them into
`pytrace.runtime.errors` exceptions with context.
"""

from __future__ import annotations

import ctypes as ct
import errno as E
import os

from pytrace.runtime import libbcc

BPF_PROG_LOAD = 5
BPF_PROG_TEST_RUN = 10
BPF_RAW_TRACEPOINT_OPEN = 17
BPF_LINK_CREATE = 28
BPF_PERF_EVENT = 41  # the attach type of a link to a perf event

BPF_LOG_LEVEL1 = 1
BPF_LOG_STATS = 4

_INSN = 8
LD_IMM64 = 0x18          # BPF_LD | BPF_DW | BPF_IMM
PSEUDO_MAP_FD = 1
PSEUDO_MAP_VALUE = 2
CALL = 0x85              # BPF_JMP | BPF_CALL
PSEUDO_KFUNC_CALL = 2
PSEUDO_BTF_ID = 3  # an ld_imm64 of a kernel variable, by its BTF id


class _ProgLoadAttr(ct.Structure):
    """union bpf_attr, the BPF_PROG_LOAD part (up to log_true_size, 6.4+)."""

    _fields_ = [
        ("prog_type", ct.c_uint32),
        ("insn_cnt", ct.c_uint32),
        ("insns", ct.c_uint64),
        ("license", ct.c_uint64),
        ("log_level", ct.c_uint32),
        ("log_size", ct.c_uint32),
        ("log_buf", ct.c_uint64),
        ("kern_version", ct.c_uint32),
        ("prog_flags", ct.c_uint32),
        ("prog_name", ct.c_char * 16),
        ("prog_ifindex", ct.c_uint32),
        ("expected_attach_type", ct.c_uint32),
        ("prog_btf_fd", ct.c_uint32),
        ("func_info_rec_size", ct.c_uint32),
        ("func_info", ct.c_uint64),
        ("func_info_cnt", ct.c_uint32),
        ("line_info_rec_size", ct.c_uint32),
        ("line_info", ct.c_uint64),
        ("line_info_cnt", ct.c_uint32),
        ("attach_btf_id", ct.c_uint32),
        ("attach_prog_fd", ct.c_uint32),
        ("core_relo_cnt", ct.c_uint32),
        ("fd_array", ct.c_uint64),
        ("core_relos", ct.c_uint64),
        ("core_relo_rec_size", ct.c_uint32),
        ("log_true_size", ct.c_uint32),
    ]


class _TestRunAttr(ct.Structure):
    """union bpf_attr, the BPF_PROG_TEST_RUN part."""

    _fields_ = [
        ("prog_fd", ct.c_uint32),
        ("retval", ct.c_uint32),
        ("data_size_in", ct.c_uint32),
        ("data_size_out", ct.c_uint32),
        ("data_in", ct.c_uint64),
        ("data_out", ct.c_uint64),
        ("repeat", ct.c_uint32),
        ("duration", ct.c_uint32),
        ("ctx_size_in", ct.c_uint32),
        ("ctx_size_out", ct.c_uint32),
        ("ctx_in", ct.c_uint64),
        ("ctx_out", ct.c_uint64),
        ("flags", ct.c_uint32),
        ("cpu", ct.c_uint32),
        ("batch_size", ct.c_uint32),
        ("_pad", ct.c_uint32),
    ]


def _sys_bpf(cmd: int, attr: ct.Structure) -> int:
    ret = libbcc.syscall_bpf(_SYS_BPF, cmd, ct.addressof(attr), ct.sizeof(attr))
    if ret < 0:
        err = libbcc.errno()
        raise OSError(err, os.strerror(err))
    return ret


_SYS_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}.get(
    os.uname().machine, 321
)


class ProgLoadError(OSError):
    """BPF_PROG_LOAD failed; `log` is the verifier log ("" if none), and
    `log_true_size` the size the whole log needs (kernels >= 6.4, else 0)."""

    def __init__(self, err: int, log: str, log_true_size: int = 0):
        super().__init__(err, os.strerror(err))
        self.log = log
        self.log_true_size = log_true_size


# The kernel keeps the END of a log that overflows the buffer (6.4+), which
# is the part that says what is wrong; past _LOG_MAX we settle for that.
_LOG_START = 1 << 18
_LOG_MAX = 1 << 24


def prog_load(prog_type: int, name: str, insns: bytes, *, log_level: int = 0,
              license: bytes = b"GPL", attach_type: int = 0, attach_btf_id: int = 0,
              subprograms: tuple[int, ...] = ()) -> tuple[int, str]:
    """Load a program: (fd, log). The log is "" unless log_level was asked
    for. On failure the load is retried with a verifier log (log level 1,
    the buffer grown on ENOSPC) and ProgLoadError carries that log.
    `attach_type`/`attach_btf_id`: a tracing program's (fentry/fexit).
    `subprograms`: where callbacks start (instruction indexes), described
    to the kernel with FUNCS_BTF, which it requires of such programs."""
    license = (license, attach_type, attach_btf_id, subprograms)
    try:
        return _prog_load(prog_type, name, insns, log_level, 0 if not log_level else _LOG_START,
                          license)
    except ProgLoadError as first:
        if first.errno == E.EPERM:
            raise
    size = _LOG_START
    level = log_level | BPF_LOG_LEVEL1
    while True:
        try:
            fd, _ = _prog_load(prog_type, name, insns, level, size, license)
        except ProgLoadError as err:
            if err.errno == E.ENOSPC and size < _LOG_MAX:
                size = min(max(size * 4, err.log_true_size + 1), _LOG_MAX)
                continue
            raise
        # It failed once and loads now (a transient failure): keep it.
        return fd, ""


def _prog_load(prog_type: int, name: str, insns: bytes, log_level: int, log_size: int,
               license: tuple) -> tuple[int, str]:
    if len(insns) % _INSN:
        raise ValueError("instructions must be a multiple of 8 bytes")
    license, attach_type, attach_btf_id, subprograms = license
    code = ct.create_string_buffer(bytes(insns), len(insns))
    lic = ct.create_string_buffer(license)
    log = ct.create_string_buffer(log_size) if log_size else None
    attr = _ProgLoadAttr()
    attr.prog_type = prog_type
    attr.insn_cnt = len(insns) // _INSN
    attr.insns = ct.addressof(code)
    attr.license = ct.addressof(lic)
    if log is not None:
        attr.log_level = log_level
        attr.log_size = log_size
        attr.log_buf = ct.addressof(log)
    attr.prog_name = object_name(name).encode()
    attr.expected_attach_type = attach_type
    attr.attach_btf_id = attach_btf_id
    if subprograms:
        records = [0, FUNC_PROBE] + [v for start in subprograms for v in (start, FUNC_CALLBACK)]
        func_info = (ct.c_uint32 * len(records))(*records)
        attr.prog_btf_fd = funcs_btf_fd()
        attr.func_info_rec_size = 8
        attr.func_info = ct.addressof(func_info)
        attr.func_info_cnt = len(records) // 2
    try:
        fd = _sys_bpf(BPF_PROG_LOAD, attr)
    except OSError as err:
        text = log.value.decode(errors="replace") if log is not None else ""
        raise ProgLoadError(err.errno, text, attr.log_true_size) from None
    return fd, log.value.decode(errors="replace") if log is not None else ""


# The type information a program with callbacks must come with: the kernel
# wants a BTF FUNC for each function (func_info), though for static ones
# only their existence matters. Two suffice for every program: `probe`
# (long (void *ctx)) and `callback` (long (void *map, void *key, void
# *value, void *ctx)), both static, so the verifier follows their
# arguments from the calls rather than from these types.
BPF_BTF_LOAD = 18
FUNC_PROBE, FUNC_CALLBACK = 5, 6


def funcs_btf() -> bytes:
    """The BTF blob: 1 long, 2 void *, 3/4 the two prototypes, 5/6 the FUNCs."""
    import struct

    names = b"\0long\0ctx\0map\0key\0value\0probe\0callback\0"
    at = {n: names.index(b"\0" + n.encode() + b"\0") + 1 for n in ("long", "ctx", "map", "key", "value", "probe",
                                                                   "callback")}
    kind = lambda k, vlen=0, linkage=0: (k << 24) | vlen | linkage  # noqa: E731
    types = struct.pack("<IIII", at["long"], kind(1), 8, (1 << 24) | 64)                  # 1: INT long
    types += struct.pack("<III", 0, kind(2), 0)                                            # 2: PTR void
    types += struct.pack("<III", 0, kind(13, 1), 1) + struct.pack("<II", at["ctx"], 2)     # 3: (ctx)
    types += struct.pack("<III", 0, kind(13, 4), 1) + b"".join(
        struct.pack("<II", at[n], 2) for n in ("map", "key", "value", "ctx"))               # 4: (map, key, value, ctx)
    types += struct.pack("<III", at["probe"], kind(12), 3)                                  # 5: FUNC probe
    types += struct.pack("<III", at["callback"], kind(12), 4)                               # 6: FUNC callback
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(names))
    return header + types + names


class _BtfLoadAttr(ct.Structure):
    _fields_ = [("btf", ct.c_uint64), ("btf_log_buf", ct.c_uint64), ("btf_size", ct.c_uint32),
                ("btf_log_size", ct.c_uint32), ("btf_log_level", ct.c_uint32)]


_funcs_btf_fd: int | None = None


def funcs_btf_fd() -> int:
    """The FUNCS BTF loaded into the kernel, once per process."""
    global _funcs_btf_fd
    if _funcs_btf_fd is None:
        blob = funcs_btf()
        data = ct.create_string_buffer(blob, len(blob))
        attr = _BtfLoadAttr(btf=ct.addressof(data), btf_size=len(blob))
        _funcs_btf_fd = _sys_bpf(BPF_BTF_LOAD, attr)
    return _funcs_btf_fd


class _RawTracepointAttr(ct.Structure):
    """union bpf_attr, the BPF_RAW_TRACEPOINT_OPEN part."""

    _fields_ = [("name", ct.c_uint64), ("prog_fd", ct.c_uint32), ("_pad", ct.c_uint32),
                ("cookie", ct.c_uint64)]


def raw_tracepoint_open(event: str | None, prog_fd: int) -> int:
    """Attach a raw tracepoint program to `event` (or, None, a tracing
    program to the function it was loaded for): the fd that holds it."""
    name = ct.create_string_buffer(event.encode()) if event is not None else None
    attr = _RawTracepointAttr()
    attr.name = ct.addressof(name) if name is not None else 0
    attr.prog_fd = prog_fd
    return _sys_bpf(BPF_RAW_TRACEPOINT_OPEN, attr)


def prog_test_run(prog_fd: int) -> int:
    """Run a program once with an empty context (BEGIN/END): its return value."""
    attr = _TestRunAttr()
    attr.prog_fd = prog_fd
    _sys_bpf(BPF_PROG_TEST_RUN, attr)
    return attr.retval


class _PerfEventAttr(ct.Structure):
    """struct perf_event_attr (uapi linux/perf_event.h), up to its 128-byte
    version; the union fields go by their first name."""

    _fields_ = [
        ("type", ct.c_uint32),
        ("size", ct.c_uint32),
        ("config", ct.c_uint64),
        ("sample_period", ct.c_uint64),   # or sample_freq, with FREQ in flags
        ("sample_type", ct.c_uint64),
        ("read_format", ct.c_uint64),
        ("flags", ct.c_uint64),
        ("wakeup_events", ct.c_uint32),
        ("bp_type", ct.c_uint32),
        ("bp_addr", ct.c_uint64),         # or config1
        ("bp_len", ct.c_uint64),          # or config2
        ("branch_sample_type", ct.c_uint64),
        ("sample_regs_user", ct.c_uint64),
        ("sample_stack_user", ct.c_uint32),
        ("clockid", ct.c_int32),
        ("sample_regs_intr", ct.c_uint64),
        ("aux_watermark", ct.c_uint32),
        ("sample_max_stack", ct.c_uint16),
        ("_reserved_2", ct.c_uint16),
        ("aux_sample_size", ct.c_uint32),
        ("_reserved_3", ct.c_uint32),
        ("sig_data", ct.c_uint64),
        ("config3", ct.c_uint64),
    ]


PERF_FLAG_DISABLED = 1 << 0
PERF_FLAG_FREQ = 1 << 10
PERF_FLAG_ENABLE_ON_EXEC = 1 << 12
PERF_FLAG_INHERIT = 1 << 1
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_SET_BPF = 0x40042408
_SYS_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241, "riscv64": 241, "ppc64le": 319, "s390x": 331}.get(
    os.uname().machine, 298
)


def perf_event_open(ev_type: int, config: int, *, period: int = 0, freq: int = 0, pid: int = -1,
                    cpu: int = -1, bp_type: int = 0, bp_addr: int = 0, bp_len: int = 0,
                    on_exec: bool = False, inherit: bool = False) -> int:
    """A disabled perf event (perf_event_open(2)); raises OSError(errno).
    `on_exec`: the kernel enables it when the process next calls exec;
    `inherit`: threads (and processes) the task starts later get it too.
    Called directly rather than through bcc, whose wrapper prints its own
    message to stderr when the kernel refuses."""
    attr = _PerfEventAttr()
    attr.type = ev_type
    attr.size = ct.sizeof(attr)
    attr.config = config
    attr.sample_period = freq or period
    attr.flags = (PERF_FLAG_DISABLED | (PERF_FLAG_FREQ if freq else 0) | (PERF_FLAG_ENABLE_ON_EXEC if on_exec else 0)
                  | (PERF_FLAG_INHERIT if inherit else 0))
    attr.wakeup_events = 1
    attr.bp_type, attr.bp_addr, attr.bp_len = bp_type, bp_addr, bp_len
    fd = libbcc.syscall_perf_event_open(_SYS_PERF_EVENT_OPEN, ct.byref(attr), pid, cpu, -1, 0x8)
    if fd < 0:  # 0x8: PERF_FLAG_FD_CLOEXEC
        err = libbcc.errno()
        raise OSError(err, os.strerror(err))
    return fd


class _LinkCreateAttr(ct.Structure):
    """union bpf_attr, the BPF_LINK_CREATE part for a perf event."""

    _fields_ = [("prog_fd", ct.c_uint32), ("target_fd", ct.c_uint32), ("attach_type", ct.c_uint32),
                ("flags", ct.c_uint32), ("bpf_cookie", ct.c_uint64), ("_pad", ct.c_uint64 * 4)]


def attach_perf_event(perf_fd: int, prog_fd: int, cookie: int, enable: bool = True) -> int:
    """Run the program on each of the event's samples, with `cookie` for
    bpf_get_attach_cookie (which probe of a shared program fired), and
    enable it (unless the kernel will, at exec): the link's fd
    (BPF_LINK_CREATE, Linux 5.15+)."""
    import fcntl

    attr = _LinkCreateAttr()
    attr.prog_fd = prog_fd
    attr.target_fd = perf_fd
    attr.attach_type = BPF_PERF_EVENT
    attr.bpf_cookie = cookie
    link = _sys_bpf(BPF_LINK_CREATE, attr)
    if not enable:
        return link
    try:
        fcntl.ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0)
    except OSError:
        os.close(link)
        raise
    return link


def patch_ld_imm64(insns: bytearray, index: int, value: int, *, map_fd: bool,
                   map_value: bool = False) -> None:
    """Fill the ld_imm64 at instruction `index` (two 8-byte slots) with a map
    fd (src_reg = BPF_PSEUDO_MAP_FD), a pointer into a map's value
    (map_value: src_reg = BPF_PSEUDO_MAP_VALUE, the fd, and as the offset
    the addend the compiler left in the instruction), or a 64-bit constant
    (src_reg = 0)."""
    at = index * _INSN
    if at + 2 * _INSN > len(insns) or insns[at] != LD_IMM64:
        raise ValueError(f"instruction {index} is not an ld_imm64")
    if map_value:
        offset = int.from_bytes(insns[at + 4:at + 8], "little")
        insns[at + 1] = (insns[at + 1] & 0x0F) | (PSEUDO_MAP_VALUE << 4)
        insns[at + 4:at + 8] = value.to_bytes(4, "little")
        insns[at + 12:at + 16] = offset.to_bytes(4, "little")
        return
    src = PSEUDO_MAP_FD if map_fd else 0
    insns[at + 1] = (insns[at + 1] & 0x0F) | (src << 4)
    value &= (1 << 64) - 1
    insns[at + 4:at + 8] = (value & 0xFFFFFFFF).to_bytes(4, "little")
    insns[at + 12:at + 16] = (value >> 32).to_bytes(4, "little")


def object_name(name: str) -> str:
    """A kernel object name (15 chars of [A-Za-z0-9_.]) for a map or probe."""
    if name.startswith("@"):
        name = "AT_" + name[1:]
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_.") else "_" for c in name)
    return cleaned[:15]


def possible_cpus() -> int:
    """How many CPUs per-CPU maps have a slot for (/sys/devices/system/cpu/possible)."""
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    return parse_cpu_list(text)


def possible_cpu_ids_end() -> int:
    """One past the highest possible CPU id: what a BPF program loops to when
    it reads every CPU's slot by id (the ids may have holes, `0-3,8-11`)."""
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    return cpu_ids_end(text)


def cpu_ids_end(text: str) -> int:
    """`0-3,8-11` -> 12."""
    return max(int(part.partition("-")[2] or part.partition("-")[0])
               for part in text.split(",") if part.strip()) + 1


def parse_cpu_list(text: str) -> int:
    """`0-3,5` -> 5: how many CPUs the list names (the kernel sizes per-CPU
    values by num_possible_cpus(), a count, as libbpf does)."""
    count = 0
    for part in text.split(","):
        part = part.strip()
        if part:
            low, _, high = part.partition("-")
            count += int(high or low) - int(low) + 1
    return count


# Capability numbers (uapi linux/capability.h).
CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39


def can_use_bpf() -> bool:
    """Root, or CAP_SYS_ADMIN, or both CAP_BPF and CAP_PERFMON in effect."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
                    break
            else:
                return False
    except OSError:
        return False
    has = lambda cap: bool(caps >> cap & 1)  # noqa: E731
    return has(CAP_SYS_ADMIN) or (has(CAP_BPF) and has(CAP_PERFMON))
