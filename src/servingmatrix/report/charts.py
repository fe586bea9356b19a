"""Plotly figures built in Python as plain dicts: the page only hands them to ``Plotly.newPlot``.

Every point carries its hover text (figure, trials, flags) and, when flagged, the flags' letters
drawn beside it, so a flagged figure cannot be read off a chart without its flag. Flags every figure
of the run carries (``cores-shared`` on a small machine) are named once in the caption instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.capacity import knee_text, series_knee
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.stats import KNEE_SHARE
from servingmatrix.analysis.verdict import ConcurrencyCheck, Objective
from servingmatrix.flags import kind

#: One colour per mode, in the report's mode order; distinct enough for 15 modes.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
    "#637939",
    "#8c6d31",
    "#7b4173",
)
FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    caption: str
    figure: dict[str, Any]
    #: Points drawn, so the page (and its test) can tell an empty chart from a drawn one.
    points: int = field(default=0)


def colours(modes: tuple[str, ...]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(modes)}


def letters(point: Point, hide: frozenset[str]) -> str:
    return "".join(f.letter for f in point.flags if f.code not in hide)


def hover(point: Point, headline: str, step: str) -> str:
    lines = [f"<b>{point.mode}</b>", f"{point.workload}, {step}: {headline}"]
    if point.throughput is not None:
        lines.append(fmt.spread(point.throughput))
    lines += [f"⚠ {f.kind.title}: {f.message}" for f in point.flags]
    return "<br>".join(lines)


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


def _layout(results: Results, y_title: str, log_y: bool = False) -> dict[str, Any]:
    y: dict[str, Any] = {"title": {"text": y_title}, "rangemode": "tozero", "zeroline": True}
    if log_y:
        # One tick per power of ten: the minor 2s and 5s of a log axis crowd a small chart.
        y = {"title": {"text": y_title}, "type": "log", "dtick": 1}
    return {
        "xaxis": _users_axis(results.users, results.step_axis),
        "yaxis": y,
        "height": 380,
        "margin": {"l": 70, "r": 20, "t": 20, "b": 50},
        "hovermode": "closest",
        "font": {"family": FONT, "size": 12},
        "legend": {"title": {"text": "mode (click to hide)"}, "font": {"size": 11}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }


def _trace(
    results: Results,
    workload: str,
    mode: str,
    colour: str,
    value: Callable[[Point], float | None],
    label: Callable[[Point], str],
    hide: frozenset[str],
    **extra: Any,
) -> tuple[dict[str, Any], int]:
    """One mode's line across the user levels; a gap where the cell failed or is missing."""
    series = {p.users: p for p in results.series(workload, mode)}
    xs, ys, texts, hovers, symbols = [], [], [], [], []
    drawn = 0
    for users in results.users:
        point = series.get(users)
        y = value(point) if point is not None else None
        xs.append(users)
        ys.append(y)
        if point is None or y is None:
            texts.append("")
            hovers.append("")
            symbols.append("circle")
            continue
        drawn += 1
        flagged = letters(point, hide)
        texts.append(flagged)
        hovers.append(hover(point, label(point), results.step_text(users)))
        symbols.append("diamond-open" if flagged else "circle")
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines+markers+text",
        "name": mode,
        "legendgroup": mode,
        "x": xs,
        "y": ys,
        "text": texts,
        "textposition": "top center",
        "textfont": {"color": colour, "size": 11},
        "hovertext": hovers,
        "hoverinfo": "text",
        "marker": {"color": colour, "size": 8, "symbol": symbols, "line": {"width": 2, "color": colour}},
        "line": {"color": colour, "width": 2},
        "connectgaps": False,
        **extra,
    }
    return trace, drawn


def _caption(base: str, hide: frozenset[str], results: Results | None = None, workload: str = "") -> str:
    shared = "; ".join(f"{kind(c).letter} ({kind(c).title})" for c in sorted(hide))
    note = f" Every figure of this run carries {shared}." if shared else ""
    if results is not None:
        failed = [m for m in results.modes_of(workload) if m not in results.served_modes(workload)]
        if failed:
            note += f" Not drawn, every cell failed: {', '.join(failed)} (see Warnings)."
    return f"{base} Letters beside a point are its flags (see Warnings); hover for the figures.{note}"


def _lines(
    results: Results,
    workload: str,
    value: Callable[[Point], float | None],
    label: Callable[[Point], str],
    hide: frozenset[str],
    **extra: Any,
) -> tuple[list[dict[str, Any]], int]:
    """One line per mode that served ``workload``, and how many points they draw together."""
    palette = colours(results.modes)
    data: list[dict[str, Any]] = []
    drawn = 0
    for mode in results.served_modes(workload):
        trace, n = _trace(results, workload, mode, palette[mode], value, label, hide, **extra)
        data.append(trace)
        drawn += n
    return data, drawn


def _chart_id(prefix: str, workload: str) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in workload).strip("-")
    return f"{prefix}-{safe}"


def _knees(results: Results, workload: str, palette: dict[str, str]) -> dict[str, Any] | None:
    """One ring per mode around its knee: the lowest step reaching 90% of its highest throughput."""
    xs, ys, hovers, colour_list = [], [], [], []
    for mode in results.served_modes(workload):
        found = series_knee(results.series(workload, mode))
        if found is None:
            continue
        xs.append(found.step)
        ys.append(found.throughput)
        colour_list.append(palette[mode])
        hovers.append(f"<b>{mode}</b><br>{knee_text(results, found)}")
    if not xs:
        return None
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"knee (first step at {KNEE_SHARE:.0%} of the peak)",
        "x": xs,
        "y": ys,
        "hovertext": hovers,
        "hoverinfo": "text",
        "marker": {"symbol": "circle-open", "size": 18, "color": colour_list, "line": {"width": 2}},
    }


def throughput_chart(results: Results, workload: str, hide: frozenset[str]) -> Chart:
    palette = colours(results.modes)
    data, drawn = [], 0
    for mode in results.served_modes(workload):
        errors: dict[str, Any] = {"type": "data", "symmetric": False, "array": [], "arrayminus": []}
        for users in results.users:
            point = results.point(workload, mode, users)
            est = point.throughput if point else None
            interval = est.interval if est else None
            errors["array"].append(interval[1] - est.median if est and interval else None)
            errors["arrayminus"].append(est.median - interval[0] if est and interval else None)
        errors.update({"thickness": 1, "width": 3, "color": palette[mode]})
        trace, n = _trace(
            results,
            workload,
            mode,
            palette[mode],
            lambda p: p.throughput.median if p.throughput else None,
            lambda p: f"{fmt.rps(p.throughput.median if p.throughput else None)} req/s",
            hide,
            error_y=errors,
        )
        data.append(trace)
        drawn += n
    knees = _knees(results, workload, palette)
    if knees is not None:
        data.append(knees)
    if results.open_loop:
        # What was asked for: a mode on this line served every request offered.
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "offered (achieved = offered)",
                "x": list(results.users),
                "y": [float(u) for u in results.users],
                "hoverinfo": "skip",
                "line": {"color": "#888", "dash": "dot", "width": 1},
            }
        )
    return Chart(
        _chart_id("throughput", workload),
        f"Throughput vs {results.step_label}: {workload}",
        _caption(
            "Successful requests per second, median of trials; bars span the bootstrap 95% interval of "
            "the median (with up to five trials, the lowest to the highest trial). A ring marks each "
            f"mode's knee, the first step reaching {KNEE_SHARE:.0%} of its highest throughput: past it, "
            "more load only adds latency.",
            hide,
            results,
            workload,
        ),
        {"data": data, "layout": _fit_legend(_layout(results, "requests per second"), len(data))},
        drawn,
    )


PANELS = ("p50", "p95", "p99")


def _percentile(name: str) -> Callable[[Point], float | None]:
    def value(point: Point) -> float | None:
        est = point.latency.get(name)
        return est.median if est else None

    return value


def _percentile_label(name: str) -> Callable[[Point], str]:
    return lambda point: f"{name} {fmt.ms(_percentile(name)(point))} ms"


def latency_chart(results: Results, workload: str, hide: frozenset[str], objective: Objective) -> Chart:
    """Three panels side by side (p50, p95, p99) sharing a log scale; one legend entry per mode."""
    data: list[dict[str, Any]] = []
    drawn = 0
    for i, percentile in enumerate(PANELS):
        suffix = "" if i == 0 else str(i + 1)
        panel, n = _lines(
            results,
            workload,
            _percentile(percentile),
            _percentile_label(percentile),
            hide,
            xaxis=f"x{suffix}",
            yaxis=f"y{suffix}",
            showlegend=i == 0,
        )
        data += panel
        drawn += n
    layout = _layout(results, "latency, ms (log scale)", log_y=True)
    layout["yaxis"]["range"] = _log_range(results, workload, objective.p99_ms)
    layout["height"] = 400
    layout["margin"]["t"] = 40
    width = 0.3
    annotations, shapes = [], []
    for i, percentile in enumerate(PANELS):
        suffix = "" if i == 0 else str(i + 1)
        start = i * (width + 0.05)
        layout[f"xaxis{suffix}"] = {
            **_users_axis(results.users, results.step_axis),
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
                "text": f"<b>{percentile}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": start + width / 2,
                "y": 1.08,
                "showarrow": False,
            }
        )
    # The objective applies to p99: draw it there, so a reader sees which points qualify.
    shapes.append(
        {
            "type": "line",
            "xref": "x3 domain",
            "x0": 0,
            "x1": 1,
            "yref": "y3",
            "y0": objective.p99_ms,
            "y1": objective.p99_ms,
            "line": {"color": "#b00", "dash": "dash", "width": 1},
        }
    )
    annotations.append(
        {
            "text": f"objective {objective.p99_ms:g} ms",
            "xref": "x3 domain",
            "yref": "y3",
            "x": 1,
            # Annotations on a log axis take the logarithm (shapes take the value).
            "y": math.log10(objective.p99_ms),
            "xanchor": "right",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"color": "#b00", "size": 10},
        }
    )
    layout["annotations"] = annotations
    layout["shapes"] = shapes
    _fit_legend(layout, len(data) // len(PANELS))
    return Chart(
        _chart_id("latency", workload),
        f"Latency percentiles vs {results.step_label}: {workload}",
        _caption(
            "Client-measured latency of successful requests, nearest rank over every request, median of "
            "trials. The dashed line is the latency objective.",
            hide,
            results,
            workload,
        ),
        {"data": data, "layout": layout},
        drawn,
    )


def _log_range(results: Results, workload: str, also: float) -> list[float]:
    """A log axis range holding every percentile and the objective, so the objective line shows."""
    values = [
        e.median
        for mode in results.modes_of(workload)
        for p in results.series(workload, mode)
        for e in p.latency.values()
        if e.median > 0
    ]
    low, high = min([*values, also]), max([*values, also])
    return [math.log10(low) - 0.15, math.log10(high) + 0.25]


def _metric_chart(
    results: Results,
    workload: str,
    hide: frozenset[str],
    *,
    kind: str,
    value: Callable[[Point], float | None],
    hover: Callable[[Point], str],
    y_title: str,
    height: int,
    title: str,
    caption: str,
) -> Chart:
    """One line per mode of a figure against the step, with its caption: the plain charts' shared shape."""
    data, drawn = _lines(results, workload, value, hover, hide)
    layout = _layout(results, y_title)
    layout["height"] = height
    _fit_legend(layout, len(data))
    return Chart(
        _chart_id(kind, workload),
        f"{title} vs {results.step_label}: {workload}",
        _caption(caption, hide, results, workload),
        {"data": data, "layout": layout},
        drawn,
    )


def error_chart(results: Results, workload: str, hide: frozenset[str]) -> Chart:
    return _metric_chart(
        results,
        workload,
        hide,
        kind="errors",
        value=lambda p: 100 * p.error_rate if p.error_rate is not None else None,
        hover=lambda p: f"{fmt.pct(p.error_rate, 2)} of requests failed",
        y_title="failed requests, %",
        height=300,
        title="Error rate",
        caption="Failed requests (HTTP status ≥ 400, connection errors, timeouts) over all requests.",
    )


def efficiency_chart(results: Results, workload: str, hide: frozenset[str]) -> Chart:
    return _metric_chart(
        results,
        workload,
        hide,
        kind="efficiency",
        value=lambda p: p.requests_per_cpu_s,
        hover=lambda p: (
            f"{fmt.rps(p.requests_per_cpu_s)} requests per CPU-second at {fmt.num(p.server_cpu_pct)}% CPU"
        ),
        y_title="requests per CPU-second",
        height=320,
        title="Requests per CPU-second",
        caption="Throughput divided by the server's CPU time (cgroup) over the same window.",
    )


def _bars(
    name: str, labels: list[str], values: list[float | None], hovers: list[str], colour: str
) -> dict[str, Any]:
    return {
        "type": "bar",
        "orientation": "h",
        "name": name,
        "y": labels,
        "x": values,
        "hovertext": hovers,
        "hoverinfo": "text",
        "marker": {"color": colour},
    }


def _bar_layout(count: int, x_title: str) -> dict[str, Any]:
    """Horizontal bars: a mode's full spec reads on one line, however many modes there are."""
    return {
        "barmode": "group",
        "height": 90 + 44 * count,
        "margin": {"l": 20, "r": 20, "t": 40, "b": 50},
        "font": {"family": FONT, "size": 12},
        "xaxis": {"title": {"text": x_title}, "rangemode": "tozero"},
        # The first mode on top, as in the tables.
        "yaxis": {"autorange": "reversed", "automargin": True},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }


def memory_chart(results: Results) -> Chart:
    """Peak server memory per mode over the whole run, beside its largest process."""
    modes, totals, largest, hovers = [], [], [], []
    for mode in results.modes:
        points = [p for (_, m, _), p in results.points.items() if m == mode and p.ok]
        total = max((p.server_mem_mb for p in points if p.server_mem_mb is not None), default=None)
        biggest = max(
            (p.largest_process_mb for p in points if p.largest_process_mb is not None), default=None
        )
        procs = max((p.processes for p in points if p.processes is not None), default=None)
        modes.append(mode)
        totals.append(total)
        largest.append(biggest)
        hovers.append(
            f"<b>{mode}</b><br>container peak {fmt.mb(total)}, {procs or '?'} processes; "
            f"largest process {fmt.mb(biggest)}"
        )
    data = [
        _bars("server container (peak)", modes, totals, hovers, "#4c78a8"),
        _bars("largest process (a worker, usually)", modes, largest, hovers, "#f58518"),
    ]
    drawn = sum(v is not None for v in totals) + sum(v is not None for v in largest)
    return Chart(
        "memory",
        "Memory per mode",
        "Server container memory (highest sample in any window, less reclaimable page cache) and the "
        "resident memory of its largest process.",
        {"data": data, "layout": _bar_layout(len(modes), "MB")},
        drawn,
    )


def concurrency_chart(checks: list[ConcurrencyCheck], workload: str) -> Chart:
    """Achieved concurrency beside the promise, capped by the load offered (so both fit one scale)."""
    rows = [c for c in checks if c.workload == workload]
    modes = [c.mode for c in rows]
    hovers = [
        f"<b>{c.mode}</b><br>{fmt.num(c.effective, 1)} requests in flight at {c.load}; claim: "
        f"{c.claim} (promised {'unbounded' if c.promised is None else c.promised})<br>{c.judgement}"
        for c in rows
    ]
    data = [
        _bars("achieved (Little's law)", modes, [c.effective for c in rows], hovers, "#54a24b"),
        _bars(
            "promised, capped at the load offered",
            modes,
            [float(c.expected) for c in rows],
            hovers,
            "#bab0ac",
        ),
    ]
    return Chart(
        _chart_id("concurrency", workload),
        f"Concurrency achieved vs promised: {workload}",
        "Achieved: throughput x the sleep each request takes, at the highest step served. "
        "Promised: what the folk claim says, never more than the load offered (the users, or in an "
        "open loop the offered rate x the sleep).",
        {"data": data, "layout": _bar_layout(len(rows), "requests served at once")},
        sum(1 for c in rows if c.effective is not None),
    )
