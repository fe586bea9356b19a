"""Static line charts as SVG, for the Markdown export: no browser and no plotting library needed.

Each flagged point is drawn hollow with its flags' letters beside it, as in the interactive report;
a line's knee, when it has one, is ringed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 760
LEFT, RIGHT, TOP, PLOT_BOTTOM = 70, 30, 40, 290
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

Scale = Callable[[float], float]


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    #: (x, y or None for a gap, flag letters) per x.
    points: tuple[tuple[float, float | None, str], ...]
    #: The x of the point to ring as the line's knee (the step past which more load only adds latency).
    knee: float | None = None


@dataclass(frozen=True)
class Guide:
    """A horizontal reference line, such as the latency objective."""

    value: float
    label: str


def el(tag: str, text: str | None = None, **attrs: object) -> str:
    """One SVG element; ``stroke_width`` is written ``stroke-width``."""
    rendered = "".join(
        f" {k.replace('_', '-')}={quoteattr(f'{v:.1f}' if isinstance(v, float) else str(v))}"
        for k, v in attrs.items()
    )
    return f"<{tag}{rendered}/>" if text is None else f"<{tag}{rendered}>{escape(text)}</{tag}>"


def _nice_step(span: float) -> float:
    """A round tick step giving about five ticks over ``span``."""
    raw = span / 5
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power


def ticks(low: float, high: float, log: bool) -> list[float]:
    if log:
        return [10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]
    step = _nice_step(high - low if high > low else 1.0)
    return [i * step for i in range(math.ceil(high / step) + 1)]


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:g}"


def _scales(xs: list[float], y_ticks: list[float], log_y: bool) -> tuple[Scale, Scale]:
    x_min, x_max = math.log10(min(xs)), math.log10(max(xs))
    y_min, y_max = y_ticks[0], y_ticks[-1]
    right = WIDTH - RIGHT

    def px(x: float) -> float:
        if x_max == x_min:
            return (LEFT + right) / 2
        return LEFT + (math.log10(x) - x_min) / (x_max - x_min) * (right - LEFT)

    def py(y: float) -> float:
        if log_y:
            share = (math.log10(y) - math.log10(y_min)) / ((math.log10(y_max) - math.log10(y_min)) or 1.0)
        else:
            share = (y - y_min) / ((y_max - y_min) or 1.0)
        return PLOT_BOTTOM - share * (PLOT_BOTTOM - TOP)

    return px, py


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    xs: list[float],
    lines: list[Line],
    log_y: bool = False,
    guide: Guide | None = None,
    notes: tuple[str, ...] = (),
) -> str:
    """An SVG line chart with a log x axis (user levels grow geometrically) and a legend below."""
    ys = [y for line in lines for _, y, _ in line.points if y is not None and (y > 0 or not log_y)]
    if guide is not None:
        ys.append(guide.value)
    high = max(ys) if ys and max(ys) > 0 else 1.0
    y_ticks = ticks(min(ys) if log_y and ys else 0.0, high, log_y)
    px, py = _scales(xs, y_ticks, log_y)
    right = WIDTH - RIGHT
    legend_end = PLOT_BOTTOM + 50 + math.ceil(len(lines) / 2) * 18
    height = legend_end + 16 * len(notes) + 10
    mid = (TOP + PLOT_BOTTOM) / 2
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="12">',
        el("rect", width=WIDTH, height=height, fill="white"),
        el("text", title, x=LEFT, y=22, font_size=15, font_weight="bold"),
    ]
    for tick in y_ticks:
        y = py(tick)
        out.append(el("line", x1=LEFT, x2=right, y1=y, y2=y, stroke="#e3e6ea"))
        out.append(el("text", _label(tick), x=LEFT - 6, y=y + 4, text_anchor="end", fill="#444"))
    for x in xs:
        out.append(el("line", x1=px(x), x2=px(x), y1=TOP, y2=PLOT_BOTTOM, stroke="#f0f2f4"))
        out.append(el("text", _label(x), x=px(x), y=PLOT_BOTTOM + 16, text_anchor="middle", fill="#444"))
    out.append(el("line", x1=LEFT, x2=right, y1=PLOT_BOTTOM, y2=PLOT_BOTTOM, stroke="#888"))
    out.append(el("text", x_label, x=(LEFT + right) / 2, y=PLOT_BOTTOM + 34, text_anchor="middle"))
    out.append(el("text", y_label, x=16, y=mid, text_anchor="middle", transform=f"rotate(-90 16 {mid:.0f})"))
    if guide is not None:
        y = py(guide.value)
        out.append(el("line", x1=LEFT, x2=right, y1=y, y2=y, stroke="#b00", stroke_dasharray="6 4"))
        out.append(el("text", guide.label, x=right, y=y - 4, text_anchor="end", fill="#b00", font_size=11))
    for line in lines:
        out += _series(line, px, py, log_y)
    for i, line in enumerate(lines):
        x, y = LEFT + (i % 2) * 340, PLOT_BOTTOM + 58 + (i // 2) * 18
        out.append(el("line", x1=x, x2=x + 22, y1=y - 4, y2=y - 4, stroke=line.colour, stroke_width=2.5))
        out.append(el("text", line.name, x=x + 28, y=y))
    for i, note in enumerate(notes):
        out.append(el("text", note, x=LEFT, y=legend_end + 8 + 16 * i, fill="#555", font_size=11))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _series(line: Line, px: Scale, py: Scale, log_y: bool) -> list[str]:
    out: list[str] = []
    # Separate segments at gaps: a failed or missing cell is not bridged by a line.
    segment: list[str] = []
    for x, y, _ in (*line.points, (0.0, None, "")):
        if y is None or (log_y and y <= 0):
            if len(segment) > 1:
                out.append(
                    el("polyline", points=" ".join(segment), fill="none", stroke=line.colour, stroke_width=2)
                )
            segment = []
        else:
            segment.append(f"{px(x):.1f},{py(y):.1f}")
    for x, y, flags in line.points:
        if y is None or (log_y and y <= 0):
            continue
        cx, cy = px(x), py(y)
        fill = "white" if flags else line.colour
        out.append(el("circle", cx=cx, cy=cy, r=4, fill=fill, stroke=line.colour, stroke_width=2))
        if line.knee == x:
            out.append(
                el(
                    "circle",
                    cx=cx,
                    cy=cy,
                    r=9,
                    fill="none",
                    stroke=line.colour,
                    stroke_width=1.5,
                    **{"class": "knee"},
                )
            )
        if flags:
            out.append(
                el("text", flags, x=cx + 6, y=cy - 6, fill=line.colour, font_size=11, font_weight="bold")
            )
    return out
