"""Unit tests never reach a Docker engine: the one they would find is made unreachable, so a test that
forgot its fake fails fast instead of starting containers."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/servingmatrix-unit-tests.sock")


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's load average is a quiet machine's: the machine the tests share would otherwise flag
    every cell it judges ``machine-busy``, and keep no calibration, whenever others load it. A test of
    a busy machine sets its own."""
    monkeypatch.setattr("servingmatrix.run.quiet.load_average", lambda: [0.0, 0.0, 0.0])
