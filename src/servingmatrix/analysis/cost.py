"""What a mode costs: the point its cost is read at, and its peak memory over the whole run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.verdict import Objective, best_point


def cost_point(results: Results, workload: str, mode: str, objective: Objective) -> Point | None:
    """The mode's best step meeting the objective, or its highest served step when none does."""
    series = results.series(workload, mode)
    return best_point(series, objective) or next((p for p in reversed(series) if p.ok), None)


@dataclass(frozen=True)
class PeakMemory:
    """A mode's highest memory over every point it served."""

    mode: str
    #: The server container's peak, less reclaimable page cache.
    container_mb: float | None
    #: The resident memory of its largest process (a worker, usually).
    largest_process_mb: float | None
    processes: int | None


def peak_memory(results: Results) -> list[PeakMemory]:
    """One entry per mode, in the report's mode order."""
    out = []
    for mode in results.modes:
        points = [p for (_, m, _), p in results.points.items() if m == mode and p.ok]
        out.append(
            PeakMemory(
                mode,
                _most(p.value("server_mem_mb") for p in points),
                _most(p.value("server_mem_mb_per_process") for p in points),
                _whole(_most(p.value("server_processes") for p in points)),
            )
        )
    return out


def _most(values: Iterable[float | None]) -> float | None:
    return max((v for v in values if v is not None), default=None)


def _whole(value: float | None) -> int | None:
    """A count folded as a median of trials, as a whole count."""
    return None if value is None else round(value)
