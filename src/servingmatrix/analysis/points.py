"""Trials folded into points: one per mode x workload x step, with its figures, spread and flags.

A cell's trials fold into its figures as each metric declares (``analysis/trials.py``); the spread of
its throughput makes the ``high-variance`` (noisy) flag, the ``outlier-trial`` flag and the bootstrap
interval. A step is a number of users (closed
loop) or of requests per second offered (open loop). Results from one run only: runs are never
averaged together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from servingmatrix.analysis.stats import Estimate
from servingmatrix.analysis.trials import figures, group
from servingmatrix.errors import SpecError
from servingmatrix.flags import BACKING_ONLY, RUN_CONDITIONS, Flag, order
from servingmatrix.matrix_keys import AUTO_TRIALS
from servingmatrix.modes import mode_names, resolve_mode
from servingmatrix.precision import MIN_AUTO_TRIALS, precise_enough, reached_precision
from servingmatrix.results.cell import PERCENTILES, CellRecord
from servingmatrix.results.run import Run
from servingmatrix.spec import parse_spec
from servingmatrix.workloads import WORKLOADS, resolve_workload, uses_backing


@dataclass(frozen=True)
class Point:
    """A cell's figures over its trials: one for each metric that declares how it folds them
    (``metrics.folded``), by its column."""

    mode: str
    workload: str
    users: int
    #: The trials, in order, failed ones included.
    cells: tuple[CellRecord, ...]
    #: Each folded figure by column: an ``Estimate`` for those folded as one, else a number or None.
    figures: Mapping[str, Any]
    flags: tuple[Flag, ...]

    def estimate(self, column: str) -> Estimate | None:
        """The figure of ``column`` folded as an estimate (its median with its spread)."""
        figure = self.figures.get(column)
        return figure if isinstance(figure, Estimate) else None

    def value(self, column: str) -> float | None:
        """The figure of ``column`` as one number (an estimate's median); None when unknown."""
        figure = self.figures.get(column)
        if isinstance(figure, Estimate):
            return figure.median
        return figure if isinstance(figure, int | float) else None

    @property
    def throughput(self) -> Estimate | None:
        return self.estimate("throughput_rps")

    @property
    def latency(self) -> dict[str, Estimate]:
        """The latency percentiles folded as estimates, by name (``p50``, ``p95``, ``p99``)."""
        return {p: e for p in PERCENTILES if (e := self.estimate(f"{p}_ms")) is not None}

    @property
    def ok(self) -> bool:
        return self.throughput is not None

    @property
    def trials(self) -> int:
        return self.throughput.n if self.throughput else 0

    @property
    def disturbed(self) -> bool:
        """No figure, and every trial that was measured was disturbed (none failed): not published."""
        return not self.ok and all(c.status == "disturbed" for c in self.cells)

    @property
    def failed_reasons(self) -> list[str]:
        return [f"trial {c.trial}: {c.reason or 'no reason recorded'}" for c in self.cells if not c.ok]

    @property
    def p99(self) -> float | None:
        est = self.latency.get("p99")
        return est.median if est else None

    @property
    def requests_per_cpu_s(self) -> float | None:
        """Requests served per second of server CPU: throughput / (CPU % / 100)."""
        cpu = self.value("server_cpu_pct")
        if self.throughput is None or not cpu:
            return None
        return self.throughput.median / (cpu / 100.0)

    @property
    def generator_bound(self) -> bool:
        """The load generator, not the server, set this figure's pace in some trial."""
        return bool(self.codes & BOUND_CODES)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f.code for f in self.flags)


#: The flags that make a figure the load generator's lower bound (S on results written before G).
BOUND_CODES = frozenset({"generator-bound", "loadgen-saturated"})


def _flags(
    cells: tuple[CellRecord, ...], throughput: Estimate | None, precision: float | None = None
) -> tuple[Flag, ...]:
    """Every flag of the trials, each once (messages of several trials joined), plus the derived ones."""
    messages: dict[str, list[str]] = defaultdict(list)
    ok = [c for c in cells if c.ok]
    skip: frozenset[str] = frozenset() if not cells or uses_backing(cells[0].workload) else BACKING_ONLY
    for cell in ok:
        for flag in cell.warnings:
            if flag.code in skip:
                continue
            text = flag.message if len(ok) == 1 else f"trial {cell.trial}: {flag.message}"
            if text not in messages[flag.code]:
                messages[flag.code].append(text)
    if throughput is not None and throughput.noisy:
        cv = throughput.cv or 0.0
        messages["high-variance"].append(
            f"throughput varies by {cv:.0%} (CV) over {throughput.n} trials "
            f"({throughput.low:,.0f} to {throughput.high:,.0f} req/s)"
        )
    if precision is not None and throughput is not None and not precise_enough(throughput.values, precision):
        reached = reached_precision(throughput.values)
        messages["imprecise"].append(
            f"the median's 95% interval is ±{reached:.1%} of it after {throughput.n} trials, short of the "
            f"±{precision:.1%} asked"
            if reached is not None
            else f"{throughput.n} successful trial: no interval, short of the ±{precision:.1%} asked"
        )
    if throughput is not None and throughput.outliers:
        messages["outlier-trial"].append(_outliers(ok, throughput))
    failed = [c for c in cells if not c.ok]
    if ok and failed:
        messages["failed-trials"].append(f"{len(failed)} of {len(cells)} trials failed")
    # A flag of the run's conditions is the same sentence in every trial: keep one copy, not one per trial.
    for code in RUN_CONDITIONS & messages.keys():
        messages[code] = sorted({m.split(": ", 1)[-1] for m in messages[code]})[:1]
    return tuple(Flag(code, "; ".join(messages[code])) for code in order(set(messages)))


def _outliers(ok: list[CellRecord], throughput: Estimate) -> str:
    """Which trials are outliers, by how much; ``ok`` are the trials ``throughput`` was made from."""
    scores = throughput.z_scores or ()
    parts = [
        f"trial {ok[i].trial} at {throughput.values[i]:,.0f} req/s (modified z-score {scores[i]:+.1f})"
        for i in throughput.outliers
    ]
    return (
        f"{', '.join(parts)} against a median of {throughput.median:,.0f} req/s over {throughput.n} "
        "trials; the figure is the median, unmoved by it"
    )


def make_point(
    cells: tuple[CellRecord, ...], open_loop: bool = False, precision: float | None = None
) -> Point:
    """The point of one cell's trials (in trial order); ``precision``: the one the run asked
    (``--trials auto``), which a figure short of it is flagged for."""
    folded = figures(cells, open_loop)
    first = cells[0]
    throughput = folded["throughput_rps"]
    return Point(
        mode=first.mode,
        workload=first.workload,
        users=first.users,
        cells=cells,
        figures=folded,
        flags=_flags(cells, throughput, precision),
    )


def _registry_rank(names: list[str], spec: str) -> tuple[int, str]:
    try:
        name = parse_spec(spec).name
    except SpecError:
        name = spec
    return (names.index(name) if name in names else len(names), spec)


@dataclass(frozen=True)
class Results:
    """Every point of one run, and the order to show them in."""

    run: Run
    points: dict[tuple[str, str, int], Point]
    modes: tuple[str, ...]
    workloads: tuple[str, ...]
    #: The steps in order: numbers of users, or requests per second offered in an open-loop run.
    users: tuple[int, ...]

    @property
    def has_references(self) -> bool:
        """Whether any figure has a reference generator's beside it (runs of schema 3 that asked)."""
        return any(p.value("reference_rps") is not None for p in self.points.values())

    @property
    def open_loop(self) -> bool:
        """Each step offered a rate of requests (``users`` holds it) rather than a number of users."""
        return self.run.open_loop

    @property
    def step_label(self) -> str:
        """What a step is, for axes and column heads: "users", or "offered req/s" in an open loop."""
        return "offered req/s" if self.open_loop else "users"

    @property
    def step_axis(self) -> str:
        return "offered requests per second" if self.open_loop else "concurrent users"

    def step_text(self, step: int) -> str:
        """One step in words: "1 user", "64 users", "200 offered req/s"."""
        if self.open_loop:
            return f"{step:,} offered req/s"
        return f"{step} user{'' if step == 1 else 's'}"

    def point(self, workload: str, mode: str, users: int) -> Point | None:
        return self.points.get((workload, mode, users))

    def series(self, workload: str, mode: str) -> list[Point]:
        return [p for u in self.users if (p := self.point(workload, mode, u)) is not None]

    def modes_of(self, workload: str) -> list[str]:
        return [m for m in self.modes if self.series(workload, m)]

    def served_modes(self, workload: str) -> list[str]:
        """Modes with at least one successful point on ``workload``: those a chart can draw."""
        return [m for m in self.modes if any(p.ok for p in self.series(workload, m))]

    def expected_modes(self) -> list[str]:
        """The matrix's modes as full specs (as cells name them)."""
        cpus = self.run.server_cpus
        return [_full(entry, lambda e: resolve_mode(e, cpus).spec) for entry in _list(self.run, "modes")]

    def expected_workloads(self) -> list[str]:
        return [_full(entry, _workload_spec) for entry in _list(self.run, "workloads")]

    def missing_modes(self) -> list[str]:
        """Modes the matrix lists that have no cell at all (the run was cut short, or never reached them)."""
        return [m for m in self.expected_modes() if m not in self.modes]

    def missing_cells(self) -> list[tuple[str, str, int, int]]:
        """Cells the matrix calls for that are not on disk, for modes that have at least one."""
        trials = self.run.matrix.get("trials")
        count = (
            MIN_AUTO_TRIALS
            if trials == AUTO_TRIALS
            else trials
            if isinstance(trials, int) and trials > 0
            else 1
        )
        present = {(c.record.mode, c.record.workload, c.record.users, c.record.trial) for c in self.run.cells}
        return [
            (m, w, u, t)
            for m in self.modes
            for w in self.expected_workloads()
            for u in self.users
            for t in range(1, count + 1)
            if (m, w, u, t) not in present
        ]


def _list(run: Run, key: str) -> list[str]:
    value = run.matrix.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _workload_spec(entry: str) -> str:
    return resolve_workload(entry).spec


def _full(entry: str, resolve: Callable[[str], str]) -> str:
    try:
        return resolve(entry)
    except SpecError:
        # A mode or workload this version does not know: keep the name as the run wrote it.
        return entry


def _asked_precision(run: Run) -> float | None:
    """The precision a ``--trials auto`` run asked of every figure; None for a fixed number of trials."""
    if run.matrix.get("trials") != AUTO_TRIALS:
        return None
    asked = run.matrix.get("precision")
    return float(asked) if isinstance(asked, int | float) and not isinstance(asked, bool) else None


def aggregate(run: Run) -> Results:
    cells = group(c.record for c in run.cells)
    precision = _asked_precision(run)
    points = {key: make_point(trials, run.open_loop, precision) for key, trials in cells.items()}
    names = mode_names()
    modes = sorted({m for _, m, _ in points}, key=lambda s: _registry_rank(names, s))
    workload_names = [w.name for w in WORKLOADS]
    listed = [_full(e, _workload_spec) for e in _list(run, "workloads")]
    workloads = sorted(
        {w for w, _, _ in points},
        key=lambda w: (listed.index(w) if w in listed else len(listed), _registry_rank(workload_names, w)),
    )
    users = sorted({u for _, _, u in points} | set(run.steps))
    return Results(run, points, tuple(modes), tuple(workloads), tuple(users))
