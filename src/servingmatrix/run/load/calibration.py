"""The load generator's calibration: the most it sends on its cores, measured before a run.

Against the upstream's trivial endpoint, the upstream on the server's cores (idle then), with the
run's number of load processes. A cell whose throughput comes within reach of that most was set by
the generator, not the server (see ``judge``).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from servingmatrix.run.judge import SATURATION_SHARE
from servingmatrix.run.load.distributed import DistributedDriver, DistributedLoad, server_reader
from servingmatrix.run.load.drive import Driver, LocustRun
from servingmatrix.run.load.loadgen import (
    CALIBRATION_LOCUSTFILE,
    Load,
    LocustJob,
    is_loadgen_role,
    locust_spec,
)
from servingmatrix.run.measure.cgroups import combined_usage, window_usage
from servingmatrix.run.measure.latency import window_stats
from servingmatrix.run.plan.cpuplan import CpuPlan
from servingmatrix.run.stack.readiness import NotReady
from servingmatrix.run.stack.stack import Stack

#: Closed-loop users per load process against the upstream's trivial endpoint.
CALIBRATION_USERS = 64
CALIBRATION_WARMUP_S = 2.0
CALIBRATION_DURATION_S = 6.0
#: What a calibration measures with: a kept calibration is reused only under the same settings.
CALIBRATION_SETTINGS = {
    "users_per_process": CALIBRATION_USERS,
    "warmup_s": CALIBRATION_WARMUP_S,
    "duration_s": CALIBRATION_DURATION_S,
}


def calibrate(
    stack: Stack,
    driver: Driver,
    plan: CpuPlan,
    out_dir: Path,
    keep_samples: bool,
    load: DistributedLoad | None = None,
    here: bool = True,
) -> dict[str, Any]:
    """The calibration's figures (``calibration_result``), or ``{"error": why}``; ``stack`` is stopped.

    With ``load``, Locust's master and workers on the load hosts send it, against the upstream on the
    server host's cores (``here``: that host is this machine).
    """
    processes = plan.loadgen_processes
    users = CALIBRATION_USERS * processes
    load_s = CALIBRATION_WARMUP_S + CALIBRATION_DURATION_S
    try:
        try:
            stack.start_upstream(plan.server)
        except NotReady as exc:
            return {"error": f"the calibration target did not start: {exc}"}
        job = LocustJob(
            workload=None,
            locustfile=CALIBRATION_LOCUSTFILE,
            target=stack.upstream_url,
            loads=(Load(users),),
            warmup_s=CALIBRATION_WARMUP_S,
            duration_s=CALIBRATION_DURATION_S,
            request_timeout_s=driver.request_timeout_s,
        )
        if load is not None:
            name = stack.name("upstream")
            reader = server_reader(stack.engine("upstream"), name, here)
            watched = {"upstream": reader} if reader is not None else {}
            hosts = DistributedDriver(load, driver.request_timeout_s)
            drive = hosts.drive(stack.run_id, f"servingmatrix-{stack.run_id}", job, watched, out_dir, load_s)
        else:
            target = {"upstream": driver.pid_of(stack.name("upstream"))}
            spec = locust_spec(
                job,
                name=stack.name("loadgen"),
                run_id=stack.run_id,
                out_dir=out_dir,
                placement=plan.loadgen,
                processes=processes,
            )
            drive = driver.drive(stack, spec, target, out_dir, load_s)
    finally:
        stack.stop()
    if isinstance(drive.output, str):
        result: dict[str, Any] = {"error": drive.output}
    else:
        result = calibration_result(drive, plan, processes, users)
    if not keep_samples:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result


def calibration_text(result: dict[str, Any]) -> str:
    """The calibration in one line, as the run reports it."""
    if "error" in result:
        return f"calibration failed: {result['error']}"
    cpu = result["loadgen_cpu_pct"]
    used = f"CPU {cpu:.0f}%" if cpu is not None else "CPU not measured"
    reused = result.get("reused_from")
    where = f" (reused from {reused}: same machine, images and plan; --recalibrate measures again)"
    return (
        f"calibration{where if reused else ''}: the load generator sent "
        f"{result['max_rps']:,.0f} req/s at most ({used}, limited by: {result['limited_by']})"
    )


def calibration_result(drive: LocustRun, plan: CpuPlan, processes: int, users: int) -> dict[str, Any]:
    """The calibration's figures: the generator's most, its CPU, and which side set the limit."""
    assert not isinstance(drive.output, str)
    step = drive.output.steps[-1]
    stats = window_stats(drive.output.samples, step.measure_from, step.end)
    loadgen = combined_usage(
        [
            window_usage(samples, step.measure_from, step.end)
            for role, samples in drive.sampler.samples.items()
            if is_loadgen_role(role)
        ]
    )
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


def lane_ceilings(lanes: Mapping[str, Any] | None) -> dict[str, float | None]:
    """A fleet's calibrated most per server host's lane, from its calibrations by server host
    (``RunRecord.calibration_hosts``; None when the run has none: every lane then takes the run's one
    ``calibration``)."""
    return {str(name): ceiling(result) for name, result in (lanes or {}).items()}


def ceiling(calibration: object) -> float | None:
    """The calibrated most the generator sends, when it is one: not when the target was the limit."""
    if not isinstance(calibration, dict) or calibration.get("limited_by") == "server":
        return None
    value = calibration.get("max_rps")
    return float(value) if isinstance(value, int | float) and value > 0 else None
