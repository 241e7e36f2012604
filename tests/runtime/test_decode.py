"""decode.py, relocation patching and error messages, without a kernel."""

from __future__ import annotations

import errno
import struct

import pytest

from bpf_asm import Asm, hello_program, p64
from pytrace.program import CONST_CPID, CONST_START_NS, Field, RINGBUF_NAME, ValueSpec
from pytrace.runtime import bpf, loader
from pytrace.aggregations import linear_buckets, log2_buckets
from pytrace.runtime.decode import c_string, cpu_slots, decode_key, decode_keys, merge_value
from pytrace.values import Bucket, Stats
from pytrace.runtime.errors import LoadError, NeedRootError, RuntimeFailure, VerifierError


def slot(*words: int) -> bytes:
    return b"".join(p64(w) for w in words)


def test_decode_key_int_and_str():
    fields = [Field("int", 0, 8, signed=True), Field("int", 8, 4), Field("str", 12, 8)]
    raw = p64(-1) + struct.pack("<I", 0xFFFFFFFF) + b"ab\0junk!"
    assert decode_key(fields, raw) == (-1, 0xFFFFFFFF, "ab")
    assert decode_key([], b"\0" * 8) == ()


def test_c_string():
    assert c_string(b"comm\0\0\0") == "comm"
    assert c_string(b"full") == "full"
    assert c_string(b"\xff\0") == "\ufffd"


def test_cpu_slots_round_up_to_8():
    buf = b"AAAA\0\0\0\0BBBB\0\0\0\0CCCC\0\0\0\0"
    assert cpu_slots(buf, 4, 3) == [b"AAAA", b"BBBB", b"CCCC"]


def merge(spec, *cpus):
    return merge_value(spec, b"".join(cpus), len(cpus))


def test_merge_count_and_sum():
    assert merge(ValueSpec("count", 8), slot(2), slot(3)) == 5
    assert merge(ValueSpec("sum", 8, signed=True), slot(-5), slot(2)) == -3
    assert merge(ValueSpec("sum", 8, signed=False), slot(2**64 - 1), slot(2)) == 1


def test_merge_min_max_ignore_unset_cpus():
    unset = slot(0, 0)
    assert merge(ValueSpec("min", 16), slot(-3, 1), unset, slot(4, 1)) == -3
    assert merge(ValueSpec("max", 16), slot(-3, 1), unset, slot(-9, 1)) == -3
    assert merge(ValueSpec("max", 16), slot(-3, 1), slot(100, 0)) == -3
    assert merge(ValueSpec("min", 16), unset, unset) == 0


def test_merge_avg_and_stats_truncate_toward_zero():
    # bpftrace 0.17: @a[1] = avg(-7); @a[1] = avg(2)  ->  @a[1]: -2
    assert merge(ValueSpec("avg", 16), slot(1, -7), slot(1, 2)) == Stats(2, -5)
    assert Stats(2, -5).average == -2
    assert merge(ValueSpec("stats", 16), slot(2, 7), slot(0, 0)).average == 3
    assert merge(ValueSpec("avg", 16), slot(0, 0)).average == 0


def test_merge_int_and_str():
    assert merge(ValueSpec("int", 8, signed=True), p64(-4)) == -4
    assert merge(ValueSpec("int", 8, signed=False), p64(-4)) == 2**64 - 4
    assert merge(ValueSpec("str", 16), b"hi\0".ljust(16, b"\0")) == "hi"


def test_merge_hist_adds_cpus_and_keeps_the_used_range():
    spec = ValueSpec("hist", 8 * log2_buckets(0), False, (0,))
    cpu0 = [0] * log2_buckets(0)
    cpu1 = list(cpu0)
    cpu0[3] = 2          # [2, 4)
    cpu1[3] = 1
    cpu1[5] = 4          # [8, 16)
    h = merge(spec, slot(*cpu0), slot(*cpu1))
    assert h.buckets == [Bucket(2, 4, 3), Bucket(4, 8, 0), Bucket(8, 16, 4)]
    assert h.total == 7 and h.kind == "hist"


def test_merge_lhist_has_open_ends():
    spec = ValueSpec("lhist", 8 * linear_buckets(0, 20, 10), False, (0, 20, 10))
    h = merge(spec, slot(1, 0, 2, 5))
    assert h.buckets == [Bucket(None, 0, 1), Bucket(0, 10, 0), Bucket(10, 20, 2), Bucket(20, None, 5)]


def test_keys_decoded_in_bulk_match_decode_key():
    fields = [Field("int", 0, 8, signed=True), Field("str", 8, 8), Field("int", 16, 8)]
    raw = p64(-1) + b"ab\0junk!" + p64(7)
    assert decode_keys(fields, 24, raw * 2, 2) == [decode_key(fields, raw)] * 2 == [(-1, "ab", 7)] * 2
    assert decode_keys([Field("str", 0, 16)], 16, b"bash".ljust(16, b"\0"), 1) == [("bash",)]
    assert decode_keys([Field("int", 0, 8, signed=True)], 8, p64(-2) + p64(3), 2) == [(-2,), (3,)]
    assert decode_keys([Field("int", 0, 4), Field("int", 4, 4)], 8, b"\1\0\0\0\2\0\0\0", 1) == [(1, 2)]
    assert decode_keys([], 8, p64(0), 1) == [()]


def test_parse_cpu_list():
    assert bpf.parse_cpu_list("0") == 1
    assert bpf.parse_cpu_list("0-1\n") == 2
    assert bpf.parse_cpu_list("0-3,5,8-9") == 7


def test_object_name():
    assert bpf.object_name("@calls") == "AT_calls"
    assert bpf.object_name("@") == "AT_"
    assert bpf.object_name("tracepoint:sched:sched_switch") == "tracepoint_sche"
    assert bpf.object_name(RINGBUF_NAME) == RINGBUF_NAME[:15]


def test_relocate_map_fd_and_constants():
    a = Asm()
    a.ld_sym(1, "map_x")
    a.ld_sym(2, CONST_CPID)
    a.ld_sym(3, CONST_START_NS)
    a.ret0()
    from bpf_asm import probe

    p = probe("begin", a)
    out = loader.relocate(p, {"map_x": 7}, {CONST_CPID: 1234, CONST_START_NS: 0x1122334455667788})
    insns = [struct.unpack("<BBhi", out[i:i + 8]) for i in range(0, len(out), 8)]
    assert insns[0] == (0x18, 0x11, 0, 7) and insns[1] == (0, 0, 0, 0)       # src_reg 1, dst r1
    assert insns[2] == (0x18, 0x02, 0, 1234) and insns[3] == (0, 0, 0, 0)    # src_reg 0
    assert insns[4][3] == 0x55667788 and insns[5][3] == 0x11223344
    assert p.insns != out  # the spec itself is untouched


def test_relocate_rejects_unknown_symbols_and_non_ld_imm64():
    p = hello_program().probes[0]
    with pytest.raises(LoadError, match="unknown symbol"):
        loader.relocate(p, {}, {})
    p.relocations[0].insn = 0 if p.insns[0] != 0x18 else 2
    with pytest.raises(LoadError, match="not an ld_imm64"):
        loader.relocate(p, {RINGBUF_NAME: 3}, {})


def test_verifier_error_message():
    p = hello_program().probes[0]
    log = "0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n"
    err = VerifierError(p, errno.EACCES, log, "script.bt")
    assert str(err) == (
        "script.bt:1:1: the BPF verifier rejected probe BEGIN: R0 !read_ok"
    )
    assert "R0 !read_ok" in err.detail and err.log == log
    assert isinstance(err, LoadError) and isinstance(err, RuntimeFailure)
    no_log = VerifierError(p, errno.EINVAL, "")
    assert "Invalid argument" in str(no_log)


def test_need_root_message():
    assert str(NeedRootError()) == (
        "pytrace needs root (CAP_BPF and CAP_PERFMON) to load BPF programs; run it with sudo."
    )


def test_runtime_imports_stay_light():
    """Importing the session loads no C library; the runtime only ever maps
    libbcc_bpf.so.0, never libbcc.so.0 or the `bcc` Python package."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import pytrace.runtime.session\n"
        "assert 'ctypes' not in sys.modules and 'bcc' not in sys.modules, sorted(sys.modules)\n"
        "import pytrace.runtime.maps, pytrace.runtime.loader, pytrace.runtime.attach\n"
        "import pytrace.runtime.events, pytrace.runtime.printf\n"
        "maps = open('/proc/self/maps').read()\n"
        "assert 'bcc' not in sys.modules\n"
        "assert 'libbcc_bpf.so' in maps and 'libbcc.so' not in maps\n"
    )
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo)
    assert result.returncode == 0, result.stderr


def test_cpu_ids_end_counts_holes():
    assert bpf.cpu_ids_end("0-1\n") == 2
    assert bpf.cpu_ids_end("0-3,8-11") == 12 and bpf.parse_cpu_list("0-3,8-11") == 8
    assert bpf.cpu_ids_end("0") == 1
