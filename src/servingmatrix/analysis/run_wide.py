"""Flags that describe the run rather than a figure: when every figure carries one, it is said once."""

from __future__ import annotations

from servingmatrix.analysis.points import Point, Results
from servingmatrix.flags import BACKING_ONLY, RUN_CONDITIONS, order
from servingmatrix.workloads import uses_backing


def _concerned(results: Results, code: str) -> list[Point]:
    """The measured figures a run condition can concern: those of the workloads that call the backing
    services for a flag about them, else every one."""
    ok = [p for p in results.points.values() if p.ok]
    return [p for p in ok if uses_backing(p.workload)] if code in BACKING_ONLY else ok


def run_wide_codes(results: Results) -> frozenset[str]:
    """The run's conditions (``flags.RUN_CONDITIONS``: the machine busy as it began, cores shared by
    the plan) that every figure they concern carries: said once, in the banner and in "how sure",
    rather than beside each figure (a figure that alone carries one shows it beside itself)."""
    return frozenset(
        code
        for code in RUN_CONDITIONS
        if (concerned := _concerned(results, code)) and all(code in p.codes for p in concerned)
    )


def concerned_workloads(results: Results, code: str) -> list[str] | None:
    """The workloads whose figures a run-wide flag is on, when not all of the run's: None when all."""
    workloads = [w for w in results.workloads if any(p.workload == w for p in _concerned(results, code))]
    return None if workloads == list(results.workloads) else workloads


def run_wide_message(results: Results, code: str) -> str:
    """The flag's sentence, the same on every figure."""
    for point in results.points.values():
        for flag in point.flags:
            if flag.code == code:
                return flag.message
    return ""


def occurring_codes(results: Results) -> list[str]:
    """Every flag some figure of the run carries, in the vocabulary's order: what a legend lists."""
    return order({code for p in results.points.values() for code in p.codes})


def said_for(results: Results, hide: frozenset[str], workload: str) -> frozenset[str]:
    """Of the run-wide flags ``hide``, those the figures of ``workload`` carry: what its tables and
    charts name once (a flag about the backing services is not said of a workload that never calls
    them)."""
    return frozenset(
        code
        for code in hide
        if (concerned := concerned_workloads(results, code)) is None or workload in concerned
    )
