"""How precisely a figure's trials give its median, and when to stop adding trials.

The central figure of a cell is the median of its trials; its 95% interval is the percentile
bootstrap of the median, computed exactly rather than by resampling (``bootstrap_median_interval``):
with 2 to 5 trials it is exactly the lowest to the highest trial, above that it narrows. The
precision a figure reached is that interval's half-width as a share of the median. ``--trials auto``
measures at least ``MIN_AUTO_TRIALS`` trials of every cell and adds trials, round by round, to the
cells whose throughput has not reached the precision asked, up to the run's most trials.

The analysis (statistics, flags) and the runner (when to stop) both read it, so it sits below both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from statistics import median

#: The two-sided confidence of the bootstrap interval of the median.
CONFIDENCE = 0.95
#: Cumulative probabilities this close to a quantile's level count as reaching it (rounding).
_EPSILON = 1e-12
#: ``--trials auto`` measures at least this many trials of every cell: below three, the interval of
#: the median is the two trials themselves, and one odd trial decides it.
MIN_AUTO_TRIALS = 3


def _at_least(n: int, p: float, k: int) -> float:
    """P(Binomial(n, p) >= k)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return math.fsum(math.comb(n, r) * p**r * (1.0 - p) ** (n - r) for r in range(k, n + 1))


def bootstrap_median_distribution(values: Sequence[float]) -> list[tuple[float, float]]:
    """Every value the median of a bootstrap resample can take, with its probability, in order.

    A resample draws n of the n sorted values with replacement. With C_i the number of draws among
    the i smallest (Binomial(n, i/n)), the median of an odd n is at most x_i exactly when
    C_i >= (n + 1) / 2. For an even n = 2k the median is the mean of the k-th and (k+1)-th draws in
    order; their joint distribution follows from P(C_i >= k) and P(C_i = C_j = k), the chance that
    k draws fall among the i smallest and none between x_i and x_j. This is what infinitely many
    resamples would give, without their randomness.
    """
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return []
    probabilities: dict[float, float] = {}
    if n % 2:
        middle = n // 2 + 1
        below = 0.0
        for i in range(1, n + 1):
            cdf = _at_least(n, i / n, middle)
            probabilities[xs[i - 1]] = probabilities.get(xs[i - 1], 0.0) + cdf - below
            below = cdf
    else:
        k = n // 2
        low_at_most = [_at_least(n, i / n, k) for i in range(n + 1)]
        high_at_most = [_at_least(n, j / n, k + 1) for j in range(n + 1)]
        both_k = math.comb(n, k)

        def joint(i: int, j: int) -> float:
            """P(the k-th draw in order is among the i smallest and the (k+1)-th among the j smallest)."""
            if i == 0 or j == 0:
                return 0.0
            if j <= i:
                return high_at_most[j]
            return low_at_most[i] - both_k * (i / n) ** k * ((n - j) / n) ** (n - k)

        for i in range(1, n + 1):
            for j in range(i, n + 1):
                p = joint(i, j) - joint(i - 1, j) - joint(i, j - 1) + joint(i - 1, j - 1)
                if p > 0:
                    value = (xs[i - 1] + xs[j - 1]) / 2
                    probabilities[value] = probabilities.get(value, 0.0) + p
    return sorted(probabilities.items())


@lru_cache(maxsize=4096)
def _interval(values: tuple[float, ...], confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2
    low = high = None
    cumulative = 0.0
    for value, p in bootstrap_median_distribution(values):
        cumulative += p
        if low is None and cumulative >= tail - _EPSILON:
            low = value
        if high is None and cumulative >= 1.0 - tail - _EPSILON:
            high = value
    assert low is not None and high is not None
    return low, high


def bootstrap_median_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """The percentile bootstrap interval of the median: the 2.5th and 97.5th percentiles of the
    medians of resamples (drawn with replacement), here of their exact distribution. None for fewer
    than two values.

    With few trials it spans the trials themselves: with 2 to 5 trials it is exactly the lowest to
    the highest, and with three it holds the true median only about 75% of the time (1 - 2 x 0.5^3),
    whatever it is called. It describes the trials; more trials make it mean what it says.
    """
    if len(values) < 2:
        return None
    return _interval(tuple(float(v) for v in values), confidence)


def reached_precision(values: Sequence[float]) -> float | None:
    """The half-width of the median's 95% interval as a share of the median: 0.04 is "within ±4%".
    None when it says nothing: fewer than two values, or a median of zero or below."""
    interval = bootstrap_median_interval(values)
    if interval is None:
        return None
    centre = median(values)
    if centre <= 0:
        return None
    return (interval[1] - interval[0]) / 2 / centre


def precise_enough(values: Sequence[float], precision: float) -> bool:
    """The trials give the median within ``precision`` of itself."""
    reached = reached_precision(values)
    return reached is not None and reached <= precision


def steps_short_of_precision(
    values_by_step: Mapping[int, Iterable[float]],
    steps: Sequence[int],
    trials: int,
    precision: float,
    most: int,
) -> tuple[int, ...]:
    """The steps of ``steps`` that get one more trial of a mode on a workload.

    ``values_by_step`` holds each step's throughput over the ``trials`` measured so far (failed trials
    left out). Below ``MIN_AUTO_TRIALS`` every step; at ``most`` none; between, each step with at
    least one figure that is short of ``precision``. A step that never gave a figure (it failed every
    trial) is not waited for: more trials of a failure make no figure more precise. A step already
    within the precision is not measured again: its figures stay as they are.
    """
    if trials >= most:
        return ()
    if trials < MIN_AUTO_TRIALS:
        return tuple(steps)
    short = []
    for step in steps:
        kept = [float(v) for v in values_by_step.get(step, ())]
        if kept and not precise_enough(kept, precision):
            short.append(step)
    return tuple(short)
