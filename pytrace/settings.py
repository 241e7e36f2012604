"""bpftrace's settings, one row each: upstream's `config = { ... }` block
and the environment variables that set the same things.

    config = { max_strlen = 128; stack_mode = raw }
    BPFTRACE_MAX_STRLEN=128 pytrace ...

An environment variable wins over the script's config block, which wins
over the default, as in bpftrace. Settings of the `compile` stage change
the code (the driver reads them); the others travel in the compiled
program for the runtime (CompiledProgram.settings). Settings bpftrace has
for things pytrace does differently are accepted and change nothing
(stage `none`, with the reason).
"""

from __future__ import annotations

import os

from pytrace.record import Record

STRLEN_MAX = 8192  # long strings live in the per-CPU scratch value (32 KiB at most)


class SettingError(Exception):
    """A value a setting cannot take; the message says what it can."""


class Setting(Record):
    """name     as config spells it (also accepted as BPFTRACE_<NAME>)
    envs     the environment variables that set it, first wins
    parse    text or int -> the value, or SettingError
    stage    "compile", "run" or "none"
    default  its value when nothing sets it"""

    __slots__ = ("name", "envs", "parse", "stage", "default")

    def __init__(self, name: str, parse, stage: str, default, envs: tuple[str, ...] = ()):
        self.name = name
        self.envs = envs or ("BPFTRACE_" + name.upper(),)
        self.parse = parse
        self.stage = stage
        self.default = default


def _number(low: int, high: int | None = None):
    def parse(value) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingError(f"must be a number, not {value!r}") from None
        if number < low or (high is not None and number > high):
            raise SettingError(f"must be from {low} to {high}, not {number}" if high is not None
                               else f"must be at least {low}, not {number}")
        return number
    return parse


def _choice(*choices: str):
    def parse(value) -> str:
        if str(value) not in choices:
            raise SettingError(f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)
    return parse


def _flag(value) -> bool:
    text = str(value).lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no"):
        return False
    raise SettingError(f"must be 0 or 1 (or true or false), not {value!r}")


def _anything(value):
    return value


STACK_MODES = ("bpftrace", "perf", "raw")

SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("max_strlen", _number(1, STRLEN_MAX), "compile", 64, ("BPFTRACE_MAX_STRLEN", "BPFTRACE_STRLEN")),
    Setting("stack_mode", _choice(*STACK_MODES), "compile", "bpftrace"),
    Setting("max_map_keys", _number(1), "run", 4096,
            ("PYTRACE_MAP_KEYS_MAX", "BPFTRACE_MAX_MAP_KEYS", "BPFTRACE_MAP_KEYS_MAX")),
    Setting("print_maps_on_exit", _flag, "run", True),
    Setting("missing_probes", _choice("error", "warn", "ignore"), "compile", "error"),
    # bpftrace's knobs for machinery pytrace does not have or sizes itself
    # (the ring buffer, symbol caches, the verifier log, program counts)
    *(Setting(name, _anything, "none", None) for name in (
        "cache_user_symbols", "cpp_demangle", "lazy_symbolication", "log_size", "max_bpf_progs",
        "max_cat_bytes", "max_probes", "max_type_res_iterations", "on_stack_limit",
        "perf_rb_pages", "show_debug_info", "str_trunc_trailer", "symbol_source", "use_blazesym", "license",
        "max_ast_nodes", "unstable_macro", "unstable_map_decl", "unstable_tseries", "unstable_addr",
        "unstable_import", "unstable_typeinfo")),
)}


def lookup(name: str) -> Setting | None:
    """A setting by its config name or its BPFTRACE_ spelling."""
    key = name.lower()
    if key.startswith("bpftrace_"):
        key = key[len("bpftrace_"):]
    found = SETTINGS.get(key)
    if found is None:
        for setting in SETTINGS.values():
            if name in setting.envs:
                return setting
    return found


def from_environment(setting: Setting, environ=None):
    """(variable, value) from the first of its environment variables that is
    set, or None; a bad value raises SettingError naming the variable."""
    environ = os.environ if environ is None else environ
    for var in setting.envs:
        text = environ.get(var)
        if text:
            try:
                return var, setting.parse(text)
            except SettingError as e:
                raise SettingError(f"{var} {e}") from None
    return None


def resolve(name: str, config: dict, environ=None):
    """A setting's value: its environment variable, else the config block's
    value (already parsed), else its default."""
    setting = SETTINGS[name]
    found = from_environment(setting, environ)
    if found is not None:
        return found[1]
    return config.get(name, setting.default)
