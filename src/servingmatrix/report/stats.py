"""Figures with their doubts: the median of trials, their spread, and a 95% interval.

The central figure is the median of the trials (robust to one odd trial); the interval is the mean's
95% confidence interval from Student's t, which is honest about how little two or three trials say.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import mean, median, stdev

#: Student's t at 97.5% by degrees of freedom (two-sided 95%); between rows the smaller df's (wider) value.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
_T95_WIDE = ((10, 2.228), (15, 2.131), (20, 2.086), (30, 2.042), (60, 2.000))

#: pyperf's threshold: a standard deviation above 10% of the mean makes a figure doubtful.
HIGH_CV = 0.10


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with ``df`` degrees of freedom (rounded down: wider)."""
    if df < 1:
        raise ValueError("at least one degree of freedom is needed")
    if df in _T95:
        return _T95[df]
    value = _T95[9]
    for at_least, t in _T95_WIDE:
        if df >= at_least:
            value = t
    return value


@dataclass(frozen=True)
class Estimate:
    """One figure measured over one or more trials."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return median(self.values)

    @property
    def mean(self) -> float:
        return mean(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def stdev(self) -> float | None:
        return stdev(self.values) if self.n > 1 else None

    @property
    def sem(self) -> float | None:
        """Standard error of the mean; None for a single trial (no estimate of variance)."""
        sd = self.stdev
        return None if sd is None else sd / math.sqrt(self.n)

    @property
    def cv(self) -> float | None:
        """Coefficient of variation, stdev / mean; None for one trial or a zero mean."""
        sd = self.stdev
        return None if sd is None or self.mean == 0 else sd / abs(self.mean)

    @property
    def half_width(self) -> float | None:
        """Half the 95% interval of the mean."""
        sem = self.sem
        return None if sem is None else t95(self.n - 1) * sem

    @property
    def high_variance(self) -> bool:
        cv = self.cv
        return cv is not None and cv > HIGH_CV


def estimate(values: Iterable[float | None]) -> Estimate | None:
    """An estimate of the values present, or None when there are none."""
    kept = tuple(float(v) for v in values if v is not None)
    return Estimate(kept) if kept else None


@dataclass(frozen=True)
class Change:
    """A relative change between two estimates, with the half-width of its 95% interval when known."""

    relative: float
    uncertainty: float | None

    @property
    def low(self) -> float | None:
        return None if self.uncertainty is None else self.relative - self.uncertainty

    @property
    def high(self) -> float | None:
        return None if self.uncertainty is None else self.relative + self.uncertainty


def relative_change(base: Estimate, new: Estimate) -> Change | None:
    """``new`` against ``base`` as a fraction of ``base`` (0.05 is 5% more).

    The interval combines both sides' standard errors with the smaller side's degrees of freedom
    (a conservative stand-in for Welch's), scaled by the base; unknown when either side has one trial.
    """
    if base.median == 0:
        return None
    relative = new.median / base.median - 1.0
    if base.sem is None or new.sem is None:
        return Change(relative, None)
    df = min(base.n, new.n) - 1
    spread = t95(df) * math.hypot(base.sem, new.sem) / abs(base.median)
    return Change(relative, spread)
