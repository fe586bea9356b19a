"""The files to deploy a tune's recommendation, each read by what reads it: ``gunicorn.conf.py``
compiles and sets gunicorn's names, the Compose file loads with the budget's keys, and the Kubernetes
container, in a pod, is valid against the API's schema, its requests equal to its limits."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from servingmatrix.deployment import READ_ONLY_NEEDS
from servingmatrix.modes import resolve_mode
from servingmatrix.tune.artefacts import (
    COMMAND_FILE,
    COMPOSE_FILE,
    DEPLOY_DIR,
    GUNICORN_CONF,
    KUBERNETES_FILE,
    write_artefacts,
)

GTHREAD = resolve_mode("gunicorn-gthread[workers=2,threads=8]", 2)


def test_gunicorn_conf_compiles_and_sets_the_configuration(tmp_path: Path) -> None:
    write_artefacts(tmp_path, GTHREAD, "1g")
    source = (tmp_path / DEPLOY_DIR / GUNICORN_CONF).read_text()
    namespace: dict[str, Any] = {}
    exec(compile(source, GUNICORN_CONF, "exec"), namespace)
    assert namespace["bind"] == ["0.0.0.0:8000"]
    assert (namespace["workers"], namespace["threads"], namespace["worker_class"]) == (2, 8, "gthread")
    assert namespace["worker_tmp_dir"] == "/dev/shm" and namespace["wsgi_app"] == "benchapp.wsgi:app"
    assert "graceful_timeout" not in namespace
    assert READ_ONLY_NEEDS["--worker-tmp-dir"] in source


def test_no_gunicorn_conf_for_another_server(tmp_path: Path) -> None:
    written = write_artefacts(tmp_path, resolve_mode("waitress[threads=8]", 1), "512m")
    assert {p.name for p in written} == {COMMAND_FILE, COMPOSE_FILE, KUBERNETES_FILE}


def test_the_compose_service_carries_the_budget(tmp_path: Path) -> None:
    write_artefacts(tmp_path, GTHREAD, "1g")
    data = yaml.safe_load((tmp_path / DEPLOY_DIR / COMPOSE_FILE).read_text())
    service = data["services"]["app"]
    assert (service["cpus"], service["cpuset"], service["mem_limit"]) == (2.0, "0-1", "1g")
    assert service["image"] == "servingmatrix/gunicorn-gthread:latest"
    assert service["command"][:3] == ["gunicorn", "--bind", "0.0.0.0:8000"]
    assert service["read_only"] is True


def test_the_kubernetes_container_is_guaranteed_and_valid(tmp_path: Path) -> None:
    write_artefacts(tmp_path, resolve_mode("uvicorn-a2wsgi[workers=2,threads=10]", 2), "512m")
    container = yaml.safe_load((tmp_path / DEPLOY_DIR / KUBERNETES_FILE).read_text())
    resources = container["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": "2", "memory": "512Mi"}
    assert container["env"] == [{"name": "A2WSGI_WORKERS", "value": "10"}]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "tuned"},
        "spec": {"containers": [container]},
    }
    kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)


def test_the_command_script_runs_the_deployed_command(tmp_path: Path) -> None:
    write_artefacts(tmp_path, resolve_mode("uvicorn-a2wsgi[workers=1,threads=10]", 1), "2g")
    script = (tmp_path / DEPLOY_DIR / COMMAND_FILE).read_text().splitlines()
    assert script[0] == "#!/bin/sh" and "export A2WSGI_WORKERS=10" in script
    assert shlex.split(script[-1])[:2] == ["exec", "uvicorn"]
    assert "127.0.0.1" not in script[-1] and "--no-access-log" not in script[-1]
