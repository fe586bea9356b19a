"""A reproduction as every output shows it: what was reproduced, then each cell's figures and verdict.

The terminal table (``reproduce_text``) and the page (``reproduce_page``) read the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from servingmatrix import fmt
from servingmatrix.analysis.points import Point
from servingmatrix.analysis.reproduction import (
    DIFFERS,
    P99_FLOOR_MS,
    P99_TOLERANCE,
    REPRODUCED,
    THROUGHPUT_TOLERANCE,
    CellReproduction,
    Reproduction,
)
from servingmatrix.flags import Flag, beside_figure
from servingmatrix.flags import letters as flag_letters
from servingmatrix.results.bundle import BundleInfo


@dataclass(frozen=True)
class Source:
    """What was reproduced: the bundle, and what it says of itself."""

    bundle: Path
    info: BundleInfo

    def describe(self) -> str:
        info = self.info
        return (
            f"bundle {self.bundle} (run {info.run_id}, made {info.created} by servingmatrix "
            f"{info.tool_version}; image inputs: {info.inputs.describe()})"
        )


def throughput(point: Point | None) -> str:
    if point is None:
        return "not measured"
    if point.throughput is None:
        return "failed"
    return fmt.rps(point.throughput.median)


def interval(point: Point | None) -> str:
    """The 95% interval of the median, or why there is none."""
    if point is None or point.throughput is None:
        return ""
    est = point.throughput
    if est.ci_low is None or est.ci_high is None:
        return "single trial"
    return f"{fmt.rps(est.ci_low)} to {fmt.rps(est.ci_high)}"


def p99(point: Point | None) -> str:
    return fmt.ms(point.p99) if point is not None and point.ok else fmt.DASH


def flags(point: Point | None) -> tuple[Flag, ...]:
    """The flags beside a figure: those said once for the run are said by the run's report."""
    return beside_figure(point.flags) if point else ()


def letters(point: Point | None) -> str:
    return flag_letters(point.flags) if point else ""


def tolerance_text() -> str:
    return (
        f"A cell differs when its throughput moved more than {fmt.share(THROUGHPUT_TOLERANCE)} or its p99 "
        f"more than {fmt.share(P99_TOLERANCE)} and {P99_FLOOR_MS:g} ms, beyond the noise of both runs (the "
        "change's 95% interval excludes no change; with a single trial there is no interval, and the "
        "change alone decides). A cell flagged G on either side is judged on the reference generator's "
        "figures, one flagged R on both clients'"
    )


def tally(reproduction: Reproduction) -> str:
    counts = reproduction.counts()
    return f"{len(reproduction.cells)} cells: " + ", ".join(f"{n} {status}" for status, n in counts.items())


def style(cell: CellReproduction) -> str:
    """The class of a verdict: good, bad, or neither (not comparable)."""
    return {REPRODUCED: "holds", DIFFERS: "short"}.get(cell.status, "")
