"""printf formats, parsed once: sema checks the arguments against the
conversions, and the pieces travel in the compiled program to the runtime,
which renders records from them without parsing the format again.

    "%-5d|%s\\n"  ->  [Conversion("-", "5", None, None, "d"), "|", Conversion(..., "s"), "\\n"]

A conversion is C's `%[flags][width][.precision][length]conv` with the
conversions bpftrace accepts; `%%` folds into the text.
"""

from __future__ import annotations

from pytrace.program import Conversion

FLAGS = "-+ #0"
LENGTHS = ("hh", "ll", "h", "l", "j", "z", "t")
CONVERSIONS = "diouxXcspr"
SUPPORTED = ("%d %i %u %x %X %o %s %c %p %r %rx %rh %%, with - + space # 0, a width, .precision"
             " and hh h l ll j z t")


class FormatProblem(Exception):
    """A format that cannot be used; `at` is the offset of the bad `%`."""

    def __init__(self, at: int, message: str):
        super().__init__(message)
        self.at = at


def parse_format(fmt: str) -> list[str | Conversion]:
    """The format as literal text and conversions (raises FormatProblem)."""
    pieces: list[str | Conversion] = []
    text: list[str] = []
    pos = 0
    while True:
        at = fmt.find("%", pos)
        if at < 0:
            text.append(fmt[pos:])
            break
        text.append(fmt[pos:at])
        if fmt.startswith("%%", at):
            text.append("%")
            pos = at + 2
            continue
        conv, pos = _scan(fmt, at)
        if "".join(text):
            pieces.append("".join(text))
        text = []
        pieces.append(conv)
    if "".join(text):
        pieces.append("".join(text))
    return pieces


def conversions(pieces: list) -> list[Conversion]:
    return [p for p in pieces if isinstance(p, Conversion)]


def _scan(fmt: str, at: int) -> tuple[Conversion, int]:
    i, n = at + 1, len(fmt)

    def run(chars: str) -> str:
        nonlocal i
        start = i
        while i < n and fmt[i] in chars:
            i += 1
        return fmt[start:i]

    flags = run(FLAGS)
    width = run("0123456789")
    precision = None
    if i < n and fmt[i] == ".":
        i += 1
        precision = run("0123456789")
    length = next((ln for ln in LENGTHS if fmt.startswith(ln, i)), None)
    i += len(length or "")
    if i >= n:
        raise FormatProblem(at, "printf format ends in the middle of a conversion")
    if fmt[i] not in CONVERSIONS:
        raise FormatProblem(at, f"printf format has an unknown conversion '%{fmt[at + 1:i + 1]}'")
    if fmt[i] == "r" and fmt[i + 1:i + 2] in ("x", "h"):  # %rx, %rh: a buffer in hex
        return Conversion(flags, width, precision, length, fmt[i:i + 2]), i + 2
    return Conversion(flags, width, precision, length, fmt[i]), i + 1
