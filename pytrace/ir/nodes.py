"""pytrace's own typed IR: one function per probe target, explicit map and
helper operations, no AST left.

    tracepoint:sched:sched_switch { @[comm] = count(); }
lowers to
    function probe_0 tracepoint:sched:sched_switch
    entry:
      %0 = comm                       :: string[16]
      map_aggregate @ count [%0]
      return

Values are instructions; an instruction's operands are earlier values.
Variables and temporaries that cross blocks live in `Slot`s (LLVM promotes
them to registers), so the IR needs no phi nodes.
"""

from __future__ import annotations

from pytrace.plain import dataclass, field

from pytrace.aggregations import Aggregation
from pytrace.program import Field, ValueSpec
from pytrace.sema.types import Agg, Int, Resolved, Str
from pytrace.source import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


# ------------------------------------------------------------------ storage


@dataclass(eq=False)
class Slot:
    """A stack variable ($name, or a temporary) of one type."""

    name: str
    type: object  # Int | Str


@dataclass(eq=False)
class MapDecl:
    """A map and the byte layout of its keys and values."""

    name: str            # "@calls"
    symbol: str          # the object's symbol for it
    map_type: int
    key_types: list      # pytrace types of the key parts ([] for scalar)
    key_fields: list[Field]
    key_size: int
    value: ValueSpec
    value_type: object   # Int | Str | Agg
    index: int = 0       # its place among the user's maps (its dropped-update counter)
    max_entries: int = 0  # 0: the runtime's limit (max_map_keys); else as declared


@dataclass(eq=False)
class OutputDecl:
    """A kind of record the code sends (see program.OutputSpec): printf with
    its format pieces, print of a map or a value, clear, zero, time."""

    kind: str
    arg_types: list
    fields: list[Field]  # offsets from the start of the record
    size: int            # the whole record, id included
    pieces: list = field(default_factory=list)
    fmt: str = ""
    map: MapDecl | None = None
    top: int = 0
    div: int = 0

    def key(self) -> tuple:
        """What makes two declarations the same record kind."""
        return (self.kind, repr(self.pieces), self.fmt, self.map.name if self.map else "",
                self.top, self.div, repr(self.arg_types))


# ------------------------------------------------------------- instructions


@dataclass(eq=False)
class Instr:
    span: Span = _span()
    type = None  # the value's type; None for instructions that make no value

    @property
    def operands(self) -> list["Instr"]:
        return []


@dataclass(eq=False)
class Const(Instr):
    value: int = 0
    type: Int = Int()


@dataclass(eq=False)
class StrConst(Instr):
    value: bytes = b""
    type: Str = Str(1)


@dataclass(eq=False)
class Builtin(Instr):
    """pid, tid, uid, gid, nsecs, elapsed, cpu, rand, cpid."""

    name: str = ""
    type: Int = Int(64, False)


@dataclass(eq=False)
class Comm(Instr):
    type: Str = Str(16)


@dataclass(eq=False)
class CtxLoad(Instr):
    """An integer field of the probe's context record (tracepoint args)."""

    offset: int = 0
    size: int = 8
    type: Int = Int()


@dataclass(eq=False)
class CtxAddr(Instr):
    """The address of a field of the context record (an array in a
    tracepoint's args), as an integer."""

    offset: int = 0
    type: Int = Int(64, False)


@dataclass(eq=False)
class UsdtArg(Instr):
    """A USDT argument, read where its note says it is at this location
    (pytrace.symbols.UsdtArgument: a constant, a register, or memory at
    register + offset), extended from its size to 64 bits."""

    arg: object = None
    type: Int = Int()


@dataclass(eq=False)
class StackArg(Instr):
    """The `index`th argument passed on the stack (sargN): the u64 above the
    return address, in user (`user`) or kernel memory."""

    index: int = 0
    user: bool = True
    type: Int = Int(64, False)


@dataclass(eq=False)
class LoadConst(Instr):
    """A value the loader fills in (a program.CONST_* or KADDR_PREFIX
    symbol), as an ld_imm64: costs nothing per event."""

    symbol: str = ""
    type: Int = Int(64, False)


@dataclass(eq=False)
class AttachCookie(Instr):
    """The BPF cookie the probe was attached with (bpf_get_attach_cookie)."""

    type: Int = Int(64, False)


@dataclass(eq=False)
class CtxStr(Instr):
    """A char array field of the context record, copied to a string."""

    offset: int = 0
    type: Str = Str(16)


@dataclass(eq=False)
class CtxDataLocStr(Instr):
    """A `__data_loc char[]` field: a u32 at `offset` whose low 16 bits
    give where in the record the string is."""

    offset: int = 0
    type: Str = Str(64)


@dataclass(eq=False)
class ReadStr(Instr):
    """A NUL-terminated string read from an address (str()). `space` is
    "user" or "kernel" when the address's type says which, else "any"."""

    addr: Instr = None
    space: str = "any"
    type: Str = Str(64)

    check: int = -1  # -k: the helper_error output sent when the helper fails (-1: none)

    @property
    def operands(self):
        return [self.addr]


@dataclass(eq=False)
class ReadBuf(Instr):
    """buf(): `length` bytes (at most type.size) from an address, or from a
    string buffer when `source` is one, after their count."""

    source: Instr = None
    length: Instr = None
    space: str = "any"
    type: object = None

    @property
    def operands(self):
        return [self.source, self.length]


@dataclass(eq=False)
class ReadMem(Instr):
    """`size` bytes at an address in user or kernel memory (a struct's
    member): an integer, extended from `size` to 64 bits by `type`'s sign,
    or a string buffer (zeros when the read fails)."""

    addr: Instr = None
    size: int = 8
    space: str = "kernel"
    type: object = None

    check: int = -1  # -k: the helper_error output sent when the helper fails (-1: none)

    @property
    def operands(self):
        return [self.addr]


@dataclass(eq=False)
class MakeTuple(Instr):
    """A tuple's buffer, its parts stored at their offsets."""

    parts: list = field(default_factory=list)
    type: object = None

    @property
    def operands(self):
        return list(self.parts)


@dataclass(eq=False)
class BytesEq(Instr):
    """1 when two buffers of `size` bytes (copied arrays or structs) hold
    the same bytes, else 0."""

    left: Instr = None
    right: Instr = None
    size: int = 8
    type: Int = Int(64, False)

    @property
    def operands(self):
        return [self.left, self.right]


@dataclass(eq=False)
class BufferGet(Instr):
    """A member or element of a struct or array copied into a buffer
    (sema.types.CValue), `offset` bytes in: an integer of `size` bytes
    extended by `type`'s sign, or (a string, a struct, an array) its
    address inside the buffer."""

    value: Instr = None
    offset: int = 0
    size: int = 8
    type: object = None

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class TupleGet(Instr):
    """Part `index` of a tuple: an integer loaded from it, or (a string,
    a tuple) the address of the part inside the tuple's buffer."""

    value: Instr = None
    index: int = 0
    type: object = None

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class BinOp(Instr):
    """Integer arithmetic: + - * / % & | ^ << >> (signedness from `type`)."""

    op: str = "+"
    left: Instr = None
    right: Instr = None
    type: Int = Int()

    @property
    def operands(self):
        return [self.left, self.right]


@dataclass(eq=False)
class Cmp(Instr):
    """Integer comparison giving 0 or 1; `signed` picks the comparison."""

    op: str = "=="
    left: Instr = None
    right: Instr = None
    signed: bool = True
    type: Int = Int(64, False)

    @property
    def operands(self):
        return [self.left, self.right]


@dataclass(eq=False)
class StrEq(Instr):
    """1 when two strings are equal (up to their first NUL, or their first
    `limit` bytes when it is not 0: strncmp), else 0."""

    left: Instr = None
    right: Instr = None
    limit: int = 0
    type: Int = Int(64, False)

    @property
    def operands(self):
        return [self.left, self.right]


@dataclass(eq=False)
class StrContains(Instr):
    """1 when `needle` occurs in `haystack` (both up to their first NUL)."""

    haystack: Instr = None
    needle: Instr = None
    type: Int = Int(64, False)

    @property
    def operands(self):
        return [self.haystack, self.needle]


@dataclass(eq=False)
class StrLen(Instr):
    """The bytes of a string before its first NUL (its size if none)."""

    value: Instr = None
    type: Int = Int(64, False)

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class CallHelper(Instr):
    """A BPF helper called with integer arguments, by its name in
    codegen.helpers (lowercase: "send_signal"); its result is the value."""

    helper: str = ""
    args: list = field(default_factory=list)
    type: Int = Int()

    @property
    def operands(self):
        return list(self.args)


@dataclass(eq=False)
class ByteAt(Instr):
    """Byte `index` of a string buffer, sign-extended (0 past its end)."""

    value: Instr = None
    index: Instr = None
    type: Int = Int()

    @property
    def operands(self):
        return [self.value, self.index]


@dataclass(eq=False)
class ByteSwap(Instr):
    """The integer's low `type.bits` bits in the other byte order."""

    value: Instr = None
    type: Int = Int()

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class Cast(Instr):
    """Truncate an integer to `type`, then extend it back to 64 bits."""

    value: Instr = None
    type: Int = Int()

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class LoadSlot(Instr):
    slot: Slot = None

    def __post_init__(self):
        self.type = self.slot.type


@dataclass(eq=False)
class SlotAddr(Instr):
    """The address of a slot's storage, as an integer (`&$x`)."""

    slot: Slot = None
    type: object = Int(64, False)


@dataclass(eq=False)
class StoreSlot(Instr):
    slot: Slot = None
    value: Instr = None

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class MapLookup(Instr):
    """The value at a key, or zero (an empty string) when it is absent.
    An aggregation reads as the integer its row's `read` says, over every
    CPU's slot (a count's total, avg's average)."""

    map: MapDecl = None
    keys: list = field(default_factory=list)

    def __post_init__(self):
        vt = self.map.value_type
        self.type = Int(64, self.map.value.signed) if isinstance(vt, Agg) else vt

    check: int = -1  # -k: the helper_error output sent when the helper fails (-1: none)

    @property
    def operands(self):
        return list(self.keys)


@dataclass(eq=False)
class MapUpdate(Instr):
    map: MapDecl = None
    keys: list = field(default_factory=list)
    value: Instr = None

    @property
    def operands(self):
        return list(self.keys) + [self.value]


@dataclass(eq=False)
class MapAggregate(Instr):
    """An aggregation (a row of pytrace.aggregations): update this CPU's
    value in place, creating the element only when the key is new. `value`
    is what is aggregated (the constant 1 for count())."""

    map: MapDecl = None
    keys: list = field(default_factory=list)
    agg: Aggregation = None
    value: Instr = None

    @property
    def operands(self):
        return list(self.keys) + [self.value]


@dataclass(eq=False)
class MapHasKey(Instr):
    """1 when the map has the key, else 0."""

    map: MapDecl = None
    keys: list = field(default_factory=list)
    type: Int = Int(64, False)

    @property
    def operands(self):
        return list(self.keys)


@dataclass(eq=False)
class MapLen(Instr):
    """How many keys the map holds now."""

    map: MapDecl = None
    type: Int = Int(64, True)


@dataclass(eq=False)
class Retype(Instr):
    """The same 64 bits as another type: strftime()'s nanoseconds that print
    as a time, `probe`'s id that prints as the probe's name."""

    value: Instr = None
    type: object = None

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class GetStack(Instr):
    """The current kernel (or, `user`, user-space) stack, at most `limit`
    frames, stored in the stack map: its 64-bit hash there."""

    user: bool = False
    limit: int = 127
    type: Int = Int(64, False)


@dataclass(eq=False)
class WithPid(Instr):
    """A user-space value (a ustack's hash, an address) and the current
    pid, as a two-word buffer of `type`; the first time a pid is seen the
    runtime is told (RECORD_PID), so it can read that process's symbols."""

    value: Instr = None
    type: object = None

    @property
    def operands(self):
        return [self.value]


@dataclass(eq=False)
class MapDelete(Instr):
    """Delete a key; the value is 1 when there was one to delete, else 0."""

    map: MapDecl = None
    keys: list = field(default_factory=list)
    type: Int = Int(64, False)

    check: int = -1  # -k: the helper_error output sent when the helper fails (-1: none)

    @property
    def operands(self):
        return list(self.keys)


@dataclass(eq=False)
class Output(Instr):
    """Send a record: its id (RECORD_OUTPUT_BASE + index), then the
    arguments laid out by `decl`."""

    index: int = 0
    decl: OutputDecl = None
    args: list = field(default_factory=list)

    @property
    def operands(self):
        return list(self.args)


@dataclass(eq=False)
class TailCall(Instr):
    """Run the program at `index` of the program table `table` (a symbol)
    in place of this one; go on when the slot is empty."""

    table: str = ""
    index: Instr = None

    @property
    def operands(self):
        return [self.index]


@dataclass(eq=False)
class JoinOutput(Instr):
    """join(): a record reserved in the ring buffer, filled with the count
    and the strings of the NULL-ended pointer array at `argv` (in `space`
    memory), then sent."""

    index: int = 0
    decl: OutputDecl = None
    argv: Instr = None
    space: str = "user"

    @property
    def operands(self):
        return [self.argv]


@dataclass(eq=False)
class Release(Instr):
    """A statement ended: the buffers its expressions made (strings, keys,
    records) are dead, so codegen may give their stack to later ones. BPF
    has 512 bytes of stack; without this, a long probe body runs out."""


@dataclass(eq=False)
class Exit(Instr):
    """Send the exit record; the runtime stops tracing when it reads it,
    and exits with `code` (exit(code)) when there is one."""

    code: Instr = None

    @property
    def operands(self):
        return [self.code] if self.code is not None else []


# -------------------------------------------------------------- terminators


@dataclass(eq=False)
class Jump(Instr):
    target: "Block" = None


@dataclass(eq=False)
class Branch(Instr):
    cond: Instr = None
    then: "Block" = None
    otherwise: "Block" = None

    @property
    def operands(self):
        return [self.cond]


@dataclass(eq=False)
class Return(Instr):
    """Leave the function with `value` (a probe returns 0; a for-map
    callback 0 for the next element, 1 to stop)."""

    value: int = 0


TERMINATORS = (Jump, Branch, Return)


# ------------------------------------------------------------------ structure


@dataclass(eq=False)
class CallbackArg(Instr):
    """In a for-map callback, the element's key (`index` 1) or value (2):
    an integer loaded from the map's memory, or (a string, a tuple) its
    address there; an aggregation's value is its total over the CPUs."""

    index: int = 1
    map: "MapDecl" = None
    type: object = None


@dataclass(eq=False)
class ForEach(Instr):
    """`for ($kv : @map)`: bpf_for_each_map_elem runs `callback` (a
    function of its own, in the probe's section) on each element. The
    callback reaches the probe's variables it uses, `captured`, through
    pointers the probe passes it; `stop` is one of them: set when the body
    left the whole probe (`return`)."""

    map: "MapDecl" = None
    callback: "Function" = None
    captured: list = field(default_factory=list)
    stop: Slot = None


@dataclass(eq=False)
class Block:
    label: str
    instrs: list[Instr] = field(default_factory=list)

    @property
    def terminator(self) -> Instr | None:
        if self.instrs and isinstance(self.instrs[-1], TERMINATORS):
            return self.instrs[-1]
        return None


@dataclass(eq=False)
class Function:
    """The code of one probe body at one attach target."""

    name: str            # also its section in the object
    kind: str            # its row in pytrace.probe_kinds
    probe_name: str
    target: tuple
    span: Span
    probe_id: int = 0    # what `probe` reads here (a tracepoint's id, else PROBE_ID_BASE + n)
    blocks: list[Block] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    # Run from a dispatcher instead of attached: (its table's symbol, the
    # index: the system call number); `internal` marks the dispatcher itself.
    dispatch: tuple | None = None
    internal: bool = False


@dataclass(eq=False)
class Module:
    functions: list[Function] = field(default_factory=list)
    maps: list[MapDecl] = field(default_factory=list)
    outputs: list[OutputDecl] = field(default_factory=list)
    probe_names: dict[int, str] = field(default_factory=dict)  # `probe` id -> name
    probe_funcs: dict[int, str] = field(default_factory=dict)  # `probe` id -> its function (`func`)
    output_index: dict[tuple, int] = field(default_factory=dict)  # OutputDecl.key() -> its place in outputs
    by_zero: int = 0  # what x / 0 and x % 0 give: 0 (bpftrace 0.17), 1 (upstream)
    # set by codegen: the bytes of the per-CPU scratch value each function uses
    scratch_use: dict[str, int] = field(default_factory=dict)

    @property
    def scratch_bytes(self) -> int:
        """The scratch value's size (0: no function uses it)."""
        return max(self.scratch_use.values(), default=0)
