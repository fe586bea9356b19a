"""Judging a session's cells, and measuring its steps again when their figures cannot stand as they are.

Two reasons send a step back to be measured: its answers took longer than its window
(``load/step_window.py``: measured once more with a grown window) and its windows were disturbed by
other work on the machine (measured ``remeasures`` times at most, a fresh session each; what stays
disturbed is flagged). Each new measurement is a fresh session on the same lane.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from servingmatrix.matrix import Matrix
from servingmatrix.results.cell import CellRecord
from servingmatrix.run.fleet.lanes import Lane
from servingmatrix.run.judge import RunFacts, as_disturbed, disturbed_reason, judge_cell, measure_step
from servingmatrix.run.load.loadgen import Load
from servingmatrix.run.load.step_window import grown_window, latency_beyond_window
from servingmatrix.run.progress import Progress
from servingmatrix.run.session import Session, SessionTimings, Swarm

__all__ = ["MeasureAgain", "disturbed", "failed_cell", "judge"]


def judge(session: Session, swarm: Swarm, timings: SessionTimings, facts: RunFacts) -> dict[Load, CellRecord]:
    """Each of the session's cells, judged (failed where the generator never reached its step)."""
    output = swarm.output
    assert not isinstance(output, str) and swarm.sampler is not None
    by_amount = {step.load.amount: step for step in output.steps}
    cells: dict[Load, CellRecord] = {}
    for load in session.loads:
        step = by_amount.get(load.amount)
        if step is None:
            never = "the load generator never reached this step"
            cells[load] = failed_cell(session, load, never, facts.server_host)
            continue
        figures = measure_step(output, swarm.sampler, step, facts.cores)
        cells[load] = judge_cell(session, figures, swarm, timings, facts)
    return cells


def disturbed(cell: CellRecord) -> str | None:
    """Why an ``ok`` cell's windows count as disturbed; None when they do not (or it failed)."""
    return disturbed_reason(cell.disturbance) if cell.ok else None


def failed_cell(session: Session, load: Load, reason: str, server_host: str | None = None) -> CellRecord:
    """A cell of a session that measured nothing for it: only why (and on several hosts, where)."""
    key = session.key(load)
    return CellRecord(key.mode, key.workload, key.users, key.trial, "failed", reason, server_host=server_host)


@dataclass(frozen=True)
class MeasureAgain:
    """What measuring again needs of the run: its matrix, its folder (where a fresh session's samples
    go), whether samples are kept, and how many times a disturbed step is measured again at most."""

    matrix: Matrix
    folder: Path
    keep_samples: bool
    remeasures: int

    def final_cells(
        self, session: Session, swarm: Swarm, timings: SessionTimings, lane: Lane, progress: Progress
    ) -> dict[Load, CellRecord]:
        """The session's cells as they are written: judged, the slow steps measured with a grown window,
        the disturbed ones measured again, and what stays disturbed flagged so."""
        cells = judge(session, swarm, timings, lane.facts)
        session = self._measure_longer(session, swarm, cells, lane, progress)
        for attempt in range(1, self.remeasures + 1):
            why_disturbed = {
                load: why for load, cell in cells.items() if (why := disturbed(cell)) is not None
            }
            if not why_disturbed:
                break
            loads = tuple(load for load in session.loads if load in why_disturbed)
            for load in loads:
                what = f"{session.label(load)} ({attempt} of {self.remeasures})"
                progress.line(f"  re-measuring {what}: {why_disturbed[load]}")
            again = self._again(replace(session, loads=loads), lane, progress, f"again-{attempt}")
            if again is None:
                break
            cells.update({load: replace(cell, measured_again=attempt) for load, cell in again.items()})
        final: dict[Load, CellRecord] = {}
        for load in session.loads:
            cell = cells[load]
            why = disturbed(cell)
            final[load] = cell if why is None else as_disturbed(cell, why)
        return final

    def _measure_longer(
        self, session: Session, swarm: Swarm, cells: dict[Load, CellRecord], lane: Lane, progress: Progress
    ) -> Session:
        """The steps whose answers took longer than their window (``step_window.py``), measured again
        once with a window grown from that latency, their cells replaced in ``cells``; the session as
        its steps are now measured (a disturbed step measured again keeps the grown window).

        The reference generator is not run again: its own window was sized from the step's latency,
        and what it measured after the first session stands beside the new window's figures."""
        given = session.step_window(self.matrix)
        slow = {load: s for load, cell in cells.items() if (s := latency_beyond_window(cell)) is not None}
        grown = grown_window(max(slow.values()), given) if slow else None
        if grown is None:
            return session
        for load, latency in slow.items():
            progress.line(
                f"  measuring {session.label(load)} again with a {grown.duration_s:.3g} s window after "
                f"{grown.warmup_s:.3g} s of warm-up: its answers took {latency:.1f} s or more, longer "
                f"than its {given.duration_s:g} s window"
            )
        steps = tuple(x for x in session.loads if x in slow)
        longer = replace(session, loads=steps, window=grown, reference=False)
        again = self._again(longer, lane, progress, "longer", references_from=swarm)
        if again is None:
            return session
        cells.update(again)
        return replace(session, window=grown)

    def _again(
        self,
        session: Session,
        lane: Lane,
        progress: Progress,
        suffix: str,
        references_from: Swarm | None = None,
    ) -> dict[Load, CellRecord] | None:
        """A fresh session of ``session``'s steps, judged (with the reference generator's runs of
        ``references_from`` when given); None when its stack took no load (the earlier measurement's
        cells then stand)."""
        out_dir = self.folder / "sessions" / f"{session.slug}-{suffix}"
        result = lane.sessions.run(session, lane.plan, out_dir, lane.stack)
        if not self.keep_samples:
            shutil.rmtree(out_dir, ignore_errors=True)
        swarm = result.swarm
        if swarm is None or isinstance(swarm.output, str) or swarm.sampler is None:
            why = result.failure if swarm is None else str(swarm.output)
            progress.line(f"  measuring {session.mode.spec} x {session.workload.spec} again failed: {why}")
            return None
        if references_from is not None:
            swarm = replace(
                swarm,
                references=references_from.references,
                reference_disturbance=references_from.reference_disturbance,
                reference_connections=references_from.reference_connections,
            )
        return judge(session, swarm, result.timings, lane.facts)
