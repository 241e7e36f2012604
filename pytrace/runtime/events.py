"""Records from the BPF side: the ring buffer, and what each record means.

Record layout (see program.py): a u64 record id at offset 0, then the
arguments at the offsets their `Field`s give, counted from the record's
first byte. RECORD_EXIT asks to stop; RECORD_PRINTF_BASE + i is printfs[i].
"""

from __future__ import annotations

import os
import struct

from pytrace.program import RECORD_EXIT, RECORD_PRINTF_BASE
from pytrace.runtime import libbcc
from pytrace.runtime.errors import LoadError, RuntimeFailure
from pytrace.runtime.format import Printf

_ID = struct.Struct("<Q").unpack_from


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
    """Turns records into output text and notices exit().

    As in bpftrace, records that come after an exit record are dropped
    (until `resume()`, called before END runs)."""

    def __init__(self, printfs: list[Printf]):
        self.printfs = printfs
        # The record's first 8 bytes (its id) -> that printf's render.
        self._renders = {
            struct.pack("<Q", RECORD_PRINTF_BASE + i): p.render for i, p in enumerate(printfs)
        }
        self.exit_seen = False
        self._dropping = False

    def resume(self) -> None:
        self._dropping = False

    def handle(self, records: list[bytes]) -> str:
        if self._dropping:
            return ""
        renders = self._renders
        out = []
        append = out.append
        for rec in records:
            render = renders.get(rec[:8])
            if render is not None:
                try:
                    append(render(rec))
                except struct.error as err:
                    raise _malformed(rec, err) from None
                continue
            if len(rec) < 8:
                raise _malformed(rec, "no record id")
            rid = _ID(rec)[0]
            if rid != RECORD_EXIT:
                raise RuntimeFailure(f"received a record with unknown id {rid}; this is a pytrace bug.")
            self.exit_seen = True
            self._dropping = True
            break
        return "".join(out)


def _malformed(rec: bytes, why) -> RuntimeFailure:
    return RuntimeFailure(f"received a malformed record ({len(rec)} bytes: {why}); this is a pytrace bug.")
