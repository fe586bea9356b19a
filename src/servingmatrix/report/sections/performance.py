"""The throughput and latency part: per workload, the capacity table with the knee, the charts, and
every step's figure."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.capacity import MIN_KNEE_STEPS, Capacity, capacities, knee_text
from servingmatrix.analysis.points import Results
from servingmatrix.analysis.run_wide import said_for
from servingmatrix.analysis.stats import KNEE_SHARE
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import Cell, Chart, Column, Heading, Paragraph, Part, Section, Table
from servingmatrix.report.figures.chart_specs import error_chart, latency_chart, throughput_chart
from servingmatrix.report.sections.common import (
    REFERENCE_COLUMN,
    figure,
    name,
    num,
    reference,
    rps,
    run_wide_notes,
)


def _interval(capacity: Capacity) -> str:
    """The bootstrap 95% interval of the capacity's median, or why there is none."""
    est = capacity.point.throughput if capacity.point else None
    if est is None or est.ci_low is None or est.ci_high is None:
        return "single trial" if est is not None else fmt.DASH
    return f"{fmt.rps(est.ci_low)} to {fmt.rps(est.ci_high)}"


def _knee(results: Results, c: Capacity) -> Cell:
    knee = c.knee
    if 0 < c.steps_served < MIN_KNEE_STEPS:
        # Two steps cannot place a knee: the throughput between them and past them was not measured.
        served = f"{c.steps_served} step{'s' if c.steps_served > 1 else ''}"
        return Cell(fmt.DASH, sub=f"{served} served: too few to place one")
    if knee is None:
        return Cell(fmt.DASH)
    return Cell(
        f"{results.step_text(knee.step)}, {fmt.rps(knee.throughput)} req/s",
        sub="last step: may still rise" if knee.at_last_step else "",
        title=knee_text(results, knee),
    )


def _capacity_row(results: Results, c: Capacity, hide: frozenset[str]) -> tuple[Cell, ...]:
    point = c.point
    if point is None:
        span = (5 if results.open_loop else 4) + int(results.has_references)
        why = Cell(f"none within the objective: {c.why_not}", style="note", span=span)
        return (name(c.mode), why, _knee(results, c))
    where = (
        (Cell(fmt.rps(c.offered_rps)), Cell(fmt.pct(c.achieved_share)))
        if results.open_loop
        else (Cell(str(point.users)),)
    )
    return (
        name(c.mode),
        figure(rps(point), point.flags, hide),
        *where,
        *(
            (reference(point.value("reference_rps"), point.value("generator_efficiency")),)
            if results.has_references
            else ()
        ),
        Cell(fmt.ms(point.p99)),
        Cell(_interval(c)),
        _knee(results, c),
    )


def capacity_table(results: Results, workload: str, objective: Objective, hide: frozenset[str]) -> Table:
    """Per mode: the most served within the objective, where, how sure, and the knee."""
    where = (
        (num("achieved req/s"), num("offered req/s"), num("achieved / offered"))
        if results.open_loop
        else (num("capacity req/s"), num(f"at {results.step_label}"))
    )
    wrk = (num(REFERENCE_COLUMN),) if results.has_references else ()
    columns = (Column("mode"), *where, *wrk, num("p99 ms"), num("95% interval, req/s"), num("knee"))
    rows = tuple(_capacity_row(results, c, hide) for c in capacities(results, workload, objective))
    return Table("capacity-table", columns, rows, workload)


def _step_cell(
    results: Results, workload: str, mode: str, users: int, objective: Objective, hide: frozenset[str]
) -> Cell:
    point = results.point(workload, mode, users)
    if point is None:
        return Cell("not measured")
    if not point.ok:
        # Why is on hover and under Warnings, where every failed and disturbed cell is listed.
        return Cell("disturbed" if point.disturbed else "failed", title="; ".join(point.failed_reasons))
    p50 = point.latency.get("p50")
    sub = f"p50 {fmt.ms(p50.median)}, " if p50 else ""
    sub += f"p99 {fmt.ms(point.p99)} ms" + ("" if objective.met_by(point) else f" {MISSED}")
    return figure(rps(point), point.flags, hide, sub=sub, title=fmt.spread(point.throughput))


def steps_table(results: Results, workload: str, objective: Objective, hide: frozenset[str]) -> Table:
    """Every mode's median throughput and p99 at every step."""
    columns = (Column("mode: req/s (p50, p99 ms)"), *(num(results.step_text(u)) for u in results.users))
    rows = tuple(
        (name(mode), *(_step_cell(results, workload, mode, u, objective, hide) for u in results.users))
        for mode in results.modes_of(workload)
    )
    return Table("throughput-table", columns, rows, workload)


CAPACITY_NOTE = (
    "Capacity: the most the mode served within the objective ({objective}), the median of the trials at "
    "that step, with the bootstrap 95% interval of the median (with up to five trials it spans the lowest "
    "to the highest trial). Knee: the first step reaching {knee} of the mode's highest throughput; past it, "
    "more load only adds latency."
)


def capacity_note(objective: Objective) -> str:
    return CAPACITY_NOTE.format(objective=objective.describe(), knee=fmt.share(KNEE_SHARE))


#: Beside a step's figure that misses the objective.
MISSED = "✗"


def _errors(results: Results, workload: str, hide: frozenset[str]) -> Section:
    """The error-rate chart, or a sentence when no request failed: a chart of zeros says nothing more."""
    served = [p for (w, _, _), p in results.points.items() if w == workload and p.ok]
    if any(p.value("error_rate") for p in served):
        return Chart(error_chart(results, workload, hide))
    return Paragraph(
        (f"No request failed on {workload}: every step of every mode served without errors.",), "note"
    )


def _workload(results: Results, workload: str, objective: Objective, hide: frozenset[str]) -> list[Section]:
    # The run-wide flags this workload's figures carry: its charts and notes name those only.
    hide = said_for(results, hide, workload)
    steps = steps_table(results, workload, objective, hide)
    missed = any(c.sub.endswith(MISSED) for row in steps.rows for c in row)
    return [
        Heading(3, (workload,)),
        Heading(4, ("Capacity",)),
        capacity_table(results, workload, objective, hide),
        Paragraph((capacity_note(objective),), "note"),
        Chart(throughput_chart(results, workload, hide)),
        Chart(latency_chart(results, workload, hide, objective)),
        _errors(results, workload, hide),
        steps,
        *(
            [Paragraph((f"{MISSED}: above the latency objective or too many errors.",), "note")]
            if missed
            else []
        ),
        *run_wide_notes(results, hide),
    ]


def performance_part(results: Results, objective: Objective, hide: frozenset[str]) -> Part:
    children = [s for w in results.workloads for s in _workload(results, w, objective, hide)]
    return Part("performance", "Throughput and latency", tuple(children))
