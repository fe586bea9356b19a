"""The search space of a tune: each mode's tunables, within the bounds its registry entry derives from
the CPU and memory budget (``Tunable.bounds``), or given values.

The space is conditional: a configuration is a mode, then that mode's own tunables. It is written
define-by-run, as Optuna takes it (``suggest``): each tunable's parameter is named after its mode
(``gunicorn-gthread:threads``), so two modes' ``workers`` with different bounds never meet. A mode
named with some tunables (``gunicorn-gthread[threads=4]``) keeps those fixed and searches the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from servingmatrix.modes import BUNDLED_APP, AppTarget, Budget, Mode, ModeConfig, Tunable, get_mode
from servingmatrix.spec import parse_spec

#: The Optuna parameter naming the mode.
MODE_PARAM = "mode"


class Suggests(Protocol):
    """What ``suggest`` asks of an Optuna trial (``optuna.Trial`` is one)."""

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int: ...


@dataclass(frozen=True)
class Dimension:
    """One searched tunable: its bounds, or the values given."""

    tunable: Tunable
    least: int
    most: int
    #: Given values, searched as categories (``bench/tune.py``'s grid); None: the bounds.
    values: tuple[int, ...] | None = None

    @property
    def size(self) -> int:
        return len(self.values) if self.values is not None else self.most - self.least + 1


@dataclass(frozen=True)
class ModeSpace:
    """One mode's part of the space: its searched tunables, and those fixed by its spec."""

    mode: Mode
    dimensions: tuple[Dimension, ...]
    fixed: Mapping[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return math.prod(d.size for d in self.dimensions)

    def param(self, tunable: str) -> str:
        return f"{self.mode.name}:{tunable}"


@dataclass(frozen=True)
class SearchSpace:
    """Every mode searched, at one budget, serving one app."""

    modes: tuple[ModeSpace, ...]
    budget: Budget
    target: AppTarget = BUNDLED_APP

    @property
    def size(self) -> int:
        """How many configurations the space holds."""
        return sum(m.size for m in self.modes)

    def _mode(self, name: str) -> ModeSpace:
        return next(m for m in self.modes if m.mode.name == name)

    def suggest(self, trial: Suggests) -> ModeConfig:
        """The configuration ``trial`` picks: a mode, then its tunables (define-by-run)."""
        name = str(trial.suggest_categorical(MODE_PARAM, [m.mode.name for m in self.modes]))
        space = self._mode(name)
        values = {k: str(v) for k, v in space.fixed.items()}
        for d in space.dimensions:
            param = space.param(d.tunable.name)
            if d.values is not None:
                value = int(trial.suggest_categorical(param, list(d.values)))
            else:
                value = trial.suggest_int(param, d.least, d.most, log=d.tunable.search.log)
            values[d.tunable.name] = str(value)
        return space.mode.resolve(values, self.budget.cpus, self.target)

    def params(self, config: ModeConfig) -> dict[str, Any]:
        """The trial parameters that pick ``config`` (to enqueue it)."""
        space = self._mode(config.mode.name)
        searched = {space.param(d.tunable.name): config.values[d.tunable.name] for d in space.dimensions}
        return {MODE_PARAM: config.mode.name, **searched}

    def folk_default(self, mode: str) -> ModeConfig:
        """The mode at the registry's defaults for the budget's CPUs (its folk rule), the spec's fixed
        tunables aside: what one runs without tuning."""
        return get_mode(mode).resolve({}, self.budget.cpus, self.target)

    def holds(self, config: ModeConfig) -> bool:
        """Whether ``config`` is a point of the space."""
        spaces = [m for m in self.modes if m.mode.name == config.mode.name]
        if not spaces:
            return False
        space = spaces[0]
        if any(config.values[k] != v for k, v in space.fixed.items()):
            return False
        for d in space.dimensions:
            value = config.values[d.tunable.name]
            inside = value in d.values if d.values is not None else d.least <= value <= d.most
            if not inside:
                return False
        return True


def mode_space(spec: str, budget: Budget) -> ModeSpace:
    """A mode named as ``tune --modes`` takes it: its tunables given in the spec fixed (each checked as
    a spec's are), the others searched within their bounds at ``budget``."""
    parsed = parse_spec(spec)
    mode = get_mode(parsed.name)
    given = parsed.as_dict()
    # Resolving checks every given value (unknown tunable, out of range) in the registry's words.
    resolved = mode.resolve(given, budget.cpus)
    fixed = {k: resolved.values[k] for k in given}
    dimensions = tuple(Dimension(t, *t.bounds(budget)) for t in mode.tunables if t.name not in fixed)
    return ModeSpace(mode, dimensions, fixed)


def grid_space(
    grid: Mapping[str, Mapping[str, Sequence[int]]], budget: Budget, target: AppTarget = BUNDLED_APP
) -> SearchSpace:
    """A space of given values: ``{"gunicorn-sync": {"workers": [1, 2, 3]}}``; a tunable not named
    stays at its default."""
    modes = []
    for name, values in grid.items():
        mode = get_mode(name)
        known = {t.name: t for t in mode.tunables}
        dimensions = tuple(
            Dimension(known[k], min(v), max(v), tuple(sorted(set(v)))) for k, v in values.items()
        )
        defaults = mode.defaults(budget.cpus)
        fixed = {k: v for k, v in defaults.items() if k not in values}
        modes.append(ModeSpace(mode, dimensions, fixed))
    return SearchSpace(tuple(modes), budget, target)
