"""Runs in the order they were made, and each cell's figures across them: a published history.

A cell is mode x workload x step, a step being users (closed loop) or offered requests per second
(open loop), which are never the same cell. Runs are ordered by when they started; a cell's figure
in each run is that run's point (the median of its trials, with its interval), or None where the
run did not measure it. Figures from different testbeds (machines, how a run was spread over hosts,
and the server's budget) are kept apart by ``testbed``, never joined: asv publishes one line per
machine for the same reason, and a simulated run's figures are not one machine's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from servingmatrix.analysis.points import Point, Results


@dataclass(frozen=True)
class CellKey:
    workload: str
    mode: str
    open_loop: bool
    step: int


@dataclass(frozen=True)
class CellHistory:
    key: CellKey
    #: One entry per run of the history, in its order: the run's point, or None.
    points: tuple[Point | None, ...]

    @property
    def latest(self) -> Point | None:
        """The cell's figure in the newest run that has it (failed there: a point with no throughput)."""
        at = self.latest_at
        return None if at is None else self.points[at]

    @property
    def latest_at(self) -> int | None:
        """Which run (its index in the history) ``latest`` comes from; None when no run has the cell."""
        return self.latest_among(range(len(self.points)))

    def latest_among(self, runs: Iterable[int]) -> int | None:
        """The newest of ``runs`` (indices in the history) that has the cell; None when none has it."""
        return next((i for i in sorted(runs, reverse=True) if self.points[i] is not None), None)


@dataclass(frozen=True)
class History:
    #: The runs, oldest first.
    runs: tuple[Results, ...]
    cells: tuple[CellHistory, ...]

    @property
    def workloads(self) -> list[str]:
        return list(dict.fromkeys(c.key.workload for c in self.cells))

    def of_workload(self, workload: str) -> list[CellHistory]:
        return [c for c in self.cells if c.key.workload == workload]

    def modes_of(self, workload: str) -> list[str]:
        return list(dict.fromkeys(c.key.mode for c in self.of_workload(workload)))

    def testbeds(self) -> list[str]:
        """Every testbed of the history, in the order of its first run."""
        return list(dict.fromkeys(testbed(r) for r in self.runs))

    def runs_on(self, bed: str) -> list[int]:
        """The indices of the runs made on the testbed ``bed``, oldest first."""
        return [i for i, r in enumerate(self.runs) if testbed(r) == bed]


def testbed(results: Results) -> str:
    """What a run's figures can be set beside only their own kind of: the machine, how the run was
    spread over hosts, and the server's budget."""
    return f"{results.run.testbed}; {results.run.budget}"


def started(results: Results) -> str:
    return str(results.run.record.started_at or "")


def build_history(runs: list[Results]) -> History:
    """The history of ``runs``: ordered by start (a run that records none first), then by name."""
    ordered = tuple(sorted(runs, key=lambda r: (started(r), r.run.name)))
    keys: dict[CellKey, None] = {}
    # The newest run's order of workloads and modes, then what older runs add.
    for results in reversed(ordered):
        for workload in results.workloads:
            for mode in results.modes:
                for step in results.users:
                    if results.point(workload, mode, step) is not None:
                        keys.setdefault(CellKey(workload, mode, results.open_loop, step))
    workload_rank = {w: i for i, w in enumerate(dict.fromkeys(k.workload for k in keys))}
    mode_rank = {m: i for i, m in enumerate(dict.fromkeys(k.mode for k in keys))}
    by_place = sorted(keys, key=lambda k: (workload_rank[k.workload], mode_rank[k.mode], k.open_loop, k.step))
    cells = tuple(
        CellHistory(
            key,
            tuple(
                r.point(key.workload, key.mode, key.step) if r.open_loop == key.open_loop else None
                for r in ordered
            ),
        )
        for key in by_place
    )
    return History(ordered, cells)
