"""The compiler pipeline, written out in one place.

    parse -> check -> lower -> (verify) -> emit LLVM -> optimise -> object -> package
          -> stack check

Each stage's result can be dumped (`--dump STAGE`), and the pipeline stops
after the first stage that reports errors. Lark and llvmlite are imported
here, inside `compile_source`, so a run served from the compile cache never
loads them.
"""

from __future__ import annotations

import sys

from pytrace import cache
from pytrace.diagnostics import CompileError, Diagnostics
from pytrace.program import STRLEN_DEFAULT, STRLEN_UPSTREAM, CompiledProgram
from pytrace.source import SourceFile

STAGES = ("ast", "ir", "llvm", "llvm-opt", "asm")


class CompileOptions:
    """What to dump, where, whether the compile cache may be used, and the
    settings that change the code (the string size, BPFTRACE_STRLEN, read
    from the environment unless given)."""

    def __init__(self, dump: set[str] | None = None, dump_out=None, use_cache: bool = True,
                 strlen: int | None = None, pid: int = -1, params: tuple[str, ...] = (),
                 stack_mode: str | None = None, bools: bool = False, unsafe: bool = False,
                 includes: tuple[str, ...] = (), helper_errors: bool = False):
        self.dump = dump or set()
        self.dump_out = dump_out or sys.stdout
        self.use_cache = use_cache
        # None: the script's config block says, else the default
        self.strlen = strlen if strlen is not None else _from_env("max_strlen")
        self.stack_mode = stack_mode or _from_env("stack_mode")  # kstack/ustack without a mode
        self.pid = pid          # -p: uprobes resolve in its maps; other probes filter on it
        self.params = tuple(params)  # $1, $2, ...: constants in the code
        self.bools = bools      # upstream's spelling: comparisons give bools (true/false), strings hold 1024 bytes
        self.unsafe = unsafe    # --unsafe: functions that change the system are allowed
        self.includes = tuple(includes)  # --include FILE: as if the script began with #include <FILE>
        self.helper_errors = helper_errors  # -k: the code reports failed helper calls


def _from_env(name: str):
    """A compile setting's value from the environment, or None; a bad value
    is a UserError."""
    from pytrace import settings
    from pytrace.diagnostics import UserError

    try:
        found = settings.from_environment(settings.SETTINGS[name])
    except settings.SettingError as e:
        raise UserError(str(e)) from None
    return found[1] if found is not None else None


def compile_source(source: SourceFile, options: CompileOptions | None = None) -> CompiledProgram:
    """Compile a script, or raise CompileError with its diagnostics."""
    options = options or CompileOptions()
    cacheable = options.use_cache and not options.dump
    # The settings that change the code are part of the cache key.
    key = source.text
    if options.strlen is not None:
        key = f"strlen={options.strlen}\0{key}"
    if options.stack_mode is not None:
        key = f"stack_mode={options.stack_mode}\0{key}"
    if options.bools or options.unsafe:  # bools: upstream's spelling, and its string size
        key = f"bools={options.bools}\0unsafe={options.unsafe}\0{key}"
    if options.helper_errors:
        key = f"helper_errors\0{key}"
    if options.includes:
        key = f"includes={options.includes!r}\0{key}"
    if options.pid > 0 or options.params:
        key = f"pid={options.pid}\0params={options.params!r}\0{key}"
    if cacheable:
        compiled = cache.load(key)
        if compiled is not None:
            compiled.source_name = source.name
            return compiled
    compiled = _deep(lambda: _compile(source, options))
    if cacheable:
        cache.store(key, compiled)
    return compiled


# The compiler's passes recurse over the tree (an expression of 5,000 terms,
# 1,000 nested blocks): they run in a thread with a large stack and a
# recursion limit to match, rather than in the main thread's 8 MiB.
DEEP_STACK = 1 << 30       # address space only: pages are touched as used
DEEP_RECURSION = 200_000


def _deep(work):
    """work() in a thread with room to recurse; its result, or its exception."""
    import threading

    result: list = []
    failure: list = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as err:  # noqa: BLE001 - handed back to the caller's thread
            failure.append(err)

    old_stack = threading.stack_size(DEEP_STACK)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION))
    try:
        thread = threading.Thread(target=run, name="pytrace-compile", daemon=True)  # Ctrl-C ends it too
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if failure:
        raise failure[0]
    return result[0]


def _compile(source: SourceFile, options: CompileOptions) -> CompiledProgram:
    from pytrace import ast, parser
    from pytrace.codegen import llvm, objfile
    from pytrace.codegen.package import package
    from pytrace.ir import printer
    from pytrace.ir.lower import lower
    from pytrace.ir.verify import verify
    from pytrace.sema.check import check

    def tap(stage: str, produce) -> None:
        if stage in options.dump:
            options.dump_out.write(f"; --- {stage} ---\n{produce()}\n")

    program = parser.parse(source)
    program.includes.extend(options.includes)
    diags = Diagnostics(source)
    if program.macros:
        from pytrace import macros

        macros.expand(program, diags)
        if diags.has_errors:
            raise CompileError(diags)
    tap("ast", lambda: ast.dump(program))
    from pytrace.sema.probes import Given

    config = _config(program, diags)
    strlen = options.strlen or config.get("max_strlen", STRLEN_UPSTREAM if options.bools else STRLEN_DEFAULT)
    stack_mode = options.stack_mode or config.get("stack_mode", "bpftrace")
    given = Given(options.pid, options.params, stack_mode, options.bools, options.unsafe, source.name,
                  config.get("missing_probes", "error"), options.helper_errors)
    checked = check(program, diags, strlen, given)
    if diags.has_errors:
        raise CompileError(diags)
    module = lower(checked)
    verify(module)
    tap("ir", lambda: printer.format_module(module))
    llvm_module = llvm.emit_module(module, source.name)
    tap("llvm", lambda: str(llvm_module))
    optimized = objfile.optimize(str(llvm_module))
    tap("llvm-opt", lambda: str(optimized))
    tap("asm", lambda: objfile.emit_assembly(optimized))
    _check_scratch(module, diags)
    elf = objfile.emit_object(optimized)
    compiled = package(module, elf, source.name)
    from pytrace import settings

    compiled.settings = {k: v for k, v in config.items() if settings.SETTINGS[k].stage == "run"}
    compiled.warnings = [d.render(source) for d in diags.warnings]
    _check_stack(compiled, diags)
    return compiled


def _config(program, diags: Diagnostics) -> dict:
    """The config block's settings, parsed: name -> value. An unknown name or
    a bad value is an error at the item."""
    from pytrace import settings

    config = {}
    for item in program.config:
        setting = settings.lookup(item.name)
        if setting is None:
            diags.error(item.span, f"{item.name}: not a known configuration option")
            continue
        try:
            config[setting.name] = setting.parse(item.value)
        except settings.SettingError as e:
            diags.error(item.span, f"{item.name} {e}")
    return config


def _check_scratch(module, diags: Diagnostics) -> None:
    """A probe's buffers beyond the stack share one per-CPU value, which the
    kernel caps at 32 KiB; say which probe needs more."""
    from pytrace.codegen.llvm import SCRATCH_MAX

    for fn in module.functions:
        used = module.scratch_use.get(fn.name, 0)
        if used > SCRATCH_MAX:
            diags.error(fn.span, f"{fn.probe_name} needs {used} bytes for its strings and records, "
                        f"more than the {SCRATCH_MAX} a per-CPU map value can hold",
                        "use shorter strings (max_strlen, or str(x, N)) or fewer of them in this probe")
    if diags.has_errors:
        raise CompileError(diags)


def _check_stack(compiled: CompiledProgram, diags: Diagnostics) -> None:
    """BPF gives a program 512 bytes of stack; say which probe needs more
    (the kernel's verifier would only say "invalid stack access")."""
    from pytrace.codegen.objfile import BPF_STACK, stack_depth

    for probe in compiled.probes:
        depth = stack_depth(probe.insns)
        if depth > BPF_STACK:
            diags.error(
                probe.span,
                f"{probe.name} needs {depth} bytes of stack, more than the {BPF_STACK} BPF allows",
                "use fewer strings in this probe, or shorter ones: str(x, 16) reads at most 16 bytes",
            )
    if diags.has_errors:
        raise CompileError(diags)
