"""The reference generator's image: Debian's wrk, run without a network, its version in the metadata."""

from __future__ import annotations

import pytest

from servingmatrix.engine.docker import ContainerSpec, Docker
from servingmatrix.run.load.reference import WRK_IMAGE
from servingmatrix.run.measure.metadata import collect_metadata

pytestmark = pytest.mark.docker


def test_the_wrk_image_runs_wrk_with_no_network(docker: Docker, images: None) -> None:
    info = docker.image_inspect(WRK_IMAGE)
    assert info is not None
    assert info["Config"]["Labels"]["io.servingmatrix.debian-packages"] == "wrk"
    assert info["Config"]["User"] == "10001:10001"
    # Hardened as every container of a run: a read-only root, no capabilities, no new privileges.
    spec = ContainerSpec(name="smtest-wrk-version", image=WRK_IMAGE, command=("--version",), network="none")
    _, output = docker.run_once(spec, timeout=60)
    assert output.startswith("wrk "), output


def test_the_wrk_version_is_in_the_metadata(docker: Docker, images: None) -> None:
    meta = collect_metadata(docker, ["wrk"])
    assert meta["images"]["wrk"]["version_line"].startswith("wrk ")
