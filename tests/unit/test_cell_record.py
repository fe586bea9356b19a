"""The cell record: what a cell file holds, written and read in one place, checked on the way in."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.errors import UserError
from servingmatrix.flags import Flag
from servingmatrix.results.cell import (
    SCHEMA_VERSION,
    CellRecord,
    Endpoint,
    Fields,
    Latency,
    Limits,
    Loadgen,
    Process,
    Reference,
    Server,
    ServerExit,
    Timings,
    Window,
    upgrade,
    upgrade_to_2,
    upgrade_to_3,
    upgrade_to_4,
    upgrade_to_5,
    upgrade_to_6,
)
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
        ({"status": "maybe"}, "status 'maybe' is not one of 'ok', 'failed', 'disturbed'"),
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
    for version in (1, 2, 3, 4, 5):
        assert upgrade(PATH, {"schema": version, "x": 1}) == {"schema": SCHEMA_VERSION, "x": 1}


def test_the_servers_major_faults_are_read_back_and_unknown_before_schema_5() -> None:
    record = CellRecord.from_json(PATH, data(server={"cpu_pct": 50.0, "major_faults": 4321}))
    assert record.server.major_faults == 4321
    assert CellRecord.from_json(PATH, record.as_json()) == record
    older = CellRecord.from_json(PATH, data(schema=4, server={"cpu_pct": 50.0}))
    assert older.server.major_faults is None


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


#: A cell with every figure the record holds, each a value of its own, as a record built by hand.
FULL = CellRecord(
    mode="gunicorn-sync[workers=3]",
    workload="mixed",
    users=16,
    trial=2,
    status="ok",
    reason="a note",
    window=Window(start=100.0, end=120.0, seconds=20.0, warmup_s=5.0),
    requests=2000,
    failures=3,
    error_rate=0.0015,
    throughput_rps=99.85,
    latency_ms=Latency(p50=1.5, p90=2.5, p95=3.5, p99=4.5, p999=5.5, mean=1.75, max=9.5),
    endpoints={
        "json": Endpoint(1000, 1, 49.9, Latency(p50=1.0, p99=4.0)),
        "io": Endpoint(1000, 2, None, Latency(max=7.0)),
    },
    server=Server(
        cpu_pct=87.5,
        throttled_s=0.25,
        throttled_periods=12,
        mem_mb=120.5,
        mem_mb_mean=110.25,
        processes=(Process(7, "gunicorn: master", 20.5), Process(8, "gunicorn: worker", 30.5)),
        exit=ServerExit(oom_killed=True, exit_code=-9, finished_at=118.5, last_log=("a", "b")),
    ),
    loadgen=Loadgen(
        cpu_pct=45.5,
        cpu_quota_pct=100.0,
        processes=2,
        saturated=False,
        generator_bound=True,
        sent_rps=101.5,
        calibrated_max_rps=4000.5,
        generator_efficiency=0.875,
        hosts=2,
    ),
    load="open",
    offered_rps=100.0,
    effective_concurrency=1.25,
    effective_concurrency_basis="mean latency",
    promised_concurrency=3,
    keeps_alive=False,
    cpu_plan_applied={
        "server": Limits(cpuset="0", cpus=1.0, memory_bytes=2**31, pids_limit=512),
        "loadgen": Limits(cpuset="1", cpus=0.5, memory_bytes=-1, pids_limit=-1),
    },
    session_timings=Timings(start_s=2.5, loadgen_s=30.5, teardown_s=1.5),
    reference=Reference(
        generator="wrk",
        connections=16,
        duration_s=5.0,
        requests=600,
        errors=4,
        throughput_rps=119.2,
        latency_ms=Latency(p50=1.25, p99=3.25),
        missing=None,
    ),
    server_host="main",
    warnings=(Flag("generator-bound", "the generator set the pace"), Flag("errors", "3 failed")),
)


def test_a_file_with_every_figure_reads_back_as_the_record_that_wrote_it() -> None:
    written = json.loads(json.dumps(FULL.as_json()))
    assert CellRecord.from_json(PATH, written) == FULL
    failed_reference = replace(FULL, reference=Reference("wrk", 16, missing="wrk got no answer"))
    assert CellRecord.from_json(PATH, json.loads(json.dumps(failed_reference.as_json()))) == failed_reference
    closed = {**written, "load": "closed"}
    assert CellRecord.from_json(PATH, closed).load == "closed"
    assert CellRecord.from_json(PATH, {**written, "load": None}).load is None


def test_a_file_holds_every_figure_by_its_name() -> None:
    written = FULL.as_json()
    assert written["server"]["exit"] == {
        "oom_killed": True,
        "exit_code": -9,
        "finished_at": 118.5,
        "last_log": ["a", "b"],
    }
    assert written["cpu_plan_applied"]["loadgen"] == {
        "cpuset": "1",
        "cpus": 0.5,
        "memory_bytes": -1,
        "pids_limit": -1,
    }
    assert written["warnings"] == [
        {"code": "generator-bound", "message": "the generator set the pace"},
        {"code": "errors", "message": "3 failed"},
    ]
    assert written["session_timings"] == {"start_s": 2.5, "loadgen_s": 30.5, "teardown_s": 1.5}


def test_a_latency_lists_the_figures_it_has() -> None:
    assert Latency(p50=1.0, max=0.0).figures() == {"p50": 1.0, "max": 0.0}
    assert Latency().figures() == {}


def test_a_warning_without_a_text_message_reads_as_an_empty_one() -> None:
    assert CellRecord.from_json(PATH, data(warnings=[{"code": "errors"}])).warnings == (Flag("errors", ""),)
    assert CellRecord.from_json(PATH, data(warnings=[{"code": "errors", "message": 5}])).warnings == (
        Flag("errors", ""),
    )


@pytest.mark.parametrize("missing", ["requests", "failures", "throughput_rps"])
def test_a_successful_cell_must_have_its_figures(missing: str) -> None:
    with pytest.raises(UserError) as raised:
        CellRecord.from_json(PATH, {k: v for k, v in data().items() if k != missing})
    assert str(raised.value) == f"{PATH}: '{missing}' is missing or not a" + (
        " number; the file is corrupt or truncated"
        if missing == "throughput_rps"
        else "n integer; the file is corrupt or truncated"
    )
    failed = {k: v for k, v in data(status="failed").items() if k != missing}
    assert getattr(CellRecord.from_json(PATH, failed), missing) is None


#: One change to a good cell file, and the exact line that refuses it.
EXACT = [
    ({"reason": 5}, "'reason' is missing or not a string"),
    ({"mode": ""}, "'mode' is missing or not a string"),
    (
        {"server": {"exit": {"last_log": "one line"}}},
        "'server.exit.last_log' is missing or not a list of strings",
    ),
    ({"server": {"exit": {"last_log": [1]}}}, "'server.exit.last_log' is missing or not a list of strings"),
    ({"server": {"exit": {"exit_code": 1.5}}}, "'server.exit.exit_code' is missing or not an integer"),
    ({"server": []}, "'server' is missing or not an object"),
    ({"endpoints": {"json": 5}}, "'endpoints.json' is missing or not an object"),
    ({"warnings": {}}, "'warnings' is missing or not a list of objects"),
    ({"warnings": [5]}, "'warnings' is missing or not a list of objects"),
    ({"keeps_alive": 1}, "'keeps_alive' is missing or not true or false"),
    ({"users": True}, "'users' is missing or not an integer"),
    ({"offered_rps": True}, "'offered_rps' is missing or not a number"),
    ({"offered_rps": float("inf")}, "'offered_rps' is missing or not a finite non-negative number"),
    ({"cpu_plan_applied": {"server": {"memory_bytes": "2g"}}}, "'cpu_plan_applied.server.memory_bytes'"),
    ({"server": {"major_faults": -1}}, "'server.major_faults' is missing or not a non-negative integer"),
    ({"server": {"major_faults": 2.5}}, "'server.major_faults' is missing or not an integer"),
    ({"server_host": ""}, "'server_host' is missing or not a string"),
    ({"server_host": ["main"]}, "'server_host' is missing or not a string"),
    ({"loadgen": {"hosts": 0}}, "'loadgen.hosts' is missing or not an integer of at least 1"),
    ({"loadgen": {"hosts": -2}}, "'loadgen.hosts' is missing or not a non-negative integer"),
    ({"loadgen": {"hosts": 1.5}}, "'loadgen.hosts' is missing or not an integer"),
    ({"loadgen": {"hosts": True}}, "'loadgen.hosts' is missing or not an integer"),
    (
        {"loadgen": {"processes": 2, "hosts": 3}},
        "'loadgen.hosts' 3 is more than 'loadgen.processes' 2: every host that sent load ran at least one "
        "worker; the file is corrupt",
    ),
]


@pytest.mark.parametrize(("changes", "says"), EXACT, ids=[s.split("'")[1] for _, s in EXACT])
def test_a_bad_figure_is_refused_in_exactly_one_line(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(UserError) as raised:
        CellRecord.from_json(PATH, data(**changes))
    message = str(raised.value)
    assert message.startswith(f"{PATH}: {says}")
    if "is missing" in says:
        assert message == f"{PATH}: {says}; the file is corrupt or truncated"


def test_each_upgrade_restamps_its_own_version() -> None:
    assert upgrade_to_2({"schema": 1, "x": 1}) == {"schema": 2, "x": 1}
    assert upgrade_to_3({"schema": 2, "x": 1}) == {"schema": 3, "x": 1}
    assert upgrade_to_4({"schema": 3, "x": 1}) == {"schema": 4, "x": 1}
    assert upgrade_to_5({"schema": 4, "x": 1}) == {"schema": 5, "x": 1}
    assert upgrade_to_6({"schema": 5, "x": 1}) == {"schema": 6, "x": 1}
    assert upgrade(PATH, {"schema": 6, "x": 1}) == {"schema": SCHEMA_VERSION, "x": 1}


def test_an_open_loop_cell_before_schema_7_had_uniform_arrivals() -> None:
    older = CellRecord.from_json(PATH, data(schema=6, load="open", offered_rps=40.0))
    assert (older.arrivals, older.arrival_seed) == ("uniform", None)
    closed = CellRecord.from_json(PATH, data(schema=6, load="closed"))
    assert closed.arrivals is None


def test_a_cell_s_arrivals_and_seed_are_read_back_and_bad_ones_refused() -> None:
    record = CellRecord.from_json(PATH, data(load="open", arrivals="poisson", arrival_seed=123))
    assert (record.arrivals, record.arrival_seed) == ("poisson", 123)
    assert CellRecord.from_json(PATH, record.as_json()) == record
    with pytest.raises(UserError) as raised:
        CellRecord.from_json(PATH, data(load="open", arrivals="bursty"))
    assert str(raised.value) == f"{PATH}: arrivals 'bursty' is not one of uniform, poisson"


def test_lists_of_counts_and_figures_take_zero_and_refuse_the_rest() -> None:
    fields = Fields(PATH, {"counts": [0, 3], "figures": [0, 0.5, 2], "none": None}, "outer.")
    assert fields.integers("counts") == (0, 3)
    assert fields.numbers("figures") == (0, 0.5, 2)
    assert fields.integers("none") is None and fields.numbers("absent") is None
    with pytest.raises(UserError) as raised:
        fields.integers("none", required=True)
    assert str(raised.value) == (
        f"{PATH}: 'outer.none' is missing or not a list of non-negative integers; "
        "the file is corrupt or truncated"
    )
    not_counts: tuple[object, ...] = ([-1], [True], [1.0], "1", {})
    for bad in not_counts:
        with pytest.raises(UserError, match=r"'outer\.x' is missing or not a list of non-negative integers"):
            Fields(PATH, {"x": bad}, "outer.").integers("x")
    not_figures: tuple[object, ...] = ([-0.5], [False], [float("inf")], [float("nan")], ["1"], 1.0)
    for wrong in not_figures:
        with pytest.raises(UserError) as raised:
            Fields(PATH, {"x": wrong}).numbers("x")
        assert str(raised.value) == (
            f"{PATH}: 'x' is missing or not a list of finite non-negative numbers; "
            "the file is corrupt or truncated"
        )


def test_where_the_load_came_from_and_which_host_served_are_written_and_read_back() -> None:
    written = FULL.as_json()
    assert written["loadgen"]["hosts"] == 2 and written["loadgen"]["processes"] == 2
    assert written["server_host"] == "main"
    assert list(written)[-2:] == ["server_host", "warnings"]
    again = CellRecord.from_json(PATH, json.loads(json.dumps(written)))
    assert again.loadgen.hosts == 2 and again.server_host == "main"


def test_a_cell_of_one_machine_says_one_host_and_no_server_host() -> None:
    record = CellRecord.from_json(PATH, data())
    assert record.loadgen.hosts == 1 and record.server_host is None
    written = record.as_json()
    assert written["loadgen"]["hosts"] == 1 and "server_host" not in written
    assert CellRecord.from_json(PATH, data(server_host=None)).server_host is None


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_cell_before_schema_4_was_loaded_from_one_host(version: int) -> None:
    old = {k: v for k, v in data(schema=version).items() if k != "server_host"}
    assert "hosts" not in old["loadgen"]
    record = CellRecord.from_json(PATH, old)
    assert record.loadgen.hosts == 1 and record.server_host is None


@pytest.mark.parametrize(
    ("run", "cells"), [("good", 36), ("partial", 36), ("other-machine", 36), ("recorded", 2)]
)
def test_every_fixture_cell_is_of_one_host(run: str, cells: int) -> None:
    records = RunFolder(FIXTURES / run).read_cells()
    assert len(records) == cells
    for record in records:
        assert record.loadgen.hosts == 1 and record.server_host is None


def test_a_failed_cell_keeps_the_host_whose_server_failed() -> None:
    record = CellRecord("m", "w", 1, 1, "failed", "not ready", server_host="gen-a")
    written = record.as_json()
    assert written == {
        "schema": SCHEMA_VERSION,
        "mode": "m",
        "workload": "w",
        "users": 1,
        "trial": 1,
        "status": "failed",
        "reason": "not ready",
        "server_host": "gen-a",
        "warnings": [],
    }
    assert CellRecord.from_json(PATH, written) == record


def test_as_many_hosts_as_workers_is_allowed() -> None:
    record = CellRecord.from_json(PATH, data(loadgen={"processes": 3, "hosts": 3}))
    assert record.loadgen.hosts == 3
    # Without a count of processes (a cell before it was recorded), the hosts alone are kept.
    assert CellRecord.from_json(PATH, data(loadgen={"hosts": 4})).loadgen.hosts == 4
