"""A cell's trials, grouped once and folded as each metric declares: the figures of every point and
the cell figures every export row repeats come from the same place."""

from __future__ import annotations

from pathlib import Path
from statistics import median

import pytest

from servingmatrix import fmt, metrics
from servingmatrix.analysis.points import aggregate, make_point
from servingmatrix.analysis.rows import trials
from servingmatrix.analysis.stats import Estimate
from servingmatrix.analysis.trials import fold, group
from servingmatrix.metrics import METRICS, Metric, Ratio, folded, metric
from servingmatrix.results.cell import CellKey, CellRecord
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import load_run
from tests.unit.synthetic_runs import SYNC, cell, closed_cells, record, write_run

FOLDS = ("estimate", "median", "max", "sum", "first")


def trial(number: int, rps: float, **figures: object) -> CellRecord:
    return record(CellKey(SYNC, "json", 8, number), {**cell(rps), **figures})


def failed(number: int) -> CellRecord:
    return CellRecord(SYNC, "json", 8, number, "failed", "the server did not start")


def test_every_metric_folds_in_a_known_way_or_not_at_all() -> None:
    for m in METRICS:
        if isinstance(m.over, Ratio):
            assert {metric(m.over.numerator).over, metric(m.over.denominator).over} == {"sum"}, m.column
        else:
            assert m.over is None or m.over in FOLDS, m.column
    assert metric("mode").over is None and metric("cell_throughput_median").over is None


def test_a_point_holds_every_folded_figure_by_its_column() -> None:
    point = make_point((trial(1, 100.0), trial(2, 120.0)))
    assert set(point.figures) == {m.column for m in folded()}


def test_each_fold_reads_the_successful_trials_as_declared() -> None:
    trials_ = (
        trial(1, 100.0, server={"cpu_pct": 50.0, "mem_mb": 90.0}, failures=10, requests=1000),
        trial(2, 300.0, server={"cpu_pct": 70.0, "mem_mb": 120.0}, failures=30, requests=1000),
        failed(3),
        trial(4, 200.0, server={"cpu_pct": 60.0, "mem_mb": 100.0}, failures=0, requests=2000),
    )
    point = make_point(trials_)
    throughput = point.estimate("throughput_rps")
    assert isinstance(throughput, Estimate) and throughput.values == (100.0, 300.0, 200.0)
    assert point.value("throughput_rps") == 200.0
    assert point.value("server_cpu_pct") == median([50.0, 70.0, 60.0])
    assert point.value("server_mem_mb") == 120.0
    assert fold(metric("requests"), trials_) == 4000
    assert point.value("error_rate") == 40 / 4000, "pooled: every failure over every request"
    assert point.value("promised_concurrency") == 3
    assert point.failed_reasons == ["trial 3: the server did not start"]


def test_first_takes_the_first_trial_that_has_the_figure_failed_ones_included() -> None:
    assert fold(metric("promised_concurrency"), (failed(1), trial(2, 10.0, promised_concurrency=4))) == 4
    offered = (trial(1, 10.0, offered_rps=None), trial(2, 10.0, offered_rps=50.0))
    assert fold(metric("offered_rps"), offered, open_loop=True) == 50.0
    assert fold(metric("offered_rps"), offered, open_loop=False) is None


def test_a_figure_no_trial_has_is_unknown() -> None:
    point = make_point((failed(1), failed(2)))
    assert all(value is None for value in point.figures.values())
    assert point.value("throughput_rps") is None and not point.ok and point.latency == {}


def test_a_figure_declared_with_its_fold_reaches_every_point_by_its_entry_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = Metric("sent_rps", "requests sent", "req/s", fmt.rps, lambda t: t.record.loadgen.sent_rps, "max")
    monkeypatch.setattr(metrics, "METRICS", (*METRICS, sent))
    cells = {}
    for number, rate in ((1, 101.0), (2, 99.0)):
        data = cell(100.0)
        cells[(SYNC, "json", 1, number)] = {**data, "loadgen": {**data["loadgen"], "sent_rps": rate}}
    point = aggregate(load_run(write_run(tmp_path / "r", cells, [1], trials=2))).point("json", SYNC, 1)
    assert point is not None and point.value("sent_rps") == 101.0


def test_group_keeps_each_cells_trials_in_order() -> None:
    grouped = group(
        [trial(3, 1.0), trial(1, 1.0), record(CellKey(SYNC, "io", 8, 1), cell(5.0)), trial(2, 1.0)]
    )
    assert list(grouped) == [("json", SYNC, 8), ("io", SYNC, 8)]
    assert [t.trial for t in grouped[("json", SYNC, 8)]] == [1, 2, 3]


def test_the_points_and_the_export_rows_agree_on_every_cell(tmp_path: Path) -> None:
    root = write_run(tmp_path / "r", closed_cells(), [1, 8, 64], trials=3)
    results = aggregate(load_run(root))
    rows = trials(RunFolder(root))
    assert len(rows) == sum(len(p.cells) for p in results.points.values())
    for row in rows:
        point = results.point(row.record.workload, row.record.mode, row.record.users)
        assert point is not None and point.throughput is not None
        assert row.cell.median == point.throughput.median
        assert row.cell.trials == point.trials
