"""The program's maps in the kernel: create them, read them back, close them."""

from __future__ import annotations

import ctypes as ct
import errno as E
import os

from pytrace.program import MAP_RINGBUF, MapSpec
from pytrace.runtime import bpf, libbcc
from pytrace.runtime.decode import cpu_slots, decode_key, merge_value, round_up8
from pytrace.runtime.errors import LoadError, NeedRootError


class Map:
    """One created map: its spec and fd."""

    def __init__(self, spec: MapSpec, ncpus: int):
        self.spec = spec
        self.ncpus = ncpus
        self.fd = -1
        key_size, value_size = spec.key_size, spec.value_size
        if spec.map_type == MAP_RINGBUF:
            key_size = value_size = 0
        fd = libbcc.bcc_create_map(
            spec.map_type, bpf.object_name(spec.name).encode(), key_size, value_size,
            spec.max_entries, 0,
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
            raise LoadError(f"cannot create map {spec.name}: {os.strerror(err)}.")
        self.fd = fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _value_buffer_size(self) -> int:
        if self.spec.per_cpu:
            return round_up8(self.spec.value_size) * self.ncpus
        return self.spec.value_size

    def raw_items(self) -> list[tuple[bytes, bytes]]:
        """Every (key, value) as bytes; a per-CPU value holds every CPU's slot."""
        spec = self.spec
        key = ct.create_string_buffer(max(spec.key_size, 1))
        next_key = ct.create_string_buffer(max(spec.key_size, 1))
        value = ct.create_string_buffer(max(self._value_buffer_size(), 1))
        items = []
        prev = None
        while libbcc.bpf_get_next_key(self.fd, prev, next_key) == 0:
            ct.memmove(key, next_key, spec.key_size)
            prev = key
            if libbcc.bpf_lookup_elem(self.fd, key, value) != 0:
                continue  # deleted meanwhile
            items.append((key.raw[:spec.key_size], value.raw[:self._value_buffer_size()]))
        return items

    def counter_total(self) -> int:
        """The sum over CPUs of a per-CPU u64 counter's every element."""
        total = 0
        for _, v in self.raw_items():
            for slot in cpu_slots(v, self.spec.value_size, self.ncpus):
                total += int.from_bytes(slot[:8], "little")
        return total

    def entries(self) -> list[tuple[tuple, int | str]]:
        """Decoded (key values, merged value) pairs of a printable map."""
        spec = self.spec
        assert spec.value is not None
        result = []
        for k, v in self.raw_items():
            slots = cpu_slots(v, spec.value_size, self.ncpus) if spec.per_cpu else [v]
            result.append((decode_key(spec.keys, k), merge_value(spec.value, slots)))
        return result
