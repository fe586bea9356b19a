"""A cell's history as one SVG: throughput above (the median of each run's trials, a bar for its 95%
interval), p99 below, one point per run placed by when it started (in order when a run records no
start), one line per testbed (machine, method and the server's budget: never joined).

A point carrying flags is drawn hollow with their letters beside it; a run where the cell failed is
an ``x`` at the foot of the throughput panel. Every point has a tooltip (SVG ``<title>``) naming the
run, its figure and its flags.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from servingmatrix.report.figures.labels import Boxes, place_label
from servingmatrix.report.figures.svg import FONT, el, escape
from servingmatrix.report.figures.svg_axes import ticks

WIDTH = 760
LEFT, RIGHT = 70, 30
#: (top, bottom) of the throughput panel and of the p99 panel.
THROUGHPUT_PANEL = (44, 184)
P99_PANEL = (240, 340)
#: At most this many run labels under the axis; between them, every k-th run is labelled.
MAX_LABELS = 10

Scale = Callable[[float], float]


@dataclass(frozen=True)
class RunLabel:
    """A run on the x axis: when it started, and its commit."""

    date: str
    commit: str


@dataclass(frozen=True)
class HistoryMark:
    """One run's figures of the cell (a failed cell has no throughput)."""

    run: int
    throughput: float | None
    low: float | None
    high: float | None
    p99: float | None
    flags: str
    hover: str


@dataclass(frozen=True)
class MachineLine:
    name: str
    colour: str
    marks: tuple[HistoryMark, ...]


def _x(runs: int, times: list[float] | None = None) -> Scale:
    """A run's place on the x axis by its index: by when it started, when every run records that and
    they span some time (a time axis, so runs a month apart stand further apart than runs an hour
    apart), else evenly in order."""
    right = WIDTH - RIGHT
    timed = times is not None and len(times) == runs and max(times) > min(times)

    def px(index: float) -> float:
        if runs == 1:
            return (LEFT + right) / 2
        if timed and times is not None:
            share = (times[int(index)] - min(times)) / (max(times) - min(times))
        else:
            share = index / (runs - 1)
        return LEFT + 24 + share * (right - LEFT - 48)

    return px


def _y(panel: tuple[int, int], top_value: float) -> Scale:
    top, bottom = panel
    return lambda value: bottom - value / (top_value or 1.0) * (bottom - top)


def _axis(panel: tuple[int, int], values: list[float], label: str) -> tuple[list[str], Scale]:
    """A panel's grid, its tick labels and its title; and its scale."""
    high = max(values) if values and max(values) > 0 else 1.0
    y_ticks = ticks(0.0, high, False)
    py = _y(panel, y_ticks[-1])
    right = WIDTH - RIGHT
    out = [el("text", label, x=LEFT, y=panel[0] - 8, font_weight="bold", fill="#333")]
    for tick in y_ticks:
        out.append(el("line", x1=LEFT, x2=right, y1=py(tick), y2=py(tick), stroke="#e3e6ea"))
        text = f"{tick:,.0f}" if tick >= 10 or tick == 0 else f"{tick:g}"
        out.append(el("text", text, x=LEFT - 6, y=py(tick) + 4, text_anchor="end", fill="#444"))
    return out, py


def _point(x: float, y: float, colour: str, flags: str, hover: str, placed: Boxes) -> list[str]:
    fill = "white" if flags else colour
    attrs = f'cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{fill}" stroke="{colour}" stroke-width="2" class="mark"'
    out = [f"<circle {attrs}><title>{escape(hover)}</title></circle>"]
    if flags:
        at = place_label(x + 6, y - 6, flags, placed)
        out.append(el("text", flags, x=x + 6, y=at, fill=colour, font_size=11, font_weight="bold"))
    return out


def _polyline(points: list[tuple[float, float]], colour: str) -> list[str]:
    if len(points) < 2:
        return []
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return [el("polyline", points=text, fill="none", stroke=colour, stroke_width=2)]


def _throughput(line: MachineLine, px: Scale, py: Scale, placed: Boxes) -> list[str]:
    out: list[str] = []
    segment: list[tuple[float, float]] = []
    for mark in line.marks:
        x = px(mark.run)
        if mark.throughput is None:
            out += _polyline(segment, line.colour)
            segment = []
            cross = f'x="{x:.1f}" y="{THROUGHPUT_PANEL[1] - 2:.1f}" text-anchor="middle" fill="#b3261e"'
            out.append(f'<text {cross} class="failed">&#215;<title>{escape(mark.hover)}</title></text>')
            continue
        if mark.low is not None and mark.high is not None:
            for x1, x2, y1, y2 in (
                (x, x, py(mark.low), py(mark.high)),
                (x - 4, x + 4, py(mark.low), py(mark.low)),
                (x - 4, x + 4, py(mark.high), py(mark.high)),
            ):
                out.append(
                    el("line", x1=x1, x2=x2, y1=y1, y2=y2, stroke=line.colour, **{"class": "interval"})
                )
        segment.append((x, py(mark.throughput)))
    out += _polyline(segment, line.colour)
    for mark in line.marks:
        if mark.throughput is not None:
            out += _point(px(mark.run), py(mark.throughput), line.colour, mark.flags, mark.hover, placed)
    return out


def _p99(line: MachineLine, px: Scale, py: Scale) -> list[str]:
    shown = [m for m in line.marks if m.p99 is not None and m.throughput is not None]
    out = _polyline([(px(m.run), py(m.p99 or 0.0)) for m in shown], line.colour)
    for mark in shown:
        out += _point(px(mark.run), py(mark.p99 or 0.0), line.colour, "", mark.hover, [])
    return out


#: The least room between two run labels under the axis, in pixels.
LABEL_ROOM = 72


def _run_labels(runs: list[RunLabel], px: Scale) -> list[str]:
    """The runs' dates and commits under the axis, the newest always, the others where they have room."""
    every = max(1, math.ceil(len(runs) / MAX_LABELS))
    out = []
    placed = [px(len(runs) - 1)]
    for index, run in enumerate(runs):
        last = index == len(runs) - 1
        x = px(index)
        if not last and (index % every or any(abs(x - other) < LABEL_ROOM for other in placed)):
            continue
        if not last:
            placed.append(x)
        out.append(el("text", run.date, x=x, y=P99_PANEL[1] + 16, text_anchor="middle", fill="#444"))
        out.append(
            el("text", run.commit, x=x, y=P99_PANEL[1] + 30, text_anchor="middle", fill="#777", font_size=10)
        )
    return out


def history_chart(
    title: str, runs: list[RunLabel], lines: list[MachineLine], times: list[float] | None = None
) -> str:
    """The chart of one cell over ``runs`` (oldest first), a line per testbed; placed by ``times``
    (when each run started, in seconds) when given."""
    px = _x(len(runs), times)
    highs = [v for line in lines for m in line.marks for v in (m.high, m.throughput) if v is not None]
    p99s = [m.p99 for line in lines for m in line.marks if m.p99 is not None]
    legend_top = P99_PANEL[1] + 52
    height = legend_top + 18 * len(lines) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="12" class="history">',
        el("rect", width=WIDTH, height=height, fill="white"),
        el("text", title, x=LEFT, y=20, font_size=15, font_weight="bold"),
    ]
    grid, throughput_y = _axis(THROUGHPUT_PANEL, highs, "throughput, req/s (median; bar: 95% interval)")
    out += grid
    grid, p99_y = _axis(P99_PANEL, p99s, "p99 latency, ms")
    out += grid
    out.append(el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=P99_PANEL[1], y2=P99_PANEL[1], stroke="#888"))
    out += _run_labels(runs, px)
    placed: Boxes = []
    for line in lines:
        out += _throughput(line, px, throughput_y, placed)
        out += _p99(line, px, p99_y)
    for i, line in enumerate(lines):
        y = legend_top + 18 * i
        out.append(
            el("line", x1=LEFT, x2=LEFT + 22, y1=y - 4, y2=y - 4, stroke=line.colour, stroke_width=2.5)
        )
        out.append(el("text", line.name, x=LEFT + 28, y=y))
    out.append("</svg>")
    return "\n".join(out) + "\n"
