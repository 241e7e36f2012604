"""The `pytrace` command: bpftrace's flags where they overlap.

It reads the script, compiles it (or takes it from the compile cache), runs
it, and turns every failure into a message and a non-zero exit. A Python
traceback is shown only with --debug.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from pytrace import __version__

EXIT_ERROR = 1
EXIT_INTERNAL = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pytrace",
        usage="pytrace [options] (-e PROGRAM | SCRIPT | -) [ARGS...]",
        description="A bpftrace-compatible dynamic tracer.",
        epilog="examples:\n"
        "  pytrace -e 'tracepoint:sched:sched_switch { @[comm] = count(); }'\n"
        "  pytrace -l 'tracepoint:syscalls:sys_enter_*'\n"
        "  pytrace -c './a.out' script.pt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("script", nargs="?", help="script file, or - to read it from standard input")
    p.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("-e", dest="program", metavar="PROGRAM", help="the program to run")
    p.add_argument("-c", dest="command", metavar="CMD", help="run CMD once the probes are attached; stop when it exits")
    p.add_argument("-l", dest="list", nargs="?", const="*", metavar="PATTERN", help="list probes matching PATTERN")
    p.add_argument("-v", dest="verbose", action="store_true", help="verbose messages (verifier log on a load failure)")
    p.add_argument("--debug", action="store_true", help="show a Python traceback on internal errors")
    p.add_argument("--dump", action="append", default=[], metavar="STAGE",
                   help="print a compiler stage: ast, ir, llvm, llvm-opt, asm (repeatable, or comma-separated)")
    p.add_argument("--emit-elf", metavar="FILE", help="write the BPF object to FILE")
    p.add_argument("--dry-run", action="store_true", help="compile only; load and attach nothing")
    p.add_argument("--no-cache", action="store_true", help="always compile; neither read nor write the compile cache")
    p.add_argument("-V", "--version", action="version", version=f"pytrace v{__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except Exception as err:  # a pytrace bug: say so, without a traceback
        if args.debug:
            raise
        _error(f"internal error: {type(err).__name__}: {err} (this is a pytrace bug; --debug shows a traceback)")
        return EXIT_INTERNAL


def _main(args: argparse.Namespace) -> int:
    from pytrace.diagnostics import CompileError, UserError
    from pytrace.tracefs import TracefsError

    try:
        if args.list is not None:
            return _list(args.list if args.script is None else args.script)
        source = _read_source(args)
        _need_root()
        compiled = _compile(source, args)
        if args.emit_elf:
            with open(args.emit_elf, "wb") as f:
                f.write(compiled.elf)
        if args.dry_run:
            return 0
        return _run(compiled, args)
    except CompileError as err:
        print(err.diagnostics.render(), file=sys.stderr)
        return EXIT_ERROR
    except (UserError, TracefsError) as err:
        _error(str(err))
        return EXIT_ERROR


def _read_source(args: argparse.Namespace):
    from pytrace.diagnostics import UserError
    from pytrace.source import SourceFile

    if args.program is not None:
        if args.script is not None:
            args.args.insert(0, args.script)
        return SourceFile("stdin", args.program)
    if args.script is None:
        raise UserError("no program given: use -e 'PROGRAM', a script file, or - for standard input (see pytrace --help)")
    if args.script == "-":
        return SourceFile("stdin", sys.stdin.read())
    try:
        with open(args.script, encoding="utf-8") as f:
            return SourceFile(args.script, f.read())
    except OSError as err:
        raise UserError(f"cannot read script '{args.script}': {err.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"cannot read script '{args.script}': it is not UTF-8 text") from None


def _need_root() -> None:
    from pytrace.diagnostics import UserError

    if os.geteuid() != 0:
        raise UserError("pytrace needs root to load BPF programs and read tracepoints; run it with sudo")


def _compile(source, args: argparse.Namespace):
    from pytrace.driver import STAGES, CompileOptions, compile_source
    from pytrace.diagnostics import UserError

    dump = {stage for item in args.dump for stage in item.split(",") if stage}
    unknown = dump - set(STAGES)
    if unknown:
        raise UserError(f"unknown --dump stage '{sorted(unknown)[0]}'; stages: {', '.join(STAGES)}")
    options = CompileOptions(dump=dump, use_cache=not args.no_cache)
    return compile_source(source, options)


def _run(compiled, args: argparse.Namespace) -> int:
    from pytrace.runtime.errors import RuntimeFailure
    from pytrace.runtime.session import RunOptions, run

    command = shlex.split(args.command) if args.command else None
    try:
        return run(compiled, RunOptions(command=command, out=sys.stdout, verbose=args.verbose))
    except RuntimeFailure as err:
        sys.stdout.flush()
        _error(str(err))
        detail = getattr(err, "detail", None)
        if detail and args.verbose:
            print(detail, file=sys.stderr)
        elif detail:
            print("(run with -v to see the verifier's log)", file=sys.stderr)
        return EXIT_ERROR


def _list(pattern: str) -> int:
    """Print the probes matching a glob, one per line, as bpftrace -l does."""
    import fnmatch

    from pytrace import tracefs

    _need_root()
    if pattern.startswith("t:"):
        pattern = "tracepoint:" + pattern[2:]
    for category, event in tracefs.list_tracepoints("*:*"):
        name = f"tracepoint:{category}:{event}"
        if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, "tracepoint:" + pattern):
            print(name)
    return 0


def _error(message: str) -> None:
    sys.stdout.flush()
    print(f"error: {message}", file=sys.stderr)


def _quiet_stdout() -> None:
    """After a closed pipe, keep Python from complaining again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
