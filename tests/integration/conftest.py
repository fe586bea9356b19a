"""Integration fixtures: real images, real containers, on 127.0.0.1 only.

`make test` builds the images these tests use (a no-op when they are up to date), starts one pair
of backing services for the session, and removes every container it started.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from servingmatrix.building.images import build_images
from servingmatrix.engine.docker import Docker
from servingmatrix.modes import ModeConfig, resolve_mode
from servingmatrix.run.stack.stack import Placement, Stack, StackPorts

pytestmark = pytest.mark.docker

#: The server under test has core 0; the backing services core 1 (or core 0 on a 1-core machine).
CORES = os.cpu_count() or 1
SERVER_PLACEMENT = Placement("0", 1.0)
BACKING_PLACEMENT = Placement("1" if CORES > 1 else "0", 1.0)


@pytest.fixture(scope="session")
def docker() -> Docker:
    driver = Docker()
    driver.ping()
    return driver


@pytest.fixture(scope="session")
def images(docker: Docker) -> None:
    build_images(docker, None, lambda line: print(line, flush=True))


@pytest.fixture(scope="session")
def stack(docker: Docker, images: None) -> Iterator[Stack]:
    with Stack(
        docker, f"test-{os.getpid()}", StackPorts(server=18400, upstream=18481, postgres=18432)
    ) as running:
        running.start_backing(BACKING_PLACEMENT)
        yield running


@contextmanager
def serving(
    stack: Stack, spec: str, placement: Placement = SERVER_PLACEMENT, env: Mapping[str, str] | None = None
) -> Iterator[ModeConfig]:
    """Run one server of ``spec`` for the duration of the block (``env`` added to its environment)."""
    config = resolve_mode(spec, cpus=max(1, int(placement.cpus)))
    try:
        stack.start_server(config, placement, extra_env=env)
        yield config
    finally:
        stack.stop_server()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`servingmatrix clean` removes every labelled container, the session's stack too: its test runs
    before any other, whatever the files' names."""
    items.sort(key=lambda item: 0 if item.path.name == "test_clean.py" else 1)
