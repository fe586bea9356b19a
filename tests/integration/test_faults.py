"""Faults the runner survives, injected for real: the matrix records them and goes on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from servingmatrix.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results import RunFolder
from servingmatrix.runner import Runner

pytestmark = pytest.mark.docker


def kill_when_loaded(docker: Docker, runner: Runner, after_s: float, done: threading.Event) -> None:
    """Kill the first session's server ``after_s`` seconds into its load."""
    server = f"servingmatrix-{runner.run_id}-server"
    loadgen = f"servingmatrix-{runner.run_id}-loadgen"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not done.is_set():
        info = docker.container_inspect(loadgen)
        if info is not None and info["State"].get("Running"):
            time.sleep(after_s)
            docker.remove(["kill", server])
            return
        time.sleep(0.1)


def test_server_killed_mid_session_fails_later_cells_and_the_matrix_goes_on(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="faults",
        modes=("gunicorn-sync[workers=1]", "waitress"),
        workloads=("json",),
        users=(1, 2),
        duration_s=3.0,
        warmup_s=1.0,
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    runner = Runner(docker, matrix, folder, lambda line: None)
    done = threading.Event()
    # Steps take 4 s each: 6 s in is the middle of the second step's measured window.
    killer = threading.Thread(target=kill_when_loaded, args=(docker, runner, 6.0, done), daemon=True)
    killer.start()
    try:
        runner.run()
    finally:
        done.set()
        killer.join(5)
    cells = {(c["mode"], c["users"]): c for c in folder.read_cells()}
    assert cells[("gunicorn-sync[workers=1]", 1)]["status"] == "ok"
    killed = cells[("gunicorn-sync[workers=1]", 2)]
    assert killed["status"] == "failed"
    assert "the server stopped during the run" in killed["reason"]
    assert killed["server"]["exit"]["exit_code"] == 137
    assert killed["server"]["exit"]["last_log"]
    # The matrix went on: the next mode was measured as usual.
    assert cells[("waitress[threads=4]", 1)]["status"] == "ok"
    assert cells[("waitress[threads=4]", 2)]["status"] == "ok"
