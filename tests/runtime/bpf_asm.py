"""Hand-assembled BPF programs and CompiledPrograms for the runtime tests
(the compiler is not needed): a tiny assembler plus builders.

Also runnable, so signal tests can run a session in a child process:

    python tests/runtime/bpf_asm.py NAME [-c CMD ...]
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytrace.program import (  # noqa: E402
    CONST_CPID,
    CONST_START_NS,
    MAP_HASH,
    MAP_PERCPU_HASH,
    MAP_RINGBUF,
    PROG_PERF_EVENT,
    PROG_RAW_TRACEPOINT,
    PROG_TRACEPOINT,
    RECORD_EXIT,
    RECORD_OUTPUT_BASE,
    RINGBUF_NAME,
    RINGBUF_SIZE,
    CompiledProgram,
    Field,
    MapSpec,
    OutputSpec,
    ProbeSpec,
    Relocation,
    ValueSpec,
)
from pytrace.sema.printf import parse_format  # noqa: E402
from pytrace.source import Span  # noqa: E402


def printf_spec(fmt: str, args=()) -> OutputSpec:
    """The contract's printf record: the format's pieces and argument fields."""
    return OutputSpec("printf", list(args), pieces=parse_format(fmt))

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)
FP = R10

HELPER_MAP_LOOKUP = 1
HELPER_MAP_UPDATE = 2
HELPER_GET_PID_TGID = 14
HELPER_GET_COMM = 16
HELPER_RINGBUF_OUTPUT = 130


class Asm:
    """Emits struct bpf_insn {u8 code; u8 dst:4, src:4; s16 off; s32 imm}."""

    def __init__(self):
        self.insns: list[bytes] = []
        self.relocs: list[Relocation] = []
        self._labels: dict[str, int] = {}
        self._fixups: list[tuple[int, str]] = []

    def ins(self, code, dst=0, src=0, off=0, imm=0):
        self.insns.append(struct.pack("<BBhi", code, (src << 4) | dst, off, imm))

    def mov(self, dst, imm):
        self.ins(0xB7, dst, imm=imm)

    def mov_reg(self, dst, src):
        self.ins(0xBF, dst, src)

    def add(self, dst, imm):
        self.ins(0x07, dst, imm=imm)

    def rsh(self, dst, imm):
        self.ins(0x77, dst, imm=imm)

    def stx(self, dst, off, src):      # *(u64 *)(dst + off) = src
        self.ins(0x7B, dst, src, off)

    def st(self, dst, off, imm):       # *(u64 *)(dst + off) = imm
        self.ins(0x7A, dst, off=off, imm=imm)

    def ldx(self, dst, src, off):      # dst = *(u64 *)(src + off)
        self.ins(0x79, dst, src, off)

    def call(self, helper):
        self.ins(0x85, imm=helper)

    def exit(self):
        self.ins(0x95)

    def ld64(self, dst, value):        # a 64-bit constant, no relocation
        value &= (1 << 64) - 1
        self.ins(0x18, dst, imm=struct.unpack("<i", struct.pack("<I", value & 0xFFFFFFFF))[0])
        self.ins(0, imm=struct.unpack("<i", struct.pack("<I", value >> 32))[0])

    def ld_sym(self, dst, symbol):     # an ld_imm64 the loader fills in
        self.relocs.append(Relocation(len(self.insns), symbol))
        self.ins(0x18, dst)
        self.ins(0)

    def label(self, name):
        self._labels[name] = len(self.insns)

    def jump(self, code, dst, imm, label):
        self._fixups.append((len(self.insns), label))
        self.ins(code, dst, imm=imm)

    def jeq(self, dst, imm, label):
        self.jump(0x15, dst, imm, label)

    def jne(self, dst, imm, label):
        self.jump(0x55, dst, imm, label)

    def jne_reg(self, dst, src, label):
        self._fixups.append((len(self.insns), label))
        self.ins(0x5D, dst, src)

    def ja(self, label):
        self.jump(0x05, 0, 0, label)

    def assemble(self) -> bytes:
        insns = list(self.insns)
        for at, label in self._fixups:
            code, regs, _, imm = struct.unpack("<BBhi", insns[at])
            insns[at] = struct.pack("<BBhi", code, regs, self._labels[label] - at - 1, imm)
        return b"".join(insns)

    # --- bigger pieces

    def output(self, words):
        """bpf_ringbuf_output of a record of u64 words (ints or CONST_* symbols)."""
        size = 8 * len(words)
        base = -size
        for i, w in enumerate(words):
            if isinstance(w, str):
                self.ld_sym(R1, w)
            else:
                self.ld64(R1, w)
            self.stx(FP, base + 8 * i, R1)
        self.ld_sym(R1, RINGBUF_NAME)
        self.mov_reg(R2, FP)
        self.add(R2, base)
        self.mov(R3, size)
        self.mov(R4, 0)
        self.call(HELPER_RINGBUF_OUTPUT)

    def map_update(self, symbol, key: int, value: int):
        self.ld64(R1, key)
        self.stx(FP, -8, R1)
        self.ld64(R1, value)
        self.stx(FP, -16, R1)
        self.ld_sym(R1, symbol)
        self.mov_reg(R2, FP)
        self.add(R2, -8)
        self.mov_reg(R3, FP)
        self.add(R3, -16)
        self.mov(R4, 0)
        self.call(HELPER_MAP_UPDATE)

    def ret0(self):
        self.mov(R0, 0)
        self.exit()


def ringbuf_map() -> MapSpec:
    return MapSpec(RINGBUF_NAME, RINGBUF_NAME, MAP_RINGBUF, 0, 0, RINGBUF_SIZE)


def probe(kind, asm: Asm, *, name=None, target=(), line=1) -> ProbeSpec:
    prog_type = {"begin": PROG_RAW_TRACEPOINT, "end": PROG_RAW_TRACEPOINT,
                 "tracepoint": PROG_TRACEPOINT, "interval": PROG_PERF_EVENT}[kind]
    name = name or {"begin": "BEGIN", "end": "END"}.get(kind, kind)
    return ProbeSpec(kind, name, tuple(target), prog_type, name.replace(":", "_"),
                     asm.assemble(), list(asm.relocs), Span(line, 1, line, 6))


def p64(v: int) -> bytes:
    return (v & ((1 << 64) - 1)).to_bytes(8, "little")


def word(text: bytes) -> int:
    """Up to 8 bytes of a string as one little-endian u64 word."""
    return int.from_bytes(text.ljust(8, b"\0"), "little")


# ------------------------------------------------------------ programs

HELLO = printf_spec("hello %d\n", [Field("int", 8, 8, signed=True)])


def hello_program(*, exit_: bool = True) -> CompiledProgram:
    """BEGIN { printf("hello %d\\n", 42); exit(); }"""
    a = Asm()
    a.output([RECORD_OUTPUT_BASE, 42])
    if exit_:
        a.output([RECORD_EXIT])
    a.ret0()
    return CompiledProgram("stdin", [probe("begin", a)], [ringbuf_map()], [HELLO])


def begin_end_program() -> CompiledProgram:
    """BEGIN { printf("hello %d\\n", 42); exit(); printf(...dropped...) }
    END { printf("end %s\\n", "bye"); }"""
    begin = Asm()
    begin.output([RECORD_OUTPUT_BASE, 42])
    begin.output([RECORD_EXIT])
    begin.output([RECORD_OUTPUT_BASE, 7])       # after exit: dropped
    begin.ret0()
    end = Asm()
    end.output([RECORD_OUTPUT_BASE + 1, word(b"bye")])
    end.ret0()
    printfs = [HELLO, printf_spec("end %s\n", [Field("str", 8, 8)])]
    return CompiledProgram("stdin", [probe("begin", begin), probe("end", end, line=2)],
                           [ringbuf_map()], printfs)


def int_map_program() -> CompiledProgram:
    """BEGIN { @x[1]=1; @x[2]=1; @x[3]=0; @x[-1]=7; @y=3; exit(); }"""
    x = MapSpec("@x", "map_x", MAP_HASH, 8, 8, 128, [Field("int", 0, 8, signed=True)],
                ValueSpec("int", 8))
    y = MapSpec("@y", "map_y", MAP_HASH, 8, 8, 1, [], ValueSpec("int", 8))
    a = Asm()
    for k, v in ((1, 1), (2, 1), (3, 0), (-1, 7)):
        a.map_update("map_x", k, v)
    a.map_update("map_y", 0, 3)
    a.output([RECORD_EXIT])
    a.ret0()
    return CompiledProgram("stdin", [probe("begin", a)], [x, y, ringbuf_map()])


def getppid_program() -> CompiledProgram:
    """tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @calls = count(); @comm[comm] = count(); }"""
    calls = MapSpec("@calls", "map_calls", MAP_PERCPU_HASH, 8, 8, 1, [], ValueSpec("count", 8))
    comm = MapSpec("@comm", "map_comm", MAP_PERCPU_HASH, 16, 8, 64, [Field("str", 0, 16)],
                   ValueSpec("count", 8))
    a = Asm()
    a.call(HELPER_GET_PID_TGID)
    a.rsh(R0, 32)
    a.ld_sym(R1, CONST_CPID)
    a.jne_reg(R0, R1, "out")
    # @calls: key 0 at fp-8
    a.st(FP, -8, 0)
    _count(a, "map_calls", -8, "calls")
    # @comm: key = comm at fp-32..fp-16
    a.mov_reg(R1, FP)
    a.add(R1, -32)
    a.mov(R2, 16)
    a.call(HELPER_GET_COMM)
    _count(a, "map_comm", -32, "comm")
    a.label("out")
    a.ret0()
    return CompiledProgram(
        "stdin",
        [probe("tracepoint", a, name="tracepoint:syscalls:sys_enter_getppid",
               target=("syscalls", "sys_enter_getppid"))],
        [calls, comm],
    )


def _count(a: Asm, symbol: str, key_off: int, tag: str) -> None:
    """(*lookup(map, fp+key_off))++ or insert 1 (per-CPU: no atomics needed)."""
    a.ld_sym(R1, symbol)
    a.mov_reg(R2, FP)
    a.add(R2, key_off)
    a.call(HELPER_MAP_LOOKUP)
    a.jeq(R0, 0, f"new_{tag}")
    a.ldx(R1, R0, 0)
    a.add(R1, 1)
    a.stx(R0, 0, R1)
    a.ja(f"done_{tag}")
    a.label(f"new_{tag}")
    a.st(FP, -40, 1)
    a.ld_sym(R1, symbol)
    a.mov_reg(R2, FP)
    a.add(R2, key_off)
    a.mov_reg(R3, FP)
    a.add(R3, -40)
    a.mov(R4, 0)
    a.call(HELPER_MAP_UPDATE)
    a.label(f"done_{tag}")


def tick_program(period_ns: int = 10_000_000, *, exit_: bool = True) -> CompiledProgram:
    """interval:ms:10 { printf("tick\\n"); exit(); }"""
    a = Asm()
    a.output([RECORD_OUTPUT_BASE])
    if exit_:
        a.output([RECORD_EXIT])
    a.ret0()
    return CompiledProgram(
        "stdin", [probe("interval", a, name="interval:ms:10", target=(period_ns,))],
        [ringbuf_map()], [printf_spec("tick\n")],
    )


def consts_program() -> CompiledProgram:
    """BEGIN { printf("%d %lu\\n", cpid, start_ns); }"""
    a = Asm()
    a.output([RECORD_OUTPUT_BASE, CONST_CPID, CONST_START_NS])
    a.ret0()
    spec = printf_spec("%d %lu\n", [Field("int", 8, 8, signed=True), Field("int", 16, 8)])
    return CompiledProgram("stdin", [probe("begin", a)], [ringbuf_map()], [spec])


def bad_program() -> CompiledProgram:
    """A BEGIN whose r0 is never set: the verifier says `R0 !read_ok`."""
    a = Asm()
    a.exit()
    return CompiledProgram("stdin", [probe("begin", a, line=3)], [ringbuf_map()])


def missing_tracepoint_program() -> CompiledProgram:
    a = Asm()
    a.ret0()
    return CompiledProgram(
        "stdin",
        [probe("tracepoint", a, name="tracepoint:nosuch:event", target=("nosuch", "event"))],
        [ringbuf_map()],
    )


def idle_program() -> CompiledProgram:
    """BEGIN { printf("hello %d\\n", 42); } tracepoint:syscalls:sys_enter_getppid { @calls = count() }
    (runs until a signal or the -c command ends)."""
    prog = getppid_program()
    begin = hello_program(exit_=False)
    return CompiledProgram("stdin", begin.probes + prog.probes, prog.maps + begin.maps,
                           begin.outputs)


PROGRAMS = {
    "hello": hello_program,
    "begin_end": begin_end_program,
    "idle": idle_program,
    "ticks": lambda: tick_program(exit_=False),
}


def main(argv: list[str]) -> int:
    from pytrace.runtime.errors import RuntimeFailure
    from pytrace.runtime.session import RunOptions, run

    name, *rest = argv
    command = rest[1:] if rest[:1] == ["-c"] else None
    try:
        return run(PROGRAMS[name](), RunOptions(command=command))
    except RuntimeFailure as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
