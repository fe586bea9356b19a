"""The folk claims, as functional tests: how many requests each mode handles at once.

Requests are sent at the same moment on separate connections; the app stamps when it began and
finished each one, so the number handled at once is read from the server's own clock, not guessed
from wall times that a busy machine can stretch.
"""

from __future__ import annotations

import pytest

from servingmatrix.run.stack.stack import Placement, Stack

from .conftest import CORES, serving
from .probe import ProbeResult, simultaneous

pytestmark = pytest.mark.docker

IO = "/io?ms=500"


def probe(stack: Stack, path: str, count: int) -> ProbeResult:
    result = simultaneous(stack.server_url, path, count)
    assert result.statuses == (200,) * count
    assert len(result.intervals) == count
    return result


def test_werkzeug_single_serves_one_at_a_time(stack: Stack) -> None:
    with serving(stack, "werkzeug-single"):
        assert probe(stack, IO, 2).max_in_flight == 1


def test_werkzeug_threaded_serves_each_in_a_thread(stack: Stack) -> None:
    with serving(stack, "werkzeug-threaded"):
        result = probe(stack, IO, 8)
        assert result.max_in_flight == 8
        assert len(result.servers) == 8


def test_gunicorn_sync_serves_workers_at_once_and_queues_the_rest(stack: Stack) -> None:
    with serving(stack, "gunicorn-sync[workers=2]"):
        assert probe(stack, IO, 2).max_in_flight == 2
        queued = probe(stack, IO, 3)
        assert queued.max_in_flight == 2
        assert queued.wall_s >= 0.98  # the third waited for a worker


def test_gunicorn_gthread_serves_workers_times_threads(stack: Stack) -> None:
    with serving(stack, "gunicorn-gthread[workers=1,threads=4]"):
        result = probe(stack, IO, 4)
        assert result.max_in_flight == 4
        assert len(result.servers) == 4
        assert len({pid for pid, _thread in result.servers}) == 1
        assert probe(stack, IO, 5).max_in_flight == 4


@pytest.mark.parametrize("mode", ["gunicorn-gevent", "gunicorn-eventlet"])
def test_green_workers_serve_many_waits_on_one_worker(stack: Stack, mode: str) -> None:
    with serving(stack, f"{mode}[workers=1]"):
        result = probe(stack, IO, 50)
        assert result.max_in_flight == 50
        assert len({pid for pid, _thread in result.servers}) == 1


@pytest.mark.parametrize("mode", ["gunicorn-gevent", "gunicorn-eventlet"])
@pytest.mark.parametrize("path", ["/sqlite?work=1000000", "/cpu?n=300"])
def test_green_workers_do_not_overlap_c_calls_or_cpu(stack: Stack, mode: str, path: str) -> None:
    # Two cores, so only the worker model, not the CPU quota, can keep the two requests apart.
    placement = Placement("0-1" if CORES > 1 else "0", float(min(CORES, 2)))
    with serving(stack, f"{mode}[workers=1]", placement):
        probe(stack, path, 1)  # warm up: first import and connection
        assert probe(stack, path, 2).max_in_flight == 1


def test_two_sync_workers_on_two_cores_overlap_cpu(stack: Stack) -> None:
    """The contrast for ``/cpu``: two processes given two cores do run it at once, so the probe can
    see an overlap there, and the green workers' one at a time above is theirs."""
    placement = Placement("0-1" if CORES > 1 else "0", float(min(CORES, 2)))
    with serving(stack, "gunicorn-sync[workers=2]", placement):
        probe(stack, "/cpu?n=300", 1)
        assert probe(stack, "/cpu?n=300", 2).max_in_flight == 2


def test_gthread_threads_overlap_sqlite_c_calls(stack: Stack) -> None:
    """The contrast: Python's sqlite3 releases the GIL, so threads do overlap the same C call."""
    placement = Placement("0-1" if CORES > 1 else "0", float(min(CORES, 2)))
    with serving(stack, "gunicorn-gthread[workers=1,threads=2]", placement):
        probe(stack, "/sqlite?work=1000000", 1)
        assert probe(stack, "/sqlite?work=1000000", 2).max_in_flight == 2


def test_postgres_waits_overlap_under_gevent_but_not_eventlet(stack: Stack) -> None:
    """psycopg 3 yields to gevent by itself; under eventlet its C wait blocks the worker (a finding)."""
    path = "/db?ms=300"
    with serving(stack, "gunicorn-gevent[workers=1]"):
        probe(stack, path, 1)
        assert probe(stack, path, 8).max_in_flight == 8
    with serving(stack, "gunicorn-eventlet[workers=1]"):
        probe(stack, path, 1)
        # One pooled connection is warm; the others must connect, and neither yields under eventlet.
        assert probe(stack, path, 4).max_in_flight == 1
    # The contrast: psycopg's select()-based wait, which eventlet's green select does yield on.
    with serving(stack, "gunicorn-eventlet[workers=1]", env={"PSYCOPG_WAIT_FUNC": "wait_select"}):
        probe(stack, path, 1)
        assert probe(stack, path, 4).max_in_flight == 4
