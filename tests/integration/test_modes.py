"""Every mode's image starts, becomes ready, and passes the conformance check of every endpoint."""

from __future__ import annotations

import pytest

from servingmatrix.engine.docker import ContainerSpec, Docker
from servingmatrix.modes import MODES, Mode
from servingmatrix.run.stack.conformance import check_server
from servingmatrix.run.stack.stack import Stack

from .conftest import serving

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_mode_is_conformant(stack: Stack, mode: Mode) -> None:
    with serving(stack, mode.name) as config:
        assert check_server(stack.server_url, config.spec) == []


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_image_is_labelled_and_unprivileged(docker: Docker, images: None, mode: Mode) -> None:
    info = docker.image_inspect(mode.image)
    assert info is not None
    config = info["Config"]
    assert config["User"].startswith("10001")
    assert config["Labels"]["io.servingmatrix.mode"] == mode.name
    assert config["Labels"]["io.servingmatrix.packages"] == " ".join(mode.packages)
    assert config["Healthcheck"]["Test"]
    assert any(e == "PYTHONUNBUFFERED=1" for e in config["Env"])


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_image_runs_its_server_without_pip(docker: Docker, images: None, mode: Mode) -> None:
    """pip stays in the build stage; the server's package is in the final image's environment."""
    server = mode.resolve({}, 1).launch("0.0.0.0", 8000).argv[0]
    probe = (
        "import importlib.util, shutil, sys; "
        f"sys.exit(importlib.util.find_spec('pip') is not None or shutil.which({server!r}) is None)"
    )
    spec = ContainerSpec(
        name=f"smtest-probe-{mode.name}",
        image=mode.image,
        entrypoint=("python",),
        command=("-c", probe),
        network="none",
    )
    code, output = docker.run_once(spec)
    assert code == 0, output
