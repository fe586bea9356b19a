"""Capacity and knee per mode x workload: how much a mode serves within the latency objective, and
the step past which more load only adds latency.

The capacity is the verdict's best point (``best_point``: the highest throughput among the steps
whose p99 meets the objective with at most 1% errors); the knee is ``stats.knee`` over the series.
"""

from __future__ import annotations

from dataclasses import dataclass

from servingmatrix import fmt
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.stats import Knee, knee
from servingmatrix.analysis.verdict import Objective, best_point, why_not

#: The fewest steps served that can place a knee: with two, the first reaching 90% of the higher is
#: either of them, and what lies between or beyond them was not measured.
MIN_KNEE_STEPS = 3


def series_knee(points: list[Point]) -> Knee | None:
    """The knee of one mode's series on one workload (steps whose cells all failed are skipped); None
    with fewer than ``MIN_KNEE_STEPS`` steps served."""
    if sum(1 for p in points if p.throughput) < MIN_KNEE_STEPS:
        return None
    return knee((p.users, p.throughput.median if p.throughput else None, p.p99) for p in points)


def knee_text(results: Results, found: Knee) -> str:
    """A knee in words: where, how much, and what the load past it added to p99."""
    text = (
        f"knee at {results.step_text(found.step)}: {fmt.rps(found.throughput)} req/s, "
        f"{found.throughput / found.peak_throughput:.0%} of its peak of {fmt.rps(found.peak_throughput)} "
        f"at {results.step_text(found.peak_step)}"
    )
    if found.at_last_step:
        return text + "; the last step served, so the throughput may still grow with more load"
    return (
        text + f"; p99 {fmt.ms(found.p99)} ms there, {fmt.ms(found.last_p99)} ms at "
        f"{results.step_text(found.last_step)}"
    )


@dataclass(frozen=True)
class Capacity:
    workload: str
    mode: str
    #: The step where the capacity is reached; None when no step meets the objective.
    point: Point | None
    knee: Knee | None
    #: Why no step meets the objective, when none does.
    why_not: str | None
    #: How many steps of the series were served (had a throughput).
    steps_served: int = 0

    @property
    def throughput(self) -> float | None:
        """The capacity in requests per second (the median of the trials at its step)."""
        return self.point.throughput.median if self.point and self.point.throughput else None

    @property
    def offered_rps(self) -> float | None:
        """Open loop: the rate requested at the capacity's step, beside the rate achieved."""
        return self.point.value("offered_rps") if self.point else None

    @property
    def achieved_share(self) -> float | None:
        """Open loop: the rate achieved over the rate offered at the capacity's step."""
        if self.throughput is None or not self.offered_rps:
            return None
        return self.throughput / self.offered_rps


def capacity(results: Results, workload: str, mode: str, objective: Objective) -> Capacity:
    series = results.series(workload, mode)
    point = best_point(series, objective)
    reason = None if point is not None else why_not(series, objective)
    served = sum(1 for p in series if p.ok)
    return Capacity(workload, mode, point, series_knee(series), reason, served)


def capacities(results: Results, workload: str, objective: Objective) -> list[Capacity]:
    """Every mode measured on ``workload``, in the report's mode order."""
    return [capacity(results, workload, mode, objective) for mode in results.modes_of(workload)]
