"""The last compile step: an IR module becomes a `CompiledProgram`, the
plain data the runtime loads (maps to create, instructions, relocations,
printf layouts)."""

from __future__ import annotations

from pytrace import probe_kinds
from pytrace import program as prog
from pytrace.codegen import objfile
from pytrace.codegen.llvm import STACK_VALUE_MAX, code_owners, extra_maps, needs_zero_map, section_name
from pytrace.ir import nodes as ir


def package(module: ir.Module, elf: bytes, source_name: str) -> prog.CompiledProgram:
    owners = code_owners(module)
    sections = objfile.extract(elf, sorted({section_name(owner) for owner in owners.values()}))
    probes = []
    for fn in module.functions:
        owner = owners[fn.name]
        insns, relocations, lines, subprograms = sections[section_name(owner)]
        probes.append(prog.ProbeSpec(
            kind=fn.kind, name=fn.probe_name, target=fn.target, prog_type=probe_kinds.kind(fn.kind).prog_type,
            function=owner, insns=insns, relocations=relocations, span=fn.span, lines=lines,
            probe_id=fn.probe_id, dispatch=fn.dispatch, internal=fn.internal, subprograms=subprograms,
        ))
    maps = [_map_spec(decl) for decl in module.maps]
    maps.append(prog.MapSpec(
        name=prog.RINGBUF_NAME, symbol=prog.RINGBUF_NAME, map_type=prog.MAP_RINGBUF,
        key_size=0, value_size=0, max_entries=_ringbuf_size(module),
    ))
    maps.append(prog.MapSpec(
        name=prog.COUNTERS_NAME, symbol=prog.COUNTERS_NAME, map_type=prog.MAP_ARRAY,
        key_size=4, value_size=8 * (prog.COUNTER_WORDS_BEFORE_MAPS + len(module.maps)), max_entries=1,
    ))
    used = extra_maps(module)
    if prog.STACKS_NAME in used:
        maps.append(prog.MapSpec(
            name=prog.STACKS_NAME, symbol=prog.STACKS_NAME, map_type=prog.MAP_HASH, key_size=8,
            value_size=prog.STACK_VALUE_SIZE, max_entries=prog.STACKS_MAX, flags=prog.MAP_NO_PREALLOC,
        ))
        maps.append(prog.MapSpec(
            name=prog.SCRATCH_NAME, symbol=prog.SCRATCH_NAME, map_type=prog.MAP_PERCPU_ARRAY, key_size=4,
            value_size=prog.STACK_VALUE_SIZE, max_entries=1,
        ))
    for symbol in sorted(used & set(prog.DISPATCH_TABLES.values())):
        maps.append(prog.MapSpec(
            name=symbol, symbol=symbol, map_type=prog.MAP_PROG_ARRAY, key_size=4, value_size=4,
            max_entries=prog.DISPATCH_SLOTS,
        ))
    if prog.PIDS_NAME in used:
        maps.append(prog.MapSpec(
            name=prog.PIDS_NAME, symbol=prog.PIDS_NAME, map_type=prog.MAP_HASH, key_size=8,
            value_size=8, max_entries=prog.PIDS_MAX, flags=prog.MAP_NO_PREALLOC,
        ))
    if module.scratch_bytes:
        maps.append(prog.MapSpec(
            name=prog.BUFS_NAME, symbol=prog.BUFS_NAME, map_type=prog.MAP_PERCPU_ARRAY, key_size=4,
            value_size=module.scratch_bytes, max_entries=1,
        ))
    zero = needs_zero_map(module)
    if zero:
        maps.append(prog.MapSpec(
            name=prog.ZERO_NAME, symbol=prog.ZERO_NAME, map_type=prog.MAP_ARRAY,
            key_size=4, value_size=zero, max_entries=1,
        ))
    outputs = [_output_spec(decl) for decl in module.outputs]
    return prog.CompiledProgram(source_name=source_name, probes=probes, maps=maps, outputs=outputs, elf=elf,
                                probe_names=dict(module.probe_names), probe_funcs=dict(module.probe_funcs))


def _output_spec(decl: ir.OutputDecl) -> prog.OutputSpec:
    return prog.OutputSpec(
        decl.kind, list(decl.fields), pieces=list(decl.pieces), fmt=decl.fmt,
        map=decl.map.symbol if decl.map is not None else "", top=decl.top, div=decl.div,
    )


def _ringbuf_size(module: ir.Module) -> int:
    """Big only when a probe on events can send records (see program.py)."""
    for fn in module.functions:
        if probe_kinds.kind(fn.kind).rate != "low" and any(
            isinstance(instr, (ir.Output, ir.Exit)) for block in fn.blocks for instr in block.instrs
        ):
            return prog.RINGBUF_SIZE
    return prog.RINGBUF_SIZE_SMALL


def _map_flags(decl: ir.MapDecl) -> int:
    """Maps of big values (histograms) allocate on use; LRU maps cannot."""
    lru = decl.map_type in (prog.MAP_LRU_HASH, prog.MAP_LRU_PERCPU_HASH)
    return prog.MAP_NO_PREALLOC if decl.value.size > STACK_VALUE_MAX and not lru else 0


def _map_spec(decl: ir.MapDecl) -> prog.MapSpec:
    return prog.MapSpec(
        name=decl.name, symbol=decl.symbol, map_type=decl.map_type, key_size=decl.key_size,
        value_size=decl.value.size, max_entries=decl.max_entries, keys=list(decl.key_fields),
        value=decl.value, flags=_map_flags(decl),
    )
