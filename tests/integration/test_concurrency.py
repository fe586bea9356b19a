"""The folk claims, as functional tests: how many `/io?ms=500` requests each mode serves at once.

Two requests served one after the other cannot finish in under 1 s; served together they finish in
about 0.5 s. The bounds below sit between the two, so they test behaviour, not speed.
"""

from __future__ import annotations

import pytest

from servingmatrix.probe import simultaneous
from servingmatrix.stack import Placement, Stack

from .conftest import CORES, serving

pytestmark = pytest.mark.docker

IO = "/io?ms=500"
TOGETHER_S = 0.9  # several 0.5 s sleeps served at once
QUEUED_S = 0.98  # a request had to wait for another's 0.5 s


def wall(stack: Stack, path: str, count: int) -> float:
    result = simultaneous(stack.server_url, path, count)
    assert result.statuses == (200,) * count
    return result.wall_s


def test_werkzeug_single_serves_one_at_a_time(stack: Stack) -> None:
    with serving(stack, "werkzeug-single"):
        assert wall(stack, IO, 2) >= QUEUED_S


def test_werkzeug_threaded_serves_each_in_a_thread(stack: Stack) -> None:
    with serving(stack, "werkzeug-threaded"):
        result = simultaneous(stack.server_url, IO, 8)
        assert result.wall_s < TOGETHER_S
        assert len(result.servers) == 8


def test_gunicorn_sync_serves_workers_at_once_and_queues_the_rest(stack: Stack) -> None:
    with serving(stack, "gunicorn-sync[workers=2]"):
        assert wall(stack, IO, 2) < TOGETHER_S
        assert wall(stack, IO, 3) >= QUEUED_S


def test_gunicorn_gthread_serves_workers_times_threads(stack: Stack) -> None:
    with serving(stack, "gunicorn-gthread[workers=1,threads=4]"):
        result = simultaneous(stack.server_url, IO, 4)
        assert result.wall_s < TOGETHER_S
        assert len(result.servers) == 4
        assert len({pid for pid, _thread in result.servers}) == 1
        assert wall(stack, IO, 5) >= QUEUED_S


@pytest.mark.parametrize("mode", ["gunicorn-gevent", "gunicorn-eventlet"])
def test_green_workers_serve_many_waits_on_one_worker(stack: Stack, mode: str) -> None:
    with serving(stack, f"{mode}[workers=1]"):
        result = simultaneous(stack.server_url, IO, 50)
        assert result.statuses == (200,) * 50
        assert result.wall_s < TOGETHER_S
        assert len({pid for pid, _thread in result.servers}) == 1


@pytest.mark.parametrize("mode", ["gunicorn-gevent", "gunicorn-eventlet"])
@pytest.mark.parametrize("path", ["/sqlite?work=1500000", "/cpu?n=1000"])
def test_green_workers_do_not_overlap_c_calls_or_cpu(stack: Stack, mode: str, path: str) -> None:
    # Two cores, so only the worker model, not the CPU quota, can serialize the two requests.
    placement = Placement("0-1" if CORES > 1 else "0", float(min(CORES, 2)))
    with serving(stack, f"{mode}[workers=1]", placement):
        wall(stack, path, 1)  # warm up: first import and connection
        alone = min(wall(stack, path, 1) for _ in range(2))
        together = wall(stack, path, 2)
        assert together >= 1.5 * alone, f"{path}: alone {alone:.3f} s, two together {together:.3f} s"


def test_postgres_waits_overlap_under_gevent_but_not_eventlet(stack: Stack) -> None:
    """psycopg 3 yields to gevent by itself; under eventlet its C wait blocks the worker (a finding)."""
    path = "/db?ms=300"
    with serving(stack, "gunicorn-gevent[workers=1]"):
        assert wall(stack, path, 8) < 3 * 0.3
    with serving(stack, "gunicorn-eventlet[workers=1]"):
        assert wall(stack, path, 4) >= 4 * 0.3
