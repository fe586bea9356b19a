"""Locust across engines, with fake engines: the containers asked for, the merge on one clock, lost workers.

The real thing runs in tests/integration/test_distributed_load.py on simulated hosts.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, cast

import pytest

from servingmatrix.engine.docker import ContainerSpec, Docker, DockerError
from servingmatrix.errors import UserError
from servingmatrix.run.load.distributed import (
    DistributedDriver,
    DistributedLoad,
    LoadHost,
    master_spec,
    merge_output,
    worker_spec,
)
from servingmatrix.run.load.loadgen import Load, LocustJob
from servingmatrix.run.measure.cgroups import Sample, Sampler
from servingmatrix.run.measure.clocks import LOCAL, ClockOffset, measure_offset

JOB = LocustJob(None, "http://10.213.0.1:18081", (Load(8), Load(16)), warmup_s=1, duration_s=2)
T0 = 1_700_000_000.0


class FakeEngine:
    """One engine: containers run when asked and end as told; their /out is written on copy-out."""

    def __init__(self, name: str, clock_ahead_s: float = 0.0) -> None:
        self.name = name
        self.clock_ahead_s = clock_ahead_s
        self.specs: dict[str, ContainerSpec] = {}
        self.removed: list[str] = []
        #: A container's exit code, by a part of its name (137: killed).
        self.exit_codes: dict[str, int] = {}
        self.gone: set[str] = set()
        #: Containers still running when their wait's deadline passes.
        self.stuck: set[str] = set()
        #: The engine stops answering (its host gone): every call fails.
        self.down = False

    def remove_containers(self, names: list[str]) -> None:
        if self.down:
            raise DockerError(f"docker engine {self.name!r}: not reachable (connection refused)")
        self.removed.extend(names)

    def run_detached(self, spec: ContainerSpec) -> str:
        if self.down:
            raise DockerError(f"docker engine {self.name!r}: not reachable (connection refused)")
        self.specs[spec.name] = spec
        return spec.name

    def _code(self, name: str) -> int:
        return next((code for part, code in self.exit_codes.items() if part in name), 0)

    def container_inspect(self, name: str) -> dict[str, Any] | None:
        if name in self.gone or name not in self.specs:
            return None
        spec = self.specs[name]
        return {
            "State": {
                "Running": name in self.stuck,
                "ExitCode": self._code(name),
                "OOMKilled": False,
                "Pid": 0,
            },
            "HostConfig": {"CpusetCpus": spec.cpuset, "NanoCpus": int((spec.cpus or 0) * 1e9)},
        }

    def wait_exit(self, name: str, timeout_s: float) -> int | None:
        return None if name in self.gone or name in self.stuck else self._code(name)

    def copy_out(self, name: str, path: str, dest: Path) -> None:
        out = dest / "out"
        out.mkdir(parents=True, exist_ok=True)
        if name.endswith("-master"):
            # The master stamps its steps on its own host's clock too.
            t = T0 + self.clock_ahead_s
            steps = [
                {"users": 8, "start": t, "measure_from": t + 1, "end": t + 3},
                {"users": 16, "start": t + 3, "measure_from": t + 4, "end": t + 6},
            ]
            (out / "schedule.json").write_text(json.dumps({"steps": steps, "processes": 3}))
            return
        if self._code(name) != 0:
            return
        # Each worker stamps its requests on its own clock: ahead by ``clock_ahead_s``.
        rows = ["start,ms,ok,name,bytes"]
        rows += [f"{T0 + self.clock_ahead_s + 1.5 + i * 0.5},2.0,1,calibrate,10" for i in range(6)]
        (out / "samples-1.csv").write_text("\n".join(rows) + "\n")

    def logs(self, name: str, tail: int = 20) -> str:
        return "last words"

    def container_stats(self, name: str) -> Sample | None:
        return Sample(T0, 0, 0, 0, 0)

    def system_time(self) -> float:
        return T0 + self.clock_ahead_s


class StillSampler(Sampler):
    def start(self) -> Sampler:
        return self

    def stop(self) -> None:
        return None


def hosts(
    ahead_s: float = 0.0, master_ahead_s: float = 0.0
) -> tuple[FakeEngine, FakeEngine, DistributedLoad]:
    one, two = FakeEngine("sim1", master_ahead_s), FakeEngine("sim2", ahead_s)
    master_clock = ClockOffset(master_ahead_s, 0.001) if master_ahead_s else LOCAL
    load = DistributedLoad(
        (
            LoadHost("sim1", cast(Docker, one), "10.213.0.2", (1,), master_clock),
            LoadHost("sim2", cast(Docker, two), "10.213.0.3", (0, 1), ClockOffset(ahead_s, 0.001)),
        )
    )
    return one, two, load


def drive(load: DistributedLoad, tmp_path: Path) -> Any:
    driver = DistributedDriver(load, 5.0, new_sampler=StillSampler)
    return driver.drive("r1", "servingmatrix-r1", JOB, {}, tmp_path / "out", 6.0)


def test_a_worker_per_core_and_the_master_on_the_first_host() -> None:
    _, _, load = hosts()
    assert [w.label for w in load.workers] == ["sim1/1", "sim2/1", "sim2/2"]
    assert [w.core for w in load.workers] == [1, 0, 1]
    master = master_spec(load, JOB, "m", "r1")
    command = list(master.command)
    assert command[command.index("--expect-workers") + 1] == "3"
    assert command[command.index("--master-bind-host") + 1] == "10.213.0.2"
    assert "--expect-workers-max-wait" in command
    assert master.env["SM_WORKERS"] == "3"
    worker = worker_spec(load, load.workers[2], JOB, "w", "r1")
    wcommand = list(worker.command)
    assert wcommand[wcommand.index("--master-host") + 1] == "10.213.0.2"
    assert (worker.cpuset, worker.cpus, worker.network) == ("1", 1.0, "host")
    assert worker.anonymous_volumes == ("/out",)
    # Hardened as every other container of a run.
    assert worker.read_only and worker.cap_drop_all and worker.no_new_privileges


def test_samples_of_every_worker_are_merged_on_the_harness_clock(tmp_path: Path) -> None:
    one, two, load = hosts(ahead_s=30.0)
    result = drive(load, tmp_path)
    assert not isinstance(result.output, str), result.output
    output = result.output
    assert output.processes == 3
    assert len(output.samples) == 18
    # sim2's clock is 30 s ahead: its samples are moved back onto the harness's clock.
    assert max(s.start for s in output.samples) < T0 + 5
    assert [s.load.amount for s in output.steps] == [8, 16]
    assert set(result.applied) == {"loadgen@sim1/1", "loadgen@sim2/1", "loadgen@sim2/2"}
    # Every container removed from the engine that ran it.
    assert "servingmatrix-r1-loadgen-master" in one.removed
    assert {"servingmatrix-r1-loadgen-sim2-1", "servingmatrix-r1-loadgen-sim2-2"} <= set(two.removed)


def test_the_masters_steps_and_each_workers_samples_land_on_one_clock(tmp_path: Path) -> None:
    """The master's host 10 s ahead, the other host 30 s ahead: every time is moved back by its own
    host's offset, so the windows and the samples line up on the harness's clock."""
    _, _, load = hosts(ahead_s=30.0, master_ahead_s=10.0)
    output = drive(load, tmp_path).output
    assert not isinstance(output, str), output
    assert [(s.start, s.measure_from, s.end) for s in output.steps] == [
        (pytest.approx(T0), pytest.approx(T0 + 1), pytest.approx(T0 + 3)),
        (pytest.approx(T0 + 3), pytest.approx(T0 + 4), pytest.approx(T0 + 6)),
    ]
    # Each of the three workers sent at T0 + 1.5, 2.0, ... 4.0 on its own clock.
    expected = sorted(T0 + 1.5 + i * 0.5 for i in range(6) for _ in range(3))
    assert [s.start for s in output.samples] == pytest.approx(expected)


def test_a_killed_worker_fails_the_session_with_its_name_and_why(tmp_path: Path) -> None:
    _, two, load = hosts()
    two.exit_codes["sim2-2"] = 137
    result = drive(load, tmp_path)
    assert isinstance(result.output, str)
    assert "1 of 3 load generator workers lost" in result.output
    assert "sim2/2: it exited with code 137 (killed)" in result.output


def test_a_worker_whose_container_is_gone_is_lost(tmp_path: Path) -> None:
    one, _, load = hosts()
    one.gone.add("servingmatrix-r1-loadgen-sim1-1")
    result = drive(load, tmp_path)
    assert isinstance(result.output, str)
    assert "sim1/1: its container is gone" in result.output


def test_a_load_host_whose_engine_is_gone_fails_the_session_not_the_run(tmp_path: Path) -> None:
    one, two, load = hosts()
    two.down = True
    result = drive(load, tmp_path)
    assert isinstance(result.output, str)
    assert result.output.startswith("the load generator could not run: docker engine 'sim2'")
    # What did start elsewhere is removed all the same.
    assert "servingmatrix-r1-loadgen-master" in one.removed


def test_a_master_that_overran_is_stopped(tmp_path: Path) -> None:
    one, _, load = hosts()
    one.stuck.add("servingmatrix-r1-loadgen-master")
    result = drive(load, tmp_path)
    assert result.output == "the load generator's master overran its time budget and was stopped"
    assert "servingmatrix-r1-loadgen-master" in one.removed


def test_a_master_gone_without_an_exit_code_is_not_said_to_have_overran(tmp_path: Path) -> None:
    one, _, load = hosts()
    one.gone.add("servingmatrix-r1-loadgen-master")
    result = drive(load, tmp_path)
    assert result.output == "the load generator's master on sim1 ended unseen"


def test_merge_refuses_a_worker_without_samples(tmp_path: Path) -> None:
    _, _, load = hosts()
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "schedule.json").write_text(json.dumps({"steps": []}))
    (tmp_path / "w").mkdir()
    with pytest.raises(UserError, match="the load generator wrote no samples"):
        merge_output(tmp_path / "m", {"sim1/1": tmp_path / "w"}, load, "closed")


class Clock:
    """An engine whose answers take the given round trips; its clock is 2 s ahead."""

    def __init__(self, trips: list[float]) -> None:
        self.trips = iter(trips)
        self.t = 100.0

    def now(self) -> float:
        return self.t

    def system_time(self) -> float:
        trip = next(self.trips)
        self.t += trip / 2
        value = self.t + 2.0
        self.t += trip / 2
        return value


def test_the_offset_is_read_off_the_shortest_round_trip() -> None:
    clock = Clock([0.2, 0.01, 0.1])
    offset = measure_offset(clock, readings=3, now=clock.now)
    assert offset.offset_s == pytest.approx(2.0)
    assert offset.uncertainty_s == pytest.approx(0.005)
    assert offset.applied_s == pytest.approx(2.0)


def test_an_offset_within_its_uncertainty_is_not_applied() -> None:
    assert ClockOffset(0.004, 0.01).applied_s == 0.0
    assert ClockOffset(-0.02, 0.01).applied_s == -0.02
    assert ClockOffset(0.02, 0.01).to_local(10.0) == pytest.approx(9.98)
    assert ClockOffset(0.004, 0.01).as_dict() == {"offset_ms": 4.0, "uncertainty_ms": 10.0, "applied_ms": 0.0}


class FlakyEngineStats:
    """A remote engine's statistics that fail once (the engine did not answer), then come again."""

    def __init__(self) -> None:
        self.calls = 0
        #: Set at the third call: the sampling went on past the failure.
        self.third_call = threading.Event()

    def sample(self) -> Sample:
        self.calls += 1
        if self.calls >= 3:
            self.third_call.set()
        if self.calls == 1:
            raise DockerError("docker engine 'sim2': reading the stats of w failed: connection reset")
        return Sample(T0 + self.calls, self.calls * 1_000_000, 0, 0, 1)

    def process_rss(self) -> list[tuple[int, str, int]]:
        return []


def test_an_engine_that_fails_a_statistics_call_does_not_end_the_sampling() -> None:
    flaky = FlakyEngineStats()
    sampler = Sampler({"loadgen@sim2/1": flaky}, interval_s=0.01).start()
    # The thread goes on past the failure (the wait ends at the third call; its bound only ends a hang).
    went_on = flaky.third_call.wait(60)
    sampler.stop()
    assert went_on
    cpu = [s.cpu_ns for s in sampler.samples["loadgen@sim2/1"]]
    assert cpu[:2] == [2_000_000, 3_000_000] and len(cpu) == flaky.calls - 1
