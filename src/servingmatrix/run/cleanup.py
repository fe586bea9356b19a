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
    label = f"label={PROJECT_LABEL}"
    containers = docker.list_ids(["ps", "-aq", "--filter", label])
    if containers:
        docker.remove(["rm", "-f", "-v", *containers])
    networks = docker.list_ids(["network", "ls", "-q", "--filter", label])
    if networks:
        docker.remove(["network", "rm", *networks])
    volumes = docker.list_ids(["volume", "ls", "-q", "--filter", label])
    if volumes:
        docker.remove(["volume", "rm", "-f", *volumes])
    return Removed(len(containers), len(networks), len(volumes))
