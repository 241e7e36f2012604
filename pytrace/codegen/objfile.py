"""LLVM module -> optimised BPF ELF object -> each probe's instructions.

Everything stays in process: llvmlite's bundled LLVM has the BPF target, so
there is no `llc` and no temporary file. The object is taken apart here, at
compile time, so the runtime needs no ELF reader: it gets each function's
instructions and the relocations it must patch.
"""

from __future__ import annotations

import struct

import llvmlite.binding as llvm

from pytrace.program import Relocation

_target_machine = None
BPF_STACK = 512            # what the kernel's verifier allows a program
UNCHECKED_STACK = 1 << 15  # what LLVM is told, so that it never exits on us


def target_machine():
    """The BPF target machine, made once per process. cpu v4 has signed
    division and the other instructions kernels since 6.6 accept."""
    global _target_machine
    if _target_machine is None:
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
        # LLVM's BPF backend exits the whole process when a function's stack
        # passes its limit; with the limit out of reach, pytrace measures the
        # depth itself (stack_depth) and reports it as a script error.
        llvm.set_option("pytrace", f"-bpf-stack-size={UNCHECKED_STACK}")
        target = llvm.Target.from_triple("bpfel")
        _target_machine = target.create_target_machine(cpu="v4", opt=3, reloc="static", codemodel="small")
    return _target_machine


# The passes the code needs. What codegen emits is already plain (one
# block per branch, values in registers, buffers on the stack): promoting
# scalars, folding and merging blocks is what pays. The whole O2 pipeline
# took twice as long on a 1000-line script and made no probe smaller
# (scripts/bench_compile.py; the hot path of bench.py is 31 instructions
# either way); the code generator's own optimisation (opt=3) does the rest.
PASSES = ("sroa", "instruction_combine", "simplify_cfg", "dead_store_elimination")


def optimize(text: str) -> llvm.ModuleRef:
    """Parse and verify LLVM IR text, then run PASSES on it."""
    module = llvm.parse_assembly(text)
    module.verify()
    tm = target_machine()
    pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=2))
    passes = llvm.create_new_module_pass_manager()
    for name in PASSES:
        getattr(passes, f"add_{name}_pass")()
    passes.run(module, pb)
    module.verify()
    return module


def emit_object(module: llvm.ModuleRef) -> bytes:
    return target_machine().emit_object(module)


def emit_assembly(module: llvm.ModuleRef) -> str:
    return target_machine().emit_assembly(module)


def extract(elf: bytes, sections: list[str]) -> dict[str, tuple[bytes, list[Relocation], list[tuple[int, int, int]],
                                                                tuple[int, ...]]]:
    """Each named section's bytes, the ld_imm64 relocations in it, its
    line table ((instruction index, line, column) from the BTF line
    records), and where the callbacks its code points at start."""
    obj = _Elf(elf)
    lines = _btf_lines(obj)
    code = {name: bytearray(obj.data(name) or b"") for name in sections}
    relocations: dict[str, list[Relocation]] = {name: [] for name in sections}
    callbacks: dict[str, set[int]] = {name: set() for name in sections}
    for target, offset, symbol, value, info, section in obj.relocations():
        if target not in code:
            continue
        if info & 0xF in (STT_FUNC, STT_SECTION) and obj.sections[section][0] == target:
            callbacks[target].add(_point_at_function(code[target], offset // 8, value))
        else:
            relocations[target].append(Relocation(insn=offset // 8, symbol=symbol))
    return {name: (bytes(code[name]), relocations[name], lines.get(name, []), tuple(sorted(callbacks[name])))
            for name in sections}


def _point_at_function(insns: bytearray, index: int, value: int) -> int:
    """An ld_imm64 of a function's address in the same section (a for-map
    callback given to bpf_for_each_map_elem) becomes what the kernel reads
    as one: src_reg BPF_PSEUDO_FUNC, imm the distance in instructions from
    the next one. The relocation's addend is in imm (REL), the symbol's
    value is its offset in the section."""
    addend, = struct.unpack_from("<i", insns, index * 8 + 4)
    target = (value + addend) // 8
    insns[index * 8 + 1] = (insns[index * 8 + 1] & 0x0F) | (BPF_PSEUDO_FUNC << 4)
    struct.pack_into("<i", insns, index * 8 + 4, target - index - 1)
    return target


STT_FUNC, STT_SECTION = 2, 3
BPF_PSEUDO_FUNC = 4


class _Elf:
    """The little of a 64-bit little-endian ELF relocatable object that
    extract() reads: sections by name, and the REL/RELA relocations with
    their symbols' names. LLVM writes the object in this process, so its
    shape is known; pyelftools did the same in ~35 ms of imports, a seventh
    of a new one-liner's start."""

    def __init__(self, elf: bytes):
        self.elf = elf
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
        headers = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
        names = headers[shstrndx]
        self.sections = [(self._string(names, h[0]),) + h for h in headers]
        self.by_name = {s[0]: s for s in self.sections}

    def _string(self, table: tuple, offset: int) -> str:
        start = table[4] + offset
        return self.elf[start:self.elf.index(b"\0", start)].decode()

    def data(self, name: str) -> bytes | None:
        section = self.by_name.get(name)
        return None if section is None else self.elf[section[5]:section[5] + section[6]]

    def relocations(self):
        """(target section name, byte offset, symbol name, symbol value,
        symbol info, symbol section index) of every relocation."""
        for _, _, sh_type, _, _, offset, size, link, info, _, entsize in self.sections:
            if sh_type not in (SHT_REL, SHT_RELA):
                continue
            symtab = self.sections[link]
            strtab = self.sections[symtab[7]]
            target = self.sections[info][0]
            for pos in range(offset, offset + size, entsize):
                r_offset, r_info = struct.unpack_from("<QQ", self.elf, pos)
                name_off, info, _, shndx, value = struct.unpack_from(
                    "<IBBHQ", self.elf, symtab[5] + (r_info >> 32) * symtab[10])
                yield target, r_offset, self._string(strtab[1:], name_off), value, info, shndx


SHT_RELA, SHT_REL = 4, 9


def _btf_lines(obj: _Elf) -> dict[str, list[tuple[int, int, int]]]:
    """The line records LLVM wrote to .BTF.ext, by section name.

    .BTF.ext: a header (magic 0xeB9F, ..., line_info_off, line_info_len,
    offsets counted from the header's end), then per section
    {sec_name_off, count, records of {insn_off (bytes), file_name_off,
    line_off, line_col = line << 10 | col}}; names are in .BTF's strings.
    """
    btf, ext = obj.data(".BTF"), obj.data(".BTF.ext")
    if btf is None or ext is None:
        return {}
    hdr_len, _, _, str_off, str_len = struct.unpack_from("<IIIII", btf, 4)
    strings = btf[hdr_len + str_off:hdr_len + str_off + str_len]
    ext_hdr_len, _, _, line_off, line_len = struct.unpack_from("<IIIII", ext, 4)
    pos = ext_hdr_len + line_off
    end = pos + line_len
    rec_size = struct.unpack_from("<I", ext, pos)[0]
    pos += 4
    tables: dict[str, list[tuple[int, int, int]]] = {}
    while pos < end:
        name_off, count = struct.unpack_from("<II", ext, pos)
        name = strings[name_off:strings.index(b"\0", name_off)].decode()
        pos += 8
        table = tables.setdefault(name, [])
        for _ in range(count):
            insn_off, _, _, line_col = struct.unpack_from("<IIII", ext, pos)
            table.append((insn_off // 8, line_col >> 10, line_col & 0x3FF))
            pos += rec_size
    return tables


def stack_depth(insns: bytes) -> int:
    """How many bytes below the frame pointer (r10) the code reaches.

    The code addresses the stack as `*(r10 - N)` or through a pointer made
    by `rX = r10; rX += -N` (a buffer passed to a helper), so the deepest N
    of those is the stack the program needs.
    """
    deepest = 0
    slots = [insns[i:i + 8] for i in range(0, len(insns), 8)]
    for i, slot in enumerate(slots):
        code, regs = slot[0], slot[1]
        dst, src = regs & 0xF, regs >> 4
        off = int.from_bytes(slot[2:4], "little", signed=True)
        cls = code & 0x07
        if cls == 0x01 and src == 10:                      # LDX from the stack
            deepest = max(deepest, -off)
        elif cls in (0x02, 0x03) and dst == 10:            # ST/STX to the stack
            deepest = max(deepest, -off)
        elif code == 0xBF and src == 10 and i + 1 < len(slots):  # rX = r10
            nxt = slots[i + 1]
            if nxt[0] == 0x07 and nxt[1] & 0xF == dst:     # rX += imm
                deepest = max(deepest, -int.from_bytes(nxt[4:8], "little", signed=True))
    return deepest
