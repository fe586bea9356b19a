"""A reference stack comes up with the Compose tool, answers on 127.0.0.1, and goes away clean."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.paths import project_root

pytestmark = pytest.mark.docker

PROJECT = "smtestcompose"
PORT = 18900


def compose(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    command = [tool] if tool else ["docker", "compose"]
    return subprocess.run(
        [*command, "-p", PROJECT, "-f", str(project_root() / "compose" / "gunicorn-gevent.yml"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "SERVINGMATRIX_PORT": str(PORT)},
    )


def get_json(path: str) -> object:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_compose_stack_answers_on_loopback_and_tears_down_clean(docker: Docker, images: None) -> None:
    up = compose("up", "--detach")
    try:
        assert up.returncode == 0, up.stderr
        assert get_json("/json") == {"message": "Hello, World!"}
        db = get_json("/db?rows=2")
        assert isinstance(db, dict) and len(db["rows"]) == 2
        assert isinstance(get_json("/upstream?ms=1"), dict)
        label = f"label=com.docker.compose.project={PROJECT}"
        ports = subprocess.run(
            ["docker", "ps", "--filter", label, "--format", "{{.Ports}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"127.0.0.1:{PORT}->" in ports
        assert "0.0.0.0:" not in ports
    finally:
        down = compose("down", "--volumes", "--timeout", "10")
    assert down.returncode == 0, down.stderr
    compose_project = {"com.docker.compose.project": PROJECT}
    assert docker.list_containers(compose_project) == []
    assert docker.list_networks(compose_project) == []
