"""What the machine's ABI says about a probe's registers: where in a kprobe's
or uprobe's `struct pt_regs` the integer arguments and the return value are.

    kprobe:vfs_read { arg1 }   ->  the u64 at offset 104 of pt_regs (rsi), on x86_64

One row per architecture; the offsets are those of the kernel's
arch/*/include/asm/ptrace.h (uapi ptrace.h for user_pt_regs on arm64).
"""

from __future__ import annotations

import os


class Registers:
    """pt_regs of one architecture: byte offsets of the argument registers
    in order, of the return value's register and of the stack pointer, and
    of every register by the name bcc gives USDT argument places ("ax",
    "r8", "ip" on x86_64)."""

    __slots__ = ("name", "args", "retval", "sp", "by_name")

    def __init__(self, name: str, args: tuple[int, ...], retval: int, sp: int, by_name: dict[str, int]):
        self.name = name
        self.args = args
        self.retval = retval
        self.sp = sp
        self.by_name = by_name


_X86_64 = ("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
           "orig_ax", "ip", "cs", "flags", "sp", "ss")
_AARCH64 = tuple(f"x{i}" for i in range(31)) + ("sp", "pc", "pstate")

ARCHES = {
    # struct pt_regs { r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss }
    "x86_64": Registers("x86_64", args=(112, 104, 96, 88, 72, 64), retval=80, sp=152,
                        by_name={name: 8 * i for i, name in enumerate(_X86_64)}),
    # struct user_pt_regs { u64 regs[31]; sp; pc; pstate }: x0..x7 are the arguments
    "aarch64": Registers("aarch64", args=tuple(8 * i for i in range(8)), retval=0, sp=248,
                         by_name={name: 8 * i for i, name in enumerate(_AARCH64)}),
}


def registers(machine: str | None = None) -> Registers:
    """The registers of this machine (or of `machine`)."""
    return ARCHES.get(machine or os.uname().machine, ARCHES["x86_64"])
