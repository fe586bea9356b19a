"""Reference stacks: one Compose file per mode, rendered from the registry.

A stack is the mode plus its upstream and PostgreSQL services, CPU-pinned and memory-limited, with
only the app's port published, on 127.0.0.1. The files follow the Compose specification, so both
the Python ``docker-compose`` and ``docker compose`` v2 run them.
"""

from __future__ import annotations

from typing import Any

import yaml

from servingmatrix.building.dockerfiles import DEFAULT_CPUS, DEFAULT_PORT
from servingmatrix.modes import Mode

UPSTREAM_PORT = 8081
POSTGRES_PORT = 5432
#: The server under test gets core 0 to itself; the backing services share core 1.
SERVER_CPUSET = "0"
BACKING_CPUSET = "1"

_HARDENING: dict[str, Any] = {
    "read_only": True,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
    "pids_limit": 512,
    "labels": {"io.servingmatrix.project": "servingmatrix"},
}


def render_compose(mode: Mode) -> str:
    """The Compose file of one mode's reference stack."""
    config = mode.resolve({}, DEFAULT_CPUS)
    launch = config.launch("0.0.0.0", DEFAULT_PORT)
    password = "${POSTGRES_PASSWORD:-servingmatrix}"
    services: dict[str, Any] = {
        "app": {
            "image": mode.image,
            "command": list(launch.argv),
            "environment": {
                "SERVING_MODE": config.spec,
                "PORT": str(DEFAULT_PORT),
                "UPSTREAM_URL": f"http://upstream:{UPSTREAM_PORT}",
                "DATABASE_URL": f"postgresql://bench@postgres:{POSTGRES_PORT}/bench",
                "PGPASSWORD": password,
                **dict(launch.env),
            },
            "ports": [f"127.0.0.1:${{SERVINGMATRIX_PORT:-{DEFAULT_PORT}}}:{DEFAULT_PORT}"],
            "cpuset": SERVER_CPUSET,
            "cpus": float(DEFAULT_CPUS),
            "mem_limit": "1g",
            "tmpfs": ["/tmp:mode=1777"],
            "depends_on": {
                "upstream": {"condition": "service_healthy"},
                "postgres": {"condition": "service_healthy"},
            },
            **_HARDENING,
        },
        "upstream": {
            "image": "servingmatrix/upstream:latest",
            "environment": {"PORT": str(UPSTREAM_PORT)},
            "cpuset": BACKING_CPUSET,
            "cpus": 0.5,
            "mem_limit": "256m",
            **_HARDENING,
        },
        "postgres": {
            "image": "servingmatrix/postgres:latest",
            "environment": {"POSTGRES_PASSWORD": password, "PGPORT": str(POSTGRES_PORT)},
            "cpuset": BACKING_CPUSET,
            "cpus": 0.5,
            "mem_limit": "512m",
            "shm_size": "128m",
            "tmpfs": ["/tmp:mode=1777", "/var/run/postgresql:uid=10001,gid=10001,mode=0700"],
            **_HARDENING,
        },
    }
    header = (
        f"# Reference stack for {mode.name}: {mode.summary}.\n"
        f"# Rendered from src/servingmatrix/modes.py by `servingmatrix generate`: edit the registry.\n"
        f"# Start: docker-compose -f compose/{mode.name}.yml up  (or: docker compose -f ... up)\n"
        f"# Then:  curl http://127.0.0.1:{DEFAULT_PORT}/json   Stop: docker-compose -f ... down\n"
        "# Only the app is published, on 127.0.0.1. Set POSTGRES_PASSWORD to choose the database password.\n"
        f"# Sized for {DEFAULT_CPUS} CPU on core {SERVER_CPUSET}; services on core {BACKING_CPUSET}.\n"
    )
    # The network carries the project's label too, so `servingmatrix clean` finds a forgotten stack.
    networks = {"default": {"labels": {"io.servingmatrix.project": "servingmatrix"}}}
    document = {"services": services, "networks": networks}
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
