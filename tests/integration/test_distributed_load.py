"""Locust across engines, for real, on two simulated hosts.

The server and its backing services run on this machine's engine at the simulated switch's address;
Locust's master and one worker run on simulated host 1, another worker on simulated host 2. The
`json` and `io` cells are measured from the workers' merged samples; then a worker killed in the
middle of a step fails its session's cell with its name and why, while the next session's cell is
measured. ``hosts down`` at the end leaves nothing behind.

Needs root and dockerd. About a minute and a half, most of it shipping the Locust image to the two
engines and two short runs.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.hosts.simulated.hosts import hosts_down, hosts_up
from servingmatrix.hosts.simulated.plan import DEFAULT_LAYOUT
from servingmatrix.hosts.simulated.teardown import leftovers
from servingmatrix.matrix import Matrix
from servingmatrix.report.export import export_csv
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="simulated hosts need root"),
    pytest.mark.skipif(shutil.which("dockerd") is None, reason="simulated hosts need dockerd"),
]


def matrix(inventory: Path, duration_s: float) -> Matrix:
    return Matrix(
        name="hosts",
        modes=("gunicorn-gthread[workers=1,threads=8]",),
        workloads=("json", "io[ms=20]"),
        users=(8,),
        duration_s=duration_s,
        warmup_s=1.0,
        hosts=str(inventory),
        reference="none",
    ).check("test")


@pytest.fixture(scope="module")
def inventory(images: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if DEFAULT_LAYOUT.state_file.exists():
        pytest.skip("simulated hosts are already up (servingmatrix hosts down removes them)")
    path = tmp_path_factory.mktemp("hosts") / "hosts.yml"
    made = []
    try:
        made = hosts_up(2, path, lambda line: None)
        yield path
    finally:
        hosts_down(lambda line: None)
    assert not leftovers(DEFAULT_LAYOUT, made), "hosts down left something behind"


@pytest.fixture(scope="module")
def measured(docker: Docker, inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    folder = RunFolder(tmp_path_factory.mktemp("run") / "hosts")
    Runner(docker, matrix(inventory, 3.0), folder, lambda line: None).run()
    return folder


def test_cells_are_measured_from_every_workers_merged_samples(measured: RunFolder) -> None:
    cells = {c.workload: c for c in measured.read_cells()}
    assert set(cells) == {"json", "io[ms=20]"}
    for cell in cells.values():
        assert cell.ok, cell.reason
        assert (cell.requests or 0) > 0 and cell.latency_ms is not None and cell.latency_ms.p99 is not None
        assert cell.loadgen is not None
        assert (cell.loadgen.hosts, cell.loadgen.processes) == (2, 2)
        assert cell.server_host == "main"
        # Each worker's own limits, read back from its own engine.
        assert {"loadgen@sim1/1", "loadgen@sim2/1"} <= set(cell.cpu_plan_applied)
    # Little's law on the sleeping endpoint: 8 users each waiting 20 ms at least bounds it above, and
    # the merged samples must agree with themselves: a closed loop without think time keeps its 8
    # users in flight, so the throughput is 8 over the mean latency of the same requests (a merge
    # that lost or doubled a worker's samples breaks it either way).
    io_cell = cells["io[ms=20]"]
    throughput = io_cell.throughput_rps or 0.0
    assert throughput <= 8 / 0.020
    assert io_cell.latency_ms.mean is not None and io_cell.latency_ms.mean >= 20.0
    in_flight = throughput * io_cell.latency_ms.mean / 1000.0
    assert 0.85 * 8 <= in_flight <= 1.05 * 8, in_flight


def test_the_run_records_its_hosts_clocks_images_and_method(measured: RunFolder) -> None:
    meta = measured.read_run().as_json()
    hosts = meta["metadata"]["hosts"]
    assert hosts["method"] == "simulated (one kernel)"
    by_name = {h["name"]: h for h in hosts["hosts"]}
    assert set(by_name) == {"main", "sim1", "sim2"}
    assert "locust" in by_name["sim1"]["images"] and "locust" in by_name["sim2"]["images"]
    assert by_name["sim1"]["images"]["locust"] == by_name["sim2"]["images"]["locust"]
    # One kernel, one clock: the offsets are within their uncertainty and not applied.
    for host in meta["distributed"]["hosts"]:
        assert host["clock"]["applied_ms"] == 0.0
    assert meta["distributed"]["workers"] == 2
    first = next(csv.DictReader(io.StringIO(export_csv(measured))))
    assert (first["loadgen_hosts"], first["loadgen_workers"], first["server_host"]) == ("2", "2", "main")


def test_a_worker_killed_mid_step_fails_that_cell_and_the_next_is_measured(
    docker: Docker, inventory: Path, tmp_path: Path
) -> None:
    folder = RunFolder(tmp_path / "killed")
    runner = Runner(docker, matrix(inventory, 6.0), folder, lambda line: None, calibrate=False)
    sim2 = Docker("tcp://10.213.0.3:2375", name="sim2")
    worker = f"servingmatrix-{runner.run_id}-loadgen-sim2-1"
    done = threading.Event()
    killed: list[float] = []

    def kill_in_first_session() -> None:
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            state = (sim2.container_inspect(worker) or {}).get("State") or {}
            if state.get("Running"):
                # Past the 1 s warm-up, inside the measured window of the json step.
                time.sleep(3.0)
                sim2.kill(worker)
                killed.append(time.time())
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_in_first_session, daemon=True)
    killer.start()
    try:
        runner.run()
    finally:
        done.set()
        killer.join(10)
    assert killed, "the worker was never seen running"
    cells = {c.workload: c for c in folder.read_cells()}
    json_cell, io_cell = cells["json"], cells["io[ms=20]"]
    assert json_cell.status == "failed"
    assert "1 of 2 load generator workers lost" in (json_cell.reason or "")
    assert "sim2/1" in (json_cell.reason or "") and "137" in (json_cell.reason or "")
    assert io_cell.ok, io_cell.reason
