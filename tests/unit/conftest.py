"""Unit tests never reach a Docker engine: the one they would find is made unreachable, so a test that
forgot its fake fails fast instead of starting containers."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/servingmatrix-unit-tests.sock")
