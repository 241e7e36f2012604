"""Flame graphs, pure: symbolised stacks (leaf first, as bpftrace prints
them) in, folded lines and SVG documents out. The SVG is checked by parsing
it, not against a golden file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from pytrace.output.flamegraph import fold, folded_lines, frame_name, render_svg

NS = {"svg": "http://www.w3.org/2000/svg"}


def frames_of(svg: str) -> dict[str, dict]:
    """{frame name: {"count", "x", "y", "width", "label"}} of a rendered graph."""
    out = {}
    for g in ET.fromstring(svg).find("svg:g[@id='frames']", NS):
        title = g.find("svg:title", NS).text
        name, count = re.fullmatch(r"(.*) \(([\d,]+) \w+, [\d.]+%\)", title).groups()
        rect = g.find("svg:rect", NS)
        out[name] = {"count": int(count.replace(",", "")), "x": float(rect.get("x")),
                     "y": float(rect.get("y")), "width": float(rect.get("width")),
                     "label": g.find("svg:text", NS).text or ""}
    return out


def height(svg: str) -> int:
    return int(ET.fromstring(svg).get("height"))


# ---------------------------------------------------------------- frame_name


@pytest.mark.parametrize("frame, name", [
    ("do_sys_openat2+123", "do_sys_openat2"),
    ("main+0x1a", "main"),
    ("main", "main"),
    ("std::vector<int>::push_back(int const&)+12", "std::vector<int>::push_back(int const&)"),
    ("0x7f12ab", "0x7f12ab"),
    ("  hot_loop+22\n", "hot_loop"),
    ("a;b+4", "a:b"),
    ("operator++", "operator++"),
    ("", "[unknown]"),
])
def test_frame_name(frame, name):
    assert frame_name(frame) == name


# ---------------------------------------------------------------------- fold


def test_fold_puts_the_root_first_and_strips_offsets():
    assert fold([(("hot_loop+22", "main+9", "_start+4"), 7)]) == [(("_start", "main", "hot_loop"), 7)]


def test_fold_merges_stacks_that_differ_only_in_offsets():
    got = fold([(("f+1", "main+2"), 3), (("f+9", "main+2"), 4), (("g", "main"), 1)])
    assert got == [(("main", "f"), 7), (("main", "g"), 1)]


def test_fold_sorts_by_folded_line_whatever_the_input_order():
    stacks = [(("z", "main"), 1), (("main",), 2), (("a", "main"), 3), (("b",), 4)]
    expected = [(("b",), 4), (("main",), 2), (("main", "a"), 3), (("main", "z"), 1)]
    assert fold(stacks) == expected
    assert fold(reversed(stacks)) == expected


def test_fold_drops_zero_counts_and_names_empty_stacks():
    assert fold([(("f",), 0), ((), 5), ([], 2)]) == [(("[no stack]",), 7)]
    assert fold([]) == []


# -------------------------------------------------------------- folded_lines


def test_folded_lines():
    stacks = [(("callee+1", "caller+2", "main+3"), 42), (("main+3",), 1)]
    assert folded_lines(stacks) == ["main 1", "main;caller;callee 42"]
    assert folded_lines(stacks, prefix=("@", "my;proc")) == ["@;my:proc;main 1", "@;my:proc;main;caller;callee 42"]


def test_folded_lines_parse_as_stackcollapse_output():
    stacks = [(("std::map<int, int>::at(int const&)+8", "x;y", "main"), 3), ((), 1), (("0x7f00",), 2)]
    for line in folded_lines(stacks):
        frames, count = re.fullmatch(r"(.+) (\d+)", line).groups()
        assert all(frames.split(";")) and int(count) > 0
    assert folded_lines(stacks)[-1] == "main;x:y;std::map<int, int>::at(int const&) 3"


# ---------------------------------------------------------------- render_svg

STACKS = [(("hot_loop+22", "work+5", "main+9"), 42), (("cold+3", "work+5", "main+9"), 14),
          (("main+9",), 4)]


def test_svg_parses_and_titles_name_frame_and_count():
    svg = render_svg(STACKS, title="CPU", subtitle="pid 42")
    root = ET.fromstring(svg)
    assert svg.startswith("<?xml")
    titles = [t.text for t in root.iter("{%s}title" % NS["svg"])]
    assert "hot_loop (42 samples, 70.00%)" in titles
    assert "all (60 samples, 100.00%)" in titles
    texts = [t.text for t in root.iter("{%s}text" % NS["svg"])]
    assert "CPU" in texts and "pid 42" in texts and "Reset Zoom" in texts
    assert "<![CDATA[" in svg and "function zoom(" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing external


def test_root_spans_the_width_and_widths_follow_counts():
    frames = frames_of(render_svg(STACKS, width=1000))
    assert frames["all"]["count"] == 60 and frames["all"]["width"] == 1000 - 2 * 10
    assert frames["main"]["width"] == frames["all"]["width"]
    assert frames["hot_loop"]["width"] / frames["cold"]["width"] == pytest.approx(3, rel=0.01)
    assert frames["work"]["width"] == pytest.approx(frames["hot_loop"]["width"] + frames["cold"]["width"], abs=0.02)


def test_root_at_the_bottom_and_children_inside_their_parent():
    frames = frames_of(render_svg(STACKS))
    assert frames["all"]["y"] > frames["main"]["y"] > frames["work"]["y"] > frames["hot_loop"]["y"]
    assert frames["hot_loop"]["y"] == frames["cold"]["y"]
    work = frames["work"]
    for child in ("hot_loop", "cold"):
        assert work["x"] <= frames[child]["x"]
        assert frames[child]["x"] + frames[child]["width"] <= work["x"] + work["width"] + 0.02


def test_units_and_thousands_in_titles():
    frames = frames_of(render_svg([(("f",), 1234567)], count_name="ns"))
    assert frames["f"]["count"] == 1234567
    assert "f (1,234,567 ns, 100.00%)" in render_svg([(("f",), 1234567)], count_name="ns")


def test_special_characters_survive_escaping():
    nasty = "a<b>&\"c\"'d'"
    svg = render_svg([((nasty + "+1", "main"), 5)], title="<&>", subtitle="'\"")
    root = ET.fromstring(svg)
    assert f"{nasty} (5 samples, 100.00%)" in [t.text for t in root.iter("{%s}title" % NS["svg"])]
    texts = [t.text for t in root.iter("{%s}text" % NS["svg"])]
    assert nasty in texts and "<&>" in texts and "'\"" in texts


def test_characters_xml_cannot_hold_do_not_break_the_document():
    ET.fromstring(render_svg([(("bad\x01name", "main"), 1)]))


def test_labels_are_truncated_to_fit():
    long = "a_function_with_a_very_long_name_indeed"
    frames = frames_of(render_svg([((long,), 1), (("x" * 300,), 9)], width=1000))
    label = frames[long]["label"]
    assert label.endswith("..") and long.startswith(label[:-2]) and len(label) < len(long)
    wide = frames["x" * 300]
    assert wide["label"].endswith("..") and len(wide["label"]) == int(wide["width"] / (12 * 0.59))
    tiny = frames_of(render_svg([(("wide",), 400), (("narrowish",), 1)], width=1200))
    assert tiny["narrowish"]["label"] == ""  # ~3 pixels: no room for a label


def test_narrow_frames_are_omitted():
    svg = render_svg([(("hot", "main"), 100_000), (("rare", "main"), 1), (("deeper", "rare", "main"), 1)])
    frames = frames_of(svg)
    assert "hot" in frames and "rare" not in frames and "deeper" not in frames
    assert "rare" not in svg


def test_no_samples():
    for stacks in ([], [(("f",), 0)]):
        svg = render_svg(stacks)
        root = ET.fromstring(svg)
        assert "No samples" in [t.text for t in root.iter("{%s}text" % NS["svg"])]


def test_byte_identical_output():
    assert render_svg(STACKS) == render_svg(list(reversed(STACKS)))
    assert render_svg(STACKS, subtitle="s") == render_svg(STACKS, subtitle="s")


def test_deep_stacks_render_and_grow_the_image():
    deep = [(tuple(f"f{i}+{i}" for i in range(200)), 5)]
    frames = frames_of(render_svg(deep))
    assert len(frames) == 201  # the 200 frames and 'all'
    assert height(render_svg(deep)) > height(render_svg([(("f1", "f0"), 5)])) + 190 * 16
    assert frames["f199"]["y"] > frames["f0"]["y"]  # f199 is the root, at the bottom


def test_same_name_same_colour():
    svg = render_svg([(("shared", "a"), 1), (("shared", "b"), 1)])
    fills = {g.find("svg:rect", NS).get("fill") for g in ET.fromstring(svg).find("svg:g[@id='frames']", NS)
             if g.find("svg:title", NS).text.startswith("shared ")}
    assert len(fills) == 1
