"""Just enough of the kernel's BTF (/sys/kernel/btf/vmlinux) to find the
type id of a kernel function (a kfunc the code calls, such as
bpf_map_sum_elem_count for len()).

BTF is a header, then type records one after another (type ids count from
1, in order), then a string table. Each record is {name_off, info, size}
plus trailing data whose length its kind says; only the names of FUNC
records matter here. Read only when a program calls a kfunc.
"""

from __future__ import annotations

import struct

VMLINUX = "/sys/kernel/btf/vmlinux"
KIND_FUNC = 12

# bytes after the 12-byte record, by kind: fixed, and per `vlen` entry
_EXTRA = {1: (4, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 13: (0, 8), 14: (4, 0),
          15: (0, 12), 17: (4, 0), 19: (0, 12)}

_cache: dict[str, int] = {}


class BtfError(Exception):
    pass


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
