"""Removes what the project started, found by its label, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from servingmatrix.docker import PROJECT_LABEL, Docker


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
