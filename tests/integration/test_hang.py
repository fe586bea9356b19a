"""A server that accepts connections but never answers: ``docker pause`` freezes it mid-step.

A frozen server still has its listening socket, so the kernel completes TCP handshakes into its
backlog and no connection is refused: only the per-request timeout ends a request. The run must not
wait on it: every request fails after the timeout, the cell ends on schedule and is recorded with
its errors, the paused container is removed with the rest, and the next mode is measured.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner
from servingmatrix.run.session import plan_sessions
from servingmatrix.run.stack.stack import RUN_LABEL

from .schedule import measured_window, sleep_until

pytestmark = pytest.mark.docker

REQUEST_TIMEOUT_S = 2.0
#: Two sessions of one 5 s step each, their start-up and teardown; a hang would cost minutes.
RUN_BOUND_S = 90.0


def pause_mid_window(docker: Docker, runner: Runner, done: threading.Event, paused: list[float]) -> None:
    """Freeze the first session's server one second into its measured window, and leave it frozen."""
    window = measured_window(runner.folder.root, 0, done)
    if window is None:
        return
    sleep_until(window[0] + 1.0)
    docker.pause(f"servingmatrix-{runner.run_id}-server")
    paused.append(time.time())


def test_hung_server_fails_requests_on_time_and_the_run_ends_clean(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="hang",
        modes=("waitress[threads=4]", "gunicorn-sync[workers=1]"),
        workloads=("json",),
        users=(4,),
        duration_s=4.0,
        warmup_s=1.0,
        request_timeout_s=REQUEST_TIMEOUT_S,
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    # Modes run in a seeded shuffled order: pick a seed whose first session is the one frozen.
    seed = next(s for s in range(1000) if plan_sessions(matrix, s)[0].mode.spec == "waitress[threads=4]")
    runner = Runner(docker, matrix, folder, lambda line: None, calibrate=False, order_seed=seed)
    done = threading.Event()
    paused: list[float] = []
    freezer = threading.Thread(target=pause_mid_window, args=(docker, runner, done, paused), daemon=True)
    freezer.start()
    began = time.monotonic()
    try:
        runner.run()
    finally:
        took = time.monotonic() - began
        done.set()
        freezer.join(5)
    assert paused, "the server was never paused"
    assert took < RUN_BOUND_S, f"the run took {took:.0f} s"

    cells = {r.mode: r.as_json() for r in folder.read_cells()}
    hung = cells["waitress[threads=4]"]
    # Requests before the pause succeeded; every one after it ended, failed, at the timeout.
    assert hung["status"] == "ok", hung.get("reason")
    assert hung["failures"] > 0
    assert hung["requests"] > hung["failures"]
    codes = [w["code"] for w in hung["warnings"]]
    assert "errors" in codes
    # The server was frozen, not dead; the load generator kept to its schedule.
    assert hung["server"]["exit"] is None
    load_s = matrix.warmup_s + matrix.duration_s
    assert hung["session_timings"]["loadgen_s"] < load_s + REQUEST_TIMEOUT_S + 15
    # The paused container went with its stack, and the next mode ran on the same port.
    assert cells["gunicorn-sync[workers=1]"]["status"] == "ok"
    assert cells["gunicorn-sync[workers=1]"]["failures"] == 0
    assert docker.list_containers({RUN_LABEL: runner.run_id}) == []
