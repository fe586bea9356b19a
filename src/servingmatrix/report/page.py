"""The report of a run: one self-contained HTML page, written with what it cost."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.analysis.points import aggregate
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.html import render_document
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run

REPORT_FILE = "report.html"


@dataclass(frozen=True)
class Written:
    """A page written, with what it cost: the README records both for the default profile."""

    path: Path
    seconds: float
    size_bytes: int

    def describe(self) -> str:
        return f"{self.path} ({self.size_bytes / 1e6:.1f} MB, rendered in {self.seconds:.2f} s)"


def write_report(run_dir: Path, out: Path | None = None, objective: Objective | None = None) -> Written:
    """Render the report of the run in ``run_dir`` to ``out`` (default: ``run_dir/report.html``)."""
    started = time.perf_counter()
    results = aggregate(load_run(run_dir))
    html = render_document(build_document(results, objective or Objective()))
    target = out or run_dir / REPORT_FILE
    write_text_atomic(target, html)
    return Written(target, time.perf_counter() - started, len(html.encode()))
