"""Judging one cell: from what was measured over a step's window, its status and its flags.

Pure: the requests Locust timed, the cgroups' usage, the CPU plan and the calibrated ceiling go in;
the cell comes out. A cell fails when the server died in or before its window, or when no request
completed in it. It is flagged ``generator-bound`` when the load generator, not the server, set the
pace (its CPU near its quota, held back by the quota, its rate near the calibrated most, or below
the efficiency floor against a native generator on the same server and cores),
``cpu-throttled`` when the server's quota held it back, ``memory-bound`` when it thrashed at its
memory limit (its pages faulting back in from disk), ``errors`` when requests failed. Once, as the
run begins, ``machine-busy`` when other work loaded the host (information only: what decides is the
disturbance measured in each window, ``disturbed_reason``, against ``DISTURBED_SHARE``). Each rule's
thresholds are its flag's (``flags.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from servingmatrix.flags import DISTURBED_SHARE, Flag, kind
from servingmatrix.results.cell import (
    CellRecord,
    Endpoint,
    Latency,
    Limits,
    Loadgen,
    Process,
    Reference,
    Server,
    ServerExit,
    Status,
    Timings,
    Window,
)
from servingmatrix.run.load.loadgen import Load, LoadgenOutput, Step, is_loadgen_role
from servingmatrix.run.load.reference import ReferenceResult
from servingmatrix.run.measure.cgroups import Sampler, WindowUsage, combined_usage, window_usage
from servingmatrix.run.measure.connections import spread_over_window
from servingmatrix.run.measure.disturbance import ROLES, describe, window_disturbance, worst
from servingmatrix.run.measure.efficiency import disagreement_reason, efficiency_reason, generator_efficiency
from servingmatrix.run.measure.latency import WindowStats, per_name, window_stats
from servingmatrix.run.session import Session, SessionTimings, Swarm

_GENERATOR_BOUND = kind("generator-bound")
#: At or above this share of its CPU quota the load generator is taken as saturated.
SATURATION_SHARE = _GENERATOR_BOUND.threshold("cpu")
#: The load generator throttled for more than this share of the window: its quota held it back.
LOADGEN_THROTTLE_SHARE = _GENERATOR_BOUND.threshold("throttled")
#: Within this share of the calibrated maximum, a cell's throughput is taken as set by the generator.
CEILING_SHARE = _GENERATOR_BOUND.threshold("ceiling")
#: The server throttled for more than this share of the window: the figures are marked.
THROTTLE_SHARE = kind("cpu-throttled").threshold("share")
#: More major faults than this per second of the window: the server was thrashing, short of memory.
MAJOR_FAULTS_PER_S = kind("memory-bound").threshold("faults_per_s")
#: A 1-minute load average above this per core, as the run begins, means other work competes.
BUSY_LOAD_PER_CORE = kind("machine-busy").threshold("load_per_core")


@dataclass(frozen=True)
class RunFacts:
    """What every cell of a run is judged against."""

    #: The load generator's CPU quota, % of one core.
    loadgen_quota_pct: float
    #: The calibrated most the generator sends (None: unknown).
    ceiling: float | None
    #: Warnings every cell of the run carries (cores shared, a busy machine).
    warnings: tuple[Flag, ...] = ()
    #: On several hosts: the inventory's name of the host whose server the cells measure.
    server_host: str | None = None
    #: How many hosts send the load (1 on one machine).
    loadgen_hosts: int = 1
    #: The cores of each role whose disturbance is measured (``server``, ``generator``); empty where
    #: they cannot be read from here (another host's engine): every window is then "not measured".
    cores: Mapping[str, tuple[int, ...]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class StepFigures:
    """What was measured over one step's window."""

    load: Load
    start: float
    end: float
    warmup_s: float
    stats: WindowStats
    endpoints: dict[str, WindowStats]
    server: WindowUsage | None
    loadgen: WindowUsage | None
    #: (pid, command, resident bytes) of the server's processes as last seen in the window.
    server_processes: list[tuple[int, str, int]]
    loadgen_processes: int
    #: Each role's share of the window spent on other work than the project's containers (None: not
    #: measured).
    disturbance: dict[str, float | None] = field(default_factory=dict)
    #: The server's connections per process over the window, most first (None: not read).
    connections: tuple[int, ...] | None = None


def measure_step(
    output: LoadgenOutput, sampler: Sampler, step: Step, cores: Mapping[str, tuple[int, ...]] | None = None
) -> StepFigures:
    """The figures of ``step``'s measured window, from the requests, the cgroup samples and the
    readings of ``cores`` (each role's; none: not measured)."""
    start, end = step.measure_from, step.end
    disturbance = window_disturbance(sampler.cores, start, end, cores) if cores else dict.fromkeys(ROLES)
    return StepFigures(
        load=step.load,
        start=start,
        end=end,
        warmup_s=step.measure_from - step.start,
        stats=window_stats(output.samples, start, end),
        endpoints=per_name(output.samples, start, end),
        server=window_usage(sampler.samples.get("server", []), start, end),
        loadgen=combined_usage(
            [
                window_usage(samples, start, end)
                for role, samples in sampler.samples.items()
                if is_loadgen_role(role)
            ]
        ),
        server_processes=_processes_at(sampler.processes.get("server", []), end),
        loadgen_processes=output.processes,
        disturbance=disturbance,
        connections=spread_over_window(sampler.connections, start, end),
    )


def warning(code: str, message: str) -> Flag:
    return Flag(code, message)


def machine_busy(load_average: list[float] | None, host_cores: int) -> Flag | None:
    """The ``machine-busy`` warning when the host's 1-minute load average, as the run begins, is above
    the threshold per core; None when it is not, or is unknown."""
    if load_average is None or load_average[0] <= BUSY_LOAD_PER_CORE * host_cores:
        return None
    message = f"the machine was busy when the run began (load average {load_average[0]:.1f})"
    return warning("machine-busy", message)


def disturbed_reason(disturbance: Mapping[str, Mapping[str, float | None]]) -> str | None:
    """Why a cell's windows are disturbed: its most disturbed role's cores above ``DISTURBED_SHARE`` of
    the window busy with other work; None when every measured share is within it (or none was
    measured: a window that cannot be read is not measured, never taken as quiet or as disturbed)."""
    most = worst(disturbance)
    if most is None or most[2] <= DISTURBED_SHARE.value:
        return None
    window, role, share = most
    return f"{describe(role, share, window)} (above {DISTURBED_SHARE.text})"


def as_disturbed(cell: CellRecord, reason: str) -> CellRecord:
    """A cell whose windows stayed disturbed through every re-measurement: its figures kept, never
    published. A failed cell stays failed (its reason says more)."""
    if cell.status != "ok":
        return cell
    return replace(cell, status="disturbed", reason=f"disturbed: {reason}")


def server_died(server_exit: ServerExit | None, end: float) -> bool:
    """The server stopped in or before the window ending at ``end`` (when unknown: it did)."""
    if server_exit is None:
        return False
    return server_exit.finished_at is None or server_exit.finished_at < end


def status(figures: StepFigures, server_exit: ServerExit | None) -> tuple[Status, str | None]:
    """``ok``, or ``failed`` and why."""
    cause = None
    if server_exit is not None:
        cause = "OOM-killed" if server_exit.oom_killed else f"exit code {server_exit.exit_code}"
    if server_exit is not None and server_died(server_exit, figures.end):
        return "failed", f"the server stopped during the run ({cause})"
    stats = figures.stats
    if stats.requests == 0:
        # A server at its memory limit can stall in the kernel's reclaim before the OOM killer ends it:
        # it answers nothing in the window, and is killed after it.
        after = f"; the server stopped after it ({cause})" if cause is not None else ""
        return "failed", f"no request completed in the measured window{after}"
    if stats.failures >= stats.requests:
        # No answer to measure: there is no throughput or latency, only that every request failed.
        return "failed", f"every request failed ({stats.failures} of {stats.requests} in the measured window)"
    return "ok", None


def sent_rps(stats: WindowStats) -> float:
    """Requests the generator sent per second of the window, answered or not."""
    return stats.requests / stats.seconds if stats.seconds else 0.0


def saturated(figures: StepFigures, facts: RunFacts) -> bool:
    """The generator used at least the saturation share of its CPU quota."""
    loadgen = figures.loadgen
    return loadgen is not None and loadgen.cpu_pct >= SATURATION_SHARE * facts.loadgen_quota_pct


def generator_bound_reasons(
    figures: StepFigures, facts: RunFacts, reference_rps: float | None = None
) -> list[str]:
    """Why the generator, not the server, set the pace; empty when it did not.

    Four ways: its CPU near its quota, held back by its quota, its rate near the calibrated most, or a
    native generator drawing more from the same server on the same cores (``reference_rps``): the last
    sees what the others cannot, a client whose own per-request cost (a new connection per request, its
    own code) is the limit while its CPU is not full.
    """
    stats, loadgen, ceiling = figures.stats, figures.loadgen, facts.ceiling
    reasons = []
    if saturated(figures, facts) and loadgen is not None:
        reasons.append(f"it used {loadgen.cpu_pct:.0f}% of its {facts.loadgen_quota_pct:.0f}% CPU")
    if loadgen is not None and loadgen.throttled_s > LOADGEN_THROTTLE_SHARE * stats.seconds:
        span = f"{loadgen.throttled_s:.1f} s of {stats.seconds:.0f} s"
        reasons.append(f"its CPU quota held it back for {span}")
    sent = sent_rps(stats)
    if ceiling is not None and sent >= CEILING_SHARE * ceiling:
        reasons.append(
            f"it sent {sent:,.0f} req/s, {sent / ceiling:.0%} of the {ceiling:,.0f} "
            "req/s the calibration found to be its most"
        )
    below_reference = efficiency_reason(stats.throughput_rps, reference_rps)
    if below_reference is not None:
        reasons.append(below_reference)
    return reasons


def memory_bound_reason(server: WindowUsage | None, seconds: float, limit_bytes: int | None) -> str | None:
    """Why the server was short of memory in a window of ``seconds``; None when it was not (or unknown)."""
    faults = server.major_faults if server is not None else None
    if server is None or faults is None or seconds <= 0 or faults <= MAJOR_FAULTS_PER_S * seconds:
        return None
    peak = f"{server.mem_bytes_max / 2**20:.0f} MiB"
    if limit_bytes:  # 0 or None: no limit, or not read back
        peak += f" of its {limit_bytes / 2**20:.0f} MiB limit"
    return f"the server faulted {faults / seconds:,.0f} pages a second back in from disk (memory {peak})"


def warnings(
    figures: StepFigures,
    facts: RunFacts,
    bound_by: list[str],
    memory_limit_bytes: int | None = None,
    reference_rps: float | None = None,
) -> tuple[Flag, ...]:
    """The cell's flags with their messages: the run's, then generator-bound, clients-disagree,
    cpu-throttled, memory-bound, errors."""
    stats, server = figures.stats, figures.server
    out = list(facts.warnings)
    if bound_by:
        why = "; ".join(bound_by)
        message = f"the load generator set the pace ({why}): the throughput is a lower bound"
        out.append(warning("generator-bound", message))
    disagree = disagreement_reason(stats.throughput_rps, reference_rps)
    if disagree is not None:
        out.append(warning("clients-disagree", disagree))
    if server is not None and server.throttled_s > THROTTLE_SHARE * stats.seconds:
        span = f"{server.throttled_s:.1f} s of {stats.seconds:.0f} s"
        out.append(warning("cpu-throttled", f"the server was CPU-throttled for {span}"))
    short_of_memory = memory_bound_reason(server, stats.seconds, memory_limit_bytes)
    if short_of_memory is not None:
        out.append(warning("memory-bound", short_of_memory))
    if stats.failures:
        share = f"{100 * stats.error_rate:.1f}%"
        out.append(warning("errors", f"{stats.failures} of {stats.requests} requests failed ({share})"))
    return tuple(out)


def effective_concurrency(stats: WindowStats, sleep_ms: int | None) -> tuple[float, str]:
    """Requests in flight on average (Little's law) and what the time in flight was taken from: the
    workload's sleep when it has one (the server's own share of a request), else the client's mean."""
    basis_ms = float(sleep_ms) if sleep_ms else stats.latency_ms["mean"]
    return stats.throughput_rps * basis_ms / 1000.0, "io sleep" if sleep_ms else "client mean latency"


def judge_cell(
    session: Session, figures: StepFigures, swarm: Swarm, timings: SessionTimings, facts: RunFacts
) -> CellRecord:
    """One measured cell, judged."""
    stats, server, loadgen = figures.stats, figures.server, figures.loadgen
    key = session.key(figures.load)
    cell_status, reason = status(figures, swarm.server_exit)
    reference = swarm.references.get(figures.load.amount)
    reference_rps = reference.throughput_rps if reference is not None else None
    bound_by = generator_bound_reasons(figures, facts, reference_rps)
    concurrency, basis = effective_concurrency(stats, session.workload.sleep_ms)
    return CellRecord(
        mode=key.mode,
        workload=key.workload,
        users=key.users,
        trial=key.trial,
        status=cell_status,
        reason=reason,
        window=Window(figures.start, figures.end, stats.seconds, figures.warmup_s),
        requests=stats.requests,
        failures=stats.failures,
        error_rate=stats.error_rate,
        throughput_rps=stats.throughput_rps,
        latency_ms=Latency(**stats.latency_ms),
        endpoints={
            name: Endpoint(s.requests, s.failures, s.throughput_rps, Latency(**s.latency_ms))
            for name, s in figures.endpoints.items()
        },
        server=Server(
            cpu_pct=server.cpu_pct if server else None,
            throttled_s=server.throttled_s if server else None,
            throttled_periods=server.throttled_periods if server else None,
            mem_mb=server.mem_bytes_max / 2**20 if server else None,
            mem_mb_mean=server.mem_bytes_mean / 2**20 if server else None,
            processes=tuple(Process(pid, comm, rss / 2**20) for pid, comm, rss in figures.server_processes),
            exit=swarm.server_exit if server_died(swarm.server_exit, figures.end) else None,
            major_faults=server.major_faults if server else None,
        ),
        loadgen=Loadgen(
            cpu_pct=loadgen.cpu_pct if loadgen else None,
            cpu_quota_pct=facts.loadgen_quota_pct,
            processes=figures.loadgen_processes,
            saturated=saturated(figures, facts),
            generator_bound=bool(bound_by),
            sent_rps=sent_rps(stats),
            calibrated_max_rps=facts.ceiling,
            generator_efficiency=generator_efficiency(stats.throughput_rps, reference_rps),
            hosts=facts.loadgen_hosts,
        ),
        server_host=facts.server_host,
        disturbance=_disturbance(figures, swarm),
        connections=_connections(figures, swarm),
        load=figures.load.kind,
        offered_rps=figures.load.offered_rps,
        arrivals=session.arrivals.kind if figures.load.open_loop else None,
        arrival_seed=session.arrivals.seed if figures.load.open_loop and session.arrivals.random else None,
        effective_concurrency=concurrency,
        effective_concurrency_basis=basis,
        promised_concurrency=session.mode.promised_concurrency,
        keeps_alive=session.mode.mode.keeps_alive,
        cpu_plan_applied={role: Limits(**limits) for role, limits in swarm.applied.items()},
        session_timings=Timings(timings.start_s, timings.loadgen_s, timings.teardown_s),
        reference=_reference(reference) if reference is not None else None,
        warnings=warnings(
            figures, facts, bound_by, swarm.applied.get("server", {}).get("memory_bytes"), reference_rps
        ),
    )


def _disturbance(figures: StepFigures, swarm: Swarm) -> dict[str, dict[str, float | None]]:
    """Each window kind's disturbance: Locust's window, and the reference's run when there was one."""
    out = {"locust": dict(figures.disturbance)}
    reference = swarm.reference_disturbance.get(figures.load.amount)
    if reference is not None:
        out["reference"] = dict(reference)
    return out


def _connections(figures: StepFigures, swarm: Swarm) -> dict[str, tuple[int, ...] | None]:
    """How the server's connections spread over its processes: through Locust's window, and through
    the reference's run when there was one."""
    out = {"locust": figures.connections}
    if figures.load.amount in swarm.reference_connections:
        out["reference"] = swarm.reference_connections[figures.load.amount]
    return out


def _reference(result: ReferenceResult) -> Reference:
    return Reference(
        generator=result.generator,
        connections=result.connections,
        duration_s=result.duration_s,
        requests=result.requests,
        errors=result.errors,
        throughput_rps=result.throughput_rps,
        latency_ms=Latency(**result.latency_ms),
        missing=result.missing,
    )


def _processes_at(
    history: list[tuple[float, list[tuple[int, str, int]]]], t: float
) -> list[tuple[int, str, int]]:
    """The server's processes as last seen before ``t``."""
    before = [procs for when, procs in history if when <= t]
    return before[-1] if before else (history[-1][1] if history else [])
