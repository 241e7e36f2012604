"""The builtin variables and functions, as one table each.

Semantic analysis checks calls against these tables; codegen never checks
user input again. Aggregations (count, hist, ...) are rows of
pytrace.aggregations.
"""

from __future__ import annotations

from pytrace.aggregations import AGGREGATIONS
from pytrace.sema.types import COMM, UINT64, Resolved

USERNAME = Resolved("username")  # the uid, named by the runtime (/etc/passwd)

# name -> type. `args` is handled by the checker (its type is the probe's).
VARIABLES = {
    "pid": UINT64,
    "tid": UINT64,
    "uid": UINT64,
    "gid": UINT64,
    "nsecs": UINT64,
    "elapsed": UINT64,
    "cpu": UINT64,
    "rand": UINT64,
    "cpid": UINT64,
    "comm": COMM,
    "ncpus": UINT64,
    "numaid": UINT64,
    "jiffies": UINT64,
    "cgroup": UINT64,
    "username": USERNAME,
}

# Which builtin variable a builtin reads its value from, when that differs
# (username is the uid, which the runtime names).
SOURCES = {"username": "uid"}

# nsecs(mode): the clock each mode reads (sw_tai: TAI as the kernel keeps it).
NSECS_MODES = {"monotonic": "nsecs", "boot": "nsecs_boot", "tai": "nsecs_tai", "sw_tai": "nsecs_tai"}

# Functions called as statements or expressions; the checker has a
# `call_<name>` method for each.
FUNCTIONS = {"printf", "exit", "str", "delete", "print", "clear", "zero", "len", "has_key",
             "time", "strftime", "kstack", "ustack", "ksym", "usym", "kaddr", "uaddr", "join",
             "nsecs", "bswap", "strncmp", "strcontains", "strlen", "buf",
             "errorf", "warnf", "cat", "system", "ntop", "pton", "macaddr", "strerror", "cgroup_path",
             "kptr", "uptr", "reg", "signal", "getopt", "syscall_name", "assert", "cgroupid", "debugf", "override",
             "percpu_kaddr"}

# Functions that change the system: only with --unsafe, as in bpftrace.
UNSAFE = {"system", "signal", "override"}

# Signals signal() may send, by name (SIGKILL or KILL).
SIGNALS = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGBUS": 7,
           "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13,
           "SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19,
           "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25,
           "SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31}

ALL_CALLABLE = sorted(set(AGGREGATIONS) | FUNCTIONS)


def sarg_index(name: str) -> int | None:
    """`sarg2` -> 2: the arguments a probe reads from the stack (None for
    other names)."""
    if name.startswith("sarg") and name[4:].isdigit() and (name == "sarg0" or not name[4:].startswith("0")):
        return int(name[4:])
    return None


def arg_index(name: str) -> int | None:
    """`arg3` -> 3: the positional arguments some probes give (None for
    other names)."""
    if name.startswith("arg") and name[3:].isdigit() and (name == "arg0" or not name[3:].startswith("0")):
        return int(name[3:])
    return None
