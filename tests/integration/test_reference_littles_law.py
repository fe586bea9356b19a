"""The reference generator is right before it judges: on a sleeping endpoint, what it measures agrees
with Little's law, at one user and at a queue.

``uvicorn-a2wsgi[workers=1,threads=10]`` x ``io[ms=100]`` serves 10 requests at a time, each holding a
thread 100 ms: at most 10 req/s for one user and 100 for 64 (the other 54 wait in the queue). The
reference once gave 5.3 req/s where 30 fit (a window that opened on a queue left by its own warm-up run). Its
window now opens with every connection loaded and counts what completes inside it, so its figure must
be the law's, less the server's own overhead per request, never above it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.modes import resolve_mode
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

pytestmark = pytest.mark.docker

MODE = "uvicorn-a2wsgi[workers=1,threads=10]"
SLEEP_S = 0.1
USERS = (1, 64)
#: The law is an upper bound (each request takes its 100 ms and a little more): a figure at least this
#: share of it measured the steady state; 5.3 of 30 (0.18) was a window that lost its time.
AT_LEAST = 0.85
#: Above the law by more than this is a window that counted answers it should not have.
AT_MOST = 1.03


def littles_law_rps(users: int) -> float:
    """The most a mode serving ``promised`` requests at once can answer each second on this endpoint."""
    promised = resolve_mode(MODE, 1).promised_concurrency
    assert promised == 10
    return min(users, promised) / SLEEP_S


def test_the_reference_on_a_sleeping_endpoint_agrees_with_littles_law(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="littles-law",
        modes=(MODE,),
        workloads=("io[ms=100]",),
        users=USERS,
        duration_s=3.0,
        warmup_s=1.0,
        reference_duration_s=3.0,
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    Runner(docker, matrix, folder, lambda line: None).run()
    cells = {c.users: c for c in folder.read_cells()}
    assert set(cells) == set(USERS)
    for users, cell in cells.items():
        assert cell.ok, cell.reason
        assert cell.reference is not None and cell.reference.missing is None, cell.reference
        measured = cell.reference.throughput_rps
        assert measured is not None
        law = littles_law_rps(users)
        assert AT_LEAST * law <= measured <= AT_MOST * law, (users, measured, law)
        # The window was long enough for the step's latency: at 64 users a request waits about
        # 64 / 100 s, and the window holds several of those.
        assert cell.reference.duration_s is not None and cell.reference.latency_ms.p99 is not None
        assert cell.reference.duration_s >= 3.0
        if users == 64:
            assert cell.reference.duration_s >= 4 * (users / law)
