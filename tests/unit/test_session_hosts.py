"""A session whose load comes from load hosts (``SessionRunner.load`` set): Locust's master and workers
driven by the distributed driver (a fake here), the server sampled alongside, no reference measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import pytest

from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.matrix import Matrix
from servingmatrix.modes import ModeConfig
from servingmatrix.run import session as session_module
from servingmatrix.run.load import distributed as distributed_module
from servingmatrix.run.load.distributed import DistributedLoad, EngineStats, LoadHost
from servingmatrix.run.load.drive import Driver, LocustRun
from servingmatrix.run.load.loadgen import Load, LoadgenOutput, LoadKind, LocustJob, Step
from servingmatrix.run.load.reference import WRK_IMAGE, ReferenceResult
from servingmatrix.run.measure.cgroups import Sampler, UsageReader
from servingmatrix.run.measure.clocks import LOCAL
from servingmatrix.run.plan.cpuplan import plan_cpus
from servingmatrix.run.session import (
    REFERENCE_ACROSS_HOSTS,
    SessionResult,
    SessionRunner,
    plan_sessions,
)
from servingmatrix.run.stack.stack import Placement, StackPorts

from .fakes import FakeDocker, FakeStack

PORTS = StackPorts(server=28000, upstream=28081, postgres=28432)
MATRIX = Matrix(
    name="hosts",
    modes=("waitress[threads=2]",),
    workloads=("json",),
    users=(1, 4),
    warmup_s=1.0,
    duration_s=2.0,
    request_timeout_s=7.5,
).check("test")
LOAD = DistributedLoad((LoadHost("gen-a", cast(Docker, object()), "10.0.0.2", (0, 1), LOCAL),))
SERVER = "servingmatrix-r1h0-server"
#: The master's steps: a second of warm-up and two measured, per step.
STEPS = [Step(Load(1), 100.0, 101.0, 103.0), Step(Load(4), 103.0, 104.0, 106.0)]
WORKERS_APPLIED = {"loadgen@gen-a/1": {"cpuset": "0"}, "loadgen@gen-a/2": {"cpuset": "1"}}


@dataclass
class DriveCall:
    run_id: str
    name_prefix: str
    job: LocustJob
    watched: dict[str, UsageReader]
    out_dir: Path
    load_s: float
    kind: LoadKind


@dataclass
class DrivePlan:
    """What the fake driver of a test leaves, and what it does on its way; the drivers it made."""

    output: LoadgenOutput | str = field(default_factory=lambda: LoadgenOutput(list(STEPS), [], 2))
    #: The server's engine, whose server the drive kills when asked to.
    kills_server_on: FakeDocker | None = None
    made: list[FakeDistributedDriver] = field(default_factory=list)


@dataclass
class FakeDistributedDriver:
    """Stands in for the driver of Locust across engines: records what it was asked, answers as planned."""

    load: DistributedLoad
    request_timeout_s: float
    plan: DrivePlan
    calls: list[DriveCall] = field(default_factory=list)

    def drive(
        self,
        run_id: str,
        name_prefix: str,
        job: LocustJob,
        watched: dict[str, UsageReader],
        out_dir: Path,
        load_s: float,
        kind: LoadKind = "closed",
    ) -> LocustRun:
        self.calls.append(DriveCall(run_id, name_prefix, job, dict(watched), out_dir, load_s, kind))
        if self.plan.kills_server_on is not None:
            state = self.plan.kills_server_on.running[SERVER]["State"]
            state.update(Running=False, OOMKilled=True, ExitCode=137)
        return LocustRun(self.plan.output, Sampler({}), dict(WORKERS_APPLIED), elapsed_s=6.5)


@pytest.fixture(autouse=True)
def fake_driver(monkeypatch: pytest.MonkeyPatch) -> DrivePlan:
    plan = DrivePlan()

    def make(load: DistributedLoad, request_timeout_s: float) -> FakeDistributedDriver:
        driver = FakeDistributedDriver(load, request_timeout_s, plan)
        plan.made.append(driver)
        return driver

    monkeypatch.setattr(session_module, "DistributedDriver", make)
    return plan


class VanishingStack(FakeStack):
    """A stack whose server is gone by the time the load would start."""

    def start_server(
        self,
        config: ModeConfig,
        placement: Placement,
        timeout_s: float = 60.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> float:
        super().start_server(config, placement, timeout_s)
        cast(FakeDocker, self.docker).running[self.name("server")]["State"]["Running"] = False
        return 0.0


def run(
    tmp_path: Path,
    matrix: Matrix = MATRIX,
    server_here: bool = False,
    stack_type: type[FakeStack] = FakeStack,
    docker: FakeDocker | None = None,
) -> tuple[SessionResult, FakeDocker, FakeStack]:
    docker = docker or FakeDocker()
    stack = stack_type(docker, "r1h0", PORTS, address="10.0.0.1")
    runner = SessionRunner(
        docker,
        matrix,
        "r1",
        PORTS,
        Driver(docker, matrix.request_timeout_s),
        conformance=lambda url, mode: [],
        load=LOAD,
        server_here=server_here,
    )
    (session,) = plan_sessions(matrix)
    return runner.run(session, plan_cpus([0, 1, 2], 1), tmp_path / "out", stack), docker, stack


def test_the_load_hosts_swarm_the_server_at_its_hosts_address(tmp_path: Path, fake_driver: DrivePlan) -> None:
    result, docker, _ = run(tmp_path)
    (driver,) = fake_driver.made
    assert driver.load is LOAD and driver.request_timeout_s == 7.5
    (call,) = driver.calls
    # The lane's run label, so stopping the lane finds its Locust containers on the load hosts.
    assert (call.run_id, call.name_prefix) == ("r1h0", "servingmatrix-r1h0")
    assert call.job.target == "http://10.0.0.1:28000"
    assert call.job.loads == (Load(1), Load(4))
    assert (call.job.warmup_s, call.job.duration_s, call.job.request_timeout_s) == (1.0, 2.0, 7.5)
    assert call.job.workload is not None and call.job.workload.spec == "json"
    assert call.out_dir == tmp_path / "out" and call.kind == "closed"
    assert call.load_s == 2 * (1.0 + 2.0)
    # The server's usage from its engine's API: its cgroup files are on another kernel.
    assert call.watched == {"server": EngineStats(docker, SERVER)}
    assert result.failure == "" and result.swarm is not None
    assert result.swarm.output == LoadgenOutput(STEPS, [], 2) and result.swarm.server_exit is None


def test_the_servers_cgroup_is_read_directly_when_its_engine_is_this_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_driver: DrivePlan
) -> None:
    @dataclass
    class Cgroup:
        pid: int

    monkeypatch.setattr(distributed_module, "ContainerCgroup", Cgroup)
    run(tmp_path, server_here=True)
    watched: dict[str, object] = dict(fake_driver.made[0].calls[0].watched)
    assert watched == {"server": Cgroup(4242)}


def test_the_timings_and_the_applied_limits_are_the_drives_and_the_stacks(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    assert result.swarm is not None
    timings = result.timings
    assert (timings.loadgen_s, timings.warmup_s, timings.measured_s) == (6.5, 2.0, 4.0)
    applied: dict[str, Any] = result.swarm.applied
    assert set(applied) == {"server", "upstream", "postgres", *WORKERS_APPLIED}
    assert applied["loadgen@gen-a/2"] == {"cpuset": "1"}


def test_a_matrix_with_a_reference_records_why_none_was_measured_for_every_step(tmp_path: Path) -> None:
    assert MATRIX.measures_reference
    result, docker, _ = run(tmp_path)
    assert result.swarm is not None
    assert result.swarm.references == {
        1: ReferenceResult(1, missing=REFERENCE_ACROSS_HOSTS),
        4: ReferenceResult(4, missing=REFERENCE_ACROSS_HOSTS),
    }
    assert REFERENCE_ACROSS_HOSTS == (
        "not measured: the reference generator runs beside a load generator on this machine only"
    )
    # No reference generator was started anywhere.
    assert docker.ran_once == [] and all(spec.image != WRK_IMAGE for spec in docker.started)


def test_a_matrix_without_a_reference_records_none(tmp_path: Path) -> None:
    for matrix in (
        replace(MATRIX, reference="none"),
        replace(MATRIX, arrival_rates=(50, 100)),
    ):
        assert not matrix.measures_reference
        result, _, _ = run(tmp_path, matrix)
        assert result.swarm is not None and result.swarm.references == {}


def test_an_open_loop_is_driven_as_one(tmp_path: Path, fake_driver: DrivePlan) -> None:
    run(tmp_path, replace(MATRIX, arrival_rates=(50, 100)))
    call = fake_driver.made[0].calls[0]
    assert call.kind == "open" and call.job.loads == (Load(50, "open"), Load(100, "open"))


def test_a_server_gone_before_the_load_is_one_line_and_no_load_is_sent(
    tmp_path: Path, fake_driver: DrivePlan
) -> None:
    result, _, _ = run(tmp_path, stack_type=VanishingStack)
    assert result.swarm is not None
    assert result.swarm.output == "the server container vanished before the load started"
    assert fake_driver.made == [] and result.swarm.references == {}


def test_a_drive_that_failed_leaves_its_reason_and_no_reference(
    tmp_path: Path, fake_driver: DrivePlan
) -> None:
    fake_driver.output = "1 of 2 load generator workers lost (gen-a/2: it exited with code 137 (killed))"
    result, _, _ = run(tmp_path)
    assert result.swarm is not None
    assert result.swarm.output == fake_driver.output
    assert result.swarm.references == {} and result.swarm.server_exit is None


def test_a_server_that_died_under_the_load_is_recorded(tmp_path: Path, fake_driver: DrivePlan) -> None:
    docker = FakeDocker()
    fake_driver.kills_server_on = docker
    result, _, _ = run(tmp_path, docker=docker)
    assert result.swarm is not None and result.swarm.server_exit is not None
    assert result.swarm.server_exit.oom_killed and result.swarm.server_exit.exit_code == 137
    assert result.swarm.server_exit.last_log == ("last words",)


def test_the_sessions_containers_are_removed_and_the_backing_services_kept(tmp_path: Path) -> None:
    _, docker, stack = run(tmp_path)
    assert SERVER in docker.removed and SERVER not in docker.running
    assert stack.started == ["servingmatrix-r1h0-upstream", "servingmatrix-r1h0-postgres"]


class UnansweringStack(FakeStack):
    """The server host's engine stops answering as the server starts (its host gone)."""

    def start_server(
        self,
        config: ModeConfig,
        placement: Placement,
        timeout_s: float = 60.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> float:
        raise DockerError("docker engine 'sim1' (tcp://10.0.0.1:2375): not reachable (connection refused)")


def test_a_server_host_whose_engine_stops_answering_fails_the_session_not_the_run(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path, stack_type=UnansweringStack)
    assert result.swarm is None
    assert result.failure == (
        "a host's engine failed: docker engine 'sim1' (tcp://10.0.0.1:2375): "
        "not reachable (connection refused)"
    )
