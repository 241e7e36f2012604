"""Just enough of the kernel's BTF (/sys/kernel/btf/vmlinux) to find the
type id of a kernel function (a kfunc the code calls, such as
bpf_map_sum_elem_count for len()) and how many arguments a raw tracepoint
passes (its `btf_trace_<event>` typedef: a pointer to a function whose
first parameter is the probe's data, the rest the event's arguments).

BTF is a header, then type records one after another (type ids count from
1, in order), then a string table. Each record is {name_off, info, size}
plus trailing data whose length its kind says; only the names of FUNC
records matter here. Read only when a program calls a kfunc.
"""

from __future__ import annotations

import struct

VMLINUX = "/sys/kernel/btf/vmlinux"
KIND_PTR = 2
KIND_TYPEDEF = 8
KIND_FUNC = 12
KIND_FUNC_PROTO = 13

# bytes after the 12-byte record, by kind: fixed, and per `vlen` entry
_EXTRA = {1: (4, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 13: (0, 8), 14: (4, 0),
          15: (0, 12), 17: (4, 0), 19: (0, 12)}

_cache: dict[str, int] = {}


class BtfError(Exception):
    pass


class _Types:
    """Every type record's offset, by id, and the string table."""

    def __init__(self, data: bytes):
        magic, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
        if magic != 0xEB9F:
            raise BtfError("not BTF")
        self.data = data
        self.strings = data[hdr_len + str_off:hdr_len + str_off + str_len]
        self.offsets = [0]  # type ids count from 1
        pos, end = hdr_len + type_off, hdr_len + type_off + type_len
        unpack = struct.Struct("<III").unpack_from
        while pos < end:
            self.offsets.append(pos)
            _, info, _ = unpack(data, pos)
            fixed, each = _EXTRA.get((info >> 24) & 0x1F, (0, 0))
            pos += 12 + fixed + each * (info & 0xFFFF)

    def record(self, type_id: int) -> tuple[int, int, int, int]:
        """(kind, vlen, name_off, size_or_type) of a type."""
        name_off, info, size_or_type = struct.unpack_from("<III", self.data, self.offsets[type_id])
        return (info >> 24) & 0x1F, info & 0xFFFF, name_off, size_or_type

    def find(self, name: str, kind: int) -> int | None:
        wanted = self.strings.find(b"\0" + name.encode() + b"\0")
        if wanted < 0:
            return None
        wanted += 1
        for type_id in range(1, len(self.offsets)):
            k, _, name_off, _ = self.record(type_id)
            if name_off == wanted and k == kind:
                return type_id
        return None


_types: dict[str, _Types] = {}


def _load(path: str) -> _Types:
    if path not in _types:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as err:
            raise BtfError(f"cannot read {path}: {err.strerror}") from None
        try:
            _types[path] = _Types(data)
        except BtfError:
            raise BtfError(f"{path} is not BTF") from None
    return _types[path]


def names(kind: int, path: str = VMLINUX) -> list[str]:
    """The names of every type of one kind (KIND_FUNC: the kernel's
    functions; KIND_TYPEDEF: btf_trace_<event> among others), sorted."""
    types = _load(path)
    found = set()
    for type_id in range(1, len(types.offsets)):
        k, _, name_off, _ = types.record(type_id)
        if k == kind and name_off:
            found.add(types.strings[name_off:types.strings.index(b"\0", name_off)].decode())
    return sorted(found)


def raw_tracepoint_args(event: str, path: str = VMLINUX) -> int | None:
    """How many arguments raw tracepoint `event` passes, or None when the
    kernel has no such raw tracepoint (raises BtfError without BTF)."""
    types = _load(path)
    typedef = types.find(f"btf_trace_{event}", KIND_TYPEDEF)
    if typedef is None:
        return None
    kind, _, _, target = types.record(typedef)
    kind, _, _, target = types.record(target)
    if kind != KIND_PTR:
        return None
    kind, vlen, _, _ = types.record(target)
    return vlen - 1 if kind == KIND_FUNC_PROTO and vlen else None


def func_args(name: str, path: str = VMLINUX) -> int | None:
    """How many arguments kernel function `name` takes (from its FUNC's
    prototype), or None when BTF has no such function."""
    types = _load(path)
    func = types.find(name, KIND_FUNC)
    if func is None:
        return None
    _, _, _, proto = types.record(func)
    kind, vlen, _, _ = types.record(proto)
    return vlen if kind == KIND_FUNC_PROTO else None


def func_id(name: str, path: str = VMLINUX) -> int:
    """The BTF type id of kernel function `name` (raises BtfError)."""
    if name in _cache:
        return _cache[name]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise BtfError(f"cannot read {path}: {err.strerror}") from None
    magic, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
    if magic != 0xEB9F:
        raise BtfError(f"{path} is not BTF")
    strings = data[hdr_len + str_off:hdr_len + str_off + str_len]
    wanted = strings.find(b"\0" + name.encode() + b"\0")
    if wanted < 0:
        raise BtfError(f"the kernel has no function {name}")
    wanted += 1
    pos, end, type_id = hdr_len + type_off, hdr_len + type_off + type_len, 0
    unpack = struct.Struct("<III").unpack_from
    while pos < end:
        name_off, info, _ = unpack(data, pos)
        type_id += 1
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind == KIND_FUNC and name_off == wanted:
            _cache[name] = type_id
            return type_id
        fixed, each = _EXTRA.get(kind, (0, 0))
        pos += 12 + fixed + each * vlen
    raise BtfError(f"the kernel has no function {name}")
