"""Exports of a run: one row per cell, in CSV or JSON, with a documented and versioned set of columns;
and Markdown with tables and static charts, for publication."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

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
    "effective_concurrency",
    "promised_concurrency",
    "status",
    "warnings",
)


COLUMN_DOCS = {
    "mode": "the mode's full spec, every tunable written out, e.g. `gunicorn-sync[workers=3]`",
    "workload": "the workload's full spec, e.g. `io[ms=100]`",
    "users": "concurrent Locust users (closed loop: each sends its next request when the last answered)",
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
    "effective_concurrency": "requests in flight on average: throughput x sleep (io) or x mean latency",
    "promised_concurrency": "what the folk claim says this configuration serves at once (empty: unbounded)",
    "status": "`ok`, or `failed` (the reason is in the cell's JSON)",
    "warnings": "flag codes: loadgen-saturated, cpu-throttled, errors, machine-busy, cores-shared",
}


def cell_row(cell: dict[str, Any]) -> dict[str, Any]:
    """Flatten one cell into the export columns (missing figures are empty)."""
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
        "effective_concurrency": cell.get("effective_concurrency"),
        "promised_concurrency": cell.get("promised_concurrency"),
        "status": cell.get("status"),
        "warnings": ";".join(w["code"] for w in cell.get("warnings") or []),
    }


def rows(folder: RunFolder) -> list[dict[str, Any]]:
    folder.read_run()
    cells = folder.read_cells()
    ordered = sorted(cells, key=lambda c: (c["workload"], c["mode"], c["users"], c["trial"]))
    return [cell_row(c) for c in ordered]


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
