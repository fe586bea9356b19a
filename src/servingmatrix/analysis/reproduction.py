"""A published run against its reproduction, cell by cell: reproduced, differs, or not comparable.

The cells are paired as ``compare`` pairs them (``compare_runs``), each figure the median of its
trials with its uncertainty. A cell **differs** when its throughput moved further than
THROUGHPUT_TOLERANCE, or its p99 further than P99_TOLERANCE and by more than P99_FLOOR_MS, and that
change's 95% interval (from both runs' trials; none with a single trial on either side) excludes no
change: beyond the noise of both runs. It is **reproduced** otherwise.

Which client's figures are judged follows the cell's flags on either side: Locust's by default; the
reference generator's when either side is generator-bound (G: Locust's figure is then a lower bound,
the reference's is the server's); both, each of which must reproduce, when either side has the
clients disagree (R: the figure depends on the client).

It is **not comparable** when the two runs were not measured alike (cores, CPU model, engine version,
CPU plan, the method's matrix keys, the images' locks), when the cell is missing from, failed in or
stayed disturbed in either run, or when the figure it must be judged on is missing on a side (a G
cell with no reference figure); what is missing is named. Runs of earlier schemas are judged with
what they hold: no reference figure, no R.
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
from servingmatrix.analysis.stats import Change, Estimate, estimate, relative_change
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
#: A p99 change smaller than this, in milliseconds, is never called a difference, whatever its share:
#: where a p99 is a millisecond or two, the scheduler's jitter alone moves it by half of it (1.19
#: against 0.75 ms for the same quiet cell, two runs apart, 0.44 ms).
P99_FLOOR_MS = 1.0

LOCUST = "Locust"
REFERENCE = "the reference generator"


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


def _moved(name: str, change: Change | None, tolerance: float) -> str:
    return f"{name} {fmt.change(change)} (tolerance {fmt.share(tolerance)})"


@dataclass(frozen=True)
class ClientChange:
    """One client's figures of a cell, published against reproduced."""

    client: str
    throughput: Change | None
    p99: Change | None
    #: The two sides' p99 medians in milliseconds (published, reproduced), for the floor.
    p99_ms: tuple[float, float] | None

    def moved(self) -> list[str]:
        """What moved beyond its tolerance, the floor and the noise of both runs, in words."""
        out = []
        if beyond_noise(self.throughput, THROUGHPUT_TOLERANCE):
            out.append(_moved("throughput", self.throughput, THROUGHPUT_TOLERANCE))
        if (
            self.p99_ms is not None
            and abs(self.p99_ms[1] - self.p99_ms[0]) > P99_FLOOR_MS
            and beyond_noise(self.p99, P99_TOLERANCE)
        ):
            out.append(_moved("p99", self.p99, P99_TOLERANCE))
        return out

    def within(self) -> str:
        text = _moved("throughput", self.throughput, THROUGHPUT_TOLERANCE)
        if self.p99 is not None:
            text += f", {_moved('p99', self.p99, P99_TOLERANCE)}"
        return text


def _reference(point: Point) -> tuple[Estimate | None, Estimate | None]:
    """The reference generator's throughput and p99 over the point's successful trials."""
    measured = [c.reference for c in point.cells if c.ok and c.reference is not None]
    return (
        estimate(r.throughput_rps for r in measured),
        estimate(r.latency_ms.p99 for r in measured),
    )


def _figures(point: Point, client: str) -> tuple[Estimate | None, Estimate | None]:
    if client == REFERENCE:
        return _reference(point)
    return point.throughput, point.latency.get("p99")


def _client_change(base: Point, new: Point, client: str) -> ClientChange | None:
    """The client's change, or None when either side has no throughput of that client."""
    (base_rps, base_p99), (new_rps, new_p99) = _figures(base, client), _figures(new, client)
    if base_rps is None or new_rps is None:
        return None
    p99 = relative_change(base_p99, new_p99) if base_p99 and new_p99 else None
    p99_ms = (base_p99.median, new_p99.median) if base_p99 and new_p99 else None
    return ClientChange(client, relative_change(base_rps, new_rps), p99, p99_ms)


def _sides_flagged(change: CellChange, code: str) -> str:
    sides = [
        side
        for side, point in (("the published run", change.base), ("the reproduction", change.new))
        if point is not None and code in point.codes
    ]
    return " and ".join(sides)


def _clients(change: CellChange) -> tuple[tuple[str, ...], str]:
    """Whose figures the cell is judged on, and why in words (empty: Locust's, as usual)."""
    if disagree := _sides_flagged(change, "clients-disagree"):
        return (
            LOCUST,
            REFERENCE,
        ), f"on both clients' figures (R in {disagree}: the figure depends on the client)"
    bound = " and ".join(
        side
        for side, point in (("the published run", change.base), ("the reproduction", change.new))
        if point is not None and point.generator_bound
    )
    if bound:
        return (REFERENCE,), (
            f"on the reference generator's figures (G in {bound}: Locust's figure is a lower bound there)"
        )
    return (LOCUST,), ""


def _cell_problem(change: CellChange) -> str | None:
    """Why a cell cannot be compared on its own account (missing, disturbed or failed), or None."""
    base, new = change.base, change.new
    if base is None:
        return "not in the published run"
    if new is None:
        return "missing from the reproduction"
    for side, point in (("the published run", base), ("the reproduction", new)):
        if point.disturbed:
            reasons = sorted({c.reason or "no reason recorded" for c in point.cells})
            return (
                f"disturbed in {side}: other work on its cores in every window measured, no figure "
                f"({'; '.join(reasons)})"
            )
    if not base.ok:
        return f"failed in the published run ({'; '.join(base.failed_reasons)})"
    if not new.ok:
        return f"failed in the reproduction ({'; '.join(new.failed_reasons)})"
    if change.throughput is None:
        return "no throughput to compare"
    return None


def judge_cell(change: CellChange, differences: list[str]) -> CellReproduction:
    """Reproduced, differs or not comparable, and why, for one pair of cells."""
    problem = _cell_problem(change)
    if differences or problem:
        return CellReproduction(
            change, NOT_COMPARABLE, "; ".join([*differences, *([problem] if problem else [])])
        )
    assert change.base is not None and change.new is not None  # no problem: both sides measured
    clients, basis = _clients(change)
    judged: list[ClientChange] = []
    for client in clients:
        found = _client_change(change.base, change.new, client)
        if found is None:
            return CellReproduction(
                change, NOT_COMPARABLE, f"judged {basis}, but {client}'s figure is missing on a side"
            )
        judged.append(found)
    prefix = f"judged {basis}: " if basis else ""
    named = len(judged) > 1
    moved = [f"{c.client}'s {m}" if named else m for c in judged for m in c.moved()]
    if moved:
        return CellReproduction(
            change, DIFFERS, prefix + "; ".join(moved) + ", beyond the noise of both runs"
        )
    within = "; ".join(f"{c.client}'s {c.within()}" if named else c.within() for c in judged)
    return CellReproduction(change, REPRODUCED, f"{prefix}{within}: within the tolerance or the noise")


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
