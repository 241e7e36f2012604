"""What the ids and addresses the code sends mean, for the fields of
types.Resolved kinds: probe names, function names, stacks and symbols.

    Field("probe", 8, 8)     4294967297          -> "tracepoint:sched:sched_switch"
    Field("ustack", 8, 16)   (hash, 1234)        -> Stack([Frame(0x401136, "leaf", 0, "/tmp/app"), ...])
    Field("ksym", 8, 8)      0xffffffff811c5e20  -> "vfs_read"

One `Names` per run. Symbols come from pytrace.symbols, read only when a
field needs them: the kernel's, and one set per process, whose memory map
is read when the code first reports the process (RECORD_PID), while it
still runs, so its stacks resolve after it exits.
"""

from __future__ import annotations

import os

from pytrace.values import Frame, Stack



class Names:
    """The run's meaning of ids and addresses. `stacks` reads a stack's
    raw value from the stack map by its hash (None without one)."""

    def __init__(self, probe_names: dict | None = None, probe_funcs: dict | None = None, stacks=None):
        self.probe_names = probe_names or {}
        self.probe_funcs = probe_funcs or {}
        self.stacks = stacks
        self._kernel = None
        self._processes: dict = {}
        self._frames: dict = {}
        self._cgroups: dict | None = None  # cgroup id (inode) -> path, read when one is printed

    # --------------------------------------------------------- by field

    def resolver(self, kind: str, mode: str = ""):
        """A function of a field's raw bytes giving its value."""
        if kind == "probe":
            return lambda raw: self.probe(_word(raw))
        if kind == "func":
            return lambda raw: self.func(_word(raw))
        if kind == "kstack":
            return lambda raw: self.stack("kstack", mode, _word(raw), 0)
        if kind == "ustack":
            return lambda raw: self.stack("ustack", mode, _word(raw), _word(raw, 8))
        if kind == "ksym":
            return lambda raw: self.ksym(_word(raw))
        if kind == "usym":
            return lambda raw: self.usym(_word(raw), _word(raw, 8))
        if kind == "username":
            return lambda raw: _user_name(_word(raw))
        if kind == "inet":
            return lambda raw: _inet(raw, mode)
        if kind == "macaddr":
            return lambda raw: ":".join(f"{b:02X}" for b in raw[8:8 + min(_word(raw), 6)])
        if kind == "strerror":
            return lambda raw: os.strerror(_word(raw))
        if kind == "syscall_name":
            from pytrace.syscall_table import syscall_name

            return lambda raw: syscall_name(_word(raw), os.uname().machine)
        if kind == "cgroup_path":
            return lambda raw: self.cgroup_path(_word(raw), mode)
        raise ValueError(f"no resolver for field kind {kind!r}")

    def cgroup_path(self, cgroup_id: int, only: str = "") -> str:
        """The cgroup v2 directory whose inode is the id, as bpftrace
        prints it ("unified:/system.slice/x.service")."""
        if self._cgroups is None or cgroup_id not in self._cgroups:
            self._cgroups = _cgroup_inodes()
        path = self._cgroups.get(cgroup_id)
        if path is None:
            return f"cgroup#{cgroup_id}"
        return f"unified:{path}" if only in ("", "unified") else ""

    def probe(self, probe_id: int) -> str:
        found = self.probe_names.get(probe_id)
        return found if found is not None else f"probe#{probe_id}"

    def func(self, probe_id: int) -> str:
        found = self.probe_funcs.get(probe_id)
        return found if found is not None else f"probe#{probe_id}"

    # ------------------------------------------------------------ symbols

    def process_seen(self, pid: int) -> None:
        """The code reported a process's first user-space address: read its
        memory map now, while it still runs."""
        if pid > 0 and pid not in self._processes:
            self._processes[pid] = self._cache(pid)

    def _cache(self, pid: int):
        from pytrace.symbols import KernelSymbols, ProcessSymbols, SymbolError

        try:
            return KernelSymbols() if pid < 0 else ProcessSymbols(pid)
        except SymbolError:
            return None

    def kernel(self):
        if self._kernel is None:
            self._kernel = self._cache(-1)
        return self._kernel

    def process(self, pid: int):
        if pid not in self._processes:
            self._processes[pid] = self._cache(pid)
        return self._processes[pid]

    def frame(self, address: int, pid: int) -> Frame:
        """An address of the kernel (pid 0) or of a process, as a Frame."""
        key = (address, pid)
        found = self._frames.get(key)
        if found is None:
            cache = self.kernel() if pid == 0 else self.process(pid)
            resolved = cache.resolve(address) if cache is not None else None
            if resolved is not None and resolved.name is not None:
                module = "[kernel.kallsyms]" if pid == 0 else resolved.module
                found = Frame(address, resolved.name, resolved.offset, module)
            else:
                found = Frame(address, None, 0, "[unknown]" if pid else "[kernel.kallsyms]")
            self._frames[key] = found
        return found

    def ksym(self, address: int) -> str:
        frame = self.frame(address, 0)
        return frame.name if frame.name is not None else f"0x{address:x}"

    def usym(self, address: int, pid: int) -> str:
        frame = self.frame(address, pid)
        return frame.name if frame.name is not None else f"0x{address:x}"

    def stack(self, kind: str, mode: str, stack_hash: int, pid: int) -> Stack:
        addresses = self.stacks(stack_hash) if self.stacks is not None else []
        frames = [self.frame(a, pid if kind == "ustack" else 0) for a in addresses]
        return Stack(frames, kind, mode, pid)

    def close(self) -> None:
        for cache in [self._kernel, *self._processes.values()]:
            if cache is not None:
                cache.close()
        self._kernel = None
        self._processes.clear()


def _word(raw: bytes, at: int = 0) -> int:
    return int.from_bytes(raw[at:at + 8], "little")


NO_NAMES = Names()


def _user_name(uid: int) -> str:
    """A uid's name from the password database (the number when it has none)."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _inet(raw: bytes, mode: str) -> str:
    """ntop(): [family][count][the address's bytes]."""
    import socket

    family = _word(raw)
    data = raw[16:16 + _word(raw, 8)]
    try:
        if family == 10:
            return socket.inet_ntop(socket.AF_INET6, data[:16].ljust(16, b"\0"))
        return socket.inet_ntop(socket.AF_INET, data[:4].ljust(4, b"\0"))
    except (OSError, ValueError):
        return data.hex()


def _cgroup2_root() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or
    /sys/fs/cgroup/unified on a hybrid system)."""
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and parts[2] == "cgroup2":
                    return parts[1]
    except OSError:
        pass
    return None


def _cgroup_inodes() -> dict[int, str]:
    """Every cgroup v2 directory by inode (a cgroup's id), as paths from the root."""
    root = _cgroup2_root()
    found = {}
    if root is None:
        return found
    for top, _dirs, _files in os.walk(root):
        try:
            found[os.stat(top).st_ino] = top[len(root):] or "/"
        except OSError:
            continue
    return found
