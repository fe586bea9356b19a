"""The page's charts read back as XML: each inline ``<svg>`` by its chart, its series by the name
its legend gives them, and what each point's ``<title>`` says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_ELEMENT = re.compile(r'<svg class="chart-svg".*?</svg>', re.S)


def page_charts(html: str) -> dict[str, ET.Element]:
    """Every chart on the page, parsed (so it is well-formed XML), by its chart id."""
    charts = {}
    for text in SVG_ELEMENT.findall(html):
        svg = ET.fromstring(text)
        charts[svg.attrib["data-chart"]] = svg
    return charts


def legend(svg: ET.Element) -> dict[str, str]:
    """Legend labels and the series key each hides."""
    keys = [g for g in svg.iter("g") if g.get("class") == "key"]
    return {key.findtext("text", ""): key.attrib["data-key"] for key in keys}


def plot(svg: ET.Element) -> ET.Element:
    (found,) = [g for g in svg.iter("g") if g.get("class") == "plot"]
    return found


def series(svg: ET.Element, name: str) -> list[ET.Element]:
    """The groups drawing the series the legend names ``name``, one per panel."""
    key = legend(svg)[name]
    return [g for g in plot(svg).iter("g") if g.get("data-series") == key]


def points(group: ET.Element) -> list[ET.Element]:
    return [c for c in group.iter("circle") if c.get("class") == "pt"]


def marks(group: ET.Element) -> list[ET.Element]:
    """What a series draws: a line with a stroke, points, bars."""
    lines = [p for p in group.iter("path") if p.get("d")]
    return [*lines, *points(group), *(r for r in group.iter("rect") if r.get("class") == "bar")]


def title(element: ET.Element) -> str:
    return element.findtext("title", "")


def flag_letters(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter("text")]
