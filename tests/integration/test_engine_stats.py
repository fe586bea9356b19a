"""The engine's stats API and the cgroup files count the same CPU time, throttling and major faults.

A remote engine's containers can only be sampled through its stats API, a local one's through its
cgroup files: a container spinning under half a CPU's quota is read both ways over the same window,
and the two agree within 5 %.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from servingmatrix.engine.docker import PROJECT_LABEL, ContainerSpec, Docker
from servingmatrix.run.measure.cgroups import ContainerCgroup, Sample
from servingmatrix.run.stack.stack import OWNER_LABEL

pytestmark = pytest.mark.docker

SPINNER = f"smtest-stats-{os.getpid()}"
QUOTA = 0.5
WARMUP_S = 1.0
WINDOW_S = 4.0
AGREEMENT = 0.05


@pytest.fixture
def spinning(docker: Docker, images: None) -> Iterator[ContainerCgroup]:
    """A shell spinning on one core under half a CPU's quota, throttled every period."""
    spec = ContainerSpec(
        name=SPINNER,
        image="servingmatrix/base:3.13",
        # Bounded: it ends by itself should the test be stopped before it removes it. No process is
        # started in the loop, so the container's memory holds still.
        entrypoint=("timeout", "60"),
        command=("sh", "-c", "while :; do :; done"),
        labels={PROJECT_LABEL: "servingmatrix", OWNER_LABEL: str(os.getpid())},
        network="none",
        cpuset="0",
        cpus=QUOTA,
        memory="64m",
        pids_limit=64,
    )
    docker.remove_containers([SPINNER])
    docker.run_detached(spec)
    try:
        info = docker.container_inspect(SPINNER)
        assert info is not None and info["State"]["Running"]
        yield ContainerCgroup(int(info["State"]["Pid"]))
    finally:
        docker.remove_containers([SPINNER])


def bracketed(docker: Docker, cgroup: ContainerCgroup) -> tuple[Sample, Sample, Sample]:
    """The cgroup read just before and just after one reading of the engine's stats."""
    before = cgroup.sample()
    stats = docker.container_stats(SPINNER)
    after = cgroup.sample()
    assert stats is not None
    return before, stats, after


def agree(engine: float, files: float) -> bool:
    return abs(engine - files) <= AGREEMENT * files


def test_stats_and_cgroup_files_agree_on_cpu_and_throttling(
    docker: Docker, spinning: ContainerCgroup
) -> None:
    time.sleep(WARMUP_S)
    first = bracketed(docker, spinning)
    time.sleep(WINDOW_S)
    last = bracketed(docker, spinning)

    for before, stats, after in (first, last):
        # The engine reads the same counters, at a moment between the two reads of the files.
        assert before.cpu_ns <= stats.cpu_ns <= after.cpu_ns
        assert before.throttled_ns <= stats.throttled_ns <= after.throttled_ns
        assert before.t <= stats.t <= after.t
        # Major faults: the same counter, given by both (none faulted once the spinner runs).
        assert before.major_faults is not None and stats.major_faults is not None
        assert after.major_faults is not None
        assert before.major_faults <= stats.major_faults <= after.major_faults

    engine_cpu = last[1].cpu_ns - first[1].cpu_ns
    files_cpu = last[0].cpu_ns - first[0].cpu_ns
    engine_throttled = last[1].throttled_ns - first[1].throttled_ns
    files_throttled = last[0].throttled_ns - first[0].throttled_ns
    engine_periods = last[1].throttled_periods - first[1].throttled_periods
    files_periods = last[0].throttled_periods - first[0].throttled_periods
    window = last[1].t - first[1].t

    # The quota holds the spinner near half a core, and it is throttled in most periods.
    assert 0.3 * window * 1e9 <= files_cpu <= 0.6 * window * 1e9
    assert files_throttled > 0.1 * window * 1e9 and files_periods > 0
    assert agree(engine_cpu, files_cpu), (engine_cpu, files_cpu)
    assert agree(engine_throttled, files_throttled), (engine_throttled, files_throttled)
    assert agree(engine_periods, files_periods), (engine_periods, files_periods)
    # Memory as `docker stats` shows it: the same usage less the inactive file pages.
    assert agree(last[1].mem_bytes, last[0].mem_bytes), (last[1].mem_bytes, last[0].mem_bytes)
