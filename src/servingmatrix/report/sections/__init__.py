"""The report's content, computed once from the analysis as typed sections (``report/document.py``)
that the page and the Markdown export both render."""

from __future__ import annotations

from datetime import UTC, datetime

from servingmatrix.analysis.points import Results
from servingmatrix.analysis.run_wide import run_wide_codes
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import Document, Paragraph, Section, Strong
from servingmatrix.report.sections.answer import budget_paragraph
from servingmatrix.report.sections.common import method_paragraph, run_wide_banners
from servingmatrix.report.sections.cost import cost_part
from servingmatrix.report.sections.environment import environment_part
from servingmatrix.report.sections.modes import modes_part
from servingmatrix.report.sections.performance import performance_part
from servingmatrix.report.sections.verdict import verdict_part
from servingmatrix.report.sections.warnings import warnings_part
from servingmatrix.user_app import AppIdentity

__all__ = ["build_document"]


def machine(results: Results) -> str:
    meta = results.run.metadata
    cpus = f"{meta['cpu_count']} CPUs" if meta.get("cpu_count") else None
    return ", ".join(str(x) for x in (meta.get("cpu_model"), cpus, meta.get("kernel")) if x)


def _run_line(results: Results) -> Paragraph:
    run, matrix = results.run, results.run.matrix
    failed = sum(1 for c in run.cells if c.record.status == "failed")
    disturbed = sum(1 for c in run.cells if c.record.status == "disturbed")
    not_published = f", {disturbed} disturbed" if disturbed else ""
    return Paragraph(
        (
            f"{len(results.modes)} modes x {len(results.workloads)} workloads x {results.step_label} "
            f"{', '.join(map(str, results.users))}{' (open loop)' if results.open_loop else ''}, "
            f"{matrix.get('trials', 1)} trial(s) of {matrix.get('duration_s', '?')} s after "
            f"{matrix.get('warmup_s', '?')} s of warm-up; "
            f"{len(results.points)} cells, {len(run.cells)} trial measurements "
            f"({failed} failed{not_published}); "
            f"{machine(results) or 'machine not recorded'}; started {run.record.started_at or '?'}.",
        ),
        "note",
    )


def _preface(results: Results, hide: frozenset[str]) -> tuple[Section, ...]:
    description = str(results.run.matrix.get("description") or "")
    out: list[Section] = [Paragraph((description,), "lead")] if description else []
    app = AppIdentity.from_metadata(results.run.metadata)
    out += [
        budget_paragraph(results),
        Paragraph((Strong(("App under test",)), f": {app.describe()}."), "note"),
        method_paragraph(results.run),
        _run_line(results),
        *run_wide_banners(results, hide),
    ]
    missing = results.missing_modes()
    if missing:
        it = "it" if len(missing) == 1 else "them"
        out.append(
            Paragraph(
                (
                    Strong(("Missing modes",)),
                    f": the matrix lists {', '.join(missing)}, but the run holds no result for {it}.",
                ),
                "banner bad",
            )
        )
    return tuple(out)


def build_document(results: Results, objective: Objective, title: str | None = None) -> Document:
    """Every part of the report, in reading order."""
    run = results.run
    hide = run_wide_codes(results)
    written = datetime.now(UTC).isoformat(timespec="seconds")
    return Document(
        title=title or f"Serving Matrix: {run.name}",
        preface=_preface(results, hide),
        parts=(
            verdict_part(results, objective, hide),
            performance_part(results, objective, hide),
            cost_part(results, objective, hide),
            modes_part(results, hide),
            warnings_part(results, hide),
            environment_part(results),
        ),
        provenance=f"Report written {written} from {run.root}.",
    )
