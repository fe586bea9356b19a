"""The warnings part: every flagged figure by flag, failed and disturbed cells, and what the run lacks."""

from __future__ import annotations

from servingmatrix.analysis.points import Point, Results
from servingmatrix.flags import KINDS, FlagKind
from servingmatrix.report.document import Badge, Entries, Flags, Paragraph, Part, Section, Strong


def _points(results: Results) -> list[Point]:
    keys = sorted(
        results.points, key=lambda k: (results.workloads.index(k[0]), results.modes.index(k[1]), k[2])
    )
    return [results.points[k] for k in keys]


def _flagged(results: Results, points: list[Point], k: FlagKind, hide: frozenset[str]) -> list[Section]:
    items = [
        (f"{p.mode} x {p.workload} x {results.step_text(p.users)}", f.message)
        for p in points
        for f in p.flags
        if f.code == k.code
    ]
    if not items:
        return []
    if k.code in hide:
        # The same sentence for every figure: say it once, with the count.
        items = [(f"all {len(items)} figures", items[0][1])]
    title = Strong((Flags((Badge(k.letter, k.code, k.meaning),)), f" {k.title}"))
    return [Paragraph((title, f" ({len(items)}): {k.meaning}.")), Entries(tuple(items))]


def _titled(title: str, count: int) -> Paragraph:
    return Paragraph((Strong((title,)), f" ({count})"))


def warnings_part(results: Results, hide: frozenset[str]) -> Part:
    points = _points(results)
    children: list[Section] = []
    for k in KINDS:
        children += _flagged(results, points, k, hide)
    failed = [
        (
            f"{c.mode} x {c.workload} x {results.step_text(c.users)}, trial {c.trial}",
            c.reason or "no reason recorded",
        )
        for c in (f.record for f in results.run.cells)
        if c.status == "failed"
    ]
    if failed:
        children += [_titled("Failed cells", len(failed)), Entries(tuple(failed), "short")]
    disturbed = [
        (
            f"{c.mode} x {c.workload} x {results.step_text(c.users)}, trial {c.trial}",
            c.reason or "no reason recorded",
        )
        for c in (f.record for f in results.run.cells)
        if c.status == "disturbed"
    ]
    if disturbed:
        children += [
            _titled("Disturbed cells", len(disturbed)),
            Paragraph(
                (
                    "Other work took the server's or the generator's cores during every measurement of "
                    "these cells, re-measurements included: their figures are not published.",
                ),
                "note",
            ),
            Entries(tuple(disturbed), "short"),
        ]
    missing_modes = results.missing_modes()
    if missing_modes:
        children += [
            _titled("Modes with no results", len(missing_modes)),
            Entries(tuple((m, "") for m in missing_modes)),
        ]
    missing = [f"{m} x {w} x {results.step_text(u)}, trial {t}" for m, w, u, t in results.missing_cells()]
    if missing:
        children += [
            _titled("Cells not measured", len(missing)),
            Paragraph(
                (
                    "The matrix calls for them but the run holds no result: it was interrupted, "
                    "or is still running.",
                ),
                "note",
            ),
            Entries(tuple((c, "") for c in missing)),
        ]
    total = sum(len(s.items) for s in children if isinstance(s, Entries))
    if not total:
        children.append(Paragraph(("No figure of this run is flagged.",)))
    return Part("warnings", "Warnings", tuple(children), toc_note=f" ({total})")
