"""The HTML renderer: one Jinja environment for the pages, with Plotly's JavaScript inlined (no CDN,
works offline); the report's sections are laid out by the templates, one macro per kind."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from servingmatrix.errors import UserError
from servingmatrix.report.charts import Chart, page_chart
from servingmatrix.report.document import Document

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.do"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def plotly_js() -> str:
    """plotly.js as the ``plotly`` package ships it, to inline in the page."""
    try:
        source = resources.files("plotly") / "package_data" / "plotly.min.js"
        return source.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise UserError(
            f"plotly's JavaScript is missing ({exc}); reinstall: pip install -e '.[dev]'"
        ) from None


def chart_json(chart: Chart) -> Markup:
    """The figure as JSON safe inside a <script> element (no "</" can close it early)."""
    text = json.dumps(chart.figure, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return Markup(text.replace("</", "<\\/"))


def render(template: str, context: dict[str, Any]) -> str:
    charts: list[Chart] = context.get("charts", [])
    return (
        _environment()
        .get_template(template)
        .render(
            **context,
            figures=[{"id": c.id, "json": chart_json(c)} for c in charts],
            plotly_js=Markup(plotly_js().replace("</script", "<\\/script")),
        )
    )


def render_static(template: str, context: dict[str, Any]) -> str:
    """A page whose charts, if any, are SVG already (``static.html.j2``): no chart engine inlined."""
    return _environment().get_template(template).render(**context, figures=[], plotly_js="")


def render_document(document: Document) -> str:
    """The report's page: every section in its template, every chart drawn by Plotly."""
    charts = [page_chart(spec) for spec in document.charts()]
    return render("report.html.j2", {"doc": document, "title": document.title, "charts": charts})
