"""tracefs: where tracepoints are listed and described.

Both the compiler (a tracepoint's fields come from its `format` file) and
the runtime (listing, attaching) read it, so it lives outside both. The
first use mounts tracefs when a fresh machine has not.
"""

from __future__ import annotations

import os

from pytrace.record import Record

TRACEFS = "/sys/kernel/tracing"
DEBUGFS_TRACING = "/sys/kernel/debug/tracing"

_root: str | None = None


class TracefsError(Exception):
    """tracefs is missing and cannot be mounted."""


def root() -> str:
    """The tracefs directory, mounting tracefs first when it is missing."""
    global _root
    if _root is not None:
        return _root
    for path in (TRACEFS, DEBUGFS_TRACING):
        if os.path.isdir(os.path.join(path, "events")):
            _root = path
            return path
    _mount(TRACEFS)
    _root = TRACEFS
    return TRACEFS


def _mount(path: str) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
    if libc.mount(b"nodev", path.encode(), b"tracefs", 0, None) != 0:
        err = ctypes.get_errno()
        raise TracefsError(
            f"tracefs is not mounted at {path} and mounting it failed: "
            f"{os.strerror(err)} (run as root, or mount -t tracefs nodev {path})"
        )
    if not os.path.isdir(os.path.join(path, "events")):
        raise TracefsError(f"tracefs at {path} has no events directory")


class TracepointField(Record):
    """One line of a tracepoint's format file.

    type is the C declaration without the name ("const char *", "char[16]");
    array_len is 16 for `char comm[16]`; data_loc marks `__data_loc char[] x`.
    """

    __slots__ = ("name", "type", "offset", "size", "signed", "array_len", "data_loc")

    def __init__(self, name: str, type: str, offset: int, size: int, signed: bool,
                 array_len: int | None = None, data_loc: bool = False):
        self.name = name
        self.type = type
        self.offset = offset
        self.size = size
        self.signed = signed
        self.array_len = array_len
        self.data_loc = data_loc


def list_tracepoints(pattern: str = "*:*") -> list[tuple[str, str]]:
    """(category, event) pairs matching a `cat:event` glob, sorted."""
    import fnmatch

    cat_glob, _, event_glob = pattern.partition(":")
    event_glob = event_glob or "*"
    events = os.path.join(root(), "events")
    found = []
    for category in os.listdir(events):
        cdir = os.path.join(events, category)
        if not fnmatch.fnmatchcase(category, cat_glob) or not os.path.isdir(cdir):
            continue
        for event in os.listdir(cdir):
            if fnmatch.fnmatchcase(event, event_glob) and os.path.isfile(
                os.path.join(cdir, event, "format")
            ):
                found.append((category, event))
    return sorted(found)


def exists(category: str, event: str) -> bool:
    return os.path.isfile(os.path.join(root(), "events", category, event, "format"))


def event_id(category: str, event: str) -> int:
    """The tracepoint's id: what its records carry in common_type."""
    with open(os.path.join(root(), "events", category, event, "id")) as f:
        return int(f.read())


def read_format(category: str, event: str) -> list[TracepointField]:
    """The fields of a tracepoint's record, common_* fields included."""
    path = os.path.join(root(), "events", category, event, "format")
    with open(path) as f:
        text = f.read()
    return [fld for line in text.splitlines() if (fld := _parse_field(line))]


def _parse_field(line: str) -> TracepointField | None:
    """`\tfield:const char * filename;\toffset:16;\tsize:8;\tsigned:0;`"""
    line = line.strip()
    if not line.startswith("field:"):
        return None
    parts = {}
    for item in line.split(";"):
        key, sep, value = item.strip().partition(":")
        if sep:
            parts[key] = value.strip()
    decl = parts.get("field", "")
    data_loc = decl.startswith("__data_loc ")
    if data_loc:
        decl = decl[len("__data_loc "):]
    array_len = None
    if decl.endswith("]"):
        decl, _, dim = decl[:-1].rpartition("[")
        array_len = int(dim) if dim.strip().isdigit() else 0
    ctype, _, name = decl.rpartition(" ")
    while name.startswith("*"):
        ctype, name = ctype + "*", name[1:]
    if array_len is not None and not data_loc:
        ctype = f"{ctype}[{array_len}]"
    return TracepointField(
        name=name,
        type=ctype.strip(),
        offset=int(parts.get("offset", 0)),
        size=int(parts.get("size", 0)),
        signed=parts.get("signed", "0") == "1",
        array_len=array_len,
        data_loc=data_loc,
    )
