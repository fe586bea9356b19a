"""A run's trials grouped into cells, once, and a cell's figures folded over its trials.

A cell is mode x workload x step; its trials are its repeats. Each figure folds as its declaration in
``metrics.METRICS`` says (``Metric.over``); the cell's throughput over its trials (median, CV,
bootstrap interval, outliers) is what each of its export rows repeats (``CellTrials``). Results from
one run only: runs are never averaged together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from statistics import median
from typing import Any

from servingmatrix.analysis.stats import Estimate, estimate
from servingmatrix.metrics import CellTrials, Metric, Ratio, Trial, folded, metric
from servingmatrix.precision import reached_precision
from servingmatrix.results.cell import CellRecord

#: A cell: (workload, mode, step).
CellId = tuple[str, str, int]


def group(records: Iterable[CellRecord]) -> dict[CellId, tuple[CellRecord, ...]]:
    """Every cell's trials, in trial order, by (workload, mode, step), in the order first met."""
    groups: dict[CellId, list[CellRecord]] = defaultdict(list)
    for record in records:
        groups[(record.workload, record.mode, record.users)].append(record)
    return {key: tuple(sorted(trials, key=lambda t: t.trial)) for key, trials in groups.items()}


def succeeded(trials: Iterable[CellRecord]) -> list[CellRecord]:
    """The trials a cell's figures are made of: those that succeeded with a throughput."""
    return [t for t in trials if t.ok and t.throughput_rps is not None]


def throughput(trials: Iterable[CellRecord]) -> Estimate | None:
    """The cell's throughput over its successful trials (in trial order)."""
    return estimate(t.throughput_rps for t in succeeded(trials))


def cell_trials(trial: CellRecord, trials: tuple[CellRecord, ...]) -> CellTrials:
    """The figures of ``trial``'s cell over its successful ``trials``, and whether ``trial`` is an outlier."""
    ok = succeeded(trials)
    est = throughput(ok)
    if est is None:
        return CellTrials(len(ok))
    outlier: bool | None = None
    if est.n >= 3 and trial in ok:
        outlier = ok.index(trial) in est.outliers
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


def figures(trials: tuple[CellRecord, ...], open_loop: bool = False) -> dict[str, Any]:
    """Every folded figure of one cell, by column (``metrics.folded``): None where no trial has it."""
    return {m.column: fold(m, trials, open_loop) for m in folded()}


def fold(m: Metric, trials: tuple[CellRecord, ...], open_loop: bool = False) -> Any:
    """One figure of a cell over its trials, as ``m.over`` declares it."""
    if isinstance(m.over, Ratio):
        numerator = fold(metric(m.over.numerator), trials, open_loop)
        denominator = fold(metric(m.over.denominator), trials, open_loop)
        return numerator / denominator if numerator is not None and denominator else None
    if m.over == "first":
        return next((v for t in trials if (v := m.read(Trial(t, open_loop=open_loop))) is not None), None)
    values = [v for t in succeeded(trials) if (v := m.read(Trial(t, open_loop=open_loop))) is not None]
    if m.over == "estimate":
        return estimate(values)
    if not values:
        return None
    if m.over == "median":
        return median(values)
    if m.over == "max":
        return max(values)
    if m.over == "sum":
        return sum(values)
    raise ValueError(f"{m.column}: a figure of a trial alone is not folded")
