"""Records from the BPF side: the ring buffer, and what each record means.

Record layout (see program.py): a u64 record id at offset 0, then the
arguments at the offsets their `Field`s give, counted from the record's
first byte. RECORD_EXIT asks to stop; RECORD_OUTPUT_BASE + i is outputs[i].
"""

from __future__ import annotations

import os
import struct

from pytrace.program import RECORD_EXIT, RECORD_OUTPUT_BASE, RECORD_PID, OutputSpec
from pytrace.runtime import libbcc
from pytrace.runtime.decode import decode_field
from pytrace.runtime.errors import LoadError, RuntimeFailure
from pytrace.runtime.printf import Clock, compile_printf

_ID = struct.Struct("<Q").unpack_from
_EXIT_ID = struct.pack("<Q", RECORD_EXIT)
_PID_ID = struct.pack("<Q", RECORD_PID)


class RingBuffer:
    """Reads the ring buffer map through bcc (libbpf's ring_buffer). The map
    fd itself is pollable (EPOLLIN while records are pending), so the caller
    waits on `fd` in its own epoll and then calls `read()`."""

    BATCH = 4096

    def __init__(self, map_fd: int):
        self.fd = map_fd
        self._records: list[bytes] = []
        self._cb = libbcc.RINGBUF_CB(self._make_callback())
        self._rb = libbcc.bpf_new_ringbuf(map_fd, self._cb, None)
        if not self._rb:
            err = libbcc.errno()
            raise LoadError(f"cannot open the ring buffer: {os.strerror(err) if err else 'failed'}.")

    def _make_callback(self):
        records = self._records
        append = records.append
        batch = self.BATCH

        def on_record(_ctx, data, size) -> int:
            append(data[:size])
            # A negative return makes libbpf stop after this (consumed)
            # record, so one read() is bounded while producers keep writing.
            return -1 if len(records) >= batch else 0

        return on_record

    def read(self) -> list[bytes]:
        """The records pending now, at most BATCH (more may remain)."""
        libbcc.bpf_consume_ringbuf(self._rb)
        records = self._records[:]
        self._records.clear()
        return records

    def close(self) -> None:
        if self._rb:
            libbcc.bpf_free_ringbuf(self._rb)
            self._rb = None


class RecordHandler:
    """Acts on records: printf text and the other output kinds go to the
    Output, map records print, clear or zero a map, and exit() stops.

    Each OutputSpec of the program gets a handler once, at start, keyed by
    its record id's 8 bytes: printf's is the compiled render (the hot path:
    one dict lookup, one render, one write per record), the others an
    action built by the ACTIONS table. As in bpftrace, records that come
    after an exit record are dropped (until `resume()`, before END runs)."""

    def __init__(self, outputs: list[OutputSpec], output, maps: dict, clock: Clock | None = None,
                 names=None):
        self.output = output
        clock = clock or Clock()
        self._renders = {}
        self._actions = {}
        for i, spec in enumerate(outputs):
            rid = struct.pack("<Q", RECORD_OUTPUT_BASE + i)
            if spec.kind == "printf":
                self._renders[rid] = compile_printf(spec, clock, names).render
            else:
                self._actions[rid] = ACTIONS[spec.kind](spec, output, maps, clock, names)
        seen = names.process_seen if names is not None else (lambda pid: None)
        self._actions[_PID_ID] = lambda rec: seen(_ID(rec, 8)[0])
        self.exit_seen = False
        self.exit_code = 0  # exit(code)'s code, pytrace's exit status
        self._dropping = False

    def resume(self) -> None:
        self._dropping = False

    @staticmethod
    def would_exit(records: list[bytes]) -> bool:
        """Whether these records hold an exit() (before handling them)."""
        return any(rec[:8] == _EXIT_ID for rec in records)

    def handle(self, records: list[bytes]) -> None:
        if self._dropping:
            return
        renders = self._renders
        printf = self.output.printf
        for rec in records:
            render = renders.get(rec[:8])
            if render is not None:
                try:
                    printf(render(rec))
                except struct.error as err:
                    raise _malformed(rec, err) from None
                continue
            action = self._actions.get(rec[:8])
            if action is not None:
                action(rec)
                continue
            if len(rec) < 8:
                raise _malformed(rec, "no record id")
            rid = _ID(rec)[0]
            if rid != RECORD_EXIT:
                raise RuntimeFailure(f"received a record with unknown id {rid}; this is a pytrace bug.")
            self.exit_seen = True
            if len(rec) >= 16:  # exit(code)
                self.exit_code = _ID(rec[8:16])[0] & 0xFF
            self._dropping = True
            break


# ------------------------------------------------------------ actions
# kind -> (spec, output, maps by symbol, clock, probe names) -> the record's handler


def _print_map(spec, output, maps, clock, names):
    m = maps[spec.map]
    return lambda rec: output.map(m.spec, m.entries(), spec.top, spec.div)


def _clear(spec, output, maps, clock, names):
    m = maps[spec.map]
    return lambda rec: m.clear()


def _zero(spec, output, maps, clock, names):
    m = maps[spec.map]
    return lambda rec: m.zero()


def _print_value(spec, output, maps, clock, names):
    (field,) = spec.args
    if field.kind == "timestamp":
        return lambda rec: output.value(clock.format(field.fmt, decode_field(field, rec)))
    return lambda rec: output.value(decode_field(field, rec, names))


def _time(spec, output, maps, clock, names):
    fmt = spec.fmt
    return lambda rec: output.time(clock.format(fmt))


def _join(spec, output, maps, clock, names):
    """[n][n NUL-padded strings]: the first n, joined by the separator."""
    count, *slots = spec.args
    sep = spec.fmt

    def act(rec: bytes) -> None:
        n = min(decode_field(count, rec), len(slots))
        output.join(sep.join(decode_field(slot, rec) for slot in slots[:n]))

    return act


def _formatted(act):
    """An action on the text a printf-like record renders to."""
    def build(spec, output, maps, clock, names):
        render = compile_printf(spec, clock, names).render
        return lambda rec: act(render(rec), spec, output)
    return build


def _errorf(text: str, spec, output) -> None:
    output.message(f"{spec.fmt}: ERROR: {text.rstrip(chr(10))}\n")


def _warnf(text: str, spec, output) -> None:
    output.message(f"{spec.fmt}: WARNING: {text.rstrip(chr(10))}\n", warning=True)


CAT_BYTES_MAX = 10240  # bpftrace's max_cat_bytes


def _cat(path: str, spec, output) -> None:
    """cat(): the file's text, as bpftrace prints it (at most CAT_BYTES_MAX)."""
    try:
        with open(path, "rb") as f:
            data = f.read(CAT_BYTES_MAX)
    except OSError as e:
        output.message(f"ERROR: failed to open file '{path}': {e.strerror}\n")
        return
    output.printf(data.decode(errors="replace"))


def _system(command: str, spec, output) -> None:
    """system() (--unsafe): the command's output, in order with ours."""
    import subprocess

    output.flush()
    done = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, check=False)
    output.printf(done.stdout.decode(errors="replace"))


# -k: what a failed helper means (upstream's words), by helper and return code
_HELPER_MESSAGES = {("map_lookup_elem", 0): "Can't lookup map element because it does not exist.",
                    ("map_delete_elem", -2): "Can't delete map element because it does not exist."}


def _helper_error(spec, output, maps, clock, names):
    """-k: `LOCATION: WARNING: what failed`, then the helper and its return
    code, as bpftrace prints them."""
    import os

    (helper,) = spec.pieces

    def act(rec: bytes) -> None:
        ret = struct.unpack_from("<q", rec, 8)[0]
        text = _HELPER_MESSAGES.get((helper, ret)) or (os.strerror(-ret) if ret < 0 else f"{helper} failed")
        output.message(f"{spec.fmt}: WARNING: {text}\n       Additional Info - helper: {helper}, retcode: {ret}\n",
                       warning=True)
    return act


ACTIONS = {"helper_error": _helper_error, "join": _join, "print_map": _print_map, "clear": _clear, "zero": _zero,
           "print_value": _print_value, "time": _time, "errorf": _formatted(_errorf),
           "warnf": _formatted(_warnf), "cat": _formatted(_cat), "system": _formatted(_system)}


def _malformed(rec: bytes, why) -> RuntimeFailure:
    return RuntimeFailure(f"received a malformed record ({len(rec)} bytes: {why}); this is a pytrace bug.")
