"""Trials folded into points: one figure per mode x workload x step, with its spread and its flags.

Trials of a cell are aggregated as their median; their spread makes the ``high-variance`` (noisy)
flag, the ``outlier-trial`` flag and the bootstrap interval. A step is a number of users (closed
loop) or of requests per second offered (open loop). Results from one run only: runs are never
averaged together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from statistics import median

from servingmatrix.analysis.stats import Estimate, estimate
from servingmatrix.errors import SpecError
from servingmatrix.flags import ONCE_PER_RUN, Flag, order
from servingmatrix.matrix_keys import AUTO_TRIALS
from servingmatrix.modes import mode_names, resolve_mode
from servingmatrix.precision import MIN_AUTO_TRIALS, precise_enough, reached_precision
from servingmatrix.results.run import Cell, Run
from servingmatrix.spec import parse_spec
from servingmatrix.workloads import WORKLOADS, resolve_workload


@dataclass(frozen=True)
class Point:
    mode: str
    workload: str
    users: int
    cells: tuple[Cell, ...]
    throughput: Estimate | None
    latency: dict[str, Estimate]
    error_rate: float | None
    server_cpu_pct: float | None
    server_mem_mb: float | None
    largest_process_mb: float | None
    processes: int | None
    loadgen_cpu_pct: float | None
    #: The reference generator's throughput against the same server, median of the trials (schema 3).
    reference_rps: float | None
    #: Locust's throughput over the reference's, median of the trials.
    generator_efficiency: float | None
    effective_concurrency: float | None
    promised_concurrency: int | None
    #: Open loop: the requests per second offered (the step); None in a closed-loop run.
    offered_rps: float | None
    flags: tuple[Flag, ...]

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
        if self.throughput is None or not self.server_cpu_pct:
            return None
        return self.throughput.median / (self.server_cpu_pct / 100.0)

    @property
    def generator_bound(self) -> bool:
        """The load generator, not the server, set this figure's pace in some trial."""
        return bool(self.codes & {"generator-bound", "loadgen-saturated"})

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f.code for f in self.flags)


def _median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return median(kept) if kept else None


def _max(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return max(kept) if kept else None


def _flags(
    cells: tuple[Cell, ...], throughput: Estimate | None, precision: float | None = None
) -> tuple[Flag, ...]:
    """Every flag of the trials, each once (messages of several trials joined), plus the derived ones."""
    messages: dict[str, list[str]] = defaultdict(list)
    ok = [c for c in cells if c.ok]
    for cell in ok:
        for flag in cell.flags:
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
    # A flag said once for the run is the same sentence in every trial: keep one copy, not one per trial.
    for code in ONCE_PER_RUN & messages.keys():
        messages[code] = sorted({m.split(": ", 1)[-1] for m in messages[code]})[:1]
    return tuple(Flag(code, "; ".join(messages[code])) for code in order(set(messages)))


def _outliers(ok: list[Cell], throughput: Estimate) -> str:
    """Which trials are outliers, by how much; ``ok`` are the cells ``throughput`` was made from."""
    scores = throughput.z_scores or ()
    parts = [
        f"trial {ok[i].trial} at {throughput.values[i]:,.0f} req/s (modified z-score {scores[i]:+.1f})"
        for i in throughput.outliers
    ]
    return (
        f"{', '.join(parts)} against a median of {throughput.median:,.0f} req/s over {throughput.n} "
        "trials; the figure is the median, unmoved by it"
    )


def make_point(cells: tuple[Cell, ...], precision: float | None = None) -> Point:
    """The figure of one cell over its trials; ``precision``: the one the run asked (``--trials auto``),
    which a figure short of it is flagged for."""
    ok = [c for c in cells if c.ok]
    throughput = estimate(c.throughput_rps for c in ok)
    latency = {p: e for p in ("p50", "p95", "p99") if (e := estimate(c.latency_ms.get(p) for c in ok))}
    requests = sum(c.requests or 0 for c in ok)
    failures = sum(c.failures or 0 for c in ok)
    first = cells[0]
    processes = _median(c.processes for c in ok)
    return Point(
        mode=first.mode,
        workload=first.workload,
        users=first.users,
        cells=cells,
        throughput=throughput,
        latency=latency,
        error_rate=failures / requests if requests else None,
        server_cpu_pct=_median(c.server_cpu_pct for c in ok),
        server_mem_mb=_max(c.server_mem_mb for c in ok),
        largest_process_mb=_max(c.largest_process_mb for c in ok),
        processes=round(processes) if processes is not None else None,
        loadgen_cpu_pct=_median(c.loadgen_cpu_pct for c in ok),
        reference_rps=_median(c.reference_rps for c in ok),
        generator_efficiency=_median(c.generator_efficiency for c in ok),
        effective_concurrency=_median(c.effective_concurrency for c in ok),
        promised_concurrency=next((c.promised_concurrency for c in cells), None),
        offered_rps=next((c.offered_rps for c in cells if c.offered_rps is not None), None),
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
        return any(p.reference_rps is not None for p in self.points.values())

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
        present = {(c.mode, c.workload, c.users, c.trial) for c in self.run.cells}
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
    groups: dict[tuple[str, str, int], list[Cell]] = defaultdict(list)
    for cell in run.cells:
        groups[(cell.workload, cell.mode, cell.users)].append(cell)
    precision = _asked_precision(run)
    points = {
        key: make_point(tuple(sorted(cells, key=lambda c: c.trial)), precision)
        for key, cells in groups.items()
    }
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
