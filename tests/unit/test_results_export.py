"""Run folders on disk, resume bookkeeping, and the CSV/JSON exports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.flags import ONCE_PER_RUN, letters
from servingmatrix.metrics import COLUMNS
from servingmatrix.report.export import export_csv, export_json
from servingmatrix.report.views.summary import summarize
from servingmatrix.results.cell import CellRecord, Latency
from servingmatrix.results.folder import SCHEMA_VERSION, CellKey, RunFolder, read_json, write_json_atomic
from servingmatrix.results.run_record import RunRecord
from tests.unit.synthetic_runs import SYNC, cell, record, warning, write_run, write_schema_1_cell

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
    folder.write_run(RunRecord(matrix={"users": [1, 16]}))
    folder.write_cell(record(CellKey("gunicorn-sync[workers=3]", "json", 1, 1), ok_cell(1000.0)))
    folder.write_cell(
        record(CellKey("gunicorn-sync[workers=3]", "json", 16, 1), ok_cell(2500.5, saturated=True))
    )
    folder.write_cell(
        record(
            CellKey("werkzeug-single", "json", 1, 1),
            {"status": "failed", "reason": "not ready", "warnings": []},
        )
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
    folder.write_cell(CellRecord("m", "w", 1, 1, "ok", requests=0, latency_ms=Latency(p50=float("nan"))))
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


def test_cell_figures_repeat_on_each_trial_row_with_the_outlier_marked(tmp_path: Path) -> None:
    cells = {(SYNC, "json", 8, t): cell(rps) for t, rps in ((1, 699.0), (2, 700.0), (3, 900.0))}
    cells[(SYNC, "json", 8, 4)] = {"status": "failed", "reason": "not ready", "warnings": []}
    cells[(SYNC, "json", 1, 1)] = cell(100.0)
    rows = list(csv.DictReader(io.StringIO(export_csv(RunFolder(write_run(tmp_path / "r", cells, [1, 8]))))))
    by_trial = {r["trial"]: r for r in rows if r["users"] == "8"}
    for row in by_trial.values():
        assert row["cell_trials"] == "3" and row["cell_throughput_median"] == "700"
        assert (row["cell_throughput_ci_low"], row["cell_throughput_ci_high"]) == ("699", "900")
        assert row["cell_throughput_cv"] == "0.151057" and row["noisy"] == "true"
    assert [by_trial[t]["outlier_trial"] for t in "1234"] == ["false", "false", "true", ""]
    # One trial: no spread, so no CV, interval, noise or outliers to speak of.
    (single,) = [r for r in rows if r["users"] == "1"]
    assert single["cell_trials"] == "1" and single["cell_throughput_median"] == "100"
    for column in ("cell_throughput_cv", "cell_throughput_ci_low", "noisy", "outlier_trial"):
        assert single[column] == "", column


def test_generator_bound_and_offered_rate_columns_with_an_old_cell(tmp_path: Path) -> None:
    cells = {
        (SYNC, "json", 100, 1): cell(99.0, offered=100.0, generator_bound=False),
        (SYNC, "json", 200, 1): cell(150.0, offered=200.0, generator_bound=True),
    }
    root = write_run(tmp_path / "open", cells, [100, 200], open_loop=True)
    rows = {r["users"]: r for r in csv.DictReader(io.StringIO(export_csv(RunFolder(root))))}
    assert (rows["100"]["generator_bound"], rows["100"]["offered_rps"]) == ("false", "100")
    assert (rows["200"]["generator_bound"], rows["200"]["offered_rps"]) == ("true", "200")
    # A schema-1 cell has neither figure: generator_bound falls back to saturated, no offered rate.
    closed = write_run(tmp_path / "closed", {(SYNC, "json", 1, 1): cell(50.0)}, [1])
    write_schema_1_cell(closed, SYNC, "json", 16, 1, 400.0)
    old = {r["users"]: r for r in csv.DictReader(io.StringIO(export_csv(RunFolder(closed))))}
    assert old["16"]["generator_bound"] == "true" and old["16"]["loadgen_saturated"] == "true"
    assert old["16"]["offered_rps"] == "" and old["16"]["cell_throughput_median"] == "400"
    assert old["16"]["warnings"] == "loadgen-saturated"
    assert old["1"]["generator_bound"] == "false" and old["1"]["offered_rps"] == ""
    document = json.loads(export_json(RunFolder(closed)))
    assert document["schema"] == SCHEMA_VERSION and document["rows"][0]["offered_rps"] is None


def test_summary_letters_a_figure_as_every_output_does_and_notes_the_run_wide_flags_once(
    tmp_path: Path,
) -> None:
    codes = ["machine-busy", *sorted(ONCE_PER_RUN), "memory-bound", "errors", "cpu-throttled"]
    cells = {(SYNC, "json", 1, 1): cell(100.0, warnings=[warning(c, f"{c} said") for c in codes], failures=1)}
    text = summarize(RunFolder(write_run(tmp_path / "r", cells, [1])))
    (row,) = [line for line in text.splitlines() if line.strip().startswith(SYNC)]
    # The run's conditions every figure carries (here the one figure: busy, cores shared) are noted
    # once, as the report says them, and lettered on no figure.
    once = sorted({*ONCE_PER_RUN, "machine-busy"})
    assert row.split()[1:] == ["100", letters(codes, said_once=once)]
    assert [f"note: {c} said" for c in once] == [n for n in text.splitlines() if n.startswith("note")]


def test_summary_counts_generator_bound_and_noisy_figures(tmp_path: Path) -> None:
    bound = [{"code": "generator-bound", "message": "lower bound"}]
    cells = {
        (SYNC, "json", 1, 1): cell(100.0, warnings=bound),
        (SYNC, "json", 1, 2): cell(100.0, warnings=bound),
        (SYNC, "json", 8, 1): cell(500.0),
        (SYNC, "json", 8, 2): cell(800.0),
    }
    text = summarize(RunFolder(write_run(tmp_path / "r", cells, [1, 8], trials=2)))
    assert "100 G" in text and "650 V" in text
    assert text.rstrip().endswith("flagged: 1 generator-bound (G or S), 1 noisy (V) of 2 figures")
    rates = {(SYNC, "json", 100, 1): cell(99.0, offered=100.0)}
    assert "by offered req/s" in summarize(RunFolder(write_run(tmp_path / "o", rates, [100], open_loop=True)))


def test_the_export_refuses_a_stray_copy_of_a_cell_as_the_report_does(tmp_path: Path) -> None:
    """Both read the cells through the folder's one reader: a cell counted twice is refused by both."""
    import shutil

    run = write_run(tmp_path / "run", {(SYNC, "json", 1, 1): cell(100.0)}, [1])
    original = next((run / "cells").glob("*.json"))
    shutil.copy(original, run / "cells" / "zz-copy.json")
    says = f"{run / 'cells' / 'zz-copy.json'}: the same cell as {original.name}; one of them is a stray copy"
    for export in (export_csv, export_json):
        with pytest.raises(UserError) as raised:
            export(RunFolder(run))
        assert str(raised.value) == says


def test_summary_says_disturbed_for_a_cell_measured_only_with_other_work_and_failed_otherwise(
    tmp_path: Path,
) -> None:
    why = "disturbed: server core 20% busy with other work (above 5%)"
    cells = {
        (SYNC, "json", 1, 1): {**cell(100.0), "status": "disturbed", "reason": why},
        (SYNC, "json", 8, 1): {"status": "failed", "reason": "not ready", "warnings": []},
    }
    text = summarize(RunFolder(write_run(tmp_path / "r", cells, [1, 8])))
    (row,) = [line for line in text.splitlines() if line.strip().startswith(SYNC)]
    assert row.split()[1:] == ["disturbed", "failed"]
