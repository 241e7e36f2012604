"""The macros of the kernel and libc headers bpftrace's scripts #include.

bpftrace runs the headers through clang; pytrace takes kernel types from
BTF instead, which has no #define constants. The ones scripts use are here,
by header, and come into scope when the script includes that header:

    #include <linux/sched.h>     ->  TASK_RUNNING is 0

Enumerators (TCP_ESTABLISHED, SKB_DROP_REASON_*) need no header: they are
in BTF (see check._Checker.expr_Builtin).
"""

from __future__ import annotations

import errno

_SCHED = {"TASK_RUNNING": 0, "TASK_INTERRUPTIBLE": 1, "TASK_UNINTERRUPTIBLE": 2, "__TASK_STOPPED": 4,
          "__TASK_TRACED": 8, "EXIT_DEAD": 16, "EXIT_ZOMBIE": 32, "TASK_PARKED": 64, "TASK_DEAD": 128,
          "TASK_WAKEKILL": 256, "TASK_WAKING": 512, "TASK_NOLOAD": 1024, "TASK_NEW": 2048,
          "TASK_COMM_LEN": 16}
_SOCKET = {"AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16,
           "AF_PACKET": 17, "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3}
_TCP_STATES = {"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4,
               "TCP_FIN_WAIT2": 5, "TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8, "TCP_LAST_ACK": 9,
               "TCP_LISTEN": 10, "TCP_CLOSING": 11, "TCP_NEW_SYN_RECV": 12}
_ERRNO = {name: value for name, value in vars(errno).items() if name.startswith("E") and isinstance(value, int)}
_FCNTL = {"O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_CREAT": 0o100, "O_EXCL": 0o200, "O_TRUNC": 0o1000,
          "O_APPEND": 0o2000, "O_NONBLOCK": 0o4000, "O_DIRECTORY": 0o200000, "O_CLOEXEC": 0o2000000}
_SIGNAL = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12,
           "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19}

HEADERS: dict[str, dict[str, int]] = {
    "linux/sched.h": _SCHED,
    "linux/socket.h": _SOCKET, "sys/socket.h": _SOCKET, "net/sock.h": _SOCKET, "linux/in.h": _SOCKET,
    "net/tcp_states.h": _TCP_STATES,
    "errno.h": _ERRNO, "linux/errno.h": _ERRNO, "asm/errno.h": _ERRNO,
    "fcntl.h": _FCNTL, "linux/fcntl.h": _FCNTL,
    "signal.h": _SIGNAL, "linux/signal.h": _SIGNAL,
}


def macros(includes: list[str]) -> dict[str, int]:
    """The constants the included headers define."""
    found: dict[str, int] = {}
    for header in includes:
        found.update(HEADERS.get(header, {}))
    return found
