"""A busy loop on the server's core during a measured window, for real.

The loop runs on the host, outside every container of the run, pinned to the core the CPU plan gives
the server, from the first session's measured window's start to its end. The harness must see other
work take that core (``/proc/stat`` against the containers' cgroups), discard the window, measure the
step again in a fresh session once the loop has stopped, and record the cell clean: ``ok``, measured
again once, its server core's disturbance within the threshold.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.flags import DISTURBED_SHARE
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

from .schedule import measured_window, sleep_until

pytestmark = pytest.mark.docker

#: A loop that keeps one core busy until it is stopped.
BUSY_LOOP = "while True: pass"


def hog_the_window(runner: Runner, core: int, done: threading.Event, log: dict[str, float]) -> None:
    """Run a busy loop pinned to ``core`` through the first session's measured window."""
    window = measured_window(runner.folder.root, 0, done)
    if window is None:
        return
    start, end = window
    sleep_until(start)
    loop = subprocess.Popen(
        [sys.executable, "-c", BUSY_LOOP], preexec_fn=lambda: os.sched_setaffinity(0, {core})
    )
    try:
        log["started"] = start
        sleep_until(end)
    finally:
        loop.kill()
        loop.wait()
        log["stopped"] = end


def test_a_busy_loop_on_the_servers_core_makes_its_window_measured_again_and_the_cell_clean(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="disturbance",
        modes=("gunicorn-sync[workers=1]",),
        workloads=("json",),
        users=(4,),
        duration_s=4.0,
        warmup_s=1.0,
        reference="none",
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    runner = Runner(docker, matrix, folder, lambda line: None, calibrate=False)
    server_core = sorted(os.sched_getaffinity(0))[0]  # the plan gives the server the first core
    done = threading.Event()
    log: dict[str, float] = {}
    hog = threading.Thread(target=hog_the_window, args=(runner, server_core, done, log), daemon=True)
    hog.start()
    try:
        runner.run()
    finally:
        done.set()
        hog.join(10)
    assert "stopped" in log, "the busy loop never ran in a measured window"
    (cell,) = [r.as_json() for r in folder.read_cells()]
    assert cell["status"] == "ok", cell.get("reason")
    assert cell["measured_again"] == 1
    assert cell["disturbance"]["locust"]["server"] is not None
    assert cell["disturbance"]["locust"]["server"] <= DISTURBED_SHARE.value
    # The re-measured window came after the loop stopped.
    assert cell["window"]["start"] > log["stopped"]
