"""Exports of a run: one row per trial of each cell, in CSV or JSON, with a documented and versioned
set of columns; and Markdown with tables and static charts, for publication.

A cell's figures over its trials (their median, CV, bootstrap interval, and whether they are noisy)
repeat on each of its trial rows, so a row read alone still carries the doubts of its cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from servingmatrix.report.stats import Estimate, estimate
from servingmatrix.results import SCHEMA_VERSION, RunFolder

#: The export columns, in order. Documented in the README; a change bumps SCHEMA_VERSION.
COLUMNS = (
    "mode",
    "workload",
    "users",
    "trial",
    "requests",
    "failures",
    "error_rate",
    "throughput_rps",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "server_cpu_pct",
    "server_mem_mb",
    "server_processes",
    "server_mem_mb_per_process",
    "throttled_s",
    "loadgen_cpu_pct",
    "loadgen_saturated",
    "generator_bound",
    "offered_rps",
    "effective_concurrency",
    "promised_concurrency",
    "status",
    "warnings",
    "cell_trials",
    "cell_throughput_median",
    "cell_throughput_cv",
    "cell_throughput_ci_low",
    "cell_throughput_ci_high",
    "noisy",
    "outlier_trial",
)


COLUMN_DOCS = {
    "mode": "the mode's full spec, every tunable written out, e.g. `gunicorn-sync[workers=3]`",
    "workload": "the workload's full spec, e.g. `io[ms=100]`",
    "users": "concurrent Locust users (closed loop: each sends its next request when the last answered); "
    "in an open-loop run, the requests per second offered, as in `offered_rps`",
    "trial": "the repeat, from 1",
    "requests": "requests completed inside the measured window",
    "failures": "of those, failed (HTTP status >= 400, connection error or timeout)",
    "error_rate": "failures / requests",
    "throughput_rps": "successful requests per second of the measured window",
    "mean_ms": "mean latency of the successful requests, measured by the client",
    "p50_ms": "median latency (nearest rank over every request's own time, not a histogram)",
    "p90_ms": "90th percentile latency",
    "p95_ms": "95th percentile latency",
    "p99_ms": "99th percentile latency",
    "p999_ms": "99.9th percentile latency",
    "max_ms": "slowest successful request",
    "server_cpu_pct": "server container CPU over the window, % of one core (from its cgroup)",
    "server_mem_mb": "server container memory, highest sample in the window, less reclaimable page cache",
    "server_processes": "processes in the server container at the end of the window",
    "server_mem_mb_per_process": "resident memory of the largest process (a worker, usually)",
    "throttled_s": "seconds the server was held back by its CPU quota during the window",
    "loadgen_cpu_pct": "load generator CPU over the window, % of one core",
    "loadgen_saturated": "the generator used >= 90% of its CPU quota: throughput is a lower bound",
    "generator_bound": "the generator, not the server, set the pace (>= 90% of its CPU quota, throttled "
    "by it over 5% of the window, or >= 90% of the calibrated most it sends): throughput is a lower "
    "bound; in results before schema 2, `loadgen_saturated`",
    "offered_rps": "open-loop runs: the requests per second the step offered (empty in a closed loop)",
    "effective_concurrency": "requests in flight on average: throughput x sleep (io) or x mean latency",
    "promised_concurrency": "what the folk claim says this configuration serves at once (empty: unbounded)",
    "status": "`ok`, or `failed` (the reason is in the cell's JSON)",
    "warnings": "the cell's flag codes, `;`-separated: generator-bound, loadgen-saturated (before schema "
    "2), cpu-throttled, errors, machine-busy, cores-shared",
    "cell_trials": "trials of this cell (mode x workload x step) that succeeded: the figures below are over "
    "them, and repeat on each trial's row",
    "cell_throughput_median": "the cell's throughput: the median of its trials' `throughput_rps`",
    "cell_throughput_cv": "the trials' standard deviation / mean (empty for one trial)",
    "cell_throughput_ci_low": "the percentile bootstrap 95% interval of the median, low end (empty for "
    "one trial; with 2 to 5 trials, the lowest trial)",
    "cell_throughput_ci_high": "the same interval's high end (with 2 to 5 trials, the highest trial)",
    "noisy": "`cell_throughput_cv` is above 10% (empty for one trial)",
    "outlier_trial": "this trial's throughput is an outlier among the cell's by median/MAD (modified "
    "z-score above 3.5, and more than 2% from the median; empty with fewer than 3 trials or for a failed "
    "trial)",
}


def cell_row(
    cell: dict[str, Any], trials: list[dict[str, Any]] | None = None, open_loop: bool = False
) -> dict[str, Any]:
    """Flatten one trial into the export columns (missing figures are empty); ``trials`` are every
    trial of its cell (itself included), for the cell's figures."""
    latency = cell.get("latency_ms") or {}
    server = cell.get("server") or {}
    loadgen = cell.get("loadgen") or {}
    processes = server.get("processes") or []
    per_process = [p["rss_mb"] for p in processes]
    return {
        "mode": cell["mode"],
        "workload": cell["workload"],
        "users": cell["users"],
        "trial": cell["trial"],
        "requests": cell.get("requests"),
        "failures": cell.get("failures"),
        "error_rate": cell.get("error_rate"),
        "throughput_rps": cell.get("throughput_rps"),
        "mean_ms": latency.get("mean"),
        "p50_ms": latency.get("p50"),
        "p90_ms": latency.get("p90"),
        "p95_ms": latency.get("p95"),
        "p99_ms": latency.get("p99"),
        "p999_ms": latency.get("p999"),
        "max_ms": latency.get("max"),
        "server_cpu_pct": server.get("cpu_pct"),
        "server_mem_mb": server.get("mem_mb"),
        "server_processes": len(processes) if processes else None,
        "server_mem_mb_per_process": max(per_process) if per_process else None,
        "throttled_s": server.get("throttled_s"),
        "loadgen_cpu_pct": loadgen.get("cpu_pct"),
        "loadgen_saturated": loadgen.get("saturated"),
        "generator_bound": _first_bool(loadgen, "generator_bound", "saturated"),
        "offered_rps": cell.get("offered_rps") if open_loop else None,
        "effective_concurrency": cell.get("effective_concurrency"),
        "promised_concurrency": cell.get("promised_concurrency"),
        "status": cell.get("status"),
        "warnings": ";".join(w["code"] for w in cell.get("warnings") or []),
        **cell_figures(cell, trials if trials is not None else [cell]),
    }


def _first_bool(data: dict[str, Any], *keys: str) -> bool | None:
    for key in keys:
        if isinstance(data.get(key), bool):
            return bool(data[key])
    return None


def _ok(cell: dict[str, Any]) -> bool:
    return cell.get("status") == "ok" and isinstance(cell.get("throughput_rps"), int | float)


def cell_figures(cell: dict[str, Any], trials: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of ``cell``'s cell over its successful ``trials``, and whether ``cell`` is an outlier."""
    ok = sorted((t for t in trials if _ok(t)), key=lambda t: t["trial"])
    est: Estimate | None = estimate(float(t["throughput_rps"]) for t in ok)
    outlier: bool | None = None
    if est is not None and est.n >= 3 and _ok(cell):
        positions = [i for i, t in enumerate(ok) if t["trial"] == cell["trial"]]
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
    by_cell: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for c in cells:
        by_cell[(c["workload"], c["mode"], c["users"])].append(c)
    ordered = sorted(cells, key=lambda c: (c["workload"], c["mode"], c["users"], c["trial"]))
    return [cell_row(c, by_cell[(c["workload"], c["mode"], c["users"])], open_loop) for c in ordered]


def export_csv(folder: RunFolder) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(folder):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value


def export_json(folder: RunFolder) -> str:
    document = {"schema": SCHEMA_VERSION, "columns": list(COLUMNS), "rows": rows(folder)}
    return json.dumps(document, indent=1) + "\n"


def export_markdown(run_dir: Path, output: Path | None = None, slo_p99_ms: float = 500.0) -> list[Path]:
    """Markdown with tables and SVG charts, for a post: ``output`` (default ``RUN_DIR/report.md``) and
    its charts in a folder beside it named after it; returns every file written."""
    from servingmatrix.report.markdown import render_markdown
    from servingmatrix.report.points import aggregate
    from servingmatrix.report.runs import load_run
    from servingmatrix.report.verdict import Objective

    target = output or run_dir / "report.md"
    charts_dir = f"{target.stem}-charts"
    publication = render_markdown(aggregate(load_run(run_dir)), Objective(p99_ms=slo_p99_ms), charts_dir)
    return publication.write(target, charts_dir)
