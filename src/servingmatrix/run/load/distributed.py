"""Locust across engines: a master on the first load host, a worker per planned core on every load host.

Locust's own distributed mode does the work (``--master --expect-workers``, ``--worker``); the harness
starts the containers, waits for them with deadlines, then copies each worker's own per-request
samples out of its container and merges them on one clock, so exact percentiles survive. Each
worker's times are moved onto the harness's clock with its host's measured offset (``clocks``), as
are the master's step times, so every window is cut on the clock its samples were stamped on.

A worker that is lost (killed, out of memory, its host gone, no samples written) fails the session
with the reason: its samples are in its memory until Locust stops, so they went with it, and the
master would have moved its users onto the others, a quietly different load.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import ContainerSpec, Docker
from servingmatrix.errors import ServingMatrixError, UserError
from servingmatrix.run.load.drive import LOCUST_GRACE_S, LocustRun, applied_limits
from servingmatrix.run.load.loadgen import (
    LOCUST_IMAGE,
    WORKER_ROLE_PREFIX,
    LoadgenOutput,
    LoadKind,
    LocustJob,
    read_samples,
    read_schedule,
)
from servingmatrix.run.measure.cgroups import ContainerCgroup, Sample, Sampler, UsageReader
from servingmatrix.run.measure.clocks import ClockOffset
from servingmatrix.run.measure.latency import RequestSample
from servingmatrix.run.stack.stack import container_labels

#: Locust's master port; a session's master on a host takes ``MASTER_PORT + 2 * slot`` (Locust uses
#: the port and the one after it).
MASTER_PORT = 5557
#: How long the master waits for every worker to connect before it gives up and exits non-zero.
EXPECT_WORKERS_WAIT_S = 60
#: After the master ends, how long a worker may take to write its samples and exit.
WORKER_EXIT_S = 120.0
#: Where a worker and the master write inside their containers (a volume, copied out at the end).
CONTAINER_OUT = "/out"


@dataclass(frozen=True)
class LoadHost:
    """A host that sends load: its engine, the address the others reach it at, its workers' cores."""

    name: str
    engine: Docker
    address: str
    cores: tuple[int, ...]
    clock: ClockOffset
    #: The engine shares this machine's kernel: its containers' cgroup files are read directly.
    local: bool = False


@dataclass(frozen=True)
class Worker:
    host: LoadHost
    index: int
    core: int

    @property
    def label(self) -> str:
        return f"{self.host.name}/{self.index}"

    @property
    def role(self) -> str:
        return f"{WORKER_ROLE_PREFIX}{self.label}"


@dataclass(frozen=True)
class DistributedLoad:
    """The load hosts of one session, the master on the first; one worker per core of each."""

    hosts: tuple[LoadHost, ...]
    port: int = MASTER_PORT

    def __post_init__(self) -> None:
        if not self.hosts or not all(h.cores for h in self.hosts):
            raise UserError("a distributed load needs at least one load host with at least one core")

    @property
    def master(self) -> LoadHost:
        return self.hosts[0]

    @property
    def workers(self) -> tuple[Worker, ...]:
        return tuple(
            Worker(host, index, core) for host in self.hosts for index, core in enumerate(host.cores, start=1)
        )

    def as_dict(self) -> dict[str, Any]:
        """What run.json records: the hosts, their workers and their clocks."""
        return {
            "master": {"host": self.master.name, "address": self.master.address, "port": self.port},
            "hosts": [
                {
                    "name": h.name,
                    "address": h.address,
                    "workers": len(h.cores),
                    "cores": list(h.cores),
                    "clock": h.clock.as_dict(),
                }
                for h in self.hosts
            ],
            "workers": len(self.workers),
        }


def master_spec(load: DistributedLoad, job: LocustJob, name: str, run_id: str) -> ContainerSpec:
    """The master: it runs the step shape and writes ``schedule.json``; it sends no request."""
    workers = len(load.workers)
    command = (
        *job.command(),
        "--master",
        "--master-bind-host",
        load.master.address,
        "--master-bind-port",
        str(load.port),
        "--expect-workers",
        str(workers),
        "--expect-workers-max-wait",
        str(EXPECT_WORKERS_WAIT_S),
    )
    return _locust_container(
        name, run_id, job.env(workers, CONTAINER_OUT), command, str(load.master.cores[0]), "512m"
    )


def worker_spec(
    load: DistributedLoad, worker: Worker, job: LocustJob, name: str, run_id: str
) -> ContainerSpec:
    """One worker: one Locust process on one core, sending requests and keeping every sample."""
    command = (
        "-f",
        job.locustfile,
        "--worker",
        "--master-host",
        load.master.address,
        "--master-port",
        str(load.port),
        "--loglevel",
        "WARNING",
    )
    return _locust_container(
        name, run_id, job.env(len(load.workers), CONTAINER_OUT), command, str(worker.core), "2g"
    )


def _locust_container(
    name: str, run_id: str, env: Mapping[str, str], command: tuple[str, ...], cpuset: str, memory: str
) -> ContainerSpec:
    return ContainerSpec(
        name=name,
        image=LOCUST_IMAGE,
        command=command,
        env=dict(env),
        labels=container_labels(run_id, "loadgen"),
        network="host",
        cpuset=cpuset,
        cpus=1.0,
        memory=memory,
        pids_limit=4096,
        tmpfs={"/tmp": "rw,mode=1777,size=64m"},
        anonymous_volumes=(CONTAINER_OUT,),
        no_healthcheck=True,
    )


def reader_for(host: LoadHost, name: str) -> UsageReader:
    """How a worker's CPU, throttling and memory are read: its cgroup files on this machine's
    kernel, else the engine's statistics API (also for a worker no longer running: its readings
    are then skipped)."""
    return server_reader(host.engine, name, host.local) or EngineStats(host.engine, name)


def server_reader(engine: Docker, name: str, here: bool) -> UsageReader | None:
    """How a running container's usage (the server's, a worker's) is read: its cgroup files when
    its engine is this machine's, else the engine's API; None when it is not running."""
    state = (engine.container_inspect(name) or {}).get("State") or {}
    if not state.get("Running"):
        return None
    if here and state.get("Pid"):
        return ContainerCgroup(int(state["Pid"]))
    return EngineStats(engine, name)


@dataclass
class EngineStats:
    """A container's usage from its engine's API (a remote engine's cgroup files are not ours to read)."""

    engine: Docker
    name: str

    def sample(self) -> Sample:
        sample = self.engine.container_stats(self.name)
        if sample is None:
            raise OSError(f"{self.name}: no statistics (the container is gone)")
        return sample

    def process_rss(self) -> list[tuple[int, str, int]]:
        return []


@dataclass
class Lost:
    """A worker that did not see the session through, and why."""

    worker: Worker
    why: str


@dataclass
class DistributedDriver:
    """Drives one session's load over the load hosts; the server's usage is sampled alongside."""

    load: DistributedLoad
    request_timeout_s: float
    #: The unit tests replace the readers' sampler with a fake.
    new_sampler: Callable[[dict[str, UsageReader]], Sampler] = Sampler

    def drive(
        self,
        run_id: str,
        name_prefix: str,
        job: LocustJob,
        watched: Mapping[str, UsageReader],
        out_dir: Path,
        load_s: float,
        kind: LoadKind = "closed",
    ) -> LocustRun:
        """Start the master and the workers, sample them and ``watched`` until the master ends; then
        collect and merge every worker's samples, or say which worker was lost and why."""
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        master_name = f"{name_prefix}-loadgen-master"
        names = {w.label: f"{name_prefix}-loadgen-{w.host.name}-{w.index}" for w in self.load.workers}
        started: list[tuple[Docker, str]] = []
        try:
            return self._drive(run_id, job, watched, out_dir, load_s, kind, master_name, names, started)
        except ServingMatrixError as exc:
            # An engine that stopped answering (its host gone): the session fails, the run goes on.
            return LocustRun(f"the load generator could not run: {exc}", Sampler({}))
        finally:
            for engine, name in reversed(started):
                try:
                    engine.remove_containers([name])
                except ServingMatrixError:
                    continue

    def _drive(
        self,
        run_id: str,
        job: LocustJob,
        watched: Mapping[str, UsageReader],
        out_dir: Path,
        load_s: float,
        kind: LoadKind,
        master_name: str,
        names: dict[str, str],
        started: list[tuple[Docker, str]],
    ) -> LocustRun:
        load = self.load
        master_engine = load.master.engine
        master_engine.remove_containers([master_name])
        started.append((master_engine, master_name))
        master_engine.run_detached(master_spec(load, job, master_name, run_id))
        for worker in load.workers:
            name = names[worker.label]
            worker.host.engine.remove_containers([name])
            started.append((worker.host.engine, name))
            worker.host.engine.run_detached(worker_spec(load, worker, job, name, run_id))
        readers: dict[str, UsageReader] = dict(watched)
        applied: dict[str, Any] = {}
        for worker in load.workers:
            name = names[worker.label]
            readers[worker.role] = reader_for(worker.host, name)
            applied[worker.role] = applied_limits(worker.host.engine.container_inspect(name) or {})
        sampler = self.new_sampler(readers).start()
        began = time.monotonic()
        budget = load_s + LOCUST_GRACE_S + self.request_timeout_s + EXPECT_WORKERS_WAIT_S
        try:
            exit_code = master_engine.wait_exit(master_name, budget)
            if exit_code is None:
                # No exit code: it still runs at the deadline, or its engine stopped answering.
                state = (master_engine.container_inspect(master_name) or {}).get("State") or {}
                if not state.get("Running"):
                    return LocustRun(
                        f"the load generator's master on {load.master.name} ended unseen", sampler
                    )
                return LocustRun(
                    "the load generator's master overran its time budget and was stopped", sampler
                )
            deadline = time.monotonic() + WORKER_EXIT_S
            codes = {
                w.label: w.host.engine.wait_exit(names[w.label], max(0.1, deadline - time.monotonic()))
                for w in load.workers
            }
        finally:
            sampler.stop()
        elapsed = time.monotonic() - began
        master_dir = out_dir / "master"
        try:
            master_engine.copy_out(master_name, CONTAINER_OUT, master_dir)
        except ServingMatrixError as exc:
            return LocustRun(
                f"the load generator's master left no schedule ({exc})", sampler, applied, elapsed
            )
        lost, worker_dirs = self._collect_workers(names, codes, out_dir)
        if exit_code != 0 and not lost:
            logs = master_engine.logs(master_name, tail=5)
            last = logs.splitlines()[-1] if logs else "(none)"
            return LocustRun(
                f"the load generator's master exited with code {exit_code}: {last}", sampler, applied, elapsed
            )
        if lost:
            return LocustRun(lost_reason(lost, len(load.workers)), sampler, applied, elapsed)
        try:
            output = merge_output(master_dir / "out", worker_dirs, load, kind)
        except ServingMatrixError as exc:
            return LocustRun(str(exc), sampler, applied, elapsed)
        return LocustRun(output, sampler, applied, elapsed)

    def _collect_workers(
        self, names: Mapping[str, str], codes: Mapping[str, int | None], out_dir: Path
    ) -> tuple[list[Lost], dict[str, Path]]:
        """Each worker's samples copied out into a folder of its own, or why it is lost."""
        lost: list[Lost] = []
        worker_dirs: dict[str, Path] = {}
        for worker in self.load.workers:
            name = names[worker.label]
            folder = out_dir / f"worker-{worker.host.name}-{worker.index}"
            why = _fate(worker.host.engine, name, codes[worker.label])
            if why is None:
                try:
                    worker.host.engine.copy_out(name, CONTAINER_OUT, folder)
                except ServingMatrixError as exc:
                    why = f"its samples could not be copied out ({exc})"
            if why is None and not any((folder / "out").glob("samples-*.csv")):
                why = "it wrote no samples"
            if why is not None:
                lost.append(Lost(worker, why))
            else:
                worker_dirs[worker.label] = folder / "out"
        return lost, worker_dirs


def _fate(engine: Docker, name: str, code: int | None) -> str | None:
    """Why a worker did not see its session through; None when it ended well."""
    try:
        state = (engine.container_inspect(name) or {}).get("State")
    except ServingMatrixError as exc:
        return f"its engine stopped answering ({exc})"
    if state is None:
        return "its container is gone"
    if state.get("Running"):
        return f"it was still running {WORKER_EXIT_S:.0f} s after the master ended"
    if state.get("OOMKilled"):
        return "it was killed: out of memory"
    exit_code = state.get("ExitCode") if code is None else code
    if exit_code != 0:
        return f"it exited with code {exit_code}" + (" (killed)" if exit_code == 137 else "")
    return None


def lost_reason(lost: list[Lost], workers: int) -> str:
    """One line naming the lost workers: the session's cells fail with it."""
    named = "; ".join(f"{item.worker.label}: {item.why}" for item in lost)
    return (
        f"{len(lost)} of {workers} load generator workers lost ({named}); "
        "their samples went with them, so the session's load is not known"
    )


def merge_output(
    master_dir: Path, worker_dirs: Mapping[str, Path], load: DistributedLoad, kind: LoadKind
) -> LoadgenOutput:
    """The master's steps and every worker's samples, all on the harness's clock."""
    by_label = {w.label: w for w in load.workers}
    master_clock = load.master.clock
    steps = [step.shifted(-master_clock.applied_s) for step in read_schedule(master_dir, kind)]
    samples: list[RequestSample] = []
    for label, folder in sorted(worker_dirs.items()):
        shift = -by_label[label].host.clock.applied_s
        samples.extend(s.shifted(shift) if shift else s for s in read_samples(folder))
    samples.sort(key=lambda s: s.start)
    return LoadgenOutput(steps, samples, len(load.workers))
