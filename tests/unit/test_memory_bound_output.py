"""A memory-bound figure as every output shows it: its letter beside it in the summary, and the
server's major faults per second of the window in the export."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from servingmatrix.report.export import export_csv
from servingmatrix.report.views.summary import summarize
from servingmatrix.results.folder import RunFolder
from tests.unit.synthetic_runs import SYNC, cell, write_run

SHORT = {"code": "memory-bound", "message": "the server faulted 4,500 pages a second back in from disk"}


def thrashing(faults: int | None, warnings: list[dict[str, str]]) -> dict[str, Any]:
    data = cell(40.0, warnings=warnings)
    data["window"] = {"start": 100.0, "end": 110.0, "seconds": 10.0, "warmup_s": 2.0}
    if faults is not None:
        data["server"] = {**data["server"], "major_faults": faults}
    return data


def run(root: Path) -> Path:
    cells = {
        (SYNC, "json", 1, 1): thrashing(0, []),
        (SYNC, "json", 8, 1): thrashing(45_000, [SHORT]),
    }
    return write_run(root, cells, [1, 8])


def test_the_summary_letters_a_memory_bound_figure_and_names_the_letter(tmp_path: Path) -> None:
    text = summarize(RunFolder(run(tmp_path / "run")))
    assert "M=memory-bound" in text
    (row,) = [line for line in text.splitlines() if line.strip().startswith(SYNC)]
    assert row.split()[1:] == ["40", "40", "M"], row


def test_the_export_gives_the_major_faults_per_second_of_the_window(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(export_csv(RunFolder(run(tmp_path / "run"))))))
    by_users = {row["users"]: row for row in rows}
    assert by_users["1"]["server_major_faults_per_s"] == "0"
    assert by_users["8"]["server_major_faults_per_s"] == "4500"
    assert by_users["8"]["warnings"] == "memory-bound"
