"""A fleet, for real, on three simulated hosts: two server hosts measured at the same time.

This machine's engine and simulated host 1 each serve; simulated hosts 2 and 3 each swarm one of
them; the backing services run on this machine's engine for both lanes, on each lane's own ports.
Each lane calibrates its own load host against its own server host. The two cells (a mode x two
workloads) are dealt one to each lane; each is measured against its lane's calibration and records the
host whose server it measured, and nothing is left on any engine.

Needs root and dockerd. About a minute and a half, most of it shipping the images to the engines.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from servingmatrix.engine.docker import PROJECT_LABEL, Docker
from servingmatrix.hosts.simulated.hosts import hosts_down, hosts_up
from servingmatrix.hosts.simulated.plan import DEFAULT_LAYOUT
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.load.calibration import ceiling
from servingmatrix.run.runner import Runner
from servingmatrix.run.stack.stack import RUN_LABEL

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="simulated hosts need root"),
    pytest.mark.skipif(shutil.which("dockerd") is None, reason="simulated hosts need dockerd"),
]


@pytest.fixture(scope="module")
def fleet(images: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Three simulated hosts, the first made a server host: two server hosts, two load hosts."""
    if DEFAULT_LAYOUT.state_file.exists():
        pytest.skip("simulated hosts are already up (servingmatrix hosts down removes them)")
    path = tmp_path_factory.mktemp("fleet") / "hosts.yml"
    try:
        hosts_up(3, path, lambda line: None)
        inventory = yaml.safe_load(path.read_text())
        inventory["hosts"][1]["roles"] = ["server"]
        path.write_text(yaml.safe_dump(inventory, sort_keys=False))
        yield path
    finally:
        hosts_down(lambda line: None)


def test_two_server_hosts_are_measured_at_once_each_cell_on_its_own_host(
    docker: Docker, fleet: Path, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="fleet",
        modes=("gunicorn-gthread[workers=1,threads=8]",),
        workloads=("json", "io[ms=20]"),
        users=(8,),
        duration_s=3.0,
        warmup_s=1.0,
        hosts=str(fleet),
        reference="none",
    ).check("test")
    folder = RunFolder(tmp_path / "fleet")
    runner = Runner(docker, matrix, folder, lambda line: None)
    sim1 = Docker("tcp://10.213.0.2:2375", name="sim1")
    runner.run()
    cells = {c.workload: c for c in folder.read_cells()}
    assert set(cells) == {"json", "io[ms=20]"}
    for cell in cells.values():
        assert cell.ok, cell.reason
        assert cell.loadgen is not None and cell.loadgen.hosts == 1
    # The cells were dealt one to each lane, in turn.
    assert {cells["json"].server_host, cells["io[ms=20]"].server_host} == {"main", "sim1"}
    meta = folder.read_run().as_json()
    lanes = meta["distributed"]["fleet"]
    assert [lane["server_host"] for lane in lanes] == ["main", "sim1"]
    assert [lane["master"]["host"] for lane in lanes] == ["sim2", "sim3"]
    # Each lane calibrated its own load host against its own server host, and its cells are judged
    # against that lane's calibrated most, not the first lane's.
    lane_calibrations = meta["calibration_hosts"]
    assert list(lane_calibrations) == ["main", "sim1"]
    assert meta["calibration"] == lane_calibrations["main"]
    # Two measurements, not one recorded twice.
    assert lane_calibrations["main"]["max_rps"] != lane_calibrations["sim1"]["max_rps"]
    for cell in cells.values():
        assert cell.server_host is not None and cell.loadgen is not None
        assert cell.loadgen.calibrated_max_rps == ceiling(lane_calibrations[cell.server_host])
    # Run again with every cell measured: nothing is measured, and each lane keeps its calibration.
    Runner(docker, matrix, folder, lambda line: None).run()
    assert folder.read_run().as_json()["calibration_hosts"] == lane_calibrations
    # The server host that is not this machine got the server's image.
    images = {h["name"]: h["images"] for h in meta["metadata"]["hosts"]["hosts"]}
    assert "gunicorn-gthread" in images["sim1"]
    # Nothing of the run (its lanes' run labels start with its own) is left on this machine's engine
    # or on the simulated server host's.
    for engine in (docker, sim1):
        left = [
            c.name
            for c in engine.container_listing({PROJECT_LABEL: None})
            if c.labels.get(RUN_LABEL, "").startswith(runner.run_id)
        ]
        assert left == []
