"""Run folders on disk, resume bookkeeping, and the CSV/JSON exports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.export import COLUMNS, export_csv, export_json
from servingmatrix.results import SCHEMA_VERSION, CellKey, RunFolder, read_json, write_json_atomic
from servingmatrix.summary import summarize

REQUIRED = (
    "mode",
    "workload",
    "users",
    "trial",
    "requests",
    "failures",
    "throughput_rps",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "server_cpu_pct",
    "server_mem_mb",
    "throttled_s",
    "loadgen_cpu_pct",
    "loadgen_saturated",
    "effective_concurrency",
    "status",
)


def ok_cell(throughput: float, saturated: bool = False) -> dict[str, object]:
    warnings = [{"code": "loadgen-saturated", "message": "lower bound"}] if saturated else []
    return {
        "status": "ok",
        "requests": 100,
        "failures": 0,
        "error_rate": 0.0,
        "throughput_rps": throughput,
        "latency_ms": {
            "mean": 2.0,
            "p50": 1.5,
            "p90": 3.0,
            "p95": 4.0,
            "p99": 9.0,
            "p999": 12.0,
            "max": 15.0,
        },
        "server": {"cpu_pct": 95.0, "mem_mb": 80.0, "throttled_s": 0.0, "processes": [{"rss_mb": 30.0}]},
        "loadgen": {"cpu_pct": 97.0 if saturated else 40.0, "saturated": saturated},
        "effective_concurrency": 2.0,
        "warnings": warnings,
    }


@pytest.fixture
def run(tmp_path: Path) -> RunFolder:
    folder = RunFolder(tmp_path / "run")
    folder.write_run({"matrix": {"users": [1, 16]}})
    folder.write_cell(CellKey("gunicorn-sync[workers=3]", "json", 1, 1), ok_cell(1000.0))
    folder.write_cell(CellKey("gunicorn-sync[workers=3]", "json", 16, 1), ok_cell(2500.5, saturated=True))
    folder.write_cell(
        CellKey("werkzeug-single", "json", 1, 1), {"status": "failed", "reason": "not ready", "warnings": []}
    )
    return folder


def test_cells_round_trip_with_schema_and_key(run: RunFolder) -> None:
    key = CellKey("gunicorn-sync[workers=3]", "json", 16, 1)
    assert run.has_cell(key)
    cell = read_json(run.cell_path(key))
    assert cell["schema"] == SCHEMA_VERSION
    assert cell["mode"] == "gunicorn-sync[workers=3]" and cell["users"] == 16
    assert not run.has_cell(CellKey("gunicorn-sync[workers=3]", "json", 64, 1))


def test_slugs_are_unique_for_specs_that_look_alike() -> None:
    a = CellKey("gunicorn-gthread[workers=2,threads=4]", "json", 1, 1)
    b = CellKey("gunicorn-gthread[workers=24,threads=]", "json", 1, 1)
    assert a.slug != b.slug


def test_nan_is_written_as_null(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.write_cell(CellKey("m", "w", 1, 1), {"latency_ms": {"p50": float("nan")}})
    assert read_json(folder.cell_path(CellKey("m", "w", 1, 1)))["latency_ms"]["p50"] is None


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", ['{"schema": 1, "mode": "trunc', "", "\x00\x01garbage", "[1, 2]"])
def test_corrupt_file_is_one_clear_line_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cell.json"
    path.write_text(content)
    with pytest.raises(UserError) as caught:
        read_json(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cell.json"
    path.write_text(json.dumps({"schema": SCHEMA_VERSION + 1}))
    with pytest.raises(UserError, match="newer"):
        read_json(path)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a run folder"):
        export_csv(RunFolder(tmp_path))


def test_csv_has_every_documented_column_and_one_row_per_cell(run: RunFolder) -> None:
    rows = list(csv.DictReader(io.StringIO(export_csv(run))))
    assert len(rows) == 3
    assert set(REQUIRED) <= set(rows[0])
    assert list(rows[0]) == list(COLUMNS)
    saturated = next(r for r in rows if r["users"] == "16")
    assert saturated["loadgen_saturated"] == "true"
    assert saturated["warnings"] == "loadgen-saturated"
    failed = next(r for r in rows if r["mode"] == "werkzeug-single")
    assert failed["status"] == "failed" and failed["throughput_rps"] == ""


def test_json_export_is_versioned(run: RunFolder) -> None:
    document = json.loads(export_json(run))
    assert document["schema"] == SCHEMA_VERSION
    assert document["columns"] == list(COLUMNS)
    assert len(document["rows"]) == 3


def test_summary_shows_flags_beside_figures(run: RunFolder) -> None:
    text = summarize(run)
    assert "2,500 S" in text
    assert "failed" in text
