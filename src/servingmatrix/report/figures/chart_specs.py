"""The report's charts as data: series of points with their flags and hover lines, in no format.

Both the page and the Markdown export draw them as SVG (``charts.py``): the page with what its script
needs to show a point's figures, hide a series and change a log axis to linear.
Each point carries its flags' letters (less the run-wide ones, named once in the caption) and its
hover lines, so a flagged figure cannot be read off a chart without its flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from servingmatrix import fmt
from servingmatrix.analysis.capacity import knee_text, series_knee
from servingmatrix.analysis.cost import peak_memory
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.stats import KNEE_SHARE
from servingmatrix.analysis.verdict import ConcurrencyCheck, Objective
from servingmatrix.flags import KINDS, beside_figure, kind, letters, order

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


def colours(modes: tuple[str, ...]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(modes)}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    #: None where the cell failed or is missing: a gap, never bridged.
    y: float | None
    #: The letters of its flags, drawn beside it.
    flags: str = ""
    #: What a hover shows; the first line names the series.
    hover: tuple[str, ...] = ()
    #: The 95% interval of the median, when the chart draws one.
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: tuple[ChartPoint, ...]
    #: The point to ring as the series' knee, when it has one.
    knee: ChartPoint | None = None


@dataclass(frozen=True)
class Panel:
    name: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Guide:
    """A horizontal reference line on the last panel, such as the latency objective."""

    value: float
    label: str


@dataclass(frozen=True)
class Printed:
    """How a publication draws the chart as a static image: one panel, under its own name."""

    name: str
    title: str
    y_label: str
    panel: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineChart:
    """Figures against the step (log axis), one line per mode, in one or more panels; a log value
    axis (``log_y``) is labelled as one by whatever draws it."""

    id: str
    title: str
    caption: str
    x_label: str
    y_label: str
    xs: tuple[int, ...]
    panels: tuple[Panel, ...]
    height: int
    log_y: bool = False
    guide: Guide | None = None
    #: Bars for each point's interval.
    intervals: bool = False
    #: Open loop: draw achieved = offered, the line a mode serving every request sits on.
    offered_line: bool = False
    knee_label: str = ""
    printed: Printed | None = None
    #: The value axis's extent when the values alone should not set it (intervals past it run off).
    y_span: tuple[float, float] | None = None
    #: A shaded band from -band to +band: changes within it are within the threshold.
    band: float | None = None


@dataclass(frozen=True)
class Bars:
    name: str
    values: tuple[float | None, ...]
    colour: str


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars per mode: a mode's full spec reads on one line, however many there are."""

    id: str
    title: str
    caption: str
    x_label: str
    categories: tuple[str, ...]
    bars: tuple[Bars, ...]
    #: What a hover shows per category; the first line names it.
    hovers: tuple[tuple[str, ...], ...]


def chart_id(prefix: str, workload: str) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in workload).strip("-")
    return f"{prefix}-{safe}"


def hover(
    point: Point, headline: str, step: str, hide: frozenset[str] = frozenset(), spread: bool = False
) -> tuple[str, ...]:
    """The series, where and what, the trials' spread when the figure is the throughput, and each
    flag's message but those every figure of the run carries (the caption names them, the page's
    top says them once)."""
    lines = [point.mode, f"{point.workload}, {step}: {headline}"]
    if spread and point.throughput is not None:
        lines.append(fmt.spread(point.throughput))
    lines += [f"⚠ {f.kind.title}: {f.message}" for f in beside_figure(point.flags, said_once=hide)]
    return tuple(lines)


def caption(base: str, hide: frozenset[str], results: Results | None = None, workload: str = "") -> str:
    """A chart's caption: what it shows, what its letters are when a point carries some, the run's
    conditions said once, and the modes it could not draw."""
    shared = "; ".join(f"{kind(c).letter} ({kind(c).title})" for c in order(set(hide)))
    note = f" Every figure of this run carries {shared}." if shared else ""
    lettered = ""
    if results is not None:
        failed = [m for m in results.modes_of(workload) if m not in results.served_modes(workload)]
        if failed:
            note += f" Not drawn, every cell failed: {', '.join(failed)} (see Warnings)."
        if any(
            letters(p.flags, said_once=hide)
            for (w, _, _), p in results.points.items()
            if w == workload and p.ok
        ):
            lettered = " Letters beside a point are its flags (see Warnings)."
    return f"{base}{lettered} Hover for the figures.{note}"


def printed_notes(panel: Panel, hide: frozenset[str], extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Under a static chart: the flags drawn on it spelled out, and those every figure carries."""
    used = {letter for s in panel.series for p in s.points if p.y is not None for letter in p.flags}
    drawn = [f"{k.letter} {k.title}" for k in KINDS if k.letter in used and k.code not in hide]
    shared = [f"{kind(c).letter} {kind(c).title}" for c in sorted(hide)]
    notes = [f"Hollow points are flagged: {'; '.join(drawn)}."] if drawn else []
    if shared:
        notes.append(f"Every point carries {'; '.join(shared)}.")
    return (*notes, *extra)


Value = Callable[[Point], float | None]
Label = Callable[[Point], str]


def _series(
    results: Results,
    workload: str,
    mode: str,
    value: Value,
    label: Label,
    hide: frozenset[str],
    spread: bool = False,
) -> Series:
    """One mode's line across the steps; a gap where the cell failed or is missing."""
    points = []
    for users in results.users:
        point = results.point(workload, mode, users)
        y = value(point) if point is not None else None
        if point is None or y is None:
            points.append(ChartPoint(users, None))
            continue
        points.append(
            ChartPoint(
                users,
                y,
                letters(point.flags, said_once=hide),
                hover(point, label(point), results.step_text(users), hide, spread),
            )
        )
    return Series(mode, colours(results.modes)[mode], tuple(points))


def panel(
    results: Results, workload: str, name: str, value: Value, label: Label, hide: frozenset[str]
) -> Panel:
    """One line per mode that served ``workload``."""
    return Panel(
        name,
        tuple(_series(results, workload, m, value, label, hide) for m in results.served_modes(workload)),
    )


def _throughput_series(results: Results, workload: str, mode: str, hide: frozenset[str]) -> Series:
    """Throughput with the interval of each median, and the knee ringed."""
    line = _series(
        results,
        workload,
        mode,
        lambda p: p.throughput.median if p.throughput else None,
        lambda p: f"{fmt.rps(p.throughput.median if p.throughput else None)} req/s",
        hide,
        spread=True,
    )
    points = []
    for chart_point in line.points:
        point = results.point(workload, mode, int(chart_point.x))
        interval = point.throughput.interval if point and point.throughput else None
        low, high = interval if interval else (None, None)
        points.append(
            ChartPoint(chart_point.x, chart_point.y, chart_point.flags, chart_point.hover, low, high)
        )
    found = series_knee(results.series(workload, mode))
    knee = (
        ChartPoint(found.step, found.throughput, hover=(mode, knee_text(results, found))) if found else None
    )
    return Series(line.name, line.colour, tuple(points), knee)


def throughput_chart(results: Results, workload: str, hide: frozenset[str]) -> LineChart:
    series = tuple(_throughput_series(results, workload, m, hide) for m in results.served_modes(workload))
    title = f"Throughput vs {results.step_label}: {workload}"
    knees = any(s.knee is not None for s in series)
    notes = printed_notes(
        Panel("throughput", series), hide, ("A ring marks each mode's knee.",) if knees else ()
    )
    # Say only what is drawn: bars where some point has an interval, rings where some series has a knee.
    intervals = any(p.low is not None for s in series for p in s.points)
    bars = (
        "; bars span the bootstrap 95% interval of the median (with up to five trials, the lowest to "
        "the highest trial)"
        if intervals
        else "; a single trial per step, so no interval is drawn"
    )
    ring = (
        f" A ring marks each mode's knee, the first step reaching {KNEE_SHARE:.0%} of its highest "
        "throughput: past it, more load only adds latency."
        if knees
        else ""
    )
    return LineChart(
        id=chart_id("throughput", workload),
        title=title,
        caption=caption(
            f"Successful requests per second, median of trials{bars}.{ring}",
            hide,
            results,
            workload,
        ),
        x_label=results.step_axis,
        y_label="requests per second",
        xs=results.users,
        panels=(Panel("throughput", series),),
        height=380,
        intervals=intervals,
        offered_line=results.open_loop,
        knee_label=f"knee (first step at {KNEE_SHARE:.0%} of the peak)",
        printed=Printed(chart_id("throughput", workload), title, "requests per second", 0, notes),
    )


PANELS = ("p50", "p95", "p99")


def _percentile(name: str) -> Value:
    def value(point: Point) -> float | None:
        est = point.latency.get(name)
        return est.median if est else None

    return value


def _percentile_label(name: str) -> Label:
    return lambda point: f"{name} {fmt.ms(_percentile(name)(point))} ms"


def latency_chart(results: Results, workload: str, hide: frozenset[str], objective: Objective) -> LineChart:
    """Three panels side by side (p50, p95, p99) sharing a log scale; the objective on p99."""
    panels = tuple(
        panel(results, workload, name, _percentile(name), _percentile_label(name), hide) for name in PANELS
    )
    return LineChart(
        id=chart_id("latency", workload),
        title=f"Latency percentiles vs {results.step_label}: {workload}",
        caption=caption(
            "Client-measured latency of successful requests, nearest rank over every request, median of "
            "trials. The dashed line is the latency objective.",
            hide,
            results,
            workload,
        ),
        x_label=results.step_axis,
        y_label="latency, ms",
        xs=results.users,
        panels=panels,
        height=400,
        log_y=True,
        guide=Guide(objective.p99_ms, f"objective {objective.p99_ms:g} ms"),
        printed=Printed(
            chart_id("p99", workload),
            f"p99 latency vs {results.step_label}: {workload}",
            "p99 latency, ms",
            panel=PANELS.index("p99"),
            notes=printed_notes(panels[PANELS.index("p99")], hide),
        ),
    )


def error_chart(results: Results, workload: str, hide: frozenset[str]) -> LineChart:
    return LineChart(
        id=chart_id("errors", workload),
        title=f"Error rate vs {results.step_label}: {workload}",
        caption=caption(
            "Failed requests (HTTP status ≥ 400, connection errors, timeouts) over all requests.",
            hide,
            results,
            workload,
        ),
        x_label=results.step_axis,
        y_label="failed requests, %",
        xs=results.users,
        panels=(
            panel(
                results,
                workload,
                "errors",
                lambda p: None if (rate := p.value("error_rate")) is None else 100 * rate,
                lambda p: f"{fmt.pct(p.value('error_rate'), 2)} of requests failed",
                hide,
            ),
        ),
        height=300,
    )


def efficiency_chart(results: Results, workload: str, hide: frozenset[str]) -> LineChart:
    return LineChart(
        id=chart_id("efficiency", workload),
        title=f"Requests per CPU-second vs {results.step_label}: {workload}",
        caption=caption(
            "Throughput divided by the server's CPU time (cgroup) over the same window.",
            hide,
            results,
            workload,
        ),
        x_label=results.step_axis,
        y_label="requests per CPU-second",
        xs=results.users,
        panels=(
            panel(
                results,
                workload,
                "efficiency",
                lambda p: p.requests_per_cpu_s,
                lambda p: (
                    f"{fmt.rps(p.requests_per_cpu_s)} requests per CPU-second "
                    f"at {fmt.num(p.value('server_cpu_pct'))}% CPU"
                ),
                hide,
            ),
        ),
        height=320,
    )


def memory_chart(results: Results) -> BarChart:
    """Peak server memory per mode over the whole run, beside its largest process."""
    peaks = peak_memory(results)
    return BarChart(
        id="memory",
        title="Memory per mode",
        caption="Server container memory (highest sample in any window, less reclaimable page cache) and "
        "the resident memory of its largest process.",
        x_label="MB",
        categories=tuple(p.mode for p in peaks),
        bars=(
            Bars("server container (peak)", tuple(p.container_mb for p in peaks), "#4c78a8"),
            Bars(
                "largest process (a worker, usually)", tuple(p.largest_process_mb for p in peaks), "#f58518"
            ),
        ),
        hovers=tuple(
            (
                p.mode,
                f"container peak {fmt.mb(p.container_mb)}, {p.processes or '?'} processes; "
                f"largest process {fmt.mb(p.largest_process_mb)}",
            )
            for p in peaks
        ),
    )


def concurrency_chart(checks: list[ConcurrencyCheck], workload: str) -> BarChart:
    """Achieved concurrency beside the promise, capped by the load offered (so both fit one scale)."""
    rows = [c for c in checks if c.workload == workload]
    return BarChart(
        id=chart_id("concurrency", workload),
        title=f"Concurrency achieved vs promised: {workload}",
        caption="Achieved: throughput x the sleep each request takes, at the highest step served. "
        "Promised: what the folk claim says, never more than the load offered (the users, or in an "
        "open loop the offered rate x the sleep).",
        x_label="requests served at once",
        categories=tuple(c.mode for c in rows),
        bars=(
            Bars("achieved (Little's law)", tuple(c.effective for c in rows), "#54a24b"),
            Bars("promised, capped at the load offered", tuple(float(c.expected) for c in rows), "#bab0ac"),
        ),
        hovers=tuple(
            (
                c.mode,
                f"{fmt.num(c.effective, 1)} requests in flight at {c.load}; claim: {c.claim} "
                f"(promised {'unbounded' if c.promised is None else c.promised})",
                c.judgement,
            )
            for c in rows
        ),
    )
