"""printf records -> text, with C's semantics, from the format pieces sema
parsed (the format is never parsed again here).

A format is compiled once (`compile_printf`) into a Python %-format string,
one `struct` unpacker for the record and a C conversion expression per
argument, generated as one small function (see `Printf`), so printing a
record is one unpack and one `%`:

    "hello %d\\n", args [int at 8, 8 bytes]  ->  "hello %d\\n" % (low32(v0),)

C semantics kept: integer arguments are 64-bit values, and a conversion
without `l`/`ll` (or `j`, `z`, `t`) uses their low 32 bits (`h` 16, `hh` 8),
so `printf("%u", -1)` prints 4294967295; `%p` prints `0x1000` or `(nil)`.
A strftime() argument (%s) prints as wall-clock time (see `Clock`).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from pytrace.aggregations import c_string
from pytrace.values import enum_decoder, escape_bytes
from pytrace.program import RESOLVED_FIELDS, Conversion, Field, OutputSpec
from pytrace.runtime.names import NO_NAMES


class FormatError(ValueError):
    """A format that cannot be printed (the compiler should have refused
    it; seeing this is a pytrace bug)."""


class Clock:
    """Turns CLOCK_MONOTONIC nanoseconds (what the BPF code's nsecs reads)
    into wall-clock text, with the offset between the two clocks taken once
    per run. strftime formats may use %f (microseconds), as upstream's do."""

    def __init__(self):
        self.offset = time.time_ns() - time.clock_gettime_ns(time.CLOCK_MONOTONIC)

    def format(self, fmt: str, ns: int | None = None) -> str:
        wall = time.time_ns() if ns is None else ns + self.offset
        secs, rest = divmod(wall, 1_000_000_000)
        if "%f" in fmt:
            fmt = fmt.replace("%f", f"{rest // 1000:06d}")
        return time.strftime(fmt, time.localtime(secs))


_LENGTH_BITS = {None: 32, "hh": 8, "h": 16, "l": 64, "ll": 64, "j": 64, "z": 64, "t": 64}
_INT_CODES = {(1, True): "b", (1, False): "B", (2, True): "h", (2, False): "H",
              (4, True): "i", (4, False): "I", (8, True): "q", (8, False): "Q"}


class Printf:
    """A compiled printf: `render(record)` -> text. `record` is the whole
    ring-buffer record, record id included (argument offsets count from it).

    `render` is generated once per format as a small function with the
    conversions inlined, e.g. for `"hello %d\\n"` of an i64 argument:

        def render(rec):
            v0, = _unpack(rec)
            return _fmt % ((((v0 & 4294967295) ^ 2147483648) - 2147483648),)

    (a call per argument would cost more than the formatting itself).
    """

    def __init__(self, spec: OutputSpec, clock: Clock | None = None, names=None):
        pieces = spec.pieces
        self.fmt = fmt = "".join(p if isinstance(p, str) else "%" + p.conv for p in pieces)
        convs = [p for p in pieces if isinstance(p, Conversion)]
        if len(convs) != len(spec.args):
            raise FormatError(
                f"printf format {fmt!r} has {len(convs)} conversions"
                f" but {len(spec.args)} arguments"
            )
        # One unpack of the distinct fields in record order (two arguments
        # may share a field); argument i is the unpacked value v<position[i]>.
        fields = sorted(set(spec.args), key=lambda f: (f.offset, f.size))
        unpack = _record_struct(fields).unpack_from
        position = [fields.index(arg) for arg in spec.args]

        namespace: dict = {"_unpack": unpack, "_cstr": c_string, "_ptr": _pointer,
                           "_cint": _c_integer, "_buf": _buffer_text}
        if any(arg.kind == "timestamp" for arg in spec.args):
            namespace["_time"] = (clock or Clock()).format
        for i, arg in enumerate(spec.args):
            if arg.kind in RESOLVED_FIELDS:
                namespace[f"_r{i}"] = _as_text((names or NO_NAMES).resolver(arg.kind, arg.fmt), arg.kind)
        parts: list[str] = []
        exprs: list[str] = []
        convs_iter = iter(range(len(convs)))
        for piece in pieces:
            if isinstance(piece, str):
                parts.append(piece.replace("%", "%%"))
                continue
            i = next(convs_iter)
            pyspec, expr = _conversion(piece, spec.args[i], fmt)
            if "_c{i}" in expr:
                namespace[f"_c{i}"] = piece
            if spec.args[i].kind == "timestamp":
                namespace[f"_f{i}"] = spec.args[i].fmt
            if spec.args[i].kind == "enum":
                namespace[f"_e{i}"] = enum_decoder(spec.args[i].fmt)
            parts.append(pyspec)
            exprs.append(expr.format(v=f"v{position[i]}", i=i))
        namespace["_fmt"] = "".join(parts)
        if fields:
            names = ", ".join(f"v{n}" for n in range(len(fields)))
            source = (f"def render(rec):\n    {names}, = _unpack(rec)\n"
                      f"    return _fmt % ({', '.join(exprs)},)\n")
        else:
            source = "def render(rec):\n    return _text\n"
            namespace["_text"] = namespace["_fmt"] % ()
        exec(source, namespace)  # noqa: S102 - built from the fixed templates above
        self.source = source
        self.render: Callable[[bytes], str] = namespace["render"]


def compile_printf(spec: OutputSpec, clock: Clock | None = None, names=None) -> Printf:
    return Printf(spec, clock, names)


def _as_text(resolve, kind: str):
    """A resolver whose value printf's %s shows: names as they are, a stack
    as print() lays it out."""
    if kind not in ("kstack", "ustack"):
        return resolve
    from pytrace.output.text import format_stack

    return lambda raw: format_stack(resolve(raw))


def _record_struct(fields: list[Field]) -> struct.Struct:
    """One little-endian struct for the fields (sorted by offset), with pad
    bytes for the gaps, starting at the record's first byte."""
    code = ["<"]
    pos = 0
    for f in fields:
        if f.offset < pos:
            raise FormatError(f"overlapping printf arguments at offset {f.offset}")
        if f.offset > pos:
            code.append(f"{f.offset - pos}x")
        if f.kind in ("str", "buf"):
            code.append(f"{f.size}s")
        elif f.kind == "timestamp":
            code.append("Q")
        elif f.kind in RESOLVED_FIELDS:
            code.append(f"{f.size}s")
        elif f.kind in ("int", "bool", "ptr", "enum") and (f.size, f.signed) in _INT_CODES:
            code.append(_INT_CODES[f.size, f.signed])
        else:
            raise FormatError(f"unsupported printf argument {f}")
        pos = f.offset + f.size
    return struct.Struct("".join(code))


def _conversion(c: Conversion, arg: Field, fmt: str) -> tuple[str, str]:
    """(Python %-spec, expression of the unpacked value `{v}`). `_c{i}` in
    the expression names this Conversion object."""
    if c.conv[0] == "r" or (c.conv == "s" and arg.kind == "buf"):  # %r %rx %rh: a buffer's bytes
        flags = "-" if "-" in c.flags else ""
        source = "{v}" if arg.kind == "buf" else "_cstr({v}).encode()"
        return f"%{flags}{c.width}s", f"_buf({source}, {c.conv[1:]!r}, {arg.kind == 'buf'})"
    if c.conv == "s":
        flags = "-" if "-" in c.flags else ""
        spec = f"%{flags}{c.width}{'' if c.precision is None else '.' + c.precision}s"
        if arg.kind == "timestamp":
            return spec, "_time(_f{i}, {v})"
        if arg.kind in RESOLVED_FIELDS:
            return spec, "_r{i}({v})"
        if arg.kind == "bool":
            return spec, "('true' if {v} else 'false')"
        if arg.kind == "enum":
            return spec, "_e{i}({v})"
        return spec, "_cstr({v})" if arg.kind == "str" else "{v}"
    if arg.kind not in ("int", "bool", "ptr", "enum"):
        raise FormatError(f"printf conversion %{c.conv} in {fmt!r} needs an integer argument")
    bits = 64 if c.conv == "p" else _LENGTH_BITS[c.length]
    signed = c.conv in "di"
    value = _int_expr(arg, bits, signed)
    if c.conv == "p":
        flags = "-" if "-" in c.flags else ""
        return f"%{flags}{c.width}s", f"_ptr({value})"
    if c.conv == "c":
        flags = "-" if "-" in c.flags else ""
        return f"%{flags}{c.width}c", f"(({value}) & 255)"
    if "#" in c.flags or c.precision == "0" or c.precision == "":
        # Corners where Python's % differs from C (`%#o`, `%#x` of 0, `%.0d`
        # of 0): format the C way, then pad as a string.
        flags = "-" if "-" in c.flags else ""
        return f"%{flags}{c.width}s", f"_cint({value}, _c{{i}})"
    flags = c.flags
    if not signed:
        flags = flags.replace("+", "").replace(" ", "")
    if c.precision is not None:
        flags = flags.replace("0", "")   # C ignores 0 when a precision is given
    conv = "d" if c.conv in "diu" else c.conv
    prec = "" if c.precision is None else "." + c.precision
    return f"%{flags}{c.width}{prec}{conv}", value


def _int_expr(arg: Field, bits: int, signed: bool) -> str:
    """An expression of `{v}` (the field's value) giving the C value of the
    64-bit argument read with `bits` bits and `signed`."""
    fits = arg.size * 8 < bits or (arg.size * 8 == bits and arg.signed == signed)
    if fits and (arg.signed == signed or not arg.signed):
        return "{v}"
    mask = (1 << bits) - 1
    if not signed:
        return f"({{v}} & {mask})"
    sign = 1 << (bits - 1)
    return f"((({{v}} & {mask}) ^ {sign}) - {sign})"


def _pointer(v: int) -> str:
    v &= (1 << 64) - 1
    return f"0x{v:x}" if v else "(nil)"


def _c_integer(v: int, c: Conversion) -> str:
    """An integer conversion with C's rules for `#` and precision (no width)."""
    negative = v < 0
    digits = {"o": "%o", "x": "%x", "X": "%X"}.get(c.conv, "%d") % abs(v)
    if c.precision is not None:
        prec = int(c.precision or 0)
        if prec == 0 and v == 0:
            digits = ""
        digits = digits.rjust(prec, "0")
    prefix = ""
    if "#" in c.flags:
        if c.conv == "o" and not digits.startswith("0"):
            digits = "0" + digits
        elif c.conv in "xX" and v != 0:
            prefix = "0x" if c.conv == "x" else "0X"
    sign = "-" if negative else ("+" if "+" in c.flags and c.conv in "di" else
                                 (" " if " " in c.flags and c.conv in "di" else ""))
    body = sign + prefix + digits
    if "0" in c.flags and "-" not in c.flags and c.precision is None and c.width:
        body = sign + prefix + digits.rjust(int(c.width) - len(sign) - len(prefix), "0")
    return body




def _buffer_text(raw: bytes, how: str, counted: bool) -> str:
    """A buf() field (its count, then the bytes) or a string's bytes, as
    %r, %rx or %rh print them."""
    if counted:
        raw = raw[8:8 + int.from_bytes(raw[:8], "little")]
    return escape_bytes(raw, how)
