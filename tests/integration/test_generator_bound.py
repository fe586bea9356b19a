"""The load generator measures the server, not itself: a starved generator is flagged, a slow server not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.plan.cpuplan import CpuPlan
from servingmatrix.run.runner import Runner

pytestmark = pytest.mark.docker


def starve_generator(plan: CpuPlan) -> CpuPlan:
    """A tenth of a core for the generator: it cannot keep up with a fast server."""
    return replace(plan, loadgen=replace(plan.loadgen, cpus=0.1))


def test_a_starved_generator_is_flagged_generator_bound(docker: Docker, images: None, tmp_path: Path) -> None:
    matrix = Matrix(
        name="starved",
        modes=("gunicorn-gthread[workers=1,threads=8]",),
        workloads=("json",),
        users=(16,),
        duration_s=4.0,
        warmup_s=1.0,
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    Runner(docker, matrix, folder, lambda line: None, calibrate=False, adjust_plan=starve_generator).run()
    (cell,) = [r.as_json() for r in folder.read_cells()]
    assert cell["status"] == "ok"
    assert cell["loadgen"]["cpu_quota_pct"] == pytest.approx(10.0)
    assert cell["loadgen"]["generator_bound"] is True
    bound = [w for w in cell["warnings"] if w["code"] == "generator-bound"]
    assert bound and "lower bound" in bound[0]["message"]
    # wrk on the same tenth of a core draws far more from the same server: the efficiency rule fires.
    reference = cell["reference"]
    assert reference["missing"] is None, reference
    assert reference["connections"] == 16 and reference["throughput_rps"] > cell["throughput_rps"]
    assert cell["loadgen"]["generator_efficiency"] < 0.9
    assert "the reference generator reached (below 0.90)" in bound[0]["message"]


def test_a_slow_server_is_not_flagged_and_the_calibration_is_recorded(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="slow",
        modes=("gunicorn-sync[workers=1]",),
        workloads=("io[ms=200]",),
        users=(4,),
        duration_s=4.0,
        warmup_s=1.0,
        # wrk's own run is its window: it opens with 4 connections queued for the one worker and ends
        # with up to 4 in flight, so about one latency (4 x 200 ms) of work is lost at its edges and its
        # rate reads low by about 0.8 s / window (16% at the default 5 s, a 1.19 efficiency); Locust's
        # window is cut from the middle of its step. At 10 s the edges cost 8%.
        reference_duration_s=10.0,
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    Runner(docker, matrix, folder, lambda line: None).run()
    calibration = folder.read_run().as_json()["calibration"]
    assert "error" not in calibration, calibration
    assert calibration["max_rps"] > 100
    assert calibration["loadgen_cpu_pct"] > 0
    (cell,) = [r.as_json() for r in folder.read_cells()]
    assert cell["status"] == "ok"
    # One sync worker sleeping 200 ms a request serves at most 5 a second, whatever the users.
    assert 2.0 < cell["throughput_rps"] <= 5.5
    assert cell["loadgen"]["generator_bound"] is False
    assert cell["loadgen"]["calibrated_max_rps"] == pytest.approx(calibration["max_rps"])
    assert "generator-bound" not in {w["code"] for w in cell["warnings"]}
    # wrk finds the same 5 a second: Locust reached the server's capacity.
    reference = cell["reference"]
    assert reference["missing"] is None, reference
    assert 2.0 < reference["throughput_rps"] <= 5.5
    assert 0.9 <= cell["loadgen"]["generator_efficiency"] <= 1.2
