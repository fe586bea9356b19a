"""A configuration's capacity within the objective: the highest arrival rate (open loop) it serves with
p99 within the objective and errors within the limit, found by bracketing.

From a first rate, the rate grows (x ``growth``) until a probe goes beyond the objective, or falls
(/ ``growth``) until one stays within it; the bracket [within, beyond) is then bisected until it is
no wider than ``precision`` of its lower end, and that lower end is confirmed by more trials at it
(``confirmations`` in all). A confirmation that fails makes its rate the bracket's new upper end, and
the search goes on below it. The capacity is the confirmed lower end, its interval the bracket.

A probe the load generator bounded is no evidence either way (its rate was not really offered): it is
recorded, and its rate becomes a ceiling the search stays below. When the bracket closes on that
ceiling rather than on a rate beyond the objective, or a confirmation is bounded, the configuration
stops there with the lower bound it has from probes the generator did not bound, and says so: a
generator-bound probe is never the reason a configuration wins. A caller's ``stop`` (the search's
pruner: a bracket whose upper end is already at or below the best capacity found cannot win) ends a
search early too, with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from servingmatrix.analysis.verdict import Objective
from servingmatrix.matrix_keys import MAX_ARRIVAL_RATE
from servingmatrix.modes import ModeConfig
from servingmatrix.tune.probe import Outcome, Prober, ProbeResult, judge_probe

#: How a configuration's search ended.
CapacityStatus = Literal["found", "pruned", "generator-bound", "none", "unbounded", "out-of-probes"]
CAPACITY_STATUSES: tuple[CapacityStatus, ...] = (
    "found",
    "pruned",
    "generator-bound",
    "none",
    "unbounded",
    "out-of-probes",
)

#: What the caller's ``stop`` is asked after each probe, with the bracket so far (lower, upper): a
#: reason to stop the configuration, or None.
Stop = Callable[[int | None, int | None], str | None]


@dataclass(frozen=True)
class BracketSettings:
    """How a capacity is bracketed."""

    #: The first rate offered to a configuration, when the search gives none (req/s).
    start_rps: int = 10
    #: How much the rate grows (or falls) from one probe to the next until the bracket is found.
    growth: float = 2.0
    #: The bracket is bisected until its width is at most this share of its lower end.
    precision: float = 0.10
    #: Trials at the final rate, the first included: each must be within the objective.
    confirmations: int = 3
    #: The most probes of one configuration.
    max_probes: int = 24
    #: The highest rate offered (the matrix's bound on an arrival rate).
    max_rps: int = MAX_ARRIVAL_RATE


@dataclass(frozen=True)
class ProbeRecord:
    """A probe in the search's history: what it measured and how it was judged."""

    result: ProbeResult
    outcome: Outcome
    why: str


@dataclass(frozen=True)
class ConfigurationCapacity:
    """A configuration's capacity within the objective, with its bracket and every probe behind it."""

    spec: str
    status: CapacityStatus
    #: The highest rate within the objective in every trial at it (req/s); None when none was.
    lower_rps: int | None
    #: The lowest rate beyond it (req/s); None when none was found (unbounded, generator-bound).
    upper_rps: int | None
    #: Why the search ended where it did, in words.
    note: str
    probes: tuple[ProbeRecord, ...] = field(default=())

    @property
    def trials_at_lower(self) -> int:
        """How many trials the lower end had (each within the objective)."""
        return sum(1 for p in self.probes if p.result.rate == self.lower_rps)

    @property
    def server_mem_mb(self) -> float | None:
        """The server's highest memory over the trials at the lower end."""
        found = [
            p.result.server_mem_mb
            for p in self.probes
            if p.result.rate == self.lower_rps and p.result.server_mem_mb is not None
        ]
        return max(found) if found else None


class _Stopped(Exception):
    def __init__(self, status: CapacityStatus, note: str) -> None:
        super().__init__(note)
        self.status: CapacityStatus = status
        self.note = note


class _Search:
    """One configuration's bracketing: its probes and the rates within and beyond so far."""

    def __init__(
        self,
        config: ModeConfig,
        prober: Prober,
        objective: Objective,
        settings: BracketSettings,
        stop: Stop | None,
    ) -> None:
        self.config = config
        self.prober = prober
        self.objective = objective
        self.settings = settings
        self.stop = stop
        self.probes: list[ProbeRecord] = []
        self.within: set[int] = set()
        self.beyond: set[int] = set()
        #: The lowest rate the load generator could not offer (None: none yet).
        self.ceiling: int | None = None

    @property
    def upper(self) -> int | None:
        return min(self.beyond) if self.beyond else None

    @property
    def lower(self) -> int | None:
        """The highest rate within the objective below the lowest beyond it (noise may put a rate
        within above one beyond: the bracket takes the lower evidence)."""
        upper = self.upper
        below = [r for r in self.within if upper is None or r < upper]
        return max(below) if below else None

    def trials_at(self, rate: int) -> int:
        return sum(1 for p in self.probes if p.result.rate == rate)

    def probe(self, rate: int, repeat: int = 1) -> Outcome:
        if len(self.probes) >= self.settings.max_probes:
            raise _Stopped("out-of-probes", f"stopped after {self.settings.max_probes} probes")
        result = self.prober.probe(self.config, rate, repeat)
        outcome, why = judge_probe(result, self.objective)
        self.probes.append(ProbeRecord(result, outcome, why))
        if outcome == "generator-bound":
            self.ceiling = rate if self.ceiling is None else min(self.ceiling, rate)
        elif outcome == "within":
            self.within.add(rate)
        else:
            self.beyond.add(rate)
            self.within.discard(rate)
        reason = self.stop(self.lower, self.upper) if self.stop is not None else None
        if reason is not None:
            raise _Stopped("pruned", reason)
        return outcome

    def generator_bound(self) -> _Stopped:
        lower = self.lower
        has = f"its lower bound is {lower} req/s" if lower is not None else "it has no lower bound"
        return _Stopped(
            "generator-bound",
            f"the load generator could not offer {self.ceiling} req/s; stopped below it, {has}",
        )

    def descend(self, rate: int) -> None:
        """Lower the rate from ``rate`` (beyond, or not offered) until a probe stays within the objective."""
        while self.lower is None:
            if rate <= 1:
                if not self.beyond:
                    raise self.generator_bound()
                raise _Stopped("none", "beyond the objective even at 1 req/s")
            rate = max(1, math.floor(rate / self.settings.growth))
            self.probe(rate)

    def close(self) -> None:
        """Grow the rate from the lower end until a probe goes beyond the objective, then halve the
        bracket until it is within the precision of its lower end; below the generator's ceiling."""
        while True:
            lower, upper = self.lower, self.upper
            assert lower is not None
            tops = [r for r in (upper, self.ceiling) if r is not None]
            if not tops:
                if lower >= self.settings.max_rps:
                    raise _Stopped(
                        "unbounded", f"within the objective at {lower} req/s, the most tune offers"
                    )
                grown = max(lower + 1, math.ceil(lower * self.settings.growth))
                self.probe(min(self.settings.max_rps, grown))
                continue
            top = min(tops)
            if top - lower <= max(1.0, self.settings.precision * lower):
                if top == upper:
                    return
                raise self.generator_bound()
            self.probe((lower + top) // 2)

    def confirm(self) -> bool:
        """More trials at the lower end; False when one went beyond the objective."""
        rate = self.lower
        assert rate is not None
        for repeat in range(self.trials_at(rate) + 1, self.settings.confirmations + 1):
            outcome = self.probe(rate, repeat)
            if outcome == "generator-bound":
                raise self.generator_bound()
            if outcome != "within":
                return False
        return True

    def run(self, start: int | None) -> ConfigurationCapacity:
        first = min(self.settings.max_rps, max(1, start or self.settings.start_rps))
        try:
            if self.probe(first) != "within":
                self.descend(first)
            while True:
                self.close()
                if self.confirm():
                    break
                if self.lower is None:
                    upper = self.upper
                    assert upper is not None
                    self.descend(upper)
        except _Stopped as stopped:
            return self.result(stopped.status, stopped.note)
        return self.result("found", self.found_note())

    def found_note(self) -> str:
        lower, upper = self.lower, self.upper
        return (
            f"within the objective at {lower} req/s in {self.trials_at(lower or 0)} trials, "
            f"beyond it at {upper} req/s"
        )

    def result(self, status: CapacityStatus, note: str) -> ConfigurationCapacity:
        return ConfigurationCapacity(
            self.config.spec, status, self.lower, self.upper, note, tuple(self.probes)
        )


def find_capacity(
    config: ModeConfig,
    prober: Prober,
    objective: Objective,
    settings: BracketSettings,
    *,
    start: int | None = None,
    stop: Stop | None = None,
) -> ConfigurationCapacity:
    """``config``'s capacity within ``objective``, from ``start`` req/s (or the settings' first rate);
    ``stop`` is asked after every probe whether to go on."""
    return _Search(config, prober, objective, settings, stop).run(start)
