"""Figures with their doubts: the median of trials, its bootstrap interval, the trials' spread,
outlier trials, and the knee of a load series.

The central figure is the median of the trials (robust to one odd trial). Its 95% interval is the
percentile bootstrap of the median, computed exactly rather than by resampling (see
``bootstrap_median_interval``). Outlier trials are found by median/MAD (Iglewicz and Hoaglin's
modified z-score), as hyperfine does; a high CV makes a figure noisy, as pyperf warns. The
thresholds of both are their flags' (``high-variance`` and ``outlier-trial`` in ``flags.py``).

Comparisons (the verdict's margin between two modes, ``compare`` between two runs) keep the t-based
interval of ``relative_change``: with two or three trials a side, the percentile bootstrap of a ratio
is no wider than the ratio of the extreme trials and would call a margin clear far too eagerly,
while Student's t with n - 1 degrees of freedom (4.3 at two) is honest about how little three
trials say.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import mean, median, stdev

from servingmatrix.flags import kind
from servingmatrix.precision import (
    bootstrap_median_interval,
)

#: Student's t at 97.5% by degrees of freedom (two-sided 95%); between rows the smaller df's (wider) value.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
_T95_WIDE = ((10, 2.228), (15, 2.131), (20, 2.086), (30, 2.042), (60, 2.000))

_OUTLIER = kind("outlier-trial")
#: A standard deviation above this share of the mean makes a figure noisy.
HIGH_CV = kind("high-variance").threshold("cv")
#: A modified z-score above this marks an outlier...
OUTLIER_Z = _OUTLIER.threshold("z")
#: ...and only if it is more than this share of the median away from it.
OUTLIER_MIN_SHARE = _OUTLIER.threshold("min_share")
#: 0.6745 x (x - median) / MAD is a z-score for normal data (MAD x 1.4826 estimates the sigma).
MAD_Z = 0.6745
#: When MAD is 0, the mean absolute deviation x 1.253314 estimates the sigma instead.
MEAN_AD_SIGMA = 1.253314
#: Outliers need this many trials.
MIN_TRIALS_FOR_OUTLIERS = _OUTLIER.threshold("min_trials")
#: The knee is the lowest step reaching this share of the series' highest throughput.
KNEE_SHARE = 0.90


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


def modified_z_scores(values: Sequence[float]) -> tuple[float, ...] | None:
    """Iglewicz and Hoaglin's modified z-score of each value: 0.6745 (x - median) / MAD.

    When MAD is 0 (half the values or more equal the median), the mean absolute deviation from the
    median scales instead, (x - median) / (1.253314 x mean AD), so a lone value that differs from a
    run of identical ones is judged by its distance rather than made infinitely odd; when every value
    equals the median, every score is 0. None for fewer than ``MIN_TRIALS_FOR_OUTLIERS`` values.
    """
    if len(values) < MIN_TRIALS_FOR_OUTLIERS:
        return None
    centre = median(values)
    deviations = [abs(v - centre) for v in values]
    mad = median(deviations)
    if mad > 0:
        return tuple(MAD_Z * (v - centre) / mad for v in values)
    mean_ad = mean(deviations)
    if mean_ad == 0:
        return tuple(0.0 for _ in values)
    return tuple((v - centre) / (MEAN_AD_SIGMA * mean_ad) for v in values)


def outlier_indices(values: Sequence[float]) -> tuple[int, ...]:
    """Positions of the values whose modified z-score is above ``OUTLIER_Z`` in size and which are more
    than ``OUTLIER_MIN_SHARE`` of the median away from it; none below ``MIN_TRIALS_FOR_OUTLIERS`` values."""
    scores = modified_z_scores(values)
    if scores is None:
        return ()
    floor = OUTLIER_MIN_SHARE * abs(median(values))
    return tuple(
        i for i, z in enumerate(scores) if abs(z) > OUTLIER_Z and abs(values[i] - median(values)) > floor
    )


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
        """Half the t-based 95% interval of the mean (comparisons use it; the figure shows the median's)."""
        sem = self.sem
        return None if sem is None else t95(self.n - 1) * sem

    @property
    def interval(self) -> tuple[float, float] | None:
        """The bootstrap 95% interval of the median; None for a single trial."""
        return bootstrap_median_interval(self.values)

    @property
    def ci_low(self) -> float | None:
        interval = self.interval
        return None if interval is None else interval[0]

    @property
    def ci_high(self) -> float | None:
        interval = self.interval
        return None if interval is None else interval[1]

    @property
    def noisy(self) -> bool:
        """The trials' CV is above ``HIGH_CV``."""
        cv = self.cv
        return cv is not None and cv > HIGH_CV

    @property
    def z_scores(self) -> tuple[float, ...] | None:
        return modified_z_scores(self.values)

    @property
    def outliers(self) -> tuple[int, ...]:
        """Positions (in ``values``) of the outlier trials by median/MAD."""
        return outlier_indices(self.values)


def estimate(values: Iterable[float | None]) -> Estimate | None:
    """An estimate of the values present, or None when there are none."""
    kept = tuple(float(v) for v in values if v is not None)
    return Estimate(kept) if kept else None


@dataclass(frozen=True)
class Knee:
    """Where a mode's throughput stops growing with the load: past it, more load only adds latency."""

    step: int
    throughput: float
    p99: float | None
    peak_step: int
    peak_throughput: float
    last_step: int
    last_p99: float | None

    @property
    def at_last_step(self) -> bool:
        """The knee is the last step served: the throughput may still grow with more load."""
        return self.step == self.last_step


def knee(series: Iterable[tuple[int, float | None, float | None]], share: float = KNEE_SHARE) -> Knee | None:
    """The knee of a series of (step, throughput, p99): the lowest step whose throughput reaches
    ``share`` (90%) of the series' highest. Steps without a throughput (failed) are skipped; None
    when no step has a positive one.
    """
    served: list[tuple[int, float, float | None]] = sorted(
        (step, tp, p99) for step, tp, p99 in series if tp is not None
    )
    if not served:
        return None
    peak_step, peak, _ = max(served, key=lambda s: s[1])
    if peak <= 0:
        return None
    last_step, _, last_p99 = served[-1]
    step, throughput, p99 = next(s for s in served if s[1] >= share * peak)
    return Knee(step, throughput, p99, peak_step, peak, last_step, last_p99)


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
