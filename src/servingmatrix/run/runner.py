"""The matrix runner: for each mode x workload x trial, a fresh stack swarmed through every step.

The runner walks the matrix (``session`` runs one session, ``judge`` judges each cell of it), writes
each cell the moment its session ends, and skips cells already on disk, so rerunning the same run
resumes it. Before measuring it removes what dead runs left, checks the ports, plans the cores and
calibrates the load generator (``calibration``); SIGINT or SIGTERM tear down and keep what is done.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servingmatrix.building.app_images import app_catalogue
from servingmatrix.engine.docker import Docker
from servingmatrix.engine.interrupts import taking_stops
from servingmatrix.errors import UserError
from servingmatrix.flags import QUIET_WAIT_S, REMEASURES, Flag
from servingmatrix.hosts.engines import connect_engine
from servingmatrix.hosts.inventory import Host
from servingmatrix.matrix import Matrix
from servingmatrix.precision import steps_short_of_precision
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run_record import RunRecord
from servingmatrix.run import quiet
from servingmatrix.run.fleet.lanes import Lane, deal, lane_ports, run_lanes, stop_lanes
from servingmatrix.run.fleet.run_hosts import SIMULATED_METHOD, RunHosts, ServerShare
from servingmatrix.run.judge import RunFacts, warning
from servingmatrix.run.load.calibration import (
    CALIBRATION_SETTINGS,
    CALIBRATION_USERS,
    calibrate,
    calibration_text,
    ceiling,
    lane_ceilings,
)
from servingmatrix.run.load.calibration_cache import CalibrationCache, calibration_key
from servingmatrix.run.load.distributed import DistributedLoad
from servingmatrix.run.load.drive import Driver, sampler_for
from servingmatrix.run.load.reference import reference_window
from servingmatrix.run.load.step_window import StepWindow
from servingmatrix.run.measure.cgroups import Sampler
from servingmatrix.run.measure.disturbance import read_busy
from servingmatrix.run.measure.metadata import collect_metadata
from servingmatrix.run.measure.phases import RunPhases
from servingmatrix.run.measure_again import MeasureAgain, failed_cell
from servingmatrix.run.plan.cpuplan import CpuPlan, plan_cpus
from servingmatrix.run.plan.hostplan import plan_hosts
from servingmatrix.run.plan.preflight import check_same_matrix
from servingmatrix.run.progress import Progress
from servingmatrix.run.quiet import QuietWait
from servingmatrix.run.session import (
    Session,
    SessionRunner,
    SessionTimings,
    Swarm,
    plan_round,
    plan_sessions,
    role_cores,
)
from servingmatrix.run.stack.conformance import check_server
from servingmatrix.run.stack.leftovers import remove_leftovers
from servingmatrix.run.stack.stack import Stack, StackPorts
from servingmatrix.say import Say

#: Starting and removing the reference generator's two containers, for the first ETA.
REFERENCE_START_S = 2.0
#: Startup, readiness, conformance and teardown of one session, for the first ETA (then measured).
OVERHEAD_GUESS_S = 15.0


__all__ = ["QUIET_WAIT_S", "REMEASURES", "Runner", "check_ports_free", "plan_sessions", "sampler_for"]


def check_ports_free(ports: StackPorts) -> None:
    for role, port in (("server", ports.server), ("upstream", ports.upstream), ("postgres", ports.postgres)):
        with socket.socket() as probe:
            # As servers do: connections in TIME_WAIT from a previous session do not hold the port.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise UserError(
                    f"port {port} on 127.0.0.1 (for the {role}) is already taken; stop what uses it or "
                    "run `servingmatrix clean` if a crashed run left it"
                ) from None


@dataclass
class Runner:
    docker: Docker
    matrix: Matrix
    folder: RunFolder
    say: Say
    force: bool = False
    ports: StackPorts = field(default_factory=StackPorts)
    keep_samples: bool = False
    #: The calibrated most the load generator sends (None: unknown), set when the run starts.
    ceiling: float | None = field(default=None, init=False)
    #: In a fleet, each server host's lane's own calibrated most (its own load hosts against its host).
    ceilings: dict[str, float | None] = field(default_factory=dict, init=False)
    run_warnings: list[Flag] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: f"r{os.getpid()}")
    #: Calibrate the load generator before measuring (off only where a test has no use for it).
    calibrate: bool = True
    #: Where calibrations are kept for the next run on the same machine, images and plan (None: not
    #: kept, and none reused: a new calibration every run).
    calibrations: Path | None = None
    #: Measure a new calibration even when a kept one matches (and keep the new one).
    recalibrate: bool = False
    #: The published run this one reproduces (a reproduction gives it), recorded in run.json.
    reproduces: dict[str, Any] | None = None
    # What a session starts, checks and samples: a user's app's stacks and declared requests
    # (``measure_matrix.new_runner`` gives them), or the unit tests' fakes of the containers, the HTTP
    # checks and the cgroups. Given when the runner is made, never replaced after.
    new_stack: Callable[[Docker, str, StackPorts], Stack] = Stack
    conformance: Callable[[str, str], list[str]] = check_server
    new_sampler: Callable[[dict[str, int]], Sampler] = field(default=lambda pids: sampler_for(pids))
    #: The seed of the order of the modes in each round of trials (None: the run's earlier one when it
    #: resumes, else a new one); recorded in run.json so the order can be replayed.
    order_seed: int | None = None
    #: Changes the CPU plan after it is made (a test starves the generator with it).
    adjust_plan: Callable[[CpuPlan], CpuPlan] = field(default=lambda plan: plan)
    #: The driver of a host's engine, for a run on the hosts of an inventory.
    connect: Callable[[Host], Docker] = connect_engine
    #: How long to wait at most for the plan's cores to be quiet before calibrating (0: not at all;
    #: ``run`` gives ``QUIET_WAIT_S``).
    quiet_wait_s: float = 0.0
    #: The wait for quiet cores waits for the load average too (``machine-busy``'s threshold): a run's
    #: first wait after a build; not a tune's probes, each a run whose load average is the last probe's.
    wait_for_load: bool = True
    #: How many times a disturbed window's steps are measured again (``run`` gives ``REMEASURES``; a
    #: test whose own fault injector is the other work on the plan's cores gives 0, and reads the cell
    #: recorded ``disturbed``).
    remeasures: int = REMEASURES
    #: Each core's busy time so far (ns), as the quiet wait reads it (the unit tests replace it).
    read_busy: Callable[[], dict[int, float] | None] = read_busy

    def run(self) -> RunRecord:
        """Measure every cell not yet on disk; on SIGINT or SIGTERM, tear down and keep what is done."""
        with taking_stops():
            return self._run()

    @property
    def driver(self) -> Driver:
        return Driver(self.docker, self.matrix.request_timeout_s, self.new_sampler)

    def _run(self) -> RunRecord:
        began = time.monotonic()
        self.docker.ping()
        removed = remove_leftovers(self.docker)
        if removed:
            self.say(f"removed {removed} containers left by an earlier run")
        check_ports_free(self.ports)
        hosts = self._connect_hosts()
        shares = hosts.shares() if hosts is not None else []
        plan = shares[0].plan if shares else self._plan()
        # What a rerun that measures nothing (or not every lane) anew keeps of the run's calibrations.
        earlier = self.folder.read_run() if self.folder.exists() else None
        self.order_seed = _order_seed(self.order_seed, earlier)
        record = self._open_run(plan, hosts, shares)
        sessions = plan_sessions(self.matrix, self.order_seed)
        # A cell on disk counts as measured only when it reads back as that cell.
        done = (
            set()
            if self.force
            else self.folder.measured([s.key(x) for s in sessions for x in s.loads], self.say)
        )
        todo = [s for s in sessions if not all(s.key(x) in done for x in s.loads)]
        skipped = len(sessions) - len(todo)
        if skipped:
            self.say(f"resuming: {skipped} of {len(sessions)} sessions already measured (--force to redo)")
        if hosts is None:
            self._settle(plan, wait=bool(todo))
        phases = RunPhases(began, prepare_s=time.monotonic() - began)
        calibrating = time.monotonic()
        record, measured = self._calibrations(record, earlier, plan, hosts, shares, todo, sessions)
        if measured:
            phases.calibration_s = time.monotonic() - calibrating
        self.folder.write_run(record)
        self.ceiling = ceiling(record.calibration)
        self.ceilings = lane_ceilings(record.calibration_hosts)
        lanes = self._lanes(plan, hosts, shares)
        # Lanes run their sessions at the same time: the plan, and each session's share of it, counts that.
        share = lane_share(len(todo), len(lanes))
        progress = Progress(
            len(todo) * len(self.matrix.steps), sum(planned_session_s(self.matrix, s) for s in todo) * share
        )
        # Each session's timings as it ends: an interrupted run records those it finished.
        timings: list[SessionTimings] = []

        def run_one(session: Session, lane: Lane) -> SessionTimings:
            # ``share`` is the current round's: a further round of trials sets its own below.
            planned_s = planned_session_s(self.matrix, session) * share
            session = replace(session, reference=self._wants_reference(session))
            done = self._run_session(session, lane, progress, planned_s)
            timings.append(done)
            return done

        try:
            run_lanes(lanes, todo, run_one, sessions)
            if self.matrix.auto_trials:
                for trial in range(self.matrix.first_trials + 1, self.matrix.max_trials + 1):
                    short = self._short_of_precision(trial - 1)
                    if not short:
                        break
                    round_ = plan_round(self.matrix, trial, self.order_seed, short)
                    again = self._not_measured(round_)
                    steps = sum(len(s) for s in short.values())
                    progress.line(
                        f"trial {trial}: {len(short)} of {len(self._pairs())} sessions short of "
                        f"±{self.matrix.precision:.1%}: measuring their {steps} steps short of it again"
                    )
                    share = lane_share(len(again), len(lanes))
                    progress.extend(
                        sum(len(s.loads) for s in again),
                        sum(planned_session_s(self.matrix, s) for s in again) * share,
                    )
                    run_lanes(lanes, again, run_one, round_)
        finally:
            try:
                stop_lanes(lanes)
            finally:
                progress.finish()
                record = self._close_run(record, phases.as_dict(timings))
        return record

    def _wants_reference(self, session: Session) -> bool:
        """Whether the reference generator measures ``session``: in every trial, or with
        ``reference_trials: first`` until some trial of the cell has its figure at every step (a first
        trial left disturbed, or whose reference could not be measured, passes it to the next)."""
        if (
            not self.matrix.measures_reference
            or self.matrix.reference_trials == "every"
            or session.trial == 1
        ):
            return True
        measured = {
            cell.users
            for cell in self.folder.read_cells()
            if (cell.mode, cell.workload) == (session.mode.spec, session.workload.spec)
            and cell.trial < session.trial
            and cell.ok
            and cell.reference is not None
            and cell.reference.throughput_rps is not None
        }
        return not all(load.amount in measured for load in session.loads)

    def _pairs(self) -> list[tuple[str, str]]:
        """Every (mode, workload) session of the matrix, as specs."""
        modes = self.matrix.mode_configs()
        return [(m.spec, w.spec) for w in self.matrix.workload_configs() for m in modes]

    def _not_measured(self, sessions: list[Session]) -> list[Session]:
        """The sessions of ``sessions`` with a step not on disk (all of them with ``force``)."""
        if self.force:
            return sessions
        done = self.folder.measured([s.key(x) for s in sessions for x in s.loads], self.say)
        return [s for s in sessions if not all(s.key(x) in done for x in s.loads)]

    def _short_of_precision(self, trials: int) -> dict[tuple[str, str], tuple[int, ...]]:
        """The (mode, workload) sessions that want another trial after ``trials`` rounds, each with the
        steps whose throughput over their successful trials is short of the matrix's precision
        (``precision.py``): only those are measured again."""
        by_pair: dict[tuple[str, str], dict[int, list[float]]] = {}
        for cell in self.folder.read_cells():
            if cell.trial <= trials and cell.ok and cell.throughput_rps is not None:
                steps = by_pair.setdefault((cell.mode, cell.workload), {})
                steps.setdefault(cell.users, []).append(cell.throughput_rps)
        matrix = self.matrix
        short = {
            pair: steps_short_of_precision(
                by_pair.get(pair, {}), matrix.steps, trials, matrix.precision, matrix.max_trials
            )
            for pair in self._pairs()
        }
        return {pair: steps for pair, steps in short.items() if steps}

    def _connect_hosts(self) -> RunHosts | None:
        """With an inventory: every engine pinged, its leftovers removed, the plan per host said, the
        images shipped where they differ; None on this machine alone."""
        inventory = self.matrix.inventory
        if inventory is None:
            return None
        plan = plan_hosts(
            inventory, self.matrix.server_cpus, self.matrix.server_memory, self.matrix.loadgen_processes
        )
        hosts = RunHosts.connect(inventory, plan, self.docker, self.connect)
        for name, engine in hosts.engines.items():
            if name not in hosts.local and remove_leftovers(engine):
                self.say(f"removed containers left by an earlier run on host {name}")
        # The plan per host and its warnings were said when the run was checked (``preflight``).
        if hosts.simulated:
            self.say(f"the hosts are {SIMULATED_METHOD}: they share this machine's cores and memory")
        app = self.matrix.user_app
        hosts.ship(self._mode_images(), self.say, app_catalogue(app) if app is not None else None)
        return hosts

    def _mode_images(self) -> list[str]:
        return sorted({c.mode.name for c in self.matrix.mode_configs()})

    def _lanes(self, plan: CpuPlan, hosts: RunHosts | None, shares: list[ServerShare]) -> list[Lane]:
        """One lane on this machine, or one per server host; each with its stack (kept for every
        session: its backing services are kept while they run and PostgreSQL's tables are unwritten)."""
        flags = tuple(self.run_warnings)
        if hosts is None:
            facts = RunFacts(
                plan.loadgen.cpus * 100.0,
                self.ceiling,
                (*_cores_shared(plan), *flags),
                cores=role_cores(plan),
            )
            stack = self.new_stack(self.docker, self.run_id, self.ports)
            return [Lane(stack, plan, facts, self._session_runner(self.docker, self.ports))]
        lanes = []
        fleet = len(shares) > 1
        for share in shares:
            run_id = f"{self.run_id}h{share.slot}" if fleet else self.run_id
            ports = lane_ports(self.ports, share.slot)
            server = hosts.engines[share.server.name]
            backing = hosts.engines[share.backing.name]
            stack = Stack(
                server,
                run_id,
                ports,
                address=share.server.host.address,
                backing_docker=backing if backing is not server else None,
                backing_address=share.backing.host.address,
            )
            facts = RunFacts(
                share.plan.loadgen.cpus * 100.0,
                self.ceilings.get(share.name, self.ceiling),
                (*_cores_shared(share.plan), *flags),
                server_host=share.name,
                loadgen_hosts=len(share.load.hosts),
            )
            runner = self._session_runner(server, ports, share.load, share.name in hosts.local)
            lanes.append(Lane(stack, share.plan, facts, runner, share.name))
        return lanes

    def _session_runner(
        self, docker: Docker, ports: StackPorts, load: DistributedLoad | None = None, server_here: bool = True
    ) -> SessionRunner:
        return SessionRunner(
            docker, self.matrix, self.run_id, ports, self.driver, self.conformance, load, server_here
        )

    def _plan(self) -> CpuPlan:
        """The CPU plan, and the warnings of a machine that shares cores or is busy, said once."""
        plan = plan_cpus(
            sorted(os.sched_getaffinity(0)),
            self.matrix.server_cpus,
            self.matrix.server_memory,
            self.matrix.loadgen_processes,
        )
        plan = self.adjust_plan(plan)
        for text in [*plan.warnings, *(w.message for w in self.run_warnings)]:
            self.say(f"warning: {text}")
        return plan

    def _settle(self, plan: CpuPlan, wait: bool) -> None:
        """On one machine, before calibrating: the wait for quiet cores (when there is anything to
        measure), then ``machine-busy`` judged, kept as a warning of the run."""
        settling = QuietWait(self.quiet_wait_s, self.wait_for_load, self.read_busy, self.say)
        busy = settling.settle(plan, wait)
        if busy is not None:
            self.run_warnings.append(busy)

    def _open_run(
        self, plan: CpuPlan, hosts: RunHosts | None = None, shares: list[ServerShare] | None = None
    ) -> RunRecord:
        matrix = self.matrix.as_dict()
        if self.folder.exists():
            check_same_matrix(self.folder.root, self.folder.read_run().matrix, self.matrix, self.force)
        support = {"upstream", "postgres", "locust"} | ({"wrk"} if self.matrix.measures_reference else set())
        images = sorted({c.mode.name for c in self.matrix.mode_configs()} | support)
        metadata = collect_metadata(self.docker, images, self.matrix.user_app)
        distributed: dict[str, Any] | None = None
        if hosts is not None:
            metadata["hosts"] = hosts.metadata()
            if shares:
                distributed = shares[0].load.as_dict()
                if len(shares) > 1:
                    distributed["fleet"] = [
                        {"server_host": share.name, **share.load.as_dict()} for share in shares
                    ]
        record = RunRecord(
            matrix=matrix,
            cpu_plan=plan.as_dict(),
            ports={
                "server": self.ports.server,
                "upstream": self.ports.upstream,
                "postgres": self.ports.postgres,
            },
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            load_average_at_start=_tuple(quiet.load_average()),
            trial_order_seed=self.order_seed,
            metadata=metadata,
            reproduces=self.reproduces,
            cpu_plan_hosts=hosts.plan.as_dict() if hosts is not None else None,
            distributed=distributed,
        )
        self.folder.write_run(record)
        return record

    def _close_run(self, record: RunRecord, timings: dict[str, Any]) -> RunRecord:
        closed = replace(
            record,
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            load_average_at_end=_tuple(quiet.load_average()),
            timings=timings,
        )
        self.folder.write_run(closed)
        return closed

    def _calibrations(
        self,
        record: RunRecord,
        earlier: RunRecord | None,
        plan: CpuPlan,
        hosts: RunHosts | None,
        shares: list[ServerShare],
        todo: list[Session],
        sessions: list[Session],
    ) -> tuple[RunRecord, bool]:
        """The record with the run's calibration (a fleet's per lane), measured where there are sessions
        to run, else kept from the run's ``earlier`` run.json; and whether any was measured."""
        if len(shares) > 1 and hosts is not None:
            # A fleet: each lane with sessions to run calibrates its load hosts against its own server
            # host, one lane after the other; a lane with none keeps its earlier calibration.
            dealt = deal(todo, len(shares), sessions)
            measure = [s for s, mine in zip(shares, dealt, strict=True) if mine and self.calibrate]
            measured = {s.name: self._measure_calibration(s.plan, s, hosts, fleet=True) for s in measure}
            kept = (earlier.calibration_hosts if earlier else None) or {}
            found = {s.name: measured.get(s.name, kept.get(s.name)) for s in shares}
            lanes = {name: c for name, c in found.items() if c is not None}
            record = record.with_calibrations(lanes.get(shares[0].name), lanes or None)
            return record, bool(measured)
        if todo and self.calibrate:
            calibration = self._calibrate(plan, record, shares[0] if shares else None, hosts)
            return record.with_calibrations(calibration), True
        return record.with_calibrations(earlier.calibration if earlier else None), False

    def _calibrate(
        self,
        plan: CpuPlan,
        record: RunRecord,
        share: ServerShare | None = None,
        hosts: RunHosts | None = None,
    ) -> dict[str, Any]:
        """A calibration of the last day on the same machine, images and plan, or a new one; on
        several hosts always a new one (their engines, clocks and network are not this machine's)."""
        if share is not None and hosts is not None:
            return self._measure_calibration(plan, share, hosts)
        settings = {**CALIBRATION_SETTINGS, "request_timeout_s": self.matrix.request_timeout_s}
        key = calibration_key(record.metadata, plan.as_dict(), settings)
        # A busy machine's calibration is neither reused nor kept: it measured the other work too.
        busy = any(flag.code == "machine-busy" for flag in self.run_warnings)
        cache = CalibrationCache(self.calibrations) if self.calibrations and key and not busy else None
        kept = cache.load(key) if cache and key and not self.recalibrate else None
        if kept is not None:
            self.say(calibration_text(kept))
            return kept
        result = self._measure_calibration(plan)
        if cache and key:
            cache.save(key, result)
        return result

    def _measure_calibration(
        self,
        plan: CpuPlan,
        share: ServerShare | None = None,
        hosts: RunHosts | None = None,
        *,
        fleet: bool = False,
    ) -> dict[str, Any]:
        processes = plan.loadgen_processes
        users = CALIBRATION_USERS * processes
        lane = share.name if fleet and share is not None else None
        of_lane = f" of server host {lane}" if lane else ""
        self.say(f"calibrating the load generator{of_lane} ({processes} process(es), {users} users) ...")
        out_dir = self.folder.root / "sessions" / (f"calibration-{lane}" if lane else "calibration")
        if share is not None and hosts is not None:
            # The target, the upstream, on the lane's server host's cores and at its address.
            server = hosts.engines[share.server.name]
            stack = Stack(server, self.run_id, self.ports, address=share.server.host.address)
            here = share.name in hosts.local
            result = calibrate(stack, self.driver, plan, out_dir, self.keep_samples, share.load, here)
        else:
            stack = self.new_stack(self.docker, self.run_id, self.ports)
            result = calibrate(stack, self.driver, plan, out_dir, self.keep_samples)
        self.say(calibration_text(result))
        return result

    def _run_session(
        self, session: Session, lane: Lane, progress: Progress, planned_s: float
    ) -> SessionTimings:
        out_dir = self.folder.root / "sessions" / session.slug
        result = lane.sessions.run(session, lane.plan, out_dir, lane.stack)
        timings = result.timings
        where = f" on host {lane.server_host}" if lane.server_host else ""
        if timings.backing_restarted and timings.backing_restarted != "not started":
            progress.line(f"  backing services restarted{where}: {timings.backing_restarted}")
        if result.swarm is None:
            self._fail_session(session, result.failure, progress, planned_s, lane.facts)
            if not self.keep_samples:
                shutil.rmtree(out_dir, ignore_errors=True)
            return timings
        self._record(session, result.swarm, timings, lane, progress, planned_s)
        if not self.keep_samples:
            shutil.rmtree(out_dir, ignore_errors=True)
        label = f"{session.mode.spec} x {session.workload.spec} (trial {session.trial}){where}"
        progress.line(
            f"  {label}: start {timings.backing_s + timings.start_s:.1f} s, load {timings.loadgen_s:.1f} s, "
            f"reference {timings.reference_s:.1f} s, teardown {timings.teardown_s:.1f} s"
        )
        return timings

    def _fail_session(
        self, session: Session, reason: str, progress: Progress, planned_s: float, facts: RunFacts
    ) -> None:
        progress.line(f"  failed: {session.mode.spec} x {session.workload.spec}: {reason}")
        # The whole session's planned time is spent now: counting it cell by cell would make the ETA
        # after a session's first cell take the whole session for one cell's worth.
        progress.spend(planned_s)
        for load in session.loads:
            self.folder.write_cell(failed_cell(session, load, reason, facts.server_host))
            progress.cell_done(session.label(load), None)

    def _record(
        self,
        session: Session,
        swarm: Swarm,
        timings: SessionTimings,
        lane: Lane,
        progress: Progress,
        planned_s: float,
    ) -> None:
        """Judge and write each cell of a session that took load (``measure_again.py`` measures the
        steps again whose figures cannot stand as they are first)."""
        output = swarm.output
        if isinstance(output, str) or swarm.sampler is None:
            self._fail_session(session, str(output), progress, planned_s, lane.facts)
            return
        progress.spend(planned_s)
        again = MeasureAgain(self.matrix, self.folder.root, self.keep_samples, self.remeasures)
        cells = again.final_cells(session, swarm, timings, lane, progress)
        for load in session.loads:
            cell = cells[load]
            self.folder.write_cell(cell)
            progress.cell_done(
                session.label(load), cell.throughput_rps if cell.ok else None, status=cell.status
            )


def planned_session_s(matrix: Matrix, session: Session) -> float:
    """What one session is planned to take, for the ETA: its steps, the reference's runs after them
    when its trial has them, and the stack's start and stop."""
    step_s = StepWindow(matrix.warmup_s, matrix.duration_s).held_s
    reference_s = reference_seconds(matrix) if matrix.measures_reference_in(session.trial) else 0.0
    return len(session.loads) * (step_s + reference_s) + OVERHEAD_GUESS_S


def lane_share(sessions: int, lanes: int) -> float:
    """The share of a session's plan that counts against the run's wall time when ``sessions`` run over
    ``lanes`` at once: the busiest lane's count over the sessions (1 on one lane)."""
    return -(-sessions // lanes) / max(1, sessions)


def reference_seconds(matrix: Matrix) -> float:
    """What the reference generator adds to each step, for the ETA: its warm-up, window and start-ups."""
    if not matrix.measures_reference:
        return 0.0
    return reference_window(matrix.reference_duration_s, None).run_s + REFERENCE_START_S


def _cores_shared(plan: CpuPlan) -> tuple[Flag, ...]:
    return tuple(warning("cores-shared", text) for text in plan.warnings)


def _tuple(values: list[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(values)


#: Seeds of the round order are drawn below this (they fit a JSON number exactly).
_SEED_BOUND = 2**31


def _order_seed(given: int | None, earlier: RunRecord | None) -> int:
    """The seed of the rounds' order: the one given, else the one the run recorded when it resumes (its
    order goes on as it began), else a new one."""
    if given is not None:
        return given
    recorded = earlier.trial_order_seed if earlier is not None else None
    if recorded is not None and 0 <= recorded < _SEED_BOUND:
        return recorded
    return secrets.randbelow(_SEED_BOUND)
