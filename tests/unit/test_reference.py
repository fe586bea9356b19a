"""The reference generator's parts: its Lua script against the registry, its container's arguments,
its JSON, the efficiency rule, its drive through a fake Docker, its image and its version."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from locustfiles.smconfig import parse_requests
from servingmatrix.building.dockerfiles import render_wrk_dockerfile
from servingmatrix.building.generate import rendered_files
from servingmatrix.building.images import SUPPORT_IMAGES, select_images
from servingmatrix.engine.docker import ContainerSpec, DockerError
from servingmatrix.errors import UserError
from servingmatrix.flags import kind
from servingmatrix.matrix import Matrix, Overrides, apply_overrides
from servingmatrix.paths import images_dir
from servingmatrix.run.load.loadgen import Load, LocustJob, locust_spec, requests_json
from servingmatrix.run.load.reference import (
    ANSWERS_MARGIN,
    MAX_REFERENCE_WARMUP_S,
    MAX_REFERENCE_WINDOW_S,
    MIN_ANSWERS,
    REFERENCE_WARMUP_S,
    WARMUP_LATENCIES,
    WINDOW_LATENCIES,
    WINDOW_TAIL_S,
    WRK_IMAGE,
    ReferenceResult,
    ReferenceWindow,
    parse_reference,
    read_reference,
    reference_spec,
    reference_window,
    run_reference,
    whole_seconds,
)
from servingmatrix.run.load.wrk_lua import (
    OUTPUT_ENV,
    RESULT_NAME,
    SCRIPT_NAME,
    WINDOW_ENV,
    WINDOW_OPEN_ENV,
    render_lua,
    requests_of,
)
from servingmatrix.run.measure.efficiency import (
    GENERATOR_EFFICIENCY_FLOOR,
    disagreement_reason,
    efficiency_reason,
    generator_efficiency,
    is_generator_bound,
)
from servingmatrix.run.measure.metadata import collect_metadata
from servingmatrix.run.stack.stack import Placement, StackPorts, container_labels
from servingmatrix.workloads import MIX, WORKLOADS, WorkloadConfig, resolve_workload

from .fakes import FakeDocker, bound_at, fake_stack

CONFIGS = [w.resolve({}) for w in WORKLOADS] + [
    resolve_workload(text)
    for text in ("io[ms=200]", "db[ms=5,rows=10]", "sqlite[work=1000]", "mixed[io_ms=80,cpu_n=20]")
]
PLACEMENT = Placement(cpuset="1", cpus=1.0)
#: What done() writes for a run of the mixed script (4 connections, a 1 s warm-up and a 2 s window in a
#: 4 s run): wrk's own summary of the whole run, and the window's answers counted by the script.
GOOD = {
    "requests": 360,
    "duration_us": 4009976,
    "bytes": 45632,
    "errors": {"connect": 0, "read": 0, "write": 0, "status": 12, "timeout": 0},
    "latency_us": {"p50": 43947, "p90": 47920, "p99": 48064, "p999": 48088, "mean": 43888.57, "max": 48088},
    "window": {"opens_s": 1.0, "seconds": 2.0, "answers": 180, "failed": 6},
}
_ENTRY = re.compile(r'\{name = "([^"]+)", path = "([^"]+)", weight = (\d+)\},')


def lua_entries(lua: str) -> list[tuple[str, str, int]]:
    """The ENTRIES table of a rendered script, read back from its text."""
    table = re.search(r"^ENTRIES = \{\n(.*?)\n\}$", lua, re.S | re.M)
    assert table is not None, "the script has no ENTRIES table"
    lines = table.group(1).splitlines()
    parsed = [_ENTRY.fullmatch(line.strip()) for line in lines]
    assert all(parsed), lines
    return [(m.group(1), m.group(2), int(m.group(3))) for m in parsed if m]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.spec)
def test_lua_entries_are_the_registrys_requests(config: WorkloadConfig) -> None:
    assert lua_entries(render_lua(config)) == requests_of(config)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.spec)
def test_paths_are_the_ones_locust_asks_for(config: WorkloadConfig) -> None:
    # As locust_spec passes SM_REQUESTS and the locustfile reads it.
    targets, weights = parse_requests(requests_json(config.requests()))
    expected = [(t.name, t.path, w) for t, w in zip(targets, weights, strict=True)]
    assert requests_of(config) == expected


def test_mixed_weights_are_the_registrys() -> None:
    lua = render_lua(resolve_workload("mixed[io_ms=80]"))
    assert [(n, w) for n, _, w in lua_entries(lua)] == [(e.name, e.weight) for e in MIX]
    assert ("io", "/io?ms=80", 10) in lua_entries(lua)
    assert "function request()" in lua and "function done(" in lua


def test_script_writes_only_where_it_is_told() -> None:
    lua = render_lua(resolve_workload("json"))
    assert f'os.getenv("{OUTPUT_ENV}")' in lua
    assert "if not OUTPUT then return end" in lua
    for key in ("p50", "p90", "p99", "p999", "mean", "max", "duration_us", "timeout", '"window"', "answers"):
        assert key in lua


@pytest.mark.parametrize("workload", ["json", "mixed"])
def test_the_script_counts_answers_inside_its_window_in_every_thread(workload: str) -> None:
    lua = render_lua(resolve_workload(workload))
    assert f'os.getenv("{WINDOW_OPEN_ENV}")' in lua and f'os.getenv("{WINDOW_ENV}")' in lua
    assert "function response(status, headers, body)" in lua
    assert "if t >= window_opens and t < window_closes then" in lua
    # Every thread's counts are added up in done(), from the threads kept by setup().
    assert "table.insert(threads, thread)" in lua and 'thread:get("answers")' in lua
    assert "clock_gettime(CLOCK_MONOTONIC" in lua


def spec_for(**kwargs: Any) -> ContainerSpec:
    values: dict[str, Any] = {
        "name": "servingmatrix-r1-reference",
        "run_id": "r1",
        "target": "http://127.0.0.1:18000",
        "connections": 32,
        "window": ReferenceWindow(1.0, 5.0),
        "out_dir": Path("/tmp/cell"),
        "placement": PLACEMENT,
    }
    values.update(kwargs)
    return reference_spec(**values)


def contains(args: list[str], part: list[str]) -> bool:
    return any(args[i : i + len(part)] == part for i in range(len(args) - len(part) + 1))


def test_spec_is_placed_limited_labelled_and_hardened_as_locust_is() -> None:
    spec = spec_for()
    locust = locust_spec(
        LocustJob(
            workload=resolve_workload("json"),
            target="http://127.0.0.1:18000",
            loads=(Load(32),),
            warmup_s=1,
            duration_s=5,
        ),
        name="x",
        run_id="r1",
        out_dir=Path("/tmp/cell"),
        placement=PLACEMENT,
    )
    for container in (spec, locust):
        assert (container.cpuset, container.cpus, container.memory, container.pids_limit) == (
            "1",
            1.0,
            "1g",
            4096,
        )
        assert container.network == "host"
        assert container.read_only and container.cap_drop_all and container.no_new_privileges
    assert dict(spec.labels) == container_labels("r1", "reference")
    assert spec.labels["io.servingmatrix.role"] == "reference"
    assert dict(spec.binds) == {"/tmp/cell": "/out"}


def test_args_run_wrk_once_through_the_warm_up_and_the_window() -> None:
    spec = spec_for(connections=32, window=ReferenceWindow(1.5, 4.2))
    assert spec.image == WRK_IMAGE and spec.entrypoint is None  # the image's own: wrk
    assert list(spec.command) == [
        "--threads",
        "1",
        "--connections",
        "32",
        "--duration",
        "7s",  # 1.5 + 4.2 + the tail, in whole seconds
        "--timeout",
        "30s",
        "--latency",
        "--script",
        f"/out/{SCRIPT_NAME}",
        "http://127.0.0.1:18000/",
    ]
    assert dict(spec.env) == {
        OUTPUT_ENV: f"/out/{RESULT_NAME}",
        WINDOW_OPEN_ENV: "1.5",
        WINDOW_ENV: "4.2",
    }


def test_wrk_runs_past_the_end_of_the_window() -> None:
    for warmup, window in ((1.0, 5.0), (1.0, 4.5), (2.3, 3.3), (30.0, 60.0)):
        run = ReferenceWindow(warmup, window).run_s
        assert run >= warmup + window + WINDOW_TAIL_S and run < warmup + window + WINDOW_TAIL_S + 1


def test_the_window_grows_with_the_steps_latency_up_to_its_bounds() -> None:
    assert reference_window(5.0, None) == ReferenceWindow(REFERENCE_WARMUP_S, 5.0)
    assert reference_window(5.0, 0.1) == ReferenceWindow(REFERENCE_WARMUP_S, 5.0)
    # Answers of 2.7 s (a queue of 64 users on 3 workers): a warm-up and a window of several of them.
    grown = reference_window(5.0, 2.7, connections=64)
    assert grown.warmup_s == pytest.approx(WARMUP_LATENCIES * 2.7)
    assert grown.window_s == pytest.approx(WINDOW_LATENCIES * 2.7)
    assert reference_window(5.0, 1000.0) == ReferenceWindow(MAX_REFERENCE_WARMUP_S, MAX_REFERENCE_WINDOW_S)
    # One connection whose answers take 0.2 s (a fork per request): long enough for enough answers.
    slow = reference_window(3.0, 0.2, connections=1)
    assert slow.window_s == pytest.approx(ANSWERS_MARGIN * MIN_ANSWERS * 0.2)
    assert slow.window_s / 0.2 >= MIN_ANSWERS
    assert reference_window(3.0, 0.2, connections=64).window_s == 3.0
    assert reference_window(5.0, math.nan) == ReferenceWindow(REFERENCE_WARMUP_S, 5.0)


def test_the_warm_up_outlasts_the_queue_the_load_before_left() -> None:
    # After Locust's 64 users on one worker (answers of 6.4 s), wrk's 8 connections wait behind the
    # requests Locust abandoned: the warm-up lasts that queue, the window stays its own.
    after_queue = reference_window(3.0, 0.8, connections=8, queue_s=6.4)
    assert after_queue.warmup_s == pytest.approx(6.4)
    assert after_queue.window_s == reference_window(3.0, 0.8, connections=8).window_s
    assert reference_window(3.0, 0.8, 8, queue_s=0.1).warmup_s == pytest.approx(WARMUP_LATENCIES * 0.8)
    assert reference_window(3.0, 0.8, 8, queue_s=1000.0).warmup_s == MAX_REFERENCE_WARMUP_S
    assert reference_window(3.0, 0.8, 8, queue_s=math.inf) == reference_window(3.0, 0.8, 8)


def test_durations_and_connections_are_checked() -> None:
    assert whole_seconds(0.2) == 1 and whole_seconds(5.0) == 5 and whole_seconds(5.01) == 6
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            whole_seconds(bad)
    with pytest.raises(ValueError, match="threads"):
        spec_for(connections=0)
    with pytest.raises(ValueError, match="threads"):
        spec_for(connections=2, threads=3)
    assert contains(
        list(spec_for(connections=2, threads=2).command), ["--threads", "2", "--connections", "2"]
    )


def test_reference_options_are_checked_in_one_line() -> None:
    base = Matrix("m", ("waitress",), ("json",))
    assert apply_overrides(base, Overrides(reference="none", reference_duration="2s")).reference == "none"
    with pytest.raises(
        UserError, match=r"--reference: 'ab' is not a reference generator \(allowed: wrk, none\)"
    ):
        apply_overrides(base, Overrides(reference="ab"))
    for bad in ("0s", "0.5s", "-2s", "nan", "2h"):
        with pytest.raises(UserError, match=r"--reference-duration: "):
            apply_overrides(base, Overrides(reference_duration=bad))


def test_good_result_is_the_windows_answers_per_second() -> None:
    result = parse_reference(GOOD, 4)
    assert result.missing is None
    assert result.connections == 4 and result.requests == 180 and result.errors == 6
    assert result.duration_s == 2.0 and result.warmup_s == 1.0
    assert result.throughput_rps == pytest.approx(174 / 2.0)
    assert result.latency_ms == pytest.approx(
        {"p50": 43.947, "p90": 47.92, "p99": 48.064, "p999": 48.088, "mean": 43.88857, "max": 48.088}
    )
    assert result.error_kinds["status"] == 12 and result.bytes == 45632  # over the whole run
    record = result.as_dict()
    assert record["throughput_rps"] == result.throughput_rps and record["missing"] is None
    json.dumps(record)


def changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(GOOD))
    where = data
    for key in path[:-1]:
        where = where[key]
    if value is KeyError:
        del where[path[-1]]
    else:
        where[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([1, 2], "expected a JSON object"),
        (changed(("window", "answers"), KeyError), "answers is null"),
        (changed(("window", "answers"), -1), "not a count"),
        (changed(("window", "answers"), 1.5), "not a count"),
        (changed(("window", "answers"), "180"), "not a number"),
        (changed(("window", "failed"), True), "not a number"),
        (changed(("window", "seconds"), math.nan), "not a finite"),
        (changed(("window",), KeyError), "window is null"),
        (changed(("window", "failed"), 181), "181 of 180 failed"),
        (changed(("latency_us", "p99"), None), "p99 is null"),
        (changed(("latency_us", "max"), -3), "not a finite"),
        (changed(("latency_us", "p999"), math.inf), "not a finite"),
        (changed(("errors",), "none"), "errors is"),
        (changed(("errors", "timeout"), KeyError), "timeout is null"),
        (changed(("window", "seconds"), 0), "covers no time"),
        (
            changed(("window",), {"opens_s": 1.0, "seconds": 2.0, "answers": 0, "failed": 0}),
            "no successful answer",
        ),
        (changed(("window", "failed"), 180), "no successful answer in its 2 s window (12 status)"),
        (changed(("window", "answers"), MIN_ANSWERS - 1), f"not measured: {MIN_ANSWERS - 1} answers"),
    ],
)
def test_bad_results_are_reasons(data: Any, reason: str) -> None:
    result = parse_reference(data, 32)
    assert result.missing is not None and reason in result.missing, result.missing
    assert result.throughput_rps is None and result.connections == 32


def test_files_that_are_missing_or_not_json_are_reasons(tmp_path: Path) -> None:
    assert read_reference(tmp_path, 8).missing == f"wrk wrote no {RESULT_NAME}"
    (tmp_path / RESULT_NAME).write_text('{"requests": 1, ')
    assert "is not JSON" in str(read_reference(tmp_path, 8).missing)
    (tmp_path / RESULT_NAME).write_bytes(b"\xff\xfe")
    assert read_reference(tmp_path, 8).missing is not None
    (tmp_path / RESULT_NAME).write_text('{"requests": NaN}')
    assert "malformed" in str(read_reference(tmp_path, 8).missing)
    (tmp_path / RESULT_NAME).write_text(json.dumps(GOOD))
    assert read_reference(tmp_path, 8).throughput_rps == pytest.approx(174 / 2.0)


def test_a_figure_needs_its_fewest_answers() -> None:
    at = parse_reference(changed(("window", "answers"), MIN_ANSWERS), 1)
    below = parse_reference(changed(("window", "answers"), MIN_ANSWERS - 1), 1)
    assert at.missing is None and at.throughput_rps == pytest.approx((MIN_ANSWERS - 6) / 2.0)
    assert below.throughput_rps is None and below.missing is not None


def test_the_clients_disagree_just_above_their_bound_read_from_its_declaration() -> None:
    above = kind("clients-disagree").threshold("above")
    reference = 1000.0
    assert disagreement_reason(above * reference, reference) is None  # exactly the bound agrees
    assert disagreement_reason(above * reference * (1 - 1e-6), reference) is None
    reason = disagreement_reason(above * reference * (1 + 1e-6), reference)
    assert reason is not None and f"(above {above:.2f})" in reason and "1,000 req/s" in reason
    assert disagreement_reason(1430.0, None) is None and disagreement_reason(None, 1000.0) is None
    assert disagreement_reason(500.0, 1000.0) is None  # below: the generator-bound rule's, not this one


def test_efficiency_floor_is_a_strict_boundary() -> None:
    assert GENERATOR_EFFICIENCY_FLOOR == 0.90
    assert generator_efficiency(8999.0, 10000.0) == pytest.approx(0.8999)
    assert is_generator_bound(generator_efficiency(8999.0, 10000.0))
    assert generator_efficiency(9000.0, 10000.0) == 0.90
    assert not is_generator_bound(generator_efficiency(9000.0, 10000.0))
    assert not is_generator_bound(generator_efficiency(90.0, 100.0))
    assert not is_generator_bound(generator_efficiency(12000.0, 10000.0))


@pytest.mark.parametrize(
    ("locust", "reference"),
    [(100.0, 0.0), (100.0, None), (None, 100.0), (100.0, -5.0), (math.nan, 100.0), (100.0, math.inf)],
)
def test_efficiency_is_unknown_without_a_positive_reference(
    locust: float | None, reference: float | None
) -> None:
    assert generator_efficiency(locust, reference) is None
    assert not is_generator_bound(generator_efficiency(locust, reference))
    assert efficiency_reason(locust, reference) is None


def test_efficiency_reason_names_both_figures() -> None:
    reason = efficiency_reason(2386.0, 5551.0)
    assert reason is not None and "2,386" in reason and "5,551" in reason and "0.43" in reason
    assert efficiency_reason(9000.0, 10000.0) is None


class WrkDocker(FakeDocker):
    """Runs wrk by writing what its done() would, or by failing as told."""

    def __init__(self, result: str | None = json.dumps(GOOD), exit_code: int = 0) -> None:
        super().__init__()
        # This driver writes wrk's result itself: the base fake's own stays out of the way.
        self.reference_rps = None
        self.result = result
        self.exit_code = exit_code

    def run_detached(self, spec: ContainerSpec) -> str:
        name = super().run_detached(spec)
        if spec.image == WRK_IMAGE:
            self.running[name]["State"]["ExitCode"] = self.exit_code
            self.inspections_left[name] = 1
            out = bound_at(spec, "/out")
            assert (out / SCRIPT_NAME).exists()
            if spec.env.get(OUTPUT_ENV) == f"/out/{RESULT_NAME}" and self.result is not None:
                (out / RESULT_NAME).write_text(self.result)
        return name


def drive(docker: FakeDocker, out: Path) -> ReferenceResult:
    stack = fake_stack(docker, "r1", StackPorts(server=28000))
    result = run_reference(
        stack,
        resolve_workload("mixed"),
        connections=16,
        window=ReferenceWindow(1.0, 3.0),
        placement=PLACEMENT,
        out_dir=out,
    )
    assert "servingmatrix-r1-reference" in stack.started
    return result


def test_run_reference_is_one_run_through_warm_up_and_window(tmp_path: Path) -> None:
    docker = WrkDocker()
    result = drive(docker, tmp_path / "ref")
    assert result.missing is None and result.throughput_rps == pytest.approx(174 / 2.0)
    assert result.warmup_s == 1.0 and result.as_dict()["warmup_s"] == 1.0
    (container,) = docker.started
    assert contains(list(container.command), ["--duration", "5s"])
    assert contains(list(container.command), ["--connections", "16"])
    assert (container.env[WINDOW_OPEN_ENV], container.env[WINDOW_ENV]) == ("1.0", "3.0")
    assert container.command[-1] == "http://127.0.0.1:28000/"
    assert "servingmatrix-r1-reference" not in docker.running, "the wrk container is removed"
    assert lua_entries((tmp_path / "ref" / SCRIPT_NAME).read_text()) == requests_of(resolve_workload("mixed"))


def test_stale_result_is_not_read_again(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / RESULT_NAME).write_text(json.dumps(GOOD))
    assert drive(WrkDocker(result=None), tmp_path / "ref").missing == f"wrk wrote no {RESULT_NAME}"


def test_a_failing_wrk_is_a_reason(tmp_path: Path) -> None:
    result = drive(WrkDocker(exit_code=1), tmp_path / "ref")
    assert result.missing == "wrk exited with code 1 (last log line: last words)"


def test_docker_failure_is_a_reason(tmp_path: Path) -> None:
    class Broken(WrkDocker):
        def run_detached(self, spec: ContainerSpec) -> str:
            raise DockerError("docker run failed: no such image")

    result = drive(Broken(), tmp_path / "ref")
    assert result.missing == "wrk could not run: docker run failed: no such image"


def test_wrk_that_never_ends_is_stopped(tmp_path: Path) -> None:
    class Hanging(WrkDocker):
        def run_detached(self, spec: ContainerSpec) -> str:
            name = FakeDocker.run_detached(self, spec)
            self.inspections_left.pop(name, None)  # seen running at every look
            return name

    docker = Hanging()
    result = drive(docker, tmp_path / "ref")
    assert result.missing is not None and "did not end within 25 s" in result.missing
    assert "servingmatrix-r1-reference" not in docker.running, "it is stopped and removed"


def test_wrk_image_is_rendered_hardened_and_built_with_the_others() -> None:
    text = render_wrk_dockerfile()
    assert rendered_files()[images_dir() / "wrk" / "Dockerfile"] == text
    assert "FROM ${BASE_IMAGE}" in text and "ARG BASE_IMAGE=servingmatrix/base:3.13" in text
    assert "apt-get install -y --no-install-recommends wrk" in text
    assert "rm -rf /var/lib/apt/lists/*" in text
    assert "USER 10001:10001" in text and 'ENTRYPOINT ["wrk"]' in text
    assert 'io.servingmatrix.role="reference"' in text
    assert "wrk" in SUPPORT_IMAGES
    assert "wrk" in [image.name for image in select_images(["waitress"])]


def test_wrk_version_goes_into_the_metadata() -> None:
    docker = FakeDocker()
    meta = collect_metadata(docker, ["locust", "wrk"])
    assert meta["images"]["wrk"]["packages"] == {"wrk": "debian/4.1.0-4"}
    assert meta["images"]["wrk"]["version_line"].startswith("wrk debian/4.1.0-4 [epoll]")
    (spec,) = docker.ran_once
    assert (spec.image, spec.command, spec.network) == (WRK_IMAGE, ("--version",), "none")
    assert spec.read_only and spec.cap_drop_all and spec.no_new_privileges
    assert "metadata_errors" not in meta


def test_wrk_version_is_left_out_when_the_image_is_absent() -> None:
    class NoWrk(FakeDocker):
        def image_inspect(self, ref: str) -> dict[str, Any] | None:
            return None if "wrk" in ref else super().image_inspect(ref)

    docker = NoWrk()
    meta = collect_metadata(docker, ["locust", "wrk"])
    assert "wrk" not in meta["images"] and docker.ran_once == []


def test_wrk_that_cannot_run_costs_the_metadata_nothing_else() -> None:
    class Broken(FakeDocker):
        def run_once(self, spec: ContainerSpec, timeout: float = 60.0) -> tuple[int, str]:
            raise DockerError("docker run did not finish within 60 s")

    meta = collect_metadata(Broken(), ["wrk"])
    assert "packages" not in meta["images"]["wrk"]
    assert any("within 60 s" in e for e in meta["metadata_errors"])


def test_the_queue_a_step_leaves_is_its_p99_or_its_users_over_its_throughput_whichever_is_longer() -> None:
    from servingmatrix.run.load.loadgen import Load, LoadgenOutput, Step
    from servingmatrix.run.measure.latency import RequestSample
    from servingmatrix.run.session import _queue_s

    def step_of(users: int, answers: int, ms: float, kind: str = "closed") -> LoadgenOutput:
        load = Load(users, "closed" if kind == "closed" else "open")
        # ``answers`` requests of ``ms`` each, all ending inside the 10 s window [0, 10).
        samples = [RequestSample(i * 10.0 / answers, ms, True, "io", 10) for i in range(answers)]
        samples = [s for s in samples if s.end < 10.0]
        return LoadgenOutput([Step(load, -1.0, 0.0, 10.0)], samples, 1)

    # 64 users answered 29 a second with a p99 of 100 ms: each user's turn came every 64 / 29 s.
    backlog = step_of(64, 300, 100.0)
    in_loop = 64 * 10.0 / len(backlog.samples)
    assert _queue_s(backlog, backlog.steps[0].load) == pytest.approx(in_loop)
    assert in_loop > 2.0
    # 4 users answered 300 a second: the p99 (100 ms) is the longer.
    fast = step_of(4, 3000, 100.0)
    assert _queue_s(fast, fast.steps[0].load) == pytest.approx(0.1)
    # An open loop's amount is a rate, not requests in the loop: its p99 alone.
    offered = step_of(64, 300, 100.0, kind="open")
    assert _queue_s(offered, offered.steps[0].load) == pytest.approx(0.1)
    # A step with no answer says nothing.
    empty = LoadgenOutput([Step(Load(8), -1.0, 0.0, 10.0)], [], 1)
    assert _queue_s(empty, Load(8)) is None
