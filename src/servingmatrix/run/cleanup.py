"""Removes what the project started, found by its label, and nothing else: on this machine's engine,
or on every engine of a host inventory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from servingmatrix.docker import PROJECT_LABEL, Docker
from servingmatrix.errors import UserError


@dataclass(frozen=True)
class Removed:
    containers: int
    networks: int
    volumes: int


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
        r = self.removed
        return f"{self.name}: removed {r.containers} containers, {r.networks} networks, {r.volumes} volumes"


def clean_engines(engines: Sequence[tuple[str, Docker]]) -> list[EngineCleaned]:
    """Clean every engine, one after the other; one that fails (down, refusing) does not stop the others."""
    cleaned = []
    for name, docker in engines:
        try:
            cleaned.append(EngineCleaned(name, removed=clean_project_objects(docker)))
        except UserError as exc:
            cleaned.append(EngineCleaned(name, failure=str(exc)))
    return cleaned
