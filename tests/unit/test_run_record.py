"""run.json as a ``RunRecord``: written and read back as the same record, every earlier schema upgraded,
and a bad value refused in one line naming the file and the key."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.errors import UserError
from servingmatrix.matrix_keys import REFERENCE_GENERATORS, REFERENCE_TRIALS
from servingmatrix.results.cell import SCHEMA_VERSION
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run_record import LIMITED_BY, RunRecord

from .synthetic_runs import GOOD_RUN

PATH = Path("/runs/r/run.json")

#: A fleet's run as the runner records it when it ends: every section a record can hold.
FLEET = RunRecord(
    matrix={"name": "fleet", "users": [1, 8], "modes": ["waitress"], "workloads": ["json"], "trials": 2},
    cpu_plan={"host_cores": 2, "server": {"cpuset": "0", "cpus": 1.0}, "warnings": []},
    ports={"server": 18000, "upstream": 18001, "postgres": 18002},
    started_at="2026-11-21T19:48:40+00:00",
    load_average_at_start=(0.5, 0.25, 0.1),
    metadata={
        "cpu_count": 2,
        "hosts": {"simulated": False, "hosts": [{"name": "main", "roles": ["server"]}]},
    },
    reproduces={"bundle": "b.tar.gz", "run_id": "published", "commit": None, "inputs": "git"},
    cpu_plan_hosts={"simulated": False, "hosts": [{"host": "main", "roles": ["server"]}], "warnings": []},
    distributed={"master": {"host": "gen", "port": 5557}, "hosts": [{"name": "gen", "workers": 2}]},
    calibration_hosts={"main": {"max_rps": 1200.0, "limited_by": "generator"}, "srv-b": {"error": "boom"}},
    calibration={"max_rps": 1200.0, "limited_by": "generator"},
    finished_at="2026-11-21T19:58:12+00:00",
    load_average_at_end=(1.0, 0.5, 0.25),
    timings={"sessions": 2, "wall_s": 60.0, "overhead_share": 0.25},
)


def test_a_record_reads_back_as_the_record_written(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    folder.write_run(FLEET)
    assert folder.read_run() == FLEET
    assert json.loads(folder.run_file.read_text()) == FLEET.as_json()


def test_a_run_json_reads_back_as_the_file_it_was() -> None:
    assert RunRecord.from_json(PATH, GOOD_RUN).as_json() == GOOD_RUN


def test_the_file_keeps_the_order_a_run_adds_its_keys() -> None:
    assert list(FLEET.as_json()) == [
        "schema",
        "matrix",
        "cpu_plan",
        "ports",
        "started_at",
        "load_average_at_start",
        "metadata",
        "reproduces",
        "cpu_plan_hosts",
        "distributed",
        "calibration_hosts",
        "calibration",
        "finished_at",
        "load_average_at_end",
        "timings",
    ]


def test_an_open_run_holds_only_what_it_has() -> None:
    opened = RunRecord(matrix={"users": [1]}, started_at="now", load_average_at_start=None)
    assert opened.as_json() == {
        "schema": SCHEMA_VERSION,
        "matrix": {"users": [1]},
        "cpu_plan": {},
        "ports": {},
        "started_at": "now",
        "load_average_at_start": None,
        "metadata": {},
    }


def test_a_key_this_version_does_not_know_is_kept_as_written() -> None:
    record = RunRecord.from_json(PATH, {**GOOD_RUN, "noted_by_hand": {"why": "a test"}})
    assert record.others == {"noted_by_hand": {"why": "a test"}}
    assert record.as_json()["noted_by_hand"] == {"why": "a test"}


def test_calibrations_replace_only_what_is_given() -> None:
    lanes = {"main": {"max_rps": 10.0}}
    assert FLEET.with_calibrations(None).calibration == FLEET.calibration
    calibrated = FLEET.with_calibrations({"max_rps": 9.0}, lanes)
    assert (calibrated.calibration, calibrated.calibration_hosts) == ({"max_rps": 9.0}, lanes)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_earlier_schema_is_upgraded(version: int) -> None:
    older = {key: value for key, value in FLEET.as_json().items() if key != "schema"}
    assert RunRecord.from_json(PATH, {"schema": version, **older}) == FLEET


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        (None, "no schema version; not a servingmatrix result file"),
        (0, "schema 0 is not one servingmatrix ever wrote"),
        (SCHEMA_VERSION + 1, f"schema {SCHEMA_VERSION + 1} is newer than this servingmatrix"),
    ],
)
def test_a_schema_it_cannot_upgrade_is_refused(schema: int | None, says: str) -> None:
    with pytest.raises(UserError) as raised:
        RunRecord.from_json(PATH, {**GOOD_RUN, "schema": schema})
    assert str(raised.value).startswith(f"{PATH}: {says}")


def _with(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``data`` with the value at a dotted ``path`` replaced (a number part indexes a list)."""
    copy: dict[str, Any] = json.loads(json.dumps(data))
    *parents, last = path.split(".")
    node: Any = copy
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[last] = value
    return copy


NAN, INF = math.nan, math.inf
BAD: list[tuple[str, Any, str]] = [
    ("matrix.users", [1, -8], "'matrix.users' is missing or not a list of non-negative integers"),
    ("matrix.duration_s", -1, "'matrix.duration_s' is missing or not a finite non-negative number"),
    ("matrix.warmup_s", NAN, "'matrix.warmup_s' is missing or not a finite non-negative number"),
    ("matrix.trials", 1.5, "'matrix.trials' is missing or not an integer"),
    (
        "matrix.reference",
        "ab",
        f"'matrix.reference' 'ab' is none of {', '.join(map(repr, REFERENCE_GENERATORS))}",
    ),
    (
        "matrix.reference_trials",
        "last",
        f"'matrix.reference_trials' 'last' is none of {', '.join(map(repr, REFERENCE_TRIALS))}",
    ),
    ("ports.server", -1, "'ports.server' is missing or not a non-negative integer"),
    ("ports.server", "18000", "'ports.server' is missing or not an integer"),
    ("started_at", 5, "'started_at' is missing or not a string"),
    ("load_average_at_start", [0.5, -1], "'load_average_at_start' is missing or not a list of finite"),
    ("load_average_at_end", [INF], "'load_average_at_end' is missing or not a list of finite"),
    ("metadata.cpu_count", -2, "'metadata.cpu_count' is missing or not a non-negative integer"),
    ("metadata.git_dirty", "no", "'metadata.git_dirty' is missing or not true or false"),
    ("calibration.max_rps", -5.0, "'calibration.max_rps' is missing or not a finite non-negative number"),
    ("calibration.p99_ms", INF, "'calibration.p99_ms' is missing or not a finite non-negative number"),
    (
        "calibration.limited_by",
        "nobody",
        f"'calibration.limited_by' 'nobody' is none of {', '.join(map(repr, LIMITED_BY))}",
    ),
    ("calibration_hosts.main", None, "'calibration_hosts.main' is missing or not an object"),
    (
        "calibration_hosts.main.limited_by",
        "nobody",
        "'calibration_hosts.main.limited_by' 'nobody' is none of",
    ),
    ("timings.wall_s", -60.0, "'timings.wall_s' is missing or not a finite non-negative number"),
    (
        "distributed.hosts.0.workers",
        -2,
        "'distributed.hosts[].workers' is missing or not a non-negative integer",
    ),
    ("cpu_plan.server.cpus", -1.0, "'cpu_plan.server.cpus' is missing or not a finite non-negative number"),
]


@pytest.mark.parametrize(("path", "value", "says"), BAD, ids=[f"{p}={v!r}" for p, v, _ in BAD])
def test_a_bad_value_is_refused_in_one_line_naming_the_file_and_key(path: str, value: Any, says: str) -> None:
    with pytest.raises(UserError) as raised:
        RunRecord.from_json(PATH, _with(FLEET.as_json(), path, value))
    message = str(raised.value)
    assert message.startswith(f"{PATH}: {says}"), message
    assert "\n" not in message


def test_a_clock_may_be_either_side_but_its_uncertainty_is_not_negative() -> None:
    clock = {"offset_ms": -3.0, "uncertainty_ms": 0.5, "applied_ms": -3.0}
    hosts = [{"name": "gen", "workers": 2, "clock": clock}]
    record = RunRecord.from_json(PATH, _with(FLEET.as_json(), "distributed.hosts", hosts))
    assert record.distributed is not None and record.distributed["hosts"][0]["clock"] == clock
    with pytest.raises(UserError, match=re.escape("'distributed.hosts[].clock.uncertainty_ms'")):
        RunRecord.from_json(
            PATH,
            _with(FLEET.as_json(), "distributed.hosts", [{"name": "gen", "clock": {"uncertainty_ms": -1}}]),
        )


def test_every_reason_a_calibration_gives_is_known() -> None:
    assert set(LIMITED_BY) >= {"generator", "server", "neither"}, "the reasons calibration.py gives"
    for reason in LIMITED_BY:
        record = RunRecord.from_json(PATH, _with(FLEET.as_json(), "calibration.limited_by", reason))
        assert record.calibration is not None and record.calibration["limited_by"] == reason
