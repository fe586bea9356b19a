"""The page's charts: chart specs (``chart_specs.py``) as Plotly figures, plain dicts that the page
only hands to ``Plotly.newPlot``.

Every point keeps its hover lines and its flags' letters drawn beside it; a flagged point is drawn
hollow. Legends toggle a mode's lines; steps and latencies grow geometrically, so their axes are
logarithmic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Any

from servingmatrix.report.chart_specs import BarChart, ChartPoint, LineChart, Series, colours

__all__ = ["FONT", "Chart", "colours", "plotly_figure"]

FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif"


@dataclass(frozen=True)
class Chart:
    """A chart as the page places it: where, its title and caption, and its Plotly figure."""

    id: str
    title: str
    caption: str
    figure: dict[str, Any]
    #: Points drawn, so the page (and its test) can tell an empty chart from a drawn one.
    points: int = field(default=0)


def hover_html(lines: tuple[str, ...]) -> str:
    """Hover lines as Plotly's markup: the first (the series' name) in bold, every line escaped."""
    if not lines:
        return ""
    head, *rest = (escape(line, quote=False) for line in lines)
    return "<br>".join([f"<b>{head}</b>", *rest])


def _users_axis(users: tuple[int, ...], title: str = "concurrent users") -> dict[str, Any]:
    # Steps grow geometrically (1, 8, 64 users; 100, 200, 400 req/s): a log axis spaces them evenly.
    return {
        "title": {"text": title},
        "type": "log",
        "tickvals": list(users),
        "ticktext": [str(u) for u in users],
        "showgrid": True,
    }


def _fit_legend(layout: dict[str, Any], series: int) -> dict[str, Any]:
    """Tall enough for one legend row per mode: a scrolled legend would hide modes from print."""
    layout["height"] = max(int(layout["height"]), 110 + 30 * series)
    return layout


def _layout(spec: LineChart) -> dict[str, Any]:
    y: dict[str, Any] = {"title": {"text": spec.y_label}, "rangemode": "tozero", "zeroline": True}
    if spec.log_y:
        # One tick per power of ten: the minor 2s and 5s of a log axis crowd a small chart.
        y = {"title": {"text": spec.y_label}, "type": "log", "dtick": 1}
    return {
        "xaxis": _users_axis(spec.xs, spec.x_label),
        "yaxis": y,
        "height": spec.height,
        "margin": {"l": 70, "r": 20, "t": 20, "b": 50},
        "hovermode": "closest",
        "font": {"family": FONT, "size": 12},
        "legend": {"title": {"text": "mode (click to hide)"}, "font": {"size": 11}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }


def _error_bars(series: Series) -> dict[str, Any]:
    def gap(p: ChartPoint, side: float | None) -> float | None:
        return None if p.y is None or side is None else abs(side - p.y)

    return {
        "type": "data",
        "symmetric": False,
        "array": [gap(p, p.high) for p in series.points],
        "arrayminus": [gap(p, p.low) for p in series.points],
        "thickness": 1,
        "width": 3,
        "color": series.colour,
    }


def _trace(series: Series, **extra: Any) -> dict[str, Any]:
    """One mode's line across the steps; a gap where the cell failed or is missing."""
    points = series.points
    return {
        "type": "scatter",
        "mode": "lines+markers+text",
        "name": series.name,
        "legendgroup": series.name,
        "x": [p.x for p in points],
        "y": [p.y for p in points],
        "text": [p.flags if p.y is not None else "" for p in points],
        "textposition": "top center",
        "textfont": {"color": series.colour, "size": 11},
        "hovertext": [hover_html(p.hover) if p.y is not None else "" for p in points],
        "hoverinfo": "text",
        "marker": {
            "color": series.colour,
            "size": 8,
            "symbol": ["diamond-open" if p.flags and p.y is not None else "circle" for p in points],
            "line": {"width": 2, "color": series.colour},
        },
        "line": {"color": series.colour, "width": 2},
        "connectgaps": False,
        **extra,
    }


def _knees(spec: LineChart) -> dict[str, Any] | None:
    """One ring per mode around its knee: the lowest step reaching 90% of its highest throughput."""
    ringed = [s for s in spec.panels[0].series if s.knee is not None]
    if not ringed:
        return None
    return {
        "type": "scatter",
        "mode": "markers",
        "name": spec.knee_label,
        "x": [s.knee.x for s in ringed if s.knee],
        "y": [s.knee.y for s in ringed if s.knee],
        "hovertext": [hover_html(s.knee.hover) for s in ringed if s.knee],
        "hoverinfo": "text",
        "marker": {
            "symbol": "circle-open",
            "size": 18,
            "color": [s.colour for s in ringed],
            "line": {"width": 2},
        },
    }


def _offered(spec: LineChart) -> dict[str, Any]:
    """What was asked for: a mode on this line served every request offered."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": "offered (achieved = offered)",
        "x": list(spec.xs),
        "y": [float(x) for x in spec.xs],
        "hoverinfo": "skip",
        "line": {"color": "#888", "dash": "dot", "width": 1},
    }


def _one_panel(spec: LineChart) -> dict[str, Any]:
    data = []
    for series in spec.panels[0].series:
        extra = {"error_y": _error_bars(series)} if spec.intervals else {}
        data.append(_trace(series, **extra))
    knees = _knees(spec)
    if knees is not None:
        data.append(knees)
    if spec.offered_line:
        data.append(_offered(spec))
    return {"data": data, "layout": _fit_legend(_layout(spec), len(data))}


def _log_range(spec: LineChart) -> list[float]:
    """A log axis range holding every value drawn and the guide, so the guide shows."""
    values = [p.y for panel in spec.panels for s in panel.series for p in s.points if p.y and p.y > 0]
    if spec.guide is not None:
        values.append(spec.guide.value)
    if not values:
        return [0.0, 1.0]
    return [math.log10(min(values)) - 0.15, math.log10(max(values)) + 0.25]


def _panels_layout(spec: LineChart) -> dict[str, Any]:
    """Panels side by side sharing a log scale, each titled; the guide drawn on the last."""
    layout = _layout(spec)
    layout["yaxis"]["range"] = _log_range(spec)
    layout["margin"]["t"] = 40
    width, count = 0.3, len(spec.panels)
    annotations: list[dict[str, Any]] = []
    for i, panel in enumerate(spec.panels):
        suffix = "" if i == 0 else str(i + 1)
        start = i * (width + 0.05)
        layout[f"xaxis{suffix}"] = {
            **_users_axis(spec.xs, spec.x_label),
            "domain": [start, start + width],
            "anchor": f"y{suffix}",
        }
        if i:
            layout[f"yaxis{suffix}"] = {
                "type": "log",
                "dtick": 1,
                "matches": "y",
                "anchor": f"x{suffix}",
                "showticklabels": True,
            }
        annotations.append(
            {
                "text": f"<b>{escape(panel.name)}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": start + width / 2,
                "y": 1.08,
                "showarrow": False,
            }
        )
    layout["annotations"] = annotations
    layout["shapes"] = []
    if spec.guide is not None:
        _guide(layout, spec.guide.value, spec.guide.label, "" if count == 1 else str(count))
    return layout


def _guide(layout: dict[str, Any], value: float, label: str, suffix: str) -> None:
    # The objective applies to the last panel (p99): drawn there, a reader sees which points qualify.
    layout["shapes"].append(
        {
            "type": "line",
            "xref": f"x{suffix} domain",
            "x0": 0,
            "x1": 1,
            "yref": f"y{suffix}",
            "y0": value,
            "y1": value,
            "line": {"color": "#b00", "dash": "dash", "width": 1},
        }
    )
    layout["annotations"].append(
        {
            "text": escape(label),
            "xref": f"x{suffix} domain",
            "yref": f"y{suffix}",
            "x": 1,
            # Annotations on a log axis take the logarithm (shapes take the value).
            "y": math.log10(value),
            "xanchor": "right",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"color": "#b00", "size": 10},
        }
    )


def _panels(spec: LineChart) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    for i, panel in enumerate(spec.panels):
        suffix = "" if i == 0 else str(i + 1)
        data += [_trace(s, xaxis=f"x{suffix}", yaxis=f"y{suffix}", showlegend=i == 0) for s in panel.series]
    layout = _fit_legend(_panels_layout(spec), len(spec.panels[0].series))
    return {"data": data, "layout": layout}


def _bar_figure(spec: BarChart) -> dict[str, Any]:
    """Horizontal bars: a mode's full spec reads on one line, however many there are."""
    hovers = [hover_html(h) for h in spec.hovers]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": bars.name,
            "y": list(spec.categories),
            "x": list(bars.values),
            "hovertext": hovers,
            "hoverinfo": "text",
            "marker": {"color": bars.colour},
        }
        for bars in spec.bars
    ]
    layout = {
        "barmode": "group",
        "height": 90 + 44 * len(spec.categories),
        "margin": {"l": 20, "r": 20, "t": 40, "b": 50},
        "font": {"family": FONT, "size": 12},
        "xaxis": {"title": {"text": spec.x_label}, "rangemode": "tozero"},
        # The first mode on top, as in the tables.
        "yaxis": {"autorange": "reversed", "automargin": True},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    return {"data": data, "layout": layout}


def plotly_figure(spec: LineChart | BarChart) -> dict[str, Any]:
    if isinstance(spec, BarChart):
        return _bar_figure(spec)
    if len(spec.panels) > 1:
        return _panels(spec)
    return _one_panel(spec)


def page_chart(spec: LineChart | BarChart) -> Chart:
    return Chart(spec.id, spec.title, spec.caption, plotly_figure(spec))
