"""A run as rows: one per trial of each cell, in the export's columns (``metrics.METRICS``).

A cell's figures over its trials (their median, CV, bootstrap interval, and whether they are noisy)
repeat on each of its trial rows, so a row read alone still carries the doubts of its cell.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from servingmatrix.analysis.stats import estimate
from servingmatrix.metrics import CellTrials, Trial, row
from servingmatrix.precision import reached_precision
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import read_run_meta


def _ok(cell: CellRecord) -> bool:
    return cell.ok and cell.throughput_rps is not None


def cell_trials(cell: CellRecord, trials: list[CellRecord]) -> CellTrials:
    """The figures of ``cell``'s cell over its successful ``trials``, and whether ``cell`` is an outlier."""
    ok = sorted((t for t in trials if _ok(t)), key=lambda t: t.trial)
    est = estimate(float(t.throughput_rps or 0.0) for t in ok)
    if est is None:
        return CellTrials(len(ok))
    outlier: bool | None = None
    if est.n >= 3 and _ok(cell):
        positions = [i for i, t in enumerate(ok) if t.trial == cell.trial]
        outlier = bool(positions) and positions[0] in est.outliers
    return CellTrials(
        trials=len(ok),
        median=est.median,
        cv=est.cv,
        ci_low=est.ci_low,
        ci_high=est.ci_high,
        precision=reached_precision(est.values),
        noisy=est.noisy if est.cv is not None else None,
        outlier=outlier,
    )


def trials(folder: RunFolder) -> list[Trial]:
    """Every trial of a run with its cell's figures, by workload, mode, step and trial."""
    run = read_run_meta(folder)
    rates = (run.get("matrix") or {}).get("arrival_rates")
    open_loop = isinstance(rates, list) and bool(rates)
    cells = folder.read_cells()
    by_cell: dict[tuple[str, str, int], list[CellRecord]] = defaultdict(list)
    for c in cells:
        by_cell[(c.workload, c.mode, c.users)].append(c)
    ordered = sorted(cells, key=lambda c: (c.workload, c.mode, c.users, c.trial))
    return [Trial(c, cell_trials(c, by_cell[(c.workload, c.mode, c.users)]), open_loop) for c in ordered]


def rows(folder: RunFolder) -> list[dict[str, Any]]:
    """The export's rows: every metric of every trial."""
    return [row(trial) for trial in trials(folder)]
