"""Poisson arrivals queue as queueing theory says: a sleeping endpoint on four sync workers is M/D/4.

``io[ms=100]`` on ``gunicorn-sync[workers=4]`` holds a worker about 100 ms a request, so four workers
serve 40 req/s at most. Offered Poisson arrivals at 50%, 80% and 90% of that, each request's
latency is what a first-come, first-served queue of four workers of that service time gives on the
very arrivals Locust sent (``fifo_latencies_s``): the mean within 20%. That queue is M/D/4 itself:
played on long Poisson streams it waits as M/D/c's formula predicts, within 3% at each of these
loads (``tests/unit/test_queueing.py``). Playing it on the arrivals sent, rather than comparing with
the formula's expectation, takes the arrivals' own randomness out of the check: a window's mean
under Poisson arrivals is a random figure that near capacity settles only over many minutes (9% of
spread over 300 s at 90%), while the server's departure from the queue shows in seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from servingmatrix.analysis.queueing import fifo_latencies_s, mdc_latency_s
from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.load.loadgen import read_samples, read_schedule
from servingmatrix.run.runner import Runner

pytestmark = pytest.mark.docker

MODE = "gunicorn-sync[workers=4]"
WORKLOAD = "io[ms=100]"
WORKERS = 4
SLEEP_S = 0.1
CAPACITY_RPS = WORKERS / SLEEP_S
TOLERANCE = 0.20
SEED = 2025

#: Each load's measured window and the warm-up before it. The queue is played on every arrival of the
#: session from its first, as the server met them from empty, so the warm-up need not fill it to its
#: steady state: the window only has to hold enough requests for a steady mean (300 to 720 here).
WINDOWS = {0.5: (15.0, 3.0), 0.8: (15.0, 3.0), 0.9: (20.0, 5.0)}


def measure(docker: Docker, folder: Path, **keys: Any) -> tuple[CellRecord, RunFolder]:
    """One cell of ``MODE`` x ``WORKLOAD`` measured with ``keys`` (its requests kept); checked ok."""
    matrix = Matrix(name="arrivals", modes=(MODE,), workloads=(WORKLOAD,), reference="none", **keys)
    run = RunFolder(folder)
    Runner(docker, matrix.check("test"), run, lambda line: None, calibrate=False, keep_samples=True).run()
    (cell,) = run.read_cells()
    assert cell.status == "ok", cell.reason
    return cell, run


@pytest.fixture(scope="module")
def service_s(docker: Docker, images: None, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long a request takes when it never waits: one user, one request at a time.

    The queue is played with this rather than with the nominal 100 ms: near capacity the wait is
    steep in it (a service of 103 ms puts 36 req/s at 93% of capacity), so a few milliseconds of the
    server's and the client's own time per request must be in it.
    """
    cell, _ = measure(
        docker, tmp_path_factory.mktemp("service") / "run", users=(1,), duration_s=15.0, warmup_s=3.0
    )
    mean_ms = cell.latency_ms.mean
    assert mean_ms is not None
    # The sleep plus a little: more would mean the endpoint or the machine is not what this test assumes.
    assert SLEEP_S * 1000 <= mean_ms < SLEEP_S * 1000 * 1.1
    return mean_ms / 1000


@pytest.mark.parametrize("load", sorted(WINDOWS))
def test_poisson_arrivals_wait_as_the_m_d_c_queue_on_the_same_arrivals(
    docker: Docker, service_s: float, load: float, tmp_path: Path
) -> None:
    rate = round(CAPACITY_RPS * load)
    duration_s, warmup_s = WINDOWS[load]
    cell, run = measure(
        docker,
        tmp_path / "run",
        arrival_rates=(rate,),
        arrivals="poisson",
        arrival_seed=SEED,
        duration_s=duration_s,
        warmup_s=warmup_s,
    )
    assert (cell.load, cell.arrivals, cell.offered_rps) == ("open", "poisson", float(rate))
    assert cell.arrival_seed is not None and cell.failures == 0 and cell.window is not None
    session = next(
        d
        for d in (run.root / "sessions").iterdir()
        if read_schedule(d, "open")[0].measure_from == cell.window.start
    )
    samples = sorted(read_samples(session), key=lambda s: s.start)
    # Every arrival of the session (its warm-up's too, which fill the queue) through the queue.
    queued = fifo_latencies_s([s.start for s in samples], service_s, WORKERS)
    window = [
        (s.ms / 1000, simulated)
        for s, simulated in zip(samples, queued, strict=True)
        if cell.window.start <= s.end < cell.window.end
    ]
    assert len(window) == cell.requests
    measured = sum(m for m, _ in window) / len(window)
    expected = sum(q for _, q in window) / len(window)
    formula = mdc_latency_s(rate, service_s, WORKERS)
    assert measured == pytest.approx(expected, rel=TOLERANCE), (
        f"{rate} req/s ({load:.0%} of {CAPACITY_RPS:g}): mean {measured * 1000:.1f} ms, the M/D/{WORKERS} "
        f"queue on the same arrivals {expected * 1000:.1f} ms (its formula over all arrivals "
        f"{formula * 1000:.1f} ms; service {service_s * 1000:.1f} ms)"
    )
    # The queue waits: above the service at these loads, and more the nearer capacity.
    assert expected > service_s


def test_evenly_spaced_arrivals_at_90_percent_never_queue(
    docker: Docker, service_s: float, tmp_path: Path
) -> None:
    """The contrast: the same rate evenly spaced finds a free worker every time."""
    rate = round(CAPACITY_RPS * 0.9)
    # One load process: several would each space their share evenly, but out of phase with each other.
    cell, _ = measure(
        docker, tmp_path / "run", arrival_rates=(rate,), duration_s=20.0, warmup_s=5.0, loadgen_processes=1
    )
    assert cell.arrivals == "uniform" and cell.arrival_seed is None
    p99_ms = cell.latency_ms.p99
    assert p99_ms is not None and p99_ms < service_s * 1000 * 1.25
