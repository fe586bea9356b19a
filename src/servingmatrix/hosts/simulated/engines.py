"""Starting a simulated host's containerd and Docker engine, and waiting until the engine answers.

Both are started detached (a session of their own, output to a log file) so they outlive the
``hosts up`` that started them; ``hosts down`` finds them again by their namespace.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.errors import EngineError
from servingmatrix.hosts.simulated.commands import (
    Argv,
    containerd_argv,
    containerd_toml,
    daemon_json,
    dockerd_argv,
)
from servingmatrix.hosts.simulated.plan import SimulatedHost
from servingmatrix.hosts.simulated.processes import alive

#: How long an engine may take to answer at its address after it was started.
READY_TIMEOUT_S = 60.0
#: How long a containerd may take to open its socket.
CONTAINERD_TIMEOUT_S = 20.0


class EngineFailed(EngineError):
    """A simulated host's daemon did not come up; the message names the host and its log's last line."""


@dataclass(frozen=True)
class Started:
    host: SimulatedHost
    containerd: int
    dockerd: int


def last_log_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


def write_configs(host: SimulatedHost) -> None:
    for folder in (host.run_dir, host.data_root, host.exec_root, host.containerd_state, host.containerd_root):
        folder.mkdir(parents=True, exist_ok=True)
    host.containerd_config.write_text(containerd_toml(host))
    host.daemon_config.write_text(daemon_json())


def start_detached(argv: Argv, log: Path) -> int:
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process.pid


def start_containerd(host: SimulatedHost) -> int:
    return start_detached(containerd_argv(host), host.containerd_log)


def wait_containerd(host: SimulatedHost, pid: int, deadline: float) -> None:
    while not host.containerd_socket.exists():
        if not alive(pid):
            raise EngineFailed(f"{host.name}: containerd exited: {last_log_line(host.containerd_log)}")
        if time.monotonic() > deadline:
            raise EngineFailed(
                f"{host.name}: containerd did not open {host.containerd_socket} within "
                f"{CONTAINERD_TIMEOUT_S:.0f} s: {last_log_line(host.containerd_log)}"
            )
        time.sleep(0.05)


def start_dockerd(host: SimulatedHost) -> int:
    return start_detached(dockerd_argv(host), host.dockerd_log)


def engine_version(url: str, timeout_s: float = 5.0) -> str | None:
    """The server version of the engine at ``url``, or None when it does not answer."""
    try:
        proc = subprocess.run(
            ["docker", "-H", url, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def storage_driver(url: str) -> str:
    """The storage driver the engine at ``url`` chose, or ``?`` when it does not say."""
    try:
        proc = subprocess.run(
            ["docker", "-H", url, "info", "--format", "{{.Driver}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "?"
    return proc.stdout.strip() or "?" if proc.returncode == 0 else "?"


def wait_answering(started: Started, deadline: float) -> str:
    """Poll the engine at its TCP address until it answers; its version."""
    host = started.host
    while True:
        version = engine_version(host.docker_url, timeout_s=2.0)
        if version is not None:
            return version
        if not alive(started.dockerd):
            raise EngineFailed(f"{host.name}: dockerd exited: {last_log_line(host.dockerd_log)}")
        if not alive(started.containerd):
            raise EngineFailed(f"{host.name}: containerd exited: {last_log_line(host.containerd_log)}")
        if time.monotonic() > deadline:
            raise EngineFailed(
                f"{host.name}: the engine did not answer at {host.docker_url} within "
                f"{READY_TIMEOUT_S:.0f} s: {last_log_line(host.dockerd_log)}"
            )
        time.sleep(0.25)
