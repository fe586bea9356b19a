"""A line chart spec (``chart_specs.LineChart``) as SVG: one line per series across the steps, in
one or more panels sharing the value axis.

A flagged point is drawn hollow with its flags' letters beside it; a gap (a failed or missing cell)
is never bridged; a series' knee is ringed. Every point holds its hover lines as its ``<title>``,
every series its name, so the figures are there without a script; on the page a log value axis
also carries its linear twin for the page's toggle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from servingmatrix.report.figures.chart_specs import ChartPoint, LineChart, Series
from servingmatrix.report.figures.labels import Boxes, place_label
from servingmatrix.report.figures.svg import (
    Frame,
    Key,
    document,
    el,
    legend,
    legend_height,
    number,
    start,
    titled,
)
from servingmatrix.report.figures.svg_axes import Scales, StepAxis, ValueAxis, tick_label

LEFT, RIGHT, PANEL_GAP, EDGE = 70, 24, 34, 14
GRID, AXIS, GUIDE, OFFERED = "#e3e6ea", "#888", "#b00", "#888"
#: The chart's height less its plot area: the room the axes' labels take.
AXES_HEIGHT = 100


@dataclass(frozen=True)
class Layout:
    """Where a chart's parts go: the plot area's top and bottom, and each panel's left and right."""

    top: float
    bottom: float
    panels: tuple[tuple[float, float], ...]


def _layout(spec: LineChart, frame: Frame) -> Layout:
    top = (44 if frame.titled else 14) + (20 if len(spec.panels) > 1 else 0)
    count = len(spec.panels)
    width = (frame.width - LEFT - RIGHT - PANEL_GAP * (count - 1)) / count
    panels = tuple(
        (LEFT + i * (width + PANEL_GAP), LEFT + i * (width + PANEL_GAP) + width) for i in range(count)
    )
    return Layout(top, top + spec.height - AXES_HEIGHT, panels)


def _values(spec: LineChart) -> list[float]:
    """Every value the value axis must hold: points, their intervals, the guide, the offered line."""
    values = []
    for panel in spec.panels:
        for series in panel.series:
            for p in series.points:
                if p.y is None:
                    continue
                values.append(p.y)
                if spec.intervals:
                    values += [v for v in (p.low, p.high) if v is not None]
    if spec.guide is not None:
        values.append(spec.guide.value)
    if spec.offered_line:
        values += [float(x) for x in spec.xs]
    return values


def _axes(spec: LineChart, frame: Frame, layout: Layout) -> list[Scales]:
    values = _values(spec)
    y = ValueAxis.fit(values, spec.log_y, layout.top, layout.bottom, spec.y_span)
    twin = (
        ValueAxis.fit(values, False, layout.top, layout.bottom) if spec.log_y and frame.interactive else None
    )
    low, high = float(min(spec.xs)), float(max(spec.xs))
    return [Scales(StepAxis(low, high, left + EDGE, right - EDGE), y, twin) for left, right in layout.panels]


def _value_ticks(scales: Scales, axis: ValueAxis, layout: Layout, on_twin: bool) -> list[str]:
    """Grid lines across every panel and their labels on the left, in a group the toggle can hide."""
    left, right = layout.panels[0][0], layout.panels[-1][1]
    out = [start("g", cls="yticks", **scales.swapped(on_twin))]
    for tick in axis.ticks:
        at = axis(tick)
        zero = tick == 0 and axis.low < 0
        out.append(el("line", x1=left, x2=right, y1=at, y2=at, stroke="#999" if zero else GRID))
        out.append(el("text", tick_label(tick), x=left - 6, y=at + 4, text_anchor="end", fill="#444"))
    out.append("</g>")
    return out


def step_title(spec: LineChart) -> str:
    """The steps' axis title: said to be a log scale when it is one (three steps or more; one or two
    steps sit at the ends whatever the scale)."""
    return f"{spec.x_label} (log scale)" if len(set(spec.xs)) > 2 else spec.x_label


def draws_lines(spec: LineChart) -> bool:
    """Whether the points are joined: not over two steps, where a line would suggest a growth
    between them that nothing measured."""
    return len(set(spec.xs)) > 2


def _step_axes(spec: LineChart, panels: list[Scales], layout: Layout) -> list[str]:
    """Each panel's name, a grid line and a label per step, and the steps' axis title under all."""
    out = []
    for (left, right), scales, panel in zip(layout.panels, panels, spec.panels, strict=True):
        if len(spec.panels) > 1:
            out.append(el("text", panel.name, x=(left + right) / 2, y=layout.top - 8, text_anchor="middle"))
        for x in spec.xs:
            at = scales.x(x)
            out.append(el("line", x1=at, x2=at, y1=layout.top, y2=layout.bottom, stroke="#f0f2f4"))
            below = layout.bottom + 16
            out.append(el("text", tick_label(x), x=at, y=below, text_anchor="middle", fill="#444"))
        out.append(el("line", x1=left, x2=right, y1=layout.bottom, y2=layout.bottom, stroke=AXIS))
    middle = (layout.panels[0][0] + layout.panels[-1][1]) / 2
    out.append(el("text", step_title(spec), x=middle, y=layout.bottom + 34, text_anchor="middle"))
    return out


def _value_axis(spec: LineChart, scales: Scales, layout: Layout) -> list[str]:
    """The value axis's ticks and title; on the page a log axis also has its linear twin's, hidden."""
    mid = (layout.top + layout.bottom) / 2

    def title(text: str, on_twin: bool) -> str:
        turn = f"rotate(-90 16 {mid:.0f})"
        return el("text", text, x=16, y=mid, text_anchor="middle", transform=turn, **scales.swapped(on_twin))

    out = _value_ticks(scales, scales.y, layout, False)
    out.append(title(f"{spec.y_label} (log scale)" if spec.log_y else spec.y_label, False))
    if scales.twin is not None:
        out += _value_ticks(scales, scales.twin, layout, True)
        out.append(title(spec.y_label, True))
    return out


def _band(spec: LineChart, panels: list[Scales], layout: Layout) -> list[str]:
    """The shaded band of no change (±the threshold) on each panel."""
    if spec.band is None:
        return []
    band = spec.band
    out = []
    for (left, right), scales in zip(layout.panels, panels, strict=True):
        top, bottom = scales.y(band), scales.y(-band)
        out.append(
            el(
                "rect",
                x=left,
                y=top,
                width=right - left,
                height=bottom - top,
                fill="#787878",
                fill_opacity=0.12,
            )
        )
    return out


def _guide(spec: LineChart, scales: Scales, layout: Layout) -> list[str]:
    """The reference line on the last panel (the objective applies to p99, drawn last)."""
    if spec.guide is None:
        return []
    value, (left, right) = spec.guide.value, layout.panels[-1]
    line = scales.ys(y1=value, y2=value)
    label = scales.ys(-4.0, y=value)
    return [
        el("line", cls="guide", x1=left, x2=right, stroke=GUIDE, stroke_dasharray="6 4", **line),
        el("text", spec.guide.label, x=right, text_anchor="end", fill=GUIDE, font_size=11, **label),
    ]


def _path(points: Sequence[ChartPoint], scales: Scales, axis: ValueAxis) -> str:
    """The line through the points drawn, a new stroke after each gap."""
    out, drawing = [], False
    for p in points:
        if p.y is None or not scales.y.shows(p.y):
            drawing = False
            continue
        out.append(f"{'L' if drawing else 'M'}{number(scales.x(p.x))} {number(axis(p.y))}")
        drawing = True
    return "".join(out)


def _intervals(points: Sequence[ChartPoint], scales: Scales, axis: ValueAxis) -> str:
    """Each drawn point's interval as a bar with caps."""
    out = []
    for p in points:
        if p.y is None or p.low is None or p.high is None or not scales.y.shows(p.y):
            continue
        x, low, high = (number(v) for v in (scales.x(p.x), axis(p.low), axis(p.high)))
        cap = number(scales.x(p.x) - 3)
        out.append(f"M{x} {low}V{high}M{cap} {low}h6M{cap} {high}h6")
    return "".join(out)


def clipped(p: ChartPoint, axis: ValueAxis) -> tuple[bool, bool]:
    """Whether a point's interval runs past the axis below and above: its bar stops at the edge."""
    if p.low is None or p.high is None:
        return False, False
    return p.low < axis.low, p.high > axis.high


def _clipped_ends(points: Sequence[ChartPoint], scales: Scales, axis: ValueAxis) -> str:
    """An arrowhead at each end of a bar cut at the chart's edge, pointing on past it: the interval
    runs further than drawn (its figures are in the point's hover and the table)."""
    out = []
    for p in points:
        if p.y is None or not scales.y.shows(p.y):
            continue
        below, above = clipped(p, axis)
        x = scales.x(p.x)
        for cut, edge, wing in ((below, axis.bottom, -5.0), (above, axis.top, 5.0)):
            if cut:
                out.append(f"M{number(x - 4)} {number(edge + wing)}L{number(x)} {number(edge)}")
                out.append(f"L{number(x + 4)} {number(edge + wing)}")
    return "".join(out)


def _title(series: Series, p: ChartPoint) -> tuple[str, ...]:
    """What a point's hover shows: its lines, and what its knee says when it is the series' knee."""
    lines = p.hover or (series.name, f"{tick_label(p.x)}: {p.y:,.4g}")
    knee = series.knee
    if knee is not None and knee.x == p.x and knee.y == p.y:
        lines = (*lines, *knee.hover[1:])
    return lines


@dataclass
class Labels:
    """The flag labels placed so far on each value axis of a panel: a new one that would overlap one
    goes up a line until it does not (two modes flagged at one step would otherwise print their
    letters over each other)."""

    boxes: dict[int, Boxes]

    def place(self, axis: ValueAxis, x: float, y: float, text: str) -> str:
        return number(place_label(x, y, text, self.boxes.setdefault(id(axis), [])))

    def at(self, x: float, value: float, text: str) -> Callable[[ValueAxis], str]:
        """Where ``text`` goes beside the point of ``value``, on whichever axis draws it."""
        return lambda axis: self.place(axis, x, axis(value) - 6, text)


def _series(spec: LineChart, series: Series, key: str, scales: Scales, labels: Labels) -> list[str]:
    """One series in one panel: its line, intervals, points, flags and knee, hidden together."""
    out = [start("g", data_series=key, stroke=series.colour, fill=series.colour, stroke_width=2)]
    out.append(el("title", series.name))
    points = series.points
    if draws_lines(spec):
        out.append(el("path", fill="none", **scales.ys(d=lambda y: _path(points, scales, y))))
    if spec.intervals and _intervals(points, scales, scales.y):
        out.append(
            el("path", fill="none", stroke_width=1, **scales.ys(d=lambda y: _intervals(points, scales, y)))
        )
        if _clipped_ends(points, scales, scales.y):
            ends = scales.ys(d=lambda y: _clipped_ends(points, scales, y))
            out.append(el("path", cls="clipped", fill="none", stroke_width=1.5, **ends))
    for p in points:
        y = p.y
        if y is None or not scales.y.shows(y):
            continue
        x, hollow = scales.x(p.x), "#fff" if p.flags else None
        out.append(titled("circle", _title(series, p), cls="pt", cx=x, r=4, fill=hollow, **scales.ys(cy=y)))
        if p.flags:
            place = scales.ys(y=labels.at(x + 6, y, p.flags))
            out.append(el("text", p.flags, x=x + 6, stroke="none", font_size=11, font_weight="bold", **place))
        if series.knee is not None and series.knee.x == p.x:
            ring = scales.ys(cy=y)
            out.append(
                el("circle", cls="knee", data_series="knee", cx=x, r=9, fill="none", stroke_width=1.5, **ring)
            )
    out.append("</g>")
    return out


def _offered(spec: LineChart, scales: Scales) -> list[str]:
    """Achieved = offered: where a mode serving every request offered sits (open loop)."""
    diagonal = tuple(ChartPoint(x, float(x)) for x in spec.xs)
    return [
        start("g", data_series="offered", stroke=OFFERED, fill="none"),
        el("title", "offered (achieved = offered)"),
        el("path", stroke_dasharray="2 3", **scales.ys(d=lambda y: _path(diagonal, scales, y))),
        "</g>",
    ]


def keys(spec: LineChart) -> list[Key]:
    """The legend: one entry per series, then the knees' rings and the offered line when drawn."""
    out = [Key(str(i), s.name, s.colour) for i, s in enumerate(spec.panels[0].series)]
    if any(s.knee is not None for s in spec.panels[0].series):
        out.append(Key("knee", spec.knee_label or "knee", "#555", "ring"))
    if spec.offered_line:
        out.append(Key("offered", "offered (achieved = offered)", OFFERED, "dash"))
    return out


def line_chart(spec: LineChart, frame: Frame, notes: tuple[str, ...] = ()) -> str:
    """The chart, its legend under it, and ``notes`` under that (a publication's)."""
    layout = _layout(spec, frame)
    panels = _axes(spec, frame, layout)
    body = [el("rect", width=frame.width, height="100%", fill="white")]
    if frame.titled:
        body.append(el("text", spec.title, x=LEFT, y=24, font_size=15, font_weight="bold"))
    body += _value_axis(spec, panels[0], layout) + _step_axes(spec, panels, layout)
    body += _band(spec, panels, layout) + _guide(spec, panels[-1], layout)
    order = {s.name: str(i) for i, s in enumerate(spec.panels[0].series)}
    body.append('<g class="plot">')
    if spec.offered_line:
        body += _offered(spec, panels[0])
    for panel, scales in zip(spec.panels, panels, strict=True):
        labels = Labels({})
        for series in panel.series:
            body += _series(spec, series, order.get(series.name, series.name), scales, labels)
    body.append("</g>")
    entries = keys(spec)
    legend_top = layout.bottom + 58
    body += legend(entries, legend_top, frame, LEFT)
    notes_top = legend_top + legend_height(entries, frame)
    for i, note in enumerate(notes):
        body.append(el("text", note, x=LEFT, y=notes_top + 4 + 16 * i, fill="#555", font_size=11))
    height = notes_top + 16 * len(notes) + 6
    drawn = sum(1 for line in body if line.startswith('<circle class="pt"'))
    return document(frame, height, spec.id, spec.title, body, drawn, log=spec.log_y)
