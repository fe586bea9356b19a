"""The load generator's pure parts: settings, the step schedule, the sample files, and a recorded run.

Locust itself is never imported here (it monkey-patches sockets on import); ``smconfig`` holds
everything that can be tested without it.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import sys
from pathlib import Path

import pytest

from locustfiles import smconfig
from locustfiles.smconfig import (
    ArrivalClock,
    ConfigError,
    SampleBuffer,
    Settings,
    Stepper,
    Target,
    budget_per_process,
    parse_requests,
    parse_steps,
    picker,
    plan_windows,
    wait_for_go,
)
from servingmatrix.run.load.loadgen import CALIBRATION_REQUESTS, Load, LocustJob, locust_spec
from servingmatrix.run.stack.stack import Placement
from servingmatrix.workloads import WORKLOADS as REGISTRY
from servingmatrix.workloads import Request, WorkloadConfig, resolve_workload

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILES = ROOT / "locustfiles"
FIXTURES = ROOT / "tests" / "fixtures" / "locust"
JSON_REQUEST = '[{"name": "json", "path": "/json", "weight": 1}]'
BASE_ENV = {"SM_STEPS": "1,16,64", "SM_WARMUP_S": "2", "SM_DURATION_S": "10", "SM_REQUESTS": JSON_REQUEST}


# --- settings -------------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = Settings.from_env(BASE_ENV)
    assert settings.steps == (1, 16, 64)
    assert (settings.warmup_s, settings.duration_s, settings.hold_s) == (2.0, 10.0, 12.0)
    assert (settings.targets, settings.weights) == ((Target("json", "/json"),), (1,))
    assert settings.max_requests == 5_000_000
    assert settings.timeout_s == 30.0
    assert settings.out_dir == Path("/out")


def test_settings_overrides() -> None:
    env = {
        **BASE_ENV,
        "SM_REQUESTS": '[{"name": "io", "path": "/io?ms=100", "weight": 1}]',
        "SM_MAX_REQUESTS": "1000",
        "SM_REQUEST_TIMEOUT_S": "2.5",
        "SM_OUT": "/tmp/run",
        "SM_WARMUP_S": "0",
    }
    settings = Settings.from_env(env)
    assert settings.targets == (Target("io", "/io?ms=100"),)
    assert (settings.max_requests, settings.timeout_s, settings.warmup_s) == (1000, 2.5, 0.0)
    assert settings.out_dir == Path("/tmp/run")


def test_settings_gate_the_first_step_on_a_go_file_only_when_asked() -> None:
    assert Settings.from_env(BASE_ENV).go_file is None
    gated = Settings.from_env({**BASE_ENV, "SM_GO": "/out/go", "SM_GO_TIMEOUT_S": "7"})
    assert (gated.go_file, gated.go_timeout_s) == (Path("/out/go"), 7.0)
    assert Settings.from_env({**BASE_ENV, "SM_GO": "/out/go"}).go_timeout_s == smconfig.DEFAULT_GO_TIMEOUT_S


def test_wait_for_go_returns_as_the_file_appears_and_gives_up_at_its_deadline(tmp_path: Path) -> None:
    go = tmp_path / "go"
    now = [0.0]
    looks: list[float] = []

    def sleep(seconds: float) -> None:
        looks.append(now[0])
        now[0] += seconds
        if now[0] >= 0.05:
            go.touch()

    assert wait_for_go(go, 1.0, sleep, lambda: now[0], poll_s=0.01)
    assert len(looks) == 5, "it looked every poll until the file was there, then at once went on"
    assert wait_for_go(go, 0.0, sleep, lambda: now[0]), "a file already there: no wait, even with no time"
    assert len(looks) == 5
    now[0] = 0.0
    never = tmp_path / "never"
    assert not wait_for_go(never, 0.1, lambda s: now.__setitem__(0, now[0] + s), lambda: now[0], poll_s=0.01)
    assert 0.1 <= now[0] < 0.1 + 0.01 + 1e-9, "it gave up at its deadline, within one poll"


def test_a_gated_locust_container_names_its_go_file_in_its_output_folder(tmp_path: Path) -> None:
    from servingmatrix.run.load.loadgen import GO_FILE

    job = LocustJob(resolve_workload("json"), "http://127.0.0.1:18000", (Load(8),), 1.0, 4.0)
    place = Placement("1", 1.0)
    gated = locust_spec(job, name="x", run_id="r", out_dir=tmp_path, placement=place, gated=True)
    assert gated.env["SM_GO"] == f"/out/{GO_FILE}" and gated.binds[str(tmp_path.resolve())] == "/out"
    plain = locust_spec(job, name="x", run_id="r", out_dir=tmp_path, placement=place)
    assert "SM_GO" not in plain.env


def test_settings_count_the_workers_of_every_host() -> None:
    """Distributed, every worker takes its share of the rate and the cap from SM_WORKERS."""
    assert Settings.from_env(BASE_ENV).workers is None
    assert Settings.from_env({**BASE_ENV, "SM_WORKERS": "3"}).workers == 3
    with pytest.raises(ConfigError, match=r"^SM_WORKERS: 0 must be at least 1$"):
        Settings.from_env({**BASE_ENV, "SM_WORKERS": "0"})


@pytest.mark.parametrize("key", ["SM_STEPS", "SM_WARMUP_S", "SM_DURATION_S"])
def test_settings_require_the_schedule(key: str) -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != key}
    with pytest.raises(ConfigError, match=f"^{key} is not set$"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SM_DURATION_S", "0"),
        ("SM_DURATION_S", "-1"),
        ("SM_DURATION_S", "nan"),
        ("SM_DURATION_S", "1e9"),
        ("SM_WARMUP_S", "-0.5"),
        ("SM_WARMUP_S", "soon"),
        ("SM_REQUEST_TIMEOUT_S", "0"),
        ("SM_MAX_REQUESTS", "0"),
        ("SM_MAX_REQUESTS", "lots"),
    ],
)
def test_settings_refuse_bad_numbers_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}: "):
        Settings.from_env({**BASE_ENV, key: value})


def test_parse_steps() -> None:
    assert parse_steps("1") == (1,)
    assert parse_steps(" 1, 8 ,32") == (1, 8, 32)
    assert parse_steps("64,16") == (64, 16)


@pytest.mark.parametrize("raw", ["", "0", "1,,2", "a", "1.5", "-1", "10001", "1;2"])
def test_parse_steps_refuses(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^SM_STEPS: "):
        parse_steps(raw)


MIX = [
    {"name": "json", "path": "/json", "weight": 60},
    {"name": "io", "path": "/io?ms=50", "weight": 30},
    {"name": "db", "path": "/db?rows=1", "weight": 10},
]


def test_parse_requests() -> None:
    targets, weights = parse_requests(json.dumps(MIX))
    assert targets == (Target("json", "/json"), Target("io", "/io?ms=50"), Target("db", "/db?rows=1"))
    assert weights == (60, 30, 10)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "SM_REQUESTS: expected a non-empty JSON list"),
        ({"name": "json"}, "SM_REQUESTS: expected a non-empty JSON list"),
        ([{"name": "json", "path": "/json"}], r"SM_REQUESTS\[0\]: expected exactly the keys"),
        ([{"name": "json", "path": "/json", "weight": 1, "x": 1}], r"SM_REQUESTS\[0\]: expected exactly"),
        ([{"name": "a b", "path": "/json", "weight": 1}], r"SM_REQUESTS\[0\]\.name: "),
        ([{"name": "", "path": "/json", "weight": 1}], r"SM_REQUESTS\[0\]\.name: "),
        ([{"name": "json", "path": "json", "weight": 1}], r"SM_REQUESTS\[0\]\.path: "),
        ([{"name": "json", "path": "/json", "weight": 0}], r"SM_REQUESTS\[0\]\.weight: "),
        ([{"name": "json", "path": "/json", "weight": 1.5}], r"SM_REQUESTS\[0\]\.weight: "),
        ([{"name": "json", "path": "/json", "weight": True}], r"SM_REQUESTS\[0\]\.weight: "),
        ([*MIX, {"name": "io", "path": "/io", "weight": 1}], r"SM_REQUESTS\[3\]\.name: 'io' appears twice"),
    ],
)
def test_parse_requests_refuses(entries: object, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}"):
        parse_requests(json.dumps(entries))
    with pytest.raises(ConfigError, match=f"^{message}"):
        Settings.from_env({**BASE_ENV, "SM_REQUESTS": json.dumps(entries)})


@pytest.mark.parametrize("env", [{}, {"SM_REQUESTS": " "}])
def test_requests_must_be_given(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"^SM_REQUESTS is not set"):
        parse_requests(env.get("SM_REQUESTS"))
    base = {k: v for k, v in BASE_ENV.items() if k != "SM_REQUESTS"}
    with pytest.raises(ConfigError, match=r"^SM_REQUESTS is not set"):
        Settings.from_env({**base, **env})


# --- picking the next request ---------------------------------------------------------------------


class Draws:
    """A stand-in for random.random that returns the given values in turn."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.values.pop(0)


def test_a_single_request_is_picked_without_a_draw() -> None:
    draws = Draws()
    pick = picker((Target("json", "/json"),), (1,), draws)
    assert [pick() for _ in range(3)] == [Target("json", "/json")] * 3
    assert draws.calls == 0


def test_the_pick_follows_the_cumulative_weights() -> None:
    targets, weights = parse_requests(json.dumps(MIX))  # json 60, io 30, db 10: cumulative 60, 90, 100
    edges = (0.0, 0.599, 0.6, 0.899, 0.9, 0.999999)
    pick = picker(targets, weights, Draws(*edges))
    assert [pick().name for _ in edges] == ["json", "json", "io", "io", "db", "db"]


def test_the_pick_matches_random_choices_draw_for_draw() -> None:
    import random

    targets, weights = parse_requests(json.dumps(MIX))
    ours, theirs = random.Random(7), random.Random(7)
    pick = picker(targets, weights, ours.random)
    expected = [theirs.choices(targets, weights=weights)[0] for _ in range(2000)]
    assert [pick() for _ in range(2000)] == expected


def test_picker_needs_a_weight_per_request() -> None:
    with pytest.raises(ConfigError):
        picker((Target("json", "/json"),), ())
    with pytest.raises(ConfigError):
        picker((), ())


def test_budget_is_shared_between_processes() -> None:
    assert budget_per_process(5_000_000, 1) == 5_000_000
    assert budget_per_process(5_000_000, 2) == 2_500_000
    assert budget_per_process(10, 3) == 4
    assert budget_per_process(1, 4) == 1
    assert budget_per_process(100, 0) == 100


# --- the step schedule ----------------------------------------------------------------------------


def test_plan_windows_back_to_back() -> None:
    windows = plan_windows((1, 4), 1000.0, 1.0, 2.0)
    assert [(w.users, w.start, w.measure_from, w.end) for w in windows] == [
        (1, 1000.0, 1001.0, 1003.0),
        (4, 1003.0, 1004.0, 1006.0),
    ]


EPOCH = 1_700_000_000.0


def _tick(stepper: Stepper, at: float) -> smconfig.Tick | None:
    # The monotonic clock starts at 50 s, the wall clock at EPOCH: the schedule must use the latter.
    return stepper.tick(50.0 + at, EPOCH + at)


def test_stepper_holds_each_step_then_ends() -> None:
    stepper = Stepper((1, 4), warmup_s=1.0, duration_s=2.0)
    first = _tick(stepper, 0.0)
    assert first is not None and (first.users, first.advanced) == (1, True)
    assert stepper.t0 == EPOCH
    held = _tick(stepper, 2.99)
    assert held is not None and (held.users, held.advanced) == (1, False)
    second = _tick(stepper, 3.0)
    assert second is not None and (second.users, second.advanced) == (4, True)
    assert _tick(stepper, 5.9) == smconfig.Tick(4, advanced=False)
    assert _tick(stepper, 6.0) is None
    assert stepper.finished
    assert _tick(stepper, 7.0) is None


def test_stepper_records_late_polls_and_replans() -> None:
    # Locust polls the shape about once a second: the second step begins at the first poll after 3 s.
    stepper = Stepper((1, 4, 16), warmup_s=1.0, duration_s=2.0)
    _tick(stepper, 0.0)
    planned = stepper.schedule(processes=1)
    assert [s["start"] - EPOCH for s in planned["steps"]] == [0.0, 3.0, 6.0]
    assert planned["complete"] is False
    _tick(stepper, 3.4)
    after = stepper.schedule(processes=1)["steps"]
    assert after[0] == planned["steps"][0]
    assert [round(s["start"] - EPOCH, 6) for s in after] == [0.0, 3.4, 6.4]
    assert math.isclose(after[1]["measure_from"], EPOCH + 4.4)
    assert math.isclose(after[1]["end"], EPOCH + 6.4)
    # Holding is measured from when the step really began, not from the plan.
    assert _tick(stepper, 6.3) == smconfig.Tick(4, advanced=False)
    assert _tick(stepper, 6.4) == smconfig.Tick(16, advanced=True)


def test_stepper_schedule_shape() -> None:
    stepper = Stepper((2,), warmup_s=0.5, duration_s=1.0)
    _tick(stepper, 0.0)
    _tick(stepper, 1.6)
    schedule = stepper.schedule(processes=2)
    assert schedule == {
        "t0": EPOCH,
        "steps": [{"users": 2, "start": EPOCH, "measure_from": EPOCH + 0.5, "end": EPOCH + 1.5}],
        "processes": 2,
        "complete": True,
    }
    json.dumps(schedule)


def test_spawn_rate_moves_the_whole_step_at_once() -> None:
    stepper = Stepper((8, 64, 2), warmup_s=0.0, duration_s=1.0)
    _tick(stepper, 0.0)
    assert stepper.spawn_rate() == 8.0
    _tick(stepper, 1.0)
    assert stepper.spawn_rate() == 64.0
    # Going down, users stop at the spawn rate too: 62 of them should stop at once, not one a second.
    _tick(stepper, 2.0)
    assert stepper.spawn_rate() == 64.0


def test_stepper_needs_steps() -> None:
    with pytest.raises(ConfigError):
        Stepper((), 1.0, 1.0)


# --- sample files ---------------------------------------------------------------------------------


def test_sample_buffer_writes_the_csv_atomically(tmp_path: Path) -> None:
    buffer = SampleBuffer()
    buffer.add(1_700_000_000.1234567, 1.23456, True, "json", 27)
    buffer.add(1_700_000_000.5, 30000.0, False, "io", 0)
    buffer.add(1_700_000_001.0, 0.5, True, "json", 27)
    assert len(buffer) == 3
    assert buffer.names == ["json", "io"]
    path = tmp_path / "samples-42.csv"
    assert buffer.write_csv(path, chunk=2) == 3
    assert path.read_text() == (
        "start,ms,ok,name,bytes\n"
        "1700000000.123457,1.235,1,json,27\n"
        "1700000000.500000,30000.000,0,io,0\n"
        "1700000001.000000,0.500,1,json,27\n"
    )
    # Nothing but the finished file is left where the harness looks.
    assert [p.name for p in tmp_path.iterdir()] == ["samples-42.csv"]


def test_empty_sample_buffer_writes_a_header(tmp_path: Path) -> None:
    path = tmp_path / "samples-1.csv"
    assert SampleBuffer().write_csv(path) == 0
    assert path.read_text() == smconfig.CSV_HEADER


def test_write_json_atomic(tmp_path: Path) -> None:
    path = tmp_path / "schedule.json"
    smconfig.write_json_atomic(path, {"t0": 1.5})
    smconfig.write_json_atomic(path, {"t0": 2.5})
    assert json.loads(path.read_text()) == {"t0": 2.5}
    assert [p.name for p in tmp_path.iterdir()] == ["schedule.json"]


# --- the locustfiles themselves -------------------------------------------------------------------


def test_one_locustfile_for_every_workload() -> None:
    # Every workload, and the calibration, run workload.py; smlocust and smconfig are what it imports,
    # openloop what smlocust sends an open loop with.
    assert sorted(p.name for p in LOCUSTFILES.glob("*.py")) == [
        "openloop.py",
        "smconfig.py",
        "smlocust.py",
        "workload.py",
    ]


def test_no_locustfile_shadows_a_standard_module() -> None:
    # Locust imports a locustfile under its file name and puts it in sys.modules: a json.py would
    # replace the standard json module for the whole process.
    clashes = [p.name for p in LOCUSTFILES.glob("*.py") if p.stem in sys.stdlib_module_names]
    assert clashes == []


def test_harness_names_the_locustfile_the_image_holds() -> None:
    from servingmatrix.run.load.loadgen import CALIBRATION_LOCUSTFILE, LOCUSTFILE

    for path in (LOCUSTFILE, CALIBRATION_LOCUSTFILE):
        # The image copies locustfiles/ to /srv/locustfiles/.
        assert Path(path).parent == Path("/srv/locustfiles")
        assert (LOCUSTFILES / Path(path).name).exists()


def test_the_locustfile_sends_what_the_settings_name() -> None:
    # Without importing Locust: the module picks from SETTINGS.targets by SETTINGS.weights, and
    # exports a user and the step shape.
    tree = ast.parse((LOCUSTFILES / "workload.py").read_text())
    source = ast.unparse(tree)
    assert "picker(SETTINGS.targets, SETTINGS.weights)" in source
    exported = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
    )
    assert isinstance(exported, ast.List)
    assert {ast.literal_eval(e) for e in exported.elts} == {"RequestsUser", "StepShape"}


def test_smconfig_does_not_import_locust() -> None:
    assert "locust" not in sys.modules


# --- a recorded run -------------------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "processes"), [("json-steps-1-4", 1), ("json-steps-1-4-processes-2", 2)])
def test_recorded_run_is_consistent(folder: str, processes: int) -> None:
    fixture = FIXTURES / folder
    schedule = json.loads((fixture / "schedule.json").read_text())
    assert schedule["complete"] is True
    assert schedule["processes"] == processes
    steps = schedule["steps"]
    assert [s["users"] for s in steps] == [1, 4]
    assert steps[0]["start"] == schedule["t0"]
    for step in steps:
        assert math.isclose(step["measure_from"] - step["start"], 1.0)
        assert math.isclose(step["end"] - step["measure_from"], 2.0)
    assert steps[1]["start"] >= steps[0]["end"]

    # One file per process that sent requests: the master of --processes writes none.
    files = sorted(fixture.glob("samples-*.csv"))
    assert len(files) == processes
    assert sum(p.stat().st_size for p in fixture.iterdir()) < 150_000
    rows = [row for path in files for row in csv.DictReader(path.open(newline=""))]
    assert rows
    assert {row["name"] for row in rows} == {"json"}
    assert {row["ok"] for row in rows} <= {"0", "1"}
    for step in steps:
        done = [
            r for r in rows if step["measure_from"] <= float(r["start"]) + float(r["ms"]) / 1000 < step["end"]
        ]
        assert done, f"no request completed in the measured window of {step['users']} users"
        assert all(int(r["bytes"]) > 0 for r in done if r["ok"] == "1")


# --- open loop --------------------------------------------------------------------------------------


def test_open_loop_settings_allow_rates_above_the_user_cap() -> None:
    settings = Settings.from_env({**BASE_ENV, "SM_STEPS": "500,20000", "SM_LOAD": "open"})
    assert settings.open_loop and settings.steps == (500, 20000)
    with pytest.raises(ConfigError, match="SM_STEPS"):
        Settings.from_env({**BASE_ENV, "SM_STEPS": "20000"})
    with pytest.raises(ConfigError, match="SM_LOAD: 'half'"):
        Settings.from_env({**BASE_ENV, "SM_LOAD": "half"})


def test_arrival_clock_spaces_arrivals_evenly_and_changes_rate_by_step() -> None:
    clock = ArrivalClock((2, 4), hold_s=1.0, start=100.0)
    times = []
    while (t := clock.take()) is not None:
        times.append(t)
    assert times == [100.0, 100.5, 101.0, 101.25, 101.5, 101.75]


def test_arrival_clock_shares_the_rate_between_senders() -> None:
    clock = ArrivalClock((10,), hold_s=1.0, start=0.0, senders=2)
    times = []
    while (t := clock.take()) is not None:
        times.append(t)
    # Two senders at 10 req/s together: each sends five, 0.2 s apart.
    assert times == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])


def test_fixed_stepper_keeps_the_planned_windows_whatever_the_polls() -> None:
    stepper = Stepper((100, 200), warmup_s=1.0, duration_s=2.0, fixed=True)
    first = stepper.tick(0.0, 1000.0)
    assert first is not None and first.users == 100 and first.advanced
    late = stepper.tick(3.9, 1003.9)  # a late poll: the window still began at 1003.0
    assert late is not None and late.users == 200 and late.advanced
    assert stepper.tick(4.5, 1004.5) == smconfig.Tick(200, advanced=False)
    assert stepper.tick(6.0, 1006.0) is None
    windows = stepper.schedule(1)["steps"]
    assert [(w["start"], w["measure_from"], w["end"]) for w in windows] == [
        (1000.0, 1001.0, 1003.0),
        (1003.0, 1004.0, 1006.0),
    ]


# --- the harness's requests, as the locustfile reads them -----------------------------------------


def _locust_env(workload: WorkloadConfig | None, *, open_loop: bool = False) -> dict[str, str]:
    """The environment the harness gives the Locust container, taken from its spec."""
    spec = locust_spec(
        LocustJob(
            workload=workload,
            target="http://127.0.0.1:18000",
            loads=tuple(Load(n, "open" if open_loop else "closed") for n in (1, 4)),
            warmup_s=1.0,
            duration_s=2.0,
        ),
        name="loadgen",
        run_id="run",
        out_dir=Path("/tmp/out"),
        placement=Placement("1", 1.0),
    )
    return dict(spec.env)


def _registry(requests: tuple[Request, ...]) -> tuple[tuple[Target, ...], tuple[int, ...]]:
    return tuple(Target(r.name, r.path) for r in requests), tuple(r.weight for r in requests)


SPECS = [w.name for w in REGISTRY] + [
    "io[ms=100]",
    "db[ms=5,rows=10]",
    "sqlite[work=1000]",
    "mixed[io_ms=80]",
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("open_loop", [False, True], ids=["closed", "open"])
def test_the_locustfile_sends_the_registry_requests(spec: str, open_loop: bool) -> None:
    workload = resolve_workload(spec)
    settings = Settings.from_env(_locust_env(workload, open_loop=open_loop))
    assert (settings.targets, settings.weights) == _registry(workload.requests())
    assert settings.open_loop is open_loop
    assert settings.steps == (1, 4)


#: What each workload sent when it had a locustfile of its own: the same names, paths and weights.
SENT_BEFORE = {
    "json": [("json", "/json", 1)],
    "cpu": [("cpu", "/cpu?n=8", 1)],
    "io[ms=100]": [("io", "/io?ms=100", 1)],
    "upstream": [("upstream", "/upstream?ms=50", 1)],
    "db[rows=10]": [("db", "/db?ms=0&rows=10", 1)],
    "sqlite[work=1000]": [("sqlite", "/sqlite?rows=1&work=1000", 1)],
    "bytes": [("bytes", "/bytes?kb=64", 1)],
    "mixed[io_ms=80,cpu_n=3]": [
        ("json", "/json", 40),
        ("db", "/db?rows=1", 20),
        ("sqlite", "/sqlite?rows=1", 10),
        ("io", "/io?ms=80", 10),
        ("upstream", "/upstream?ms=50", 10),
        ("cpu", "/cpu?n=3", 5),
        ("bytes", "/bytes?kb=16", 5),
    ],
}


@pytest.mark.parametrize("spec", SENT_BEFORE)
def test_every_workload_sends_what_it_sent_before(spec: str) -> None:
    settings = Settings.from_env(_locust_env(resolve_workload(spec)))
    sent = [(t.name, t.path, w) for t, w in zip(settings.targets, settings.weights, strict=True)]
    assert sent == SENT_BEFORE[spec]


def test_the_calibration_sends_the_upstreams_trivial_request() -> None:
    settings = Settings.from_env(_locust_env(None))
    assert (settings.targets, settings.weights) == ((Target("calibrate", "/delay?ms=0"),), (1,))
    assert (settings.targets, settings.weights) == _registry(CALIBRATION_REQUESTS)


def test_the_harness_sends_no_other_request_settings() -> None:
    env = _locust_env(resolve_workload("io[ms=100]"))
    assert not {"SM_PARAMS", "SM_MIX"} & set(env)
    assert json.loads(env["SM_REQUESTS"]) == [{"name": "io", "path": "/io?ms=100", "weight": 1}]


def test_the_locustfile_takes_the_steps_the_matrix_allows() -> None:
    """The locustfile checks its steps against its own bounds (it cannot import the harness inside the
    Locust image): they are the matrix keys' bounds, so a step the matrix accepts is never refused there."""
    from servingmatrix import matrix_keys

    assert smconfig.MAX_USERS == matrix_keys.MAX_USERS
    assert smconfig.MAX_RATE == matrix_keys.MAX_ARRIVAL_RATE
    assert smconfig.parse_steps(str(matrix_keys.MAX_USERS)) == (matrix_keys.MAX_USERS,)
    with pytest.raises(ValueError):
        smconfig.parse_steps(str(matrix_keys.MAX_USERS + 1))
