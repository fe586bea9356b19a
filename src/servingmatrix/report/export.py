"""Exports of a run: its rows in CSV or JSON, with a documented and versioned set of columns (the
metrics registry's, ``metrics.METRICS``); and Markdown with tables and static charts, for publication.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from servingmatrix.analysis.rows import rows
from servingmatrix.metrics import columns
from servingmatrix.results.folder import SCHEMA_VERSION, RunFolder


def export_csv(folder: RunFolder) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    for row in rows(folder):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple | list):
        # A list of counts (connections by process): `/`-separated in one field; JSON keeps the list.
        return "/".join(str(v) for v in value)
    return "" if value is None else value


def export_json(folder: RunFolder) -> str:
    document = {"schema": SCHEMA_VERSION, "columns": list(columns()), "rows": rows(folder)}
    return json.dumps(document, indent=1) + "\n"


def export_markdown(run_dir: Path, output: Path | None = None, slo_p99_ms: float = 500.0) -> list[Path]:
    """Markdown with tables and SVG charts, for a post: ``output`` (default ``RUN_DIR/report.md``) and
    its charts in a folder beside it named after it; returns every file written."""
    from servingmatrix.analysis.points import aggregate
    from servingmatrix.analysis.verdict import Objective
    from servingmatrix.report.markdown import render_markdown
    from servingmatrix.results.run import load_run

    target = output or run_dir / "report.md"
    charts_dir = f"{target.stem}-charts"
    publication = render_markdown(aggregate(load_run(run_dir)), Objective(p99_ms=slo_p99_ms), charts_dir)
    return publication.write(target, charts_dir)
