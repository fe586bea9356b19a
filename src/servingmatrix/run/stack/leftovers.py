"""Containers a dead run left behind (a crash, a SIGKILL): found by their owner's pid, removed."""

from __future__ import annotations

import os

from servingmatrix.engine.docker import PROJECT_LABEL, Docker
from servingmatrix.run.stack.stack import OWNER_LABEL


def remove_leftovers(docker: Docker) -> int:
    """Remove containers of runs whose process has died; return how many."""
    listing = docker.container_listing({PROJECT_LABEL: None})
    orphans = [c.id for c in listing if not _alive(c.labels.get(OWNER_LABEL, ""))]
    docker.remove_containers(orphans)
    return len(orphans)


def _alive(pid_text: str) -> bool:
    """Whether the process that owns a container still runs.

    A container without an owner (a compose stack started by hand) is not a run's leftover: kept.
    """
    if not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
