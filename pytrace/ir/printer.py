"""A deterministic text form of the IR, for `--dump ir` and golden tests.
It verifies the module first, so every dump is also a check."""

from __future__ import annotations

from pytrace.ir import nodes as ir
from pytrace.ir.verify import verify


def format_module(module: ir.Module) -> str:
    verify(module)
    lines = []
    for decl in module.maps:
        keys = ", ".join(str(t) for t in decl.key_types)
        lines.append(f"map {decl.name} {decl.symbol} key [{keys}] value {decl.value.kind}")
    for index, decl in enumerate(module.outputs):
        args = ", ".join(str(t) for t in decl.arg_types)
        lines.append(f"output {index} {_describe_output(decl)} ({args})")
    for fn in module.functions:
        lines.append(_format_function(fn))
    return "\n".join(lines) + "\n"


def _describe_output(decl: ir.OutputDecl) -> str:
    if decl.kind == "printf":
        text = "".join(p if isinstance(p, str) else "%" + p.flags + p.width
                       + ("" if p.precision is None else "." + p.precision) + (p.length or "") + p.conv
                       for p in decl.pieces)
        return f"printf {text!r}"
    if decl.kind == "time":
        return f"time {decl.fmt!r}"
    if decl.kind == "print_map":
        return f"print_map {decl.map.name} top {decl.top} div {decl.div}"
    if decl.map is not None:
        return f"{decl.kind} {decl.map.name}"
    return decl.kind


def _format_function(fn: ir.Function) -> str:
    return f"function {fn.name} {fn.probe_name}\n" + format_body(fn)


def format_body(fn: ir.Function) -> str:
    """A function's slots and blocks: equal text means equal code (codegen
    compiles each distinct body once)."""
    names: dict[int, str] = {}
    lines = [f"  slot {slot.name} :: {slot.type}" for slot in fn.slots]
    for block in fn.blocks:
        lines.append(f"{block.label}:")
        for instr in block.instrs:
            text = _format_instr(instr, names)
            if instr.type is not None:
                names[id(instr)] = f"%{len(names)}"
                text = f"{names[id(instr)]} = {text} :: {instr.type}"
            lines.append("  " + text)
    return "\n".join(lines)


def _format_instr(instr: ir.Instr, names: dict[int, str]) -> str:
    text = _format_plain(instr, names)
    check = getattr(instr, "check", -1)
    return text if check < 0 else f"{text} check {check}"


def _format_plain(instr: ir.Instr, names: dict[int, str]) -> str:
    def v(value):
        return names.get(id(value), "?")

    def keys(values):
        return "[" + ", ".join(v(k) for k in values) + "]"

    match instr:
        case ir.Const(value=value):
            return f"const {value}"
        case ir.StrConst(value=value):
            return f"str {value!r}"
        case ir.Builtin(name=name):
            return name
        case ir.Comm():
            return "comm"
        case ir.CtxLoad(offset=offset, size=size):
            return f"ctx_load +{offset} size {size}"
        case ir.UsdtArg(arg=arg):
            where = (f"{arg.base}" + (f"+{arg.index}*{arg.scale}" if arg.index else "")
                     + (f"{arg.offset:+d}" if arg.offset else "")) if arg.base else f"${arg.constant}"
            return f"usdt_arg {'*' if arg.deref else ''}{where} size {arg.size}"
        case ir.StackArg(index=index, user=user):
            return f"stack_arg {index} {'user' if user else 'kernel'}"
        case ir.LoadConst(symbol=symbol):
            return f"load_const {symbol}"
        case ir.AttachCookie():
            return "attach_cookie"
        case ir.CtxStr(offset=offset):
            return f"ctx_str +{offset}"
        case ir.CtxDataLocStr(offset=offset):
            return f"ctx_data_loc_str +{offset}"
        case ir.MakeTuple(parts=parts):
            return "tuple " + ", ".join(v(p) for p in parts)
        case ir.BytesEq(left=left, right=right, size=size):
            return f"bytes_eq {v(left)}, {v(right)} size {size}"
        case ir.BufferGet(value=value, offset=offset, size=size):
            return f"buffer_get {v(value)} +{offset} size {size}"
        case ir.TupleGet(value=value, index=index):
            return f"tuple_get {v(value)}.{index}"
        case ir.ReadMem(addr=addr, size=size, space=space):
            return f"read_mem {space} {v(addr)} size {size}"
        case ir.ReadStr(addr=addr, space=space):
            return f"read_str {space} {v(addr)}"
        case ir.BinOp(op=op, left=left, right=right):
            return f"{op} {v(left)}, {v(right)}"
        case ir.Cmp(op=op, left=left, right=right, signed=signed):
            return f"cmp{'' if signed else 'u'} {op} {v(left)}, {v(right)}"
        case ir.StrEq(left=left, right=right, limit=limit):
            return f"streq {v(left)}, {v(right)}" + (f", {limit}" if limit else "")
        case ir.StrContains(haystack=haystack, needle=needle):
            return f"strcontains {v(haystack)}, {v(needle)}"
        case ir.StrLen(value=value):
            return f"strlen {v(value)}"
        case ir.ReadBuf(source=source, length=length, space=space, type=t):
            return f"read_buf {space} {v(source)}, {v(length)} :: {t}"
        case ir.CallHelper(helper=helper, args=args):
            return f"call_helper {helper}" + "".join(f", {v(a)}" for a in args)
        case ir.ByteAt(value=value, index=index):
            return f"byte_at {v(value)}[{v(index)}]"
        case ir.ByteSwap(value=value, type=t):
            return f"bswap{t.bits} {v(value)}"
        case ir.Cast(value=value):
            return f"cast {v(value)}"
        case ir.LoadSlot(slot=slot):
            return f"load {slot.name}"
        case ir.SlotAddr(slot=slot):
            return f"address_of {slot.name}"
        case ir.StoreSlot(slot=slot, value=value):
            return f"store {slot.name}, {v(value)}"
        case ir.MapLookup(map=decl, keys=k):
            return f"map_lookup {decl.name} {keys(k)}"
        case ir.MapUpdate(map=decl, keys=k, value=value):
            return f"map_update {decl.name} {keys(k)}, {v(value)}"
        case ir.MapAggregate(map=decl, keys=k, agg=agg, value=value):
            params = "".join(f" {p}" for p in decl.value.params)
            return f"map_aggregate {decl.name} {agg.name}{params} {keys(k)}, {v(value)}"
        case ir.MapHasKey(map=decl, keys=k):
            return f"map_has_key {decl.name} {keys(k)}"
        case ir.MapLen(map=decl):
            return f"map_len {decl.name}"
        case ir.Retype(value=value):
            return f"retype {v(value)}"
        case ir.GetStack(user=user, limit=limit):
            return f"get_stack {'user' if user else 'kernel'} {limit}"
        case ir.WithPid(value=value):
            return f"with_pid {v(value)}"
        case ir.MapDelete(map=decl, keys=k):
            return f"map_delete {decl.name} {keys(k)}"
        case ir.Output(index=index, args=args):
            return f"output {index}" + "".join(f", {v(a)}" for a in args)
        case ir.CtxAddr(offset=offset):
            return f"ctx_addr +{offset}"
        case ir.Release():
            return "release"
        case ir.Exit(code=code):
            return "exit" if code is None else f"exit {v(code)}"
        case ir.JoinOutput(index=index, argv=argv, space=space):
            return f"join {index}, {space} {v(argv)}"
        case ir.TailCall(table=table, index=index):
            return f"tail_call {table} [{v(index)}]"
        case ir.Jump(target=target):
            return f"jump {target.label}"
        case ir.Branch(cond=cond, then=then, otherwise=otherwise):
            return f"branch {v(cond)}, {then.label}, {otherwise.label}"
        case ir.Return(value=value):
            return f"return {value}" if value else "return"
        case ir.CallbackArg(index=index):
            return "callback_key" if index == 1 else "callback_value"
        case ir.ForEach(map=decl, callback=callback, captured=captured, stop=stop):
            body = format_body(callback).replace("\n", "\n    ")
            names_ = ", ".join(slot.name for slot in captured)
            return f"for_each {decl.name} {callback.name} captured [{names_}] stop {stop.name}\n    {body}"
    raise TypeError(f"no printer for {type(instr).__name__}")
