"""The comparison as an HTML page: what differs between the runs first, then every cell's change."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.compare import CellChange, Comparison
from servingmatrix.analysis.points import Point
from servingmatrix.analysis.stats import Change
from servingmatrix.report.charts import FONT, Chart, _users_axis, colours
from servingmatrix.report.html import render
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.sections.common import badges


def _side(point: Point | None, hide: frozenset[str]) -> dict[str, Any]:
    if point is None:
        return {"rps": "not measured", "p99": "—", "flags": []}
    if not point.ok:
        return {"rps": "failed", "p99": "—", "flags": []}
    return {
        "rps": fmt.rps(point.throughput.median if point.throughput else None),
        "p99": fmt.ms(point.p99),
        "flags": badges(point.flags, hide),
    }


def _row(c: CellChange, hide: frozenset[str]) -> dict[str, Any]:
    return {
        "mode": c.mode,
        "users": c.users,
        "base": _side(c.base, hide),
        "new": _side(c.new, hide),
        "throughput": fmt.change(c.throughput),
        "p99": fmt.change(c.p99),
        "status": c.status,
        "why": "; ".join(c.problems or c.gains),
        "regressed": c.regressed,
        "improved": bool(c.gains) and not c.regressed,
    }


def _change_chart(comparison: Comparison, workload: str, which: str) -> Chart:
    """Each mode's change by step, ± its 95% interval, over the threshold band."""
    modes = [m for m in comparison.run.modes + comparison.baseline.modes if m]
    palette = colours(tuple(dict.fromkeys(modes)))
    users = tuple(sorted({c.users for c in comparison.changes if c.workload == workload}))
    data, drawn = [], 0
    for mode in dict.fromkeys(modes):
        rows = {c.users: c for c in comparison.changes if c.workload == workload and c.mode == mode}
        if not rows:
            continue
        ys, errors, hovers = [], [], []
        for u in users:
            c = rows.get(u)
            change: Change | None = None if c is None else (c.throughput if which == "throughput" else c.p99)
            ys.append(None if change is None else 100 * change.relative)
            errors.append(None if change is None or change.uncertainty is None else 100 * change.uncertainty)
            hovers.append(
                f"<b>{mode}</b><br>{comparison.run.step_text(u)}: {which} {fmt.change(change)}"
                + (f"<br>{c.status}" if c else "")
            )
            drawn += change is not None
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": mode,
                "x": list(users),
                "y": ys,
                "error_y": {"type": "data", "array": errors, "visible": True, "thickness": 1, "width": 3},
                "hovertext": hovers,
                "hoverinfo": "text",
                "marker": {"color": palette[mode], "size": 8},
                "line": {"color": palette[mode], "width": 2},
            }
        )
    band = 100 * comparison.threshold
    layout = {
        "xaxis": _users_axis(users, comparison.run.step_axis),
        "yaxis": {"title": {"text": f"{which} change, %"}, "zeroline": True, "range": _range(data, band)},
        "height": 340,
        "margin": {"l": 70, "r": 20, "t": 20, "b": 50},
        "font": {"family": FONT, "size": 12},
        "legend": {"title": {"text": "mode (click to hide)"}, "font": {"size": 11}},
        "shapes": [
            {
                "type": "rect",
                "xref": "x domain",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": -band,
                "y1": band,
                "fillcolor": "rgba(120,120,120,0.12)",
                "line": {"width": 0},
            }
        ],
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    safe = "".join(ch if ch.isalnum() else "-" for ch in workload).strip("-")
    better = "up is better" if which == "throughput" else "down is better"
    return Chart(
        f"change-{which}-{safe}",
        f"{which} change vs baseline: {workload}",
        f"Median of trials against the baseline's, {better}; bars: the 95% interval (none: a single trial); "
        f"shaded: the ±{fmt.share(comparison.threshold)} threshold.",
        {"data": data, "layout": layout},
        drawn,
    )


def _range(data: list[dict[str, Any]], band: float) -> list[float]:
    """Room for every change and the threshold band; intervals wider than that run off the chart
    (two trials give very wide ones), and their figures are in the hover text and the table."""
    values = [y for trace in data for y in trace["y"] if y is not None]
    low, high = min([*values, -band]), max([*values, band])
    pad = max(2.0, 0.25 * (high - low))
    return [low - pad, high + pad]


def build_compare_context(comparison: Comparison) -> dict[str, Any]:
    hide = frozenset({"cores-shared"})
    workloads = list(dict.fromkeys(c.workload for c in comparison.changes))
    sections = []
    charts: list[Chart] = []
    for workload in workloads:
        section_charts = [
            _change_chart(comparison, workload, "throughput"),
            _change_chart(comparison, workload, "p99"),
        ]
        charts += section_charts
        sections.append(
            {
                "workload": workload,
                "rows": [_row(c, hide) for c in comparison.changes if c.workload == workload],
                "charts": section_charts,
            }
        )
    b, r = comparison.baseline.run, comparison.run.run
    return {
        "title": f"Serving Matrix: {r.name} against {b.name}",
        "baseline": {"name": b.name, "dir": str(b.root), "started": str(b.meta.get("started_at") or "—")},
        "run": {"name": r.name, "dir": str(r.root), "started": str(r.meta.get("started_at") or "—")},
        "threshold": fmt.share(comparison.threshold),
        "step_label": comparison.run.step_label,
        "differences": list(comparison.differences),
        "missing": comparison.missing,
        "regressions": [
            f"{c.mode} x {c.workload} x {comparison.run.step_text(c.users)}: {'; '.join(c.problems)}"
            for c in comparison.regressions
        ],
        "cells": len(comparison.changes),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sections": sections,
        "charts": charts,
    }


def write_compare(comparison: Comparison, out: Path) -> tuple[Path, float, int]:
    started = time.perf_counter()
    html = render("compare.html.j2", build_compare_context(comparison))
    write_text_atomic(out, html)
    return out, time.perf_counter() - started, len(html.encode())
