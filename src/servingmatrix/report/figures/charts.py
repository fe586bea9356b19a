"""The report's charts drawn from their specs (``chart_specs.py``), by one drawer for both formats:
on the page as inline SVG carrying the hooks of the page's script (``templates/charts.js``), in
the Markdown export as standalone SVG images of the panel a publication shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from markupsafe import Markup

from servingmatrix.report.figures.chart_specs import BarChart, LineChart
from servingmatrix.report.figures.svg import PAGE, PRINT
from servingmatrix.report.figures.svg_bars import bar_chart
from servingmatrix.report.figures.svg_lines import line_chart


def page_svg(spec: LineChart | BarChart) -> Markup:
    """The chart as the page inlines it (every piece of text in it escaped)."""
    if isinstance(spec, BarChart):
        return Markup(bar_chart(spec, PAGE))
    return Markup(line_chart(spec, PAGE))


@dataclass(frozen=True)
class Image:
    name: str
    svg: str


def printed_spec(spec: LineChart) -> LineChart | None:
    """The one panel a publication shows, under its own title; None when it shows none."""
    printed = spec.printed
    if printed is None:
        return None
    last = printed.panel == len(spec.panels) - 1
    return replace(
        spec,
        title=printed.title,
        y_label=printed.y_label,
        panels=(spec.panels[printed.panel],),
        guide=spec.guide if last else None,
        intervals=False,
        offered_line=False,
    )


def printed_image(spec: LineChart) -> Image | None:
    """The chart as a standalone SVG file for the Markdown export, its notes under it."""
    one = printed_spec(spec)
    if one is None or spec.printed is None:
        return None
    return Image(f"{spec.printed.name}.svg", line_chart(one, PRINT, spec.printed.notes))
