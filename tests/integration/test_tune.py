"""``servingmatrix tune`` end to end on the bundled app, small: two modes, each with its tunables fixed
but one, short probes, a few minutes; then its artefacts read by the tools that read them: the Compose
tool's ``config`` on its Compose file, and ``gunicorn --check-config`` inside the mode's own image on
its ``gunicorn.conf.py``.

Run it alone (Docker, the images built, nothing else on the machine):
``.venv/bin/pytest -q tests/integration/test_tune.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from servingmatrix.cli import main
from servingmatrix.engine.container_spec import ContainerSpec
from servingmatrix.engine.docker import Docker
from servingmatrix.modes import resolve_mode
from servingmatrix.results.folder import RunFolder
from servingmatrix.tune.artefacts import (
    COMPOSE_FILE,
    DEPLOY_DIR,
    GUNICORN_CONF,
    gunicorn_conf,
    write_artefacts,
)
from servingmatrix.tune.result_file import TUNE_FILE, read_tune

pytestmark = pytest.mark.docker

#: Two modes, 2 + 1 configurations (256m holds two sync workers by the search's bounds), probes of 2 s
#: after 1 s of warm-up, bracketed to 25%, two trials at the final rate: a few minutes on two cores.
TUNE = [
    "tune",
    "--modes",
    "gunicorn-sync,waitress[threads=4]",
    "--server-memory",
    "256m",
    "--workload",
    "io[ms=20]",
    "--slo-p99",
    "250ms",
    "--start-rate",
    "40",
    "--precision",
    "25%",
    "--confirmations",
    "2",
    "--probe-duration",
    "2s",
    "--probe-warmup",
    "1s",
    "--budget",
    "4m",
]


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    command = [tool] if tool else ["docker", "compose"]
    return subprocess.run(
        [*command, "-f", str(path), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
    )


def check_config(docker: Docker, spec: str, conf: str) -> tuple[int, str]:
    """``gunicorn --check-config`` and ``--print-config`` on ``conf`` inside the mode's image."""
    config = resolve_mode(spec, 1)
    script = (
        'printf "%s" "$TUNED_CONF" > /tmp/gunicorn.conf.py && '
        "gunicorn --check-config -c /tmp/gunicorn.conf.py && "
        "gunicorn --print-config -c /tmp/gunicorn.conf.py"
    )
    spec_ = ContainerSpec(
        name=f"sm-test-tune-conf-{os.getpid()}",
        image=config.image,
        entrypoint=("sh", "-c", script),
        env={"TUNED_CONF": conf},
        network="none",
        tmpfs={"/tmp": "rw,mode=1777,size=16m"},
        labels={"io.servingmatrix.project": "servingmatrix"},
        no_healthcheck=True,
    )
    return docker.run_once(spec_, timeout=60.0)


@pytest.mark.parametrize(
    "spec",
    [
        "gunicorn-gthread[workers=2,threads=8]",
        "nginx-gunicorn-sync[workers=2]",
        "gunicorn-gevent[workers=1,connections=500]",
    ],
)
def test_gunicorn_reads_the_tuned_conf_in_the_modes_image(docker: Docker, images: None, spec: str) -> None:
    conf = gunicorn_conf(resolve_mode(spec, 1))
    assert conf is not None
    code, output = check_config(docker, spec, conf)
    assert code == 0, output
    config = resolve_mode(spec, 1)
    # The settings took: gunicorn prints each resolved setting as "name = value" (padded).
    printed = " ".join(output.split())
    assert f"workers = {config.values['workers']}" in printed, output
    assert "worker_tmp_dir = /dev/shm" in printed, output


def test_the_compose_file_is_read_by_the_compose_tool(tmp_path: Path) -> None:
    write_artefacts(tmp_path, resolve_mode("gunicorn-gthread[workers=2,threads=8]", 1), "1g")
    checked = compose_config(tmp_path / DEPLOY_DIR / COMPOSE_FILE)
    assert checked.returncode == 0, checked.stderr
    assert ("cpuset" in checked.stdout and "mem_limit" in checked.stdout) or "1073741824" in checked.stdout


def test_tune_of_two_modes_end_to_end(docker: Docker, images: None, tmp_path: Path) -> None:
    out = tmp_path / "tune"
    assert main([*TUNE, "--out", str(out)]) == 0
    result = read_tune(out / TUNE_FILE)
    assert result.recommendation is not None and result.recommendation in result.contenders
    assert result.folk_default is not None
    assert {c.spec.split("[")[0] for c in result.capacities} == {"gunicorn-sync", "waitress"}
    # Every probe is a run of its own, on disk (a probe asked again is read back, not measured again).
    probes = sorted((out / "probes").iterdir())
    asked = {(c.spec, p.result.rate, p.result.repeat) for c in result.capacities for p in c.probes}
    assert len(probes) == len(asked)
    cells = [cell for probe in probes for cell in RunFolder(probe).read_cells()]
    assert {(c.load, c.arrivals) for c in cells} == {("open", "poisson")}
    recommended = resolve_mode(result.recommendation, 1)
    deploy = out / DEPLOY_DIR
    assert compose_config(deploy / COMPOSE_FILE).returncode == 0
    if recommended.mode.name.startswith("gunicorn"):
        code, output = check_config(docker, result.recommendation, (deploy / GUNICORN_CONF).read_text())
        assert code == 0, output
    # The same command again resumes: nothing is measured again, and the answer is the same.
    assert main([*TUNE, "--out", str(out)]) == 0
    assert sorted((out / "probes").iterdir()) == probes
    assert read_tune(out / TUNE_FILE).recommendation == result.recommendation
