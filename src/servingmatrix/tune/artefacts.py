"""The files to deploy a tune's recommendation, written into its folder (``deploy/``):

- ``command.sh``: the server's command line as one would deploy it (``deployment()``: every interface,
  port 8000, no harness-only flag; a flag any read-only container needs kept, with a comment why);
- ``gunicorn.conf.py``, when the server is gunicorn: the same settings as a configuration file;
- ``compose.yml``: a Compose service with the budget's ``cpus``, ``cpuset`` and ``mem_limit``, hardened as
  the reference stacks are;
- ``kubernetes-container.yaml``: a container with its ``resources``, requests equal to limits and whole
  CPUs, so its pod is Guaranteed and the static CPU manager can pin it to its cores.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import yaml

from servingmatrix.deployment import DEPLOY_PORT, Deployment, deployment
from servingmatrix.modes import ModeConfig

DEPLOY_DIR = "deploy"
COMMAND_FILE = "command.sh"
GUNICORN_CONF = "gunicorn.conf.py"
COMPOSE_FILE = "compose.yml"
KUBERNETES_FILE = "kubernetes-container.yaml"
#: The service's and the container's name.
SERVICE = "app"


def _gunicorn_argv(deployed: Deployment) -> tuple[str, ...] | None:
    """gunicorn's own arguments (after ``gunicorn``, behind a launcher such as nginx's too); None when
    the server is not gunicorn."""
    argv = deployed.argv
    if "gunicorn" not in argv:
        return None
    return argv[argv.index("gunicorn") + 1 :]


def command_script(config: ModeConfig) -> str:
    """A shell script that runs the deployed command, each kept read-only need commented."""
    deployed = deployment(config)
    lines = ["#!/bin/sh", f"# {config.spec}, as tuned: serves on every interface, port {DEPLOY_PORT}."]
    lines += [f"# {flag}: {why}" for flag, why in deployed.kept]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in deployed.env]
    lines.append(f"exec {shlex.join(deployed.argv)}")
    return "\n".join(lines) + "\n"


def _setting(flag: str) -> str:
    """gunicorn's setting of a command-line flag: ``--worker-tmp-dir`` is ``worker_tmp_dir``."""
    return flag.removeprefix("--").replace("-", "_")


def gunicorn_conf(config: ModeConfig) -> str | None:
    """The configuration as a ``gunicorn.conf.py``; None when the server is not gunicorn."""
    deployed = deployment(config)
    argv = _gunicorn_argv(deployed)
    if argv is None:
        return None
    why = dict(deployed.kept)
    lines = [f'"""gunicorn settings of {config.spec}, as tuned (gunicorn -c gunicorn.conf.py)."""', ""]
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and i + 1 < len(argv):
            value = argv[i + 1]
            if arg in why:
                lines.append(f"# {why[arg]}")
            name = _setting(arg)
            if name == "bind":
                lines.append(f"bind = [{value!r}]")
            else:
                lines.append(f"{name} = {int(value) if value.isdigit() else value!r}")
            i += 2
        else:
            lines.append(f"wsgi_app = {arg!r}")
            i += 1
    return "\n".join(lines) + "\n"


def _cpuset(cpus: int) -> str:
    """The cores measured: the first ``cpus`` of the machine, as the run's CPU plan gives the server."""
    return "0" if cpus == 1 else f"0-{cpus - 1}"


def compose_service(config: ModeConfig, memory: str) -> dict[str, Any]:
    """A Compose file of one service: the deployed command on the budget's cores and memory."""
    deployed = deployment(config)
    service: dict[str, Any] = {
        "image": config.image,
        "command": list(deployed.argv),
        "ports": [f"127.0.0.1:{DEPLOY_PORT}:{DEPLOY_PORT}"],
        "cpus": float(config.cpus),
        "cpuset": _cpuset(config.cpus),
        "mem_limit": memory,
        "read_only": True,
        "tmpfs": ["/tmp:mode=1777"],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }
    if deployed.env:
        service["environment"] = dict(deployed.env)
    return {"services": {SERVICE: service}}


def kubernetes_memory(memory: str) -> str:
    """Docker's ``512m`` and ``2g`` as Kubernetes writes them: ``512Mi``, ``2Gi``."""
    return f"{memory[:-1]}{'Gi' if memory[-1] == 'g' else 'Mi'}"


def kubernetes_container(config: ModeConfig, memory: str) -> dict[str, Any]:
    """A container with its resources: requests equal to limits, whole CPUs (a Guaranteed pod)."""
    deployed = deployment(config)
    amount = {"cpu": str(config.cpus), "memory": kubernetes_memory(memory)}
    container: dict[str, Any] = {
        "name": SERVICE,
        "image": config.image,
        "command": list(deployed.argv),
        "ports": [{"containerPort": DEPLOY_PORT}],
        "resources": {"requests": dict(amount), "limits": dict(amount)},
        "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
    }
    if deployed.env:
        container["env"] = [{"name": k, "value": v} for k, v in deployed.env]
    return container


def _yaml(header: str, data: dict[str, Any]) -> str:
    return f"# {header}\n" + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _write(path: Path, text: str) -> None:
    """Beside ``path``, then renamed over it: a reader never sees half a file."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def write_artefacts(folder: Path, config: ModeConfig, memory: str) -> list[Path]:
    """Every artefact of ``config`` at the budget, written into ``folder/deploy``; their paths."""
    out = folder / DEPLOY_DIR
    out.mkdir(parents=True, exist_ok=True)
    files = {
        COMMAND_FILE: command_script(config),
        COMPOSE_FILE: _yaml(
            f"{config.spec} on {config.cpus} CPU(s) and {memory}, as tuned", compose_service(config, memory)
        ),
        KUBERNETES_FILE: _yaml(
            f"{config.spec}: a pod's container, requests equal to limits (Guaranteed)",
            kubernetes_container(config, memory),
        ),
    }
    conf = gunicorn_conf(config)
    if conf is not None:
        files[GUNICORN_CONF] = conf
    written = []
    for name, text in files.items():
        path = out / name
        _write(path, text)
        written.append(path)
    (out / COMMAND_FILE).chmod(0o755)
    return written
