"""One session: a fresh stack for one mode x workload x trial, swarmed through every step.

The backing services start, then the server; readiness is polled and the conformance check run (a
broken stack is a failure, not a measurement); Locust drives every step while the server's and the
generator's cgroups are sampled; everything is torn down whatever happened. What the session leaves
(a ``Swarm``) is judged cell by cell elsewhere.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servingmatrix.engine.clock import engine_seconds
from servingmatrix.engine.docker import Docker
from servingmatrix.errors import ServingMatrixError
from servingmatrix.matrix import Matrix
from servingmatrix.modes import ModeConfig
from servingmatrix.results.cell import ServerExit
from servingmatrix.results.folder import CellKey
from servingmatrix.run.load.arrivals import Arrivals, session_seed
from servingmatrix.run.load.distributed import DistributedDriver, DistributedLoad, server_reader
from servingmatrix.run.load.drive import Driver, LocustRun, StartedLocust, count_server_connections
from servingmatrix.run.load.loadgen import Load, LoadgenOutput, LoadKind, LocustJob, locust_spec
from servingmatrix.run.load.reference import ROLE as REFERENCE_ROLE
from servingmatrix.run.load.reference import ReferenceResult, reference_window, run_reference
from servingmatrix.run.load.step_window import StepWindow
from servingmatrix.run.measure.cgroups import Sampler
from servingmatrix.run.measure.connections import spread_over_window
from servingmatrix.run.measure.disturbance import parse_cpuset, readings_disturbance
from servingmatrix.run.measure.latency import window_stats
from servingmatrix.run.plan.cpuplan import CpuPlan
from servingmatrix.run.stack.conformance import check_server
from servingmatrix.run.stack.readiness import NotReady
from servingmatrix.run.stack.stack import Stack, StackPorts
from servingmatrix.workloads import WorkloadConfig

#: Why a cell measured across hosts has no reference figure.
REFERENCE_ACROSS_HOSTS = (
    "not measured: the reference generator runs beside a load generator on this machine only"
)

#: Why a later trial of a cell has no reference figure when the matrix asks for the first one only.
REFERENCE_FIRST_TRIAL = (
    "not measured: an earlier trial of this cell has the reference generator's figure "
    "(reference_trials: first)"
)


@dataclass(frozen=True)
class Session:
    """One mode x workload x trial: one stack, one Locust session through every step's load."""

    mode: ModeConfig
    workload: WorkloadConfig
    trial: int
    loads: tuple[Load, ...]
    #: Open loop: how the arrivals are spaced, and this session's seed for them.
    arrivals: Arrivals = field(default_factory=Arrivals)
    #: Whether the reference generator measures this session's steps (when the matrix has one): every
    #: trial's, or with ``reference_trials: first`` only until a trial of the cell has its figure.
    reference: bool = True
    #: Each step's warm-up and window when not the matrix's: grown for answers slower than its window.
    window: StepWindow | None = None

    def step_window(self, matrix: Matrix) -> StepWindow:
        """Each step's warm-up and measured window: the session's own, or the matrix's."""
        return self.window or StepWindow(matrix.warmup_s, matrix.duration_s)

    def key(self, load: Load) -> CellKey:
        return CellKey(self.mode.spec, self.workload.spec, load.amount, self.trial)

    @property
    def slug(self) -> str:
        return self.key(Load(0)).slug.replace("-u0-", "-")

    def label(self, load: Load) -> str:
        """One cell in words, as the progress shows it: "waitress[threads=4] x json @ 4 users"."""
        return f"{self.mode.spec} x {self.workload.spec} @ {load}"


def plan_round(
    matrix: Matrix,
    trial: int,
    seed: int | None = None,
    only: Mapping[tuple[str, str], Collection[int]] | None = None,
) -> list[Session]:
    """One round: trial ``trial`` of every mode x workload, or of those in ``only`` ((mode, workload)
    specs, each with the steps to measure: a further trial of ``auto`` measures only the steps short
    of the precision).

    Workloads in the matrix's order (a workload's backing services are kept across its sessions);
    within each, the modes in an order shuffled from ``seed`` and the round, so slow drift of the
    machine, or the after-effects of one mode on the next, land on no mode always in the same place.
    Without a seed, the registry's order.
    """
    loads = tuple(Load(amount, "open" if matrix.open_loop else "closed") for amount in matrix.steps)
    round_: list[Session] = []
    for workload in matrix.workload_configs():
        modes = [m for m in matrix.mode_configs() if only is None or (m.spec, workload.spec) in only]
        if seed is not None:
            random.Random(f"{seed}/{trial}/{workload.spec}").shuffle(modes)
        for mode in modes:
            steps = None if only is None else set(only[(mode.spec, workload.spec)])
            kept = tuple(load for load in loads if steps is None or load.amount in steps)
            if not kept:
                continue
            seed_ = session_seed(matrix.arrival_seed, mode.spec, workload.spec, trial)
            round_.append(Session(mode, workload, trial, kept, Arrivals(matrix.arrivals, seed_)))
    return round_


def plan_sessions(matrix: Matrix, seed: int | None = None) -> list[Session]:
    """The rounds every cell gets, trials outermost: the fixed trials, or the least of ``auto``
    (``Runner`` adds the further rounds of ``auto`` as the trials come in)."""
    return [s for trial in range(1, matrix.first_trials + 1) for s in plan_round(matrix, trial, seed)]


@dataclass
class SessionTimings:
    #: Starting (or checking) the backing services.
    backing_s: float = 0.0
    #: Starting the server, waiting until it answers, and its conformance check.
    start_s: float = 0.0
    warmup_s: float = 0.0
    measured_s: float = 0.0
    teardown_s: float = 0.0
    #: The Locust container from start to end: its warm-ups, windows, and its own start and stop.
    loadgen_s: float = 0.0
    #: The reference generator's runs after the Locust steps (its warm-ups, windows, starts and stops).
    reference_s: float = 0.0
    reference_warmup_s: float = 0.0
    reference_measured_s: float = 0.0
    #: Why the backing services were (re)started before this session; empty when they were kept.
    backing_restarted: str = ""


@dataclass(frozen=True)
class Swarm:
    """What one Locust session left: its output (or why there is none), the server's fate, the samples."""

    output: LoadgenOutput | str
    server_exit: ServerExit | None = None
    sampler: Sampler | None = None
    applied: dict[str, Any] = field(default_factory=dict)
    #: The reference generator's measurement per step (by its amount); none in an open loop.
    references: dict[int, ReferenceResult] = field(default_factory=dict)
    #: Per step (by its amount): each role's share of the reference's run spent on other work (None:
    #: not measured).
    reference_disturbance: dict[int, dict[str, float | None]] = field(default_factory=dict)
    #: Per step (by its amount): the server's connections per process through the reference's run,
    #: most first (None: not read).
    reference_connections: dict[int, tuple[int, ...] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionResult:
    """A session's end: a swarm to judge, or (``swarm`` None) why the stack never took load."""

    timings: SessionTimings
    swarm: Swarm | None = None
    failure: str = ""


@dataclass
class SessionRunner:
    """Runs sessions on one machine: their stacks, their checks, their load."""

    docker: Docker
    matrix: Matrix
    run_id: str
    ports: StackPorts
    driver: Driver
    conformance: Callable[[str, str], list[str]] = check_server
    #: With several hosts: the load hosts that swarm this runner's server (None: one Locust container
    #: on this machine).
    load: DistributedLoad | None = None
    #: The server's engine shares this machine's kernel: its cgroup files are read directly.
    server_here: bool = True

    def run(self, session: Session, plan: CpuPlan, out_dir: Path, stack: Stack) -> SessionResult:
        """Start the server on ``stack`` (its backing services kept while unchanged), check it, swarm it;
        always remove the session's containers, and leave the backing services for the next session."""
        if self.load is not None:
            try:
                return self._run(session, plan, out_dir, stack)
            except ServingMatrixError as exc:
                # An engine of another host that stopped answering (its host gone): this session fails
                # with why, and the run goes on. On one machine the engine is the run's own: it stops.
                return SessionResult(SessionTimings(), failure=f"a host's engine failed: {exc}")
        return self._run(session, plan, out_dir, stack)

    def _run(self, session: Session, plan: CpuPlan, out_dir: Path, stack: Stack) -> SessionResult:
        timings = SessionTimings()
        started = time.monotonic()
        try:
            try:
                timings.backing_restarted = stack.ensure_backing(plan.backing) or ""
                timings.backing_s = time.monotonic() - started
                # Locust starts just before the server, its first step waiting for the go once the
                # server is checked: its interpreter's start and Locust's imports overlap the server's.
                locust = self._start_locust(session, stack, plan, out_dir) if self.load is None else None
                stack.start_server(session.mode, plan.server)
            except NotReady as exc:
                return SessionResult(timings, failure=f"not ready: {exc}")
            failures = self.conformance(stack.server_url, session.mode.spec)
            if failures:
                return SessionResult(timings, failure=f"conformance check failed: {'; '.join(failures[:3])}")
            timings.start_s = time.monotonic() - started - timings.backing_s
            swarm = self._swarm(session, stack, plan, out_dir, timings, locust)
        finally:
            torn = time.monotonic()
            stack.stop_session()
            timings.teardown_s = time.monotonic() - torn
        return SessionResult(timings, swarm)

    def _swarm(
        self,
        session: Session,
        stack: Stack,
        plan: CpuPlan,
        out_dir: Path,
        timings: SessionTimings,
        locust: StartedLocust | None,
    ) -> Swarm:
        """Run Locust through every step (the container started here, or a master and workers on the
        load hosts); return its output (or why there is none)."""
        load_s = len(session.loads) * session.step_window(self.matrix).held_s
        kind = session.loads[0].kind if session.loads else "closed"
        if self.load is not None:
            drive = self._drive_hosts(session, stack, self.load, out_dir, load_s, kind)
        else:
            assert locust is not None, "a session on this machine starts its Locust container first"
            drive = self._drive_here(stack, locust, load_s, kind)
        if drive is None:
            return Swarm("the server container vanished before the load started")
        timings.loadgen_s = drive.elapsed_s
        server_exit = self._server_exit(stack)
        output = drive.output
        if isinstance(output, str):
            return Swarm(output, server_exit)
        timings.warmup_s = sum(s.measure_from - s.start for s in output.steps)
        timings.measured_s = sum(s.end - s.measure_from for s in output.steps)
        references: dict[int, ReferenceResult] = {}
        disturbance: dict[int, dict[str, float | None]] = {}
        connections: dict[int, tuple[int, ...] | None] = {}
        if self.matrix.measures_reference and not session.reference:
            references = {
                x.amount: ReferenceResult(x.amount, missing=REFERENCE_FIRST_TRIAL) for x in session.loads
            }
        elif self.matrix.measures_reference and self.load is not None:
            # The reference generator runs beside a load generator on this machine only.
            references = {
                x.amount: ReferenceResult(x.amount, missing=REFERENCE_ACROSS_HOSTS) for x in session.loads
            }
        elif self.matrix.measures_reference and server_exit is None:
            began = time.monotonic()
            references, disturbance, connections = self._references(session, stack, plan, out_dir, output)
            timings.reference_s = time.monotonic() - began
            timings.reference_warmup_s = sum(r.warmup_s or 0.0 for r in references.values())
            timings.reference_measured_s = sum(r.duration_s or 0.0 for r in references.values())
        return Swarm(output, server_exit, drive.sampler, drive.applied, references, disturbance, connections)

    def _job(self, session: Session, stack: Stack) -> LocustJob:
        window = session.step_window(self.matrix)
        return LocustJob(
            workload=session.workload,
            target=stack.server_url,
            loads=session.loads,
            warmup_s=window.warmup_s,
            duration_s=window.duration_s,
            request_timeout_s=self.matrix.request_timeout_s,
            arrivals=session.arrivals,
        )

    def _start_locust(self, session: Session, stack: Stack, plan: CpuPlan, out_dir: Path) -> StartedLocust:
        """One Locust container on this machine, its processes forked by Locust, started and waiting
        for its go."""
        spec = locust_spec(
            self._job(session, stack),
            name=stack.name("loadgen"),
            run_id=self.run_id,
            out_dir=out_dir,
            placement=plan.loadgen,
            processes=plan.loadgen_processes,
            gated=True,
        )
        return self.driver.start(stack, spec, out_dir)

    def _drive_here(
        self, stack: Stack, locust: StartedLocust, load_s: float, kind: LoadKind
    ) -> LocustRun | None:
        """The started Locust container through its steps, from its go; None: no server."""
        server_pid = self.driver.pid_of(stack.name("server"))
        if server_pid is None:
            return None
        return self.driver.run_steps(stack, locust, {"server": server_pid}, load_s, kind)

    def _drive_hosts(
        self,
        session: Session,
        stack: Stack,
        load: DistributedLoad,
        out_dir: Path,
        load_s: float,
        kind: LoadKind,
    ) -> LocustRun | None:
        """Locust's master and workers on the load hosts, the server sampled alongside; None: no server."""
        reader = server_reader(stack.docker, stack.name("server"), self.server_here)
        if reader is None:
            return None
        driver = DistributedDriver(load, self.matrix.request_timeout_s)
        job = self._job(session, stack)
        drive = driver.drive(
            stack.run_id, f"servingmatrix-{stack.run_id}", job, {"server": reader}, out_dir, load_s, kind
        )
        return dataclasses.replace(drive, applied={**self.driver.applied(stack), **drive.applied})

    def _references(
        self, session: Session, stack: Stack, plan: CpuPlan, out_dir: Path, output: LoadgenOutput
    ) -> tuple[
        dict[int, ReferenceResult], dict[int, dict[str, float | None]], dict[int, tuple[int, ...] | None]
    ]:
        """After the Locust steps, the reference generator at each step's users against the same server,
        the share of each run its cores spent on other work, and how the server's connections spread
        over its processes through it.

        Same cores and quota as the Locust container, as many connections as the step had users; a
        reference that fails is recorded as missing with its reason and never touches Locust's figures.
        """
        results: dict[int, ReferenceResult] = {}
        disturbance: dict[int, dict[str, float | None]] = {}
        connections: dict[int, tuple[int, ...] | None] = {}
        # What the load before each run left in the server: Locust's last step's, then the reference's
        # previous run's.
        before = _queue_s(output, session.loads[-1]) if session.loads else None
        for load in session.loads:
            watch = ReferenceWatch(self.driver, stack)
            latency = _p99_s(output, load)
            window = reference_window(self.matrix.reference_duration_s, latency, load.amount, before)
            before = latency
            results[load.amount] = run_reference(
                stack,
                session.workload,
                connections=load.amount,
                window=window,
                placement=plan.loadgen,
                out_dir=out_dir / f"reference-{load.amount}",
                request_timeout_s=self.matrix.request_timeout_s,
                started=watch.start,
            )
            disturbance[load.amount] = watch.stop(role_cores(plan))
            connections[load.amount] = watch.connections()
        return results, disturbance, connections

    def _server_exit(self, stack: Stack) -> ServerExit | None:
        """How the server ended, if it has: OOM-killed or its exit code, when, and its last words."""
        state = (stack.docker.container_inspect(stack.name("server")) or {}).get("State", {})
        if state.get("Running"):
            return None
        return ServerExit(
            oom_killed=bool(state.get("OOMKilled")),
            exit_code=state.get("ExitCode"),
            finished_at=engine_seconds(str(state.get("FinishedAt", ""))),
            last_log=tuple(stack.docker.logs(stack.name("server"), tail=10).splitlines()[-10:]),
        )


def role_cores(plan: CpuPlan) -> dict[str, tuple[int, ...]]:
    """The cores of each role whose disturbance is measured: the server's, the generator's."""
    return {"server": parse_cpuset(plan.server.cpuset), "generator": parse_cpuset(plan.loadgen.cpuset)}


@dataclass
class ReferenceWatch:
    """The cores watched while the reference generator runs: readings from its container's start
    until it has ended (a reading is kept only while every project container can be read, so the
    readings span wrk's own run)."""

    driver: Driver
    stack: Stack
    sampler: Sampler | None = None

    def start(self) -> None:
        pids = {
            "server": self.driver.pid_of(self.stack.name("server")),
            "reference": self.driver.pid_of(self.stack.name(REFERENCE_ROLE)),
        }
        if any(pid is None for pid in pids.values()):
            return  # wrk already gone, or no server: its run cannot be bracketed
        watched = {role: pid for role, pid in pids.items() if pid is not None}
        watched.update(self.driver.backing_pids(self.stack, exclude=watched))
        self.sampler = count_server_connections(
            self.driver.new_sampler(watched), self.stack.server_url
        ).start()

    def stop(self, roles: dict[str, tuple[int, ...]]) -> dict[str, float | None]:
        """Each role's share of the run spent on other work (None: not measured)."""
        if self.sampler is None:
            return {role: None for role in roles}
        self.sampler.stop()
        return readings_disturbance(self.sampler.cores, roles)

    def connections(self) -> tuple[int, ...] | None:
        """How the server's connections spread over its processes through wrk's run (None: not read)."""
        if self.sampler is None or not self.sampler.connections:
            return None
        return spread_over_window(self.sampler.connections, -math.inf, math.inf)


def _queue_s(output: LoadgenOutput, load: Load) -> float | None:
    """How long the server still answers what Locust's step at ``load`` left queued when it ended: the
    step's p99, or by Little's law its users over its throughput, whichever is longer. The second is
    the time a request spent in the whole loop, which holds the wait Locust's clock cannot see (a
    listen backlog of abandoned connections: `uwsgi[processes=3]` at 64 users answered with a p99 of
    103 ms, while each user's turn came every 2.2 s). None when the step had no answer."""
    p99 = _p99_s(output, load)
    step = next((s for s in output.steps if s.load == load), None)
    if step is None or load.open_loop:
        return p99
    stats = window_stats(output.samples, step.measure_from, step.end)
    if stats.requests <= 0 or stats.seconds <= 0:
        return p99
    in_loop = load.amount * stats.seconds / stats.requests
    return in_loop if p99 is None else max(p99, in_loop)


def _p99_s(output: LoadgenOutput, load: Load) -> float | None:
    """Locust's p99 at ``load``'s step, in seconds (None when the step had no answer): the reference's
    window is sized from it."""
    step = next((s for s in output.steps if s.load == load), None)
    if step is None:
        return None
    p99_ms = window_stats(output.samples, step.measure_from, step.end).latency_ms.get("p99")
    return p99_ms / 1000.0 if p99_ms is not None and math.isfinite(p99_ms) else None
