"""The metrics registry: one entry per figure, from which the export, its documentation and the
summary derive."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from servingmatrix import fmt, metrics
from servingmatrix.building.readme.docs import columns_table
from servingmatrix.metrics import COLUMN_DOCS, COLUMNS, METRICS, CellTrials, Metric, Trial, metric
from servingmatrix.report.export import export_csv
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import CellKey as Key
from servingmatrix.results.folder import RunFolder
from tests.unit.synthetic_runs import SYNC, cell, record, write_run


def test_every_column_is_one_entry_documented_with_its_unit() -> None:
    assert tuple(m.column for m in METRICS) == COLUMNS
    assert len(set(COLUMNS)) == len(COLUMNS)
    for m in METRICS:
        assert m.doc and COLUMN_DOCS[m.column] == m.doc
        assert f"| `{m.column}` | {m.doc} | {m.unit or '—'} |" in columns_table()


def test_every_metric_reads_a_failed_cell_as_unknown_and_formats_it() -> None:
    failed = Trial(CellRecord("m", "w", 1, 1, "failed", "not ready"), CellTrials(0))
    known = {"mode", "workload", "users", "trial", "status", "cell_trials"}
    for m in METRICS:
        value = m.read(failed)
        assert (value is None or value == "") == (m.column not in known), m.column
        assert isinstance(m.text(failed), str)


def test_metrics_read_a_record_and_print_with_the_shared_formats() -> None:
    trial = Trial(record(Key(SYNC, "json", 8, 1), cell(9.94, p99=1234.5)), CellTrials(1, median=9.94))
    assert metric("throughput_rps").text(trial) == fmt.rps(9.94) == "9.9"
    assert metric("p99_ms").text(trial) == "1,234"
    assert metric("server_mem_mb_per_process").text(trial) == "30 MB"
    assert metric("generator_bound").text(trial) == "no"
    assert metric("cell_throughput_median").text(trial) == "10"
    assert metric("offered_rps").read(trial) is None  # a closed-loop run


def test_a_figure_already_in_the_record_reaches_the_export_by_its_entry_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = Metric(
        "sent_rps", "requests sent per second", "req/s", fmt.rps, lambda t: t.record.loadgen.sent_rps
    )
    monkeypatch.setattr(metrics, "METRICS", (*METRICS, sent))
    data = cell(100.0)
    data["loadgen"] = {**data["loadgen"], "sent_rps": 101.5}
    root = write_run(tmp_path / "r", {(SYNC, "json", 1, 1): data}, [1])
    (exported,) = csv.DictReader(io.StringIO(export_csv(RunFolder(root))))
    assert list(exported)[-1] == "sent_rps" and exported["sent_rps"] == "101.5"
