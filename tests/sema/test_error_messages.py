"""Every kind of compile-time error pytrace reports, compared as the whole
rendered diagnostic: location, message, source line, caret and hints.

Each table is one area (types, maps, loops, functions, builtins, structs,
attach points, config, macros, syntax, positional parameters); a case is a
script that makes one error site fire and exactly what the user sees. The
sites other test files already pin (tests/sema, tests/parser, tests/e2e) are
not repeated here. Scripts are compiled in-process with
pytrace.driver.compile_source, which stops after the first stage that
reports errors, so nothing is loaded into the kernel; attach points are
resolved against this machine's tracefs, BTF and /proc/kallsyms.

Sites no script can reach are left out: assigning to or incrementing
something other than a map or a variable (the parser rejects it first),
an element pytrace "cannot read yet" (every pointee type it builds is
readable), _one_name's wildcard check (no caller forbids wildcards), and
usermode's x86_64-only error on x86_64 itself.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess

import pytest

from pytrace import btf, settings, symbols, tracefs
from pytrace.diagnostics import CompileError, UserError
from pytrace.driver import CompileOptions, compile_source
from pytrace.source import SourceFile


@pytest.fixture(autouse=True)
def default_settings(monkeypatch):
    """No BPFTRACE_* variable of the caller's environment changes a message."""
    for setting in settings.SETTINGS.values():
        for var in setting.envs:
            monkeypatch.delenv(var, raising=False)


def rendered(text: str, **options) -> str:
    """What the user is shown for `text`, which must fail to compile."""
    with pytest.raises(CompileError) as failure:
        compile_source(SourceFile("t.pt", text), CompileOptions(use_cache=False, **options))
    return failure.value.diagnostics.render()


def cases(table: dict):
    """A table {id: (script, rendered)} as parametrize's arguments and ids."""
    return pytest.mark.parametrize("text, expected", list(table.values()), ids=list(table))


# Types, operators, casts, variables, tuples and records.
TYPES = {
    "predicate_not_integer": (
        "BEGIN /comm/ { }",
        "t.pt:1:8: error: a predicate must be an integer, not string[16]\n"
        "BEGIN /comm/ { }\n"
        "       ^~~~"),
    "integer_too_big": (
        "BEGIN { @x = 18446744073709551616; }",
        "t.pt:1:14: error: integer 18446744073709551616 does not fit in 64 bits\n"
        "BEGIN { @x = 18446744073709551616; }\n"
        "             ^~~~~~~~~~~~~~~~~~~~"),
    "unary_operand_not_integer": (
        "BEGIN { @x = !comm; }",
        "t.pt:1:15: error: the operand of '!' must be an integer, not string[16]\n"
        "BEGIN { @x = !comm; }\n"
        "              ^~~~"),
    "ternary_branches_differ": (
        "BEGIN { @x = pid ? comm : 1; }",
        "t.pt:1:14: error: the branches of ?: differ: string[16] and int64\n"
        "BEGIN { @x = pid ? comm : 1; }\n"
        "             ^~~~~~~~~~~~~~"),
    "tuple_element_args": (
        "tracepoint:sched:sched_switch { @x = (1, args); }",
        "t.pt:1:42: error: a tuple holds integers, strings, stacks and tuples, not args\n"
        "tracepoint:sched:sched_switch { @x = (1, args); }\n"
        "                                         ^~~~"),
    "value_not_storable": (
        "tracepoint:sched:sched_switch { $x = args; }",
        "t.pt:1:38: error: the value of $x must be an integer or a string, not args\n"
        "tracepoint:sched:sched_switch { $x = args; }\n"
        "                                     ^~~~"),
    "record_has_no_field": (
        "BEGIN { @x = (a=1, b=2); @y = @x.c; }",
        "t.pt:1:31: error: the record has no field 'c'\n"
        "BEGIN { @x = (a=1, b=2); @y = @x.c; }\n"
        "                              ^~~~\n"
        "hint: its fields: a, b"),
    "integer_has_no_fields": (
        "BEGIN { @x = 1; @y = @x.a; }",
        "t.pt:1:22: error: int64 has no fields\n"
        "BEGIN { @x = 1; @y = @x.a; }\n"
        "                     ^~~~"),
    "increment_a_string": (
        "BEGIN { $x = comm; $x++; }",
        "t.pt:1:20: error: '++' needs an integer, but $x holds string[16]\n"
        "BEGIN { $x = comm; $x++; }\n"
        "                   ^~~~"),
    "compound_assign_undefined_variable": (
        "BEGIN { $x += 1; }",
        "t.pt:1:9: error: undefined variable '$x'\n"
        "BEGIN { $x += 1; }\n"
        "        ^~\n"
        "hint: assign it first: $x = ..."),
    "compound_assign_string": (
        "BEGIN { @x = 1; @x += comm; }",
        "t.pt:1:23: error: the right side of '+=' on @x must be an integer, not string[16]\n"
        "BEGIN { @x = 1; @x += comm; }\n"
        "                      ^~~~"),
    "index_not_integer": (
        "BEGIN { $p = (uint8 *)0; @x = $p[comm]; }",
        "t.pt:1:34: error: an index must be an integer, not string[16]\n"
        "BEGIN { $p = (uint8 *)0; @x = $p[comm]; }\n"
        "                                 ^~~~"),
    "index_void_pointer": (
        "BEGIN { $p = kptr(0); @x = $p[1]; }",
        "t.pt:1:28: error: pytrace does not know what void * points at\n"
        "BEGIN { $p = kptr(0); @x = $p[1]; }\n"
        "                           ^~\n"
        "hint: cast it to say: (int32 *)p, (struct task_struct *)p"),
    "deref_void_pointer": (
        "BEGIN { $p = kptr(0); @x = *$p; }",
        "t.pt:1:29: error: pytrace does not know what void * points at\n"
        "BEGIN { $p = kptr(0); @x = *$p; }\n"
        "                            ^~\n"
        "hint: cast it to say: *(int32 *)p"),
    "enum_not_defined": (
        "BEGIN { $x = (enum color)1; }",
        "t.pt:1:14: error: enum color is not defined\n"
        "BEGIN { $x = (enum color)1; }\n"
        "             ^~~~~~~~~~~~~\n"
        "hint: define it before the probes: enum color { A, B };"),
    "cast_operand_not_integer": (
        "BEGIN { $x = (uint8)comm; }",
        "t.pt:1:21: error: a cast to uint8 must be an integer, not string[16]\n"
        "BEGIN { $x = (uint8)comm; }\n"
        "                    ^~~~"),
    "builtin_called_with_arguments": (
        "BEGIN { @x = pid(1); }",
        "t.pt:1:14: error: pid is a builtin variable and takes no arguments: write pid or pid()\n"
        "BEGIN { @x = pid(1); }\n"
        "             ^~~~~~"),
    "call_without_value": (
        'BEGIN { $x = printf("a"); }',
        "t.pt:1:14: error: printf() does not return a value\n"
        'BEGIN { $x = printf("a"); }\n'
        "             ^~~~~~~~~~~"),
}

# Map keys and values, map declarations and the functions on whole maps.
MAPS = {
    "key_timestamp": (
        'BEGIN { @x[strftime("%H", nsecs)] = 1; }',
        "t.pt:1:12: error: a map key must be an integer or a string, not timestamp\n"
        'BEGIN { @x[strftime("%H", nsecs)] = 1; }\n'
        "           ^~~~~~~~~~~~~~~~~~~~~"),
    "read_never_assigned": (
        "BEGIN { @x = @y; }",
        "t.pt:1:14: error: map @y is read but never assigned\n"
        "BEGIN { @x = @y; }\n"
        "             ^~"),
    "lhist_min_above_max": (
        "BEGIN { @x = lhist(1, 10, 0, 1); }",
        "t.pt:1:14: error: lhist() min must be less than max (provided min 10 and max 0)\n"
        "BEGIN { @x = lhist(1, 10, 0, 1); }\n"
        "             ^~~~~~~~~~~~~~~~~~"),
    "aggregation_compound_assign": (
        "BEGIN { @x += count(); }",
        "t.pt:1:9: error: count() cannot be used with '+='; write @x = count(...)\n"
        "BEGIN { @x += count(); }\n"
        "        ^~~~~~~~~~~~~"),
    "declared_size_zero": (
        "let @m = hash(0); BEGIN { @m[1] = 1; }",
        "t.pt:1:1: error: hash() takes the number of keys the map holds, as in hash(1024)\n"
        "let @m = hash(0); BEGIN { @m[1] = 1; }\n"
        "^~~~~~~~~~~~~~~~~"),
    "declared_twice": (
        "let @m = hash(8); let @m = lruhash(8); BEGIN { @m[1] = 1; }",
        "t.pt:1:19: error: @m is declared twice\n"
        "let @m = hash(8); let @m = lruhash(8); BEGIN { @m[1] = 1; }\n"
        "                  ^~~~~~~~~~~~~~~~~~~~"),
    "print_no_arguments": (
        "BEGIN { print(); }",
        "t.pt:1:9: error: print() takes 1 to 3 arguments, got 0\n"
        "BEGIN { print(); }\n"
        "        ^~~~~~~"),
    "print_negative_top": (
        "BEGIN { @x = 1; print(@x, -1); }",
        "t.pt:1:27: error: the top given to print() must not be negative\n"
        "BEGIN { @x = 1; print(@x, -1); }\n"
        "                          ^~"),
    "print_negative_div": (
        "BEGIN { @x = 1; print(@x, 1, -2); }",
        "t.pt:1:30: error: the div given to print() must not be negative\n"
        "BEGIN { @x = 1; print(@x, 1, -2); }\n"
        "                             ^~"),
    "print_args": (
        "tracepoint:sched:sched_switch { print(args); }",
        "t.pt:1:39: error: print() cannot print args\n"
        "tracepoint:sched:sched_switch { print(args); }\n"
        "                                      ^~~~"),
    "clear_no_arguments": (
        "BEGIN { clear(); }",
        "t.pt:1:9: error: clear() takes 1 argument, got 0\n"
        "BEGIN { clear(); }\n"
        "        ^~~~~~~"),
    "len_no_arguments": (
        "BEGIN { @x = len(); }",
        "t.pt:1:14: error: len() takes 1 argument, got 0\n"
        "BEGIN { @x = len(); }\n"
        "             ^~~~~"),
    "len_never_assigned": (
        "BEGIN { @x = len(@y); }",
        "t.pt:1:18: error: map @y is given to len() but never assigned\n"
        "BEGIN { @x = len(@y); }\n"
        "                 ^~"),
    "delete_as_a_value": (
        "BEGIN { @x = 1; @y = delete(@x[1], 2); }",
        "t.pt:1:22: error: delete() takes a map element: delete(@x[key]) or delete(@x, key)\n"
        "BEGIN { @x = 1; @y = delete(@x[1], 2); }\n"
        "                     ^~~~~~~~~~~~~~~~\n"
        "t.pt:1:22: error: delete() does not return a value\n"
        "BEGIN { @x = 1; @y = delete(@x[1], 2); }\n"
        "                     ^~~~~~~~~~~~~~~~"),
}

# while, unroll and for loops.
LOOPS = {
    "continue_outside_loop": (
        "BEGIN { continue; }",
        "t.pt:1:9: error: continue is only allowed in a loop (while, for, unroll)\n"
        "BEGIN { continue; }\n"
        "        ^~~~~~~~"),
    "while_condition_string": (
        "BEGIN { while (comm) { } }",
        "t.pt:1:16: error: a while condition must be an integer, not string[16]\n"
        "BEGIN { while (comm) { } }\n"
        "               ^~~~"),
    "unroll_count_not_literal": (
        "BEGIN { unroll(pid) { } }",
        "t.pt:1:16: error: the count given to unroll must be an integer literal\n"
        "BEGIN { unroll(pid) { } }\n"
        "               ^~~"),
    "for_range_bound_string": (
        "BEGIN { for ($i : 0..comm) { } }",
        "t.pt:1:22: error: a bound of a for range must be an integer, not string[16]\n"
        "BEGIN { for ($i : 0..comm) { } }\n"
        "                     ^~~~"),
    "for_range_variable_string": (
        'BEGIN { $i = "a"; for ($i : 0..3) { } }',
        "t.pt:1:19: error: $i holds string[2]; a for range counts integers\n"
        'BEGIN { $i = "a"; for ($i : 0..3) { } }\n'
        "                  ^~~~~~~~~~~~~~~~~~~"),
}

# Builtin functions, by name: their arguments.
FUNCTIONS = {
    "str_no_arguments": (
        "BEGIN { @x = str(); }",
        "t.pt:1:14: error: str() takes 1 or 2 arguments, got 0\n"
        "BEGIN { @x = str(); }\n"
        "             ^~~~~"),
    "str_of_tuple": (
        "BEGIN { @x = str((1, 2)); }",
        "t.pt:1:18: error: str() reads a string from an address, not from (int64, int64)\n"
        "BEGIN { @x = str((1, 2)); }\n"
        "                 ^~~~~~"),
    "str_length_not_literal": (
        "BEGIN { @x = str(0, pid); }",
        "t.pt:1:21: error: the length given to str() must be a number from 1 to 64\n"
        "BEGIN { @x = str(0, pid); }\n"
        "                    ^~~\n"
        "hint: max_strlen (config, or BPFTRACE_MAX_STRLEN) sets the longest string"),
    "str_of_param_length_not_literal": (
        "BEGIN { @x = str($1, pid); }",
        "t.pt:1:22: error: the length given to str() must be an integer literal\n"
        "BEGIN { @x = str($1, pid); }\n"
        "                     ^~~"),
    "str_of_param_zero": (
        "BEGIN { @x = str($0); }",
        "t.pt:1:18: error: there is no $0: positional parameters count from $1\n"
        "BEGIN { @x = str($0); }\n"
        "                 ^~"),
    "bswap_string": (
        "BEGIN { @x = bswap(comm); }",
        "t.pt:1:20: error: bswap()'s argument must be an integer, not string[16]\n"
        "BEGIN { @x = bswap(comm); }\n"
        "                   ^~~~"),
    "strncmp_negative_length": (
        'BEGIN { @x = strncmp(comm, "a", -1); }',
        "t.pt:1:33: error: strncmp()'s length must not be negative\n"
        'BEGIN { @x = strncmp(comm, "a", -1); }\n'
        "                                ^~"),
    "strncmp_length_not_literal": (
        'BEGIN { @x = strncmp(comm, "a", pid); }',
        "t.pt:1:33: error: strncmp()'s length must be an integer literal\n"
        'BEGIN { @x = strncmp(comm, "a", pid); }\n'
        "                                ^~~"),
    "strncmp_second_not_string": (
        "BEGIN { @x = strncmp(comm, 1, 2); }",
        "t.pt:1:28: error: strncmp()'s second argument must be a string, not int64\n"
        "BEGIN { @x = strncmp(comm, 1, 2); }\n"
        "                           ^"),
    "strcontains_needle_not_string": (
        "BEGIN { @x = strcontains(comm, 5); }",
        "t.pt:1:32: error: strcontains()'s needle must be a string, not int64\n"
        "BEGIN { @x = strcontains(comm, 5); }\n"
        "                               ^"),
    "strlen_not_string": (
        "BEGIN { @x = strlen(1); }",
        "t.pt:1:21: error: strlen()'s argument must be a string, not int64\n"
        "BEGIN { @x = strlen(1); }\n"
        "                    ^"),
    "buf_without_length": (
        "BEGIN { @x = buf(1); }",
        "t.pt:1:18: error: buf() of int64 needs a length: buf(p, n)\n"
        "BEGIN { @x = buf(1); }\n"
        "                 ^"),
    "buf_of_tuple": (
        "BEGIN { @x = buf((1, 2), 4); }",
        "t.pt:1:18: error: buf() reads from an address, not from (int64, int64)\n"
        "BEGIN { @x = buf((1, 2), 4); }\n"
        "                 ^~~~~~"),
    "buf_negative_length": (
        "BEGIN { @x = buf(0, -1); }",
        "t.pt:1:21: error: buf()'s length must not be negative\n"
        "BEGIN { @x = buf(0, -1); }\n"
        "                    ^~"),
    "buf_length_string": (
        "BEGIN { @x = buf(0, comm); }",
        "t.pt:1:21: error: buf()'s length must be an integer, not string[16]\n"
        "BEGIN { @x = buf(0, comm); }\n"
        "                    ^~~~"),
    "ntop_more_than_16_bytes": (
        "BEGIN { @x = ntop(buf(0, 20)); }",
        "t.pt:1:19: error: ntop() takes at most 16 bytes (an IPv6 address), not 20\n"
        "BEGIN { @x = ntop(buf(0, 20)); }\n"
        "                  ^~~~~~~~~~"),
    "ntop_of_tuple": (
        "BEGIN { @x = ntop((1, 2)); }",
        "t.pt:1:19: error: ntop() takes bytes (an array, a buf() or a string), not (int64, int64)\n"
        "BEGIN { @x = ntop((1, 2)); }\n"
        "                  ^~~~~~"),
    "ntop_family_string": (
        "BEGIN { @x = ntop(comm, 0); }",
        "t.pt:1:19: error: ntop()'s address family must be an integer, not string[16]\n"
        "BEGIN { @x = ntop(comm, 0); }\n"
        "                  ^~~~"),
    "pton_not_literal": (
        "BEGIN { @x = pton(comm); }",
        "t.pt:1:19: error: pton() takes an address as a string literal\n"
        "BEGIN { @x = pton(comm); }\n"
        "                  ^~~~"),
    "pton_bad_address": (
        'BEGIN { @x = pton("1.2.3"); }',
        't.pt:1:19: error: "1.2.3" is not an IPv4 or IPv6 address\n'
        'BEGIN { @x = pton("1.2.3"); }\n'
        "                  ^~~~~~~"),
    "macaddr_too_short": (
        'BEGIN { @x = macaddr("ab"); }',
        "t.pt:1:22: error: macaddr() needs 6 bytes, and buffer[3] has 3\n"
        'BEGIN { @x = macaddr("ab"); }\n'
        "                     ^~~~"),
    "macaddr_of_integer": (
        "BEGIN { @x = macaddr(1); }",
        "t.pt:1:22: error: macaddr() takes bytes (an array, a buf() or a string), not int64\n"
        "BEGIN { @x = macaddr(1); }\n"
        "                     ^"),
    "strerror_string": (
        "BEGIN { @x = strerror(comm); }",
        "t.pt:1:23: error: strerror()'s error number must be an integer, not string[16]\n"
        "BEGIN { @x = strerror(comm); }\n"
        "                      ^~~~"),
    "syscall_name_string": (
        "BEGIN { @x = syscall_name(comm); }",
        "t.pt:1:27: error: syscall_name()'s system call number must be an integer, not string[16]\n"
        "BEGIN { @x = syscall_name(comm); }\n"
        "                          ^~~~"),
    "cgroup_path_filter_not_literal": (
        "BEGIN { @x = cgroup_path(cgroup, 1); }",
        "t.pt:1:34: error: cgroup_path()'s filter must be a string literal\n"
        "BEGIN { @x = cgroup_path(cgroup, 1); }\n"
        "                                 ^"),
    "cgroup_path_id_string": (
        "BEGIN { @x = cgroup_path(comm); }",
        "t.pt:1:26: error: cgroup_path()'s cgroup id must be an integer, not string[16]\n"
        "BEGIN { @x = cgroup_path(comm); }\n"
        "                         ^~~~"),
    "kptr_string": (
        "BEGIN { @x = kptr(comm); }",
        "t.pt:1:19: error: kptr()'s argument must be an integer, not string[16]\n"
        "BEGIN { @x = kptr(comm); }\n"
        "                  ^~~~"),
    "printf_format_not_literal": (
        "BEGIN { printf(comm); }",
        "t.pt:1:9: error: printf() needs a format string literal as its first argument\n"
        "BEGIN { printf(comm); }\n"
        "        ^~~~~~~~~~~~"),
    "errorf_too_few_arguments": (
        'BEGIN { errorf("%d\\n"); }',
        "t.pt:1:9: error: errorf format expects 1 argument, but 0 were given\n"
        'BEGIN { errorf("%d\\n"); }\n'
        "        ^~~~~~~~~~~~~~"),
    "printf_r_needs_buffer": (
        'BEGIN { printf("%r\\n", 1); }',
        "t.pt:1:24: error: printf %r needs a buffer, not int64\n"
        'BEGIN { printf("%r\\n", 1); }\n'
        "                       ^\n"
        "hint: read one with buf(address, length)"),
    "printf_d_of_tuple": (
        'BEGIN { printf("%d\\n", (1, 2)); }',
        "t.pt:1:24: error: printf %d needs an integer, not (int64, int64)\n"
        'BEGIN { printf("%d\\n", (1, 2)); }\n'
        "                       ^~~~~~"),
    "printf_format_ends_in_conversion": (
        'BEGIN { printf("%"); }',
        "t.pt:1:16: error: printf format ends in the middle of a conversion\n"
        'BEGIN { printf("%"); }\n'
        "               ^~~\n"
        "hint: supported: %d %i %u %x %X %o %s %c %p %r %rx %rh %%, with - + space # 0, a width, .precision and hh "
        "h l ll j z t"),
    "join_separator_not_literal": (
        "BEGIN { join(1, 2); }",
        "t.pt:1:9: error: join() takes an array of strings and an optional separator literal, as in "
        'join(args->argv, ",")\n'
        "BEGIN { join(1, 2); }\n"
        "        ^~~~~~~~~~"),
    "join_string": (
        "BEGIN { join(comm); }",
        "t.pt:1:14: error: the array given to join() must be an integer, not string[16]\n"
        "BEGIN { join(comm); }\n"
        "             ^~~~"),
    "ksym_arity": (
        "BEGIN { @x = ksym(); }",
        "t.pt:1:14: error: ksym() takes 1 argument, an address, got 0\n"
        "BEGIN { @x = ksym(); }\n"
        "             ^~~~~~"),
    "usym_string": (
        "BEGIN { @x = usym(comm); }",
        "t.pt:1:19: error: the address given to usym() must be an integer, not string[16]\n"
        "BEGIN { @x = usym(comm); }\n"
        "                  ^~~~"),
    "kaddr_not_literal": (
        "BEGIN { @x = kaddr(1); }",
        't.pt:1:14: error: kaddr() takes a symbol name as a string literal, as in kaddr("name")\n'
        "BEGIN { @x = kaddr(1); }\n"
        "             ^~~~~~~~"),
    "exit_code_string": (
        "BEGIN { exit(comm); }",
        "t.pt:1:14: error: exit()'s code must be an integer, not string[16]\n"
        "BEGIN { exit(comm); }\n"
        "             ^~~~"),
    "nsecs_arity": (
        "BEGIN { @x = nsecs(1, 2); }",
        "t.pt:1:14: error: nsecs() takes at most 1 argument, got 2\n"
        "BEGIN { @x = nsecs(1, 2); }\n"
        "             ^~~~~~~~~~~\n"
        "hint: call it as nsecs(monotonic), nsecs(boot), nsecs(tai) or nsecs(sw_tai)"),
    "getopt_name_not_literal": (
        "BEGIN { @x = getopt(depth); }",
        "t.pt:1:21: error: getopt() takes the option's name as a string literal\n"
        "BEGIN { @x = getopt(depth); }\n"
        "                    ^~~~~"),
    "getopt_default_not_literal": (
        'BEGIN { @x = getopt("depth", pid); }',
        "t.pt:1:30: error: getopt()'s default must be a literal: true, false, a number or a string\n"
        'BEGIN { @x = getopt("depth", pid); }\n'
        "                             ^~~"),
    "cgroupid_not_literal": (
        "BEGIN { @x = cgroupid(1); }",
        "t.pt:1:23: error: cgroupid() takes the cgroup's path as a string literal\n"
        "BEGIN { @x = cgroupid(1); }\n"
        "                      ^"),
    "assert_condition_string": (
        'BEGIN { assert(comm, "bad"); }',
        "t.pt:1:16: error: assert()'s condition must be an integer, not string[16]\n"
        'BEGIN { assert(comm, "bad"); }\n'
        "               ^~~~"),
    "assert_message_not_string": (
        "BEGIN { assert(pid, 2); }",
        "t.pt:1:21: error: assert()'s message must be a string, not int64\n"
        "BEGIN { assert(pid, 2); }\n"
        "                    ^"),
    "reg_outside_kprobe": (
        'BEGIN { @x = reg("ip"); }',
        "t.pt:1:14: error: reg() is not available in a BEGIN probe\n"
        'BEGIN { @x = reg("ip"); }\n'
        "             ^~~~~~~~~\n"
        "hint: only kprobes and uprobes have registers"),
}

# Builtin variables and probe arguments, which depend on the probe.
BUILTINS = {
    "sarg_in_begin": (
        "BEGIN { @x = sarg0; }",
        "t.pt:1:14: error: sarg0 is not available in a BEGIN probe\n"
        "BEGIN { @x = sarg0; }\n"
        "             ^~~~~\n"
        "hint: sarg0, sarg1, ... read the stack of a uprobe or kprobe"),
    "arg_in_begin": (
        "BEGIN { @x = arg0; }",
        "t.pt:1:14: error: arg0 is not available in a BEGIN probe\n"
        "BEGIN { @x = arg0; }\n"
        "             ^~~~"),
    "positional_zero": (
        "BEGIN { @x = $0; }",
        "t.pt:1:14: error: there is no $0: positional parameters count from $1\n"
        "BEGIN { @x = $0; }\n"
        "             ^~"),
    "tracepoint_field_misspelt": (
        "tracepoint:sched:sched_process_exec { @x = args.pidd; }",
        "t.pt:1:44: error: tracepoint:sched:sched_process_exec has no field 'pidd'\n"
        "tracepoint:sched:sched_process_exec { @x = args.pidd; }\n"
        "                                           ^~~~~~~~~\n"
        "hint: did you mean 'pid'?"),
    "tracepoint_common_field": (
        "tracepoint:sched:sched_process_exec { @x = args.common_pid; }",
        "t.pt:1:44: error: tracepoint:sched:sched_process_exec has no field 'common_pid'\n"
        "tracepoint:sched:sched_process_exec { @x = args.common_pid; }\n"
        "                                           ^~~~~~~~~~~~~~~\n"
        "hint: the common_ fields are the record's header, not its arguments: read pid, tid, cpu instead"),
    "fentry_variadic_argument": (
        "fentry:_printk { @x = args.arg1; }",
        "t.pt:1:23: error: pytrace cannot read argument arg1 of fentry:_printk yet\n"
        "fentry:_printk { @x = args.arg1; }\n"
        "                      ^~~~~~~~~"),
}

# Struct definitions, struct casts, members and offsetof.
STRUCTS = {
    "struct_defined_twice": (
        "struct s { int a; } struct s { int b; } BEGIN { }",
        "t.pt:1:21: error: struct s is defined twice\n"
        "struct s { int a; } struct s { int b; } BEGIN { }\n"
        "                    ^~~~~~~~~~~~~~~~~~~"),
    "struct_not_defined_in_cast": (
        "BEGIN { $x = (struct nope *)0; }",
        "t.pt:1:14: error: struct nope is not defined in the script nor in the kernel's BTF\n"
        "BEGIN { $x = (struct nope *)0; }\n"
        "             ^~~~~~~~~~~~~~~~\n"
        "hint: define it before the probes, as in C: struct nope { int x; }; (defined: none)"),
    "struct_member_misspelt": (
        "struct s { int count; } BEGIN { $p = (struct s *)0; @x = $p->cuont; }",
        "t.pt:1:58: error: struct s has no member 'cuont'\n"
        "struct s { int count; } BEGIN { $p = (struct s *)0; @x = $p->cuont; }\n"
        "                                                         ^~~~~~~~~\n"
        "hint: did you mean 'count'?"),
    "arrow_on_a_struct": (
        "struct p { int x; } struct s { struct p in; } BEGIN { $s = (struct s *)0; @x = $s->in->x; }",
        "t.pt:1:80: error: struct p is not a pointer: write .x\n"
        "struct p { int x; } struct s { struct p in; } BEGIN { $s = (struct s *)0; @x = $s->in->x; }\n"
        "                                                                               ^~~~~~~~~"),
    "arrow_on_an_int_pointer": (
        "BEGIN { $p = (int32 *)0; @x = $p->x; }",
        "t.pt:1:31: error: int32 * has no fields\n"
        "BEGIN { $p = (int32 *)0; @x = $p->x; }\n"
        "                              ^~~~~"),
    "offsetof_no_member": (
        "struct s { int a; } BEGIN { @x = offsetof(struct s, b); }",
        "t.pt:1:34: error: struct s has no member 'b'\n"
        "struct s { int a; } BEGIN { @x = offsetof(struct s, b); }\n"
        "                                 ^~~~~~~~~~~~~~~~~~~~~"),
}

# Attach points (sema/probes.py), resolved on this machine.
PROBES = {
    "nothing_attaches": (
        "config = { missing_probes = ignore } kprobe:no_such_function_xyz { }",
        "t.pt:1:38: error: no probe attaches to anything: every attach point is missing\n"
        "config = { missing_probes = ignore } kprobe:no_such_function_xyz { }\n"
        "                                     ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"),
    "tracepoint_without_name": (
        "tracepoint:sched { }",
        "t.pt:1:1: error: invalid tracepoint 'tracepoint:sched': expected tracepoint:CATEGORY:NAME\n"
        "tracepoint:sched { }\n"
        "^~~~~~~~~~~~~~~~"),
    "watchpoint_bad_address": (
        "watchpoint:zz:8:w { }",
        "t.pt:1:1: error: invalid watchpoint 'watchpoint:zz:8:w': expected watchpoint:ADDRESS:LENGTH:MODE\n"
        "watchpoint:zz:8:w { }\n"
        "^~~~~~~~~~~~~~~~~\n"
        "hint: ADDRESS and LENGTH are numbers, as in watchpoint:0x404028:8:w"),
    "rawtracepoint_without_event": (
        "rawtracepoint: { }",
        "t.pt:1:1: error: invalid raw tracepoint 'rawtracepoint:': expected rawtracepoint:EVENT\n"
        "rawtracepoint: { }\n"
        "^~~~~~~~~~~~~~"),
    "kprobe_without_function": (
        "kprobe: { }",
        "t.pt:1:1: error: invalid kprobe 'kprobe:': expected kprobe:FUNCTION\n"
        "kprobe: { }\n"
        "^~~~~~~"),
    "kprobe_bad_offset": (
        "kprobe:vfs_read+abc { }",
        "t.pt:1:1: error: invalid kprobe 'kprobe:vfs_read+abc': the offset must be a number\n"
        "kprobe:vfs_read+abc { }\n"
        "^~~~~~~~~~~~~~~~~~~"),
    "usdt_without_name": (
        "usdt:/bin/sh { }",
        "t.pt:1:1: error: invalid usdt probe 'usdt:/bin/sh': expected usdt:BINARY:[PROVIDER:]NAME\n"
        "usdt:/bin/sh { }\n"
        "^~~~~~~~~~~~"),
    "usdt_binary_not_found": (
        "usdt:/nonexistent/bin:p:n { }",
        "t.pt:1:1: error: binary not found: /nonexistent/bin\n"
        "usdt:/nonexistent/bin:p:n { }\n"
        "^~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "hint: give its path, the name of a program in PATH, or a library's name (libc)"),
    "usdt_not_elf": (
        "usdt:/etc/passwd:p:n { }",
        "t.pt:1:1: error: cannot use usdt 'usdt:/etc/passwd:p:n': cannot read the USDT probes of /etc/passwd\n"
        "usdt:/etc/passwd:p:n { }\n"
        "^~~~~~~~~~~~~~~~~~~~"),
    "uprobe_not_elf": (
        "uprobe:/etc/passwd:main { }",
        "t.pt:1:1: error: function not found: main in /etc/passwd\n"
        "uprobe:/etc/passwd:main { }\n"
        "^~~~~~~~~~~~~~~~~~~~~~~\n"
        "hint: list its functions with: pytrace -l 'uprobe:/etc/passwd:*'"),
    "uprobe_bad_address": (
        "uprobe:/bin/sh:0xzz { }",
        "t.pt:1:1: error: invalid address '0xzz' in uprobe:/bin/sh:0xzz\n"
        "uprobe:/bin/sh:0xzz { }\n"
        "^~~~~~~~~~~~~~~~~~~"),
    "uprobe_bad_offset": (
        "uprobe:/bin/sh:main+zz { }",
        "t.pt:1:1: error: invalid offset 'zz' in uprobe:/bin/sh:main+zz: expected a number\n"
        "uprobe:/bin/sh:main+zz { }\n"
        "^~~~~~~~~~~~~~~~~~~~~~"),
    "uretprobe_address_not_found": (
        "uretprobe:/bin/sh:0x10 { }",
        "t.pt:1:1: error: cannot use uretprobe 'uretprobe:/bin/sh:0x10': cannot find 0x10 in /bin/sh\n"
        "uretprobe:/bin/sh:0x10 { }\n"
        "^~~~~~~~~~~~~~~~~~~~~~"),
}

# The config block's values (settings.py), reported at the item.
CONFIG = {
    "not_a_number": (
        "config = { max_strlen = abc } BEGIN { }",
        "t.pt:1:12: error: max_strlen must be a number, not 'abc'\n"
        "config = { max_strlen = abc } BEGIN { }\n"
        "           ^~~~~~~~~~~~~~~~"),
    "number_out_of_range": (
        "config = { max_strlen = 0 } BEGIN { }",
        "t.pt:1:12: error: max_strlen must be from 1 to 8192, not 0\n"
        "config = { max_strlen = 0 } BEGIN { }\n"
        "           ^~~~~~~~~~~~~~"),
    "number_below_minimum": (
        "config = { max_map_keys = 0 } BEGIN { }",
        "t.pt:1:12: error: max_map_keys must be at least 1, not 0\n"
        "config = { max_map_keys = 0 } BEGIN { }\n"
        "           ^~~~~~~~~~~~~~~~"),
    "not_a_flag": (
        "config = { print_maps_on_exit = maybe } BEGIN { }",
        "t.pt:1:12: error: print_maps_on_exit must be 0 or 1 (or true or false), not 'maybe'\n"
        "config = { print_maps_on_exit = maybe } BEGIN { }\n"
        "           ^~~~~~~~~~~~~~~~~~~~~~~~~~"),
    "environment_spelling": (
        "config = { BPFTRACE_MAX_STRLEN = 99999 } BEGIN { }",
        "t.pt:1:12: error: BPFTRACE_MAX_STRLEN must be from 1 to 8192, not 99999\n"
        "config = { BPFTRACE_MAX_STRLEN = 99999 } BEGIN { }\n"
        "           ^~~~~~~~~~~~~~~~~~~~~~~~~~~"),
}

# Macro definitions and calls (macros.py).
MACROS = {
    "defined_twice": (
        "macro f(x) { x } macro f(y) { y } BEGIN { @x = f(1); }",
        "t.pt:1:18: error: macro f is defined twice\n"
        "macro f(x) { x } macro f(y) { y } BEGIN { @x = f(1); }\n"
        "                 ^~~~~~~~~~~~~~~~"),
    "map_parameter_given_element": (
        "macro f(@m) { @m } BEGIN { @y[1] = 1; @x = f(@y[1]); }",
        "t.pt:1:46: error: macro f's parameter @m takes a map, as in f(@m)\n"
        "macro f(@m) { @m } BEGIN { @y[1] = 1; @x = f(@y[1]); }\n"
        "                                             ^~~~~"),
}

# Syntax errors whose wording tests/parser does not show yet.
SYNTAX = {
    "config_item_without_value": (
        "config = { max_strlen } BEGIN { }",
        't.pt:1:23: error: syntax error: unexpected "}", expected an operator\n'
        "config = { max_strlen } BEGIN { }\n"
        "                      ^"),
    "offsetof_of_a_number": (
        "BEGIN { @x = offsetof(1, 2); }",
        't.pt:1:23: error: syntax error: unexpected number "1", expected "string" or an expression\n'
        "BEGIN { @x = offsetof(1, 2); }\n"
        "                      ^"),
    "let_of_enum_type": (
        "BEGIN { let $x: enum color; }",
        't.pt:1:17: error: syntax error: unexpected "enum", expected "string" or an expression\n'
        "BEGIN { let $x: enum color; }\n"
        "                ^~~~"),
    "map_declaration_without_kind": (
        "let @m = ; BEGIN { }",
        't.pt:1:10: error: syntax error: unexpected ";", expected an identifier\n'
        "let @m = ; BEGIN { }\n"
        "         ^"),
}


@cases(TYPES)
def test_types_and_operators(text, expected):
    assert rendered(text) == expected


@cases(MAPS)
def test_maps(text, expected):
    assert rendered(text) == expected


@cases(LOOPS)
def test_loops(text, expected):
    assert rendered(text) == expected


@cases(FUNCTIONS)
def test_functions(text, expected):
    assert rendered(text) == expected


@cases(BUILTINS)
def test_builtins(text, expected):
    assert rendered(text) == expected


@cases(STRUCTS)
def test_structs(text, expected):
    assert rendered(text) == expected


@cases(PROBES)
def test_attach_points(text, expected):
    assert rendered(text) == expected


@cases(CONFIG)
def test_config(text, expected):
    assert rendered(text) == expected


@cases(MACROS)
def test_macros(text, expected):
    assert rendered(text) == expected


@cases(SYNTAX)
def test_syntax(text, expected):
    assert rendered(text) == expected


# Positional parameters and script options: (parameters, script, rendered).
PARAMS = {
    "attach_point_parameter_missing": (
        ("a", "b"),
        "uprobe:$3:main { }",
        "t.pt:1:1: error: attach point uprobe:$3:main uses $3, but 2 positional parameters were given\n"
        "uprobe:$3:main { }\n"
        "^~~~~~~~~~~~~~\n"
        "hint: give it after the script: pytrace script.pt ARG1 ARG2 ..."),
    "attach_point_parameter_missing_one_given": (
        ("a",),
        "kprobe:$2 { }",
        "t.pt:1:1: error: attach point kprobe:$2 uses $2, but 1 positional parameter was given\n"
        "kprobe:$2 { }\n"
        "^~~~~~~~~\n"
        "hint: give it after the script: pytrace script.pt ARG1 ARG2 ..."),
    "getopt_number_not_given": (
        ("--depth=x",),
        'BEGIN { @x = getopt("depth", 3); }',
        "t.pt:1:14: error: option --depth takes a number: --depth=N\n"
        'BEGIN { @x = getopt("depth", 3); }\n'
        "             ^~~~~~~~~~~~~~~~~~"),
}

# Functions allowed only with --unsafe, given it.
UNSAFE = {
    "signal_unknown_name": (
        'BEGIN { signal("SIGFOO"); }',
        "t.pt:1:16: error: SIGFOO is not a signal\n"
        'BEGIN { signal("SIGFOO"); }\n'
        "               ^~~~~~~~\n"
        'hint: as in signal("SIGUSR1") or signal(10)'),
    "signal_builtin_name": (
        "BEGIN { signal(comm); }",
        "t.pt:1:16: error: comm is not a signal\n"
        "BEGIN { signal(comm); }\n"
        "               ^~~~\n"
        'hint: as in signal("SIGUSR1") or signal(10)'),
}

# Messages that list x86_64's registers.
X86_64 = {
    "reg_unknown_register": (
        'kprobe:vfs_read { @x = reg("nope"); }',
        "t.pt:1:28: error: unknown register 'nope'\n"
        'kprobe:vfs_read { @x = reg("nope"); }\n'
        "                           ^~~~~~\n"
        "hint: x86_64 has r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, "
        "flags, sp, ss"),
}


@pytest.mark.parametrize("params, text, expected", list(PARAMS.values()), ids=list(PARAMS))
def test_positional_parameters(params, text, expected):
    assert rendered(text, params=params) == expected


@cases(UNSAFE)
def test_unsafe_functions(text, expected):
    assert rendered(text, unsafe=True) == expected


@pytest.mark.skipif(platform.machine() != "x86_64", reason="names x86_64's registers")
@cases(X86_64)
def test_x86_64(text, expected):
    assert rendered(text) == expected


PROGRAM = r"""
double half(double x) { return x / 2; }
int nine(int a, int b, int c, int d, int e, int f, int g, int h, int i) { return a + b + c + d + e + f + g + h + i; }
int main(void) { return (int)half(2) + nine(1, 2, 3, 4, 5, 6, 7, 8, 9); }
"""

# Probes on `prog` (PROGRAM, built here): PROG in a message is its absolute path.
BINARY = {
    "uprobe_argument_unreadable": (
        "uprobe:./prog:half { @x = args.x; }",
        "t.pt:1:27: error: pytrace cannot read argument x of uprobe:./prog:half yet\n"
        "uprobe:./prog:half { @x = args.x; }\n"
        "                          ^~~~~~"),
    "uprobe_argument_on_stack": (
        "uprobe:./prog:nine { @x = args.i; }",
        "t.pt:1:27: error: argument i of uprobe:./prog:nine is passed on the stack, which pytrace cannot read by "
        "name yet\n"
        "uprobe:./prog:nine { @x = args.i; }\n"
        "                          ^~~~~~\n"
        "hint: read it with sargN"),
    "uaddr_unknown_symbol": (
        'uprobe:./prog:nine { @x = uaddr("nope"); }',
        "t.pt:1:33: error: symbol not found in PROG: nope\n"
        'uprobe:./prog:nine { @x = uaddr("nope"); }\n'
        "                                ^~~~~~"),
}


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    """A folder holding `prog`, PROGRAM built with DWARF (-g)."""
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("gcc not found (scripts/setup.sh --test installs it)")
    folder = tmp_path_factory.mktemp("error_messages")
    (folder / "prog.c").write_text(PROGRAM)
    subprocess.run([compiler, "-g", "-O0", "-o", str(folder / "prog"), str(folder / "prog.c")], check=True)
    return folder


@cases(BINARY)
def test_probes_on_a_binary(text, expected, program_dir, monkeypatch):
    monkeypatch.chdir(program_dir)
    assert rendered(text) == expected.replace("PROG", str(program_dir / "prog"))


# What this machine could not tell pytrace, made to fail: (what fails, its error, script, rendered).
UNREADABLE = {
    "kallsyms_for_a_kprobe": (
        "pytrace.sema.probes.kernel_symbols",
        PermissionError(13, "Permission denied"),
        "kprobe:vfs_read { }",
        "t.pt:1:1: error: cannot read the kernel's symbols: Permission denied\n"
        "kprobe:vfs_read { }\n"
        "^~~~~~~~~~~~~~~"),
    "kallsyms_for_kaddr": (
        "pytrace.sema.probes.kernel_symbols",
        PermissionError(13, "Permission denied"),
        'BEGIN { @x = kaddr("vfs_read"); }',
        "t.pt:1:14: error: cannot read the kernel's symbols: Permission denied\n"
        'BEGIN { @x = kaddr("vfs_read"); }\n'
        "             ^~~~~~~~~~~~~~~~~"),
    "tracefs": (
        "pytrace.tracefs.root",
        tracefs.TracefsError("tracefs is not mounted at /sys/kernel/tracing"),
        "tracepoint:sched:sched_switch { }",
        "t.pt:1:1: error: cannot read tracepoints: tracefs is not mounted at /sys/kernel/tracing\n"
        "tracepoint:sched:sched_switch { }\n"
        "^~~~~~~~~~~~~~~~~~~~~~~~~~~~~"),
    "btf_for_a_raw_tracepoint": (
        "pytrace.btf.raw_tracepoint_args",
        btf.BtfError("cannot read /sys/kernel/btf/vmlinux: No such file or directory"),
        "rawtracepoint:sched_switch { }",
        "t.pt:1:1: error: cannot check raw tracepoint sched_switch: cannot read /sys/kernel/btf/vmlinux: No such "
        "file or directory\n"
        "rawtracepoint:sched_switch { }\n"
        "^~~~~~~~~~~~~~~~~~~~~~~~~~"),
    "btf_for_fentry": (
        "pytrace.btf.func_args",
        btf.BtfError("cannot read /sys/kernel/btf/vmlinux: No such file or directory"),
        "fentry:vfs_read { }",
        "t.pt:1:1: error: cannot check fentry:vfs_read: cannot read /sys/kernel/btf/vmlinux: No such file or "
        "directory\n"
        "fentry:vfs_read { }\n"
        "^~~~~~~~~~~~~~~"),
    "libbcc_for_a_uprobe": (
        "pytrace.symbols.find_binary",
        symbols.SymbolError("cannot open bcc's libbcc.so.0; install python3-bpfcc"),
        "uprobe:/bin/sh:main { }",
        "t.pt:1:1: error: cannot use uprobe 'uprobe:/bin/sh:main': cannot open bcc's libbcc.so.0; install "
        "python3-bpfcc\n"
        "uprobe:/bin/sh:main { }\n"
        "^~~~~~~~~~~~~~~~~~~"),
}


@pytest.mark.parametrize("where, error, text, expected", list(UNREADABLE.values()), ids=list(UNREADABLE))
def test_unreadable_system_information(where, error, text, expected, monkeypatch):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(where, fail)
    assert rendered(text) == expected


@pytest.mark.parametrize("variable, value, expected", [
    ("BPFTRACE_MAX_STRLEN", "abc", "BPFTRACE_MAX_STRLEN must be a number, not 'abc'"),
    ("BPFTRACE_STACK_MODE", "fancy", "BPFTRACE_STACK_MODE must be one of bpftrace, perf, raw, not 'fancy'"),
])
def test_bad_environment_settings(variable, value, expected, monkeypatch):
    """A compile setting's environment variable is read before any script:
    a bad value is a one-line UserError, not a diagnostic."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError) as failure:
        CompileOptions(use_cache=False)
    assert str(failure.value) == expected


def test_a_probe_over_the_stack_limit():
    """100 values live across helper calls spill to the stack; how many
    bytes that takes depends on LLVM's register allocator, so the number is
    left out of the comparison."""
    names = [f"$v{i}" for i in range(100)]
    text = ("BEGIN\n{\n" + "".join(f"    {name} = nsecs;\n" for name in names)
            + f'    printf("{"%d " * len(names)}\\n", {", ".join(reversed(names))});\n}}\n')
    assert re.sub(r"needs \d+ bytes", "needs N bytes", rendered(text)) == (
        "t.pt:1:1: error: BEGIN needs N bytes of stack, more than the 512 BPF allows\n"
        "BEGIN\n"
        "^~~~~\n"
        "hint: use fewer strings in this probe, or shorter ones: str(x, 16) reads at most 16 bytes"
    )


def test_a_missing_probe_can_be_a_warning():
    """missing_probes = warn: the compile succeeds and the attach point that
    names nothing is rendered as a warning."""
    text = "config = { missing_probes = warn } kprobe:no_such_function_xyz { } BEGIN { exit(); }"
    compiled = compile_source(SourceFile("t.pt", text), CompileOptions(use_cache=False))
    assert compiled.warnings == [
        "t.pt:1:36: warning: kernel function not found: no_such_function_xyz\n"
        "config = { missing_probes = warn } kprobe:no_such_function_xyz { } BEGIN { exit(); }\n"
        "                                   ^~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "hint: is it spelled as in /proc/kallsyms?",
    ]
