"""LLVM module -> optimised BPF ELF object -> each probe's instructions.

Everything stays in process: llvmlite's bundled LLVM has the BPF target, so
there is no `llc` and no temporary file. The object is taken apart here, at
compile time, so the runtime needs no ELF reader: it gets each function's
instructions and the relocations it must patch.
"""

from __future__ import annotations

import io

import llvmlite.binding as llvm

from pytrace.program import Relocation

_target_machine = None


def target_machine():
    """The BPF target machine, made once per process. cpu v4 has signed
    division and the other instructions kernels since 6.6 accept."""
    global _target_machine
    if _target_machine is None:
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
        target = llvm.Target.from_triple("bpfel")
        _target_machine = target.create_target_machine(cpu="v4", opt=3, reloc="static", codemodel="small")
    return _target_machine


def optimize(text: str) -> llvm.ModuleRef:
    """Parse and verify LLVM IR text, then run the O2 pipeline on it."""
    module = llvm.parse_assembly(text)
    module.verify()
    tm = target_machine()
    pto = llvm.create_pipeline_tuning_options(speed_level=2)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(module, pb)
    module.verify()
    return module


def emit_object(module: llvm.ModuleRef) -> bytes:
    return target_machine().emit_object(module)


def emit_assembly(module: llvm.ModuleRef) -> str:
    return target_machine().emit_assembly(module)


def extract(elf: bytes, sections: list[str]) -> dict[str, tuple[bytes, list[Relocation]]]:
    """Each named section's bytes and the ld_imm64 relocations in it."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    obj = ELFFile(io.BytesIO(elf))
    symtab = obj.get_section_by_name(".symtab")
    found = {}
    for name in sections:
        section = obj.get_section_by_name(name)
        found[name] = (section.data() if section is not None else b"", [])
    for section in obj.iter_sections():
        if not isinstance(section, RelocationSection):
            continue
        target = obj.get_section(section["sh_info"]).name
        if target not in found:
            continue
        for rel in section.iter_relocations():
            symbol = symtab.get_symbol(rel["r_info_sym"]).name
            found[target][1].append(Relocation(insn=rel["r_offset"] // 8, symbol=symbol))
    return found
