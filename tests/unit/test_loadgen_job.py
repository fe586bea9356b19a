"""What a Locust session is told (``LocustJob``) and what it leaves (``schedule.json``, the samples),
wherever it ran; the generator's roles in the samples; a step moved onto another clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.run.load.loadgen import (
    CALIBRATION_REQUESTS,
    LOCUSTFILE,
    MAX_IN_FLIGHT,
    WORKER_ROLE_PREFIX,
    Load,
    LocustJob,
    Step,
    is_loadgen_role,
    read_samples,
    read_schedule,
    requests_json,
)
from servingmatrix.run.measure.latency import RequestSample
from servingmatrix.workloads import resolve_workload

HEADER = "start,ms,ok,name,bytes"


# The generator's roles.


@pytest.mark.parametrize("role", ["loadgen", "loadgen@gen-a/1", "loadgen@sim2/12", WORKER_ROLE_PREFIX])
def test_the_generators_own_roles(role: str) -> None:
    assert is_loadgen_role(role)


@pytest.mark.parametrize(
    "role", ["server", "upstream", "postgres", "loadgen2", "loadgen-master", "xloadgen@a/1", ""]
)
def test_every_other_role_is_not_the_generators(role: str) -> None:
    assert not is_loadgen_role(role)


def test_a_workers_role_is_the_prefix_and_its_label() -> None:
    assert WORKER_ROLE_PREFIX == "loadgen@"


# LocustJob.


def job(loads: tuple[Load, ...] = (Load(8), Load(16)), **kwargs: object) -> LocustJob:
    return LocustJob(
        resolve_workload("json"),
        "http://10.0.0.1:18000",
        loads,
        warmup_s=kwargs.pop("warmup_s", 2.0),  # type: ignore[arg-type]
        duration_s=kwargs.pop("duration_s", 10.0),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_environment_says_the_steps_times_requests_and_loop() -> None:
    env = job(request_timeout_s=7.25).env()
    assert env == {
        "SM_STEPS": "8,16",
        "SM_WARMUP_S": "2",
        "SM_DURATION_S": "10",
        "SM_REQUESTS": requests_json(resolve_workload("json").requests()),
        "SM_REQUEST_TIMEOUT_S": "7.25",
        "SM_OUT": "/out",
        "SM_LOAD": "closed",
        "SM_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
    }
    assert json.loads(env["SM_REQUESTS"])[0]["name"] == "json"
    assert job(warmup_s=0.25).env()["SM_WARMUP_S"] == "0.25"


def test_workers_and_their_folder_are_said_only_when_there_are_workers() -> None:
    assert "SM_WORKERS" not in job().env()
    env = job().env(3, "/data/out")
    assert (env["SM_WORKERS"], env["SM_OUT"]) == ("3", "/data/out")
    assert job().env(1)["SM_WORKERS"] == "1"


def test_an_open_loop_is_said_so() -> None:
    opened = job((Load(50, "open"), Load(100, "open")))
    assert opened.open_loop and not job().open_loop
    assert opened.env()["SM_LOAD"] == "open" and opened.env()["SM_STEPS"] == "50,100"


def test_a_job_without_a_workload_sends_the_calibrations_request() -> None:
    calibration = LocustJob(None, "http://10.0.0.2:18081", (Load(4),), warmup_s=1, duration_s=2)
    assert calibration.env()["SM_REQUESTS"] == requests_json(CALIBRATION_REQUESTS)
    assert json.loads(calibration.env()["SM_REQUESTS"]) == [
        {"name": "calibrate", "path": "/delay?ms=0", "weight": 1}
    ]


def test_the_command_runs_the_steps_headless_against_the_target() -> None:
    assert job().command() == (
        "-f",
        LOCUSTFILE,
        "--headless",
        "--host",
        "http://10.0.0.1:18000",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    )
    assert job(locustfile="/srv/other.py").command()[:2] == ("-f", "/srv/other.py")


# schedule.json.


def write_schedule(folder: Path, steps: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schedule.json").write_text(json.dumps({"steps": steps, "processes": 2}))
    return folder


def test_the_schedule_is_read_step_by_step_in_the_kind_given(tmp_path: Path) -> None:
    folder = write_schedule(
        tmp_path / "m",
        [
            {"users": 8, "start": 100, "measure_from": 101.5, "end": 103.25},
            {"users": "16", "start": "103.5", "measure_from": 104.5, "end": 106.5},
        ],
    )
    assert read_schedule(folder) == [
        Step(Load(8), 100.0, 101.5, 103.25),
        Step(Load(16), 103.5, 104.5, 106.5),
    ]
    assert [s.load for s in read_schedule(folder, "open")] == [Load(8, "open"), Load(16, "open")]


def test_no_schedule_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        read_schedule(tmp_path)
    assert str(raised.value) == f"{tmp_path}: the load generator wrote no schedule.json (it did not start)"


@pytest.mark.parametrize(
    "steps",
    [
        [{"users": 8, "start": 1, "measure_from": 2}],
        [{"users": "eight", "start": 1, "measure_from": 2, "end": 3}],
        [None],
    ],
)
def test_an_unreadable_schedule_is_one_line_naming_it(tmp_path: Path, steps: object) -> None:
    folder = write_schedule(tmp_path, steps)
    with pytest.raises(UserError) as raised:
        read_schedule(folder)
    assert str(raised.value).startswith(f"{folder / 'schedule.json'}: unreadable schedule (")
    assert "\n" not in str(raised.value)


def test_a_schedule_that_is_not_json_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "schedule.json").write_text("{steps")
    with pytest.raises(UserError, match=r"schedule\.json: unreadable schedule \("):
        read_schedule(tmp_path)


# The samples.


def write_samples(folder: Path, name: str, *rows: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join([HEADER, *rows]) + "\n")


def test_every_samples_file_is_read_in_name_order(tmp_path: Path) -> None:
    write_samples(tmp_path, "samples-9.csv", "12.5,3.25,1,json,28")
    write_samples(tmp_path, "samples-10.csv", "10.0,4.0,0,json,", "11.0,2.0,1,io,7")
    (tmp_path / "other.csv").write_text(f"{HEADER}\n1,1,1,x,1\n")
    assert read_samples(tmp_path) == [
        RequestSample(10.0, 4.0, False, "json", 0),
        RequestSample(11.0, 2.0, True, "io", 7),
        RequestSample(12.5, 3.25, True, "json", 28),
    ]


def test_only_a_one_is_an_answered_request(tmp_path: Path) -> None:
    write_samples(tmp_path, "samples-1.csv", "1,1,1,a,1", "1,1,0,a,1", "1,1,true,a,1", "1,1,,a,1")
    assert [s.ok for s in read_samples(tmp_path)] == [True, False, False, False]


def test_no_samples_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        read_samples(tmp_path)
    assert str(raised.value) == f"{tmp_path}: the load generator wrote no samples"


@pytest.mark.parametrize(
    "row",
    # The last: a line cut short, not a failed request without a name.
    ["soon,1,1,a,1", "1,slow,1,a,1", "1,1,1,a,many", "1,1", "12.5,3.25,1,json"],
)
def test_a_malformed_sample_is_one_line_naming_its_file(tmp_path: Path, row: str) -> None:
    write_samples(tmp_path, "samples-1.csv", "1,1,1,a,1")
    write_samples(tmp_path, "samples-2.csv", row)
    with pytest.raises(UserError) as raised:
        read_samples(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'samples-2.csv'}: malformed sample line ")
    assert "\n" not in str(raised.value)


# A step on another clock.


def test_a_step_moved_onto_another_clock_keeps_its_load_and_lengths() -> None:
    step = Step(Load(8, "open"), 100.0, 101.5, 104.0)
    moved = step.shifted(-30.25)
    assert moved == Step(Load(8, "open"), 69.75, 71.25, 73.75)
    assert step.shifted(0.5) == Step(Load(8, "open"), 100.5, 102.0, 104.5)
    assert step.shifted(0.0) == step
