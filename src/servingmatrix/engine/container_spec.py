"""What one container is started with, as typed fields, and its translation into the engine's terms.

Every container the harness starts is described by a ``ContainerSpec``: callers say what they want
(an image, a command, limits, mounts) and the driver turns it into the Docker SDK's keyword arguments
with ``run_kwargs``, a pure function the unit tests check field by field. The hardening every
measured container carries is the default: a read-only root, no capabilities, no new privileges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from docker.types import Mount

#: Docker's own name for "no health check", whatever the image declares (``--no-healthcheck``).
NO_HEALTHCHECK_TEST = ["NONE"]


@dataclass(frozen=True)
class ContainerSpec:
    """One container: its image and command, its limits, its mounts, and its hardening.

    ``binds`` maps a host path to the path it is mounted at inside (read-write); ``tmpfs`` maps a path
    inside to the mount's options (``rw,mode=1777,size=64m``); ``memory`` and ``shm_size`` are sizes as
    Docker takes them (``1g``, ``128m``). None leaves a setting to the engine or the image.
    """

    name: str
    image: str
    command: tuple[str, ...] = ()
    #: Replaces the image's entrypoint when set (``--entrypoint``): its first word, then its arguments.
    entrypoint: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    #: ``host`` (the default: no NAT, no proxy in the measured path), ``none``, or a network's name.
    network: str = "host"
    cpuset: str | None = None
    cpus: float | None = None
    memory: str | None = None
    pids_limit: int | None = None
    read_only: bool = True
    cap_drop_all: bool = True
    no_new_privileges: bool = True
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    binds: Mapping[str, str] = field(default_factory=dict)
    anonymous_volumes: tuple[str, ...] = ()
    #: ``uid:gid`` (or a name the image knows); None: the image's own user.
    user: str | None = None
    shm_size: str | None = None
    #: No health check runs, whatever the image declares (its command would run on measured cores).
    no_healthcheck: bool = False


def run_kwargs(spec: ContainerSpec) -> dict[str, Any]:
    """The keyword arguments of ``DockerClient.containers.create`` that start ``spec`` as ``docker run``
    would have with the same flags; a setting left as None is left out, so the engine's default holds."""
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "command": list(spec.command) or None,
        "name": spec.name,
        "environment": dict(spec.env),
        "labels": dict(spec.labels),
        "network_mode": spec.network,
        "read_only": spec.read_only,
        "detach": True,
    }
    if spec.entrypoint is not None:
        kwargs["entrypoint"] = list(spec.entrypoint)
    if spec.cpuset is not None:
        kwargs["cpuset_cpus"] = spec.cpuset
    if spec.cpus is not None:
        # ``--cpus``: a quota in billionths of a CPU, as the engine stores it (NanoCpus).
        kwargs["nano_cpus"] = round(spec.cpus * 1e9)
    if spec.memory is not None:
        kwargs["mem_limit"] = spec.memory
    if spec.pids_limit is not None:
        kwargs["pids_limit"] = spec.pids_limit
    if spec.cap_drop_all:
        kwargs["cap_drop"] = ["ALL"]
    if spec.no_new_privileges:
        kwargs["security_opt"] = ["no-new-privileges"]
    if spec.tmpfs:
        kwargs["tmpfs"] = dict(spec.tmpfs)
    if spec.binds:
        kwargs["volumes"] = {host: {"bind": inside, "mode": "rw"} for host, inside in spec.binds.items()}
    if spec.anonymous_volumes:
        # A volume mount without a source is an anonymous volume (``--volume /path``), removed with the
        # container when it is removed with its volumes.
        kwargs["mounts"] = [Mount(target=path, source=None, type="volume") for path in spec.anonymous_volumes]
    if spec.user is not None:
        kwargs["user"] = spec.user
    if spec.shm_size is not None:
        kwargs["shm_size"] = spec.shm_size
    if spec.no_healthcheck:
        kwargs["healthcheck"] = {"test": NO_HEALTHCHECK_TEST}
    return kwargs
