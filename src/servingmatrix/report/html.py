"""The HTML renderer: one Jinja environment for the pages, their sections laid out by the
templates, one macro per kind. Charts are inline SVG drawn in Python (``charts.py``), so they show
with no script; one small inline script (``templates/charts.js``) adds hover figures, legend
toggles and the log/linear switch. Nothing is fetched: the page works offline."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from servingmatrix.paths import cache_dir
from servingmatrix.report.document import Document
from servingmatrix.report.figures.chart_specs import BarChart, LineChart
from servingmatrix.report.figures.charts import page_svg

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCRIPT = TEMPLATES / "charts.js"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The templates compiled once and kept (``.cache/jinja/``, keyed by each template's checksum, so
    an edited template is compiled again): a page then starts without compiling them. None where that
    folder cannot be made: the templates are compiled at every start, as without a cache."""
    folder = cache_dir() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        extensions=["jinja2.ext.do"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["svg"] = page_svg
    return environment


@cache
def chart_script() -> str:
    """The charts' script as the page inlines it (no "</script" can close its element early)."""
    return SCRIPT.read_text(encoding="utf-8").replace("</script", "<\\/script")


def render(template: str, context: dict[str, Any]) -> str:
    charts: list[LineChart | BarChart] = context.get("charts", [])
    return (
        _environment()
        .get_template(template)
        .render(**context, charts_expected=len(charts), chart_script=Markup(chart_script()))
    )


def render_static(template: str, context: dict[str, Any]) -> str:
    """A page of SVG charts without the report's interactions (``static.html.j2``): its own draw check."""
    return _environment().get_template(template).render(**context, charts_expected=0, chart_script="")


def render_document(document: Document) -> str:
    """The report's page: every section in its template, every chart drawn as SVG."""
    return render("report.html.j2", {"doc": document, "title": document.title, "charts": document.charts()})
