"""A published run against its reproduction, cell by cell: reproduced, differs, or not comparable.

The cells are paired as ``compare`` pairs them (``compare_runs``), each figure the median of its
trials with its uncertainty. A cell **differs** when its throughput moved further than
THROUGHPUT_TOLERANCE, or its p99 further than P99_TOLERANCE, and that change's 95% interval (from
both runs' trials; none with a single trial on either side) excludes no change: beyond the noise
of both runs. It is **reproduced** otherwise. It is **not comparable** when the two runs were not
measured alike (cores, CPU model, engine version, CPU plan, the method's matrix keys, the images'
locks), or when the cell is missing from, or failed in, either run; what differs is named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.compare import CellChange, Comparison, beyond_noise, compare_runs
from servingmatrix.analysis.points import Point
from servingmatrix.analysis.stats import Change
from servingmatrix.matrix_keys import METHOD_KEYS, method_values
from servingmatrix.results.run import Run

REPRODUCED = "reproduced"
DIFFERS = "differs"
NOT_COMPARABLE = "not comparable"
STATUSES = (REPRODUCED, DIFFERS, NOT_COMPARABLE)

#: A throughput change within this is never called a difference: pyperf's line between a steady
#: figure and a noisy one (a CV of 10%), and what one trial on a shared machine moves by.
THROUGHPUT_TOLERANCE = 0.10
#: p99 rests on the slowest 1% of a step's requests, and moves more from run to run than throughput.
P99_TOLERANCE = 0.25


def _plan(run: Run) -> str:
    roles = ("server", "loadgen", "backing")
    return ", ".join(
        f"{role} cores {(run.cpu_plan.get(role) or {}).get('cpuset', '?')} "
        f"at {(run.cpu_plan.get(role) or {}).get('cpus', '?')} CPUs"
        for role in roles
    )


def _locks(run: Run) -> dict[str, Any]:
    return {
        name: (entry or {}).get("lock_sha256") for name, entry in (run.metadata.get("images") or {}).items()
    }


#: What must agree for two runs' cells to be compared at all: (what it is, how a run records it).
MACHINE_CHECKS: tuple[tuple[str, Callable[[Run], Any]], ...] = (
    ("cores", lambda run: run.metadata.get("cpu_count")),
    ("cores Docker sees", lambda run: run.metadata.get("docker_cpus")),
    ("CPU model", lambda run: run.metadata.get("cpu_model")),
    ("engine version", lambda run: run.metadata.get("docker_version")),
    ("CPU plan", _plan),
)
#: What may differ and is said, without making a cell not comparable.
NOTED = (
    ("kernel", "kernel"),
    ("cgroup version", "cgroup_version"),
    ("servingmatrix version", "harness_version"),
    ("harness commit", "git_commit"),
)


def _shown(value: object) -> str:
    return "not recorded" if value is None else repr(value)


def run_differences(published: Run, reproduction: Run) -> list[str]:
    """What makes every cell of the two runs not comparable, in words."""
    out = []
    for label, read in MACHINE_CHECKS:
        mine, theirs = read(published), read(reproduction)
        if mine != theirs:
            out.append(f"{label}: {_shown(mine)} published, {_shown(theirs)} here")
    method_published, method_here = method_values(published.matrix), method_values(reproduction.matrix)
    for key in METHOD_KEYS:
        mine, theirs = method_published.get(key), method_here.get(key)
        if mine != theirs:
            out.append(f"matrix {key}: {_shown(mine)} published, {_shown(theirs)} here")
    locks_a, locks_b = _locks(published), _locks(reproduction)
    changed = sorted(n for n in set(locks_a) & set(locks_b) if locks_a[n] != locks_b[n])
    if changed:
        out.append(f"image locks differ: {', '.join(changed)}")
    return out


def run_notes(published: Run, reproduction: Run) -> list[str]:
    """What differs between the runs without making them not comparable."""
    out = []
    for label, key in NOTED:
        mine, theirs = published.metadata.get(key), reproduction.metadata.get(key)
        if mine != theirs:
            out.append(f"{label}: {_shown(mine)} published, {_shown(theirs)} here")
    return out


@dataclass(frozen=True)
class CellReproduction:
    """One cell's verdict, the change it rests on, and why."""

    change: CellChange
    status: str
    why: str

    @property
    def published(self) -> Point | None:
        return self.change.base

    @property
    def reproduced(self) -> Point | None:
        return self.change.new


def _cell_problem(change: CellChange) -> str | None:
    """Why a cell cannot be compared on its own account (missing or failed), or None."""
    base, new = change.base, change.new
    if base is None:
        return "not in the published run"
    if new is None:
        return "missing from the reproduction"
    if not base.ok:
        return f"failed in the published run ({'; '.join(base.failed_reasons)})"
    if not new.ok:
        return f"failed in the reproduction ({'; '.join(new.failed_reasons)})"
    if change.throughput is None:
        return "no throughput to compare"
    return None


def _moved(name: str, change: Change | None, tolerance: float) -> str:
    return f"{name} {fmt.change(change)} (tolerance {fmt.share(tolerance)})"


def judge_cell(change: CellChange, differences: list[str]) -> CellReproduction:
    """Reproduced, differs or not comparable, and why, for one pair of cells."""
    problem = _cell_problem(change)
    if differences or problem:
        return CellReproduction(
            change, NOT_COMPARABLE, "; ".join([*differences, *([problem] if problem else [])])
        )
    moved = [
        _moved(name, figure, tolerance)
        for name, figure, tolerance in (
            ("throughput", change.throughput, THROUGHPUT_TOLERANCE),
            ("p99", change.p99, P99_TOLERANCE),
        )
        if beyond_noise(figure, tolerance)
    ]
    if moved:
        return CellReproduction(change, DIFFERS, "; ".join(moved) + ", beyond the noise of both runs")
    within = _moved("throughput", change.throughput, THROUGHPUT_TOLERANCE)
    if change.p99 is not None:
        within += f", {_moved('p99', change.p99, P99_TOLERANCE)}"
    return CellReproduction(change, REPRODUCED, f"{within}: within the tolerance or the noise")


@dataclass(frozen=True)
class Reproduction:
    comparison: Comparison
    cells: tuple[CellReproduction, ...]
    #: What makes every cell not comparable (empty: the runs were measured alike).
    differences: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def published(self) -> Run:
        return self.comparison.baseline.run

    @property
    def reproduction(self) -> Run:
        return self.comparison.run.run

    def counts(self) -> dict[str, int]:
        found = Counter(c.status for c in self.cells)
        return {status: found[status] for status in STATUSES}

    @property
    def differing(self) -> list[CellReproduction]:
        return [c for c in self.cells if c.status == DIFFERS]


def reproduce_verdicts(comparison: Comparison) -> Reproduction:
    """Every cell of a comparison (the published run as its baseline) judged as a reproduction."""
    published, reproduction = comparison.baseline.run, comparison.run.run
    differences = run_differences(published, reproduction)
    cells = tuple(judge_cell(change, differences) for change in comparison.changes)
    return Reproduction(comparison, cells, tuple(differences), tuple(run_notes(published, reproduction)))


def judge_reproduction(published_dir: Path, reproduction_dir: Path) -> Reproduction:
    """The reproduction in ``reproduction_dir`` of the run in ``published_dir``, judged cell by cell."""
    return reproduce_verdicts(compare_runs(published_dir, reproduction_dir))
