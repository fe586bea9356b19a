"""Faults the runner survives, injected for real: the matrix records them and goes on."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner
from servingmatrix.run.session import plan_sessions

pytestmark = pytest.mark.docker


def kill_during_second_step(docker: Docker, runner: Runner, done: threading.Event) -> None:
    """Kill the first session's server in the middle of its second step's measured window."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not done.is_set():
        schedules = list((runner.folder.root / "sessions").glob("*/schedule.json"))
        if schedules:
            try:
                steps = json.loads(schedules[0].read_text())["steps"]
            except (OSError, ValueError, KeyError):
                steps = []
            if len(steps) >= 2:
                time.sleep(max(0.0, (steps[1]["measure_from"] + steps[1]["end"]) / 2 - time.time()))
                docker.kill(f"servingmatrix-{runner.run_id}-server")
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
        reference="none",
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    # A seed whose order measures gunicorn-sync first: the session the killer strikes is its.
    seed = next(s for s in range(1000) if plan_sessions(matrix, s)[0].mode.spec == "gunicorn-sync[workers=1]")
    runner = Runner(docker, matrix, folder, lambda line: None, calibrate=False, order_seed=seed)
    done = threading.Event()
    killer = threading.Thread(target=kill_during_second_step, args=(docker, runner, done), daemon=True)
    killer.start()
    try:
        runner.run()
    finally:
        done.set()
        killer.join(5)
    cells = {(r.mode, r.users): r.as_json() for r in folder.read_cells()}
    assert cells[("gunicorn-sync[workers=1]", 1)]["status"] == "ok"
    killed = cells[("gunicorn-sync[workers=1]", 2)]
    assert killed["status"] == "failed"
    assert "the server stopped during the run" in killed["reason"]
    assert killed["server"]["exit"]["exit_code"] == 137
    assert killed["server"]["exit"]["last_log"]
    # The matrix went on: the next mode was measured as usual.
    assert cells[("waitress[threads=4]", 1)]["status"] == "ok"
    assert cells[("waitress[threads=4]", 2)]["status"] == "ok"
