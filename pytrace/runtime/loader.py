"""Relocate and load each probe's instructions.

A probe's `insns` come from the compiler with placeholder ld_imm64s; each
`Relocation` names what goes there:

    insn 3: ld_imm64 r1, 0   reloc @calls     ->  ld_imm64 r1, map_fd(@calls)  (src_reg 1)
    insn 7: ld_imm64 r2, 0   reloc CONST_CPID ->  ld_imm64 r2, 1234            (src_reg 0)
"""

from __future__ import annotations

import errno as E
import os
import re

from pytrace import probe_kinds
from pytrace.program import (
    CONST_CPID, CONST_NCPUS, CONST_START_NS, KADDR_PREFIX, KFUNCS, PERCPU_PREFIX, VALUE_SYMBOLS, ProbeSpec,
)
from pytrace.runtime import bpf
from pytrace.runtime.errors import LoadError, NeedRootError, VerifierError


class Program:
    """A loaded probe program: its spec and fd (and the verifier's stats
    line when asked for)."""

    def __init__(self, spec: ProbeSpec, fd: int, log: str = "", owns_fd: bool = True):
        self.spec = spec
        self.fd = fd
        self.log = log
        self.owns_fd = owns_fd

    def for_probe(self, spec: ProbeSpec) -> "Program":
        """The same loaded code, to attach for another probe; closing the
        original closes it (this view never closes the fd)."""
        return Program(spec, self.fd, self.log, owns_fd=False)

    def close(self) -> None:
        if self.owns_fd and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def relocate(probe: ProbeSpec, map_fds: dict[str, int], consts: dict[str, int]) -> bytes:
    """The probe's instructions with every relocation filled in."""
    insns = bytearray(probe.insns)
    for reloc in probe.relocations:
        if reloc.symbol in KFUNCS:
            _patch_kfunc_call(probe, insns, reloc)
            continue
        direct = reloc.symbol in VALUE_SYMBOLS
        if reloc.symbol in map_fds:
            value, is_map = map_fds[reloc.symbol], True
        elif reloc.symbol in consts:
            value, is_map = consts[reloc.symbol], False
        elif reloc.symbol.startswith(KADDR_PREFIX):
            value, is_map = kernel_address(reloc.symbol[len(KADDR_PREFIX):], probe), False
        elif reloc.symbol.startswith(PERCPU_PREFIX):
            _patch_btf_var(probe, insns, reloc, reloc.symbol[len(PERCPU_PREFIX):])
            continue
        else:
            raise LoadError(
                f"probe {probe.name} refers to unknown symbol {reloc.symbol!r} (a pytrace bug)."
            )
        try:
            bpf.patch_ld_imm64(insns, reloc.insn, value, map_fd=is_map, map_value=direct)
        except ValueError as err:
            raise LoadError(
                f"probe {probe.name}: relocation of {reloc.symbol!r} at instruction"
                f" {reloc.insn}: {err} (a pytrace bug)."
            ) from None
    return bytes(insns)


def kernel_address(name: str, probe: ProbeSpec) -> int:
    """A kernel symbol's address now (kaddr())."""
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == name:
                return int(parts[0], 16)
    raise LoadError(f"cannot load {probe.name}: the kernel has no symbol {name} (kaddr).")


def _attach_btf_id(probe: ProbeSpec) -> int:
    """The BTF id of the kernel function a tracing program is for."""
    from pytrace import btf

    try:
        return btf.func_id(probe.target[0])
    except btf.BtfError as err:
        raise LoadError(f"cannot load {probe.name}: {err}.") from None


def _patch_btf_var(probe: ProbeSpec, insns: bytearray, reloc, name: str) -> None:
    """An ld_imm64 of a kernel variable: src_reg BPF_PSEUDO_BTF_ID, imm its
    BTF id in vmlinux (the second half's imm: 0, vmlinux's BTF)."""
    from pytrace import btf

    try:
        type_id = btf.var_id(name)
    except btf.BtfError as err:
        raise LoadError(f"cannot load {probe.name}: {err} (percpu_kaddr).") from None
    at = reloc.insn * 8
    insns[at + 1] = (insns[at + 1] & 0x0F) | (bpf.PSEUDO_BTF_ID << 4)
    insns[at + 4:at + 8] = type_id.to_bytes(4, "little")
    insns[at + 12:at + 16] = b"\0\0\0\0"


def _patch_kfunc_call(probe: ProbeSpec, insns: bytearray, reloc) -> None:
    """A call of a kernel function: src_reg BPF_PSEUDO_KFUNC_CALL, imm its
    BTF id in vmlinux."""
    from pytrace import btf

    try:
        type_id = btf.func_id(reloc.symbol)
    except btf.BtfError as err:
        raise LoadError(f"probe {probe.name} needs the kernel function {reloc.symbol}: {err}"
                        " (len() of a map needs Linux 6.6 or later).") from None
    at = reloc.insn * 8
    if insns[at] != bpf.CALL:
        raise LoadError(f"probe {probe.name}: the call of {reloc.symbol} is not a call (a pytrace bug).")
    insns[at + 1] = (insns[at + 1] & 0x0F) | (bpf.PSEUDO_KFUNC_CALL << 4)
    insns[at + 2:at + 4] = b"\0\0"
    insns[at + 4:at + 8] = type_id.to_bytes(4, "little")


def load(probe: ProbeSpec, map_fds: dict[str, int], *, cpid: int, start_ns: int, cpu_ids: int,
         source_name: str = "", verbose: bool = False) -> Program:
    """Relocate and load one probe; raise VerifierError / LoadError.
    `cpu_ids`: one past the highest possible CPU id (CONST_NCPUS)."""
    insns = relocate(probe, map_fds, {CONST_CPID: cpid, CONST_START_NS: start_ns, CONST_NCPUS: cpu_ids})
    row = probe_kinds.kind(probe.kind)
    attach_btf_id = _attach_btf_id(probe) if row.load_attach else 0
    try:
        fd, log = bpf.prog_load(probe.prog_type, probe.function or probe.name, insns,
                                log_level=bpf.BPF_LOG_STATS if verbose else 0,
                                attach_type=row.load_attach, attach_btf_id=attach_btf_id,
                                subprograms=probe.subprograms)
    except bpf.ProgLoadError as err:
        if err.errno == E.EPERM:
            if not bpf.can_use_bpf():
                raise NeedRootError() from None
            if row.load_attach:
                from pytrace.runtime.alternatives import same_event_elsewhere

                raise LoadError(
                    f"the kernel refused to load {probe.name} (EPERM): it does not allow"
                    f" {row.name} programs (kernel lockdown){same_event_elsewhere(probe.target[0])}"
                ) from None
            raise LoadError(
                f"the kernel refused to load probe {probe.name} (EPERM): BPF programs of"
                " this type may be blocked by kernel lockdown or a security policy."
            ) from None
        missing = re.search(r"ldimm64 failed to find the address for kernel symbol '([^']*)'", err.log)
        if missing:
            raise LoadError(
                f"the kernel refused to load {probe.name}: it does not know where its variable "
                f"{missing.group(1)} is (percpu_kaddr() needs a kernel built with CONFIG_KALLSYMS_ALL)"
            ) from None
        if "cannot use helper bpf_override_return" in err.log:
            raise LoadError(
                f"the kernel refused to load {probe.name}: it cannot make functions return early "
                "(override() needs a kernel built with CONFIG_BPF_KPROBE_OVERRIDE, and a kprobe on a "
                "function that allows error injection)"
            ) from None
        if err.log or err.errno in (E.EACCES, E.EINVAL, E.ENOSPC):
            raise VerifierError(probe, err.errno, err.log, source_name) from None
        raise LoadError(f"cannot load probe {probe.name}: {os.strerror(err.errno)}.") from None
    return Program(probe, fd, log)
