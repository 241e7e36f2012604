"""Binaries, symbols and USDT notes, from bcc's libbcc.so (opened on first use).

    find_binary("libc")                     -> "/usr/lib/x86_64-linux-gnu/libc.so.6"
    functions("./app")                      -> [Symbol("handle_open", 0x1139, 11), ...]
    file_offset("./app", "handle_open")     -> 0x1139   (where a uprobe goes)
    usdt_probes("./app")                    -> [UsdtProbe("myprov", "start", ...)]
    ProcessSymbols(pid).resolve(0x55d0...139) -> Resolved("hot_loop", 22, "/tmp/app")

Both the compiler (uprobe and USDT attach points, -l) and the runtime
(symbolising stacks, usym(), ksym()) use it, so it lives outside both.
Opening libbcc.so costs ~25 ms, so nothing here runs at import: a
tracepoint one-liner never pays for it.

From bcc: finding a library by name (ld.so.cache, or a process's maps),
ELF symbol tables (with debug files), turning a function or an address into
the file offset a uprobe needs, the USDT notes and their argument
locations, the kernel's symbol cache (bcc_symcache_*). Written here: a
process's symbols (see ProcessSymbols for why), C++ demangling
(libstdc++'s __cxa_demangle), and the file offset of a USDT semaphore (bcc
translates only addresses in executable segments; a semaphore is data).
"""

from __future__ import annotations

import ctypes as ct
import os

from pytrace.record import Record

STT_FUNC = 2
STT_GNU_IFUNC = 10


class SymbolError(Exception):
    """A binary, function or probe that cannot be found or read."""


class Symbol(Record):
    """A function of a binary: its name (mangled, as in the ELF), address
    (virtual, as the ELF gives it) and size."""

    __slots__ = ("name", "address", "size")

    def __init__(self, name: str, address: int, size: int):
        self.name = name
        self.address = address
        self.size = size


class UsdtArgument(Record):
    """Where a USDT argument is at its probe site, as bcc decodes the note
    (`-4@-20(%rbp)` is size -4, base "bp", offset -20, deref True).

    size      bytes, negative when signed
    constant  the value itself when `base` is None and not deref
    base      a pt_regs register name ("ax", "di", "r8", "ip", ...) or None
    index     a second register, scaled by `scale`, or None
    offset    added to the address (or the register's value)
    deref     the value is in user memory at base + index * scale + offset
    """

    __slots__ = ("size", "constant", "base", "index", "scale", "offset", "deref")

    def __init__(self, size: int, constant: int = 0, base: str | None = None, index: str | None = None,
                 scale: int = 1, offset: int = 0, deref: bool = False):
        self.size = size
        self.constant = constant
        self.base = base
        self.index = index
        self.scale = scale
        self.offset = offset
        self.deref = deref


class UsdtLocation(Record):
    """One place a USDT probe is compiled in: the binary, the file offset a
    uprobe goes to, and its arguments' locations there."""

    __slots__ = ("path", "offset", "args")

    def __init__(self, path: str, offset: int, args: tuple):
        self.path = path
        self.offset = offset
        self.args = tuple(args)


class UsdtProbe(Record):
    """A USDT probe of a binary: provider, name, the file offset of its
    semaphore (0 without one) and every location."""

    __slots__ = ("path", "provider", "name", "semaphore", "locations")

    def __init__(self, path: str, provider: str, name: str, semaphore: int, locations: tuple):
        self.path = path
        self.provider = provider
        self.name = name
        self.semaphore = semaphore
        self.locations = tuple(locations)


# ---------------------------------------------------------------- bindings


class _BccSymbol(ct.Structure):
    _fields_ = [("name", ct.c_char_p), ("demangle_name", ct.c_char_p),
                ("module", ct.POINTER(ct.c_char)), ("offset", ct.c_ulonglong)]


class _SymbolOption(ct.Structure):
    _fields_ = [("use_debug_file", ct.c_int), ("check_debug_file_crc", ct.c_int),
                ("lazy_symbolize", ct.c_int), ("use_symbol_type", ct.c_uint)]


class _Usdt(ct.Structure):
    _fields_ = [("provider", ct.c_char_p), ("name", ct.c_char_p), ("bin_path", ct.c_char_p),
                ("semaphore", ct.c_ulonglong), ("num_locations", ct.c_int), ("num_arguments", ct.c_int)]


class _UsdtLocation(ct.Structure):
    _fields_ = [("address", ct.c_ulonglong), ("bin_path", ct.c_char_p)]


class _UsdtArgument(ct.Structure):
    _fields_ = [("size", ct.c_int), ("valid", ct.c_int), ("constant", ct.c_longlong),
                ("deref_offset", ct.c_int), ("deref_ident", ct.c_char_p),
                ("base_register_name", ct.c_char_p), ("index_register_name", ct.c_char_p),
                ("scale", ct.c_int)]


ARG_CONSTANT, ARG_DEREF_OFFSET, ARG_DEREF_IDENT, ARG_BASE, ARG_INDEX, ARG_SCALE = 1, 2, 4, 8, 16, 32

_SYM_CB = ct.CFUNCTYPE(ct.c_int, ct.c_char_p, ct.c_ulonglong, ct.c_ulonglong, ct.c_void_p)
_USDT_CB = ct.CFUNCTYPE(None, ct.POINTER(_Usdt))
_SECTION_CB = ct.CFUNCTYPE(ct.c_int, ct.c_ulonglong, ct.c_ulonglong, ct.c_ulonglong, ct.c_void_p)


class _Lib:
    """libbcc.so's functions this module calls, bound once (see
    pytrace.runtime.libbcc for why each gets its argtypes)."""

    def __init__(self):
        try:
            lib = ct.CDLL("libbcc.so.0", use_errno=True)
        except OSError as err:
            raise SymbolError(f"cannot open bcc's libbcc.so.0 ({err}); install python3-bpfcc") from None

        def bind(name, restype, *argtypes):
            fn = lib[name]
            fn.restype = restype
            fn.argtypes = list(argtypes)
            return fn

        charp = ct.POINTER(ct.c_char)
        self.which_so = bind("bcc_procutils_which_so", charp, ct.c_char_p, ct.c_int)
        self.which = bind("bcc_procutils_which", charp, ct.c_char_p)
        self.free = bind("bcc_procutils_free", None, ct.c_void_p)
        self.resolve_symname = bind("bcc_resolve_symname", ct.c_int, ct.c_char_p, ct.c_char_p,
                                    ct.c_ulonglong, ct.c_int, ct.POINTER(_SymbolOption),
                                    ct.POINTER(_BccSymbol))
        self.foreach_sym = bind("bcc_elf_foreach_sym", ct.c_int, ct.c_char_p, _SYM_CB, ct.c_void_p,
                                ct.c_void_p)
        self.foreach_load_section = bind("bcc_elf_foreach_load_section", ct.c_int, ct.c_char_p,
                                         _SECTION_CB, ct.c_void_p)
        self.foreach_vdso_sym = bind("bcc_elf_foreach_vdso_sym", ct.c_int, _SYM_CB, ct.c_void_p)
        self.symcache_new = bind("bcc_symcache_new", ct.c_void_p, ct.c_int, ct.POINTER(_SymbolOption))
        self.free_symcache = bind("bcc_free_symcache", None, ct.c_void_p, ct.c_int)
        self.symcache_resolve = bind("bcc_symcache_resolve", ct.c_int, ct.c_void_p, ct.c_ulonglong,
                                     ct.POINTER(_BccSymbol))
        self.symcache_resolve_no_demangle = bind("bcc_symcache_resolve_no_demangle", ct.c_int, ct.c_void_p,
                                                 ct.c_ulonglong, ct.POINTER(_BccSymbol))
        self.free_demangle = bind("bcc_symbol_free_demangle_name", None, ct.POINTER(_BccSymbol))
        self.usdt_new_frompath = bind("bcc_usdt_new_frompath", ct.c_void_p, ct.c_char_p)
        self.usdt_new_frompid = bind("bcc_usdt_new_frompid", ct.c_void_p, ct.c_int, ct.c_char_p)
        self.usdt_close = bind("bcc_usdt_close", None, ct.c_void_p)
        self.usdt_foreach = bind("bcc_usdt_foreach", None, ct.c_void_p, _USDT_CB)
        self.usdt_get_location = bind("bcc_usdt_get_location", ct.c_int, ct.c_void_p, ct.c_char_p,
                                      ct.c_char_p, ct.c_int, ct.POINTER(_UsdtLocation))
        self.usdt_get_argument = bind("bcc_usdt_get_argument", ct.c_int, ct.c_void_p, ct.c_char_p,
                                      ct.c_char_p, ct.c_int, ct.c_int, ct.POINTER(_UsdtArgument))


_lib: _Lib | None = None


def lib() -> _Lib:
    global _lib
    if _lib is None:
        _lib = _Lib()
    return _lib


def _take_string(ptr) -> str | None:
    """A malloc'd C string bcc handed over, as str (and freed)."""
    if not ptr:
        return None
    value = ct.cast(ptr, ct.c_char_p).value
    lib().free(ct.cast(ptr, ct.c_void_p))
    return value.decode(errors="replace") if value is not None else None


# ---------------------------------------------------------------- binaries


def find_binary(name: str, pid: int = -1) -> str | None:
    """The file a uprobe's binary names, as bpftrace finds it: a path (with a
    `/`) as it is; else an executable in PATH; else a library by name
    ("libc", "c", "libc.so.6": from the process's maps with a pid, else
    ld.so.cache). An absolute path, or None."""
    if "/" in name:
        if not os.path.exists(name) and pid > 0 and os.path.exists(f"/proc/{pid}/root{os.path.abspath(name)}"):
            return f"/proc/{pid}/root{os.path.abspath(name)}"  # in the -p process's mount namespace
        return os.path.abspath(name) if os.path.exists(name) else None
    found = _take_string(lib().which(name.encode()))
    if found is None:
        found = _take_string(lib().which_so(_library_stem(name).encode(), pid))
    return os.path.abspath(found) if found else None


def _library_stem(name: str) -> str:
    """What bcc looks a library up by: "libc.so.6", "libc" and "c" are all "c"."""
    stem = name[3:] if name.startswith("lib") else name
    return stem.split(".so")[0]


def mapped_files(pid: int) -> list[str]:
    """The files a process has mapped executable (its binary and libraries),
    as it sees them: through /proc/PID/root, so another mount namespace's
    files are found too."""
    found = []
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and "x" in parts[1] and parts[5].startswith("/"):
                    path = parts[5].strip()
                    if path not in found:
                        found.append(path)
    except OSError:
        return []
    return [p if os.path.exists(p) else f"/proc/{pid}/root{p}" for p in found]


def functions(path: str) -> list[Symbol]:
    """The function symbols of an ELF file (and of its debug file, when
    bcc finds one), in file order, without duplicates."""
    found: list[Symbol] = []
    seen: set[tuple[str, int]] = set()

    def each(name, address, size, _payload):
        key = (name, address)
        if name and key not in seen:
            seen.add(key)
            found.append(Symbol(name.decode(errors="replace"), address, size))
        return 0

    option = _SymbolOption(1, 1, 1, (1 << STT_FUNC) | (1 << STT_GNU_IFUNC))
    callback = _SYM_CB(each)
    if lib().foreach_sym(path.encode(), callback, ct.byref(option), None) < 0:
        raise SymbolError(f"cannot read the symbols of {path}")
    return found


def symbol_address(path: str, name: str) -> int | None:
    """The address of any symbol (a function, a variable) of an ELF file, as
    the file gives it (a PIE binary's is relative to where it loads)."""
    found = []

    def each(sym_name, address, size, _payload):
        if sym_name == name.encode():
            found.append(address)
            return -1
        return 0

    option = _SymbolOption(1, 1, 1, 0xFFFF)
    callback = _SYM_CB(each)
    if lib().foreach_sym(path.encode(), callback, ct.byref(option), None) < 0:
        raise SymbolError(f"cannot read the symbols of {path}")
    return found[0] if found else None


def file_offset(path: str, function: str | None = None, address: int = 0, pid: int = -1) -> int:
    """Where in the file a uprobe on `function` (or on the virtual address
    `address`) goes: bcc_resolve_symname."""
    sym = _BccSymbol()
    name = function.encode() if function is not None else None
    if lib().resolve_symname(path.encode(), name, address, pid, None, ct.byref(sym)) < 0:
        _take_string(sym.module)
        what = function if function is not None else hex(address)
        raise SymbolError(f"cannot find {what} in {path}")
    _take_string(sym.module)
    return sym.offset


_demangler = None


def demangle(name: str) -> str:
    """A C++ symbol's readable name (`_ZN2ns2fnEi` -> `ns::fn(int)`); other
    names as they are. libstdc++'s __cxa_demangle (bcc links libstdc++)."""
    global _demangler
    if not name.startswith("_Z"):
        return name
    if _demangler is None:
        cxx = ct.CDLL("libstdc++.so.6")
        fn = cxx.__cxa_demangle
        fn.restype = ct.c_void_p
        fn.argtypes = [ct.c_char_p, ct.c_void_p, ct.c_void_p, ct.POINTER(ct.c_int)]
        libc = ct.CDLL(None)
        free = libc.free
        free.argtypes = [ct.c_void_p]
        free.restype = None
        _demangler = (fn, free)
    fn, free = _demangler
    status = ct.c_int(0)
    out = fn(name.encode(), None, None, ct.byref(status))
    if not out or status.value != 0:
        return name
    text = ct.cast(out, ct.c_char_p).value.decode(errors="replace")
    free(out)
    return text


# -------------------------------------------------------------------- USDT


def usdt_probes(path: str, pid: int = -1) -> list[UsdtProbe]:
    """Every USDT probe of a binary (or, with a pid, of the binary and the
    libraries that process has mapped), with its locations and their
    argument specs."""
    ctx = lib().usdt_new_frompid(pid, path.encode()) if pid > 0 else lib().usdt_new_frompath(path.encode())
    if not ctx:
        raise SymbolError(f"cannot read the USDT probes of {path}")
    try:
        headers: list[tuple[bytes, bytes, bytes, int, int, int]] = []

        def each(p):
            u = p.contents
            headers.append((u.provider, u.name, u.bin_path, u.semaphore, u.num_locations, u.num_arguments))

        lib().usdt_foreach(ctx, _USDT_CB(each))
        probes = []
        for provider, name, bin_path, semaphore, nlocs, nargs in headers:
            binary = os.path.abspath(bin_path.decode())
            locations = []
            for i in range(nlocs):
                loc = _UsdtLocation()
                if lib().usdt_get_location(ctx, provider, name, i, ct.byref(loc)) < 0:
                    raise SymbolError(f"cannot read location {i} of USDT probe {provider.decode()}:{name.decode()}")
                where = os.path.abspath(loc.bin_path.decode()) if loc.bin_path else binary
                args = tuple(_usdt_argument(ctx, provider, name, i, a) for a in range(nargs))
                locations.append(UsdtLocation(where, file_offset(where, address=loc.address), args))
            probes.append(UsdtProbe(binary, provider.decode(), name.decode(),
                                    data_offset(binary, semaphore) if semaphore else 0, tuple(locations)))
        return probes
    finally:
        lib().usdt_close(ctx)


def _usdt_argument(ctx, provider: bytes, name: bytes, location: int, index: int) -> UsdtArgument:
    raw = _UsdtArgument()
    if lib().usdt_get_argument(ctx, provider, name, location, index, ct.byref(raw)) < 0:
        raise SymbolError(f"cannot read argument {index} of USDT probe {provider.decode()}:{name.decode()}")
    valid = raw.valid
    if valid & ARG_DEREF_IDENT:
        raise SymbolError(f"argument {index} of USDT probe {provider.decode()}:{name.decode()} is at a"
                          f" symbol ({raw.deref_ident.decode()}), which pytrace cannot read yet")
    base = raw.base_register_name.decode() if valid & ARG_BASE and raw.base_register_name else None
    index_reg = raw.index_register_name.decode() if valid & ARG_INDEX and raw.index_register_name else None
    return UsdtArgument(
        size=raw.size or 8, constant=raw.constant if valid & ARG_CONSTANT else 0, base=base,
        index=index_reg, scale=raw.scale if valid & ARG_SCALE else 1,
        offset=raw.deref_offset if valid & ARG_DEREF_OFFSET else 0,
        deref=bool(valid & ARG_DEREF_OFFSET) and base is not None,
    )


def data_offset(path: str, address: int) -> int:
    """The file offset of a virtual address in any loaded segment (a USDT
    semaphore lives in a writable one, which bcc does not translate)."""
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= address < seg["p_vaddr"] + seg["p_memsz"]:
                return address - seg["p_vaddr"] + seg["p_offset"]
    raise SymbolError(f"address {address:#x} is in no segment of {path}")


# --------------------------------------------------------------- symbolise


class Resolved(Record):
    """An address as a symbol: the function, the offset into it and the
    module (binary or "[kernel]"); name None when nothing covers it."""

    __slots__ = ("name", "offset", "module")

    def __init__(self, name: str | None, offset: int, module: str):
        self.name = name
        self.offset = offset
        self.module = module


class KernelSymbols:
    """bcc's cache of the kernel's symbols (/proc/kallsyms)."""

    def __init__(self):
        self._cache = lib().symcache_new(-1, None)
        self._memo: dict[int, Resolved] = {}

    def resolve(self, address: int) -> Resolved:
        found = self._memo.get(address)
        if found is None:
            sym = _BccSymbol()
            if self._cache and lib().symcache_resolve(self._cache, address, ct.byref(sym)) == 0 and sym.name:
                found = Resolved(sym.name.decode(errors="replace"), sym.offset, "[kernel]")
            else:
                found = Resolved(None, 0, "[kernel]")
            self._memo[address] = found
        return found

    def close(self) -> None:
        if self._cache:
            lib().free_symcache(self._cache, -1)
            self._cache = None


class ProcessSymbols:
    """A process's executable mappings, read from /proc/PID/maps when made
    (make it while the process lives: its addresses resolve after it exits,
    from the same files), and the symbols of the files mapped there.

    Written here rather than taken from bcc's per-process cache: Debian's
    bcc 0.26 closes a file descriptor it does not own when that cache reads
    a process's modules (ProcSyms::ModulePath), and its caches share no
    symbol table between processes running the same binaries."""

    def __init__(self, pid: int):
        self.pid = pid
        # start, end, file offset, path, (device, inode)
        self.mappings: list[tuple[int, int, int, str, tuple]] = []
        try:
            with open(f"/proc/{pid}/maps") as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and "x" in parts[1]:
                        low, _, high = parts[0].partition("-")
                        path = parts[5].strip()
                        if path.startswith("/") or path == "[vdso]":
                            self.mappings.append((int(low, 16), int(high, 16), int(parts[2], 16), path,
                                                  (parts[3], parts[4])))
        except OSError:
            pass  # gone already: nothing resolves
        self._memo: dict[int, Resolved] = {}

    def resolve(self, address: int) -> Resolved:
        found = self._memo.get(address)
        if found is None:
            found = self._resolve(address)
            self._memo[address] = found
        return found

    def _resolve(self, address: int) -> Resolved:
        for start, end, offset, path, file_id in self.mappings:
            if start <= address < end:
                table = _file_table(path, file_id, self.pid)
                if table is None:
                    return Resolved(None, 0, path)
                name, into = table.lookup(address - start + offset)
                return Resolved(name, into, path)
        return Resolved(None, 0, "")

    def close(self) -> None:
        self.mappings = []


class _FileTable:
    """One file's functions, found by file offset (its executable segments
    map file offsets to the addresses its symbols have)."""

    def __init__(self, symbols: list[Symbol], segments: list[tuple[int, int, int]]):
        symbols = sorted((s for s in symbols if s.size), key=lambda s: s.address)
        self.starts = [s.address for s in symbols]
        self.symbols = symbols
        self.segments = segments  # (address, size, file offset)

    def lookup(self, file_offset: int) -> tuple[str | None, int]:
        import bisect

        address = file_offset
        for vaddr, size, offset in self.segments:
            if offset <= file_offset < offset + size:
                address = vaddr + file_offset - offset
                break
        i = bisect.bisect_right(self.starts, address) - 1
        if i >= 0:
            sym = self.symbols[i]
            if address < sym.address + sym.size:
                return demangle(sym.name), address - sym.address
        return None, 0


_tables: dict[tuple, _FileTable | None] = {}


def _file_table(path: str, file_id: tuple, pid: int) -> _FileTable | None:
    """The symbol table of a mapped file, read once per run and file (its
    device and inode: two containers may map different files at one path),
    through the process's own root when the path is not in ours (another
    mount namespace, while the process still runs)."""
    key = (path, file_id)
    if key in _tables:
        return _tables[key]
    table = None
    try:
        if path == "[vdso]":
            found: list[Symbol] = []

            def each(name, address, size, _payload):
                found.append(Symbol(name.decode(errors="replace"), address, size))
                return 0

            vdso_callback = _SYM_CB(each)
            lib().foreach_vdso_sym(vdso_callback, None)
            table = _FileTable(found, [])
        else:
            where = path if os.path.exists(path) else f"/proc/{pid}/root{path}"
            segments: list[tuple[int, int, int]] = []

            def section(vaddr, size, offset, _payload):
                segments.append((vaddr, size, offset))
                return 0

            section_callback = _SECTION_CB(section)
            lib().foreach_load_section(where.encode(), section_callback, None)
            table = _FileTable(functions(where), segments)
    except (SymbolError, OSError):
        table = None
    _tables[key] = table
    return table
