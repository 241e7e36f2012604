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

import contextlib
import hashlib
import os
import struct
from array import array

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

    def __init__(self, data: bytes, offsets=None):
        magic, _, _, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
        if magic != 0xEB9F:
            raise BtfError("not BTF")
        self.data = data
        self.strings = data[hdr_len + str_off:hdr_len + str_off + str_len]
        if offsets is not None:  # the index a previous run made of the same bytes
            self.offsets = offsets
            return
        self.offsets = array("I", [0])  # type ids count from 1
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
    """The BTF at `path`, indexed. Indexing the kernel's 150,000 types takes
    ~50 ms, so the index (each type's offset) is kept in the cache directory
    under a hash of the BTF's bytes and loaded on later runs (~1 ms): BTF
    read once, as the issue of a new kernel is a new hash."""
    if path not in _types:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as err:
            raise BtfError(f"cannot read {path}: {err.strerror}") from None
        index_path = _index_path(data)
        cached = _read_index(index_path)
        try:
            _types[path] = _Types(data, cached)
        except BtfError:
            raise BtfError(f"{path} is not BTF") from None
        if index_path is not None and cached is None:  # none yet, or a damaged one
            _write_index(index_path, _types[path].offsets)
    return _types[path]


def _index_path(data: bytes) -> str | None:
    from pytrace.cache import safe_directory

    base = safe_directory()
    if base is None:
        return None
    return os.path.join(base, f"btf-{hashlib.sha1(data).hexdigest()[:24]}.index")


def _read_index(index_path: str | None):
    if index_path is None:
        return None
    try:
        with open(index_path, "rb") as f:
            offsets = array("I")
            offsets.frombytes(f.read())
    except (OSError, ValueError):
        return None
    return offsets if len(offsets) > 1 else None


def _write_index(index_path: str, offsets) -> None:
    tmp = f"{index_path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(offsets.tobytes())
        os.replace(tmp, index_path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


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


KIND_VAR = 14


def var_id(name: str, path: str = VMLINUX) -> int:
    """The BTF type id of kernel variable `name` (a per-CPU one for
    percpu_kaddr; raises BtfError)."""
    found = _load(path).find(name, KIND_VAR)
    if found is None:
        raise BtfError(f"the kernel has no variable {name}")
    return found


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


# ------------------------------------------------------------- as types

KIND_INT, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FWD = 1, 3, 4, 5, 6, 7
KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG, KIND_ENUM64 = 9, 10, 11, 18, 19
_QUALIFIERS = (KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG)


class KernelTypes:
    """The kernel's types as pytrace types (pytrace.sema.types), made when
    asked for: a struct's members only when a script reaches into it, so a
    pointer to a struct is a Ptr to a Struct with just its name and size
    until then (sema resolves it by name). Anonymous structs and unions
    inside a struct lend their members to it, as in C."""

    def __init__(self, path: str = VMLINUX):
        self.types = _load(path)
        self._structs: dict[str, object] = {}
        self._enumerators: dict[str, int] | None = None

    def name(self, name_off: int) -> str:
        strings = self.types.strings
        return strings[name_off:strings.index(b"\0", name_off)].decode() if name_off else ""

    def _extra(self, type_id: int, fmt: str, at: int = 0):
        return struct.unpack_from(fmt, self.types.data, self.types.offsets[type_id] + 12 + at)

    def of(self, type_id: int, depth: int = 0):
        """The pytrace type of BTF type `type_id` (None for what pytrace
        cannot represent: floats, functions, void)."""
        from pytrace.sema.types import CArray, Int, Ptr, Str, Struct

        kind, vlen, name_off, size = self.types.record(type_id) if type_id else (0, 0, 0, 0)
        while kind in _QUALIFIERS:
            type_id = size
            kind, vlen, name_off, size = self.types.record(type_id) if type_id else (0, 0, 0, 0)
        if kind == KIND_INT:
            (enc,) = self._extra(type_id, "<I")
            bits = enc & 0xFF
            return Int(bits if bits in (8, 16, 32, 64) else 64, bool((enc >> 24) & 1))
        if kind in (KIND_ENUM, KIND_ENUM64):
            return Int(size * 8 if size in (1, 2, 4, 8) else 64, True)
        if kind == KIND_PTR:
            target = self.of(size, depth + 1) if depth < 2 else None
            label = str(target) if target is not None else "void"
            return Ptr(label, False, target)
        if kind == KIND_ARRAY:
            elem, _, count = self._extra(type_id, "<III")
            element = self.of(elem, depth + 1)
            if element == Int(8, True) or element == Int(8, False):
                return Str(count)
            return CArray(element, count) if element is not None else None
        if kind in (KIND_STRUCT, KIND_UNION):
            name = self.name(name_off)
            prefix = "union" if kind == KIND_UNION else "struct"
            return Struct(name or f"(anonymous {prefix})", size, (), 8)
        if kind == KIND_FWD:
            return Struct(self.name(name_off), 0, (), 8)
        return None

    def enumerator(self, name: str) -> int | None:
        """The value of a kernel enumerator (TCP_ESTABLISHED), or None. The
        first lookup indexes every enum (one pass over the types)."""
        if self._enumerators is None:
            self._enumerators = {}
            types = self.types
            for type_id in range(1, len(types.offsets)):
                kind, vlen, _, _ = types.record(type_id)
                if kind == KIND_ENUM:
                    for i in range(vlen):
                        name_off, value = self._extra(type_id, "<Ii", 8 * i)
                        self._enumerators.setdefault(self.name(name_off), value)
                elif kind == KIND_ENUM64:
                    for i in range(vlen):
                        name_off, low, high = self._extra(type_id, "<III", 12 * i)
                        self._enumerators.setdefault(self.name(name_off), low | high << 32)
        return self._enumerators.get(name)

    def struct(self, name: str):
        """Kernel struct (or union) `name` with its members, or None."""
        from pytrace.sema.types import Struct

        if name in self._structs:
            return self._structs[name]
        found = None
        for kind in (KIND_STRUCT, KIND_UNION):
            type_id = self.types.find(name, kind)
            if type_id is not None:
                _, _, _, size = self.types.record(type_id)
                found = Struct(name, size, tuple(self._members(type_id, 0)), 8)
                break
        self._structs[name] = found
        return found

    def _members(self, type_id: int, base_bits: int):
        """(name, type, byte offset) of a struct's readable members (bit
        fields left out), anonymous inner structs and unions flattened."""
        kind, vlen, _, _ = self.types.record(type_id)
        kind_flag = (struct.unpack_from("<I", self.types.data, self.types.offsets[type_id] + 4)[0] >> 31) & 1
        for i in range(vlen):
            name_off, member_type, offset = self._extra(type_id, "<III", 12 * i)
            bit_size, bit_offset = (offset >> 24, offset & 0xFFFFFF) if kind_flag else (0, offset)
            if bit_size or (base_bits + bit_offset) % 8:
                continue
            name = self.name(name_off)
            if not name:
                inner = member_type
                while self.types.record(inner)[0] in _QUALIFIERS:
                    inner = self.types.record(inner)[3]
                if self.types.record(inner)[0] in (KIND_STRUCT, KIND_UNION):
                    yield from self._members(inner, base_bits + bit_offset)
                continue
            mtype = self.of(member_type)
            if mtype is not None:
                yield name, mtype, (base_bits + bit_offset) // 8

    def c_name(self, type_id: int) -> str:
        """A type as C spells it (`struct task_struct *`, `const char *`)."""
        if not type_id:
            return "void"
        kind, _, name_off, target = self.types.record(type_id)
        name = self.name(name_off)
        if kind in (KIND_INT, KIND_TYPEDEF, 16):  # 16: FLOAT
            return name
        if kind == KIND_PTR:
            inner = self.c_name(target)
            return inner + ("*" if inner.endswith("*") else " *")
        if kind in (KIND_CONST, KIND_VOLATILE):
            return ("const " if kind == KIND_CONST else "volatile ") + self.c_name(target)
        if kind in (KIND_RESTRICT, KIND_TYPE_TAG):
            return self.c_name(target)
        if kind == KIND_ARRAY:
            elem, _, count = self._extra(type_id, "<III")
            return f"{self.c_name(elem)}[{count}]"
        prefix = {KIND_STRUCT: "struct", KIND_UNION: "union", KIND_ENUM: "enum", KIND_ENUM64: "enum",
                  KIND_FWD: "struct"}.get(kind)
        if prefix:
            return f"{prefix} {name}" if name else f"{prefix} (anonymous)"
        return "void (*)()" if kind == KIND_FUNC_PROTO else "?"

    def declarations(self, func_name: str, skip: int = 0) -> list[str] | None:
        """A kernel function's parameters as C declarations (`struct file *
        file`), the first `skip` left out; None when BTF has no such function."""
        func = self.types.find(func_name, KIND_FUNC)
        if func is None:
            return None
        _, _, _, proto = self.types.record(func)
        _, vlen, _, _ = self.types.record(proto)
        decls = []
        for i in range(skip, vlen):
            name_off, ptype = self._extra(proto, "<II", 8 * i)
            decls.append(f"{self.c_name(ptype)} {self.name(name_off) or f'arg{i - skip}'}")
        return decls

    def function_params(self, name: str) -> list[tuple[str, object]] | None:
        """A kernel function's parameters, named and typed (fentry's args)."""
        func = self.types.find(name, KIND_FUNC)
        if func is None:
            return None
        _, _, _, proto = self.types.record(func)
        _, vlen, _, _ = self.types.record(proto)
        return [(self.name(n) or f"arg{i}", self.of(t))
                for i, (n, t) in enumerate(self._extra(proto, "<II", 8 * i) for i in range(vlen))]

    def raw_tracepoint_params(self, event: str) -> list[tuple[str, object]] | None:
        """A raw tracepoint's arguments, named and typed, from the
        parameters of its __bpf_trace_<event> function (the first, the
        probe's data, left out); None when BTF has no such function."""
        func = self.types.find(f"__bpf_trace_{event}", KIND_FUNC)
        if func is None:
            return None
        _, _, _, proto = self.types.record(func)
        _, vlen, _, _ = self.types.record(proto)
        params = []
        for i in range(1, vlen):
            name_off, ptype = self._extra(proto, "<II", 8 * i)
            params.append((self.name(name_off) or f"arg{i - 1}", self.of(ptype)))
        return params


_kernel_types: dict[str, KernelTypes] = {}


def kernel_types(path: str = VMLINUX) -> KernelTypes:
    """The kernel's BTF as pytrace types (raises BtfError without BTF)."""
    if path not in _kernel_types:
        _kernel_types[path] = KernelTypes(path)
    return _kernel_types[path]
