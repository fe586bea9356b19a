"""Open loop: the offered rate is sent whatever the server's latency, so its queueing shows in the latency."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

pytestmark = pytest.mark.docker


def test_an_overloaded_server_shows_its_queue_in_latency_not_in_a_lower_offered_rate(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    # One sync worker sleeping 100 ms a request serves 10 a second: 5/s fits, 20/s is twice too many.
    matrix = Matrix(
        name="open",
        modes=("gunicorn-sync[workers=1]",),
        workloads=("io[ms=100]",),
        arrival_rates=(5, 20),
        duration_s=5.0,
        warmup_s=2.0,
        reference="none",
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    Runner(docker, matrix, folder, lambda line: None, calibrate=False).run()
    cells = {r.users: r.as_json() for r in folder.read_cells()}
    assert {c["load"] for c in cells.values()} == {"open"}
    fits, overloaded = cells[5], cells[20]
    assert fits["status"] == overloaded["status"] == "ok"
    assert fits["offered_rps"] == 5.0 and overloaded["offered_rps"] == 20.0
    assert fits["throughput_rps"] == pytest.approx(5.0, rel=0.25)
    assert fits["latency_ms"]["p50"] < 300
    # Achieved stays at the server's 10/s while the offered 20/s queue up: latency grows by seconds.
    assert overloaded["throughput_rps"] == pytest.approx(10.0, rel=0.25)
    assert overloaded["latency_ms"]["p50"] > 1000
