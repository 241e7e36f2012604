"""Stack-keyed maps as flame graphs: `-f folded` prints them in the folded
format (FlameGraph, inferno, speedscope), `--flamegraph FILE` writes an SVG.

    @[ustack] = count()    {Stack(hot_loop+22, main+37): 42}
    -f folded              main;hot_loop 42
    --flamegraph out.svg   the same stacks drawn by pytrace.output.flamegraph

A map qualifies when a part of its key is a stack and its values are
integers (count(), sum(), ...). Its other key parts become frames at the
root (`@[comm, kstack]` puts the process name under the kernel frames), a
kstack and a ustack in one key make one stack (the kernel's frames above the
user's), and with several such maps the map's name is the root.
"""

from __future__ import annotations

from pytrace.aggregations import row
from pytrace.output import by_name
from pytrace.output import flamegraph
from pytrace.output.text import TextOutput, format_map
from pytrace.values import Stack


def stack_maps(maps: list) -> list:
    """The (spec, entries) of the maps a flame graph can show."""
    return [(spec, entries) for spec, entries in maps
            if any(f.kind in ("kstack", "ustack") for f in spec.keys) and row(spec.value.kind).shape == "int"]


def stacks_of(maps: list) -> list[tuple[tuple[str, ...], int]]:
    """(frames innermost first, count) of every entry of the stack maps, as
    flamegraph.fold takes them."""
    chosen = stack_maps(maps)
    out = []
    for spec, entries in chosen:
        outer = (spec.name,) if len(chosen) > 1 else ()
        for key, value in entries:
            out.append((_frames(key) + outer, value))
    return out


def _frames(key: tuple) -> tuple[str, ...]:
    """A key's parts as frames, innermost first: kernel stacks, then user
    stacks, then the other parts, last part outermost."""
    stacks = sorted((k for k in key if isinstance(k, Stack)), key=lambda s: s.kind != "kstack")
    frames = [str(f) for s in stacks for f in s.frames]
    others = [str(k) for k in key if not isinstance(k, Stack)]
    return tuple(frames + others[::-1])


class FoldedOutput(TextOutput):
    """-f folded: text as usual while tracing (printf, print), the banner
    and every map that is not stack-keyed on stderr, and at exit the stack
    maps' folded lines on the output, nothing else: it pipes straight into
    flamegraph.pl or inferno-flamegraph."""

    def attached(self, count: int) -> None:
        from pytrace.output.text import banner

        self.err.write(banner(count, self.style))
        self.err.flush()

    def exit_maps(self, maps: list) -> None:
        self.out.flush()
        chosen = stack_maps(maps)
        for spec, entries in by_name([m for m in maps if m not in chosen]):
            self.err.write(format_map(spec, entries, style=self.style))
        self.err.flush()
        lines = flamegraph.folded_lines(stacks_of(maps))
        self.out.write("".join(line + "\n" for line in lines))
        self.out.flush()


class FlameGraphFile:
    """--flamegraph FILE: an Output that sends everything to `inner` as
    usual; at exit the stack maps are also drawn into FILE (a warning says
    when there were none)."""

    def __init__(self, inner, file, title: str = "Flame Graph"):
        self.inner = inner
        self.file = file  # open for writing; the caller closes it
        self.title = title
        self.err = inner.err

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def exit_maps(self, maps: list) -> None:
        self.inner.exit_maps(maps)
        stacks = stacks_of(maps)
        if not stack_maps(maps):
            self.err.write(f"warning: no map keyed by kstack or ustack to draw in {self.file.name}\n")
        samples = sum(count for _, count in stacks)
        self.file.write(flamegraph.render_svg(stacks, title=self.title,
                                              subtitle=f"{samples} samples" if stacks else ""))
        self.file.flush()
