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
  -p PID            trace process PID: uprobes and USDT attach to it, other
                    probes fire only in it; stop when it exits
  -l [PATTERN]      list the probes matching PATTERN
  -f text|json|folded
                    output format: bpftrace's text (default), its JSON lines,
                    or stack-keyed maps as folded stacks for flame graph tools
  --flamegraph FILE write the stack-keyed maps as an SVG flame graph at exit
  -o FILE           write the program's output to FILE instead of stdout
  -q                quiet: no "Attaching N probes..." line
  -B line|full|none output buffering: flushed as events come (line, the
                    default), only when the buffer fills (full), or at once
  --output-style 0.17|upstream
                    text as bpftrace 0.17 prints it (default), or as current
                    bpftrace does where it differs
  -v                verbose messages (the verifier's log on a load failure)
  --debug           show a Python traceback on internal errors
  -d, --dump STAGE  print a compiler stage: ast, ir, llvm, llvm-opt, asm
                    (repeatable, or comma-separated)
  --emit-elf FILE   write the BPF object to FILE
  --dry-run         compile only; load and attach nothing
  --no-cache        always compile; neither read nor write the compile cache
  --unsafe          allow functions that change the system (system(), signal())
  -k                warn when a map lookup, map delete or memory read fails in the
                    kernel (-kk: the same)
  --include FILE    as if the program began with #include <FILE>
  -I DIR            accepted for bpftrace's sake: pytrace reads no headers (types come
                    from the kernel's BTF, header constants are built in)
  --no-warnings     print no warnings (warnf(), full maps, cut strings)
  --usdt-file-activation
                    accepted for bpftrace's sake (USDT semaphores are always
                    set in every process that maps the binary: the kernel
                    does it)
  -V, --version     print the version
  --info            what this kernel and pytrace support, as bpftrace --info
  -h, --help        show this help

Options may be combined (-qe PROGRAM) and given after the script, as with
bpftrace; arguments after `--` are always the script's ($1, $2, ...).
Upstream's long spellings work too: --cmd, --list, --output, --quiet, --verbose.

environment:
  BPFTRACE_MAP_KEYS_MAX, PYTRACE_MAP_KEYS_MAX
                    keys a map may hold (default 4096); updates of a full map
                    are counted and reported at exit
  BPFTRACE_STRLEN   bytes a string may hold (default 64, at most 8192)
  BPFTRACE_STACK_MODE
                    how kstack and ustack print unless they say: bpftrace
                    (default), perf or raw

examples:
  pytrace -e 'tracepoint:sched:sched_switch { @[comm] = count(); }'
  pytrace -l 'tracepoint:syscalls:sys_enter_*'
  pytrace -f json -c './a.out' script.pt
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
        self.info = False  # --info: what this kernel and pytrace support, in bpftrace's layout
        self.unsafe = False       # --unsafe: system() and other functions that change the system
        self.no_warnings = False  # --no-warnings: warnf() and pytrace's warnings are not printed
        self.no_cache = False
        self.format = "text"
        self.output: str | None = None
        self.quiet = False
        self.buffering = "line"
        self.style = "0.17"
        self.pid: int | None = None
        self.flamegraph: str | None = None
        self.helper_errors = False  # -k
        self.includes: list[str] = []  # --include FILE: as if the script had #include <FILE>


class UsageError(Exception):
    """A command line pytrace cannot read."""


# getopt's spelling of bpftrace's options (its getopt_long string is
# "dbB:f:e:hlp:vqc:Vo:I:k"); -d takes a stage, as upstream's does.
_SHORT = "B:f:e:hlp:vqc:Vo:I:kd:"
_LONG = ["help", "version", "debug", "dump=", "emit-elf=", "dry-run", "no-cache", "flamegraph=",
         "output-style=", "unsafe", "no-warnings", "include=", "usdt-file-activation", "info",
         "cmd=", "list", "output=", "quiet", "verbose", "pid="]  # upstream's long spellings
_VALUE = {"-e": "program", "-c": "command", "--cmd": "command", "-o": "output", "--output": "output",
          "--emit-elf": "emit_elf", "--flamegraph": "flamegraph"}
_FLAG = {"-v": "verbose", "--verbose": "verbose", "--debug": "debug", "--dry-run": "dry_run",
         "--no-cache": "no_cache", "-q": "quiet", "--quiet": "quiet", "--unsafe": "unsafe",
         "--no-warnings": "no_warnings", "--info": "info"}
_CHOICES = {"-f": ("format", ("text", "json", "folded")), "-B": ("buffering", ("line", "full", "none")),
            "--output-style": ("style", ("0.17", "upstream"))}
_LATER: dict[str, str] = {}
# Accepted for bpftrace's sake: USDT semaphores are always set in every
# process that maps the file (the kernel does it); -I DIR: pytrace reads no
# header files (the kernel's BTF gives the types, headers' constants come
# from pytrace/sema/headers.py), so there is nowhere to search.
_ACCEPTED = ("--usdt-file-activation", "-I")


def parse_args(argv: list[str]) -> Options:
    """bpftrace's command line, as its getopt_long reads it: short options
    may be combined (-qe PROG, -lv), long ones take `--opt=value`, options
    may follow the script; the words that are not options are the script
    (unless -e gave the program) and then its arguments."""
    getopt = _getopt()
    opts = Options()
    try:
        pairs, words = getopt.gnu_getopt(list(argv), _SHORT, _LONG)
    except getopt.GetoptError as err:
        raise UsageError(_usage_message(err)) from None
    listing = False
    for name, value in pairs:
        if name in ("-h", "--help"):
            raise SystemExit(_print(USAGE))
        if name in ("-V", "--version"):
            raise SystemExit(_print(f"pytrace v{__version__}"))
        if name in ("-l", "--list"):
            listing = True
        elif name in ("-d", "--dump"):
            opts.dump.append(value)
        elif name == "-k":  # -kk as well: every helper pytrace checks is checked with one
            opts.helper_errors = True
        elif name == "--include":
            opts.includes.append(value)
        elif name in ("-p", "--pid"):
            if not value.isdigit() or int(value) == 0:
                raise UsageError(f'invalid process id "{value}": -p takes a number > 0')
            opts.pid = int(value)
        elif name in _VALUE:
            setattr(opts, _VALUE[name], value)
        elif name in _FLAG:
            setattr(opts, _FLAG[name], True)
        elif name in _CHOICES:
            attr, choices = _CHOICES[name]
            if value not in choices:
                allowed = ", ".join(choices[:-1]) + " or " + choices[-1]
                what = {"-f": "output format", "-B": "buffering mode"}.get(name, "output style")
                raise UsageError(f'invalid {what} "{value}": {name} takes {allowed}')
            setattr(opts, attr, value)
        elif name in _LATER:
            raise UsageError(f"option {_LATER[name]} is not supported by pytrace yet")
        elif name not in _ACCEPTED:  # pragma: no cover - getopt knows only the names above
            raise UsageError(f"unknown option '{name}' (see pytrace --help)")
    if listing and opts.program is not None:
        opts.list = "program"   # -l -e PROGRAM: the program's own probes
    elif listing and words and words[0].endswith((".bt", ".pt")) and os.path.isfile(words[0]):
        opts.list, opts.script = "program", words.pop(0)   # -l script.bt
    elif listing:
        opts.list = words.pop(0) if words else "*"
    elif words and opts.program is None:
        opts.script = words.pop(0)
    opts.args = words
    return opts


def _getopt():
    """The standard library's getopt, without the gettext it imports for
    its error messages (gettext pulls in `re` and `locale`: ~6 ms of every
    start). A stand-in returns the messages as they are."""
    import sys as _sys

    if "getopt" in _sys.modules or "gettext" in _sys.modules:
        import getopt

        return getopt
    stand_in = type(_sys)("gettext")
    stand_in.gettext = lambda message: message
    _sys.modules["gettext"] = stand_in
    try:
        import getopt
    finally:
        del _sys.modules["gettext"]
    return getopt


def _usage_message(err) -> str:
    """getopt's complaint, in pytrace's words."""
    option = err.opt
    if not option:
        return f"{err.msg} (see pytrace --help)"
    dashes = "--" if len(option) > 1 else "-"
    if "requires argument" in err.msg:
        return f"option {dashes}{option} needs a value (see pytrace --help)"
    if "must not have an argument" in err.msg:
        return f"option {dashes}{option} takes no value (see pytrace --help)"
    return f"unknown option '{dashes}{option}' (see pytrace --help)"


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
        if args.info:
            return _info()
        if args.list is not None:
            return _list(args)
        if args.pid is not None and args.command is not None:
            raise UserError("-p and -c cannot be used together: trace a running process (-p) or start one (-c)")
        source = _read_source(args)
        _need_root()
        compiled = _compile(source, args)
        if compiled.warnings and not args.no_warnings:
            print("\n".join(compiled.warnings), file=sys.stderr)
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
    if args.pid is not None and not os.path.exists(f"/proc/{args.pid}"):
        raise UserError(f"cannot trace process {args.pid} (-p): there is no such process")
    options = CompileOptions(dump=dump, use_cache=not args.no_cache, pid=args.pid or -1,
                             params=tuple(args.args), bools=args.style == "upstream",
                             unsafe=args.unsafe, includes=tuple(args.includes),
                             helper_errors=args.helper_errors)
    return compile_source(source, options)


def _run(compiled, args: Options, source) -> int:
    from pytrace.runtime.errors import RuntimeFailure, VerifierError
    from pytrace.runtime.session import RunOptions, run

    from pytrace.runtime.child import split_command

    command = split_command(args.command) if args.command is not None else None
    output, stream = _make_output(args)  # (the output's stream, stdout's)
    try:
        return run(compiled, RunOptions(command=command, output=output, verbose=args.verbose,
                                        quiet=args.quiet, pid=args.pid))
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
    except OSError as err:
        if err.errno not in _WRITE_ERRORS:
            raise
        _error(f"cannot write the output to {args.output or 'stdout'}: {err.strerror}")
        return EXIT_ERROR
    finally:
        for f in stream:
            f.close()


# Writing the output can fail for reasons of the disk, not of pytrace.
_WRITE_ERRORS = {28, 5, 122, 27}  # ENOSPC, EIO, EDQUOT, EFBIG


def _make_output(args: Options):
    """The Output for -f, -o, -B and --output-style, and the streams it
    writes: the output's (stdout, or the -o file) and stdout's."""
    from pytrace.diagnostics import UserError

    # A buffer of pytrace's own (not sys.stdout's, which PYTHONUNBUFFERED
    # or a terminal would make write-through): -B decides when it is flushed.
    sys.stdout.flush()
    console = open(sys.stdout.fileno(), "w", buffering=1 << 16, encoding="utf-8",
                   errors="replace", closefd=False)
    stream = console
    if args.output:
        try:
            stream = open(args.output, "w", buffering=1 << 16, encoding="utf-8", errors="replace")
        except OSError as err:
            raise UserError(f"cannot open output file '{args.output}': {err.strerror}") from None
    if args.format == "json":
        from pytrace.output.json import JsonOutput

        output = JsonOutput(stream, sys.stderr, console=console, buffering=args.buffering,
                            upstream=args.style == "upstream")
    elif args.format == "folded":
        from pytrace.output.folded import FoldedOutput
        from pytrace.output.text import STYLES

        output = FoldedOutput(stream, sys.stderr, console=console, style=STYLES[args.style],
                              buffering=args.buffering)
    else:
        from pytrace.output.text import STYLES, TextOutput

        output = TextOutput(stream, sys.stderr, console=console, style=STYLES[args.style],
                            buffering=args.buffering)
    output.warnings = not args.no_warnings
    if args.flamegraph:
        from pytrace.output.folded import FlameGraphFile

        try:  # opened now: a path that cannot be written fails before tracing, not after
            svg = open(args.flamegraph, "w", encoding="utf-8")
        except OSError as err:
            raise UserError(f"cannot open flame graph file '{args.flamegraph}': {err.strerror}") from None
        return FlameGraphFile(output, svg), (stream, console, svg)
    return output, (stream, console)


def _info() -> int:
    from llvmlite import binding

    from pytrace.runtime.features import info_text

    _need_root()
    llvm = ".".join(str(n) for n in binding.llvm_version_info)
    sys.stdout.write(info_text(__version__, llvm))
    return 0


def _list(args: Options) -> int:
    """Print the probes matching a pattern, one per line (-lv: with their
    arguments), as bpftrace -l does."""
    from pytrace.listing import ListError, list_probes

    _need_root()
    if args.list == "program":
        return _list_program(args)
    try:
        lines = list_probes(None if args.list == "*" else args.list, args.verbose, args.pid or -1)
    except ListError as err:
        from pytrace.diagnostics import UserError

        raise UserError(str(err)) from None
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def _list_program(args: Options) -> int:
    """-l with a program: the probes its attach points expand to, in order."""
    from pytrace import parser
    from pytrace.diagnostics import CompileError, Diagnostics
    from pytrace.sema.check import attach_text
    from pytrace.sema.probes import Given, resolve

    source = _read_source(args)
    program = parser.parse(source)
    diags = Diagnostics(source)
    given = Given(args.pid or -1, tuple(args.args))
    names = []
    for probe in program.probes:
        for ap in probe.attach_points:
            text = attach_text(ap, given.params, diags)
            if text is not None:
                names += [t.name for t in resolve(text, ap.span, diags, given)]
    if diags.has_errors:
        raise CompileError(diags)
    sys.stdout.write("".join(name + "\n" for name in names))
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
