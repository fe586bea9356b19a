"""A tune as an HTML page (``tune.html`` in its folder): the recommendation first, beside the folk
default of the same server, then the set the best cannot be told apart from, the ranking with each
capacity's interval, the command to deploy it, and the search's history as a chart. It reads
``tune.json``'s record and renders; the command is the deployment rendering the report uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from servingmatrix.deployment import deployment
from servingmatrix.modes import resolve_mode
from servingmatrix.report.figures.tune_history_svg import history_svg
from servingmatrix.report.html import render_static
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.views.tune_summary import capacity_text
from servingmatrix.tune.result_file import TuneResult

TUNE_PAGE = "tune.html"


def _row(result: TuneResult, rank: int, spec: str) -> dict[str, Any]:
    capacity = result.capacity(spec)
    return {
        "rank": rank,
        "spec": spec,
        "capacity": capacity_text(capacity),
        "probes": len(capacity.probes) if capacity else 0,
        "status": capacity.status if capacity else "",
        "contender": spec in result.contenders,
        "recommended": spec == result.recommendation,
    }


def _command(result: TuneResult) -> str | None:
    if result.recommendation is None:
        return None
    request = result.request
    config = resolve_mode(result.recommendation, int(request.get("server_cpus", 1)))
    return deployment(config).command


def build_context(result: TuneResult) -> dict[str, Any]:
    request = result.request
    slo = float(request.get("slo_p99_ms", 500.0))
    svg, drawn = history_svg(result, slo)
    recommended = result.capacity(result.recommendation)
    default = result.capacity(result.folk_default)
    ratio = None
    if recommended and default and recommended.lower_rps and default.lower_rps:
        ratio = f"{recommended.lower_rps / default.lower_rps:.2f}x"
    return {
        "title": f"Serving Matrix: tune of {request.get('workload')} on {request.get('server_cpus')} CPU(s)",
        "request": request,
        "slo": f"{slo:g}",
        "errors": f"{float(request.get('max_error_rate', 0)):.1%}",
        "stopped": result.stopped,
        "minutes": f"{result.elapsed_s / 60:.1f}",
        "space_size": result.space_size,
        "measured": len({c.spec for c in result.capacities}),
        "probes": drawn,
        "recommendation": result.recommendation,
        "recommended": capacity_text(recommended) if recommended else None,
        "recommended_bound": recommended is not None and recommended.status == "generator-bound",
        "folk_default": result.folk_default,
        "default": capacity_text(default) if default else None,
        "ratio": ratio,
        "contenders": [s for s in result.contenders if s != result.recommendation],
        "ranking": [_row(result, i, s) for i, s in enumerate(result.ranking, 1)],
        "command": _command(result),
        "artefacts": list(result.artefacts),
        "chart": Markup(svg) if svg else None,
        "svg_charts": 1 if svg else 0,
    }


def write_tune_page(result: TuneResult, folder: Path) -> Path:
    """``tune.html`` in the tune's folder, written whole."""
    path = folder / TUNE_PAGE
    write_text_atomic(path, render_static("tune.html.j2", build_context(result)))
    return path
