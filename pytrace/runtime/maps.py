"""The program's maps in the kernel: create them, read them back (in
batches), clear and zero them, close them."""

from __future__ import annotations

import ctypes as ct
import errno as E
import os

from operator import add

from pytrace.aggregations import MASK64, row
from pytrace.program import MAP_RINGBUF, Field, MapSpec
from pytrace.runtime import bpf, libbcc
from pytrace.runtime.decode import decode_field, decode_keys, round_up8
from pytrace.runtime.names import NO_NAMES
from pytrace.values import Pointer, enum_decoder
from pytrace.runtime.errors import LoadError, NeedRootError

DEFAULT_KEYS_MAX = 4096  # settings.SETTINGS['max_map_keys'].default
BATCH = 8192  # elements per BPF_MAP_LOOKUP_BATCH call
BATCH_BYTES = 8 << 20  # ... and at most this many bytes of values


def keys_max(config: dict | None = None, environ=None) -> int:
    """The user maps' size: PYTRACE_MAP_KEYS_MAX, BPFTRACE_MAX_MAP_KEYS or
    BPFTRACE_MAP_KEYS_MAX, else the script's config (max_map_keys), else
    4096 (bpftrace's default)."""
    from pytrace import settings

    try:
        return settings.resolve("max_map_keys", config or {}, environ)
    except settings.SettingError as e:
        raise LoadError(f"{e}.") from None


def stacks_spec(spec: MapSpec, environ=os.environ) -> MapSpec:
    """The stack map, as many stacks as PYTRACE_STACKS_MAX says (default
    program.STACKS_MAX)."""
    text = environ.get("PYTRACE_STACKS_MAX")
    if not text:
        return spec
    if not text.isdigit() or int(text) == 0:
        raise LoadError(f"PYTRACE_STACKS_MAX={text!r} is not a positive number of stacks.")
    return MapSpec(spec.name, spec.symbol, spec.map_type, spec.key_size, spec.value_size, int(text),
                   spec.keys, spec.value, spec.flags)


class Map:
    """One created map: its spec, fd and size."""

    def __init__(self, spec: MapSpec, ncpus: int, max_entries: int = DEFAULT_KEYS_MAX, names=None):
        self.spec = spec
        self.names = names  # resolves keys of ids and addresses (runtime.names.Names)
        self.ncpus = ncpus if spec.per_cpu else 1
        self.fd = -1
        self.max_entries = spec.max_entries or max_entries
        key_size, value_size = spec.key_size, spec.value_size
        if spec.map_type == MAP_RINGBUF:
            key_size = value_size = 0
        fd = libbcc.bcc_create_map(
            spec.map_type, bpf.object_name(spec.name).encode(), key_size, value_size,
            self.max_entries, spec.flags,
        )
        if fd < 0:
            err = libbcc.errno()
            if err == E.EPERM and not bpf.can_use_bpf():
                raise NeedRootError()
            if err == E.EPERM:
                raise LoadError(
                    f"the kernel refused to create map {spec.name} (EPERM); BPF may be"
                    " restricted on this machine (lockdown or kernel.unprivileged_bpf_disabled)."
                )
            if err in (E.ENOMEM, E.E2BIG, E.EINVAL) and spec.value is not None:
                raise LoadError(
                    f"cannot create map {spec.name} with {self.max_entries} keys of"
                    f" {self.value_stride * self.ncpus} bytes: {os.strerror(err)}"
                    " (lower BPFTRACE_MAP_KEYS_MAX)."
                )
            raise LoadError(f"cannot create map {spec.name}: {os.strerror(err)}.")
        self.fd = fd
        self._batch_ok = True

    @property
    def value_stride(self) -> int:
        """One CPU's value as the kernel lays it out (8-aligned)."""
        return round_up8(self.spec.value_size) if self.spec.per_cpu else self.spec.value_size

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # ------------------------------------------------------------ reading

    def raw(self) -> tuple[bytes, bytes, int]:
        """Every element at once: (keys, values, count), the keys packed
        key_size apart and the values value_stride * ncpus apart. Uses
        BPF_MAP_LOOKUP_BATCH (a few syscalls for the whole map) and falls
        back to one lookup per key where the kernel refuses it."""
        if self._batch_ok:
            try:
                return self._raw_batched()
            except OSError:
                self._batch_ok = False
        return self._raw_one_by_one()

    def _raw_batched(self) -> tuple[bytes, bytes, int]:
        spec = self.spec
        key_size = max(spec.key_size, 1)
        value_size = self.value_stride * self.ncpus
        # Elements per call: BATCH, but at most BATCH_BYTES of values (a
        # histogram on many CPUs is tens of KiB an element).
        chunk = max(1, min(BATCH, self.max_entries, BATCH_BYTES // max(value_size, 1)))
        token = max(key_size, 8)
        in_batch = ct.create_string_buffer(token)
        out_batch = ct.create_string_buffer(token)
        keys = ct.create_string_buffer(key_size * chunk)
        values = ct.create_string_buffer(value_size * chunk)
        keys_out, values_out, total = [], [], 0
        first = True
        while True:
            count = ct.c_uint32(chunk)
            ret = libbcc.bpf_lookup_batch(
                self.fd, None if first else ct.cast(in_batch, ct.POINTER(ct.c_uint32)),
                ct.cast(out_batch, ct.POINTER(ct.c_uint32)), keys, values, ct.byref(count))
            err = libbcc.errno() if ret < 0 else 0
            if ret < 0 and err == E.ENOSPC and chunk < self.max_entries * 2:
                chunk *= 2  # a hash bucket holds more than fit: retry bigger
                keys = ct.create_string_buffer(key_size * chunk)
                values = ct.create_string_buffer(value_size * chunk)
                continue
            if ret < 0 and err != E.ENOENT:
                raise OSError(err, os.strerror(err))
            n = count.value
            if n:
                keys_out.append(ct.string_at(keys, n * key_size))
                values_out.append(ct.string_at(values, n * value_size))
                total += n
            if ret < 0:  # ENOENT: that was the last batch
                break
            ct.memmove(in_batch, out_batch, token)
            first = False
        return b"".join(keys_out), b"".join(values_out), total

    def _raw_one_by_one(self) -> tuple[bytes, bytes, int]:
        spec = self.spec
        key_size = max(spec.key_size, 1)
        value_size = self.value_stride * self.ncpus
        key = ct.create_string_buffer(key_size)
        next_key = ct.create_string_buffer(key_size)
        value = ct.create_string_buffer(max(value_size, 1))
        keys, values = [], []
        prev = None
        while libbcc.bpf_get_next_key(self.fd, prev, next_key) == 0:
            ct.memmove(key, next_key, key_size)
            prev = key
            if libbcc.bpf_lookup_elem(self.fd, key, value) != 0:
                continue  # deleted meanwhile
            keys.append(key.raw)
            values.append(value.raw[:value_size])
        return b"".join(keys), b"".join(values), len(keys)

    def entries(self) -> list[tuple[tuple, object]]:
        """Decoded (key values, value) pairs of a user map."""
        spec = self.spec
        assert spec.value is not None
        keys, values, n = self.raw()
        if not n:
            return []
        return list(zip(decode_keys(spec.keys, spec.key_size, keys, n, self.names),
                        self._values(values, n)))

    def _values(self, raw: bytes, n: int) -> list:
        values = self._merged(raw, n)
        value = self.spec.value
        if value.kind == "resolved":  # ids and addresses: what they stand for
            kind, mode = value.params
            resolve = (self.names or NO_NAMES).resolver(kind, mode)
            values = [resolve(v) for v in values]
        elif value.kind == "ptr":  # added up in bulk as ints: printed as pointers
            values = [Pointer(v) for v in values]
        elif value.kind == "enum":  # ... and as enumerators
            name_of = enum_decoder(value.params[0])
            values = [name_of(v) for v in values]
        elif value.kind == "tuple":
            (whole,) = value.params  # the tuple's Field, at offset 0
            values = [decode_field(whole, v, self.names) for v in values]
        return values

    def _merged(self, raw: bytes, n: int) -> list:
        spec = self.spec
        agg = row(spec.value.kind)
        ncpus = self.ncpus
        if agg.shape == "int" and self.value_stride == 8:
            # One u64 per CPU (count, sum, plain ints): add the CPUs up in bulk.
            flat = memoryview(raw).cast("Q")
            sums = flat[0::ncpus].tolist()
            for c in range(1, ncpus):
                sums = list(map(add, sums, flat[c::ncpus].tolist()))
            if sums and max(sums) >> 63:  # wrap as the kernel's 64-bit adds do
                if spec.value.signed:
                    sums = [(v & MASK64) - (1 << 64) if v & (1 << 63) else v & MASK64 for v in sums]
                else:
                    sums = [v & MASK64 for v in sums]
            return sums
        stride = self.value_stride * ncpus
        merge = agg.merge
        view = memoryview(raw)
        value = spec.value
        return [merge(view[i * stride:(i + 1) * stride].cast("Q"), ncpus, value) for i in range(n)]

    def put(self, index: int, value: int) -> None:
        """Set a u32 slot of an array-like map (a program table's entry to a
        program's fd)."""
        key, val = ct.c_uint32(index), ct.c_uint32(value)
        if libbcc.bpf_update_elem(self.fd, ct.byref(key), ct.byref(val), 0) != 0:
            err = libbcc.errno()
            raise LoadError(f"cannot set entry {index} of {self.spec.name}: {os.strerror(err)}.")

    def lookup(self, key: bytes) -> bytes | None:
        """One element's value (all CPUs' for a per-CPU map), or None."""
        value = ct.create_string_buffer(max(self.value_stride * self.ncpus, 1))
        if libbcc.bpf_lookup_elem(self.fd, ct.c_char_p(key), value) != 0:
            return None
        return value.raw

    def words(self) -> list[int]:
        """The u64 words of a one-element array's value (the counters)."""
        key = ct.c_uint32(0)
        value = ct.create_string_buffer(self.spec.value_size)
        if libbcc.bpf_lookup_elem(self.fd, ct.byref(key), value) != 0:
            return [0] * (self.spec.value_size // 8)
        return memoryview(value.raw).cast("Q").tolist()

    # ------------------------------------------------------------ writing

    def clear(self) -> None:
        """Delete every element (clear())."""
        keys, _, n = self.raw()
        key_size = max(self.spec.key_size, 1)
        buf = ct.create_string_buffer(key_size)
        for i in range(n):
            ct.memmove(buf, keys[i * key_size:(i + 1) * key_size], key_size)
            libbcc.bpf_delete_elem(self.fd, buf)

    def zero(self) -> None:
        """Set every element's value to zero on every CPU (zero())."""
        keys, _, n = self.raw()
        key_size = max(self.spec.key_size, 1)
        buf = ct.create_string_buffer(key_size)
        zero = ct.create_string_buffer(max(self.value_stride * self.ncpus, 1))
        for i in range(n):
            ct.memmove(buf, keys[i * key_size:(i + 1) * key_size], key_size)
            libbcc.bpf_update_elem(self.fd, buf, zero, 2)  # BPF_EXIST
