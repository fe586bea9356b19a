"""The answer of a tune: the configurations ranked by capacity, the set the best cannot be told apart
from, the recommendation (the cheapest of that set), and the folk default of the same server.

A capacity is its bracket: at least ``lower`` req/s (confirmed), less than ``upper``. Another
configuration cannot be told apart from the best when its bracket reaches past the best's lower end
(``upper > best.lower``), or when its own lower end is as high. A configuration stopped by the load
generator has no upper end: only its lower end (evidence the generator did not bound) counts, so a
generator-bound probe never puts it in the set. The cheapest is the one with the fewest processes,
then the least memory measured at its capacity, then the fewest threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from servingmatrix.modes import ModeConfig
from servingmatrix.tune.bracket import ConfigurationCapacity

#: Statuses whose lower end is a capacity in the ranking (a pruned configuration's is not confirmed).
RANKED = ("found", "unbounded", "generator-bound", "out-of-probes")


@dataclass(frozen=True)
class Answer:
    """What a tune found."""

    #: Every configuration with a capacity, highest lower end first.
    ranking: tuple[ConfigurationCapacity, ...]
    #: The configurations the best cannot be told apart from, the best first.
    contenders: tuple[ConfigurationCapacity, ...]
    recommendation: ConfigurationCapacity | None
    #: The recommended server's folk default at the same budget, as measured (None: not measured).
    folk_default: ConfigurationCapacity | None

    @property
    def best(self) -> ConfigurationCapacity | None:
        return self.ranking[0] if self.ranking else None


def ranking(capacities: Sequence[ConfigurationCapacity]) -> tuple[ConfigurationCapacity, ...]:
    """The configurations with a capacity, highest lower end first (then the narrower bracket)."""
    ranked = [c for c in capacities if c.status in RANKED and c.lower_rps is not None]
    return tuple(
        sorted(ranked, key=lambda c: (-(c.lower_rps or 0), c.upper_rps is None, c.upper_rps or 0, c.spec))
    )


def indistinguishable(candidate: ConfigurationCapacity, best: ConfigurationCapacity) -> bool:
    """Whether ``candidate``'s bracket cannot be told from ``best``'s."""
    if candidate.lower_rps is None or best.lower_rps is None:
        return False
    if candidate.lower_rps >= best.lower_rps:
        return True
    return candidate.upper_rps is not None and candidate.upper_rps > best.lower_rps


def cost(config: ModeConfig, capacity: ConfigurationCapacity) -> tuple[int, float, int]:
    """What a configuration costs, compared in order: processes, memory (MiB), threads."""
    memory = capacity.server_mem_mb
    return (
        config.counted("processes"),
        memory if memory is not None else float("inf"),
        config.counted("threads"),
    )


def answer(
    capacities: Sequence[ConfigurationCapacity],
    config_of: Callable[[str], ModeConfig],
    folk_default_of: Callable[[str], str],
    folk_defaults: Sequence[ConfigurationCapacity] = (),
) -> Answer:
    """Rank ``capacities`` (the search's); ``config_of`` gives a spec's configuration,
    ``folk_default_of`` a mode's folk default spec at the same budget, found among the capacities or
    ``folk_defaults`` (measured apart, outside the space: beside the ranking, never in it)."""
    ranked = ranking(capacities)
    if not ranked:
        return Answer((), (), None, None)
    best = ranked[0]
    contenders = tuple(c for c in ranked if indistinguishable(c, best))
    recommended = min(contenders, key=lambda c: (cost(config_of(c.spec), c), ranked.index(c)))
    folk = folk_default_of(config_of(recommended.spec).mode.name)
    # Measured in full after the search when it had been pruned: the last measurement with a capacity.
    measured = [c for c in [*capacities, *folk_defaults] if c.spec == folk]
    default = next((c for c in reversed(measured) if c.status in RANKED), measured[-1] if measured else None)
    return Answer(ranked, contenders, recommended, default)
