"""ctypes prototypes for the kernel interface, and nothing else.

Everything the runtime calls in C is declared here, each through `_bind`, so
a wrong signature shows up in one place (bcc's own `libbcc.py` once set
`argtype` instead of `argtypes`, which ctypes silently ignores).

Two libraries are used:

- `libbcc_bpf.so.0`, bcc's small BPF library (opens in ~2 ms). We do not
  load `libbcc.so.0` (~27 ms: symbol caches, USDT) nor `import bcc`.
- libc, for `syscall(2)`: the bpf() commands bcc has no wrapper for, or whose
  bcc wrapper prints to stderr on failure (see `pytrace.runtime.bpf`).

All functions set `errno` on failure; read it with `ctypes.get_errno()`
(both libraries are opened with `use_errno=True`).
"""

from __future__ import annotations

import ctypes as ct

_bcc = ct.CDLL("libbcc_bpf.so.0", use_errno=True)
_libc = ct.CDLL(None, use_errno=True)


def _bind(name: str, restype, *argtypes, lib: ct.CDLL = _bcc):
    fn = lib[name]  # a fresh function object: two bindings of syscall() keep their own argtypes
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


# int bcc_create_map(enum bpf_map_type, const char *name, int key_size,
#                    int value_size, int max_entries, int map_flags)
bcc_create_map = _bind(
    "bcc_create_map", ct.c_int, ct.c_int, ct.c_char_p, ct.c_int, ct.c_int, ct.c_int, ct.c_int
)

# int bcc_prog_load(enum bpf_prog_type, const char *name, const struct bpf_insn *,
#                   int prog_len, const char *license, unsigned kern_version,
#                   int log_level, char *log_buf, unsigned log_buf_size)
# Bound for completeness; the runtime loads through `bpf.prog_load` instead,
# because bcc_prog_load writes the whole verifier log and its hints to stderr
# whenever a load fails.
bcc_prog_load = _bind(
    "bcc_prog_load", ct.c_int, ct.c_int, ct.c_char_p, ct.c_void_p, ct.c_int, ct.c_char_p,
    ct.c_uint, ct.c_int, ct.c_char_p, ct.c_uint,
)

# int bpf_attach_tracepoint(int progfd, const char *category, const char *name)
# -> a perf event fd
bpf_attach_tracepoint = _bind(
    "bpf_attach_tracepoint", ct.c_int, ct.c_int, ct.c_char_p, ct.c_char_p
)
# int bpf_detach_tracepoint(const char *category, const char *name)
# (a no-op in bcc 0.26: closing the perf fd is what detaches)
bpf_detach_tracepoint = _bind("bpf_detach_tracepoint", ct.c_int, ct.c_char_p, ct.c_char_p)

# int bpf_attach_perf_event(int progfd, uint32_t ev_type, uint32_t ev_config,
#                           uint64_t sample_period, uint64_t sample_freq,
#                           pid_t pid, int cpu, int group_fd) -> a perf event fd
bpf_attach_perf_event = _bind(
    "bpf_attach_perf_event", ct.c_int, ct.c_int, ct.c_uint32, ct.c_uint32, ct.c_uint64,
    ct.c_uint64, ct.c_int, ct.c_int, ct.c_int,
)
# int bpf_close_perf_event_fd(int fd): disable, then close
bpf_close_perf_event_fd = _bind("bpf_close_perf_event_fd", ct.c_int, ct.c_int)

# typedef int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size);
# `data` as char *: the callback copies a record with data[:size] (~0.2 us),
# five times cheaper than ctypes.string_at on a void *.
RINGBUF_CB = ct.CFUNCTYPE(ct.c_int, ct.c_void_p, ct.POINTER(ct.c_char), ct.c_size_t)
# struct ring_buffer *bpf_new_ringbuf(int map_fd, ring_buffer_sample_fn, void *ctx)
bpf_new_ringbuf = _bind("bpf_new_ringbuf", ct.c_void_p, ct.c_int, RINGBUF_CB, ct.c_void_p)
# int bpf_poll_ringbuf(struct ring_buffer *, int timeout_ms)
bpf_poll_ringbuf = _bind("bpf_poll_ringbuf", ct.c_int, ct.c_void_p, ct.c_int)
# int bpf_consume_ringbuf(struct ring_buffer *): records consumed, or < 0 when
# a callback returned < 0 (that record is consumed; later ones are kept)
bpf_consume_ringbuf = _bind("bpf_consume_ringbuf", ct.c_int, ct.c_void_p)
# void bpf_free_ringbuf(struct ring_buffer *)
bpf_free_ringbuf = _bind("bpf_free_ringbuf", None, ct.c_void_p)

# int bpf_lookup_elem(int fd, void *key, void *value)
bpf_lookup_elem = _bind("bpf_lookup_elem", ct.c_int, ct.c_int, ct.c_void_p, ct.c_void_p)
# int bpf_update_elem(int fd, void *key, void *value, unsigned long long flags)
bpf_update_elem = _bind(
    "bpf_update_elem", ct.c_int, ct.c_int, ct.c_void_p, ct.c_void_p, ct.c_ulonglong
)
# int bpf_get_next_key(int fd, void *key, void *next_key); key NULL -> first key
bpf_get_next_key = _bind("bpf_get_next_key", ct.c_int, ct.c_int, ct.c_void_p, ct.c_void_p)
# int bpf_delete_elem(int fd, void *key)
bpf_delete_elem = _bind("bpf_delete_elem", ct.c_int, ct.c_int, ct.c_void_p)
# int bpf_lookup_batch(int fd, __u32 *in_batch, __u32 *out_batch, void *keys,
#                      void *values, __u32 *count)
bpf_lookup_batch = _bind(
    "bpf_lookup_batch", ct.c_int, ct.c_int, ct.POINTER(ct.c_uint32), ct.POINTER(ct.c_uint32),
    ct.c_void_p, ct.c_void_p, ct.POINTER(ct.c_uint32),
)

# long syscall(long number, ...): used as syscall(SYS_bpf, cmd, attr*, size)
syscall_bpf = _bind("syscall", ct.c_long, ct.c_long, ct.c_int, ct.c_void_p, ct.c_uint,
                    lib=_libc)


# long syscall(long number, ...): used as syscall(SYS_perf_event_open, attr*, pid, cpu,
# group_fd, flags)
syscall_perf_event_open = _bind("syscall", ct.c_long, ct.c_long, ct.c_void_p, ct.c_int, ct.c_int,
                                ct.c_int, ct.c_ulong, lib=_libc)


def errno() -> int:
    """errno as left by the last call made through this module."""
    return ct.get_errno()
