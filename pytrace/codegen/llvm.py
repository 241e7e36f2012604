"""IR -> LLVM IR for the `bpf` target, with llvmlite.

    map_aggregate @ count [%0]
becomes (after optimisation)
    r1 = map_0 ll; r2 = key; call 1            ; lookup
    if r0 == 0 goto new; *(u64 *)r0 += 1; exit ; in place when found
    new: *(u64 *)(r10 - 8) = 1; ...; call 2     ; update only for a new key

Maps and load-time constants are globals; the code takes their address with
`ld_imm64`, which leaves a relocation the runtime patches (the map's fd, or
the constant's value), so the object is reusable across runs.

Integers are i64 everywhere; strings are pointers to 8-byte aligned stack
buffers whose size is a multiple of 8, so they are copied in words.

Every instruction carries the script line and column it came from as debug
info; LLVM turns that into the object's BTF line records, which is how a
verifier rejection is reported against the script.
"""

from __future__ import annotations

from llvmlite import ir as ll

from pytrace import program as prog
from pytrace.arch import registers
from pytrace.aggregations import TSERIES_AGGS, TSERIES_SLOT_WORDS, AGGREGATIONS, MASK64, log2_buckets
from pytrace.codegen import helpers as h
from pytrace.ir import nodes as ir
from pytrace.ir.layout import align8
from pytrace.sema.types import Agg, Buffer, Str, byte_size, in_buffer

I1 = ll.IntType(1)
I8 = ll.IntType(8)
I32 = ll.IntType(32)
I64 = ll.IntType(64)
PTR = I8.as_pointer()
# str() by address space; "any" is the compat helper, which picks the space
# from the address itself (x86 and other split-address-space kernels).
STR_READERS = {"user": h.PROBE_READ_USER_STR, "kernel": h.PROBE_READ_KERNEL_STR, "any": h.PROBE_READ_STR}
TRIPLE = "bpfel"
DATALAYOUT = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"


def section_name(function: str) -> str:
    """The object section holding a probe's function (a section may not
    share the function's own symbol name)."""
    return f"probe/{function}"


def code_owners(module: ir.Module) -> dict[str, str]:
    """For each function, the function whose code it runs: itself, or an
    earlier expansion of the same attach point with the same code (a
    wildcard over hundreds of tracepoints whose body does not read `args`
    differently is compiled, verified and loaded once)."""
    from pytrace.ir.printer import format_body

    first: dict[tuple, str] = {}
    owners = {}
    for fn in module.functions:
        key = (fn.kind, fn.span, format_body(fn))
        owners[fn.name] = first.setdefault(key, fn.name)
    return owners


def emit_module(module: ir.Module, source_name: str = "script") -> ll.Module:
    """The whole IR module as one LLVM module, one function per distinct
    probe body (see code_owners)."""
    out = ll.Module(name="pytrace")
    out.triple = TRIPLE
    out.data_layout = DATALAYOUT
    globals_ = _Globals(out, module)
    debug = _DebugInfo(out, source_name)
    owners = code_owners(module)
    for fn in module.functions:
        if owners[fn.name] == fn.name:
            emitter = _FunctionEmitter(out, globals_, debug, fn)
            emitter.emit()
            if emitter.scratch_end():
                module.scratch_use[fn.name] = emitter.scratch_end()
    return out


class _DebugInfo:
    """Just enough DWARF for line numbers: a file, a compile unit, one
    subprogram per probe function, a location per instruction."""

    def __init__(self, out: ll.Module, source_name: str):
        self.out = out
        self.file = out.add_debug_info("DIFile", {"filename": source_name, "directory": ""})
        self.unit = out.add_debug_info("DICompileUnit", {
            "language": ll.DIToken("DW_LANG_C99"), "file": self.file, "producer": "pytrace",
            "runtimeVersion": 0, "isOptimized": True, "emissionKind": ll.DIToken("LineTablesOnly"),
        }, is_distinct=True)
        out.add_named_metadata("llvm.dbg.cu", self.unit)
        for behaviour, name, value in ((2, "Debug Info Version", 3), (7, "Dwarf Version", 4)):
            out.add_named_metadata("llvm.module.flags", [ll.Constant(I32, behaviour), name, ll.Constant(I32, value)])
        long = out.add_debug_info("DIBasicType", {"name": "long", "size": 64, "encoding": ll.DIToken("DW_ATE_signed")})
        self.fn_type = out.add_debug_info("DISubroutineType", {"types": out.add_metadata([long])})

    def subprogram(self, func: ll.Function, line: int) -> ll.DIValue:
        sp = self.out.add_debug_info("DISubprogram", {
            "name": func.name, "file": self.file, "line": line, "type": self.fn_type, "unit": self.unit,
            "isDefinition": True, "scopeLine": line, "spFlags": ll.DIToken("DISPFlagDefinition | DISPFlagOptimized"),
        }, is_distinct=True)
        func.set_metadata("dbg", sp)
        return sp

    def location(self, scope: ll.DIValue, span) -> ll.DIValue:
        return self.out.add_debug_info("DILocation", {"line": span.line, "column": span.col, "scope": scope})


# Aggregation values up to this size are built on the stack for a new key;
# bigger ones (histograms) are created from the zero map, then updated in place.
STACK_VALUE_MAX = 64
# A function's buffers (strings, printf records, tuples, keys) live on the
# BPF stack up to this many bytes, and in the per-CPU scratch value beyond:
# half the 512 bytes, the rest left to LLVM's spills and helper arguments.
STACK_BUFFERS = 256
# The kernel's limit on a per-CPU map value (PCPU_MIN_UNIT_SIZE).
SCRATCH_MAX = 32768


def needs_zero_map(module: ir.Module) -> int:
    """The size the zero map's value must have (0: no map needs it)."""
    return max((d.value.size for d in module.maps if d.value.size > STACK_VALUE_MAX
                and isinstance(d.value_type, Agg)), default=0)


def extra_maps(module: ir.Module) -> set[str]:
    """The runtime's own maps the code uses besides the ring buffer and the
    counters: the stack map and its scratch value, the reported pids, the
    syscall dispatchers' program tables."""
    used = set()
    for fn in module.functions:
        for block in fn.blocks:
            for instr in block.instrs:
                if isinstance(instr, ir.GetStack):
                    used |= {prog.STACKS_NAME, prog.SCRATCH_NAME}
                elif isinstance(instr, ir.WithPid):
                    used.add(prog.PIDS_NAME)
                elif isinstance(instr, ir.TailCall):
                    used.add(instr.table)
    return used


class _Globals:
    """Map symbols, the ring buffer, the runtime's counters and the
    load-time constants."""

    def __init__(self, out: ll.Module, module: ir.Module):
        self.out = out
        self.maps = {decl.symbol: self._map(decl.symbol) for decl in module.maps}
        self.ringbuf = self._map(prog.RINGBUF_NAME)
        counters = ll.ArrayType(I64, prog.COUNTER_WORDS_BEFORE_MAPS + len(module.maps))
        self.counters = ll.GlobalVariable(out, counters, name=prog.COUNTERS_NAME)
        self.counters.align = 8
        self.zero = self._map(prog.ZERO_NAME) if needs_zero_map(module) else None
        # the runtime's own maps, by symbol (see extra_maps)
        self.own = {symbol: self._map(symbol) for symbol in sorted(extra_maps(module))}
        self.own[prog.RINGBUF_NAME] = self.ringbuf
        self.consts = {}
        self._bufs = None
        self.by_zero = module.by_zero

    def bufs(self) -> ll.GlobalVariable:
        """The per-CPU scratch value's map, declared when first used."""
        if self._bufs is None:
            self._bufs = self._map(prog.BUFS_NAME)
        return self._bufs

    def _map(self, symbol: str) -> ll.GlobalVariable:
        var = ll.GlobalVariable(self.out, I64, name=symbol)
        var.initializer = ll.Constant(I64, 0)
        var.section = "maps"
        var.align = 8
        return var

    def const(self, symbol: str) -> ll.GlobalVariable:
        if symbol not in self.consts:
            self.consts[symbol] = ll.GlobalVariable(self.out, I8, name=symbol)
        return self.consts[symbol]


class _FunctionEmitter:
    def __init__(self, out: ll.Module, globals_: _Globals, debug: _DebugInfo, fn: ir.Function,
                 parent: "_FunctionEmitter | None" = None):
        """A probe's function, or (`parent` given) the callback of a
        `for ($kv : @map)` in it: static, in the probe's section, called by
        bpf_for_each_map_elem with (map, key, value, the context the probe
        passed: its ctx, then the captured variables' addresses)."""
        self.fn = fn
        self.globals = globals_
        self.debug = debug
        self.out = out
        self.parent = parent
        if parent is None:
            self.func = ll.Function(out, ll.FunctionType(I64, [PTR]), name=fn.name)
            self.func.section = section_name(fn.name)
        else:
            self.func = ll.Function(out, ll.FunctionType(I64, [PTR] * 4), name=fn.name)
            self.func.linkage = "internal"
            self.func.section = parent.func.section
        self.scope = debug.subprogram(self.func, max(fn.span.line, 1))
        self.ctx = self.func.args[0]
        self.ctx.name = "ctx"
        self.entry = self.func.append_basic_block("allocas")
        self.blocks = {id(b): self.func.append_basic_block(b.label) for b in fn.blocks}
        self.b = ll.IRBuilder()
        self.values: dict[int, ll.Value] = {}
        self.literals: dict[int, bytes] = {}  # StrConst values, for fast compares
        self.slots: dict[int, ll.Value] = {}
        # Buffers made for one value (comm, str(), a field) that nothing
        # writes again: a key of exactly that string can use them in place.
        self.fresh: set[int] = set()
        # Temporary buffers by size: given back at each statement's end
        # (ir.Release) for the next statements to reuse.
        self.free: dict[int, list[ll.Value]] = {}
        self.taken: list[tuple[int, ll.Value]] = []
        self.stack_used = 0      # bytes of buffers on the stack
        self.scratch = None      # the scratch value's address, once looked up
        self.scratch_base = 0    # where this function's part of it starts
        self.scratch_used = 0
        self.callbacks: list[_FunctionEmitter] = []  # for-map bodies, emitted after this function

    # -------------------------------------------------------------- helpers

    def alloca(self, size: int, name: str = "") -> ll.Value:
        """A temporary 8-byte aligned buffer, as an i8*: one the statements
        before gave back (ir.Release) when there is one of this size, else a
        new one (see _buffer)."""
        size = align8(size)
        free = self.free.get(size)
        ptr = free.pop() if free else self._buffer(size, name)
        self.taken.append((size, ptr))
        return ptr

    def _buffer(self, size: int, name: str = "") -> ll.Value:
        """A new buffer of `size` bytes: on the BPF stack while the
        function's stack buffers stay within STACK_BUFFERS (small values,
        the common case, cost nothing to reach), else in the per-CPU
        scratch value (long strings, big printf records and tuples: a valid
        script never runs out of the 512 bytes the verifier allows).
        Integers always stay on the stack: the verifier follows values there
        (a loop's counter must be known to end), not in a map value."""
        if size > 8 and self.stack_used + size > STACK_BUFFERS:
            return self._scratch(size)
        self.stack_used += size
        raw = self._new_alloca(size, name)
        builder = ll.IRBuilder(self.entry)
        builder.position_after(raw)
        return builder.bitcast(raw, PTR)

    def _scratch(self, size: int) -> ll.Value:
        """`size` bytes of the per-CPU scratch value (prog.BUFS_NAME), whose
        address the entry block looks up once (see _finish_entry). A probe
        runs to its end on its CPU before another starts there, so each
        function's buffers are its own while it runs."""
        builder = ll.IRBuilder(self.entry)
        if self.scratch is None:
            key = self._new_alloca(8, "scratch_key")
            builder.position_at_end(self.entry)
            builder.store(ll.Constant(I64, 0), builder.bitcast(key, I64.as_pointer()), align=8)
            fnty = ll.FunctionType(I64, [PTR, PTR])
            lookup = builder.inttoptr(ll.Constant(I64, h.MAP_LOOKUP_ELEM), fnty.as_pointer())
            found = builder.call(lookup, [builder.bitcast(self.globals.bufs(), PTR), builder.bitcast(key, PTR)])
            self.scratch = builder.inttoptr(found, PTR, name="scratch")
        builder.position_at_end(self.entry)
        offset = self.scratch_base + self.scratch_used
        self.scratch_used += size
        return builder.gep(self.scratch, [ll.Constant(I64, offset)])

    def _new_alloca(self, size: int, name: str = "") -> ll.Value:
        """Allocas must all sit in the entry block (BPF has no dynamic stack
        allocation)."""
        builder = ll.IRBuilder(self.entry)
        if self.entry.instructions:
            builder.position_before(self.entry.instructions[0])
        slot = builder.alloca(ll.ArrayType(I8, align8(size)), name=name)
        slot.align = 8
        return slot

    def _emit_Release(self, instr: ir.Release) -> None:
        for size, ptr in self.taken:
            self.free.setdefault(size, []).append(ptr)
        self.taken = []

    def call(self, helper: int, *args: ll.Value) -> ll.Value:
        fnty = ll.FunctionType(I64, [a.type for a in args])
        target = self.b.inttoptr(ll.Constant(I64, helper), fnty.as_pointer())
        return self.b.call(target, args)

    def at(self, ptr: ll.Value, offset: int, ty=I64) -> ll.Value:
        """A typed pointer `offset` bytes into a buffer."""
        if offset:
            ptr = self.b.gep(ptr, [ll.Constant(I64, offset)])
        return self.b.bitcast(ptr, ty.as_pointer())

    def load64(self, ptr: ll.Value, offset: int = 0) -> ll.Value:
        return self.b.load(self.at(ptr, offset), align=8)

    def store64(self, value: ll.Value, ptr: ll.Value, offset: int = 0) -> None:
        self.b.store(value, self.at(ptr, offset), align=8)

    def zero(self, ptr: ll.Value, start: int, end: int) -> None:
        for offset in range(start, end, 8):
            self.store64(ll.Constant(I64, 0), ptr, offset)

    def copy(self, dst: ll.Value, src: ll.Value, size: int, dst_size: int | None = None) -> None:
        """Copy `size` bytes in words, then zero the rest of `dst_size`."""
        size = align8(size)
        for offset in range(0, size, 8):
            self.store64(self.load64(src, offset), dst, offset)
        if dst_size is not None:
            self.zero(dst, size, align8(dst_size))

    def map_ptr(self, symbol: str) -> ll.Value:
        var = self.globals.own.get(symbol) or self.globals.maps[symbol]
        return self.b.bitcast(var, PTR)

    def const(self, symbol: str) -> ll.Value:
        """A load-time constant (patched into an ld_imm64 by the loader)."""
        return self.b.ptrtoint(self.globals.const(symbol), I64)

    def opaque(self, value: ll.Value) -> ll.Value:
        """The same value, with everything LLVM knew about it forgotten (an
        empty inline asm): a bounds check after it cannot be optimised away
        when LLVM could prove what the verifier cannot (the verifier does not
        follow division, for one)."""
        barrier = ll.InlineAsm(ll.FunctionType(I64, [I64]), "", "=r,0", side_effect=False)
        return self.b.call(barrier, [value])

    def bump(self, word: int) -> None:
        """Add one to a word of the counters map (see program.COUNTERS_NAME),
        atomically: a few instructions on a path that runs only when
        something was refused."""
        ptr = self.b.gep(self.globals.counters, [ll.Constant(I32, 0), ll.Constant(I32, word)])
        self.b.atomic_rmw("add", ptr, ll.Constant(I64, 1), "monotonic")

    def value(self, instr: ir.Instr) -> ll.Value:
        return self.values[id(instr)]

    # ----------------------------------------------------------------- emit

    def emit(self) -> None:
        for block in self.fn.blocks:
            self.b.position_at_end(self.blocks[id(block)])
            for instr in block.instrs:
                span = instr.span if instr.span.line else self.fn.span
                self.b.debug_metadata = self.debug.location(self.scope, span) if span.line else None
                result = getattr(self, "_emit_" + type(instr).__name__)(instr)
                if result is not None:
                    self.values[id(instr)] = result
        self._finish_entry(self.blocks[id(self.fn.blocks[0])])
        for callback in self.callbacks:
            callback.enter(self)
            callback.emit()

    def scratch_end(self) -> int:
        """Where the scratch value's bytes this function and its callbacks
        use end."""
        return max([self.scratch_base + self.scratch_used] + [c.scratch_end() for c in self.callbacks])

    def enter(self, parent: "_FunctionEmitter") -> None:
        """A callback's start: the probe's ctx and the captured variables'
        addresses from the context it was passed, and its buffers after the
        probe's, on the stack (the verifier counts both frames against the
        512 bytes) and in the scratch value (both are live at once)."""
        self.stack_used = parent.stack_used
        self.scratch_base = parent.scratch_base + parent.scratch_used
        builder = ll.IRBuilder(self.entry)
        words = builder.bitcast(self.func.args[3], PTR.as_pointer())
        self.ctx = builder.load(words, align=8)
        foreach = self.foreach
        for i, slot in enumerate(foreach.captured, start=1):
            self.slots[id(slot)] = builder.load(builder.gep(words, [ll.Constant(I64, i)]), align=8)

    def _finish_entry(self, first: ll.Block) -> None:
        """End the entry block with a jump to the code, through a check that
        the scratch value was found when the function uses it (the verifier
        wants the null check; it never fails: the array has its element)."""
        builder = ll.IRBuilder(self.entry)
        if self.scratch is None:
            builder.branch(first)
            return
        missing = self.func.append_basic_block("no_scratch")
        builder.cbranch(builder.icmp_unsigned("==", self.scratch, ll.Constant(PTR, None)), missing, first)
        ll.IRBuilder(missing).ret(ll.Constant(I64, 0))

    def slot(self, slot: ir.Slot) -> ll.Value:
        if id(slot) not in self.slots:  # a variable's buffer: never given back
            self.slots[id(slot)] = self._buffer(align8(byte_size(slot.type)), slot.name.lstrip("$"))
        return self.slots[id(slot)]

    # ------------------------------------------------------------- values

    def _emit_Const(self, instr: ir.Const) -> ll.Value:
        return ll.Constant(I64, instr.value & (2**64 - 1))

    def _emit_StrConst(self, instr: ir.StrConst) -> ll.Value:
        size = align8(instr.type.size)
        data = instr.value.ljust(size, b"\0")
        buf = self.alloca(size, "str")
        for offset in range(0, size, 8):
            word = int.from_bytes(data[offset:offset + 8], "little")
            self.store64(ll.Constant(I64, word), buf, offset)
        self.literals[id(buf)] = instr.value
        return buf

    def _emit_Retype(self, instr: ir.Retype) -> ll.Value:
        return self.value(instr.value)

    def _emit_Builtin(self, instr: ir.Builtin) -> ll.Value:
        return _BUILTINS[instr.name](self)

    def _low32(self, value: ll.Value) -> ll.Value:
        return self.b.and_(value, ll.Constant(I64, 0xFFFFFFFF))

    def _high32(self, value: ll.Value) -> ll.Value:
        return self.b.lshr(value, ll.Constant(I64, 32))

    def _emit_Comm(self, instr: ir.Comm) -> ll.Value:
        buf = self.alloca(16, "comm")
        self.call(h.GET_CURRENT_COMM, buf, ll.Constant(I64, 16))
        self.fresh.add(id(buf))
        return buf

    def _emit_CtxAddr(self, instr: ir.CtxAddr) -> ll.Value:
        return self.b.ptrtoint(self.b.gep(self.ctx, [ll.Constant(I64, instr.offset)]), I64)

    def _emit_CtxLoad(self, instr: ir.CtxLoad) -> ll.Value:
        ty = ll.IntType(instr.size * 8)
        value = self.b.load(self.at(self.ctx, instr.offset, ty), align=instr.size)
        if instr.size == 8:
            return value
        return self.b.sext(value, I64) if instr.type.signed else self.b.zext(value, I64)

    def _emit_MakeTuple(self, instr: ir.MakeTuple) -> ll.Value:
        tuple_type = instr.type
        buf = self.alloca(tuple_type.size, "tuple")
        self.zero(buf, 0, align8(tuple_type.size))
        for part, part_type, offset in zip(instr.parts, tuple_type.elements, tuple_type.offsets()):
            value = self.value(part)
            if in_buffer(part_type):
                self.copy(self.at(buf, offset, I8), value, min(byte_size(part.type), byte_size(part_type)),
                          byte_size(part_type))
            else:
                self.store64(value, buf, offset)
        self.fresh.add(id(buf))
        return buf

    def _emit_TupleGet(self, instr: ir.TupleGet) -> ll.Value:
        offset = instr.value.type.offsets()[instr.index]
        buf = self.value(instr.value)
        if in_buffer(instr.type):
            return self.at(buf, offset, I8)
        return self.load64(buf, offset)

    def _emit_ReadMem(self, instr: ir.ReadMem) -> ll.Value:
        buf = self.alloca(instr.size, "mem")
        self.zero(buf, 0, align8(instr.size))
        helper = h.PROBE_READ_USER if instr.space == "user" else h.PROBE_READ_KERNEL
        got = self.call(helper, buf, ll.Constant(I64, instr.size), self.b.inttoptr(self.value(instr.addr), PTR))
        self.helper_failed(instr, self.b.icmp_signed("<", got, ll.Constant(I64, 0)), got)
        if in_buffer(instr.type):
            self.fresh.add(id(buf))
            return buf
        value = self.load64(buf)
        if instr.size >= 8:
            return value
        narrow = self.b.trunc(value, ll.IntType(instr.size * 8))
        return self.b.sext(narrow, I64) if instr.type.signed else self.b.zext(narrow, I64)

    def _emit_BytesEq(self, instr: ir.BytesEq) -> ll.Value:
        """Word by word (the buffers are 8-byte aligned and zero-padded)."""
        a, b = self.value(instr.left), self.value(instr.right)
        diff = ll.Constant(I64, 0)
        for offset in range(0, align8(instr.size), 8):
            diff = self.b.or_(diff, self.b.xor(self.load64(a, offset), self.load64(b, offset)))
        return self.b.zext(self.b.icmp_unsigned("==", diff, ll.Constant(I64, 0)), I64)

    def _emit_BufferGet(self, instr: ir.BufferGet) -> ll.Value:
        ptr = self.b.gep(self.value(instr.value), [ll.Constant(I64, instr.offset)])
        if in_buffer(instr.type):
            return ptr
        bits = ll.IntType(instr.size * 8)
        value = self.b.load(self.b.bitcast(ptr, bits.as_pointer()), align=instr.size)
        if instr.size >= 8:
            return value
        return self.b.sext(value, I64) if getattr(instr.type, "signed", False) else self.b.zext(value, I64)

    def _emit_UsdtArg(self, instr: ir.UsdtArg) -> ll.Value:
        """Register (+ index * scale) + offset, read from user memory when
        the note says so; then cut to the argument's size and extended."""
        arg = instr.arg
        regs = registers().by_name
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        if arg.base is None:
            value = c(arg.constant)
        else:
            value = self.load64(self.ctx, regs[arg.base])
            if arg.index:
                value = self.b.add(value, self.b.mul(self.load64(self.ctx, regs[arg.index]), c(arg.scale)))
            if arg.offset:
                value = self.b.add(value, c(arg.offset))
            if arg.deref:
                buf = self.alloca(8, "usdt_arg")
                self.store64(c(0), buf)
                self.call(h.PROBE_READ_USER, buf, c(abs(arg.size)), self.b.inttoptr(value, PTR))
                value = self.load64(buf)
        size = abs(arg.size)
        if size >= 8:
            return value
        narrow = self.b.trunc(value, ll.IntType(size * 8))
        return self.b.sext(narrow, I64) if arg.size < 0 else self.b.zext(narrow, I64)

    def _emit_StackArg(self, instr: ir.StackArg) -> ll.Value:
        """The u64 at sp + 8 * (index + 1): past the return address."""
        sp = self.load64(self.ctx, registers().sp)
        addr = self.b.add(sp, ll.Constant(I64, 8 * (instr.index + 1)))
        buf = self.alloca(8, "sarg")
        self.store64(ll.Constant(I64, 0), buf)
        helper = h.PROBE_READ_USER if instr.user else h.PROBE_READ_KERNEL
        self.call(helper, buf, ll.Constant(I64, 8), self.b.inttoptr(addr, PTR))
        return self.load64(buf)

    def _emit_LoadConst(self, instr: ir.LoadConst) -> ll.Value:
        return self.const(instr.symbol)

    def _emit_AttachCookie(self, instr: ir.AttachCookie) -> ll.Value:
        return self.call(h.GET_ATTACH_COOKIE, self.ctx)

    def _emit_CtxStr(self, instr: ir.CtxStr) -> ll.Value:
        size = instr.type.size
        buf = self.alloca(size, "field")
        self.zero(buf, 0, align8(size))
        offset = 0
        while offset < size:
            chunk = next(c for c in (8, 4, 2, 1) if (instr.offset + offset) % c == 0 and offset % c == 0 and offset + c <= size)
            ty = ll.IntType(chunk * 8)
            value = self.b.load(self.at(self.ctx, instr.offset + offset, ty), align=chunk)
            self.b.store(value, self.at(buf, offset, ty), align=chunk)
            offset += chunk
        self.fresh.add(id(buf))
        return buf

    def _emit_CtxDataLocStr(self, instr: ir.CtxDataLocStr) -> ll.Value:
        """The string sits at a variable place in the record, which the
        verifier will not let the code load from directly: read it with
        probe_read_kernel_str from the record's address."""
        size = instr.type.size
        buf = self.alloca(size, "field")
        self.zero(buf, 0, align8(size))
        loc = self.b.load(self.at(self.ctx, instr.offset, I32), align=4)
        where = self.b.zext(self.b.and_(loc, ll.Constant(I32, 0xFFFF)), I64)
        addr = self.b.inttoptr(self.b.add(self.b.ptrtoint(self.ctx, I64), where), PTR)
        self.count_truncated(self.call(h.PROBE_READ_KERNEL_STR, buf, ll.Constant(I64, size), addr), size)
        self.fresh.add(id(buf))
        return buf

    def helper_failed(self, instr: ir.Instr, failed: ll.Value, ret: ll.Value) -> None:
        """-k: send the instruction's helper_error record (its return code)
        when the helper failed."""
        if instr.check < 0:
            return
        with self.b.if_then(failed, likely=False):
            buf = self.alloca(16, "helper_error")
            self.store64(ll.Constant(I64, prog.RECORD_OUTPUT_BASE + instr.check), buf)
            self.store64(ret, buf, 8)
            self.output(buf, 16)

    def _emit_ReadStr(self, instr: ir.ReadStr) -> ll.Value:
        size = instr.type.size
        buf = self.alloca(size, "str")
        self.zero(buf, 0, align8(size))
        addr = self.b.inttoptr(self.value(instr.addr), PTR)
        helper = STR_READERS[instr.space]
        got = self.call(helper, buf, ll.Constant(I64, size), addr)
        self.helper_failed(instr, self.b.icmp_signed("<", got, ll.Constant(I64, 0)), got)
        self.count_truncated(got, size)
        self.fresh.add(id(buf))
        return buf

    def _emit_ReadBuf(self, instr: ir.ReadBuf) -> ll.Value:
        """[count][bytes]: the count clamped to the buffer (the verifier
        needs the bound), then the bytes copied or read."""
        size = instr.type.size
        buf = self.alloca(8 + align8(size), "buf")
        self.zero(buf, 0, 8 + align8(size))
        length = self.value(instr.length)
        big = self.b.icmp_unsigned(">", length, ll.Constant(I64, size))
        length = self.b.select(big, ll.Constant(I64, size), length)
        self.store64(length, buf)
        data = self.at(buf, 8, I8)
        source = self.value(instr.source)
        if isinstance(instr.source.type, Buffer):  # another buffer: its bytes, and its count if smaller
            copied = min(size, instr.source.type.size)
            self.copy(data, self.at(source, 8, I8), copied, copied)
            count = self.load64(source)
            over = self.b.icmp_unsigned(">", count, ll.Constant(I64, copied))
            self.store64(self.b.select(over, ll.Constant(I64, copied), count), buf)
        elif isinstance(instr.source.type, Str):  # a string on this program's stack: copied whole
            copied = min(size, instr.source.type.size)
            self.copy(data, source, copied, copied)
            over = self.b.icmp_unsigned(">", length, ll.Constant(I64, copied))
            self.store64(self.b.select(over, ll.Constant(I64, copied), length), buf)
        else:
            helper = {"user": h.PROBE_READ_USER, "kernel": h.PROBE_READ_KERNEL, "any": h.PROBE_READ}[instr.space]
            self.call(helper, data, length, self.b.inttoptr(source, PTR))
        self.fresh.add(id(buf))
        return buf

    def count_truncated(self, copied: ll.Value, size: int) -> None:
        """A string read that filled its buffer was (most likely) cut short:
        count it, so the runtime can say so."""
        with self.b.if_then(self.b.icmp_unsigned("==", copied, ll.Constant(I64, size)), likely=False):
            self.bump(prog.COUNTER_TRUNCATED)

    def _emit_BinOp(self, instr: ir.BinOp) -> ll.Value:
        a, b = self.value(instr.left), self.value(instr.right)
        signed = instr.type.signed
        op = instr.op
        if op == "+":
            return self.b.add(a, b)
        if op == "-":
            return self.b.sub(a, b)
        if op == "*":
            return self.b.mul(a, b)
        if op in ("/", "%"):
            return self._divide(op, a, b, signed, self.globals.by_zero)
        if op == "&":
            return self.b.and_(a, b)
        if op == "|":
            return self.b.or_(a, b)
        if op == "^":
            return self.b.xor(a, b)
        if op == "<<":
            return self.b.shl(a, b)
        if op == ">>":
            return self.b.ashr(a, b) if signed else self.b.lshr(a, b)
        raise AssertionError(f"no code for operator {op}")

    def _divide(self, op: str, a: ll.Value, b: ll.Value, signed: bool, by_zero: int = 0) -> ll.Value:
        """x / 0 and x % 0 give `by_zero` (the script's: 0 as bpftrace 0.17
        computes it, 1 as upstream defines it; see ir.Module.by_zero);
        guarding the division keeps LLVM from treating it as undefined."""
        is_zero = self.b.icmp_unsigned("==", b, ll.Constant(I64, 0))
        safe = self.b.select(is_zero, ll.Constant(I64, 1), b)
        if op == "/":
            result = self.b.sdiv(a, safe) if signed else self.b.udiv(a, safe)
        else:
            result = self.b.srem(a, safe) if signed else self.b.urem(a, safe)
        return self.b.select(is_zero, ll.Constant(I64, by_zero), result)

    def _emit_Cmp(self, instr: ir.Cmp) -> ll.Value:
        a, b = self.value(instr.left), self.value(instr.right)
        cmp = self.b.icmp_signed if instr.signed else self.b.icmp_unsigned
        return self.b.zext(cmp(instr.op, a, b), I64)

    def _emit_StrEq(self, instr: ir.StrEq) -> ll.Value:
        a, b = self.value(instr.left), self.value(instr.right)
        limit = instr.limit or None
        if id(b) in self.literals:
            return self._equals_literal(a, instr.left.type.size, self.literals[id(b)], limit)
        if id(a) in self.literals:
            return self._equals_literal(b, instr.right.type.size, self.literals[id(a)], limit)
        size = min(instr.left.type.size, instr.right.type.size, limit or 1 << 30)
        return self._equals_bytes(a, b, size)

    def _equals_literal(self, buf: ll.Value, size: int, text: bytes, limit: int | None = None) -> ll.Value:
        """Compare a buffer with a literal in 8-byte words: the literal's
        bytes and its NUL must match (its first `limit` bytes, with a
        limit); what follows is ignored."""
        data = (text + b"\0")[:limit]
        if len(data) > size:
            return ll.Constant(I64, 0)
        result = ll.Constant(ll.IntType(1), 1)
        for offset in range(0, len(data), 8):
            chunk = data[offset:offset + 8]
            mask = (1 << (8 * len(chunk))) - 1
            word = self.load64(buf, offset)
            if len(chunk) < 8:
                word = self.b.and_(word, ll.Constant(I64, mask))
            eq = self.b.icmp_unsigned("==", word, ll.Constant(I64, int.from_bytes(chunk, "little")))
            result = self.b.and_(result, eq)
        return self.b.zext(result, I64)

    def _equals_bytes(self, a: ll.Value, b: ll.Value, size: int) -> ll.Value:
        """strcmp-like equality of two runtime strings over `size` bytes."""
        done = self.func.append_basic_block("streq.done")
        incoming = []
        for i in range(size):
            x = self.b.load(self.at(a, i, I8))
            y = self.b.load(self.at(b, i, I8))
            differ = self.b.icmp_unsigned("!=", x, y)
            ended = self.b.icmp_unsigned("==", x, ll.Constant(I8, 0))
            stop = self.b.or_(differ, ended)
            nxt = self.func.append_basic_block("streq.next")
            incoming.append((self.b.zext(self.b.not_(differ), I64), self.b.block))
            self.b.cbranch(stop, done, nxt)
            self.b.position_at_end(nxt)
        incoming.append((ll.Constant(I64, 1), self.b.block))
        self.b.branch(done)
        self.b.position_at_end(done)
        phi = self.b.phi(I64)
        for value, block in incoming:
            phi.add_incoming(value, block)
        return phi

    def _byte(self, buf: ll.Value, index: ll.Value) -> ll.Value:
        """buf[index], for an index the code computes (the verifier bounds it
        from the comparisons before)."""
        return self.b.load(self.b.gep(buf, [index]))

    def _emit_StrLen(self, instr: ir.StrLen) -> ll.Value:
        """A bounded loop to the first NUL."""
        buf, size = self.value(instr.value), instr.value.type.size
        head = self.b.block
        loop = self.func.append_basic_block("strlen.loop")
        body = self.func.append_basic_block("strlen.body")
        done = self.func.append_basic_block("strlen.done")
        self.b.branch(loop)
        self.b.position_at_end(loop)
        i = self.b.phi(I64)
        i.add_incoming(ll.Constant(I64, 0), head)
        self.b.cbranch(self.b.icmp_unsigned("<", i, ll.Constant(I64, size)), body, done)
        self.b.position_at_end(body)
        nul = self.b.icmp_unsigned("==", self._byte(buf, i), ll.Constant(I8, 0))
        nxt = self.b.add(i, ll.Constant(I64, 1))
        i.add_incoming(nxt, body)
        self.b.cbranch(nul, done, loop)
        self.b.position_at_end(done)
        return i

    def _emit_StrContains(self, instr: ir.StrContains) -> ll.Value:
        """Whether the needle starts at some haystack offset i: two bounded
        loops (i over the haystack, j over the needle)."""
        hay, needle = self.value(instr.haystack), self.value(instr.needle)
        hsize, nsize = instr.haystack.type.size, instr.needle.type.size
        head = self.b.block
        block = self.func.append_basic_block
        outer, inner, load, compare, match = block("sc.outer"), block("sc.inner"), block("sc.load"), \
            block("sc.compare"), block("sc.match")
        advance, found, missing, done = block("sc.advance"), block("sc.found"), block("sc.missing"), \
            block("sc.done")
        zero8 = ll.Constant(I8, 0)
        self.b.branch(outer)
        self.b.position_at_end(outer)
        i = self.b.phi(I64)
        i.add_incoming(ll.Constant(I64, 0), head)
        self.b.branch(inner)
        self.b.position_at_end(inner)
        j = self.b.phi(I64)
        j.add_incoming(ll.Constant(I64, 0), outer)
        self.b.cbranch(self.b.icmp_unsigned("<", j, ll.Constant(I64, nsize)), load, found)
        self.b.position_at_end(load)
        want = self._byte(needle, j)
        k = self.b.add(i, j)
        ended = self.b.icmp_unsigned("==", want, zero8)
        self.b.cbranch(ended, found, compare)
        self.b.position_at_end(compare)
        self.b.cbranch(self.b.icmp_unsigned("<", k, ll.Constant(I64, hsize)), match, missing)
        self.b.position_at_end(match)
        same = self.b.icmp_unsigned("==", self._byte(hay, k), want)
        j.add_incoming(self.b.add(j, ll.Constant(I64, 1)), match)
        self.b.cbranch(same, inner, advance)
        self.b.position_at_end(advance)
        at_end = self.b.icmp_unsigned("==", self._byte(hay, i), zero8)
        nxt = self.b.add(i, ll.Constant(I64, 1))
        i.add_incoming(nxt, advance)
        more = self.b.and_(self.b.not_(at_end), self.b.icmp_unsigned("<", nxt, ll.Constant(I64, hsize)))
        self.b.cbranch(more, outer, missing)
        self.b.position_at_end(found)
        self.b.branch(done)
        self.b.position_at_end(missing)
        self.b.branch(done)
        self.b.position_at_end(done)
        result = self.b.phi(I64)
        result.add_incoming(ll.Constant(I64, 1), found)
        result.add_incoming(ll.Constant(I64, 0), missing)
        return result

    def _emit_CallHelper(self, instr: ir.CallHelper) -> ll.Value:
        return self.call(getattr(h, instr.helper.upper()), *[self.value(a) for a in instr.args])

    def _emit_ByteAt(self, instr: ir.ByteAt) -> ll.Value:
        """A bounds check, then the byte (the verifier sees the bound)."""
        buf, index = self.value(instr.value), self.value(instr.index)
        size = instr.value.type.size
        head = self.b.block
        inside = self.func.append_basic_block("byte.in")
        done = self.func.append_basic_block("byte.done")
        self.b.cbranch(self.b.icmp_unsigned("<", index, ll.Constant(I64, size)), inside, done)
        self.b.position_at_end(inside)
        byte = self.b.sext(self._byte(buf, index), I64)
        self.b.branch(done)
        self.b.position_at_end(done)
        phi = self.b.phi(I64)
        phi.add_incoming(ll.Constant(I64, 0), head)
        phi.add_incoming(byte, inside)
        return phi

    def _emit_ByteSwap(self, instr: ir.ByteSwap) -> ll.Value:
        bits = instr.type.bits
        if bits == 8:
            return self.b.and_(self.value(instr.value), ll.Constant(I64, 0xFF))
        narrow = self.b.trunc(self.value(instr.value), ll.IntType(bits)) if bits < 64 else self.value(instr.value)
        swapped = self.b.bswap(narrow)
        return self.b.zext(swapped, I64) if bits < 64 else swapped

    def _emit_Cast(self, instr: ir.Cast) -> ll.Value:
        bits = instr.type.bits
        if bits == 64:
            return self.value(instr.value)
        narrow = self.b.trunc(self.value(instr.value), ll.IntType(bits))
        return self.b.sext(narrow, I64) if instr.type.signed else self.b.zext(narrow, I64)

    def _emit_LoadSlot(self, instr: ir.LoadSlot) -> ll.Value:
        ptr = self.slot(instr.slot)
        if in_buffer(instr.slot.type):
            return ptr
        return self.load64(ptr)

    def _emit_SlotAddr(self, instr: ir.SlotAddr) -> ll.Value:
        return self.b.ptrtoint(self.slot(instr.slot), I64)

    def _emit_StoreSlot(self, instr: ir.StoreSlot) -> None:
        ptr = self.slot(instr.slot)
        value = self.value(instr.value)
        if in_buffer(instr.slot.type):
            size = byte_size(instr.slot.type)
            self.copy(ptr, value, min(byte_size(instr.value.type), size), size)
        else:
            self.store64(value, ptr)

    # ---------------------------------------------------------------- maps

    def key(self, decl: ir.MapDecl, keys: list[ir.Instr]) -> ll.Value:
        if len(keys) == 1 and decl.key_fields[0].kind == "str":
            value = self.value(keys[0])
            if id(value) in self.fresh and align8(keys[0].type.size) == decl.key_size:
                return value
        buf = self.alloca(decl.key_size, "key")
        if not keys:
            self.store64(ll.Constant(I64, 0), buf)
            return buf
        for fld, key in zip(decl.key_fields, keys):
            value = self.value(key)
            if in_buffer(key.type):
                size = min(byte_size(key.type), fld.size)
                self.copy(self.at(buf, fld.offset, I8), value, size, fld.size)
            else:
                self.store64(value, buf, fld.offset)
        return buf

    def lookup(self, decl: ir.MapDecl, key: ll.Value) -> tuple[ll.Value, ll.Value]:
        ptr = self.call(h.MAP_LOOKUP_ELEM, self.map_ptr(decl.symbol), key)
        value = self.b.inttoptr(ptr, PTR) if ptr.type != PTR else ptr
        found = self.b.icmp_unsigned("!=", ptr, ll.Constant(I64, 0))
        return value, found

    def update(self, decl: ir.MapDecl, key: ll.Value, value: ll.Value, flags: int = h.BPF_ANY) -> None:
        """Store a value; an update the kernel refuses (the map is full) is
        counted in the map's slot of the dropped-updates counter, never lost
        silently. With BPF_NOEXIST, a key another CPU just made is no loss."""
        ret = self.call(h.MAP_UPDATE_ELEM, self.map_ptr(decl.symbol), key, value, ll.Constant(I64, flags))
        failed = self.b.icmp_unsigned("!=", ret, ll.Constant(I64, 0))
        if flags == h.BPF_NOEXIST:
            failed = self.b.and_(failed, self.b.icmp_unsigned("!=", ret, ll.Constant(I64, -h.EEXIST & MASK64)))
        with self.b.if_then(failed, likely=False):
            self.bump(prog.counter_dropped(decl.index))

    def _emit_MapLookup(self, instr: ir.MapLookup) -> ll.Value:
        decl = instr.map
        key = self.key(decl, instr.keys)
        if isinstance(decl.value_type, Agg):
            return self.read_aggregate(decl, key)
        ptr, found = self.lookup(decl, key)
        self.helper_failed(instr, self.b.not_(found), ll.Constant(I64, 0))
        if in_buffer(instr.type):
            size = decl.value.size
            buf = self.alloca(size, "value")
            self.zero(buf, 0, size)
            with self.b.if_then(found):
                self.copy(buf, ptr, size)
            return buf
        return self.load_or_zero(ptr, found)

    def load_or_zero(self, ptr: ll.Value, found: ll.Value, offset: int = 0) -> ll.Value:
        before = self.b.block
        with self.b.if_then(found):
            loaded = self.load64(ptr, offset)
            inside = self.b.block
        phi = self.b.phi(I64)
        phi.add_incoming(ll.Constant(I64, 0), before)
        phi.add_incoming(loaded, inside)
        return phi

    def read_aggregate(self, decl: ir.MapDecl, key: ll.Value) -> ll.Value:
        """An aggregation as one integer, over every CPU's slot (as upstream
        bpftrace reads it): loop over the CPU ids, map_lookup_percpu_elem,
        and fold the slot by the row's `read` (sum, min, max, avg)."""
        how = AGGREGATIONS[decl.value.kind].read
        signed = decl.value.signed
        acc = self.alloca(8, "acc")
        extra = self.alloca(8, "acc2")   # min/max: a CPU had a value; avg: the total
        index = self.alloca(8, "cpu")
        for slot in (acc, extra, index):
            self.store64(ll.Constant(I64, 0), slot)
        cond = self.func.append_basic_block("percpu.cond")
        body = self.func.append_basic_block("percpu.body")
        done = self.func.append_basic_block("percpu.done")
        self.b.branch(cond)
        self.b.position_at_end(cond)
        i = self.load64(index)
        self.b.cbranch(self.b.icmp_unsigned("<", i, self.const(prog.CONST_NCPUS)), body, done)
        self.b.position_at_end(body)
        slot = self.call(h.MAP_LOOKUP_PERCPU_ELEM, self.map_ptr(decl.symbol), key, i)
        present = self.func.append_basic_block("percpu.present")
        step = self.func.append_basic_block("percpu.next")
        # No slot: the key is absent (every id then says so) or the id has no CPU.
        self.b.cbranch(self.b.icmp_unsigned("!=", slot, ll.Constant(I64, 0)), present, step)
        self.b.position_at_end(present)
        ptr = self.b.inttoptr(slot, PTR)
        if how == "sum":
            self.store64(self.b.add(self.load64(acc), self.load64(ptr)), acc)
        elif how == "avg":
            self.store64(self.b.add(self.load64(acc), self.load64(ptr)), acc)
            self.store64(self.b.add(self.load64(extra), self.load64(ptr, 8)), extra)
        else:
            cmp = self.b.icmp_signed if signed else self.b.icmp_unsigned
            value = self.load64(ptr)
            better = cmp("<" if how == "min" else ">", value, self.load64(acc))
            first = self.b.icmp_unsigned("==", self.load64(extra), ll.Constant(I64, 0))
            has = self.b.icmp_unsigned("!=", self.load64(ptr, 8), ll.Constant(I64, 0))
            with self.b.if_then(self.b.and_(has, self.b.or_(first, better))):
                self.store64(value, acc)
                self.store64(ll.Constant(I64, 1), extra)
        self.b.branch(step)
        self.b.position_at_end(step)
        self.store64(self.b.add(i, ll.Constant(I64, 1)), index)
        self.b.branch(cond)
        self.b.position_at_end(done)
        if how != "avg":
            return self.load64(acc)
        count, total = self.load64(acc), self.load64(extra)
        return self._divide("/", total, count, signed)

    def _emit_MapLen(self, instr: ir.MapLen) -> ll.Value:
        """The kernel's element count of the map (the kfunc
        bpf_map_sum_elem_count, 6.6+; the loader resolves its BTF id)."""
        fnty = ll.FunctionType(I64, [PTR])
        name = prog.KFUNC_MAP_ELEM_COUNT
        func = self.func.module.globals.get(name) or ll.Function(self.func.module, fnty, name=name)
        return self.b.call(func, [self.map_ptr(instr.map.symbol)])

    def _emit_MapHasKey(self, instr: ir.MapHasKey) -> ll.Value:
        decl = instr.map
        _, found = self.lookup(decl, self.key(decl, instr.keys))
        return self.b.zext(found, I64)

    def _emit_MapUpdate(self, instr: ir.MapUpdate) -> None:
        decl = instr.map
        key = self.key(decl, instr.keys)
        value = self.value(instr.value)
        if in_buffer(instr.value.type):
            buf = self.alloca(decl.value.size, "value")
            self.copy(buf, value, min(byte_size(instr.value.type), decl.value.size), decl.value.size)
        else:
            buf = self.alloca(8, "value")
            self.store64(value, buf)
        self.update(decl, key, buf)

    def _emit_MapAggregate(self, instr: ir.MapAggregate) -> None:
        """Update this CPU's value in place with the row's emitter; only a
        new key calls map_update_elem. A small value is built on the stack
        (zeros, then the same update); a big one (a histogram) is created
        from the zero map, looked up again and updated in place."""
        decl = instr.map
        update = getattr(self, "_agg_" + instr.agg.update)
        key = self.key(decl, instr.keys)
        arg = self.value(instr.value)
        params = decl.value.params
        signed = decl.value.signed
        ptr, found = self.lookup(decl, key)
        with self.b.if_else(found) as (in_place, new_key):
            with in_place:
                update(ptr, arg, params, signed)
            with new_key:
                if decl.value.size <= STACK_VALUE_MAX:
                    buf = self.alloca(decl.value.size, "value")
                    self.zero(buf, 0, decl.value.size)
                    update(buf, arg, params, signed)
                    self.update(decl, key, buf)
                else:
                    zkey = self.alloca(8, "zero_key")
                    self.store64(ll.Constant(I64, 0), zkey)
                    zero = self.call(h.MAP_LOOKUP_ELEM, self.b.bitcast(self.globals.zero, PTR), zkey)
                    with self.b.if_then(self.b.icmp_unsigned("!=", zero, ll.Constant(I64, 0))):
                        self.update(decl, key, self.b.inttoptr(zero, PTR), h.BPF_NOEXIST)
                        again, made = self.lookup(decl, key)
                        with self.b.if_then(made):
                            update(again, arg, params, signed)

    # One emitter per row's `update`: (value pointer, argument, params, signed).
    # Per-CPU values: no other CPU writes this slot, so no atomics.

    def _agg_add(self, ptr, arg, params, signed) -> None:
        self.store64(self.b.add(self.load64(ptr), arg), ptr)

    def _agg_min(self, ptr, arg, params, signed) -> None:
        self._extreme("<", ptr, arg, signed)

    def _agg_max(self, ptr, arg, params, signed) -> None:
        self._extreme(">", ptr, arg, signed)

    def _extreme(self, op: str, ptr, arg, signed) -> None:
        cmp = self.b.icmp_signed if signed else self.b.icmp_unsigned
        better = cmp(op, arg, self.load64(ptr))
        unset = self.b.icmp_unsigned("==", self.load64(ptr, 8), ll.Constant(I64, 0))
        with self.b.if_then(self.b.or_(better, unset)):
            self.store64(arg, ptr)
            self.store64(ll.Constant(I64, 1), ptr, 8)

    def _agg_mean(self, ptr, arg, params, signed) -> None:
        self.store64(self.b.add(self.load64(ptr), ll.Constant(I64, 1)), ptr)
        self.store64(self.b.add(self.load64(ptr, 8), arg), ptr, 8)

    def _agg_log2(self, ptr, arg, params, signed) -> None:
        """hist(v, k): bucket 0 for v < 0, 1 + v below 2^k, else 1 +
        ((l - k + 1) << k | the k bits after the top bit), l = the top bit's
        position (bpftrace's log2; six compare-and-shift steps find it)."""
        (k,) = params
        mask = (1 << k) - 1
        c = lambda n: ll.Constant(I64, n)  # noqa: E731
        negative = self.b.icmp_signed("<", arg, c(0))
        small = self.b.icmp_unsigned("<=", arg, c(mask))
        n, top = arg, c(0)
        for i in range(5, -1, -1):
            shift = self.b.shl(self.b.zext(self.b.icmp_unsigned(">=", n, c(1 << (1 << i))), I64), c(i))
            n = self.b.lshr(n, shift)
            top = self.b.add(top, shift)
        low_bits = self.b.sub(top, c(k))
        x = self.b.and_(self.b.lshr(arg, low_bits), c(mask))
        big = self.b.add(self.b.add(self.b.shl(self.b.add(low_bits, c(1)), c(k)), x), c(1))
        index = self.b.select(negative, c(0), self.b.select(small, self.b.add(arg, c(1)), big))
        self._bucket_add(ptr, index, log2_buckets(k))

    def _agg_linear(self, ptr, arg, params, signed) -> None:
        """lhist(v, min, max, step): 0 below min, (max - min) / step + 1 from
        max up, else (v - min) / step + 1 (as bpftrace computes it)."""
        low, high, step = params
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        last = (high - low) // step + 1
        inside = self.b.add(self.b.udiv(self.b.sub(arg, c(low)), c(step)), c(1))
        index = self.b.select(self.b.icmp_signed("<", arg, c(low)), c(0),
                              self.b.select(self.b.icmp_signed(">", arg, c(high)), c(last), inside))
        self._bucket_add(ptr, index, last + 1)

    def _agg_tseries(self, ptr, arg, params, signed) -> None:
        """The slot of this interval (its number modulo the count), emptied
        when it last held an older interval, then updated by the agg: the
        value and the time (none), added (sum; avg also counts), or the
        smaller or larger (min, max; meta says the slot has one)."""
        interval, count, agg = params
        how = TSERIES_AGGS[agg]
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        now = self.call(h.KTIME_GET_TAI_NS)
        epoch = self.b.udiv(now, c(interval))
        index = self.opaque(self.b.urem(epoch, c(count)))
        index = self.b.select(self.b.icmp_unsigned(">", index, c(count - 1)), c(count - 1), index)
        words = self.b.bitcast(ptr, I64.as_pointer())
        slot = self.b.gep(words, [self.b.mul(index, c(TSERIES_SLOT_WORDS))])
        value_at, meta_at = slot, self.b.gep(slot, [c(1)])
        epoch_at = self.b.gep(slot, [c(2)])
        with self.b.if_then(self.b.icmp_unsigned("!=", self.b.load(epoch_at, align=8), epoch)):
            self.b.store(c(0), value_at, align=8)
            self.b.store(c(0), meta_at, align=8)
            self.b.store(epoch, epoch_at, align=8)
        value, meta = self.b.load(value_at, align=8), self.b.load(meta_at, align=8)
        if how == "none":
            self.b.store(arg, value_at, align=8)
            self.b.store(now, meta_at, align=8)
        elif how in ("sum", "avg"):
            self.b.store(self.b.add(value, arg), value_at, align=8)
            if how == "avg":
                self.b.store(self.b.add(meta, c(1)), meta_at, align=8)
        else:
            cmp = self.b.icmp_signed if signed else self.b.icmp_unsigned
            better = cmp("<" if how == "min" else ">", arg, value)
            first = self.b.icmp_unsigned("==", meta, c(0))
            self.b.store(self.b.select(self.b.or_(first, better), arg, value), value_at, align=8)
            self.b.store(c(1), meta_at, align=8)

    def _bucket_add(self, ptr, index, buckets: int) -> None:
        """Add one to bucket `index` of `buckets` u64 counters. The bound is
        checked again for the verifier, which cannot follow the arithmetic
        that made the index."""
        limit = ll.Constant(I64, buckets - 1)
        index = self.opaque(index)
        index = self.b.select(self.b.icmp_unsigned(">", index, limit), limit, index)
        slot = self.b.gep(self.b.bitcast(ptr, I64.as_pointer()), [index])
        self.b.store(self.b.add(self.b.load(slot, align=8), ll.Constant(I64, 1)), slot, align=8)

    def _emit_MapDelete(self, instr: ir.MapDelete) -> ll.Value:
        key = self.key(instr.map, instr.keys)
        failed = self.call(h.MAP_DELETE_ELEM, self.map_ptr(instr.map.symbol), key)
        self.helper_failed(instr, self.b.icmp_unsigned("!=", failed, ll.Constant(I64, 0)), failed)
        return self.b.zext(self.b.icmp_unsigned("==", failed, ll.Constant(I64, 0)), I64)

    # -------------------------------------------------------------- output

    def output(self, buf: ll.Value, size: int, flags: int = 0) -> None:
        """Send a record; when the ring buffer is full, count it as lost."""
        ringbuf = self.map_ptr(prog.RINGBUF_NAME)
        failed = self.call(h.RINGBUF_OUTPUT, ringbuf, buf, ll.Constant(I64, size), ll.Constant(I64, flags))
        with self.b.if_then(self.b.icmp_unsigned("!=", failed, ll.Constant(I64, 0)), likely=False):
            self.bump(prog.COUNTER_LOST)

    def _emit_Output(self, instr: ir.Output) -> None:
        decl = instr.decl
        buf = self.alloca(decl.size, "record")
        self.store64(ll.Constant(I64, prog.RECORD_OUTPUT_BASE + instr.index), buf)
        for fld, arg in zip(decl.fields, instr.args):
            value = self.value(arg)
            if in_buffer(arg.type):
                self.copy(self.at(buf, fld.offset, I8), value, min(byte_size(arg.type), fld.size), fld.size)
            else:
                self.store64(value, buf, fld.offset)
        self.output(buf, decl.size)

    def _emit_JoinOutput(self, instr: ir.JoinOutput) -> None:
        """Reserve the record in the ring buffer (it is too big for the
        stack), read up to JOIN_MAX pointers and their strings into it,
        store how many, send it; a full ring buffer counts as lost."""
        decl = instr.decl
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        ringbuf = self.map_ptr(prog.RINGBUF_NAME)
        rec = self.call(h.RINGBUF_RESERVE, ringbuf, c(decl.size), c(0))
        with self.b.if_else(self.b.icmp_unsigned("!=", rec, c(0))) as (reserved, full):
            with reserved:
                buf = self.b.inttoptr(rec, PTR)
                self.store64(c(prog.RECORD_OUTPUT_BASE + instr.index), buf)
                count = self.alloca(8, "join_n")
                self.store64(c(0), count)
                read_ptr = h.PROBE_READ_USER if instr.space == "user" else h.PROBE_READ_KERNEL
                read_str = h.PROBE_READ_USER_STR if instr.space == "user" else h.PROBE_READ_KERNEL_STR
                pointer = self.alloca(8, "join_ptr")
                done = self.func.append_basic_block("join.done")
                argv = self.value(instr.argv)
                for i, slot in enumerate(decl.fields[1:]):
                    self.store64(c(0), pointer)
                    self.call(read_ptr, pointer, c(8), self.b.inttoptr(self.b.add(argv, c(8 * i)), PTR))
                    address = self.load64(pointer)
                    more = self.func.append_basic_block(f"join.{i}")
                    self.b.cbranch(self.b.icmp_unsigned("==", address, c(0)), done, more)
                    self.b.position_at_end(more)
                    self.call(read_str, self.at(buf, slot.offset, I8), c(slot.size), self.b.inttoptr(address, PTR))
                    self.store64(c(i + 1), count)
                self.b.branch(done)
                self.b.position_at_end(done)
                self.store64(self.load64(count), buf, 8)
                self.call(h.RINGBUF_SUBMIT, buf, c(0))
            with full:
                self.bump(prog.COUNTER_LOST)

    # -------------------------------------------------------------- stacks

    def _emit_GetStack(self, instr: ir.GetStack) -> ll.Value:
        """bpf_get_stack into the per-CPU scratch value (a stack is too big
        for the BPF stack), a 64-bit hash of the frames it wrote, and the
        frames stored in the stack map under that hash unless they are
        there already. A stack the full map refuses is counted."""
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        result = self.alloca(8, "stack")
        self.store64(c(0), result)
        zkey = self.alloca(8, "scratch_key")
        self.store64(c(0), zkey)
        scratch = self.call(h.MAP_LOOKUP_ELEM, self.map_ptr(prog.SCRATCH_NAME), zkey)
        with self.b.if_then(self.b.icmp_unsigned("!=", scratch, c(0))):
            buf = self.b.inttoptr(scratch, PTR)
            flags = h.BPF_F_USER_STACK if instr.user else 0
            got = self.call(h.GET_STACK, self.ctx, self.at(buf, 8, I8), c(8 * instr.limit), c(flags))
            nbytes = self.b.select(self.b.icmp_signed("<", got, c(0)), c(0), got)
            self.store64(nbytes, buf)
            self.store64(self._hash_frames(buf, nbytes, instr.limit), result)
            found = self.call(h.MAP_LOOKUP_ELEM, self.map_ptr(prog.STACKS_NAME), result)
            with self.b.if_then(self.b.icmp_unsigned("==", found, c(0))):
                ret = self.call(h.MAP_UPDATE_ELEM, self.map_ptr(prog.STACKS_NAME), result, buf, c(h.BPF_NOEXIST))
                failed = self.b.and_(self.b.icmp_unsigned("!=", ret, c(0)),
                                     self.b.icmp_unsigned("!=", ret, c(-h.EEXIST)))
                with self.b.if_then(failed, likely=False):
                    self.bump(prog.COUNTER_STACKS)
        return self.load64(result)

    def _hash_frames(self, buf: ll.Value, nbytes: ll.Value, limit: int) -> ll.Value:
        """A 64-bit hash of the first nbytes / 8 frames (a loop of at most
        `limit` rounds, which the verifier walks through)."""
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        acc = self.alloca(8, "hash")
        index = self.alloca(8, "frame")
        self.store64(c(0x9E3779B97F4A7C15), acc)
        self.store64(c(0), index)
        cond = self.func.append_basic_block("hash.cond")
        body = self.func.append_basic_block("hash.body")
        done = self.func.append_basic_block("hash.done")
        self.b.branch(cond)
        self.b.position_at_end(cond)
        i = self.load64(index)
        more = self.b.and_(self.b.icmp_unsigned("<", i, c(limit)),
                           self.b.icmp_unsigned("<", self.b.shl(i, c(3)), nbytes))
        self.b.cbranch(more, body, done)
        self.b.position_at_end(body)
        slot = self.b.gep(self.b.bitcast(self.at(buf, 8, I8), I64.as_pointer()), [self.opaque(i)])
        frame = self.b.load(slot, align=8)
        x = self.b.mul(self.b.xor(self.load64(acc), frame), c(0xBF58476D1CE4E5B9))
        self.store64(self.b.xor(x, self.b.lshr(x, c(31))), acc)
        self.store64(self.b.add(i, c(1)), index)
        self.b.branch(cond)
        self.b.position_at_end(done)
        x = self.b.mul(self.b.xor(self.load64(acc), nbytes), c(0x94D049BB133111EB))
        return self.b.xor(x, self.b.lshr(x, c(29)))

    def _emit_WithPid(self, instr: ir.WithPid) -> ll.Value:
        """[value, pid] in a buffer; a pid not reported before is sent to
        the runtime (RECORD_PID) once."""
        c = lambda n: ll.Constant(I64, n & MASK64)  # noqa: E731
        buf = self.alloca(16, "with_pid")
        self.store64(self.value(instr.value), buf)
        pid = self.b.lshr(self.call(h.GET_CURRENT_PID_TGID), c(32))
        self.store64(pid, buf, 8)
        key = self.at(buf, 8, I8)
        seen = self.call(h.MAP_LOOKUP_ELEM, self.map_ptr(prog.PIDS_NAME), key)
        with self.b.if_then(self.b.icmp_unsigned("==", seen, c(0)), likely=False):
            one = self.alloca(8, "one")
            self.store64(c(1), one)
            ret = self.call(h.MAP_UPDATE_ELEM, self.map_ptr(prog.PIDS_NAME), key, one, c(h.BPF_NOEXIST))
            with self.b.if_then(self.b.icmp_unsigned("==", ret, c(0))):
                record = self.alloca(16, "pid_record")
                self.store64(c(prog.RECORD_PID), record)
                self.store64(pid, record, 8)
                # woken at once: the process may not live long
                self.output(record, 16, h.BPF_RB_FORCE_WAKEUP)
        return buf

    def _emit_TailCall(self, instr: ir.TailCall) -> None:
        index = self.b.and_(self.value(instr.index), ll.Constant(I64, 0xFFFFFFFF))
        self.call(h.TAIL_CALL, self.ctx, self.map_ptr(instr.table), index)

    def _emit_Exit(self, instr: ir.Exit) -> None:
        size = 16 if instr.code is not None else 8
        buf = self.alloca(size, "exit")
        self.store64(ll.Constant(I64, prog.RECORD_EXIT), buf)
        if instr.code is not None:
            self.store64(self.value(instr.code), buf, 8)
        self.output(buf, size)

    # --------------------------------------------------------- terminators

    def _emit_Jump(self, instr: ir.Jump) -> None:
        self.b.branch(self.blocks[id(instr.target)])

    def _emit_Branch(self, instr: ir.Branch) -> None:
        cond = self.b.icmp_unsigned("!=", self.value(instr.cond), ll.Constant(I64, 0))
        self.b.cbranch(cond, self.blocks[id(instr.then)], self.blocks[id(instr.otherwise)])

    def _emit_Return(self, instr: ir.Return) -> None:
        self.b.ret(ll.Constant(I64, instr.value))

    # ------------------------------------------------------ for-map loops

    def _emit_ForEach(self, instr: ir.ForEach) -> None:
        """The context (this function's ctx, then each captured variable's
        address) in a stack buffer, which the helper requires, and the call.
        The callback is emitted after this function (see emit)."""
        callback = _FunctionEmitter(self.out, self.globals, self.debug, instr.callback, parent=self)
        callback.foreach = instr
        self.callbacks.append(callback)
        context = self.b.bitcast(self._new_alloca(8 * (1 + len(instr.captured)), "each_ctx"), PTR.as_pointer())
        self.b.store(self.ctx, context, align=8)
        for i, slot in enumerate(instr.captured, start=1):
            self.b.store(self.slot(slot), self.b.gep(context, [ll.Constant(I64, i)]), align=8)
        self.call(h.FOR_EACH_MAP_ELEM, self.map_ptr(instr.map.symbol), self.b.bitcast(callback.func, PTR),
                  self.b.bitcast(context, PTR), ll.Constant(I64, 0))

    def _emit_CallbackArg(self, instr: ir.CallbackArg) -> ll.Value:
        ptr = self.func.args[instr.index]
        if instr.index == 2 and isinstance(instr.map.value_type, Agg):
            return self.read_aggregate(instr.map, self.func.args[1])
        if in_buffer(instr.type):
            return ptr
        return self.load64(ptr)


# The code of each builtin variable (ir.Builtin's names).
_BUILTINS = {
    "pid": lambda g: g._high32(g.call(h.GET_CURRENT_PID_TGID)),
    "tid": lambda g: g._low32(g.call(h.GET_CURRENT_PID_TGID)),
    "uid": lambda g: g._low32(g.call(h.GET_CURRENT_UID_GID)),
    "gid": lambda g: g._high32(g.call(h.GET_CURRENT_UID_GID)),
    "nsecs": lambda g: g.call(h.KTIME_GET_NS),
    "nsecs_boot": lambda g: g.call(h.KTIME_GET_BOOT_NS),
    "nsecs_tai": lambda g: g.call(h.KTIME_GET_TAI_NS),
    "elapsed": lambda g: g.b.sub(g.call(h.KTIME_GET_NS), g.const(prog.CONST_START_NS)),
    "cpu": lambda g: g._low32(g.call(h.GET_SMP_PROCESSOR_ID)),
    "rand": lambda g: g._low32(g.call(h.GET_PRANDOM_U32)),
    "cpid": lambda g: g.const(prog.CONST_CPID),
    "ncpus": lambda g: g.const(prog.CONST_NCPUS),
    "curtask": lambda g: g.call(h.GET_CURRENT_TASK),
    "numaid": lambda g: g._low32(g.call(h.GET_NUMA_NODE_ID)),
    "jiffies": lambda g: g.call(h.JIFFIES64),
    "cgroup": lambda g: g.call(h.GET_CURRENT_CGROUP_ID),
}
