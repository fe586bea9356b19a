"""A run as rows: one per trial of each cell, in the export's columns (``metrics.METRICS``).

A cell's figures over its trials (their median, CV, bootstrap interval, and whether they are noisy)
repeat on each of its trial rows, so a row read alone still carries the doubts of its cell.
"""

from __future__ import annotations

from typing import Any

from servingmatrix.analysis.trials import cell_trials, group
from servingmatrix.metrics import Trial, row
from servingmatrix.results.folder import RunFolder


def trials(folder: RunFolder) -> list[Trial]:
    """Every trial of a run with its cell's figures, by workload, mode, step and trial."""
    rates = folder.read_run().matrix.get("arrival_rates")
    open_loop = isinstance(rates, list) and bool(rates)
    cells = group(folder.read_cells())
    return [Trial(t, cell_trials(t, cells[key]), open_loop) for key in sorted(cells) for t in cells[key]]


def rows(folder: RunFolder) -> list[dict[str, Any]]:
    """The export's rows: every metric of every trial."""
    return [row(trial) for trial in trials(folder)]
