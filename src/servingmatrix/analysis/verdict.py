"""The verdict: per workload, which mode served the most at an acceptable latency, by how much, and
how sure we are; and on ``io``, the concurrency each mode achieved against what its folk claim says.
"""

from __future__ import annotations

from dataclasses import dataclass

from servingmatrix import fmt
from servingmatrix.analysis.points import BOUND_CODES, Point, Results
from servingmatrix.analysis.run_wide import concerned_workloads, run_wide_codes
from servingmatrix.analysis.stats import Change, relative_change
from servingmatrix.errors import SpecError
from servingmatrix.flags import kind, order
from servingmatrix.modes import get_mode
from servingmatrix.spec import parse_spec, spec_name

DEFAULT_SLO_P99_MS = 500.0
#: Above this share of failed requests a cell is not "served", whatever its latency.
MAX_ERROR_RATE = 0.01
#: Effective concurrency within 10% of what was promised (or offered) counts as the claim holding.
CLAIM_TOLERANCE = 0.10
#: A server using this share of its CPU budget or more was CPU-bound.
SATURATED_CPU_SHARE = 0.9


def _sleep_ms(workload: str) -> float | None:
    """The sleep of an ``io[ms=X]`` workload (X), or None for other workloads."""
    try:
        spec = parse_spec(workload)
    except SpecError:
        return None
    if spec.name != "io":
        return None
    # Results name the full spec, so the sleep is always written out.
    value = spec.as_dict().get("ms")
    return float(value) if value is not None else None


@dataclass(frozen=True)
class Objective:
    """What "an acceptable latency" means for the verdict."""

    p99_ms: float = DEFAULT_SLO_P99_MS
    max_error_rate: float = MAX_ERROR_RATE

    def met_by(self, point: Point) -> bool:
        p99 = point.p99
        return (
            point.ok
            and p99 is not None
            and p99 <= self.p99_ms
            and (point.value("error_rate") or 0.0) <= self.max_error_rate
        )

    def describe(self) -> str:
        return f"p99 ≤ {self.p99_ms:g} ms and at most {self.max_error_rate:.0%} errors"


@dataclass(frozen=True)
class Verdict:
    workload: str
    #: Every mode's best point meeting the objective, best first.
    ranking: tuple[Point, ...]
    #: Modes with no point meeting the objective, and why.
    unqualified: tuple[tuple[str, str], ...]
    margin: Change | None
    certainty: str
    #: What the ranking cannot settle because a figure in it is the load generator's: None when none is.
    caveat: str | None = None
    #: The run's conditions that bear on this verdict, each in words: the run-wide ones (the machine
    #: busy as it began, cores shared), cells disturbed and not published, a lower-bound figure at the top.
    conditions: tuple[str, ...] = ()

    @property
    def how_sure(self) -> str:
        """The certainty of the margin, then the conditions it was measured under."""
        return "; ".join((self.certainty, *self.conditions))

    @property
    def best_production(self) -> Point | None:
        """The best-ranked mode that is not a development server: the winner itself when it is not one."""
        return next((p for p in self.ranking if not is_development(p.mode)), None)

    @property
    def winner(self) -> Point | None:
        return self.ranking[0] if self.ranking else None

    @property
    def runner_up(self) -> Point | None:
        return self.ranking[1] if len(self.ranking) > 1 else None

    def behind_winner(self, point: Point) -> float | None:
        """How far ``point``'s throughput is below the winner's, as a fraction (negative); None for
        the winner itself or when either has no throughput."""
        winner = self.winner
        if winner is None or point is winner or not winner.throughput or not point.throughput:
            return None
        if not winner.throughput.median:
            return None
        return point.throughput.median / winner.throughput.median - 1


def is_development(mode: str) -> bool:
    """Whether ``mode`` (a spec) is a development server, not one to run in production."""
    try:
        return get_mode(parse_spec(mode).name).development
    except SpecError:
        return False


def keeps_alive(mode: str) -> bool | None:
    """Whether ``mode`` keeps client connections alive; None for a mode this version does not know."""
    try:
        return get_mode(parse_spec(mode).name).keeps_alive
    except SpecError:
        return None


def best_point(points: list[Point], objective: Objective) -> Point | None:
    """The point of highest throughput that meets the objective."""
    meeting = [p for p in points if objective.met_by(p) and p.throughput is not None]
    return max(meeting, key=lambda p: p.throughput.median if p.throughput else 0.0, default=None)


def why_not(points: list[Point], objective: Objective) -> str:
    """Why no point of a mode's series meets the objective."""
    if not any(p.ok for p in points):
        if points and all(p.disturbed for p in points):
            return "every cell disturbed by other work on its cores (not published)"
        return "every cell failed"
    lowest = min((p.p99 for p in points if p.p99 is not None), default=None)
    if lowest is not None and lowest > objective.p99_ms:
        return f"p99 above {objective.p99_ms:g} ms at every step (lowest {lowest:,.0f} ms)"
    return f"more than {objective.max_error_rate:.0%} of requests failed where p99 was acceptable"


def _certainty(winner: Point, runner_up: Point | None, margin: Change | None) -> str:
    if runner_up is None:
        return "the only mode that met the objective"
    if margin is None:
        return "no comparison possible (a zero throughput)"
    if margin.uncertainty is None:
        if winner.trials == 1 and runner_up.trials == 1:
            return "single trial, no estimate of variance: the margin may be noise"
        single = winner.mode if winner.trials == 1 else runner_up.mode
        return f"{single} has a single trial, so no estimate of the margin's variance: it may be noise"
    # Written as the margin is everywhere else (one figure, one rounding).
    interval = f"{fmt.change(margin)} (95% interval, {winner.trials} and "
    interval += f"{runner_up.trials} trials)"
    if margin.low is not None and margin.low > 0:
        return f"clear: {interval}"
    return f"too close to call: {interval} includes no difference"


def verdicts(results: Results, objective: Objective) -> list[Verdict]:
    out: list[Verdict] = []
    for workload in results.workloads:
        ranking: list[Point] = []
        unqualified: list[tuple[str, str]] = []
        for mode in results.modes_of(workload):
            series = results.series(workload, mode)
            best = best_point(series, objective)
            if best is None:
                unqualified.append((mode, why_not(series, objective)))
            else:
                ranking.append(best)
        ranking.sort(key=lambda p: -(p.throughput.median if p.throughput else 0.0))
        winner = ranking[0] if ranking else None
        runner_up = ranking[1] if len(ranking) > 1 else None
        margin = None
        if winner and runner_up and winner.throughput and runner_up.throughput:
            margin = relative_change(runner_up.throughput, winner.throughput)
        certainty = _certainty(winner, runner_up, margin) if winner else "no mode met the objective"
        caveats = [c for c in (generator_caveat(ranking), disagreement_caveat(ranking)) if c is not None]
        caveat = "; ".join(caveats) or None
        conditions = run_conditions(results, workload, ranking[:2])
        out.append(
            Verdict(workload, tuple(ranking), tuple(unqualified), margin, certainty, caveat, conditions)
        )
    return out


def run_conditions(results: Results, workload: str, top: list[Point]) -> tuple[str, ...]:
    """The conditions a verdict on ``workload`` was measured under, in words: each run-wide flag on its
    figures (named here and said in full in the banner, not beside every figure), the cells disturbed
    by other work and so not published, and a figure among the first two that is a lower bound."""
    out = [
        f"{kind(code).title} ({kind(code).letter})"
        for code in order(set(run_wide_codes(results)))
        if (concerned := concerned_workloads(results, code)) is None or workload in concerned
    ]
    disturbed = sum(1 for (w, _, _), p in results.points.items() if w == workload and p.disturbed)
    if disturbed:
        out.append(f"{disturbed} cell(s) disturbed by other work on their cores, not published")
    bound = [p for p in top if p.generator_bound]
    if bound:
        marks = "".join(sorted({kind(c).letter for p in bound for c in p.codes & BOUND_CODES}))
        names = " and ".join(p.mode for p in bound)
        out.append(f"{names}: a lower bound, the load generator set the pace ({marks})")
    return tuple(out)


def generator_caveat(ranking: list[Point]) -> str | None:
    """What a generator-bound figure does to the ranking, in words; None when no figure in it is bound.

    The ranking stays by Locust's figures (the workload as users send it, its latency the objective
    judges). A bound figure is a lower bound: a mode below the winner may in truth be ahead of it
    when a native client drew more from its server than the winner's figure, and cannot be ruled out
    when no native client measured it.
    """
    bound = [p for p in ranking if p.generator_bound]
    winner = ranking[0] if ranking else None
    if not bound or winner is None or winner.throughput is None:
        return None
    top = winner.throughput.median
    below = [p for p in bound if p is not winner]
    overtaking = [p for p in below if (p.value("reference_rps") or 0.0) > top]
    unmeasured = [p for p in below if p.value("reference_rps") is None]
    if overtaking:
        names = ", ".join(
            f"{p.mode} (a native client drew {p.value('reference_rps') or 0.0:,.0f} req/s)"
            for p in overtaking
        )
        return (
            f"not settled: the load generator set the pace of {names}, more than {winner.mode}'s "
            f"{top:,.0f} req/s"
        )
    if unmeasured:
        names = ", ".join(p.mode for p in unmeasured)
        return (
            f"not settled: the load generator set the pace of {names}, and no native client measured "
            "how much more its server serves"
        )
    names = ", ".join(p.mode for p in bound)
    return (
        f"the load generator set the pace of {names}: those figures are lower bounds; the winner stands "
        f"(no native client drew more than {top:,.0f} req/s from the others), the places below it may not"
    )


def disagreement_caveat(ranking: list[Point]) -> str | None:
    """What figures on which the two clients disagree do to the ranking, in words; None when none does.

    Locust drew more than the reference generator from such a server: its figure depends on the
    client. When that is the winner's and another mode's figure lies above what the reference drew
    from the winner, the order depends on the client too: not settled.
    """
    disagreeing = [p for p in ranking if "clients-disagree" in p.codes]
    winner = ranking[0] if ranking else None
    if not disagreeing or winner is None:
        return None
    names = ", ".join(p.mode for p in disagreeing)
    drawn = winner.value("reference_rps")
    if winner in disagreeing and drawn is not None:
        ahead = [p for p in ranking[1:] if p.throughput is not None and p.throughput.median > drawn]
        if ahead:
            return (
                f"not settled: the clients disagree on {winner.mode} (a native client drew "
                f"{drawn:,.0f} req/s from it), less than {ahead[0].mode}'s "
                f"{ahead[0].throughput.median:,.0f} req/s"  # type: ignore[union-attr]
            )
    return f"the clients disagree on {names}: those figures depend on the client; the order stands on both"


@dataclass(frozen=True)
class ConcurrencyCheck:
    """A mode's effective concurrency on an ``io`` workload at its highest measured step."""

    workload: str
    mode: str
    point: Point
    claim: str
    #: The server's CPU budget in cores, against which its CPU use is judged.
    server_cpus: int = 1

    @property
    def users(self) -> int:
        """The step: users (closed loop), or requests per second offered (open loop)."""
        return self.point.users

    @property
    def effective(self) -> float | None:
        return self.point.value("effective_concurrency")

    @property
    def promised(self) -> int | None:
        promised = self.point.value("promised_concurrency")
        return None if promised is None else round(promised)

    @property
    def offered(self) -> int:
        """The most requests the load could have in flight: the users, in a closed loop; in an open
        loop, the offered rate x the time each request takes (Little's law, that time being the
        effective concurrency's own basis: effective / throughput)."""
        p = self.point
        offered, effective = p.value("offered_rps"), p.value("effective_concurrency")
        if offered is None:
            return self.users
        if effective and p.throughput and p.throughput.median > 0:
            return max(1, round(offered * effective / p.throughput.median))
        return self.users

    @property
    def load(self) -> str:
        """The load offered, in words: "64 users", or "40 requests in flight at 400 req/s"."""
        if self.point.value("offered_rps") is None:
            return f"{self.users} users"
        return f"{self.offered} requests in flight at {self.users:,} req/s"

    @property
    def expected(self) -> int:
        """What the claim predicts under this load: the promise, but never more than the load offers."""
        return self.offered if self.promised is None else min(self.promised, self.offered)

    @property
    def judgement(self) -> str:
        effective = self.effective
        if effective is None:
            return "not measured"
        if self.promised is not None and effective > self.promised * (1 + CLAIM_TOLERANCE):
            return "exceeds the claim"
        if effective >= self.expected * (1 - CLAIM_TOLERANCE):
            if self.promised is None:
                return f"holds: all {self.load} served at once, no limit reached"
            if self.promised > self.offered:
                offered = f"{self.load} offered" if self.point.value("offered_rps") is None else self.load
                return f"holds up to the {offered} (the claim of {self.promised} is untested)"
            return "holds"
        short = f"falls short: {effective:.1f} of the {self.expected} expected"
        gap = self.gap
        return f"{short}; {gap}" if gap else short

    @property
    def holds(self) -> bool:
        return self.judgement.startswith("holds")

    @property
    def gap(self) -> str | None:
        """Where the missing concurrency went: the measured wait per request, and its likely cause."""
        sleep_ms = _sleep_ms(self.workload)
        mean_ms = self.point.value("mean_ms")
        if sleep_ms is None or mean_ms is None:
            return None
        waited = f"each request took {mean_ms:,.0f} ms against the {sleep_ms:g} ms sleep"
        return f"{waited}; {self._cause()}"

    def _cause(self) -> str:
        point = self.point
        if "generator-bound" in point.codes or "loadgen-saturated" in point.codes:
            return "the load generator set the pace, not the server"
        cpu = point.value("server_cpu_pct")
        if cpu is not None and cpu >= SATURATED_CPU_SHARE * 100.0 * self.server_cpus:
            return f"the server's CPU was saturated ({cpu:.0f}%): the work around each sleep queued"
        try:
            spec = parse_spec(self.mode)
            mode = get_mode(spec.name)
        except SpecError:
            return "requests queued for a free worker or thread"
        if not mode.keeps_alive:
            return (
                "no keep-alive: every request opens a new connection, whose accept, set-up and close add "
                "to its time and queue in the listen backlog"
            )
        if spec.name == "gunicorn-gthread" and int(spec.as_dict().get("workers", "1")) > 1:
            return (
                "keep-alive connections stay with the worker that accepted them: one worker's threads can "
                "all be busy while another worker's idle"
            )
        return "requests queued for a free worker or thread"


def _claim(mode: str) -> str:
    try:
        return get_mode(parse_spec(mode).name).claim
    except SpecError:
        return "(a mode this version does not know)"


def concurrency_checks(results: Results) -> list[ConcurrencyCheck]:
    """For each ``io`` workload, each mode at the highest step it served."""
    checks: list[ConcurrencyCheck] = []
    for workload in results.workloads:
        if spec_name(workload) != "io":
            continue
        for mode in results.modes_of(workload):
            served = [p for p in results.series(workload, mode) if p.ok]
            if served:
                checks.append(
                    ConcurrencyCheck(workload, mode, served[-1], _claim(mode), results.run.server_cpus)
                )
    return checks
