"""Lowering: the checked AST becomes IR, one function per probe target.

    /comm == "bash"/ { @n = count(); }
lowers to
    entry:   %0 = comm; %1 = streq %0, "bash"; branch %1, body, exit
    body:    map_aggregate @n count []; jump exit
    exit:    return

Short-circuit operators, ?: and if/else become blocks; values that cross
blocks go through slots. Every instruction keeps the span of the script
text it came from.
"""

from __future__ import annotations

from pytrace import ast, probe_kinds
from pytrace.aggregations import AGGREGATIONS
from pytrace.arch import registers
from pytrace.ir import layout
from pytrace.ir.layout import align8
from pytrace.ir import nodes as ir
from pytrace.sema.builtins import NSECS_MODES, SOURCES, arg_index, sarg_index
from pytrace.sema.check import USER_SPACE_KINDS, Checked, Instance, delete_target
from pytrace.program import JOIN_MAX, KADDR_PREFIX, PERCPU_PREFIX, DISPATCH_ID_BASE, Field, DISPATCH_MIN, DISPATCH_SLOTS, DISPATCH_TABLES, PROBE_ID_BASE
from pytrace.program import MAP_LRU_HASH, MAP_LRU_PERCPU_HASH, MAP_PERCPU_HASH
from pytrace.source import NO_SPAN
from pytrace.sema.types import BOOL, TRUTH, Bool, Buffer, CArray, CValue, c_layout, FUNC, INT64, PROBE, Struct, Tuple, Agg, Int, Resolved, Ptr, Str, Timestamp, UINT64, arith_result, is_int, widened


def lower(checked: Checked) -> ir.Module:
    module = ir.Module(by_zero=1 if checked.given.bools else 0)
    maps = {}
    for index, info in enumerate(checked.maps.values()):
        maps[info.name] = _map_decl(index, info)
        module.maps.append(maps[info.name])
    ids: dict[str, int] = {}  # one `probe` id per name: a USDT probe's locations share theirs
    dispatched = _dispatch_plan(checked.instances)
    for index, inst in enumerate(checked.instances):
        dispatch = dispatched.get(id(inst))
        if dispatch is not None:
            event, nr = dispatch
            probe_id = ids.setdefault(inst.target.name, DISPATCH_ID_BASE[event] + nr)
        else:
            probe_id = ids.setdefault(inst.target.name, PROBE_ID_BASE + len(ids))
        lowerer = _FunctionLowerer(inst, index, module, maps, checked.given.pid, probe_id)
        lowerer.strlen = checked.strlen
        if dispatch is not None:
            lowerer.fn.dispatch = (DISPATCH_TABLES[dispatch[0]], dispatch[1])
        module.functions.append(lowerer.lower())
    if checked.given.helper_errors:
        _helper_checks(module, checked.given.source_name)
    for event in sorted({event for event, _ in dispatched.values()}):
        module.functions.append(_dispatcher(event, len(module.functions)))
    for fn, inst in zip(module.functions, checked.instances):
        module.probe_names[fn.probe_id] = fn.probe_name
        if inst.target.func:
            module.probe_funcs[fn.probe_id] = inst.target.func
    return module


# -k: the helper each checked instruction calls, by instruction (and space)
_CHECKED = {ir.MapLookup: lambda i: "map_lookup_elem", ir.MapDelete: lambda i: "map_delete_elem",
            ir.ReadMem: lambda i: "probe_read_user" if i.space == "user" else "probe_read_kernel",
            ir.ReadStr: lambda i: {"user": "probe_read_user_str", "kernel": "probe_read_kernel_str"}.get(
                i.space, "probe_read_str")}


def _helper_checks(module: ir.Module, source_name: str) -> None:
    """-k, as bpftrace's: each map lookup of a plain value, map delete and
    memory read warns when its helper fails. An instruction's `check` is a
    helper_error output (the helper's name, and the script location in
    `fmt`) that the code sends with the helper's return code."""
    def visit(fn: ir.Function) -> None:
        for block in fn.blocks:
            for instr in block.instrs:
                if isinstance(instr, ir.ForEach):
                    visit(instr.callback)
                name = _CHECKED.get(type(instr))
                if name is None or (isinstance(instr, ir.MapLookup) and isinstance(instr.map.value_type, Agg)):
                    continue
                span = instr.span
                where = f"{source_name}:{span.line}:{span.col}-{span.end_col}" if span.line else source_name
                fields, end = layout.fields_for([INT64], start=8)
                decl = ir.OutputDecl(kind="helper_error", arg_types=[INT64], fields=fields, size=end,
                                     pieces=[name(instr)], fmt=where)
                key = decl.key()
                if key not in module.output_index:
                    module.output_index[key] = len(module.outputs)
                    module.outputs.append(decl)
                instr.check = module.output_index[key]

    for fn in module.functions:
        visit(fn)


def _captured(callback: ir.Function) -> list[ir.Slot]:
    """The slots a callback (and the callbacks inside it) uses that are not
    its own: the enclosing function's variables, in first-use order."""
    own = set(map(id, callback.slots))
    seen: dict[int, ir.Slot] = {}
    for block in callback.blocks:
        for instr in block.instrs:
            used = [instr.slot] if isinstance(instr, (ir.LoadSlot, ir.StoreSlot)) else []
            if isinstance(instr, ir.ForEach):
                used = instr.captured
            for slot in used:
                if id(slot) not in own:
                    seen.setdefault(id(slot), slot)
    return list(seen.values())


def _dispatch_plan(instances: list[Instance]) -> dict[int, tuple[str, int]]:
    """Which syscall tracepoint bodies run from a dispatcher (see
    program.DISPATCH_MIN): id(instance) -> (event, system call number), for
    an event with DISPATCH_MIN bodies or more, each number's only body (a
    number two probes trace is attached as itself, twice)."""
    by_event: dict[str, dict[int, list[Instance]]] = {}
    for inst in instances:
        nr = inst.target.syscall_nr
        if nr is not None and 0 <= nr < DISPATCH_SLOTS:
            event = "sys_enter" if inst.target.target[1].startswith("sys_enter_") else "sys_exit"
            by_event.setdefault(event, {}).setdefault(nr, []).append(inst)
    plan = {}
    for event, by_nr in by_event.items():
        single = {nr: insts[0] for nr, insts in by_nr.items() if len(insts) == 1}
        if len(single) >= DISPATCH_MIN:
            plan.update({id(inst): (event, nr) for nr, inst in single.items()})
    return plan


def _dispatcher(event: str, index: int) -> ir.Function:
    """tracepoint:raw_syscalls:EVENT { tail call table[args->id] }: the
    `id` of raw_syscalls' records is at offset 8, where the syscalls
    tracepoints have __syscall_nr."""
    fn = ir.Function(name=f"dispatch_{index}", kind="tracepoint", probe_name=f"tracepoint:raw_syscalls:{event}",
                     target=("raw_syscalls", event), span=NO_SPAN, internal=True)
    entry = ir.Block("entry")
    nr = ir.CtxLoad(offset=8, size=8, type=INT64)
    entry.instrs += [nr, ir.TailCall(table=DISPATCH_TABLES[event], index=nr), ir.Return()]
    fn.blocks.append(entry)
    return fn


def _map_decl(index: int, info) -> ir.MapDecl:
    key_types = info.keys or []
    vtype = info.value if info.value is not None else INT64
    key_fields, key_size = layout.key_layout(key_types)
    value, map_type = layout.value_layout(vtype)
    max_entries = 0
    if info.declared is not None:  # let @m = lruhash(100);
        max_entries = info.declared.size
        if "lru" in info.declared.kind:
            map_type = MAP_LRU_PERCPU_HASH if map_type == MAP_PERCPU_HASH else MAP_LRU_HASH
    return ir.MapDecl(
        name=info.name, symbol=f"map_{index}", map_type=map_type, key_types=key_types,
        key_fields=key_fields, key_size=key_size, value=value, value_type=vtype, index=index,
        max_entries=max_entries,
    )


class _FunctionLowerer:
    def __init__(self, inst: Instance, index: int, module: ir.Module, maps: dict, pid: int = -1,
                 probe_id: int = PROBE_ID_BASE):
        target = inst.target
        self.pid = pid
        self.inst = inst
        self.in_expression = 0  # > 0 inside a block expression: statements release nothing
        self.module = module
        self.maps = maps
        self.fn = ir.Function(
            name=f"{target.kind}_{index}", kind=target.kind, probe_name=target.name,
            target=target.target, span=target.span, probe_id=probe_id,
        )
        self.variables: dict[str, ir.Slot] = {}
        self.callbacks = 0  # for-map bodies made so far (they are named by their number)
        self.loops: list[tuple[ir.Block, ir.Block]] = []  # (break, continue) targets, innermost last
        self.block = self.new_block("entry")
        self.exit_block = ir.Block("exit", [ir.Return()])

    # -------------------------------------------------------------- helpers

    def new_block(self, label: str) -> ir.Block:
        block = ir.Block(f"{label}{len(self.fn.blocks)}" if self.fn.blocks else label)
        self.fn.blocks.append(block)
        return block

    def continue_in(self, block: ir.Block, label: str) -> None:
        """Place a block made earlier as a branch target (so it follows the
        code that branches to it) and go on emitting into it."""
        block.label = f"{label}{len(self.fn.blocks)}"
        self.fn.blocks.append(block)
        self.block = block

    def emit(self, instr: ir.Instr) -> ir.Instr:
        self.block.instrs.append(instr)
        return instr

    def terminate(self, instr: ir.Instr) -> None:
        if self.block.terminator is None:
            self.block.instrs.append(instr)

    def new_slot(self, name: str, type_) -> ir.Slot:
        slot = ir.Slot(f"{name}.{len(self.fn.slots)}" if name.startswith("tmp") else name, type_)
        self.fn.slots.append(slot)
        return slot

    def type_of(self, expr: ast.Expr):
        return self.inst.type_of(expr)

    # ---------------------------------------------------------------- lower

    def lower(self) -> ir.Function:
        probe = self.inst.probe
        row = probe_kinds.kind(self.inst.target.kind)
        if self.pid > 0 and row.phase == "event" and row.pid_filter and not row.per_process:
            # -p: probes that fire in every process run the body only in that one
            span = self.inst.target.span
            mine = self.emit(ir.Cmp(op="==", left=self.emit(ir.Builtin(name="pid", type=UINT64, span=span)),
                                    right=self.const(self.pid, span=span), signed=False, span=span))
            body = self.new_block("target")
            self.terminate(ir.Branch(cond=mine, then=body, otherwise=self.exit_block, span=span))
            self.block = body
        if probe.predicate is not None:
            cond = self.expr(probe.predicate)
            body = self.new_block("body")
            self.terminate(ir.Branch(cond=cond, then=body, otherwise=self.exit_block, span=probe.predicate.span))
            self.block = body
        self.stmts(probe.body)
        self.terminate(ir.Jump(target=self.exit_block))
        self.fn.blocks.append(self.exit_block)
        return self.fn

    def stmts(self, stmts: list[ast.Stmt]) -> None:
        """Each statement, then (outside expressions: a block expression's
        statements run while its enclosing statement's buffers live) a
        release of its buffers."""
        for stmt in stmts:
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)
            if not self.in_expression:
                self.emit(ir.Release(span=stmt.span))

    def stmt_ExprStmt(self, stmt: ast.ExprStmt) -> None:
        if isinstance(stmt.expr, ast.BlockExpr) and id(stmt.expr) not in self.inst.aliases:
            # a block (a macro's body) whose value is unused: its statements are the
            # enclosing block's, and release their buffers as they end
            self.stmts(stmt.expr.stmts)
            if stmt.expr.value is not None:
                self.expr(stmt.expr.value)
            return
        self.expr(stmt.expr)

    def stmt_Return(self, stmt: ast.Return) -> None:
        self.terminate(ir.Jump(target=self.exit_block, span=stmt.span))
        self.block = self.new_block("dead")

    def stmt_If(self, stmt: ast.If) -> None:
        cond = self.expr(stmt.cond)
        then = self.new_block("then")
        after = ir.Block("")
        otherwise = self.new_block("else") if stmt.otherwise is not None else after
        self.terminate(ir.Branch(cond=cond, then=then, otherwise=otherwise, span=stmt.span))
        self.block = then
        self.stmts(stmt.then)
        self.terminate(ir.Jump(target=after))
        if stmt.otherwise is not None:
            self.block = otherwise
            self.stmts(stmt.otherwise)
            self.terminate(ir.Jump(target=after))
        self.continue_in(after, "endif")

    def stmt_While(self, stmt: ast.While) -> None:
        """cond: branch body/after; body: ...; jump cond."""
        cond_block = ir.Block("")
        after = ir.Block("")
        self.terminate(ir.Jump(target=cond_block))
        self.continue_in(cond_block, "while")
        cond = self.expr(stmt.cond)
        body = self.new_block("do")
        self.terminate(ir.Branch(cond=cond, then=body, otherwise=after, span=stmt.span))
        self.block = body
        self.in_loop(stmt.body, breaks=after, continues=cond_block)
        self.terminate(ir.Jump(target=cond_block))
        self.continue_in(after, "endwhile")

    def stmt_ForRange(self, stmt: ast.ForRange) -> None:
        """$i = start; end once; cond: $i < end; body; step: $i += 1."""
        var = self.variable(stmt.var)
        self.emit(ir.StoreSlot(slot=var, value=self.expr(stmt.start), span=stmt.span))
        end = self.new_slot("tmp", INT64)
        self.emit(ir.StoreSlot(slot=end, value=self.expr(stmt.end), span=stmt.span))
        cond_block, step, after = ir.Block(""), ir.Block(""), ir.Block("")
        self.terminate(ir.Jump(target=cond_block))
        self.continue_in(cond_block, "for")
        more = self.emit(ir.Cmp(op="<", left=self.emit(ir.LoadSlot(slot=var, span=stmt.span)),
                                right=self.emit(ir.LoadSlot(slot=end, span=stmt.span)), span=stmt.span))
        body = self.new_block("do")
        self.terminate(ir.Branch(cond=more, then=body, otherwise=after, span=stmt.span))
        self.block = body
        self.in_loop(stmt.body, breaks=after, continues=step)
        self.terminate(ir.Jump(target=step))
        self.continue_in(step, "step")
        one = self.const(1, span=stmt.span)
        bumped = self.emit(ir.BinOp(op="+", left=self.emit(ir.LoadSlot(slot=var, span=stmt.span)), right=one,
                                    type=INT64, span=stmt.span))
        self.emit(ir.StoreSlot(slot=var, value=bumped, span=stmt.span))
        self.terminate(ir.Jump(target=cond_block))
        self.continue_in(after, "endfor")

    def stmt_ForMap(self, stmt: ast.ForMap) -> None:
        """The body becomes a callback function (see ir.ForEach): `break`
        returns 1 from it, `continue` and the body's end return 0, and
        `return` sets the probe's stop slot, which the probe checks after
        the loop."""
        decl = self.maps[stmt.map.name]
        stop = self.new_slot("tmp", INT64)
        self.emit(ir.StoreSlot(slot=stop, value=self.const(0, span=stmt.span), span=stmt.span))
        callback = self.lower_callback(stmt, decl, stop)
        self.emit(ir.ForEach(map=decl, callback=callback, captured=_captured(callback), stop=stop, span=stmt.span))
        stopped = self.emit(ir.LoadSlot(slot=stop, span=stmt.span))
        after = ir.Block("")
        self.terminate(ir.Branch(cond=stopped, then=self.exit_block, otherwise=after, span=stmt.span))
        self.continue_in(after, "endfor")

    def lower_callback(self, stmt: ast.ForMap, decl: ir.MapDecl, stop: ir.Slot) -> ir.Function:
        outer = (self.fn, self.block, self.exit_block, self.loops, self.variables.get(stmt.var))
        self.fn = ir.Function(name=f"{outer[0].name}_each{self.callbacks}", kind="callback",
                              probe_name=outer[0].probe_name, target=outer[0].target, span=stmt.span)
        self.callbacks += 1
        try:
            self.block = self.new_block("entry")
            following, stopping = ir.Block("next", [ir.Return(value=0)]), ir.Block("stop", [ir.Return(value=1)])
            leaving = ir.Block("leave")
            self.exit_block, self.loops = leaving, [(stopping, following)]
            kv_type = self.inst.types[id(stmt)]  # the loop's own $kv (see check.stmt_ForMap)
            key_type, value_type = kv_type.elements
            self.variables[stmt.var] = kv = self.new_slot(stmt.var, kv_type)
            key = self.emit(ir.CallbackArg(index=1, map=decl, type=key_type, span=stmt.span))
            value = self.emit(ir.CallbackArg(index=2, map=decl, type=value_type, span=stmt.span))
            pair = self.emit(ir.MakeTuple(parts=[key, value], type=kv_type, span=stmt.span))
            self.emit(ir.StoreSlot(slot=kv, value=pair, span=stmt.span))
            self.stmts(stmt.body)
            self.terminate(ir.Jump(target=following))
            self.block = leaving
            self.emit(ir.StoreSlot(slot=stop, value=self.const(1, span=stmt.span), span=stmt.span))
            self.terminate(ir.Return(value=1))
            for block, label in ((following, "next"), (stopping, "stop"), (leaving, "leave")):
                block.label = f"{label}{len(self.fn.blocks)}"
                self.fn.blocks.append(block)
            return self.fn
        finally:
            mine = set(map(id, self.fn.slots))  # variables first set in the body are the body's
            for name in [n for n, slot in self.variables.items() if id(slot) in mine]:
                del self.variables[name]
            self.fn, self.block, self.exit_block, self.loops, previous = outer
            if previous is None:
                self.variables.pop(stmt.var, None)
            else:
                self.variables[stmt.var] = previous

    def stmt_Unroll(self, stmt: ast.Unroll) -> None:
        """The body N times; `continue` goes to the next copy."""
        (count,) = self.inst.constants[id(stmt)]
        after = ir.Block("")
        for _ in range(count):
            following = ir.Block("")
            self.in_loop(stmt.body, breaks=after, continues=following)
            self.terminate(ir.Jump(target=following))
            self.continue_in(following, "unroll")
        self.terminate(ir.Jump(target=after))
        self.continue_in(after, "endunroll")

    def in_loop(self, body: list[ast.Stmt], breaks: ir.Block, continues: ir.Block) -> None:
        self.loops.append((breaks, continues))
        try:
            self.stmts(body)
        finally:
            self.loops.pop()

    def stmt_Break(self, stmt: ast.Break) -> None:
        self.terminate(ir.Jump(target=self.loops[-1][0], span=stmt.span))
        self.block = self.new_block("dead")

    def stmt_Continue(self, stmt: ast.Continue) -> None:
        self.terminate(ir.Jump(target=self.loops[-1][1], span=stmt.span))
        self.block = self.new_block("dead")

    def stmt_Let(self, stmt: ast.Let) -> None:
        assign = self.inst.aliases.get(id(stmt))
        if assign is not None:
            self.stmt_Assign(assign)
        elif stmt.name in self.inst.variables:  # `let $x: type;` starts at zero
            slot = self.variable(stmt.name)
            if isinstance(slot.type, Str):
                zero = self.emit(ir.StrConst(value=b"", type=slot.type, span=stmt.span))
            else:
                zero = self.const(0, slot.type, stmt.span)
            self.emit(ir.StoreSlot(slot=slot, value=zero, span=stmt.span))

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        target = stmt.target
        if isinstance(target, ast.Variable):
            slot = self.variable(target.name)
            if stmt.op is None:
                value = self.expr(stmt.value)
            else:
                old = self.emit(ir.LoadSlot(slot=slot, span=target.span))
                value = self.arith(stmt.op, old, self.expr(stmt.value), slot.type, stmt.span)
            self.emit(ir.StoreSlot(slot=slot, value=value, span=stmt.span))
            return
        decl = self.maps[target.name]
        keys = self.keys(target)
        value = stmt.value
        if isinstance(value, ast.Call) and isinstance(self.type_of(value), Agg):
            agg = AGGREGATIONS[value.name]
            arg = self.expr(value.args[0]) if agg.takes_value else self.const(1, span=value.span)
            self.emit(ir.MapAggregate(map=decl, keys=keys, agg=agg, value=arg, span=stmt.span))
            return
        if stmt.op is None:
            new = self.expr(value)
        else:
            old = self.emit(ir.MapLookup(map=decl, keys=keys, span=target.span))
            new = self.arith(stmt.op, old, self.expr(value), decl.value_type, stmt.span)
        self.emit(ir.MapUpdate(map=decl, keys=keys, value=new, span=stmt.span))

    def variable(self, name: str) -> ir.Slot:
        if name not in self.variables:
            self.variables[name] = self.new_slot(name, _storage_type(self.inst.variables[name]))
        return self.variables[name]

    def keys(self, ref: ast.MapRef) -> list[ir.Instr]:
        keys = [self.expr(key) for key in ref.keys]
        if len(keys) == 1 and isinstance(keys[0].type, Tuple) and not keys[0].type.names:
            whole = keys[0]  # @m[$t] of a tuple: its parts are the keys
            keys = [self.emit(ir.TupleGet(value=whole, index=i, type=t, span=ref.span))
                    for i, t in enumerate(whole.type.elements)]
        return keys

    def arith(self, op: str, left: ir.Instr, right: ir.Instr, result, span) -> ir.Instr:
        if isinstance(result, Ptr) and op in ("+", "-"):
            return self.pointer_arith(op, left, right, result, span)
        rtype = arith_result(result if isinstance(result, Int) else INT64, right.type)
        return self.emit(ir.BinOp(op=op, left=left, right=right, type=rtype, span=span))

    def pointer_arith(self, op: str, pointer: ir.Instr, count: ir.Instr, ptype: Ptr, span) -> ir.Instr:
        """`p + n`, `p - n`: n elements of what p points at (bytes when that
        is unknown), as in C."""
        layout = c_layout(ptype.pointee) if ptype.pointee is not None else None
        if layout is not None and layout[0] > 1:
            count = self.emit(ir.BinOp(op="*", left=count, right=self.const(layout[0], span=span), type=INT64,
                                       span=span))
        moved = self.emit(ir.BinOp(op=op, left=pointer, right=count, type=UINT64, span=span))
        return self.emit(ir.Retype(value=moved, type=ptype, span=span))

    # ---------------------------------------------------------- expressions

    def expr(self, e: ast.Expr) -> ir.Instr:
        meaning = self.inst.aliases.get(id(e))
        if meaning is not None:  # pid() for pid, an enumerator, a #define
            return self.expr(meaning)
        value = getattr(self, "expr_" + type(e).__name__)(e)
        copy = self.inst.copies.get(id(e))
        if copy is not None:  # a struct or array used as a value: its memory, copied
            value = self.emit(ir.ReadMem(addr=value, size=c_layout(copy.of)[0], space="user" if copy.user else "kernel",
                                         type=copy, span=e.span))
        if value is not None and isinstance(self.inst.types.get(id(e)), Bool) and not isinstance(value.type, Bool):
            # a comparison that gives a bool (upstream): the same 0 or 1, printed as one
            value = self.emit(ir.Retype(value=value, type=BOOL, span=e.span))
        return value

    def const(self, value: int, type_=INT64, span=None) -> ir.Instr:
        return self.emit(ir.Const(value=value, type=type_, span=span or self.fn.span))

    def expr_Integer(self, e: ast.Integer) -> ir.Instr:
        return self.const(e.value, self.type_of(e), e.span)

    def expr_BlockExpr(self, e: ast.BlockExpr) -> ir.Instr | None:
        self.in_expression += 1
        try:
            self.stmts(e.stmts)
            return self.expr(e.value) if e.value is not None else None
        finally:
            self.in_expression -= 1

    def expr_Boolean(self, e: ast.Boolean) -> ir.Instr:
        return self.const(int(e.value), BOOL, e.span)

    def expr_String(self, e: ast.String) -> ir.Instr:
        return self.emit(ir.StrConst(value=e.value.encode(), type=self.type_of(e), span=e.span))

    def expr_Builtin(self, e: ast.Builtin) -> ir.Instr:
        if e.name == "usermode":  # (cs & 3) == 3: ring 3
            (offset,) = self.inst.constants[id(e)]
            cs = self.emit(ir.CtxLoad(offset=offset, size=8, type=UINT64, span=e.span))
            ring = self.emit(ir.BinOp(op="&", left=cs, right=self.const(3, span=e.span), type=UINT64, span=e.span))
            return self.emit(ir.Cmp(op="==", left=ring, right=self.const(3, span=e.span), signed=False,
                                    span=e.span))
        if e.name == "comm":
            return self.emit(ir.Comm(span=e.span))
        if e.name == "probe":
            return self.probe_id(e)
        if e.name == "func":
            return self.probe_id(e, FUNC)
        if e.name in ("kstack", "ustack"):
            return self.stack(self.type_of(e), e.span)
        context = probe_kinds.kind(self.inst.target.kind).context
        if e.name == "retval":  # pt_regs of a return probe, or after fexit's arguments
            offset = 8 * self.inst.target.nargs if context == "raw_ret" else registers().retval
            return self.emit(ir.CtxLoad(offset=offset, size=8, type=UINT64, span=e.span))
        index = sarg_index(e.name)
        if index is not None:
            return self.emit(ir.StackArg(index=index, user=self.inst.target.kind.startswith("u"), span=e.span))
        index = arg_index(e.name)
        if index is not None and context == "usdt":
            arg = self.inst.target.usdt_args[index]
            return self.emit(ir.UsdtArg(arg=arg, type=self.type_of(e), span=e.span))
        if index is not None:
            # raw tracepoints and fentry/fexit: u64 args[]; a kprobe: pt_regs
            offset = registers().args[index] if context == "regs" else 8 * index
            return self.emit(ir.CtxLoad(offset=offset, size=8, type=UINT64, span=e.span))
        if e.name == "curtask":
            return self.emit(ir.Builtin(name=e.name, type=UINT64, span=e.span))
        name = SOURCES.get(e.name, e.name)
        return self.emit(ir.Builtin(name=name, type=self.type_of(e), span=e.span))

    def stack(self, stype: Resolved, span) -> ir.Instr:
        """A stack's hash in the stack map; a ustack with the pid."""
        user = stype.kind == "ustack"
        hashed = self.emit(ir.GetStack(user=user, limit=stype.limit, span=span))
        if user:
            return self.emit(ir.WithPid(value=hashed, type=stype, span=span))
        return self.emit(ir.Retype(value=hashed, type=stype, span=span))

    def call_ksym(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.Retype(value=self.expr(e.args[0]), type=self.type_of(e), span=e.span))

    def call_usym(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.WithPid(value=self.expr(e.args[0]), type=self.type_of(e), span=e.span))

    def call_kaddr(self, e: ast.Call) -> ir.Instr:
        (name,) = self.inst.constants[id(e)]
        return self.emit(ir.LoadConst(symbol=KADDR_PREFIX + name, type=UINT64, span=e.span))

    def call_percpu_kaddr(self, e: ast.Call) -> ir.Instr:
        var = self.emit(ir.LoadConst(symbol=PERCPU_PREFIX + e.args[0].value, type=UINT64, span=e.span))
        if len(e.args) == 2:
            return self.emit(ir.CallHelper(helper="per_cpu_ptr", args=[var, self.expr(e.args[1])], span=e.span))
        return self.emit(ir.CallHelper(helper="this_cpu_ptr", args=[var], span=e.span))

    def call_uaddr(self, e: ast.Call) -> ir.Instr:
        return self.const(self.inst.constants[id(e)][0], UINT64, e.span)

    def call_kstack(self, e: ast.Call) -> ir.Instr:
        return self.stack(self.type_of(e), e.span)

    call_ustack = call_kstack

    def probe_id(self, e: ast.Builtin, as_type=PROBE) -> ir.Instr:
        """Probes attached through perf events get their id as the attach
        cookie, so the expansions of a wildcard keep one shared body; the
        others have theirs as a constant."""
        if self.fn.dispatch is not None:  # run by a dispatcher: the id follows the syscall number
            nr = self.emit(ir.CtxLoad(offset=8, size=8, type=INT64, span=e.span))
            base = self.const(self.fn.probe_id - self.inst.target.syscall_nr, span=e.span)
            value = self.emit(ir.BinOp(op="+", left=nr, right=base, type=UINT64, span=e.span))
        elif probe_kinds.kind(self.inst.target.kind).cookie:
            value = self.emit(ir.AttachCookie(span=e.span))
        else:
            value = self.const(self.fn.probe_id, span=e.span)
        return self.emit(ir.Retype(value=value, type=as_type, span=e.span))

    def expr_Positional(self, e: ast.Positional) -> ir.Instr:
        (value,) = self.inst.constants[id(e)]
        if isinstance(value, int):
            return self.const(value, self.type_of(e), e.span)
        return self.emit(ir.StrConst(value=value.encode(), type=self.type_of(e), span=e.span))

    def expr_ParamCount(self, e: ast.ParamCount) -> ir.Instr:
        return self.const(self.inst.constants[id(e)][0], span=e.span)

    def expr_Variable(self, e: ast.Variable) -> ir.Instr:
        return self.emit(ir.LoadSlot(slot=self.variable(e.name), span=e.span))

    def expr_MapRef(self, e: ast.MapRef) -> ir.Instr:
        return self.emit(ir.MapLookup(map=self.maps[e.name], keys=self.keys(e), span=e.span))

    def expr_Unary(self, e: ast.Unary) -> ir.Instr:
        value = self.expr(e.operand)
        if e.op == "!":
            return self.emit(ir.Cmp(op="==", left=value, right=self.const(0, span=e.span), span=e.span))
        if e.op == "-":
            return self.emit(ir.BinOp(op="-", left=self.const(0, span=e.span), right=value, type=self.type_of(e), span=e.span))
        return self.emit(ir.BinOp(op="^", left=value, right=self.const(-1, span=e.span), type=self.type_of(e), span=e.span))

    def expr_Binary(self, e: ast.Binary) -> ir.Instr:
        if e.op in ("&&", "||"):
            return self.short_circuit(e)
        left = self.expr(e.left)
        right = self.expr(e.right)
        if isinstance(left.type, (Str, CValue)):
            if isinstance(left.type, CValue):
                eq = self.emit(ir.BytesEq(left=left, right=right, size=left.type.size, span=e.span))
            else:
                eq = self.emit(ir.StrEq(left=left, right=right, span=e.span))
            if e.op == "==":
                return eq
            return self.emit(ir.Cmp(op="==", left=eq, right=self.const(0, span=e.span), span=e.span))
        if e.op in ("==", "!=", "<", ">", "<=", ">="):
            signed = _int(left.type).signed and _int(right.type).signed
            return self.emit(ir.Cmp(op=e.op, left=left, right=right, signed=signed, span=e.span))
        rtype = self.type_of(e)
        if isinstance(rtype, Ptr):
            if isinstance(self.type_of(e.left), Ptr):
                return self.pointer_arith(e.op, left, right, rtype, e.span)
            return self.pointer_arith(e.op, right, left, rtype, e.span)
        return self.emit(ir.BinOp(op=e.op, left=left, right=right, type=rtype, span=e.span))

    def truth(self, value: ir.Instr, span) -> ir.Instr:
        return self.emit(ir.Cmp(op="!=", left=value, right=self.const(0, span=span), signed=False, span=span))

    def short_circuit(self, e: ast.Binary) -> ir.Instr:
        slot = self.new_slot("tmp", TRUTH)
        left = self.truth(self.expr(e.left), e.left.span)
        self.emit(ir.StoreSlot(slot=slot, value=left, span=e.span))
        rhs = self.new_block("rhs")
        end = ir.Block("")
        if e.op == "&&":
            self.terminate(ir.Branch(cond=left, then=rhs, otherwise=end, span=e.span))
        else:
            self.terminate(ir.Branch(cond=left, then=end, otherwise=rhs, span=e.span))
        self.block = rhs
        right = self.truth(self.expr(e.right), e.right.span)
        self.emit(ir.StoreSlot(slot=slot, value=right, span=e.span))
        self.terminate(ir.Jump(target=end))
        self.continue_in(end, "join")
        return self.emit(ir.LoadSlot(slot=slot, span=e.span))

    def expr_Ternary(self, e: ast.Ternary) -> ir.Instr:
        slot = self.new_slot("tmp", _storage_type(self.type_of(e)))
        cond = self.expr(e.cond)
        then, otherwise, end = self.new_block("then"), ir.Block(""), ir.Block("")
        self.terminate(ir.Branch(cond=cond, then=then, otherwise=otherwise, span=e.span))
        self.block = then
        self.emit(ir.StoreSlot(slot=slot, value=self.expr(e.then), span=e.then.span))
        self.terminate(ir.Jump(target=end))
        self.continue_in(otherwise, "else")
        self.emit(ir.StoreSlot(slot=slot, value=self.expr(e.otherwise), span=e.otherwise.span))
        self.terminate(ir.Jump(target=end))
        self.continue_in(end, "join")
        return self.emit(ir.LoadSlot(slot=slot, span=e.span))

    def expr_Tuple(self, e: ast.Tuple) -> ir.Instr:
        return self.emit(ir.MakeTuple(parts=[self.expr(x) for x in e.elements], type=self.type_of(e), span=e.span))

    def expr_TupleIndex(self, e: ast.TupleIndex) -> ir.Instr:
        return self.emit(ir.TupleGet(value=self.expr(e.obj), index=e.index, type=self.type_of(e), span=e.span))

    def expr_Cast(self, e: ast.Cast) -> ir.Instr:
        target, source = self.type_of(e), self.type_of(e.operand)
        start = 8 if isinstance(source, Buffer) else 0  # a buf()'s bytes come after its length
        if isinstance(target, CValue):  # (int8[8])x: the bytes of an integer, a string or a buffer
            value = self.expr(e.operand)
            if is_int(value.type):
                value = self.emit(ir.MakeTuple(parts=[value], type=Tuple((INT64,)), span=e.span))
            return self.emit(ir.BufferGet(value=value, offset=start, size=target.size, type=target, span=e.span))
        if isinstance(source, (CArray, CValue, Buffer)):  # (uint32)array
            return self.emit(ir.BufferGet(value=self.expr(e.operand), offset=start, size=target.bits // 8,
                                          type=target, span=e.span))
        if isinstance(self.type_of(e), Ptr):  # (struct x *)addr: the same 64 bits, typed by sema
            return self.emit(ir.Retype(value=self.expr(e.operand), type=UINT64, span=e.span))
        if isinstance(self.type_of(e), Bool):  # any non-zero value is true
            truth = self.truth(self.expr(e.operand), e.span)
            return self.emit(ir.Retype(value=truth, type=BOOL, span=e.span))
        return self.emit(ir.Cast(value=self.expr(e.operand), type=self.type_of(e), span=e.span))

    def expr_IncDec(self, e: ast.IncDec) -> ir.Instr:
        op = "+" if e.op == "++" else "-"
        target = e.target
        one = self.const(1, span=e.span)
        if isinstance(target, ast.Variable):
            slot = self.variable(target.name)
            old = self.emit(ir.LoadSlot(slot=slot, span=e.span))
            new = self.arith(op, old, one, slot.type, e.span)
            self.emit(ir.StoreSlot(slot=slot, value=new, span=e.span))
        else:
            decl = self.maps[target.name]
            keys = self.keys(target)
            old = self.emit(ir.MapLookup(map=decl, keys=keys, span=e.span))
            new = self.arith(op, old, one, decl.value_type, e.span)
            self.emit(ir.MapUpdate(map=decl, keys=keys, value=new, span=e.span))
        return new if e.prefix else old

    def expr_FieldAccess(self, e: ast.FieldAccess) -> ir.Instr:
        holder = self.type_of(e.obj)
        if isinstance(holder, (Ptr, Struct)):
            return self.member(e, holder)
        if isinstance(holder, CValue):
            return self.value_member(e)
        if isinstance(holder, Tuple):  # a record's field
            index = holder.names.index(e.field)
            return self.emit(ir.TupleGet(value=self.expr(e.obj), index=index, type=self.type_of(e), span=e.span))
        if self.inst.target.typed_args:  # argument registers (a uprobe) or a u64 slot each, in order
            index = [name for name, _ in self.inst.target.typed_args].index(e.field)
            regs = probe_kinds.kind(self.inst.target.kind).context == "regs"
            offset = registers().args[index] if regs else 8 * index
            value = self.emit(ir.CtxLoad(offset=offset, size=8, type=UINT64, span=e.span))
            atype = self.type_of(e)
            if isinstance(atype, Int) and atype.bits < 64:
                return self.emit(ir.Cast(value=value, type=atype, span=e.span))
            return value
        fld = self.inst.target.fields[e.field]
        ftype = self.type_of(e)
        if fld.data_loc:
            return self.emit(ir.CtxDataLocStr(offset=fld.offset, type=ftype, span=e.span))
        if isinstance(ftype, Str):
            return self.emit(ir.CtxStr(offset=fld.offset, type=ftype, span=e.span))
        if isinstance(ftype, CArray):  # an array in the record: its address
            return self.emit(ir.CtxAddr(offset=fld.offset, span=e.span))
        itype = ftype if isinstance(ftype, Int) else UINT64
        return self.emit(ir.CtxLoad(offset=fld.offset, size=fld.size, type=itype, span=e.span))

    def member(self, e: ast.FieldAccess, holder) -> ir.Instr:
        """A struct member at (the struct's address + its offset): read from
        memory, or, for a struct member, that address itself."""
        struct = holder.pointee if isinstance(holder, Ptr) else holder
        if not struct.members:
            struct = self.inst.structs.get(struct.name) or kernel_struct(struct.name)
        _, mtype, offset = struct.member(e.field)
        base = self.expr(e.obj)
        addr = base if not offset else self.emit(ir.BinOp(op="+", left=base, right=self.const(offset, span=e.span),
                                                          type=UINT64, span=e.span))
        user = holder.user if isinstance(holder, Ptr) else self.inst.target.kind in USER_SPACE_KINDS
        return self.read_at(addr, self.type_of(e), user, e.span)

    def read_at(self, addr: ir.Instr, mtype, user: bool, span) -> ir.Instr:
        """The value of type `mtype` at `addr`: read from (user or kernel)
        memory; a struct or an array is its address."""
        if isinstance(mtype, (Struct, CArray)):
            return addr
        space = "user" if user else "kernel"
        if isinstance(mtype, Str):
            return self.emit(ir.ReadMem(addr=addr, size=mtype.size, space=space, type=mtype, span=span))
        size = c_layout(mtype)[0]
        itype = mtype if isinstance(mtype, Bool) else Int(64, mtype.signed) if isinstance(mtype, Int) else UINT64
        return self.emit(ir.ReadMem(addr=addr, size=size, space=space, type=itype, span=span))

    def value_member(self, e: ast.Expr) -> ir.Instr:
        """A member or element of a copied struct or array (sema's value_member)."""
        (offset,) = self.inst.constants[id(e)]
        t = self.type_of(e)
        size = c_layout(t.of if isinstance(t, CValue) else t)[0]
        return self.emit(ir.BufferGet(value=self.expr(e.obj), offset=offset, size=size, type=t, span=e.span))

    def expr_Index(self, e: ast.Index) -> ir.Instr:
        holder = self.type_of(e.obj)
        if isinstance(holder, CValue):
            return self.value_member(e)
        base = self.expr(e.obj)
        index = self.expr(e.index)
        if isinstance(holder, Str):
            return self.emit(ir.ByteAt(value=base, index=index, type=Int(64, True), span=e.span))
        element = holder.element if isinstance(holder, CArray) else holder.pointee
        size = c_layout(element)[0]
        offset = self.emit(ir.BinOp(op="*", left=index, right=self.const(size, span=e.span), type=UINT64,
                                    span=e.span))
        addr = self.emit(ir.BinOp(op="+", left=base, right=offset, type=UINT64, span=e.span))
        return self.read_at(addr, self.type_of(e), holder.user, e.span)

    def expr_AddressOf(self, e: ast.AddressOf) -> ir.Instr:
        return self.emit(ir.SlotAddr(slot=self.variable(e.var.name), span=e.span))

    def expr_Deref(self, e: ast.Deref) -> ir.Instr:
        holder = self.type_of(e.operand)
        return self.read_at(self.expr(e.operand), self.type_of(e), holder.user, e.span)

    def expr_Call(self, e: ast.Call) -> ir.Instr | None:
        return getattr(self, "call_" + e.name)(e)

    def call_nsecs(self, e: ast.Call) -> ir.Instr:
        name = NSECS_MODES[e.args[0].name] if e.args else "nsecs"
        return self.emit(ir.Builtin(name=name, type=UINT64, span=e.span))

    def call_bswap(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.ByteSwap(value=self.expr(e.args[0]), type=self.type_of(e), span=e.span))

    def call_strncmp(self, e: ast.Call) -> ir.Instr:
        (n,) = self.inst.constants[id(e)]
        left, right = self.expr(e.args[0]), self.expr(e.args[1])
        if n == 0:
            return self.const(0, span=e.span)
        equal = self.emit(ir.StrEq(left=left, right=right, limit=n, span=e.span))
        return self.emit(ir.BinOp(op="^", left=equal, right=self.const(1, span=e.span), type=INT64, span=e.span))

    def call_strcontains(self, e: ast.Call) -> ir.Instr:
        haystack, needle = self.expr(e.args[0]), self.expr(e.args[1])
        return self.emit(ir.StrContains(haystack=haystack, needle=needle, type=self.type_of(e), span=e.span))

    def call_buf(self, e: ast.Call) -> ir.Instr:
        btype = self.type_of(e)
        source = self.expr(e.args[0])
        atype = self.type_of(e.args[0])
        length = self.expr(e.args[1]) if len(e.args) == 2 else self.const(btype.size, span=e.span)
        user = getattr(atype, "user", None)
        space = "any" if user is None else "user" if user else "kernel"
        return self.emit(ir.ReadBuf(source=source, length=length, space=space, type=btype, span=e.span))

    def as_buffer(self, arg: ast.Expr, size: int | None = None, capacity: int | None = None) -> ir.Instr:
        """An argument that is bytes (sema.bytes_arg) as a Buffer value of
        `size` bytes (its own by default) in a buffer of `capacity`."""
        t = self.type_of(arg)
        value = self.expr(arg)
        if isinstance(t, Buffer) and (size is None or size == t.size) and capacity in (None, t.size):
            return value
        if size is None:
            size = t.size if isinstance(t, (Str, Buffer)) else c_layout(t)[0]
        user = getattr(t, "user", None)
        space = "any" if user is None else "user" if user else "kernel"
        return self.emit(ir.ReadBuf(source=value, length=self.const(size, span=arg.span), space=space,
                                   type=Buffer(capacity or size), span=arg.span))

    def pack(self, parts: list[ir.Instr], rtype, span) -> ir.Instr:
        """Values side by side in one buffer, typed as what the runtime
        makes of them (a Resolved type: ntop's family and address)."""
        packed = self.emit(ir.MakeTuple(parts=parts, type=Tuple(tuple(widened(p.type) for p in parts)), span=span))
        return self.emit(ir.Retype(value=packed, type=rtype, span=span))

    def call_ntop(self, e: ast.Call) -> ir.Instr:
        """[family][count][16 bytes]: an integer's 4 bytes, or an array's."""
        rtype = self.type_of(e)
        family = self.expr(e.args[0]) if len(e.args) == 2 else self.const(2, span=e.span)  # AF_INET
        if is_int(self.type_of(e.args[-1])):
            parts = [family, self.const(4, span=e.span), self.expr(e.args[-1]), self.const(0, span=e.span)]
        else:
            parts = [family, self.as_buffer(e.args[-1], capacity=16)]
        return self.pack(parts, rtype, e.span)

    def call_pton(self, e: ast.Call) -> ir.Instr:
        (packed,) = self.inst.constants[id(e)]
        text = self.emit(ir.StrConst(value=packed, type=Str(len(packed)), span=e.span))
        return self.emit(ir.ReadBuf(source=text, length=self.const(len(packed), span=e.span),
                                    type=Buffer(len(packed)), span=e.span))

    def call_macaddr(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.Retype(value=self.as_buffer(e.args[0], 6), type=self.type_of(e), span=e.span))

    def call_strerror(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.Retype(value=self.expr(e.args[0]), type=self.type_of(e), span=e.span))

    call_cgroup_path = call_syscall_name = call_strerror

    def call_kptr(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.Retype(value=self.expr(e.args[0]), type=UINT64, span=e.span))

    call_uptr = call_kptr

    def call_reg(self, e: ast.Call) -> ir.Instr:
        (offset,) = self.inst.constants[id(e)]
        return self.emit(ir.CtxLoad(offset=offset, size=8, type=UINT64, span=e.span))

    def call_debugf(self, e: ast.Call) -> ir.Instr:
        """bpf_trace_printk(fmt, its size with the NUL, up to 3 values; a
        string's address for %s)."""
        fmt = self.expr(e.args[0])
        size = self.const(len(e.args[0].value.encode()) + 1, span=e.span)
        values = [self.expr(arg) for arg in e.args[1:]]
        return self.emit(ir.CallHelper(helper="trace_printk", args=[fmt, size, *values], span=e.span))

    def call_override(self, e: ast.Call) -> ir.Instr:
        ctx = self.emit(ir.CtxAddr(offset=0, span=e.span))
        return self.emit(ir.CallHelper(helper="override_return", args=[ctx, self.expr(e.args[0])], span=e.span))

    def call_signal(self, e: ast.Call) -> ir.Instr:
        found = self.inst.constants.get(id(e))
        number = self.const(found[0], span=e.span) if found else self.expr(e.args[0])
        return self.emit(ir.CallHelper(helper="send_signal", args=[number], span=e.span))

    def call_strlen(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.StrLen(value=self.expr(e.args[0]), span=e.span))

    def call_str(self, e: ast.Call) -> ir.Instr:
        if id(e) in self.inst.constants:  # str($1)
            (text,) = self.inst.constants[id(e)]
            return self.emit(ir.StrConst(value=text.encode(), type=self.type_of(e), span=e.span))
        arg = e.args[0]
        addr = self.expr(arg)
        if isinstance(addr.type, Str):
            return addr
        atype = self.type_of(arg)
        space = ("user" if atype.user else "kernel") if isinstance(atype, Ptr) else "any"
        return self.emit(ir.ReadStr(addr=addr, space=space, type=self.type_of(e), span=e.span))

    def call_printf(self, e: ast.Call) -> ir.Instr:
        """printf, errorf and warnf (`fmt`: their location), cat, system."""
        args = [self.expr(arg) for arg in e.args[1:]]
        where = self.inst.constants.get(id(e), ("",))[0]
        return self.output(e, e.name, args, pieces=self.inst.formats[id(e)], fmt=where)

    call_errorf = call_warnf = call_cat = call_system = call_printf

    def output(self, e: ast.Call, kind: str, args: list[ir.Instr], **what) -> ir.Instr:
        """Send a record of one output kind (see program.OutputSpec)."""
        arg_types = [_record_type(a.type) for a in args]
        index = self.output_index(kind, arg_types, what)
        decl = self.module.outputs[index]
        return self.emit(ir.Output(index=index, decl=decl, args=args, span=e.span))

    def output_index(self, kind: str, arg_types: list, what: dict) -> int:
        """One declaration per distinct kind, format, map and argument types,
        so the bodies of a wildcard probe stay identical (and are compiled
        once)."""
        fields, end = layout.fields_for(arg_types, start=8)
        return self.declare(ir.OutputDecl(kind=kind, arg_types=arg_types, fields=fields, size=end, **what))

    def declare(self, decl: ir.OutputDecl) -> int:
        """The index of an output declaration equal to `decl`, added if new."""
        key = decl.key()
        index = self.module.output_index.get(key)
        if index is None:
            index = self.module.output_index[key] = len(self.module.outputs)
            self.module.outputs.append(decl)
        return index

    def call_print(self, e: ast.Call) -> ir.Instr:
        arg = e.args[0]
        if isinstance(arg, ast.MapRef) and not arg.keys:
            top, div = self.inst.constants[id(e)]
            return self.output(e, "print_map", [], map=self.maps[arg.name], top=top, div=div)
        return self.output(e, "print_value", [self.expr(arg)])

    def call_clear(self, e: ast.Call) -> ir.Instr:
        return self.output(e, e.name, [], map=self.maps[e.args[0].name])

    call_zero = call_clear

    def call_join(self, e: ast.Call) -> ir.Instr:
        """A record of JOIN_MAX string slots, filled in the ring buffer."""
        argv = self.expr(e.args[0])
        atype = self.type_of(e.args[0])
        space = "kernel" if isinstance(atype, Ptr) and not atype.user else "user"
        sep = e.args[1].value if len(e.args) == 2 else " "
        slot = align8(self.strlen)
        fields = [Field("int", 8, 8)] + [Field("str", 16 + i * slot, slot) for i in range(JOIN_MAX)]
        decl = ir.OutputDecl(kind="join", arg_types=[], fields=fields, size=16 + JOIN_MAX * slot, fmt=sep)
        index = self.declare(decl)
        return self.emit(ir.JoinOutput(index=index, decl=decl, argv=argv, space=space, span=e.span))

    def call_time(self, e: ast.Call) -> ir.Instr:
        fmt = e.args[0].value if e.args else "%H:%M:%S\n"
        return self.output(e, "time", [], fmt=fmt)

    def call_strftime(self, e: ast.Call) -> ir.Instr:
        value = self.expr(e.args[1])
        return self.emit(ir.Retype(value=value, type=Timestamp(e.args[0].value), span=e.span))

    def call_len(self, e: ast.Call) -> ir.Instr:
        return self.emit(ir.MapLen(map=self.maps[e.args[0].name], span=e.span))

    def call_has_key(self, e: ast.Call) -> ir.Instr:
        decl = self.maps[e.args[0].name]
        ref = ast.MapRef(e.args[0].name, [e.args[1]], span=e.span)
        return self.emit(ir.MapHasKey(map=decl, keys=self.keys(ref), span=e.span))

    def call_exit(self, e: ast.Call) -> ir.Instr:
        code = self.expr(e.args[0]) if e.args else None
        instr = self.emit(ir.Exit(code=code, span=e.span))
        self.terminate(ir.Jump(target=self.exit_block, span=e.span))
        self.block = self.new_block("dead")
        return instr

    def call_delete(self, e: ast.Call) -> ir.Instr:
        ref = delete_target(e)
        return self.emit(ir.MapDelete(map=self.maps[ref.name], keys=self.keys(ref), span=e.span))


def kernel_struct(name: str):
    from pytrace import btf

    return btf.kernel_types().struct(name)


_record_type = widened  # how a value travels in a record


def _int(t) -> Int:
    return t if isinstance(t, Int) else UINT64


_storage_type = widened  # what a slot holds
