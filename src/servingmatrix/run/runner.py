"""The matrix runner: for each mode x workload x trial, a fresh stack swarmed through every user level.

A session starts the backing services, then the server, polls readiness, runs the conformance
check (a broken stack is recorded as failed, not measured), drives Locust through the user levels
(a warm-up discarded at each step) while the server's and the generator's cgroups are sampled, then
tears everything down. Each cell is written the moment its session ends; cells already on disk are
skipped, so rerunning the same run resumes it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servingmatrix.docker import PROJECT_LABEL, Docker
from servingmatrix.errors import UserError
from servingmatrix.matrix import Matrix
from servingmatrix.modes import ModeConfig
from servingmatrix.results.folder import CellKey, RunFolder
from servingmatrix.run.cgroups import ContainerCgroup, Sampler, window_usage
from servingmatrix.run.conformance import check_server
from servingmatrix.run.cpuplan import CpuPlan, plan_cpus
from servingmatrix.run.latency import per_name, window_stats
from servingmatrix.run.loadgen import CALIBRATION_LOCUSTFILE, LoadgenOutput, Step, locust_args, read_output
from servingmatrix.run.metadata import collect_metadata
from servingmatrix.run.progress import Progress
from servingmatrix.run.readiness import NotReady
from servingmatrix.run.stack import OWNER_LABEL, Stack, StackPorts
from servingmatrix.workloads import WorkloadConfig

#: Above this share of its CPU quota the load generator is taken as saturated (Locust warns at 90%).
SATURATION_SHARE = 0.9
#: Throttled for more than this share of the window: the server's figures are marked.
THROTTLE_SHARE = 0.05
#: Startup, readiness, conformance and teardown of one session, for the first ETA (then measured).
OVERHEAD_GUESS_S = 15.0
#: A 1-minute load average above this per core, before the run starts, means other work competes.
BUSY_LOAD_PER_CORE = 0.5
LOCUST_GRACE_S = 90.0
#: Within this share of the calibrated maximum, a cell's throughput is taken as set by the generator.
CEILING_SHARE = 0.9
#: The calibration: closed-loop users per load process against the upstream's trivial endpoint.
CALIBRATION_USERS = 64
CALIBRATION_WARMUP_S = 2.0
CALIBRATION_DURATION_S = 6.0

Say = Callable[[str], None]


@dataclass(frozen=True)
class Session:
    """One mode x workload x trial: one stack, one Locust session through every user level."""

    mode: ModeConfig
    workload: WorkloadConfig
    trial: int
    users: tuple[int, ...]

    def key(self, users: int) -> CellKey:
        return CellKey(self.mode.spec, self.workload.spec, users, self.trial)

    @property
    def slug(self) -> str:
        return self.key(0).slug.replace("-u0-", "-")


def plan_sessions(matrix: Matrix) -> list[Session]:
    """Trials outermost and modes innermost: slow drift of the machine is spread over every mode."""
    modes = matrix.mode_configs()
    return [
        Session(mode, workload, trial, matrix.steps)
        for trial in range(1, matrix.trials + 1)
        for workload in matrix.workload_configs()
        for mode in modes
    ]


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


def _docker_time(text: str) -> float | None:
    """Docker's RFC 3339 time with nanoseconds, as epoch seconds."""
    if not text or text.startswith("0001-"):
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
    return stamp + float(f"0.{frac[:6] or 0}")


@dataclass(frozen=True)
class Swarm:
    """What one Locust session left: its output (or why there is none), the server's fate, the samples."""

    output: LoadgenOutput | str
    server_exit: dict[str, Any] | None = None
    sampler: Sampler | None = None
    applied: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Drive:
    """One Locust container's run: its output (or why there is none) and the cgroup samples."""

    output: LoadgenOutput | str
    sampler: Sampler
    applied: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0


@dataclass
class SessionTimings:
    start_s: float = 0.0
    warmup_s: float = 0.0
    measured_s: float = 0.0
    teardown_s: float = 0.0
    loadgen_s: float = 0.0


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
    run_warnings: list[dict[str, str]] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: f"r{os.getpid()}")
    #: Calibrate the load generator before measuring (off only where a test has no use for it).
    calibrate: bool = True
    # Seams for the unit tests, which replace the containers, the HTTP checks and the cgroups.
    new_stack: Callable[[Docker, str, StackPorts], Stack] = Stack
    conformance: Callable[[str, str], list[str]] = check_server
    new_sampler: Callable[[dict[str, int]], Sampler] = field(default=lambda pids: sampler_for(pids))
    #: Changes the CPU plan after it is made (a test starves the generator with it).
    adjust_plan: Callable[[CpuPlan], CpuPlan] = field(default=lambda plan: plan)

    def run(self) -> dict[str, Any]:
        """Measure every cell not yet on disk; on SIGINT or SIGTERM, tear down and keep what is done."""
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            return self._run()
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _run(self) -> dict[str, Any]:
        self.docker.ping()
        removed = self._remove_leftovers()
        if removed:
            self.say(f"removed {removed} containers left by an earlier run")
        check_ports_free(self.ports)
        plan = plan_cpus(
            sorted(os.sched_getaffinity(0)),
            self.matrix.server_cpus,
            self.matrix.server_memory,
            self.matrix.loadgen_processes,
        )
        plan = self.adjust_plan(plan)
        load = _load_average()
        if load is not None and load[0] > BUSY_LOAD_PER_CORE * plan.host_cores:
            self.run_warnings.append(
                _warning(
                    "machine-busy", f"the machine was busy when the run began (load average {load[0]:.1f})"
                )
            )
        for warning in [*plan.warnings, *(w["message"] for w in self.run_warnings)]:
            self.say(f"warning: {warning}")
        run_meta = self._open_run(plan)
        sessions = plan_sessions(self.matrix)
        todo = [s for s in sessions if self.force or not all(self.folder.has_cell(s.key(u)) for u in s.users)]
        skipped = len(sessions) - len(todo)
        if skipped:
            self.say(f"resuming: {skipped} of {len(sessions)} sessions already measured (--force to redo)")
        if todo and self.calibrate:
            run_meta["calibration"] = self._calibrate(plan)
            self.folder.write_run(run_meta)
        self.ceiling = _ceiling(run_meta.get("calibration"))
        step_s = self.matrix.warmup_s + self.matrix.duration_s
        planned_per_session = len(self.matrix.steps) * step_s + OVERHEAD_GUESS_S
        progress = Progress(len(todo) * len(self.matrix.steps), planned_per_session * len(todo))
        timings: list[SessionTimings] = []
        try:
            for session in todo:
                timings.append(self._run_session(session, plan, progress, planned_per_session))
        finally:
            progress.finish()
            self._close_run(run_meta, timings)
        return run_meta

    def _remove_leftovers(self) -> int:
        """Remove containers of runs whose process has died (a crash, a SIGKILL)."""
        listing = self.docker.list_ids(
            [
                "ps",
                "-a",
                "--filter",
                f"label={PROJECT_LABEL}",
                "--format",
                f'{{{{.ID}}}}:{{{{.Label "{OWNER_LABEL}"}}}}',
            ]
        )
        orphans = [cid for cid, _, owner in (line.partition(":") for line in listing) if not _alive(owner)]
        self.docker.remove_containers(orphans)
        return len(orphans)

    def _open_run(self, plan: CpuPlan) -> dict[str, Any]:
        matrix = self.matrix.as_dict()
        if self.folder.exists():
            previous = self.folder.read_run()
            if previous.get("matrix") != matrix and not self.force:
                raise UserError(
                    f"{self.folder.root} holds a run of a different matrix; choose another --out, "
                    "or --force to measure this matrix into it"
                )
        images = sorted(
            {c.mode.name for c in self.matrix.mode_configs()} | {"upstream", "postgres", "locust"}
        )
        meta: dict[str, Any] = {
            "matrix": matrix,
            "cpu_plan": plan.as_dict(),
            "ports": {
                "server": self.ports.server,
                "upstream": self.ports.upstream,
                "postgres": self.ports.postgres,
            },
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_at_start": _load_average(),
            "metadata": collect_metadata(self.docker, images),
        }
        self.folder.write_run(meta)
        return meta

    def _close_run(self, meta: dict[str, Any], timings: list[SessionTimings]) -> None:
        meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        meta["load_average_at_end"] = _load_average()
        meta["timings"] = {
            "sessions": len(timings),
            "start_s": sum(t.start_s for t in timings),
            "warmup_s": sum(t.warmup_s for t in timings),
            "measured_s": sum(t.measured_s for t in timings),
            "teardown_s": sum(t.teardown_s for t in timings),
        }
        self.folder.write_run(meta)

    def _calibrate(self, plan: CpuPlan) -> dict[str, Any]:
        """The most the load generator can send on its cores: against the upstream's trivial endpoint,
        the upstream on the server's cores (idle now), with the run's number of load processes."""
        processes = plan.loadgen_processes
        users = CALIBRATION_USERS * processes
        self.say(f"calibrating the load generator ({processes} process(es), {users} users) ...")
        stack = self.new_stack(self.docker, self.run_id, self.ports)
        out_dir = self.folder.root / "sessions" / "calibration"
        try:
            try:
                stack.start_upstream(plan.server)
            except NotReady as exc:
                return {"error": f"the calibration target did not start: {exc}"}
            target = {"upstream": self._pid_of(stack.name("upstream"))}
            args = locust_args(
                name=stack.name("loadgen"),
                run_id=self.run_id,
                workload=None,
                locustfile=CALIBRATION_LOCUSTFILE,
                target=stack.upstream_url,
                users=(users,),
                warmup_s=CALIBRATION_WARMUP_S,
                duration_s=CALIBRATION_DURATION_S,
                out_dir=out_dir,
                placement=plan.loadgen,
                processes=processes,
                request_timeout_s=self.matrix.request_timeout_s,
            )
            drive = self._drive(stack, args, target, out_dir, CALIBRATION_WARMUP_S + CALIBRATION_DURATION_S)
        finally:
            stack.stop()
        if isinstance(drive.output, str):
            result: dict[str, Any] = {"error": drive.output}
        else:
            result = calibration_result(drive, plan, processes, users)
        if not self.keep_samples:
            shutil.rmtree(out_dir, ignore_errors=True)
        if "error" in result:
            self.say(f"calibration failed: {result['error']}")
        else:
            cpu = result["loadgen_cpu_pct"]
            used = f"CPU {cpu:.0f}%" if cpu is not None else "CPU not measured"
            self.say(
                f"calibration: the load generator sent {result['max_rps']:,.0f} req/s at most "
                f"({used}, limited by: {result['limited_by']})"
            )
        return result

    def _pid_of(self, name: str) -> int | None:
        info = self.docker.container_inspect(name)
        if info is None or not info["State"].get("Running"):
            return None
        return int(info["State"]["Pid"])

    def _drive(
        self, stack: Stack, args: list[str], pids: dict[str, int | None], out_dir: Path, load_s: float
    ) -> Drive:
        """Start a Locust container, sample it and ``pids`` until it ends (or overruns); read its output."""
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        name = stack.name("loadgen")
        stack.started.append(name)
        self.docker.run_detached(args)
        watched = {role: pid for role, pid in pids.items() if pid is not None}
        loadgen_pid = self._pid_of(name)
        if loadgen_pid is not None:
            watched["loadgen"] = loadgen_pid
        applied = self._applied_plan(stack)
        sampler = self.new_sampler(watched).start()
        began = time.monotonic()
        deadline = began + load_s + LOCUST_GRACE_S + self.matrix.request_timeout_s
        info: dict[str, Any] | None = None
        try:
            while True:
                info = self.docker.container_inspect(name)
                if info is None or not info["State"].get("Running"):
                    break
                if time.monotonic() > deadline:
                    self.docker.remove_containers([name])
                    return Drive("the load generator overran its time budget and was stopped", sampler)
                time.sleep(0.5)
        finally:
            sampler.stop()
        elapsed = time.monotonic() - began
        exit_code = (info or {}).get("State", {}).get("ExitCode")
        try:
            output = read_output(out_dir)
        except UserError as exc:
            logs = self.docker.logs(name, tail=5)
            last = logs.splitlines()[-1] if logs else "(none)"
            reason = f"{exc} (locust exit code {exit_code}; last log line: {last})"
            return Drive(reason, sampler, applied, elapsed)
        return Drive(output, sampler, applied, elapsed)

    def _run_session(
        self, session: Session, plan: CpuPlan, progress: Progress, planned_s: float
    ) -> SessionTimings:
        timings = SessionTimings()
        stack = self.new_stack(self.docker, self.run_id, self.ports)
        label = f"{session.mode.spec} x {session.workload.spec} (trial {session.trial})"
        out_dir = self.folder.root / "sessions" / session.slug
        started = time.monotonic()
        try:
            try:
                stack.start_backing(plan.backing)
                stack.start_server(session.mode, plan.server)
            except NotReady as exc:
                self._fail_session(session, f"not ready: {exc}", progress, planned_s)
                return timings
            failures = self.conformance(stack.server_url, session.mode.spec)
            if failures:
                reason = f"conformance check failed: {'; '.join(failures[:3])}"
                self._fail_session(session, reason, progress, planned_s)
                return timings
            timings.start_s = time.monotonic() - started
            swarm = self._swarm(session, stack, plan, out_dir, timings)
        finally:
            torn = time.monotonic()
            stack.stop()
            timings.teardown_s = time.monotonic() - torn
        self._record(session, plan, swarm, timings, progress, planned_s)
        if not self.keep_samples:
            shutil.rmtree(out_dir, ignore_errors=True)
        progress.line(
            f"  {label}: start {timings.start_s:.1f} s, load {timings.loadgen_s:.1f} s, "
            f"teardown {timings.teardown_s:.1f} s"
        )
        return timings

    def _applied_plan(self, stack: Stack) -> dict[str, Any]:
        """The CPU and memory limits Docker actually applied, read back from each container."""
        applied: dict[str, Any] = {}
        for role in ("server", "upstream", "postgres", "loadgen"):
            info = self.docker.container_inspect(stack.name(role))
            if info is None:
                continue
            host = info["HostConfig"]
            applied[role] = {
                "cpuset": host.get("CpusetCpus"),
                "cpus": (host.get("NanoCpus") or 0) / 1e9,
                "memory_bytes": host.get("Memory"),
                "pids_limit": host.get("PidsLimit"),
            }
        return applied

    def _swarm(
        self, session: Session, stack: Stack, plan: CpuPlan, out_dir: Path, timings: SessionTimings
    ) -> Swarm:
        """Run Locust through every step; return its output (or why there is none)."""
        server_pid = self._pid_of(stack.name("server"))
        if server_pid is None:
            return Swarm("the server container vanished before the load started")
        args = locust_args(
            name=stack.name("loadgen"),
            run_id=self.run_id,
            workload=session.workload,
            target=stack.server_url,
            users=session.users,
            warmup_s=self.matrix.warmup_s,
            duration_s=self.matrix.duration_s,
            out_dir=out_dir,
            placement=plan.loadgen,
            processes=plan.loadgen_processes,
            request_timeout_s=self.matrix.request_timeout_s,
            open_loop=self.matrix.open_loop,
        )
        load_s = len(session.users) * (self.matrix.warmup_s + self.matrix.duration_s)
        drive = self._drive(stack, args, {"server": server_pid}, out_dir, load_s)
        timings.loadgen_s = drive.elapsed_s
        server_exit: dict[str, Any] | None = None
        server_state = (self.docker.container_inspect(stack.name("server")) or {}).get("State", {})
        if not server_state.get("Running"):
            server_exit = {
                "oom_killed": bool(server_state.get("OOMKilled")),
                "exit_code": server_state.get("ExitCode"),
                "finished_at": _docker_time(str(server_state.get("FinishedAt", ""))),
                "last_log": self.docker.logs(stack.name("server"), tail=10).splitlines()[-10:],
            }
        output = drive.output
        if isinstance(output, str):
            return Swarm(output, server_exit)
        timings.warmup_s = sum(s.measure_from - s.start for s in output.steps)
        timings.measured_s = sum(s.end - s.measure_from for s in output.steps)
        return Swarm(output, server_exit, drive.sampler, drive.applied)

    def _label(self, session: Session, step: int) -> str:
        load = f"{step} req/s offered" if self.matrix.open_loop else f"{step} users"
        return f"{session.mode.spec} x {session.workload.spec} @ {load}"

    def _fail_session(self, session: Session, reason: str, progress: Progress, planned_s: float) -> None:
        progress.line(f"  failed: {session.mode.spec} x {session.workload.spec}: {reason}")
        # The whole session's planned time is spent now: counting it cell by cell would make the ETA
        # after a session's first cell take the whole session for one cell's worth.
        progress.spend(planned_s)
        for users in session.users:
            self.folder.write_cell(session.key(users), {"status": "failed", "reason": reason, "warnings": []})
            progress.cell_done(self._label(session, users), None)

    def _record(
        self,
        session: Session,
        plan: CpuPlan,
        swarm: Swarm,
        timings: SessionTimings,
        progress: Progress,
        planned_s: float,
    ) -> None:
        output = swarm.output
        if isinstance(output, str) or swarm.sampler is None:
            self._fail_session(session, str(output), progress, planned_s)
            return
        by_users = {step.users: step for step in output.steps}
        progress.spend(planned_s)
        for users in session.users:
            step = by_users.get(users)
            key = session.key(users)
            label = self._label(session, users)
            if step is None:
                self.folder.write_cell(
                    key, {"status": "failed", "reason": "the load generator never reached this step"}
                )
                progress.cell_done(label, None)
                continue
            cell = self._cell(session, step, plan, output, swarm, timings)
            self.folder.write_cell(key, cell)
            ok = cell["status"] == "ok"
            progress.cell_done(label, cell.get("throughput_rps") if ok else None)

    def _cell(
        self,
        session: Session,
        step: Step,
        plan: CpuPlan,
        output: LoadgenOutput,
        swarm: Swarm,
        timings: SessionTimings,
    ) -> dict[str, Any]:
        assert swarm.sampler is not None
        sampler, server_exit = swarm.sampler, swarm.server_exit
        start, end = step.measure_from, step.end
        stats = window_stats(output.samples, start, end)
        server = window_usage(sampler.samples.get("server", []), start, end)
        loadgen = window_usage(sampler.samples.get("loadgen", []), start, end)
        warnings = [_warning("cores-shared", w) for w in plan.warnings] + self.run_warnings
        status, reason = "ok", None
        died = server_exit and (server_exit["finished_at"] is None or server_exit["finished_at"] < end)
        if died and server_exit:
            status = "failed"
            cause = "OOM-killed" if server_exit["oom_killed"] else f"exit code {server_exit['exit_code']}"
            reason = f"the server stopped during the run ({cause})"
        elif stats.requests == 0:
            status, reason = "failed", "no request completed in the measured window"
        loadgen_quota = plan.loadgen.cpus * 100.0
        saturated = loadgen is not None and loadgen.cpu_pct >= SATURATION_SHARE * loadgen_quota
        sent_rps = stats.requests / stats.seconds if stats.seconds else 0.0
        at_ceiling = self.ceiling is not None and sent_rps >= CEILING_SHARE * self.ceiling
        reasons = []
        if saturated and loadgen is not None:
            reasons.append(f"it used {loadgen.cpu_pct:.0f}% of its {loadgen_quota:.0f}% CPU")
        if loadgen is not None and loadgen.throttled_s > THROTTLE_SHARE * stats.seconds:
            span = f"{loadgen.throttled_s:.1f} s of {stats.seconds:.0f} s"
            reasons.append(f"its CPU quota held it back for {span}")
        if at_ceiling and self.ceiling is not None:
            reasons.append(
                f"it sent {sent_rps:,.0f} req/s, {sent_rps / self.ceiling:.0%} of the {self.ceiling:,.0f} "
                "req/s the calibration found to be its most"
            )
        if reasons:
            why = "; ".join(reasons)
            message = f"the load generator set the pace ({why}): the throughput is a lower bound"
            warnings.append(_warning("generator-bound", message))
        if server is not None and server.throttled_s > THROTTLE_SHARE * stats.seconds:
            span = f"{server.throttled_s:.1f} s of {stats.seconds:.0f} s"
            warnings.append(_warning("cpu-throttled", f"the server was CPU-throttled for {span}"))
        if stats.failures:
            share = f"{100 * stats.error_rate:.1f}%"
            warnings.append(
                _warning("errors", f"{stats.failures} of {stats.requests} requests failed ({share})")
            )
        mean_ms = stats.latency_ms["mean"]
        sleep_ms = session.workload.sleep_ms
        basis_ms = float(sleep_ms) if sleep_ms else mean_ms
        processes = [
            {"pid": pid, "command": comm, "rss_mb": rss / 2**20}
            for pid, comm, rss in _processes_at(sampler.processes.get("server", []), end)
        ]
        return {
            "status": status,
            "reason": reason,
            "window": {
                "start": start,
                "end": end,
                "seconds": stats.seconds,
                "warmup_s": step.measure_from - step.start,
            },
            "requests": stats.requests,
            "failures": stats.failures,
            "error_rate": stats.error_rate,
            "throughput_rps": stats.throughput_rps,
            "latency_ms": stats.latency_ms,
            "endpoints": {
                name: {
                    "requests": s.requests,
                    "failures": s.failures,
                    "throughput_rps": s.throughput_rps,
                    "latency_ms": s.latency_ms,
                }
                for name, s in per_name(output.samples, start, end).items()
            },
            "server": {
                "cpu_pct": server.cpu_pct if server else None,
                "throttled_s": server.throttled_s if server else None,
                "throttled_periods": server.throttled_periods if server else None,
                "mem_mb": server.mem_bytes_max / 2**20 if server else None,
                "mem_mb_mean": server.mem_bytes_mean / 2**20 if server else None,
                "processes": processes,
                "exit": server_exit if died else None,
            },
            "loadgen": {
                "cpu_pct": loadgen.cpu_pct if loadgen else None,
                "cpu_quota_pct": loadgen_quota,
                "processes": output.processes,
                "saturated": saturated,
                "generator_bound": bool(reasons),
                "sent_rps": sent_rps,
                "calibrated_max_rps": self.ceiling,
            },
            "load": "open" if self.matrix.open_loop else "closed",
            "offered_rps": float(step.users) if self.matrix.open_loop else None,
            "effective_concurrency": stats.throughput_rps * basis_ms / 1000.0,
            "effective_concurrency_basis": "io sleep" if sleep_ms else "client mean latency",
            "promised_concurrency": session.mode.promised_concurrency,
            "keeps_alive": session.mode.mode.keeps_alive,
            "cpu_plan_applied": swarm.applied,
            "session_timings": {
                "start_s": timings.start_s,
                "loadgen_s": timings.loadgen_s,
                "teardown_s": timings.teardown_s,
            },
            "warnings": warnings,
        }


def calibration_result(drive: Drive, plan: CpuPlan, processes: int, users: int) -> dict[str, Any]:
    """The calibration's figures: the generator's most, its CPU, and which side set the limit."""
    assert not isinstance(drive.output, str)
    step = drive.output.steps[-1]
    stats = window_stats(drive.output.samples, step.measure_from, step.end)
    loadgen = window_usage(drive.sampler.samples.get("loadgen", []), step.measure_from, step.end)
    target = window_usage(drive.sampler.samples.get("upstream", []), step.measure_from, step.end)
    loadgen_quota = plan.loadgen.cpus * 100.0
    target_quota = plan.server.cpus * 100.0
    limited_by = "neither"
    if loadgen is not None and loadgen.cpu_pct >= SATURATION_SHARE * loadgen_quota:
        limited_by = "generator"
    elif target is not None and target.cpu_pct >= SATURATION_SHARE * target_quota:
        limited_by = "server"
    return {
        "max_rps": stats.requests / stats.seconds if stats.seconds else 0.0,
        "failures": stats.failures,
        "p99_ms": stats.latency_ms.get("p99"),
        "loadgen_cpu_pct": loadgen.cpu_pct if loadgen else None,
        "loadgen_cpu_quota_pct": loadgen_quota,
        "server_cpu_pct": target.cpu_pct if target else None,
        "processes": processes,
        "users": users,
        "duration_s": stats.seconds,
        "limited_by": limited_by,
        "target": "upstream /delay?ms=0 on the server's cores",
    }


def _ceiling(calibration: object) -> float | None:
    """The calibrated most the generator sends, when it is one: not when the target was the limit."""
    if not isinstance(calibration, dict) or calibration.get("limited_by") == "server":
        return None
    value = calibration.get("max_rps")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _interrupt(signum: int, _frame: object) -> None:
    # SIGTERM takes the same way out as Ctrl-C: every `finally` tears its containers down.
    raise KeyboardInterrupt(f"signal {signum}")


def sampler_for(pids: dict[str, int]) -> Sampler:
    """A sampler of the cgroups of the containers whose first processes are ``pids``."""
    return Sampler({role: ContainerCgroup(pid) for role, pid in pids.items()})


def _load_average() -> list[float] | None:
    """The host's 1, 5 and 15 minute load averages: other work on the machine shows here."""
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def _alive(pid_text: str) -> bool:
    """Whether the process that owns a container still runs.

    A container without an owner (a compose stack started by hand) is not a run's leftover: kept.
    """
    if not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _warning(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _processes_at(
    history: list[tuple[float, list[tuple[int, str, int]]]], t: float
) -> list[tuple[int, str, int]]:
    """The server's processes as last seen before ``t``."""
    before = [procs for when, procs in history if when <= t]
    return before[-1] if before else (history[-1][1] if history else [])
