"""The runner's pipeline with a fake Docker driver and a recorded Locust run: planning, cells,
resume, failures and metadata, in milliseconds."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from servingmatrix.engine.docker import PROJECT_LABEL, ContainerListing, ContainerSpec
from servingmatrix.flags import kind
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run import session as session_module
from servingmatrix.run.load.loadgen import LOCUST_IMAGE
from servingmatrix.run.load.reference import WRK_IMAGE, reference_window
from servingmatrix.run.measure.phases import PHASES
from servingmatrix.run.progress import Progress
from servingmatrix.run.runner import Runner, lane_share, plan_sessions, planned_session_s, reference_seconds
from servingmatrix.run.session import REFERENCE_FIRST_TRIAL
from servingmatrix.run.stack.stack import OWNER_LABEL, StackPorts

from .boundaries import HAIR
from .fakes import FakeDocker, FakeSampler, bound_at, fake_stack

MATRIX = Matrix(
    name="unit",
    modes=("gunicorn-sync[workers=2]", "waitress"),
    workloads=("json",),
    users=(1, 4),
    duration_s=2.0,
    warmup_s=1.0,
    trials=2,
).check("test")


def runner(tmp_path: Path, docker: FakeDocker, matrix: Matrix = MATRIX, **kwargs: object) -> Runner:
    kwargs.setdefault("conformance", lambda url, mode: [])
    kwargs.setdefault("calibrate", False)
    return Runner(
        docker,
        matrix,
        RunFolder(tmp_path / "run"),
        lambda line: None,
        ports=StackPorts(server=28000, upstream=28081, postgres=28432),
        new_stack=fake_stack,
        new_sampler=lambda pids: FakeSampler(docker, pids),
        **kwargs,  # type: ignore[arg-type]
    )


def a_dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def test_a_run_removes_the_containers_of_a_run_whose_owner_died_and_keeps_the_others(tmp_path: Path) -> None:
    docker = FakeDocker()
    project = {PROJECT_LABEL: "servingmatrix"}
    dead, alive = str(a_dead_pid()), str(os.getpid())
    docker.listed = [
        ContainerListing("c-dead-server", "sm-old-server", {**project, OWNER_LABEL: dead}),
        ContainerListing("c-dead-locust", "sm-old-locust", {**project, OWNER_LABEL: dead}),
        # A run still going (its owner alive): not a leftover.
        ContainerListing("c-alive", "sm-now-server", {**project, OWNER_LABEL: alive}),
        # No owner: a compose stack started by hand, kept.
        ContainerListing("c-by-hand", "compose-server-1", project),
        # Not the project's, whatever its labels say of an owner.
        ContainerListing("c-other", "someone-else", {OWNER_LABEL: dead}),
    ]
    lines: list[str] = []
    run = runner(tmp_path, docker, replace(MATRIX, trials=1))
    run.say = lines.append
    run.run()
    leftovers = {"c-dead-server", "c-dead-locust"}
    assert leftovers <= set(docker.removed)
    # The positive control beside the absence: the owned, hand-made and foreign ones are listed, not removed.
    assert {"c-alive", "c-by-hand", "c-other"}.isdisjoint(docker.removed)
    assert "removed 2 containers left by an earlier run" in lines


def test_a_run_with_no_leftovers_removes_none_and_says_nothing_of_them(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.listed = [
        ContainerListing(
            "c-alive", "sm-now-server", {PROJECT_LABEL: "servingmatrix", OWNER_LABEL: str(os.getpid())}
        )
    ]
    lines: list[str] = []
    run = runner(tmp_path, docker, replace(MATRIX, trials=1))
    run.say = lines.append
    run.run()
    assert "c-alive" not in docker.removed
    assert not [line for line in lines if "left by an earlier run" in line]


def test_plan_interleaves_modes_within_each_trial() -> None:
    order = [(s.trial, s.mode.spec) for s in plan_sessions(MATRIX)]
    assert order == [
        (1, "gunicorn-sync[workers=2]"),
        (1, "waitress[threads=4]"),
        (2, "gunicorn-sync[workers=2]"),
        (2, "waitress[threads=4]"),
    ]


def test_every_cell_is_computed_from_the_recording(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker).run()
    cells = [r.as_json() for r in RunFolder(tmp_path / "run").read_cells()]
    assert len(cells) == 2 * 2 * 2
    for cell in cells:
        assert cell["status"] == "ok"
        assert cell["requests"] > 0 and cell["failures"] == 0
        assert cell["window"]["seconds"] == pytest.approx(2.0, abs=0.05)
        assert cell["throughput_rps"] == pytest.approx(cell["requests"] / cell["window"]["seconds"])
        latency = cell["latency_ms"]
        assert latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        assert cell["server"]["cpu_pct"] == pytest.approx(50.0, abs=1)
        assert cell["loadgen"]["cpu_pct"] == pytest.approx(25.0, abs=1)
        assert cell["loadgen"]["saturated"] is False
        assert [p["rss_mb"] for p in cell["server"]["processes"]] == [20.0, 40.0]
        assert cell["cpu_plan_applied"]["server"]["cpuset"] == "0"
    # Every container the runner started was removed again.
    started = {spec.name for spec in docker.started}
    assert started <= set(docker.removed)


def test_rerun_resumes_and_force_measures_again(tmp_path: Path) -> None:
    runner(tmp_path, FakeDocker()).run()
    again = FakeDocker()
    runner(tmp_path, again).run()
    assert again.started == []
    forced = FakeDocker()
    runner(tmp_path, forced, force=True).run()
    assert len([s for s in forced.started if s.image == LOCUST_IMAGE]) == 4


def test_partly_measured_run_measures_only_what_is_missing(tmp_path: Path) -> None:
    runner(tmp_path, FakeDocker()).run()
    cells = sorted((tmp_path / "run" / "cells").glob("*.json"))
    cells[0].unlink()
    again = FakeDocker()
    runner(tmp_path, again).run()
    assert len([s for s in again.started if s.image == LOCUST_IMAGE]) == 1


def test_a_cell_on_disk_that_does_not_read_is_measured_again_saying_which(tmp_path: Path) -> None:
    """A crash can cut a cell short and a hand can edit one: a resume takes as measured only the cells
    that read back as themselves."""
    runner(tmp_path, FakeDocker()).run()
    cells = sorted((tmp_path / "run" / "cells").glob("*.json"))
    cells[0].write_text(cells[0].read_text()[:40])
    cells[1].write_text(cells[2].read_text())
    again = FakeDocker()
    resumed = runner(tmp_path, again)
    lines: list[str] = []
    resumed.say = lines.append
    resumed.run()
    assert [line for line in lines if line.startswith("measuring again: ")] == [
        f"measuring again: {cells[0]}: not valid JSON, the file is corrupt or truncated "
        "(Unterminated string starting at)",
        f"measuring again: {cells[1]}: holds another cell ({cells[2].stem})",
    ]
    # Each is measured again in its session (a session measures every step of its mode and trial).
    assert len([s for s in again.started if s.image == LOCUST_IMAGE]) == 2
    assert all(RunFolder(tmp_path / "run").read_cell(cell) for cell in cells)


def test_broken_stack_is_recorded_failed_not_measured(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, conformance=lambda url, mode: ["GET /db: status 500"]).run()
    cells = [r.as_json() for r in RunFolder(tmp_path / "run").read_cells()]
    assert {c["status"] for c in cells} == {"failed"}
    assert "conformance check failed: GET /db: status 500" in cells[0]["reason"]
    # Locust started beside each server, but none was given its go, and each was removed.
    locusts = [s.name for s in docker.started if s.image == LOCUST_IMAGE]
    assert len(locusts) == len(cells) // len(MATRIX.steps) and not docker.gone
    assert set(locusts) <= set(docker.removed)


def test_locust_starts_beside_the_server_and_steps_only_once_the_server_is_checked(tmp_path: Path) -> None:
    docker = FakeDocker()
    at_check: list[tuple[str, str, bool]] = []

    def conformance(url: str, mode: str) -> list[str]:
        (spec,) = docker.gated.values()
        go = bound_at(spec, "/out") / Path(spec.env["SM_GO"]).name
        at_check.append((docker.started[-2].image, docker.started[-1].image, go.exists()))
        return []

    runner(tmp_path, docker, conformance=conformance).run()
    sessions = len(MATRIX.modes) * len(MATRIX.workloads) * MATRIX.trials
    assert len(at_check) == sessions
    for before, last, went in at_check:
        assert before == LOCUST_IMAGE and last not in (LOCUST_IMAGE, WRK_IMAGE), "Locust, then the server"
        assert not went, "no go before the server's check"
    assert len(docker.gone) == sessions, "each was given its go after the check"
    assert all(c.ok for c in RunFolder(tmp_path / "run").read_cells())


def test_server_dying_mid_session_fails_the_later_cells(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.server_dies_at = 0.75  # during the second step
    one = Matrix(
        name="unit", modes=("waitress",), workloads=("json",), users=(1, 4), duration_s=2.0, warmup_s=1.0
    )
    runner(tmp_path, docker, one.check("test")).run()
    cells = {r.users: r.as_json() for r in RunFolder(tmp_path / "run").read_cells()}
    assert cells[1]["status"] == "ok"
    assert cells[4]["status"] == "failed"
    assert "OOM-killed" in cells[4]["reason"]


def test_run_metadata_is_collected(tmp_path: Path) -> None:
    runner(tmp_path, FakeDocker()).run()
    run = RunFolder(tmp_path / "run").read_run().as_json()
    meta = run["metadata"]
    assert meta["docker_version"] == "fake"
    assert meta["cpu_count"] and meta["kernel"] and meta["harness_version"]
    assert meta["images"]["gunicorn-sync"]["packages"]["gunicorn"] == "27.0.1"
    assert meta["images"]["gunicorn-sync"]["lock_sha256"]
    assert run["matrix"]["users"] == [1, 4]
    assert run["cpu_plan"]["server"]["cpuset"] == "0"
    timings = run["timings"]
    assert timings["sessions"] == 4
    assert set(timings) == {"sessions", "backing_starts", "wall_s", "overhead_share", *PHASES}
    # The reference generator's windows measure (the fake's wrk reports 5 s a step).
    assert timings["reference_measured_s"] == 5.0 * 8
    assert 0.0 <= timings["overhead_share"] <= 1.0


def test_backing_services_start_once_and_serve_every_session(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker).run()
    started = [spec.name.rsplit("-", 1)[1] for spec in docker.started]
    assert started.count("postgres") == 1 and started.count("upstream") == 1
    assert started.count("server") == 4
    assert RunFolder(tmp_path / "run").read_run().as_json()["timings"]["backing_starts"] == 1
    assert not docker.running, "nothing is left running"


class WritingDocker(FakeDocker):
    """A server that writes to the database: every Locust session adds rows."""

    def run_detached(self, spec: ContainerSpec) -> str:
        if spec.image == LOCUST_IMAGE:
            self.db_writes += 10
        if spec.image == "servingmatrix/postgres:latest":
            self.db_writes = 0  # a new PostgreSQL counts from nothing
        return super().run_detached(spec)


def test_backing_services_written_to_are_restarted_before_the_next_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setattr(Progress, "line", lambda self, text: said.append(text))
    docker = WritingDocker()
    runner(tmp_path, docker).run()
    started = [spec.name.rsplit("-", 1)[1] for spec in docker.started]
    assert started.count("postgres") == 4
    restarted = "  backing services restarted: PostgreSQL's tables were written to (0 then 10 rows)"
    assert said.count(restarted) == 3


def test_a_different_matrix_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    from servingmatrix.errors import UserError

    runner(tmp_path, FakeDocker()).run()
    other = Matrix(name="unit", modes=("waitress",), workloads=("json",), users=(1,)).check("test")
    with pytest.raises(UserError, match="different matrix"):
        runner(tmp_path, FakeDocker(), other).run()


def test_a_port_already_taken_is_one_clear_line_before_anything_starts(tmp_path: Path) -> None:
    import socket

    from servingmatrix.errors import UserError

    docker = FakeDocker()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 28000))
        taken.listen()
        with pytest.raises(UserError, match=r"port 28000 on 127.0\.0\.1 \(for the server\) is already taken"):
            runner(tmp_path, docker).run()
    assert docker.started == []


def test_a_calibration_is_kept_and_reused_by_the_next_run_on_the_same_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine is quiet (conftest) until the last run: a busy one's calibration is neither kept nor reused.
    kept = tmp_path / "calibrations"
    first = FakeDocker()
    runner(tmp_path / "a", first, calibrate=True, calibrations=kept).run()
    measured = RunFolder(tmp_path / "a" / "run").read_run().as_json()["calibration"]
    assert "reused_from" not in measured and len(list(kept.glob("*.json"))) == 1
    second = FakeDocker()
    runner(tmp_path / "b", second, calibrate=True, calibrations=kept).run()
    reused = RunFolder(tmp_path / "b" / "run").read_run().as_json()["calibration"]
    assert reused == {**measured, "reused_from": reused["reused_from"]}
    assert len(second.started) < len(first.started), "no calibration containers the second time"
    again = FakeDocker()
    runner(tmp_path / "d", again, calibrate=True, calibrations=kept, recalibrate=True).run()
    assert "reused_from" not in RunFolder(tmp_path / "d" / "run").read_run().as_json()["calibration"]
    busy = FakeDocker()
    monkeypatch.setattr("servingmatrix.run.quiet.load_average", lambda: [9.0, 9.0, 9.0])
    runner(tmp_path / "c", busy, calibrate=True, calibrations=kept).run()
    assert "reused_from" not in RunFolder(tmp_path / "c" / "run").read_run().as_json()["calibration"]


def test_a_load_average_above_the_share_per_core_flags_every_cell_of_the_run_and_at_it_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cores = len(os.sched_getaffinity(0))  # the runner plans the cores it may use
    at = kind("machine-busy").threshold("load_per_core") * cores
    monkeypatch.setattr("servingmatrix.run.quiet.load_average", lambda: [at, 0.0, 0.0])
    runner(tmp_path / "at", FakeDocker(), replace(MATRIX, trials=1)).run()
    quiet = RunFolder(tmp_path / "at" / "run").read_cells()
    assert len(quiet) == 2 * 2, "every cell written: two modes at two steps"
    assert all("machine-busy" not in {w.code for w in cell.warnings} for cell in quiet)
    above = at * (1 + HAIR)
    monkeypatch.setattr("servingmatrix.run.quiet.load_average", lambda: [above, 0.0, 0.0])
    runner(tmp_path / "above", FakeDocker(), replace(MATRIX, trials=1)).run()
    busy = RunFolder(tmp_path / "above" / "run").read_cells()
    assert len(busy) == 2 * 2, "every cell written: two modes at two steps"
    for cell in busy:
        (flag,) = [w for w in cell.warnings if w.code == "machine-busy"]
        assert flag.message == f"the machine was busy when the run began (load average {above:.1f})"


def test_calibration_is_recorded_and_a_cell_at_its_ceiling_is_generator_bound(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, calibrate=True).run()
    folder = RunFolder(tmp_path / "run")
    calibration = folder.read_run().as_json()["calibration"]
    # The fake replays the same recording for the calibration: its last step is the ceiling.
    assert calibration["max_rps"] > 0
    assert calibration["loadgen_cpu_pct"] == pytest.approx(25.0, abs=1)
    assert calibration["server_cpu_pct"] == pytest.approx(30.0, abs=1)
    assert calibration["limited_by"] == "neither"
    assert calibration["processes"] == 1
    cells = {(r.users, r.trial, r.mode): r.as_json() for r in folder.read_cells()}
    top = cells[(4, 1, "waitress[threads=4]")]
    assert top["loadgen"]["calibrated_max_rps"] == pytest.approx(calibration["max_rps"])
    # The same recording: the top step sends what the calibration did, so the generator set the pace.
    assert top["loadgen"]["generator_bound"] is True
    assert "generator-bound" in {w["code"] for w in top["warnings"]}
    low = cells[(1, 1, "waitress[threads=4]")]
    assert low["loadgen"]["generator_bound"] is False
    assert "generator-bound" not in {w["code"] for w in low["warnings"]}


def test_a_rerun_that_measures_nothing_keeps_the_runs_calibration(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, calibrate=True).run()
    folder = RunFolder(tmp_path / "run")
    calibration = folder.read_run().as_json()["calibration"]
    again = FakeDocker()
    runner(tmp_path, again, calibrate=True).run()
    assert folder.read_run().as_json()["calibration"] == calibration
    assert again.started == [], "nothing to measure: no calibration either"


def test_loadgen_processes_and_the_request_timeout_reach_locust(tmp_path: Path) -> None:
    docker = FakeDocker()
    matrix = replace(MATRIX, loadgen_processes=2, request_timeout_s=5.0, trials=1)
    runner(tmp_path, docker, matrix).run()
    locust = [s for s in docker.started if s.image == LOCUST_IMAGE]
    assert locust and all(s.command[s.command.index("--processes") + 1] == "2" for s in locust)
    assert all(s.env["SM_REQUEST_TIMEOUT_S"] == "5" for s in locust)
    assert all(s.env["SM_LOAD"] == "closed" for s in locust)


def test_open_loop_offers_rates_and_records_them(tmp_path: Path) -> None:
    docker = FakeDocker()
    matrix = replace(MATRIX, arrival_rates=(1, 4), trials=1)
    runner(tmp_path, docker, matrix).run()
    locust = [s for s in docker.started if s.image == LOCUST_IMAGE]
    assert all(s.env["SM_LOAD"] == "open" and s.env["SM_STEPS"] == "1,4" for s in locust)
    cells = [r.as_json() for r in RunFolder(tmp_path / "run").read_cells()]
    assert {c["offered_rps"] for c in cells} == {1.0, 4.0}
    assert {c["load"] for c in cells} == {"open"}


def test_the_reference_is_measured_after_each_closed_step_and_recorded(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, replace(MATRIX, trials=1)).run()
    wrk = [s for s in docker.started if s.image == WRK_IMAGE]
    # Per session and step, one container: one run through its warm-up and its window, with as many
    # connections as users, its window sized from Locust's p99 at that step.
    assert len(wrk) == 2 * 2
    connections = [s.command[s.command.index("--connections") + 1] for s in wrk]
    assert sorted(connections) == ["1", "1", "4", "4"]
    for spec in wrk:
        assert float(spec.env["SM_WRK_WINDOW"]) >= MATRIX.reference_duration_s
        assert float(spec.env["SM_WRK_WINDOW_OPEN"]) >= 1.0
    locust = next(s for s in docker.started if s.image == LOCUST_IMAGE)
    for spec in wrk:
        assert (spec.cpuset, spec.cpus) == (locust.cpuset, locust.cpus)
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2, "every cell written: two modes at two steps"
    for cell in cells:
        assert cell.reference is not None and cell.reference.throughput_rps == pytest.approx(300.0)
        assert cell.throughput_rps is not None
        assert cell.loadgen.generator_efficiency == pytest.approx(cell.throughput_rps / 300.0)
        assert not cell.loadgen.generator_bound


def test_each_reference_run_waits_out_the_queue_of_the_load_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locust's steps run first, the largest last: the reference at the first step waits out what
    that last step left queued (its p99), the next reference what the previous one left."""
    asked: list[tuple[float | None, int, float | None]] = []

    def window(configured: float, latency: float | None, connections: int, queue: float | None) -> object:
        asked.append((latency, connections, queue))
        return reference_window(configured, latency, connections, queue)

    monkeypatch.setattr(session_module, "reference_window", window)
    runner(tmp_path, FakeDocker(), replace(MATRIX, trials=1, modes=("waitress",))).run()
    (first, one_user, last_queue), (second, four_users, queue) = asked
    assert (one_user, four_users) == (1, 4)
    assert first is not None and second is not None and first != second
    # The first run follows Locust's last step (4 users); the second, the reference's first.
    assert (last_queue, queue) == (second, first)


def test_a_reference_far_above_locust_makes_the_cell_generator_bound(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.reference_rps = 5000.0
    runner(tmp_path, docker, replace(MATRIX, trials=1)).run()
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2, "every cell written: two modes at two steps"
    for cell in cells:
        assert cell.loadgen.generator_bound is True
        bound = next(w for w in cell.warnings if w.code == "generator-bound")
        floor = kind("generator-bound").threshold("efficiency")
        assert f"of the 5,000 req/s the reference generator reached (below {floor:.2f})" in bound.message


def test_a_reference_far_below_locust_flags_the_clients_disagree(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.reference_rps = 100.0  # the recording's Locust reaches 294 and 438
    runner(tmp_path, docker, replace(MATRIX, trials=1)).run()
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2
    for cell in cells:
        disagree = [w for w in cell.warnings if w.code == "clients-disagree"]
        assert (
            len(disagree) == 1 and "of the 100 req/s the reference generator reached" in disagree[0].message
        )
        assert not cell.loadgen.generator_bound


def test_a_failed_reference_is_missing_and_leaves_locusts_figures(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.reference_rps = None
    runner(tmp_path, docker, replace(MATRIX, trials=1)).run()
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2, "every cell written: two modes at two steps"
    for cell in cells:
        assert cell.ok and cell.throughput_rps
        assert cell.reference is not None and cell.reference.missing == "wrk wrote no reference.json"
        assert cell.loadgen.generator_efficiency is None and not cell.loadgen.generator_bound


def test_a_reference_of_the_first_trial_only_measures_that_trial_and_says_why_not_the_others(
    tmp_path: Path,
) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, replace(MATRIX, trials=3, reference_trials="first")).run()
    wrk = [s for s in docker.started if s.image == WRK_IMAGE]
    assert len(wrk) == 2 * 2, "one run per mode and step, in the first trial only"
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2 * 3
    first = [c for c in cells if c.trial == 1]
    later = [c for c in cells if c.trial > 1]
    assert len(first) == 4 and len(later) == 8
    for cell in first:
        assert cell.reference is not None and cell.reference.throughput_rps == pytest.approx(300.0)
        assert cell.loadgen.generator_efficiency is not None
    for cell in later:
        assert cell.reference is not None and cell.reference.missing == REFERENCE_FIRST_TRIAL
        assert cell.loadgen.generator_efficiency is None
        assert cell.ok and cell.throughput_rps


def test_a_first_trial_without_a_reference_figure_passes_it_to_the_next(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.reference_rps = None  # wrk writes nothing: no trial gets a figure
    runner(tmp_path, docker, replace(MATRIX, trials=2, reference_trials="first")).run()
    wrk = [s for s in docker.started if s.image == WRK_IMAGE]
    assert len(wrk) == 2 * 2 * 2, "the second trial measures what the first could not"
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2 * 2
    assert all(c.reference is not None and c.reference.missing != REFERENCE_FIRST_TRIAL for c in cells)


def test_every_trial_has_its_reference_by_default(tmp_path: Path) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, replace(MATRIX, trials=2)).run()
    assert MATRIX.reference_trials == "every"
    assert len([s for s in docker.started if s.image == WRK_IMAGE]) == 2 * 2 * 2


def test_the_eta_plans_the_reference_only_for_the_trials_that_have_it() -> None:
    first_only = replace(MATRIX, trials=3, reference_trials="first")
    sessions = plan_sessions(first_only)
    planned = {s.trial: planned_session_s(first_only, s) for s in sessions}
    steps = len(MATRIX.steps)
    assert planned[1] - planned[2] == pytest.approx(steps * reference_seconds(MATRIX))
    assert planned[2] == planned[3]
    every = {s.trial: planned_session_s(replace(first_only, reference_trials="every"), s) for s in sessions}
    assert every[1] == every[2] == every[3] == planned[1]


@pytest.mark.parametrize(("sessions", "lanes", "share"), [(4, 1, 1.0), (4, 2, 0.5), (5, 2, 0.6), (0, 1, 0.0)])
def test_a_sessions_share_is_the_busiest_lanes(sessions: int, lanes: int, share: float) -> None:
    assert lane_share(sessions, lanes) == pytest.approx(share)


@pytest.mark.parametrize(
    "matrix",
    [replace(MATRIX, trials=1, reference="none"), replace(MATRIX, trials=1, arrival_rates=(5, 10))],
    ids=["reference-none", "open-loop"],
)
def test_no_reference_without_one_asked_or_in_an_open_loop(tmp_path: Path, matrix: Matrix) -> None:
    docker = FakeDocker()
    runner(tmp_path, docker, matrix).run()
    assert not [s for s in docker.started if s.image == WRK_IMAGE]
    cells = RunFolder(tmp_path / "run").read_cells()
    assert len(cells) == 2 * 2 and all(cell.reference is None for cell in cells)


def test_an_interrupted_run_records_the_timings_of_the_sessions_it_finished(tmp_path: Path) -> None:
    docker = FakeDocker()
    run = runner(tmp_path, docker)
    servers = 0
    start_server = docker.run_detached

    def interrupt_on_the_third_server(spec: ContainerSpec) -> str:
        nonlocal servers
        if spec.name.endswith("-server"):
            servers += 1
            if servers == 3:
                raise KeyboardInterrupt
        return start_server(spec)

    docker.run_detached = interrupt_on_the_third_server  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run.run()
    timings = RunFolder(tmp_path / "run").read_run().as_json()["timings"]
    assert timings["sessions"] == 2
    assert timings["measured_s"] > 0
