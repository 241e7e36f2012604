"""The `pytrace` command: bpftrace's flags where they overlap.

It reads the script, compiles it (or takes it from the compile cache), runs
it, and turns every failure into a message and a non-zero exit. A Python
traceback is shown only with --debug.
"""

from __future__ import annotations

import os
import sys

from pytrace import __version__

EXIT_ERROR = 1
EXIT_INTERNAL = 2

USAGE = """usage: pytrace [options] (-e PROGRAM | SCRIPT | -) [ARGS...]
       pytrace -l [PATTERN]

A bpftrace-compatible dynamic tracer.

options:
  -e PROGRAM        the program to run
  -c CMD            run CMD once the probes are attached; stop when it exits
  -l [PATTERN]      list the probes matching PATTERN
  -v                verbose messages (the verifier's log on a load failure)
  --debug           show a Python traceback on internal errors
  --dump STAGE      print a compiler stage: ast, ir, llvm, llvm-opt, asm
                    (repeatable, or comma-separated)
  --emit-elf FILE   write the BPF object to FILE
  --dry-run         compile only; load and attach nothing
  --no-cache        always compile; neither read nor write the compile cache
  -V, --version     print the version
  -h, --help        show this help

examples:
  pytrace -e 'tracepoint:sched:sched_switch { @[comm] = count(); }'
  pytrace -l 'tracepoint:syscalls:sys_enter_*'
  pytrace -c './a.out' script.pt
"""


class Options:
    """The parsed command line."""

    def __init__(self):
        self.script: str | None = None
        self.args: list[str] = []
        self.program: str | None = None
        self.command: str | None = None
        self.list: str | None = None
        self.verbose = False
        self.debug = False
        self.dump: list[str] = []
        self.emit_elf: str | None = None
        self.dry_run = False
        self.no_cache = False


class UsageError(Exception):
    """A command line pytrace cannot read."""


# option -> (attribute, takes a value); not argparse: with what it imports
# (gettext, locale, shutil) it costs more than the rest of a cached run's start.
_OPTIONS = {
    "-e": ("program", True), "-c": ("command", True), "-v": ("verbose", False),
    "--debug": ("debug", False), "--dump": ("dump", True), "-d": ("dump", True),
    "--emit-elf": ("emit_elf", True), "--dry-run": ("dry_run", False), "--no-cache": ("no_cache", False),
}


def parse_args(argv: list[str]) -> Options:
    """Options come before the script; what follows the script (or `--`) is
    the script's own arguments, as with bpftrace."""
    opts = Options()
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--":
            break
        if word in ("-h", "--help"):
            raise SystemExit(_print(USAGE))
        if word in ("-V", "--version"):
            raise SystemExit(_print(f"pytrace v{__version__}"))
        if word == "-l":
            opts.list = words.pop(0) if words and not words[0].startswith("-") else "*"
            continue
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if name not in _OPTIONS:
            if word.startswith("-") and word != "-":
                raise UsageError(f"unknown option '{word}' (see pytrace --help)")
            words.insert(0, word)
            break
        attr, takes_value = _OPTIONS[name]
        if not takes_value:
            setattr(opts, attr, True)
            continue
        if not eq:
            if not words:
                raise UsageError(f"option {name} needs a value (see pytrace --help)")
            value = words.pop(0)
        if attr == "dump":
            opts.dump.append(value)
        else:
            setattr(opts, attr, value)
    if words and opts.program is None and opts.list is None:
        opts.script = words.pop(0)
    opts.args = words
    return opts


def _print(text: str) -> int:
    print(text.rstrip("\n"))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        from pytrace.stop import install_early

        install_early()
    except KeyboardInterrupt:
        return 130
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as err:
        _error(str(err))
        return EXIT_ERROR
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


def _main(args: Options) -> int:
    from pytrace.diagnostics import CompileError, UserError
    from pytrace.tracefs import TracefsError

    try:
        if args.list is not None:
            return _list(args.list)
        source = _read_source(args)
        _need_root()
        compiled = _compile(source, args)
        if args.emit_elf:
            with open(args.emit_elf, "wb") as f:
                f.write(compiled.elf)
        if args.dry_run:
            return 0
        return _run(compiled, args, source)
    except CompileError as err:
        print(err.diagnostics.render(), file=sys.stderr)
        return EXIT_ERROR
    except (UserError, TracefsError) as err:
        _error(str(err))
        return EXIT_ERROR


def _read_source(args: Options):
    from pytrace.diagnostics import UserError
    from pytrace.source import SourceFile

    if args.program is not None:
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


def _compile(source, args: Options):
    from pytrace.driver import STAGES, CompileOptions, compile_source
    from pytrace.diagnostics import UserError

    dump = {stage for item in args.dump for stage in item.split(",") if stage}
    unknown = dump - set(STAGES)
    if unknown:
        raise UserError(f"unknown --dump stage '{sorted(unknown)[0]}'; stages: {', '.join(STAGES)}")
    options = CompileOptions(dump=dump, use_cache=not args.no_cache)
    return compile_source(source, options)


def _run(compiled, args: Options, source) -> int:
    from pytrace.runtime.errors import RuntimeFailure, VerifierError
    from pytrace.runtime.session import RunOptions, run

    command = None
    if args.command:
        import shlex  # imports re: only when there is a command to split

        command = shlex.split(args.command)
    try:
        return run(compiled, RunOptions(command=command, out=sys.stdout, verbose=args.verbose))
    except VerifierError as err:
        from pytrace.diagnostics import Diagnostic

        sys.stdout.flush()
        message = f"the BPF verifier rejected probe {err.probe.name}: {err.reason}"
        print(Diagnostic(err.span, message).render(source), file=sys.stderr)
        print(err.detail if args.verbose else "(run with -v to see the verifier's log)", file=sys.stderr)
        return EXIT_ERROR
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
