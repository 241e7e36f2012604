"""The text renderer, pure: values in, bpftrace 0.17's text out (each
expected string below is what 0.17 printed for the same values)."""

from __future__ import annotations

import pytest

from pytrace.aggregations import log2_bounds, log2_buckets, log2_index, linear_index
from pytrace.output.text import (
    UPSTREAM,
    bar_width,
    banner,
    bucket_label,
    format_exit,
    format_histogram,
    format_key,
    format_map,
    format_value,
    log2_label,
)
from pytrace.program import Field, MapSpec, ValueSpec
from pytrace.values import Bucket, Histogram, Stats

INT_KEY = Field("int", 0, 8, signed=True)
STR_KEY = Field("str", 8, 16)


def spec(name, kind, keys=(), signed=True, params=()):
    return MapSpec(name, name.replace("@", "m_"), 5, 8, 8, 0, list(keys), ValueSpec(kind, 8, signed, params))


def hist(*buckets, kind="hist", params=(0,)):
    return Histogram([Bucket(*b) for b in buckets], kind, params)


BAR = "@" * 52


# ---------------------------------------------------------------- plain maps


def test_map_sorted_by_value_then_key():
    # bpftrace 0.17: BEGIN { @x[1]=1; @x[2]=1; @x[3]=0; @x[-1]=7; exit(); }
    m = spec("@x", "int", [INT_KEY])
    entries = [((1,), 1), ((2,), 1), ((3,), 0), ((-1,), 7)]
    assert format_map(m, entries) == "@x[3]: 0\n@x[1]: 1\n@x[2]: 1\n@x[-1]: 7\n"
    assert format_map(m, list(reversed(entries))) == format_map(m, entries)


def test_scalar_and_multi_key_and_string_keys():
    assert format_map(spec("@", "count"), [((), 5)]) == "@: 5\n"
    m = spec("@c", "sum", [INT_KEY, STR_KEY])
    assert format_map(m, [((1, "x"), 3)]) == "@c[1, x]: 3\n"
    assert format_key((1, "abc")) == "[1, abc]"


def test_str_values_sorted_by_key_with_ints_unsigned():
    # bpftrace 0.17: @s["b"]="x"; @s["a"]="y"  ->  @s[a]: y, @s[b]: x
    m = spec("@s", "str", [STR_KEY])
    assert format_map(m, [(("b",), "x"), (("a",), "y")]) == "@s[a]: y\n@s[b]: x\n"
    # 0.17 compares integer keys as u64: -1 comes after 1
    m = spec("@m", "str", [INT_KEY])
    assert format_map(m, [((-1,), "neg"), ((1,), "pos")]) == "@m[1]: pos\n@m[-1]: neg\n"


def test_avg_and_stats_sorted_by_average_with_a_blank_line_after():
    # bpftrace 0.17: @a[1]=avg(10); @a[2]=avg(1); @a[-1]=avg(3)
    m = spec("@a", "avg", [INT_KEY])
    got = format_map(m, [((1,), Stats(1, 10)), ((2,), Stats(1, 1)), ((-1,), Stats(1, 3))])
    assert got == "@a[2]: 1\n@a[-1]: 3\n@a[1]: 10\n\n"
    s = spec("@st", "stats")
    assert format_map(s, [((), Stats(2, 40))]) == "@st: count 2, average 20, total 40\n\n"
    # avg truncates toward zero: avg(-7), avg(2) -> -2
    assert format_map(spec("@n", "avg"), [((), Stats(2, -5))]) == "@n: -2\n\n"


def test_min_max_sorted_by_value():
    m = spec("@m", "max", [INT_KEY])
    assert format_map(m, [((5,), 3), ((1,), 9)]) == "@m[5]: 3\n@m[1]: 9\n"


def test_empty_maps():
    # bpftrace 0.17: a map with no entries prints "\n"; avg/stats one more;
    # a scalar count() prints 0 (0.17 keeps it in an array that always has it)
    assert format_map(spec("@u", "int", [INT_KEY]), []) == "\n"
    assert format_map(spec("@u", "avg", [INT_KEY]), []) == "\n\n"
    assert format_map(spec("@u", "count"), []) == "@u: 0\n"
    assert format_map(spec("@u", "count", [INT_KEY]), []) == "\n"
    assert format_map(spec("@u", "sum"), []) == "\n"
    assert format_map(spec("@h", "hist", params=(0,)), []) == "\n"


def test_top_and_div():
    # bpftrace 0.17, @x[1]=1 @x[2]=2 @x[3]=3: print(@x, 2), print(@x, 2, 2), print(@x, 0, 3)
    m = spec("@x", "count", [INT_KEY])
    entries = [((1,), 1), ((2,), 2), ((3,), 3)]
    assert format_map(m, entries, 2) == "@x[2]: 2\n@x[3]: 3\n"
    assert format_map(m, entries, 2, 2) == "@x[2]: 1\n@x[3]: 1\n"
    assert format_map(m, entries, 0, 3) == "@x[1]: 0\n@x[2]: 0\n@x[3]: 1\n"
    # stats ignores both (0.17); avg divides its average
    s = spec("@s", "stats")
    assert format_map(s, [((), Stats(2, 30))], 1, 2) == "@s: count 2, average 15, total 30\n\n"
    assert format_map(spec("@a", "avg"), [((), Stats(2, 30))], 1, 2) == "@a: 7\n\n"


def test_exit_text_orders_maps_by_name():
    y = spec("@y", "int")
    x = spec("@x", "int", [INT_KEY])
    assert format_exit([(y, [((), 3)]), (x, [((1,), 2)])]) == "@x[1]: 2\n@y: 3\n"
    b = spec("@b", "avg", [INT_KEY])
    a = spec("@a", "avg")
    assert format_exit([(b, [((1,), Stats(1, 1))]), (a, [((), Stats(1, 2))])]) == "@a: 2\n\n@b[1]: 1\n\n"


def test_values_and_banner():
    assert format_value(-5) == "-5" and format_value("abc") == "abc"
    assert format_value((1, "two", (3, 4))) == "(1, two, (3, 4))"
    assert banner(1) == "Attaching 1 probe...\n" and banner(3) == "Attaching 3 probes...\n"
    assert banner(2, UPSTREAM) == "Attached 2 probes\n"


# ---------------------------------------------------------------- histograms


def test_hist_rows_as_bpftrace_017_prints_them():
    # bpftrace 0.17: @h = hist(0), hist(1), hist(3), hist(1000) x2, hist(3M)
    h = hist((0, 1, 1), (1, 2, 1), (2, 4, 1), (4, 8, 0), (512, 1024, 2), (1 << 21, 1 << 22, 1))
    assert format_histogram(h) == (
        "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[4, 8)                 0 |                                                    |\n"
        "[512, 1K)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[2M, 4M)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
    )


def test_hist_map_header_has_0_17s_trailing_space_and_a_blank_line_per_key():
    m = spec("@h", "hist", [STR_KEY], params=(0,))
    got = format_map(m, [(("b",), hist((64, 128, 2))), (("a",), hist((4, 8, 1)))])
    assert got == (
        "@h[a]: \n"
        f"[4, 8)                 1 |{BAR}|\n"
        "\n"
        "@h[b]: \n"
        f"[64, 128)              2 |{BAR}|\n"
        "\n"
    )
    assert format_map(m, [(("a",), hist((4, 8, 1)))], style=UPSTREAM).startswith("@h[a]:\n")
    # a zeroed histogram prints its header and no rows
    assert format_map(spec("@z", "hist", params=(0,)), [((), hist())]) == "@z: \n\n"


def test_negative_and_lhist_open_buckets():
    # bpftrace 0.17: @l = lhist(-5 | 15 x2 | 55 | 500, 0, 100, 10)
    h = hist((None, 0, 1), (0, 10, 0), (10, 20, 2), (100, None, 1), kind="lhist", params=(0, 100, 10))
    assert format_histogram(h) == (
        "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[0, 10)                0 |                                                    |\n"
        "[10, 20)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[100, ...)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
    )
    assert bucket_label(hist(kind="hist"), None, 0) == "(..., 0)"


def test_lhist_labels_use_k_and_m_as_0_17_does():
    lh = hist(kind="lhist", params=(0, 4096, 512))
    assert bucket_label(lh, 1024, 1536) == "[1K, 1536)"
    assert bucket_label(lh, 1536, 2048) == "[1536, 2K)"
    assert bucket_label(lh, 4096, None) == "[4K, ...)"
    assert bucket_label(hist(kind="lhist", params=(0, 1 << 22, 1 << 20)), 1 << 21, 3 << 20) == "[2M, 3M)"
    # upstream: suffixes only for steps that are multiples of 1024; [v] for one value
    assert bucket_label(lh, 1024, 1536, UPSTREAM) == "[1024, 1536)"
    assert bucket_label(hist(kind="lhist", params=(0, 10, 1)), 3, 4, UPSTREAM) == "[3]"


def test_hist_div_divides_counts_but_not_bars():
    # bpftrace 0.17: print(@h, 0, 2) with counts 3 and 1
    h = hist((8, 16, 3), (16, 32, 1))
    assert format_histogram(h, div=2) == (
        f"[8, 16)                1 |{BAR}|\n"
        "[16, 32)               0 |@@@@@@@@@@@@@@@@@                                   |\n"
    )


def test_bar_width_is_single_precision_and_truncated():
    assert bar_width(1, 3) == 17 and bar_width(2, 3) == 34 and bar_width(3, 3) == 52
    assert bar_width(1, 52) == 1 and bar_width(0, 5) == 0
    # 15/26*52 is 29.999... in double precision but 30 in bpftrace's float
    assert bar_width(15, 26) == 30 and int(15 / 26 * 52) == 29


def test_0_17_labels_stop_at_t():
    # bpftrace 0.17's hist_index_label knows K, M, G and T only
    assert log2_label(1 << 50, 0, top_decade=4) == "1024T"
    assert bucket_label(hist(), 1 << 62, 1 << 63) == "[4194304T, 8388608T)"
    assert bucket_label(hist(), 1 << 62, 1 << 63, UPSTREAM) == "[4E, 8E)"


@pytest.mark.parametrize("value, k, label", [
    (1024, 0, "1K"), (3 << 20, 0, "3M"), (1 << 40, 0, "1T"), (1 << 50, 0, "1P"), (1 << 62, 0, "4E"),
    (1280, 2, "1280"), (5 << 10, 2, "5K"), (3584 << 10, 2, "3584K"), (4 << 20, 2, "4M"), (7, 2, "7"),
])
def test_log2_labels(value, k, label):
    assert log2_label(value, k) == label


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_log2_buckets_cover_every_value_once(k):
    """Each bucket's [low, high) holds exactly the values log2_index puts
    in it, and the buckets tile 0 .. 2^63."""
    last = log2_buckets(k) - 1
    assert log2_bounds(last, k)[1] == 1 << 63
    for index in range(1, last + 1):
        low, high = log2_bounds(index, k)
        assert log2_index(low, k) == index and log2_index(high - 1, k) == index
    assert log2_index(-1, k) == 0 and log2_index(-(1 << 63), k) == 0


def test_linear_index_as_0_17_computes_it():
    assert [linear_index(v, 0, 100, 10) for v in (-1, 0, 9, 10, 99, 100, 1000)] == [0, 1, 1, 2, 10, 11, 11]
    # a range that is not a multiple of the step: max itself and up go last
    assert [linear_index(v, 0, 10, 3) for v in (8, 9, 10)] == [3, 4, 4]


def test_histogram_values_for_python_users():
    h = hist((None, 0, 1), (0, 1, 0), (8, 16, 2), (16, 32, 1))
    assert h.total == 4
    assert h.percentile(0) == 0.0
    assert h.percentile(50) == 12.0
    assert h.percentile(100) == 32.0
    assert hist().percentile(50) is None
    with pytest.raises(ValueError):
        h.percentile(101)
