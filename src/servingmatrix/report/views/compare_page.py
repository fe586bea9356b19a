"""The comparison as an HTML page: what differs between the runs first, then every cell's change."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.compare import CellChange, Comparison
from servingmatrix.analysis.points import Point
from servingmatrix.analysis.run_wide import run_wide_codes, run_wide_message
from servingmatrix.analysis.stats import Change
from servingmatrix.flags import kind, order
from servingmatrix.report.figures.chart_specs import ChartPoint, LineChart, Panel, Series, chart_id, colours
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
        # A change that is not like for like is said in its status, and never coloured as a plain one.
        "style": "short"
        if c.regressed
        else "note"
        if c.qualifiers or not c.in_both
        else "holds"
        if c.gains
        else "",
    }


def _change_series(
    comparison: Comparison, workload: str, which: str, mode: str, users: tuple[int, ...], colour: str
) -> Series | None:
    """A mode's change by step, ± its 95% interval, a gap where either run has no figure; None when
    the mode has no cell here."""
    rows = {c.users: c for c in comparison.changes if c.workload == workload and c.mode == mode}
    if not rows:
        return None
    points = []
    for u in users:
        c = rows.get(u)
        change: Change | None = None if c is None else (c.throughput if which == "throughput" else c.p99)
        hover = (
            mode,
            f"{comparison.run.step_text(u)}: {which} {fmt.change(change)}",
            *([c.status] if c else []),
        )
        if change is None:
            points.append(ChartPoint(u, None, hover=hover))
            continue
        y, spread = 100 * change.relative, change.uncertainty
        low, high = (None, None) if spread is None else (y - 100 * spread, y + 100 * spread)
        points.append(ChartPoint(u, y, hover=hover, low=low, high=high))
    return Series(mode, colour, tuple(points))


def _change_chart(comparison: Comparison, workload: str, which: str) -> LineChart:
    """Each mode's change by step, ± its 95% interval, over the threshold band."""
    modes = tuple(dict.fromkeys(m for m in comparison.run.modes + comparison.baseline.modes if m))
    palette = colours(modes)
    users = tuple(sorted({c.users for c in comparison.changes if c.workload == workload}))
    found = (_change_series(comparison, workload, which, m, users, palette[m]) for m in modes)
    series = tuple(s for s in found if s is not None)
    band = 100 * comparison.threshold
    better = "up is better" if which == "throughput" else "down is better"
    span = _span(series, band)
    cut = any(
        (p.low is not None and p.low < span[0]) or (p.high is not None and p.high > span[1])
        for s in series
        for p in s.points
    )
    past = " An arrowhead ends a bar whose interval runs past the chart's edge." if cut else ""
    # Bars are said only where some change has an interval (a single trial on either side gives none).
    drawn = any(p.low is not None for s in series for p in s.points)
    bars = "bars: the 95% interval (none: a single trial)" if drawn else "a single trial: no interval"
    return LineChart(
        id=chart_id(f"change-{which}", workload),
        title=f"{which} change vs baseline: {workload}",
        caption=f"Median of trials against the baseline's, {better}; {bars}; shaded: the "
        f"±{fmt.share(comparison.threshold)} threshold.{past} Hover for the figures; click a mode in the "
        "legend to hide it.",
        x_label=comparison.run.step_axis,
        y_label=f"{which} change, %",
        xs=users,
        panels=(Panel(which, series),),
        height=340,
        intervals=True,
        y_span=span,
        band=band,
    )


#: How far past the changes themselves an interval may widen the chart, in percentage points: two
#: trials can give an interval of hundreds of percent, which would flatten every change to a line.
INTERVAL_ROOM = 50.0


def _span(series: tuple[Series, ...], band: float) -> tuple[float, float]:
    """Room for every change, the threshold band and the intervals up to ``INTERVAL_ROOM`` beyond
    them; an interval wider than that is cut at the edge with an arrowhead, and its figures are in
    the hover text and the table."""
    points = [p for s in series for p in s.points if p.y is not None]
    values = [p.y for p in points if p.y is not None]
    low, high = min([*values, -band]), max([*values, band])
    lows = [p.low for p in points if p.low is not None]
    highs = [p.high for p in points if p.high is not None]
    low = min([low, *(max(v, low - INTERVAL_ROOM) for v in lows)])
    high = max([high, *(min(v, high + INTERVAL_ROOM) for v in highs)])
    pad = max(2.0, 0.1 * (high - low))
    return (low - pad, high + pad)


def build_compare_context(comparison: Comparison) -> dict[str, Any]:
    # A run condition said once: only one every figure of both runs carries.
    hide = run_wide_codes(comparison.baseline) & run_wide_codes(comparison.run)
    workloads = list(dict.fromkeys(c.workload for c in comparison.changes))
    sections = []
    charts: list[LineChart] = []
    for workload in workloads:
        # A chart only where some change is drawn: a workload with no cell in both runs has none.
        section_charts = [
            chart
            for chart in (
                _change_chart(comparison, workload, "throughput"),
                _change_chart(comparison, workload, "p99"),
            )
            if any(p.y is not None for panel in chart.panels for s in panel.series for p in s.points)
        ]
        charts += section_charts
        sections.append(
            {
                "workload": workload,
                "rows": [_row(c, hide) for c in comparison.changes if c.workload == workload],
                "charts": section_charts,
                "uncharted": not section_charts,
            }
        )
    b, r = comparison.baseline.run, comparison.run.run
    return {
        "title": f"Serving Matrix: {r.name} against {b.name}",
        "baseline": {"name": b.name, "dir": str(b.root), "started": str(b.record.started_at or "—")},
        "run": {"name": r.name, "dir": str(r.root), "started": str(r.record.started_at or "—")},
        "threshold": fmt.share(comparison.threshold),
        "step_label": comparison.run.step_label,
        "differences": list(comparison.differences),
        "missing": comparison.missing,
        "regressions": [
            f"{c.mode} x {c.workload} x {comparison.run.step_text(c.users)}: {'; '.join(c.problems)}"
            + (f" ({'; '.join(c.qualifiers)})" if c.qualifiers else "")
            for c in comparison.regressions
        ],
        "cells": len(comparison.in_both),
        "not_in_both": len(comparison.not_in_both),
        "unmeasured": len(comparison.unmeasured),
        "comparable": comparison.comparable,
        "shared_flags": [
            f"{kind(code).letter} ({kind(code).title}): {run_wide_message(comparison.run, code)}"
            for code in order(set(hide))
        ],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sections": sections,
        "charts": charts,
    }


def write_compare(comparison: Comparison, out: Path) -> tuple[Path, float, int]:
    started = time.perf_counter()
    html = render("compare.html.j2", build_compare_context(comparison))
    write_text_atomic(out, html)
    return out, time.perf_counter() - started, len(html.encode())
