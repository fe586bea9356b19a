"""The files rendered from the registry are committed as rendered, and say what they must."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from servingmatrix.building.dockerfiles import server_packages
from servingmatrix.building.generate import rendered_files, stale_files
from servingmatrix.building.locks import canonical_name, parse_lock
from servingmatrix.modes import MODES, Mode
from servingmatrix.paths import images_dir, project_root


def test_no_rendered_file_has_drifted() -> None:
    assert stale_files() == [], "run `servingmatrix generate`"


def test_every_mode_has_a_dockerfile_pins_lock_and_compose_file() -> None:
    paths = set(rendered_files())
    for mode in MODES:
        assert images_dir() / mode.name / "Dockerfile" in paths
        assert (images_dir() / mode.name / "requirements.lock").exists()
        assert (project_root() / "compose" / f"{mode.name}.yml").exists()


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_lock_pins_what_the_registry_pins(mode: Mode) -> None:
    locked = {p.key: p.version for p in parse_lock(images_dir() / mode.name / "requirements.lock")}
    for requirement in mode.packages:
        name, version = requirement.split("==")
        assert locked[canonical_name(name.split("[")[0])] == version


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_dockerfile_is_hardened(mode: Mode) -> None:
    text = (images_dir() / mode.name / "Dockerfile").read_text()
    assert text.count("FROM ${RUNTIME_IMAGE}") == 1, "the final stage starts from the shared runtime"
    if server_packages(mode):
        assert text.count("FROM ${APP_IMAGE} AS build") == 1, "the server is installed in a build stage"
        assert "--no-index" in text and "--require-hashes" in text and "--target /opt/server" in text
        assert "COPY --from=build /opt/server /opt/server" in text
    else:
        assert "AS build" not in text and "pip install" not in text, "Flask's own server installs nothing"
    assert f'io.servingmatrix.mode="{mode.name}"' in text
    assert "USER root" not in text or text.rindex("USER 10001:10001") > text.rindex("USER root")


def test_runtime_is_hardened() -> None:
    """What every mode's final stage starts from: an unprivileged user and a health check."""
    text = (images_dir() / "runtime" / "Dockerfile").read_text()
    assert "USER 10001:10001" in text and "HEALTHCHECK" in text and "PYTHONUNBUFFERED" in text
    assert "COPY --from=app /srv /srv" in text and "COPY --from=app /opt/venv /opt/venv" in text
    app = (images_dir() / "app" / "Dockerfile").read_text()
    assert "python3 -m venv --without-pip /opt/venv" in app, "the environment copied in holds no pip"


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_compose_stack_is_pinned_limited_and_local(mode: Mode) -> None:
    stack = yaml.safe_load((project_root() / "compose" / f"{mode.name}.yml").read_text())
    services = stack["services"]
    assert set(services) == {"app", "upstream", "postgres"}
    for service in services.values():
        assert service["cpuset"] and service["cpus"] > 0 and service["mem_limit"]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:")
    assert "ports" not in services["postgres"] and "ports" not in services["upstream"]
    app = services["app"]
    assert app["image"] == mode.image
    assert app["command"] == list(mode.resolve({}, 1).launch("0.0.0.0", 8000).argv)


def test_gunicorn_modes_keep_worker_files_in_memory() -> None:
    for mode in MODES:
        argv = mode.resolve({}, 1).launch("0.0.0.0", 8000).argv
        if argv[0] == "gunicorn":
            assert "/dev/shm" in argv[argv.index("--worker-tmp-dir") + 1]


def test_lock_parser_refuses_unpinned(tmp_path: Path) -> None:
    from servingmatrix.errors import UserError

    bad = tmp_path / "requirements.lock"
    bad.write_text("flask>=3\n")
    with pytest.raises(UserError, match="not pinned"):
        parse_lock(bad)
    bad.write_text("flask==3.1.3\n")
    with pytest.raises(UserError, match="no --hash"):
        parse_lock(bad)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_mode_lock_agrees_with_the_app_lock(mode: Mode) -> None:
    """A mode's image starts from the app image: every package both lock must be at one version."""
    app = {p.key: p.version for p in parse_lock(images_dir() / "app" / "requirements.lock")}
    locked = {p.key: p.version for p in parse_lock(images_dir() / mode.name / "requirements.lock")}
    assert {key: locked.get(key) for key in app} == app


def test_app_image_holds_the_app_and_its_data() -> None:
    text = (images_dir() / "app" / "Dockerfile").read_text()
    assert "COPY app/ /srv/app/" in text and "benchapp.seed /srv/data/items.sqlite" in text
    assert "--no-index" in text and "--require-hashes" in text
    assert "/opt/tools/bin/pip --python /opt/venv/bin/python" in text
