"""The JSON renderer, pure: values in, bpftrace 0.17's NDJSON records out
(expected lines as 0.17 printed them)."""

from __future__ import annotations

import io
import json

from pytrace.output.json import JsonOutput, format_map, json_histogram, json_value
from pytrace.program import Field, MapSpec, ValueSpec
from pytrace.values import Bucket, Histogram, Stats

INT_KEY = Field("int", 0, 8, signed=True)
STR_KEY = Field("str", 8, 16)


def spec(name, kind, keys=(), params=()):
    return MapSpec(name, "m", 5, 8, 8, 0, list(keys), ValueSpec(kind, 8, True, params))


def test_map_records():
    assert format_map(spec("@c", "count"), [((), 2)]) == '{"type": "map", "data": {"@c": 2}}\n'
    got = format_map(spec("@k", "int", [STR_KEY, INT_KEY]), [(("foo", 1), 3), (("bar", 2), 10), (("baz", 3), 1)])
    assert got == '{"type": "map", "data": {"@k": {"baz,3": 1, "foo,1": 3, "bar,2": 10}}}\n'
    assert format_map(spec("@neg", "int", [INT_KEY]), [((-1,), -7)]) == '{"type": "map", "data": {"@neg": {"-1": -7}}}\n'
    assert format_map(spec("@s", "str", [STR_KEY]), [(("x",), 'he said "hi"\n')]) == \
        '{"type": "map", "data": {"@s": {"x": "he said \\"hi\\"\\n"}}}\n'


def test_empty_maps_print_nothing_but_a_scalar_count_prints_zero():
    assert format_map(spec("@e", "int", [INT_KEY]), []) == ""
    assert format_map(spec("@h", "hist", params=(0,)), []) == ""
    assert format_map(spec("@c", "count"), []) == '{"type": "map", "data": {"@c": 0}}\n'


def test_stats_records():
    assert format_map(spec("@a", "avg"), [((), Stats(2, 31))]) == '{"type": "stats", "data": {"@a": 15}}\n'
    assert format_map(spec("@st", "stats"), [((), Stats(2, 40))]) == \
        '{"type": "stats", "data": {"@st": {"count": 2, "average": 20, "total": 40}}}\n'
    assert format_map(spec("@s", "stats", [INT_KEY]), [((1,), Stats(1, 4))]) == \
        '{"type": "stats", "data": {"@s": {"1": {"count": 1, "average": 4, "total": 4}}}}\n'


def test_hist_records_have_closed_buckets_and_open_ends_drop_a_bound():
    h = Histogram([Bucket(None, 0, 1), Bucket(0, 1, 1), Bucket(1, 2, 1), Bucket(2, 4, 1)], "hist", (0,))
    assert json_histogram(h) == ('[{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 1}, '
                                 '{"min": 1, "max": 1, "count": 1}, {"min": 2, "max": 3, "count": 1}]')
    lh = Histogram([Bucket(None, 0, 1), Bucket(0, 10, 0), Bucket(100, None, 1)], "lhist", (0, 100, 10))
    assert json_histogram(lh) == '[{"max": -1, "count": 1}, {"min": 0, "max": 9, "count": 0}, {"min": 100, "count": 1}]'
    keyed = format_map(spec("@h", "hist", [STR_KEY], (0,)), [(("a",), Histogram([Bucket(4, 8, 1)]))])
    assert keyed == '{"type": "hist", "data": {"@h": {"a": [{"min": 4, "max": 7, "count": 1}]}}}\n'


def test_values_and_other_records():
    assert json_value((1, "x")) == '[1,"x"]'
    out = io.StringIO()
    o = JsonOutput(out, io.StringIO())
    o.attached(1)
    o.printf("hi 5\n")
    o.value(123)
    o.value("abc")
    o.time("02:03\n")
    o.lost(4)
    assert out.getvalue().splitlines() == [
        '{"type": "attached_probes", "data": {"probes": 1}}',
        '{"type": "printf", "data": "hi 5\\n"}',
        '{"type": "value", "data": 123}',
        '{"type": "value", "data": "abc"}',
        '{"type": "time", "data": "02:03\\n"}',
        '{"type": "lost_events", "data": {"events": 4}}',
    ]
    assert all(json.loads(line) for line in out.getvalue().splitlines())


def test_exit_dump_in_name_order_after_0_17s_blank_lines():
    out = io.StringIO()
    JsonOutput(out, io.StringIO()).exit_maps([(spec("@b", "int"), [((), 1)]), (spec("@a", "int"), [((), 2)])])
    assert out.getvalue() == '\n\n{"type": "map", "data": {"@a": 2}}\n{"type": "map", "data": {"@b": 1}}\n'


def test_upstream_records():
    out = io.StringIO()
    o = JsonOutput(out, io.StringIO(), upstream=True)
    o.attached(2)
    o.lost(3)
    o.exit_maps([(spec("@a", "int"), [((), 2)])])
    assert out.getvalue().splitlines() == [
        '{"type": "attached_probes", "count": 2, "data": {"probes": 2}}',
        '{"type": "lost_events", "count": 3, "data": {"events": 3}}',
        '{"type": "map", "data": {"@a": 2}}',
    ]


def test_strings_escape_as_0_17_does():
    from pytrace.output.json import string

    assert string("a\bb\fc\\b\n\t\x01\"") == '"a\\u0008b\\u000cc\\\\b\\n\\t\\u0001\\""'
    assert json.loads(string("a\bb\fc\\b")) == "a\bb\fc\\b"
