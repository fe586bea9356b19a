"""The cost part: server CPU and memory per mode, at the step its cost is read at."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.cost import cost_point
from servingmatrix.analysis.points import Results
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import Cell, Chart, Column, Heading, Paragraph, Part, Section, Table
from servingmatrix.report.figures.chart_specs import efficiency_chart, memory_chart
from servingmatrix.report.sections.common import figure, name, num, rps, run_wide_notes


def _row(
    results: Results, workload: str, mode: str, objective: Objective, hide: frozenset[str]
) -> tuple[Cell, ...]:
    point = cost_point(results, workload, mode, objective)
    if point is None:
        return (name(mode), Cell("every cell failed", style="note", span=7))
    return (
        name(mode),
        Cell(str(point.users) + ("" if objective.met_by(point) else " ✗")),
        figure(rps(point), point.flags, hide),
        Cell(fmt.num(point.value("server_cpu_pct"))),
        figure(fmt.rps(point.requests_per_cpu_s), point.flags, hide),
        Cell(_mb(point.value("server_mem_mb"))),
        Cell(fmt.num(point.value("server_processes"))),
        Cell(_mb(point.value("server_mem_mb_per_process"))),
    )


def _mb(value: float | None) -> str:
    """Megabytes as ``fmt.mb`` writes them, the unit left to the column's header."""
    return fmt.mb(value).removesuffix(" MB")


def cost_table(results: Results, workload: str, objective: Objective, hide: frozenset[str]) -> Table:
    columns = (
        Column("mode"),
        num(results.step_label),
        num("req/s"),
        num("server CPU %"),
        num("req per CPU-second"),
        num("memory MB"),
        num("processes"),
        num("per worker MB"),
    )
    rows = tuple(_row(results, workload, mode, objective, hide) for mode in results.modes_of(workload))
    return Table("cost-table", columns, rows, workload)


def cost_part(results: Results, objective: Objective, hide: frozenset[str]) -> Part:
    children: list[Section] = [
        Paragraph(
            (
                "Server CPU and memory per mode, each at its best step meeting the objective (or its "
                "highest served step when none did; ✗ marks it).",
            ),
            "note",
        )
    ]
    for workload in results.workloads:
        children += [
            Heading(3, (workload,)),
            cost_table(results, workload, objective, hide),
            Chart(efficiency_chart(results, workload, hide)),
        ]
    children += [Chart(memory_chart(results)), *run_wide_notes(results, hide)]
    return Part("cost", "Cost", tuple(children))
