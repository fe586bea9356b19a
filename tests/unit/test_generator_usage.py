"""A distributed generator's usage is its workers' added up, judged against all their quotas at once:
two workers of one core each are saturated when together they use 90% of two cores."""

from __future__ import annotations

import pytest

from servingmatrix.modes import resolve_mode
from servingmatrix.run.judge import RunFacts, generator_bound_reasons, judge_cell, measure_step, saturated
from servingmatrix.run.load.loadgen import Load, LoadgenOutput, Step
from servingmatrix.run.measure.cgroups import Sample, Sampler, WindowUsage, combined_usage
from servingmatrix.run.measure.latency import RequestSample
from servingmatrix.run.session import Session, SessionTimings, Swarm
from servingmatrix.workloads import resolve_workload

A = WindowUsage(
    60.0, throttled_s=0.25, throttled_periods=3, mem_bytes_max=100, mem_bytes_mean=80.0, major_faults=7
)
B = WindowUsage(
    35.5, throttled_s=1.0, throttled_periods=10, mem_bytes_max=40, mem_bytes_mean=30.0, major_faults=2
)
#: Two workers of one core each: the quota of the generator as a whole (``RunHosts.shares``' plan has
#: as many CPUs as workers).
TWO_CORES = RunFacts(loadgen_quota_pct=200.0, ceiling=None, loadgen_hosts=2)
STEP = Step(Load(8), 0.0, 10.0, 20.0)


def test_nothing_measured_is_none() -> None:
    assert combined_usage([]) is None
    assert combined_usage([None, None]) is None


def test_one_measured_is_itself() -> None:
    assert combined_usage([A]) is A
    assert combined_usage([None, A, None]) is A


def test_several_are_added_up_field_by_field() -> None:
    both = WindowUsage(
        cpu_pct=95.5,
        throttled_s=1.25,
        throttled_periods=13,
        mem_bytes_max=140,
        mem_bytes_mean=110.0,
        major_faults=9,
    )
    assert combined_usage([A, B]) == both
    assert combined_usage([A, None, B]) == both
    assert combined_usage([A, B, A]) == WindowUsage(155.5, 1.5, 16, 240, 190.0, 16)


def busy(share: float) -> list[Sample]:
    """A container using ``share`` of a core, sampled every second over 30 s."""
    return [Sample(float(t), int(t * share * 1e9), 0, 0, 2**20) for t in range(31)]


def step_of(roles: dict[str, float]) -> tuple[LoadgenOutput, Sampler]:
    sampler = Sampler({})
    sampler.samples = {role: busy(share) for role, share in roles.items()}
    requests = [RequestSample(10.0 + i / 10, 5.0, True, "json", 28) for i in range(50)]
    return LoadgenOutput([STEP], requests, 2), sampler


@pytest.mark.parametrize(
    ("first", "second", "is_saturated"),
    [
        (0.9, 0.9, True),  # 180% of 200%: at the line
        (0.95, 0.85, True),  # neither alone, together at it
        (1.0, 0.95, True),
        (0.9, 0.89, False),  # 179%: below
        (0.95, 0.0, False),  # one worker busy, the other idle: the generator had room
    ],
)
def test_two_workers_are_saturated_only_when_their_sum_reaches_ninety_percent_of_two_cores(
    first: float, second: float, is_saturated: bool
) -> None:
    output, sampler = step_of(
        # The server and the backing services are busy too; they are not the generator.
        {"server": 1.0, "upstream": 1.0, "loadgen@gen-a/1": first, "loadgen@gen-b/1": second}
    )
    figures = measure_step(output, sampler, STEP)
    assert figures.loadgen is not None
    assert figures.loadgen.cpu_pct == pytest.approx(100 * (first + second))
    assert saturated(figures, TWO_CORES) is is_saturated
    reasons = generator_bound_reasons(figures, TWO_CORES)
    used = f"it used {100 * (first + second):.0f}% of its 200% CPU"
    assert (used in reasons) is is_saturated


def test_the_cell_records_the_sum_and_the_verdict() -> None:
    output, sampler = step_of({"server": 0.5, "loadgen@gen-a/1": 0.95, "loadgen@gen-a/2": 0.9})
    figures = measure_step(output, sampler, STEP)
    session = Session(resolve_mode("waitress[threads=2]", 1), resolve_workload("json"), 1, (STEP.load,))
    swarm = Swarm(output, sampler=sampler)
    cell = judge_cell(session, figures, swarm, SessionTimings(), TWO_CORES).as_json()
    loadgen = cell["loadgen"]
    assert loadgen["cpu_pct"] == pytest.approx(185.0)
    assert (loadgen["cpu_quota_pct"], loadgen["saturated"], loadgen["generator_bound"]) == (200.0, True, True)
    assert loadgen["hosts"] == 2 and loadgen["processes"] == 2
    assert cell["server"]["cpu_pct"] == pytest.approx(50.0)


def test_one_machines_generator_is_its_one_container() -> None:
    output, sampler = step_of({"server": 0.5, "loadgen": 0.92, "upstream": 1.0})
    figures = measure_step(output, sampler, STEP)
    assert figures.loadgen is not None and figures.loadgen.cpu_pct == pytest.approx(92.0)
    assert saturated(figures, RunFacts(100.0, None))


def test_a_generator_not_sampled_is_not_saturated() -> None:
    output, sampler = step_of({"server": 1.0, "upstream": 1.0})
    figures = measure_step(output, sampler, STEP)
    assert figures.loadgen is None and not saturated(figures, TWO_CORES)
