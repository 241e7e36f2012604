"""IR invariants. A failure here is a pytrace bug, never a user error, and
it names the function and block so the bug is easy to isolate."""

from __future__ import annotations

from pytrace.ir import nodes as ir
from pytrace.sema.types import Int, Str, in_buffer, Ptr


class IrError(Exception):
    """The IR breaks an invariant: a compiler bug."""


def verify(module: ir.Module) -> None:
    maps = set(map(id, module.maps))
    for fn in module.functions:
        _verify_function(fn, module, maps)


def _verify_function(fn: ir.Function, module: ir.Module, maps: set) -> None:
    blocks = set(map(id, fn.blocks))
    labels = [b.label for b in fn.blocks]
    if len(set(labels)) != len(labels):
        raise IrError(f"{fn.name}: duplicate block labels {labels}")
    defined: set[int] = set()
    for block in fn.blocks:
        where = f"{fn.name}:{block.label}"
        if block.terminator is None:
            raise IrError(f"{where}: block does not end with a terminator")
        for instr in block.instrs[:-1]:
            if isinstance(instr, ir.TERMINATORS):
                raise IrError(f"{where}: terminator {type(instr).__name__} in mid-block")
        for instr in block.instrs:
            for op in instr.operands:
                if id(op) not in defined:
                    raise IrError(f"{where}: {type(instr).__name__} uses a value not defined before it")
            _check_types(instr, where)
            for target in _targets(instr):
                if id(target) not in blocks:
                    raise IrError(f"{where}: branch to a block outside the function")
            decl = getattr(instr, "map", None)
            if decl is not None and id(decl) not in maps:
                raise IrError(f"{where}: map {decl.name} is not declared in the module")
            if isinstance(instr, ir.ForEach):
                _verify_function(instr.callback, module, maps)
            if isinstance(instr, ir.Output) and module.outputs[instr.index] is not instr.decl:
                raise IrError(f"{where}: output {instr.index} does not match its declaration")
            defined.add(id(instr))


def _targets(instr: ir.Instr) -> list[ir.Block]:
    if isinstance(instr, ir.Jump):
        return [instr.target]
    if isinstance(instr, ir.Branch):
        return [instr.then, instr.otherwise]
    return []


def _check_types(instr: ir.Instr, where: str) -> None:
    if isinstance(instr, (ir.BinOp, ir.Cmp)):
        for op in instr.operands:
            if not isinstance(op.type, (Int, Ptr)):
                raise IrError(f"{where}: {type(instr).__name__} on a non-integer {op.type}")
    if isinstance(instr, (ir.StrEq, ir.StrContains, ir.StrLen)):
        for op in instr.operands:
            if not isinstance(op.type, Str):
                raise IrError(f"{where}: streq on a non-string {op.type}")
    if isinstance(instr, (ir.MapLookup, ir.MapUpdate, ir.MapAggregate, ir.MapDelete, ir.MapHasKey)):
        if len(instr.keys) != len(instr.map.key_types):
            raise IrError(f"{where}: {instr.map.name} takes {len(instr.map.key_types)} keys, got {len(instr.keys)}")
    if isinstance(instr, ir.StoreSlot):
        if in_buffer(instr.slot.type) != in_buffer(instr.value.type):
            raise IrError(f"{where}: store of {instr.value.type} into slot {instr.slot.name} of {instr.slot.type}")
