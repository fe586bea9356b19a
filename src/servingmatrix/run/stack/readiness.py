"""Readiness is polled, never slept: each wait has a deadline and fails fast when the container dies."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from servingmatrix.engine.docker import Docker
from servingmatrix.errors import UserError

POLL_INTERVAL_S = 0.1


class NotReady(UserError):
    """A container did not become ready; the message names it and carries its last log line."""


def _exited(docker: Docker, name: str) -> str | None:
    """Why ``name`` is no longer running, or None while it runs."""
    info = docker.container_inspect(name)
    if info is None:
        return "the container is gone"
    state = info["State"]
    if state.get("Running"):
        return None
    reason = "OOM-killed" if state.get("OOMKilled") else f"exit code {state.get('ExitCode')}"
    return f"it stopped ({reason})"


def _fail(docker: Docker, name: str, why: str) -> NotReady:
    lines = docker.logs(name, tail=5).splitlines()
    last = f"; last log line: {lines[-1]}" if lines else ""
    return NotReady(f"{name} did not become ready: {why}{last}")


def wait_command_ready(docker: Docker, name: str, argv: Sequence[str], timeout_s: float) -> float:
    """Run ``argv`` in ``name`` until it succeeds (``pg_isready``, say); return the seconds it took.

    The harness asks, and only while it waits: a Docker health check would go on running its command
    in the container every interval, on the cores of a measurement.
    """
    started = time.monotonic()
    while True:
        why = _exited(docker, name)
        if why is not None:
            raise _fail(docker, name, why)
        if docker.exec_ok(name, argv):
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise _fail(docker, name, f"{argv[0]} did not succeed within {timeout_s:.0f} s")
        time.sleep(POLL_INTERVAL_S)


def wait_http_ready(docker: Docker, name: str, url: str, timeout_s: float) -> float:
    """Poll ``url`` until it answers 200; return the seconds it took."""
    started = time.monotonic()
    checks = 0
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        checks += 1
        # Asking Docker is slower than asking the port: only every tenth poll.
        if checks % 10 == 0:
            why = _exited(docker, name)
            if why is not None:
                raise _fail(docker, name, why)
        if time.monotonic() - started > timeout_s:
            raise _fail(docker, name, f"{url} did not answer 200 within {timeout_s:.0f} s")
        time.sleep(POLL_INTERVAL_S)
