"""SVG primitives for the report's charts: elements with their text escaped, the frame a chart is
drawn in (the page's or a publication's), its legend and its ``<svg>`` element.

The page and the Markdown export draw the same chart specs with these and the axes of
``svg_axes.py`` (``svg_lines.py``, ``svg_bars.py``); nothing here needs a browser or a plotting
library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Helvetica, Arial, sans-serif"
#: Characters XML forbids even escaped: a run's text holding one would make a chart unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: What an attribute's value in double quotes must escape beyond ``&``, ``<`` and ``>``.
_IN_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
#: About how wide a character of the charts' 12 px font is, to lay out labels without measuring them.
CHAR_PX = 7.0


def escape(text: str, entities: Mapping[str, str] | None = None) -> str:
    """``&``, ``<`` and ``>`` as entities, then each of ``entities``, as ``xml.sax.saxutils.escape``
    does: written here because importing that module loads ``urllib.request`` (and with it ssl, http
    and email), which every start of ``report`` and ``compare`` would pay for."""
    text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for character, entity in (entities or {}).items():
        text = text.replace(character, entity)
    return text


@dataclass(frozen=True)
class Frame:
    """How a chart is drawn beyond its spec: its width, a title inside it (a standalone image), and
    the hooks the page's script uses (legend keys to press, the other scale of a log axis)."""

    width: int
    titled: bool
    interactive: bool
    legend_columns: int


#: The page: as wide as its column, titled by its caption, with the script's hooks.
PAGE = Frame(960, titled=False, interactive=True, legend_columns=3)
#: The Markdown export: a standalone image with its title, nothing to press.
PRINT = Frame(760, titled=True, interactive=False, legend_columns=2)


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def number(value: float | int | str) -> str:
    """A coordinate to a tenth of a pixel, with no ".0" to carry."""
    if not isinstance(value, float):
        return str(value)
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attribute(value: object) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, int):
        return str(value)
    return escape(clean(str(value)), _IN_ATTRIBUTE)


def start(tag: str, /, cls: str | None = None, **attrs: object) -> str:
    """An element's start tag: ``stroke_width`` is written ``stroke-width``, ``cls`` is the class, and
    an attribute given None is left out; every value is escaped."""
    if cls is not None:
        attrs = {"class": cls, **attrs}
    rendered = "".join(f' {k.replace("_", "-")}="{_attribute(v)}"' for k, v in attrs.items() if v is not None)
    return f"<{tag}{rendered}>"


def el(tag: str, text: str | None = None, /, cls: str | None = None, **attrs: object) -> str:
    """One SVG element, its text escaped."""
    opened = start(tag, cls, **attrs)
    return f"{opened[:-1]}/>" if text is None else f"{opened}{escape(clean(text))}</{tag}>"


def titled(tag: str, title: Sequence[str], /, cls: str | None = None, **attrs: object) -> str:
    """An element holding its own ``<title>``: what a hover shows, and what is read without a script."""
    return f"{start(tag, cls, **attrs)}{el('title', chr(10).join(title))}</{tag}>"


@dataclass(frozen=True)
class Key:
    """One legend entry: what the page's script hides and shows when it is pressed."""

    key: str
    label: str
    colour: str
    #: "line", "ring", "dash" or "box".
    mark: str = "line"


def legend_height(keys: Sequence[Key], frame: Frame) -> int:
    return math.ceil(len(keys) / frame.legend_columns) * 18


def legend(keys: Sequence[Key], top: float, frame: Frame, left: float) -> list[str]:
    """Entries in columns, read across; on the page each is a button hiding its series."""
    column = (frame.width - left) / frame.legend_columns
    out = ['<g class="legend" font-size="11">']
    for i, key in enumerate(keys):
        x, y = left + (i % frame.legend_columns) * column, top + (i // frame.legend_columns) * 18
        press = {"tabindex": 0, "role": "button", "aria_pressed": "true"} if frame.interactive else {}
        out.append(start("g", cls="key", data_key=key.key, **press))
        out.append(_mark(key, x, y))
        out.append(el("text", key.label, x=x + 28, y=y + 4))
        out.append("</g>")
    out.append("</g>")
    return out


def _mark(key: Key, x: float, y: float) -> str:
    if key.mark == "ring":
        return el("circle", cx=x + 11, cy=y, r=6, fill="none", stroke=key.colour, stroke_width=1.5)
    if key.mark == "box":
        return el("rect", x=x + 4, y=y - 6, width=14, height=12, fill=key.colour)
    dash = "2 3" if key.mark == "dash" else None
    return el("line", x1=x, x2=x + 22, y1=y, y2=y, stroke=key.colour, stroke_width=2.5, stroke_dasharray=dash)


def document(
    frame: Frame, height: float, chart_id: str, title: str, body: list[str], points: int, log: bool = False
) -> str:
    """The ``<svg>`` around a chart's elements: named for assistive technology, and on the page
    marked with its chart, how many points it drew and the scale its value axis is on."""
    size = f"0 0 {frame.width} {height:.0f}"
    if frame.interactive:
        head = start(
            "svg",
            cls="chart-svg",
            viewBox=size,
            role="group",
            aria_label=title,
            data_chart=chart_id,
            data_points=points,
            data_scale="log" if log else None,
            font_family=FONT,
            font_size=12,
        )
        return f"{head}\n" + "\n".join(body) + "\n</svg>"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{height:.0f}" '
        f'viewBox="{size}" font-family="{escape(FONT)}" font-size="12">'
    )
    return "\n".join([head, el("title", title), *body, "</svg>"]) + "\n"
