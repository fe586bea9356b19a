"""Removes what the project started, found by its label, and nothing else: on this machine's engine,
or on every engine of a host inventory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from servingmatrix.engine.docker import PROJECT_LABEL, Docker
from servingmatrix.errors import EngineError, ServingMatrixError
from servingmatrix.hosts.engines import PING_TIMEOUT_S, not_answering
from servingmatrix.hosts.inventory import Host, Inventory


@dataclass(frozen=True)
class Removed:
    containers: int
    networks: int
    volumes: int

    def text(self) -> str:
        return f"removed {self.containers} containers, {self.networks} networks, {self.volumes} volumes"


def clean_project_objects(docker: Docker) -> Removed:
    """Remove every container, network and volume labelled as the project's."""
    docker.ping()
    ours = {PROJECT_LABEL: None}
    containers = docker.list_containers(ours)
    docker.remove_containers(containers)
    networks = docker.list_networks(ours)
    docker.remove_networks(networks)
    volumes = docker.list_volumes(ours)
    docker.remove_volumes(volumes)
    return Removed(len(containers), len(networks), len(volumes))


@dataclass(frozen=True)
class EngineCleaned:
    """One engine's cleaning: what it removed, or why it could not."""

    name: str
    removed: Removed | None = None
    failure: str | None = None

    def line(self) -> str:
        if self.removed is None:
            return f"{self.name}: not cleaned: {self.failure}"
        return f"{self.name}: {self.removed.text()}"


def clean_engines(engines: Sequence[tuple[str, Docker]]) -> list[EngineCleaned]:
    """Clean every engine, one after the other; one that fails (down, refusing) does not stop the others."""
    cleaned = []
    for name, docker in engines:
        try:
            cleaned.append(EngineCleaned(name, removed=clean_project_objects(docker)))
        except ServingMatrixError as exc:
            cleaned.append(EngineCleaned(name, failure=str(exc)))
    return cleaned


def clean_inventory(
    inventory: Inventory,
    connect: Callable[[Host], Docker],
    say: Callable[[str], None],
    ping_timeout_s: float = PING_TIMEOUT_S,
) -> None:
    """Clean every engine of ``inventory`` once (hosts naming one engine share it, cleaned under the
    first name), one line each; raise once all were tried when any was not cleaned."""
    engines = {host.docker: host for host in reversed(inventory.hosts)}
    hosts = [host for host in inventory.hosts if engines[host.docker] is host]
    # Asked all at once, each within seconds: a silent host costs no more than that, not a client's
    # timeout per call.
    silent = not_answering(hosts, connect, ping_timeout_s)
    answered = {
        e.name: e for e in clean_engines([(h.name, connect(h)) for h in hosts if h.name not in silent])
    }
    cleaned = [
        answered[h.name]
        if h.name not in silent
        else EngineCleaned(h.name, failure=_silent(h, silent[h.name]))
        for h in hosts
    ]
    for engine in cleaned:
        say(engine.line())
    failed = [engine.name for engine in cleaned if engine.removed is None]
    if failed:
        raise EngineError(
            f"{len(failed)} of {len(cleaned)} engines not cleaned: {', '.join(failed)} (see above)"
        )


def _silent(host: Host, why: str) -> str:
    """Why a host's engine was not asked: the ping's own line names the engine, a timeout does not."""
    return why if why.startswith("docker engine") else f"the Docker engine at {host.docker}: {why}"
