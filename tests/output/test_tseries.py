"""tseries charts as upstream bpftrace draws them (src/output/text.cpp),
checked against its own expected output (tests/runtime/outputs/
tseries_zigzag.txt, whose times it masks with %H: here the time column is
left out of the comparison)."""

from __future__ import annotations

from pytrace.output.json import json_tseries
from pytrace.output.text import format_tseries
from pytrace.values import TimeSeries

ZIGZAG = """\
             -5                                                  5
hh:mm:ss.ms  |___________________________________________________|
 *                         .                         | -5
 |    *                    .                         | -4
 |         *               .                         | -3
 |              *          .                         | -2
 |                   *     .                         | -1
 |                         *                         | 0
 |                         .    *                    | 1
 |                         .         *               | 2
 |                         .              *          | 3
 |                         .                   *     | 4
 |                         .                         * 5
 |                         .                   *     | 4
 |                         .              *          | 3
 |                         .         *               | 2
 |                         .    *                    | 1
 |                         *                         | 0
 |                   *     .                         | -1
 |              *          .                         | -2
 |         *               .                         | -3
 |    *                    .                         | -4
             v___________________________________________________v
             -5                                                  5
"""


def _without_times(chart: str) -> str:
    return "\n".join(line[12:] if line[:1].isdigit() else line for line in chart.split("\n"))


def test_a_zigzag_crossing_zero_matches_upstreams_chart():
    values = [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0, -1, -2, -3, -4]
    interval = 100_000_000
    points = [(1_000_000_000_000 + i * interval, v) for i, v in enumerate(values)]
    assert _without_times(format_tseries(points)) == ZIGZAG


def test_the_window_starts_at_a_keys_first_interval_and_marks_gaps():
    series = TimeSeries({10: 3, 12: 5}, interval=1_000_000, count=5)
    window = series.window(13)
    assert [v for _, v in window] == [3, None, 5, None]
    chart = format_tseries(window).split("\n")
    assert chart[0] == " " * 13 + f"{3:<21}{5:>32}"
    assert chart[3].endswith("| -") and chart[4].endswith("* 5")
    assert json_tseries(window).count("interval_start") == 2
    assert format_tseries([]) == "<no data>\n"
