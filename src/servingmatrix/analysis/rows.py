"""A run as rows: one per trial of each cell, in the export's columns.

A cell's figures over its trials (their median, CV, bootstrap interval, and whether they are noisy)
repeat on each of its trial rows, so a row read alone still carries the doubts of its cell.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from servingmatrix.analysis.stats import Estimate, estimate
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import RunFolder


def cell_row(
    cell: CellRecord, trials: list[CellRecord] | None = None, open_loop: bool = False
) -> dict[str, Any]:
    """Flatten one trial into the export columns (missing figures are empty); ``trials`` are every
    trial of its cell (itself included), for the cell's figures."""
    latency, server, loadgen = cell.latency_ms, cell.server, cell.loadgen
    per_process = [p.rss_mb for p in server.processes if p.rss_mb is not None]
    return {
        "mode": cell.mode,
        "workload": cell.workload,
        "users": cell.users,
        "trial": cell.trial,
        "requests": cell.requests,
        "failures": cell.failures,
        "error_rate": cell.error_rate,
        "throughput_rps": cell.throughput_rps,
        "mean_ms": latency.mean,
        "p50_ms": latency.p50,
        "p90_ms": latency.p90,
        "p95_ms": latency.p95,
        "p99_ms": latency.p99,
        "p999_ms": latency.p999,
        "max_ms": latency.max,
        "server_cpu_pct": server.cpu_pct,
        "server_mem_mb": server.mem_mb,
        "server_processes": len(server.processes) or None,
        "server_mem_mb_per_process": max(per_process) if per_process else None,
        "throttled_s": server.throttled_s,
        "loadgen_cpu_pct": loadgen.cpu_pct,
        "loadgen_saturated": loadgen.saturated,
        "generator_bound": loadgen.bound,
        "offered_rps": cell.offered_rps if open_loop else None,
        "effective_concurrency": cell.effective_concurrency,
        "promised_concurrency": cell.promised_concurrency,
        "status": cell.status,
        "warnings": ";".join(w.code for w in cell.warnings),
        **cell_figures(cell, trials if trials is not None else [cell]),
    }


def _ok(cell: CellRecord) -> bool:
    return cell.ok and cell.throughput_rps is not None


def cell_figures(cell: CellRecord, trials: list[CellRecord]) -> dict[str, Any]:
    """The figures of ``cell``'s cell over its successful ``trials``, and whether ``cell`` is an outlier."""
    ok = sorted((t for t in trials if _ok(t)), key=lambda t: t.trial)
    est: Estimate | None = estimate(float(t.throughput_rps or 0.0) for t in ok)
    outlier: bool | None = None
    if est is not None and est.n >= 3 and _ok(cell):
        positions = [i for i, t in enumerate(ok) if t.trial == cell.trial]
        outlier = bool(positions) and positions[0] in est.outliers
    return {
        "cell_trials": len(ok),
        "cell_throughput_median": est.median if est else None,
        "cell_throughput_cv": est.cv if est else None,
        "cell_throughput_ci_low": est.ci_low if est else None,
        "cell_throughput_ci_high": est.ci_high if est else None,
        "noisy": est.noisy if est and est.cv is not None else None,
        "outlier_trial": outlier,
    }


def rows(folder: RunFolder) -> list[dict[str, Any]]:
    run = folder.read_run()
    rates = (run.get("matrix") or {}).get("arrival_rates")
    open_loop = isinstance(rates, list) and bool(rates)
    cells = folder.read_cells()
    by_cell: dict[tuple[str, str, int], list[CellRecord]] = defaultdict(list)
    for c in cells:
        by_cell[(c.workload, c.mode, c.users)].append(c)
    ordered = sorted(cells, key=lambda c: (c.workload, c.mode, c.users, c.trial))
    return [cell_row(c, by_cell[(c.workload, c.mode, c.users)], open_loop) for c in ordered]
