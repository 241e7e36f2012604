"""Flame graphs of stack-keyed maps (`--flamegraph out.svg`, `-f folded`): the
folded text that Brendan Gregg's FlameGraph, inferno and speedscope read, and a
self-contained SVG drawn in the manner of his flamegraph.pl.

    @[ustack] = count()   gives   (("hot_loop+22", "main+9"), 3), (("main+9",), 1)
    folded_lines(those)   ->      ["main 1", "main;hot_loop 3"]
    render_svg(those)     ->      '<?xml ...?><svg ...>' ('all' at the bottom, 'main'
                                  on it, 'hot_loop' 3/4 as wide on top of that)

Stacks come in leaf first, as bpftrace prints them; the output is root first.
Everything here is pure and deterministic: the same stacks give the same bytes
(colours come from a hash of the name, not from a random generator).
"""

from __future__ import annotations

import re
import zlib
from xml.sax.saxutils import escape

XPAD = 10                    # left and right margins, as flamegraph.pl
FRAME_H = 16                 # one row of frames
FONT_SIZE = 12
CHAR_W = FONT_SIZE * 0.59    # flamegraph.pl's estimate of one Verdana character
TOP = FONT_SIZE * 3          # room for the title and the controls
SUBTITLE_H = FONT_SIZE * 2
BOTTOM = FONT_SIZE * 2 + 10  # room for the details line
MIN_SHARE = 1000             # frames under 1/1000 of the samples are not drawn

_OFFSET = re.compile(r"\+(?:0x[0-9a-fA-F]+|[0-9]+)$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ------------------------------------------------------------------ folding


def frame_name(frame: str) -> str:
    """A symbolised frame as the folded format wants it: without the offset
    ('do_sys_openat2+123' -> 'do_sys_openat2', 'main+0x1a' -> 'main'), so
    that the same function at different offsets is one frame. A raw address
    ('0x7f12ab') has no offset and stays. ';' separates frames in a folded
    line, so one inside a name becomes ':'. An empty frame is '[unknown]'
    (what perf's scripts write), lest a line read 'a;;b'."""
    name = _OFFSET.sub("", _clean(frame))
    return name or "[unknown]"


def _clean(frame: str) -> str:
    return frame.strip().replace(";", ":")


def fold(stacks) -> list[tuple[tuple[str, ...], int]]:
    """[(frames root first, total count)] from `stacks`, an iterable of
    (frames leaf first as bpftrace prints them, count). Stacks that differ
    only in offsets merge (their counts add up); a stack with no frames is
    ('[no stack]',); counts of 0 or less are dropped (nothing to draw).
    Sorted by the folded line, as stackcollapse sorts, so the output does not
    depend on the order the map was read in."""
    merged: dict[tuple[str, ...], int] = {}
    for frames, count in stacks:
        if count <= 0:
            continue
        path = tuple(frame_name(f) for f in reversed(tuple(frames))) or ("[no stack]",)
        merged[path] = merged.get(path, 0) + int(count)
    return sorted(merged.items(), key=lambda item: ";".join(item[0]))


def folded_lines(stacks, prefix: tuple[str, ...] = ()) -> list[str]:
    """'main;caller;callee 42' per stack (root first, the count after one
    space), the input of flamegraph.pl, inferno and speedscope. `prefix`
    frames (a map's name, a process name) go before the root, as given
    (only ';' is replaced: they are names, not symbolised frames)."""
    head = tuple(_clean(p) for p in prefix)
    return [";".join(head + frames) + f" {count}" for frames, count in fold(stacks)]


# -------------------------------------------------------------------- layout


def _tree(folded) -> list:
    """The folded stacks as a tree of [total count, {name: child}], with
    'all' (every stack) as the root."""
    root: list = [0, {}]
    for frames, count in folded:
        node = root
        node[0] += count
        for name in frames:
            node = node[1].setdefault(name, [0, {}])
            node[0] += count
    return root


def _layout(root) -> list[tuple[str, int, int, int]]:
    """(name, depth, first sample, count) of each frame wide enough to draw,
    children left to right by name. In pre-order (a frame, then its subtree),
    which the zoom script relies on to find a frame's descendants and
    ancestors without comparing floating-point positions. A loop, not
    recursion, so a stack of any depth lays out."""
    total, frames, todo = root[0], [], [("all", 0, 0, root)]
    while todo:
        name, depth, start, (count, children) = todo.pop()
        if count * MIN_SHARE < total:
            continue
        frames.append((name, depth, start, count))
        kids = []
        for child in sorted(children):
            kids.append((child, depth + 1, start, children[child]))
            start += children[child][0]
        todo.extend(reversed(kids))
    return frames


def _label(name: str, width: float) -> str:
    """The text that fits a box `width` wide (flamegraph.pl's rule, which the
    script repeats when zooming): all of it, or its start and '..', or
    nothing when not even 3 characters fit."""
    chars = int(width / CHAR_W)
    if chars < 3:
        return ""
    return name if len(name) <= chars else name[: chars - 2] + ".."


def _colour(name: str) -> str:
    """flamegraph.pl's 'hot' palette (reds, oranges, yellows), picked by a
    CRC of the name: the same function has the same colour in every graph."""
    h = zlib.crc32(name.encode("utf-8", "replace"))
    red = 205 + (h & 0xFF) * 50 // 255
    green = (h >> 8 & 0xFF) * 230 // 255
    blue = (h >> 16 & 0xFF) * 55 // 255
    return f"rgb({red},{green},{blue})"


def _esc(text: str) -> str:
    """Text fit for XML content and attribute values alike; characters XML
    1.0 cannot hold at all become '?'."""
    return escape(_NOT_XML.sub("?", text), {'"': "&quot;", "'": "&apos;"})


# ----------------------------------------------------------------------- SVG


def render_svg(stacks, title: str = "Flame Graph", subtitle: str = "", width: int = 1200,
               count_name: str = "samples") -> str:
    """A complete SVG document of `stacks` (as `fold` takes them): the root
    at the bottom, each frame as wide as its share of the samples, a
    <title> per frame ('hot_loop (42 samples, 87.50%)') that shows on hover,
    click to zoom, Reset Zoom and Search. With no samples, a small SVG that
    says so."""
    root = _tree(fold(stacks))
    total = root[0]
    if total == 0:
        return _document(width, 2 * TOP, _heading(title, "", width)
                         + f'<text x="{width / 2:g}" y="{TOP + FONT_SIZE}" class="centre">No samples</text>\n')
    frames = _layout(root)
    top = TOP + (SUBTITLE_H if subtitle else 0)
    height = top + (max(f[1] for f in frames) + 1) * FRAME_H + BOTTOM
    scale = max(width - 2 * XPAD, 1) / total
    body = [_BACKGROUND.format(width=width, height=height), _heading(title, subtitle, width),
            f'<text id="reset" x="{XPAD}" y="{FONT_SIZE * 2}" class="hide">Reset Zoom</text>\n'
            f'<text id="search" x="{width - XPAD}" y="{FONT_SIZE * 2}" class="end">Search</text>\n'
            f'<text id="details" x="{XPAD}" y="{height - BOTTOM // 2}"> </text>\n'
            f'<text id="matched" x="{width - XPAD}" y="{height - BOTTOM // 2}" class="end"> </text>\n'
            '<g id="frames">\n']
    for name, depth, start, count in frames:
        x, w = round(XPAD + start * scale, 2), round(count * scale, 2)
        y = height - BOTTOM - (depth + 1) * FRAME_H + 1
        info = f"{name} ({count:,} {count_name}, {100 * count / total:.2f}%)"
        body.append(f'<g><title>{_esc(info)}</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" '
                    f'height="{FRAME_H - 1}" fill="{_colour(name)}" rx="2" ry="2"/>'
                    f'<text x="{x + 3:.2f}" y="{y + 10.5}">{_esc(_label(name, w))}</text></g>\n')
    body.append(f"</g>\n<script><![CDATA[\nvar CHAR_W = {CHAR_W:g};\n{_SCRIPT}]]></script>\n")
    return _document(width, height, "".join(body), onload=' onload="init()"')


def _heading(title: str, subtitle: str, width: int) -> str:
    text = f'<text id="title" x="{width / 2:g}" y="{FONT_SIZE * 2}" class="centre">{_esc(title)}</text>\n'
    if subtitle:
        text += (f'<text id="subtitle" x="{width / 2:g}" y="{FONT_SIZE * 4}" class="centre">'
                 f"{_esc(subtitle)}</text>\n")
    return text


def _document(width: int, height: int, body: str, onload: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"{onload}>\n<style>{_CSS}</style>\n{body}</svg>\n')


_BACKGROUND = (
    '<defs><linearGradient id="background" x1="0" y1="0" x2="0" y2="1">'
    '<stop stop-color="#eeeeee" offset="5%"/><stop stop-color="#eeeeb0" offset="95%"/>'
    '</linearGradient></defs>\n'
    '<rect x="0" y="0" width="{width}" height="{height}" fill="url(#background)"/>\n')

_CSS = f"""
text {{ font-family: Verdana, sans-serif; font-size: {FONT_SIZE}px; fill: rgb(0,0,0); }}
#title {{ font-size: 17px; }}
#subtitle {{ fill: rgb(160,160,160); }}
.centre {{ text-anchor: middle; }}
.end {{ text-anchor: end; }}
#reset, #search {{ cursor: pointer; }}
#frames > g {{ cursor: pointer; }}
#frames > g:hover rect {{ stroke: black; stroke-width: 0.5; }}
.hide {{ display: none; }}
.parent {{ opacity: 0.5; }}
"""

# Frames are in pre-order (see _layout): frame i's descendants are the frames
# after it drawn higher up (smaller y), until the first that is not; its
# ancestors are, walking back from it, each frame lower than the last found.
_SCRIPT = r"""var frames, orig, details, reset, matched, searching = false;
function init() {
  var box = document.getElementById("frames");
  frames = Array.prototype.slice.call(box.children);
  orig = frames.map(function (g) {
    var r = g.querySelector("rect");
    return {x: +r.getAttribute("x"), w: +r.getAttribute("width"), y: +r.getAttribute("y"),
            fill: r.getAttribute("fill"),
            name: g.querySelector("title").textContent.replace(/ \([^()]*\)$/, "")};
  });
  details = document.getElementById("details");
  reset = document.getElementById("reset");
  matched = document.getElementById("matched");
  box.addEventListener("mouseover", function (e) {
    var g = e.target.closest("#frames > g");
    if (g) details.textContent = "Function: " + g.querySelector("title").textContent;
  });
  box.addEventListener("mouseout", function () { details.textContent = " "; });
  box.addEventListener("click", function (e) {
    var g = e.target.closest("#frames > g");
    if (g) zoom(frames.indexOf(g));
  });
  reset.addEventListener("click", unzoom);
  document.getElementById("search").addEventListener("click", search);
}
function fit(name, w) {
  var n = Math.floor(w / CHAR_W);
  return n < 3 ? "" : n < name.length ? name.slice(0, n - 2) + ".." : name;
}
function place(j, x, w) {
  var r = frames[j].querySelector("rect"), t = frames[j].querySelector("text");
  r.setAttribute("x", x.toFixed(2));
  r.setAttribute("width", w.toFixed(2));
  t.setAttribute("x", (x + 3).toFixed(2));
  t.textContent = fit(orig[j].name, w);
}
function subtree_end(i) {
  var end = i + 1;
  while (end < frames.length && orig[end].y < orig[i].y) end++;
  return end;
}
function zoom(i) {
  var t = orig[i], ratio = orig[0].w / t.w, end = subtree_end(i), low = t.y, j;
  for (j = 0; j < frames.length; j++) {
    var show = j >= i && j < end;
    frames[j].classList.toggle("hide", !show);
    frames[j].classList.remove("parent");
    if (show) place(j, orig[0].x + (orig[j].x - t.x) * ratio, orig[j].w * ratio);
  }
  for (j = i - 1; j >= 0; j--) {
    if (orig[j].y <= low) continue;
    low = orig[j].y;
    frames[j].classList.remove("hide");
    frames[j].classList.add("parent");
    place(j, orig[0].x, orig[0].w);
  }
  reset.classList.remove("hide");
}
function unzoom() {
  for (var j = 0; j < frames.length; j++) {
    frames[j].classList.remove("hide", "parent");
    place(j, orig[j].x, orig[j].w);
  }
  reset.classList.add("hide");
}
function search() {
  if (searching) { searching = false; paint(null); return; }
  var term = prompt("Search for (regular expression):", ""), re;
  if (!term) return;
  try { re = new RegExp(term); } catch (err) { alert(err.message); return; }
  searching = true;
  paint(re);
}
function paint(re) {
  var covered = 0, until = 0;
  for (var j = 0; j < frames.length; j++) {
    var on = re !== null && re.test(orig[j].name);
    frames[j].querySelector("rect").setAttribute("fill", on ? "rgb(230,0,230)" : orig[j].fill);
    if (on && j >= until) { covered += orig[j].w; until = subtree_end(j); }
  }
  matched.textContent = re ? "Matched: " + (100 * covered / orig[0].w).toFixed(1) + "%" : " ";
  document.getElementById("search").textContent = re ? "Reset Search" : "Search";
}
"""
