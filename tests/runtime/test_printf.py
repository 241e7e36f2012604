"""runtime/printf.py: printf records to text, without a kernel.

printf is checked against glibc's own snprintf (through ctypes), passing each
integer as a 64-bit value the way bpftrace 0.17 does, so `%d` sees the low
32 bits exactly as bpftrace's output does on x86-64.
"""

from __future__ import annotations

import ctypes
import platform
import struct

import pytest

from pytrace.program import Conversion, Field, OutputSpec
from pytrace.runtime.printf import FormatError, compile_printf
from pytrace.sema.printf import FormatProblem, parse_format


def PrintfSpec(fmt, args=()):  # noqa: N802 - reads like the record it builds
    return OutputSpec("printf", list(args), pieces=parse_format(fmt))

I64 = Field("int", 8, 8, signed=True)


def record(*values, rid: int = 1) -> tuple[bytes, list[Field]]:
    """A record of (int | bytes-string) values, each in an 8-byte or 16-byte slot."""
    data = bytearray(struct.pack("<Q", rid))
    fields = []
    for v in values:
        if isinstance(v, bytes):
            fields.append(Field("str", len(data), 16))
            data += v.ljust(16, b"\0")[:16]
        else:
            fields.append(Field("int", len(data), 8, signed=True))
            data += struct.pack("<q", v)
    return bytes(data), fields


def render(fmt: str, *values) -> str:
    data, fields = record(*values)
    return compile_printf(PrintfSpec(fmt, fields)).render(data)


def c_printf(fmt: str, *values) -> str:
    libc = ctypes.CDLL(None)
    buf = ctypes.create_string_buffer(512)
    args = [ctypes.c_char_p(v) if isinstance(v, bytes) else ctypes.c_longlong(v) for v in values]
    libc.snprintf(buf, 512, fmt.encode(), *args)
    return buf.value.decode()


# bpftrace 0.17, verified on this machine
@pytest.mark.parametrize(
    "fmt, values, expected",
    [
        ("%u\n", (-1,), "4294967295\n"),
        ("%d\n", (-3,), "-3\n"),
        ("%lld\n", (-2,), "-2\n"),
        ("%x", (255,), "ff"),
        ("%p", (4096,), "0x1000"),
        ("%c", (65,), "A"),
        ("hello %d\n", (42,), "hello 42\n"),
        ("[%5d|%-5d|%05d|%x|%X|%p|%c|%s|%10s|%-4s|%u|%lu|%ld|%%|%.3s|%5.3d|%lx|%d|%p]",
         (-3, 42, 42, 255, 255, 4096, 65, b"str", b"right", b"l", -1, -1, -2, b"abcdef", 5, -1,
          4294967297, 0),
         "[   -3|42   |00042|ff|FF|0x1000|A|str|     right|l   |4294967295|18446744073709551615"
         "|-2|%|abc|  005|ffffffffffffffff|1|(nil)]"),
    ],
)
def test_printf_matches_bpftrace(fmt, values, expected):
    assert render(fmt, *values) == expected


INT_VALUES = [0, 1, -1, 42, -42, 255, 65, 2**31 - 1, 2**31, -(2**31), 2**32 + 5, 2**63 - 1, -(2**63)]
INT_FORMATS = [
    "%d", "%i", "%u", "%x", "%X", "%o", "%ld", "%lu", "%lx", "%lld", "%llu", "%llX", "%hd",
    "%hu", "%hhd", "%hhu", "%5d", "%-5d|", "%05d", "%+d", "% d", "%.3d", "%8.3d", "%-8.3d|",
    "%08.3d", "%#x", "%#X", "%#o", "%#08x", "%#-8x|", "%.0d", "%.d", "%5.0d", "%+.0d", "%+5ld",
    "%-+5d|", "%20lu", "%020ld", "%zu", "%jd", "%c", "%3c", "%-3c|", "%p", "%20p", "%-20p|",
    "%lo", "%#lo", "%.5x", "%#.5x", "%+u", "% x",
]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="varargs register layout of x86-64")
@pytest.mark.parametrize("fmt", INT_FORMATS)
def test_printf_integers_match_glibc(fmt):
    for v in INT_VALUES:
        if "c" in fmt and not 0 < (v & 0xFF) < 128:
            continue  # a raw non-ASCII byte: C writes the byte, we write text
        assert render(f"<{fmt}>", v) == c_printf(f"<{fmt}>", v), (fmt, v)


@pytest.mark.parametrize("fmt", ["%s", "%10s", "%-10s|", "%.2s", "%8.3s", "%-8.3s|", "%.0s"])
def test_printf_strings_match_glibc(fmt):
    for s in (b"", b"a", b"hello", b"sixteen-bytes-xx"):
        assert render(fmt, s) == c_printf(fmt, s), (fmt, s)


def test_printf_literal_percent_and_python_specials():
    assert render("100%% of %s {x} %%d\n", b"it") == "100% of it {x} %d\n"
    assert render("no args\n") == "no args\n"


def test_printf_string_stops_at_nul_and_keeps_utf8():
    data = struct.pack("<Q", 1) + b"ab\0cd" + b"\0" * 11 + "é".encode().ljust(16, b"\0")
    spec = PrintfSpec("%s|%s", [Field("str", 8, 16), Field("str", 24, 16)])
    assert compile_printf(spec).render(data) == "ab|é"


def test_printf_field_sizes_signedness_and_order():
    # u32 0xffffffff at 8, i8 -1 at 12, u16 at 14, then arguments out of record order
    data = struct.pack("<QIbxH", 1, 0xFFFFFFFF, -1, 65535)
    u32 = Field("int", 8, 4, signed=False)
    i8 = Field("int", 12, 1, signed=True)
    u16 = Field("int", 14, 2, signed=False)
    spec = PrintfSpec("%d %u %ld %lu %d %u %d", [u32, u32, u32, i8, i8, i8, u16])
    assert compile_printf(spec).render(data) == (
        "-1 4294967295 4294967295 18446744073709551615 -1 4294967295 65535"
    )
    reordered = PrintfSpec("%d %d", [u16, i8])
    assert compile_printf(reordered).render(data) == "65535 -1"


def test_printf_padding_and_trailing_bytes_in_record():
    data = struct.pack("<Q4xiQ", 1, 7, 99)
    spec = PrintfSpec("%d", [Field("int", 12, 4, signed=True)])
    assert compile_printf(spec).render(data) == "7"


def test_parse_format_pieces():
    assert parse_format("a%-08.3lldb%%c") == ["a", Conversion("-0", "8", "3", "ll", "d"), "b%c"]
    assert parse_format("%%") == ["%"]
    assert parse_format("") == []


@pytest.mark.parametrize(
    "fmt, args",
    [
        ("%d %d", [I64]),             # too few arguments
        ("%d", [I64, I64]),           # too many
        ("%d", [Field("str", 8, 16)]),
        ("%d", [Field("int", 8, 3)]),
        ("%d %d", [Field("int", 8, 8), Field("int", 12, 8)]),  # overlapping
    ],
)
def test_printf_bad_specs_raise(fmt, args):
    with pytest.raises(FormatError):
        compile_printf(PrintfSpec(fmt, args))


@pytest.mark.parametrize("fmt", ["%q", "%*d", "%", "abc %l"])
def test_unusable_formats_are_refused_by_the_parser(fmt):
    with pytest.raises(FormatProblem):
        parse_format(fmt)


def test_printf_short_record_raises():
    p = compile_printf(PrintfSpec("%d", [I64]))
    with pytest.raises(struct.error):
        p.render(b"\1" + b"\0" * 7)


