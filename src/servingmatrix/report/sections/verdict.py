"""The verdict part: per workload, the mode that served the most within the objective, the ranking,
and on ``io`` the concurrency each mode achieved against its folk claim."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.points import Results
from servingmatrix.analysis.run_wide import occurring_codes
from servingmatrix.analysis.verdict import ConcurrencyCheck, Objective, Verdict, concurrency_checks, verdicts
from servingmatrix.flags import kind
from servingmatrix.report.document import (
    Badge,
    Cell,
    Chart,
    Code,
    Column,
    Flags,
    Group,
    Heading,
    Inline,
    Paragraph,
    Part,
    Section,
    Table,
)
from servingmatrix.report.figures.chart_specs import concurrency_chart
from servingmatrix.report.sections.answer import (
    deploy_sections,
    development_notes,
    keep_alive_notes,
    reproduce_sections,
)
from servingmatrix.report.sections.common import REFERENCE_COLUMN, badges, figure, name, num, reference, rps


def _objective(results: Results, objective: Objective) -> Paragraph:
    return Paragraph(
        (
            f"Served within the objective: {objective.describe()}. Each mode is taken at its best step "
            f"({results.step_label}) meeting it.",
        ),
        "note",
    )


def _legend(results: Results) -> Paragraph | None:
    """The flags this run's figures carry (those only: a legend lists what occurs); None when none."""
    occurring = [kind(code) for code in occurring_codes(results)]
    if not occurring:
        return None
    parts: list[Inline] = ["Flags in this run: "]
    for i, k in enumerate(occurring):
        parts += [
            Flags((Badge(k.letter, k.code, k.meaning),)),
            f" {k.title}" + ("; " if i < len(occurring) - 1 else "."),
        ]
    return Paragraph(tuple(parts), "note")


def _summary(results: Results, found: list[Verdict], hide: frozenset[str]) -> Table:
    """One line per workload: who served the most, where, by how much, how sure."""
    rows = []
    for v in found:
        w, r = v.winner, v.runner_up
        if w is None:
            rows.append(
                (Cell(v.workload), Cell("none met the objective"), *(Cell(fmt.DASH),) * 4, Cell(v.how_sure))
            )
            continue
        margin = Cell(fmt.DASH)
        if r is not None and v.margin is not None:
            margin = figure(f"{fmt.change(v.margin)} over {r.mode} ({rps(r)} req/s)", r.flags, hide)
        rows.append(
            (
                Cell(v.workload),
                name(w.mode),
                figure(rps(w), w.flags, hide),
                Cell(str(w.users)),
                Cell(fmt.ms(w.p99)),
                margin,
                Cell(v.how_sure),
            )
        )
    columns = ("workload", "most served", "req/s", f"at {results.step_label}", "p99 ms", "margin", "how sure")
    numeric = {2, 3, 4}
    return Table(
        "verdict-summary", tuple(Column(c, i in numeric) for i, c in enumerate(columns)), tuple(rows)
    )


def _ranking(results: Results, v: Verdict, hide: frozenset[str]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for i, p in enumerate(v.ranking):
        behind = v.behind_winner(p)
        rows.append(
            (
                Cell(str(i + 1)),
                name(p.mode),
                figure(rps(p), p.flags, hide),
                Cell(str(p.users)),
                Cell(fmt.ms(p.p99)),
                Cell(fmt.DASH if behind is None else fmt.signed_pct(behind)),
                *(
                    (reference(p.value("reference_rps"), p.value("generator_efficiency")),)
                    if results.has_references
                    else ()
                ),
                Cell(fmt.spread(p.throughput), style="note"),
            )
        )
    for mode, why in v.unqualified:
        span = 5 + int(results.has_references)
        rows.append(
            (Cell(fmt.DASH), name(mode), Cell(f"did not meet the objective: {why}", style="note", span=span))
        )
    columns = (
        Column("#"),
        Column("mode"),
        num("req/s"),
        num(f"at {results.step_label}"),
        num("p99 ms"),
        num("vs winner"),
        *((num(REFERENCE_COLUMN),) if results.has_references else ()),
        Column("trials (95% interval of the median)"),
    )
    return Table("verdict-table", columns, tuple(rows), v.workload)


def _card(results: Results, v: Verdict, hide: frozenset[str], objective: Objective) -> Group:
    winner, runner_up = v.winner, v.runner_up
    children: list[Section] = [Heading(3, (v.workload,))]
    if winner is None:
        children.append(Paragraph((f"No mode met the objective ({objective.describe()}).",), "headline"))
    else:
        headline: list[Inline] = [
            f"{winner.mode} served the most: {rps(winner)} req/s at {results.step_text(winner.users)} "
            f"(p99 {fmt.ms(winner.p99)} ms)",
            Flags(badges(winner.flags, hide)),
        ]
        if runner_up is not None and v.margin is not None:
            # The runner-up's figure is quoted too, so it comes with its own flags.
            headline += [
                f", {fmt.signed_pct(v.margin.relative)} over {runner_up.mode} ({rps(runner_up)} req/s)",
                Flags(badges(runner_up.flags, hide)),
            ]
        children += [Paragraph((*headline, "."), "headline"), Paragraph((f"How sure: {v.how_sure}.",))]
        if v.caveat is not None:
            children.append(Paragraph((f"⚠ Ranking: {v.caveat}.",), "note"))
        children += [Paragraph((f"⚠ {b.title}",), "note") for b in badges(winner.flags, hide)]
    children.append(_ranking(results, v, hide))
    return Group("card", tuple(children), workload=v.workload)


def _concurrency(
    results: Results, checks: list[ConcurrencyCheck], workload: str, hide: frozenset[str]
) -> Table:
    rows = tuple(
        (
            name(c.mode),
            Cell(c.claim),
            Cell("unbounded" if c.promised is None else str(c.promised)),
            Cell(str(c.users)),
            figure(fmt.num(c.effective, 1), c.point.flags, hide),
            Cell(c.judgement, style="holds" if c.holds else "short"),
        )
        for c in checks
        if c.workload == workload
    )
    columns = (
        Column(f"mode ({workload})"),
        Column("folk claim"),
        num("promised, at once"),
        num(results.step_label),
        num("achieved, at once"),
        Column("the claim"),
    )
    return Table("concurrency-table", columns, rows, workload)


def concurrency_sections(results: Results, hide: frozenset[str]) -> list[Section]:
    checks = concurrency_checks(results)
    io_workloads = sorted({c.workload for c in checks}, key=results.workloads.index)
    out: list[Section] = [Heading(3, ("Concurrency on ", Code("io"), ": achieved against the folk claim"))]
    if not io_workloads:
        out.append(
            Paragraph(("This run has no ", Code("io"), " workload, so the claims were not tested."), "note")
        )
    for workload in io_workloads:
        out += [_concurrency(results, checks, workload, hide), Chart(concurrency_chart(checks, workload))]
    return out


def verdict_part(results: Results, objective: Objective, hide: frozenset[str]) -> Part:
    found = verdicts(results, objective)
    legend = _legend(results)
    children: list[Section] = [
        _objective(results, objective),
        _summary(results, found, hide),
        *development_notes(found),
        *keep_alive_notes(found),
        *deploy_sections(results, found),
        *reproduce_sections(results.run),
        *([legend] if legend is not None else []),
    ]
    children += [_card(results, v, hide, objective) for v in found]
    children += concurrency_sections(results, hide)
    return Part("verdict", "Verdict", tuple(children))
