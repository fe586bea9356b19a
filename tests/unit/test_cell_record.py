"""The cell record: what a cell file holds, written and read in one place, checked on the way in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.errors import UserError
from servingmatrix.results.cell import SCHEMA_VERSION, CellRecord, upgrade
from servingmatrix.results.folder import RunFolder, read_json
from tests.unit.synthetic_runs import cell

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
PATH = Path("cells/x.json")


def data(**changes: Any) -> dict[str, Any]:
    """A schema-2 cell as the runner writes it, with ``changes`` on top."""
    base = {
        "schema": SCHEMA_VERSION,
        "mode": "waitress[threads=4]",
        "workload": "json",
        "users": 8,
        "trial": 1,
    }
    return {**base, **cell(100.0, offered=None, generator_bound=True), **changes}


@pytest.mark.parametrize("run", ["good", "partial", "other-machine", "recorded"])
def test_every_fixture_cell_reads_and_writes_back_to_the_same_record(run: str, tmp_path: Path) -> None:
    records = RunFolder(FIXTURES / run).read_cells()
    assert records
    for record in records:
        again = CellRecord.from_json(PATH, record.as_json())
        assert again == record
        assert record.as_json()["schema"] == SCHEMA_VERSION


def test_a_schema_1_cell_is_upgraded_and_its_generator_bound_falls_back_to_saturated() -> None:
    (path, *_) = sorted((FIXTURES / "recorded" / "cells").glob("*.json"))
    raw = json.loads(path.read_text())
    assert raw["schema"] == 1 and "generator_bound" not in raw["loadgen"]
    record = RunFolder(FIXTURES / "recorded").read_cell(path)
    assert record.loadgen.generator_bound is None and record.loadgen.bound is False
    assert record.offered_rps is None and record.load is None
    assert (
        record.throughput_rps == raw["throughput_rps"] and record.latency_ms.p99 == raw["latency_ms"]["p99"]
    )
    assert [p.rss_mb for p in record.server.processes] == [p["rss_mb"] for p in raw["server"]["processes"]]


def test_what_the_record_writes_is_what_the_file_held() -> None:
    original = data(window={"start": 1.0, "end": 3.0, "seconds": 2.0, "warmup_s": 1.0}, load="closed")
    written = CellRecord.from_json(PATH, original).as_json()
    for key, value in original.items():
        if key not in ("latency_ms", "server", "loadgen"):
            assert written[key] == value, key
    assert written["latency_ms"]["p99"] == original["latency_ms"]["p99"]
    assert written["loadgen"]["generator_bound"] is True
    assert list(written)[:7] == ["schema", "mode", "workload", "users", "trial", "status", "reason"]
    assert list(written)[-1] == "warnings"


def test_a_cell_that_measured_nothing_holds_only_why() -> None:
    record = CellRecord("m", "w", 1, 1, "failed", "not ready")
    assert record.as_json() == {
        "schema": SCHEMA_VERSION,
        "mode": "m",
        "workload": "w",
        "users": 1,
        "trial": 1,
        "status": "failed",
        "reason": "not ready",
        "warnings": [],
    }
    assert CellRecord.from_json(PATH, record.as_json()) == record


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"status": "maybe"}, "status 'maybe' is neither 'ok' nor 'failed'"),
        ({"load": "half"}, "load 'half' is neither 'closed' nor 'open'"),
        ({"throughput_rps": -1.0}, "'throughput_rps' is missing or not a finite non-negative number"),
        ({"throughput_rps": float("nan")}, "'throughput_rps' is missing or not a finite non-negative number"),
        ({"requests": 1.5}, "'requests' is missing or not an integer"),
        ({"trial": -1}, "'trial' is missing or not a non-negative integer"),
        (
            {"server": {"processes": [{"rss_mb": "big"}]}},
            "'server.processes[].rss_mb' is missing or not a number",
        ),
        ({"server": {"processes": {}}}, "'server.processes' is missing or not a list of objects"),
        (
            {"loadgen": {"generator_bound": "yes"}},
            "'loadgen.generator_bound' is missing or not true or false",
        ),
        ({"latency_ms": {"p50": 1.0}}, "'latency_ms.p95' is missing or not a number"),
        ({"warnings": [{"message": "no code"}]}, "'warnings[].code' is missing or not a string"),
        ({"window": {"start": 1.0}}, "'window.end' is missing or not a number"),
        ({"schema": 0}, "schema 0 is not one servingmatrix ever wrote"),
        ({"schema": SCHEMA_VERSION + 1}, f"schema {SCHEMA_VERSION + 1} is newer"),
        ({"schema": "2"}, "no schema version"),
    ],
)
def test_a_bad_cell_is_one_line_naming_the_file_and_the_key(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(UserError) as raised:
        CellRecord.from_json(PATH, data(**changes))
    message = str(raised.value)
    assert message.startswith(f"{PATH}: ") and says in message and "\n" not in message


def test_a_failed_cell_needs_no_figures_but_a_successful_one_does() -> None:
    failed = {"schema": 1, "mode": "m", "workload": "w", "users": 1, "trial": 1, "status": "failed"}
    assert CellRecord.from_json(PATH, failed).reason is None
    with pytest.raises(UserError, match="'requests' is missing"):
        CellRecord.from_json(PATH, {**failed, "status": "ok"})


def test_the_folder_reads_and_writes_records(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    record = CellRecord.from_json(PATH, data())
    folder.write_cell(record)
    assert folder.read_cells() == [record]
    assert read_json(folder.cell_path(record.key))["schema"] == SCHEMA_VERSION


def test_upgrading_restamps_an_old_file() -> None:
    assert upgrade(PATH, {"schema": 1, "x": 1}) == {"schema": 3, "x": 1}
    assert upgrade(PATH, {"schema": 2, "x": 1}) == {"schema": 3, "x": 1}


def test_a_reference_is_read_back_as_written(tmp_path: Path) -> None:
    reference = {
        "generator": "wrk",
        "connections": 32,
        "duration_s": 5.0,
        "requests": 30000,
        "errors": 0,
        "throughput_rps": 6000.0,
        "latency_ms": {"p50": 5.0, "p99": 9.0},
        "missing": None,
    }
    record = CellRecord.from_json(PATH, {**data(), "reference": reference})
    assert record.reference is not None and record.reference.throughput_rps == 6000.0
    assert CellRecord.from_json(PATH, record.as_json()) == record
    assert CellRecord.from_json(PATH, data()).reference is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("throughput_rps", -1.0), ("connections", "32"), ("generator", 3), ("requests", 1.5)],
)
def test_a_bad_reference_is_named(key: str, value: object) -> None:
    reference = {"generator": "wrk", "connections": 32, key: value}
    with pytest.raises(UserError, match=f"'reference.{key}'"):
        CellRecord.from_json(PATH, {**data(), "reference": reference})
