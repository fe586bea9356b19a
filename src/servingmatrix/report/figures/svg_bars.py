"""A bar chart spec (``chart_specs.BarChart``) as SVG: horizontal bars, one row per category (a
mode, whose full spec reads on one line however many there are), one bar per series in each row.

Every bar holds its category, its series and its value, then the category's hover lines, as its
``<title>``; every series its name.
"""

from __future__ import annotations

from servingmatrix.report.figures.chart_specs import BarChart
from servingmatrix.report.figures.svg import (
    CHAR_PX,
    Frame,
    Key,
    document,
    el,
    legend,
    legend_height,
    start,
    titled,
)
from servingmatrix.report.figures.svg_axes import ValueAxis, tick_label

RIGHT, ROW, FILL = 24, 44, 0.72
GRID = "#e3e6ea"


def bar_title(spec: BarChart, row: int, series: int) -> tuple[str, ...]:
    bars, hover = spec.bars[series], spec.hovers[row] if row < len(spec.hovers) else ()
    value = bars.values[row]
    shown = "none" if value is None else f"{value:,.1f}"
    return (spec.categories[row], f"{bars.name}: {shown} {spec.x_label}", *hover[1:])


def _labels(spec: BarChart, left: float, top: float) -> list[str]:
    return [
        el("text", category, x=left - 8, y=top + ROW * (i + 0.5) + 4, text_anchor="end")
        for i, category in enumerate(spec.categories)
    ]


def _axis(spec: BarChart, axis: ValueAxis, top: float, bottom: float) -> list[str]:
    out = []
    for tick in axis.ticks:
        at = axis(tick)
        out.append(el("line", x1=at, x2=at, y1=top, y2=bottom, stroke=GRID))
        out.append(el("text", tick_label(tick), x=at, y=bottom + 16, text_anchor="middle", fill="#444"))
    out.append(el("line", x1=axis.bottom, x2=axis.bottom, y1=top, y2=bottom, stroke="#888"))
    middle = (axis.top + axis.bottom) / 2
    out.append(el("text", spec.x_label, x=middle, y=bottom + 34, text_anchor="middle"))
    return out


def _series(spec: BarChart, index: int, axis: ValueAxis, top: float) -> list[str]:
    bars = spec.bars[index]
    height = ROW * FILL / len(spec.bars)
    out = [start("g", data_series=str(index), fill=bars.colour), el("title", bars.name)]
    for row, value in enumerate(bars.values):
        if value is None:
            continue
        y = top + ROW * row + ROW * (1 - FILL) / 2 + height * index
        width = max(axis(value) - axis.bottom, 1.0)
        rect = {"x": axis.bottom, "y": y, "width": width, "height": height - 1}
        out.append(titled("rect", bar_title(spec, row, index), cls="bar", **rect))
    out.append("</g>")
    return out


def bar_chart(spec: BarChart, frame: Frame) -> str:
    longest = max((len(c) for c in spec.categories), default=0)
    left = min(frame.width * 0.45, 16 + CHAR_PX * longest)
    top = 44.0 if frame.titled else 14.0
    bottom = top + ROW * len(spec.categories)
    values = [v for bars in spec.bars for v in bars.values if v is not None]
    # A horizontal axis: its "bottom" (where zero sits) is the left edge.
    axis = ValueAxis.fit(values, False, frame.width - RIGHT, left)
    body = [el("rect", width=frame.width, height="100%", fill="white")]
    if frame.titled:
        body.append(el("text", spec.title, x=12, y=24, font_size=15, font_weight="bold"))
    body += _axis(spec, axis, top, bottom) + _labels(spec, left, top)
    body.append('<g class="plot">')
    for index in range(len(spec.bars)):
        body += _series(spec, index, axis, top)
    body.append("</g>")
    keys = [Key(str(i), b.name, b.colour, "box") for i, b in enumerate(spec.bars)]
    body += legend(keys, bottom + 58, frame, left)
    height = bottom + 58 + legend_height(keys, frame) + 6
    drawn = sum(1 for v in values if v is not None)
    return document(frame, height, spec.id, spec.title, body, drawn)
