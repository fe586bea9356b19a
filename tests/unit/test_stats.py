"""The statistics on fixed data with known answers: the bootstrap interval of the median, outlier
trials by median/MAD, and the knee of a load series."""

from __future__ import annotations

import math
import random
from collections import Counter
from statistics import median

import pytest

from servingmatrix.analysis.stats import (
    Estimate,
    knee,
    modified_z_scores,
    outlier_indices,
    relative_change,
    t95,
)
from servingmatrix.flags import kind
from servingmatrix.precision import _at_least, bootstrap_median_distribution, bootstrap_median_interval

OUTLIER = kind("outlier-trial")
#: A relative step past a threshold: far above a float's rounding, far below any change of a threshold.
HAIR = 1e-6
SEED = 20_240_601
RESAMPLES = 10_000


def resampled(values: list[float], seed: int = SEED) -> list[float]:
    """The medians of 10,000 resamples drawn with a fixed seed: the bootstrap done the usual way."""
    rng = random.Random(seed)
    return sorted(median(rng.choices(values, k=len(values))) for _ in range(RESAMPLES))


def test_the_bootstrap_distribution_of_two_and_three_values() -> None:
    # Two values: aa, ab, ba, bb; the median of ab is their mean.
    assert bootstrap_median_distribution([2.0, 1.0]) == [(1.0, 0.25), (1.5, 0.5), (2.0, 0.25)]
    # Three values: the median is the smallest when two or three draws are the smallest, 7 in 27.
    values, probabilities = zip(*bootstrap_median_distribution([30.0, 10.0, 20.0]), strict=True)
    assert values == (10.0, 20.0, 30.0)
    assert probabilities == pytest.approx((7 / 27, 13 / 27, 7 / 27))
    assert bootstrap_median_distribution([5.0, 5.0, 5.0]) == [(5.0, 1.0)]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (2, (10.0, 20.0)),
        (3, (10.0, 30.0)),
        (4, (10.0, 40.0)),
        (5, (10.0, 50.0)),
        (6, (15.0, 55.0)),
        (7, (20.0, 60.0)),
        (9, (20.0, 80.0)),
        (12, (35.0, 95.0)),
    ],
)
def test_the_interval_of_the_median_spans_the_trials_until_there_are_six(
    n: int, expected: tuple[float, float]
) -> None:
    values = [10.0 * i for i in range(1, n + 1)]
    assert bootstrap_median_interval(values) == expected
    # The same interval as 10,000 seeded resamples give, read at their 2.5th and 97.5th percentiles.
    medians = resampled(values)
    assert (medians[math.ceil(0.025 * RESAMPLES) - 1], medians[math.ceil(0.975 * RESAMPLES) - 1]) == expected


@pytest.mark.parametrize(
    "values",
    [[1.0, 2.0, 4.0, 8.0], [3.0, 3.0, 7.0, 9.0, 9.0, 12.0], [5.0, 1.0, 4.0, 4.0, 2.0], [1.0, 2.0, 3.0]],
)
def test_the_exact_distribution_agrees_with_seeded_resampling(values: list[float]) -> None:
    exact = dict(bootstrap_median_distribution(values))
    assert sum(exact.values()) == pytest.approx(1.0)
    counts = Counter(resampled(values))
    assert set(counts) <= set(exact)
    for value, p in exact.items():
        assert counts[value] / RESAMPLES == pytest.approx(p, abs=0.015), value


def test_the_interval_needs_two_trials_and_ignores_their_order() -> None:
    assert bootstrap_median_interval([100.0]) is None
    assert bootstrap_median_interval([]) is None
    assert bootstrap_median_interval([3.0, 1.0, 2.0]) == bootstrap_median_interval([1.0, 2.0, 3.0])
    assert bootstrap_median_interval([7.0, 7.0, 7.0]) == (7.0, 7.0)
    est = Estimate((1000.0, 1200.0, 900.0))
    assert (est.ci_low, est.ci_high) == (900.0, 1200.0)
    assert Estimate((1000.0,)).ci_low is None and Estimate((1000.0,)).ci_high is None


def test_modified_z_scores_by_median_and_mad() -> None:
    # median 102, deviations 2, 0, 28: MAD 2, so 130 scores 0.6745 x 28 / 2.
    scores = modified_z_scores([100.0, 102.0, 130.0])
    assert scores == pytest.approx((-0.6745, 0.0, 0.6745 * 14))
    assert outlier_indices([100.0, 102.0, 130.0]) == (2,)
    assert outlier_indices([100.0, 110.0, 120.0]) == ()
    # A low outlier counts as much as a high one.
    assert outlier_indices([1000.0, 990.0, 1010.0, 1005.0, 400.0]) == (4,)


def test_outliers_need_three_trials() -> None:
    assert modified_z_scores([100.0, 300.0]) is None
    assert outlier_indices([100.0, 300.0]) == ()
    assert Estimate((100.0, 300.0)).outliers == ()


def test_when_mad_is_zero_the_mean_absolute_deviation_scales_instead() -> None:
    # Two equal trials and a third: MAD is 0; mean AD 10, so 30 / (1.253314 x 10) = 2.39, not an outlier.
    scores = modified_z_scores([100.0, 100.0, 130.0])
    assert scores == pytest.approx((0.0, 0.0, 30 / (1.253314 * 10)))
    assert outlier_indices([100.0, 100.0, 130.0]) == ()
    # Four equal trials and a fifth: mean AD 6, so 30 / (1.253314 x 6) = 3.99, an outlier.
    assert outlier_indices([100.0, 100.0, 100.0, 100.0, 130.0]) == (4,)
    # Every trial the same: nothing is odd.
    assert modified_z_scores([50.0, 50.0, 50.0]) == (0.0, 0.0, 0.0)
    assert outlier_indices([50.0, 50.0, 50.0]) == ()


def test_the_knee_is_the_first_step_at_ninety_percent_of_the_peak() -> None:
    found = knee([(1, 100.0, 5.0), (8, 700.0, 10.0), (64, 760.0, 80.0)])
    assert found is not None
    assert (found.step, found.throughput, found.p99) == (8, 700.0, 10.0)
    assert (found.peak_step, found.peak_throughput) == (64, 760.0)
    assert (found.last_step, found.last_p99) == (64, 80.0)
    assert not found.at_last_step
    # 90% of the peak is enough (the threshold is inclusive); the order of the series does not matter.
    exact = knee([(8, 100.0, None), (1, 90.0, None)])
    assert exact is not None and exact.step == 1


def test_a_knee_at_the_last_step_may_still_rise() -> None:
    found = knee([(1, 100.0, 5.0), (8, 400.0, 6.0), (64, 800.0, 9.0)])
    assert found is not None and found.step == 64 and found.at_last_step


def test_the_knee_skips_failed_steps_and_needs_a_positive_throughput() -> None:
    found = knee([(1, None, None), (8, 500.0, 20.0), (64, 480.0, 300.0)])
    assert found is not None and found.step == 8 and found.peak_step == 8 and found.last_step == 64
    assert knee([(1, None, None)]) is None
    assert knee([]) is None
    assert knee([(1, 0.0, None), (8, 0.0, None)]) is None
    # A throughput that falls past its peak: the knee is still the first step near the peak.
    falling = knee([(1, 200.0, 5.0), (8, 1000.0, 9.0), (64, 600.0, 900.0)])
    assert falling is not None and falling.step == 8 and not falling.at_last_step


def test_a_difference_within_two_percent_of_the_median_is_never_an_outlier() -> None:
    # Very consistent trials: 1003 scores 0.6745 x 3 / 0.1 = 20, but it is 0.3% away from the median.
    assert outlier_indices([1000.0, 1000.1, 999.9, 1000.0, 1003.0]) == ()
    # The same shape 5% away is one.
    assert outlier_indices([1000.0, 1000.1, 999.9, 1000.0, 1050.0]) == (4,)


def test_the_binomial_tail_at_its_ends() -> None:
    # Exactly 1 and 0, not a sum of probabilities that rounds near them.
    assert _at_least(5, 0.3, 0) == 1.0
    assert _at_least(5, 0.3, -1) == 1.0
    assert _at_least(5, 0.3, 6) == 0.0
    assert _at_least(2, 0.5, 2) == 0.25


def test_the_distribution_of_no_values_and_of_one() -> None:
    assert bootstrap_median_distribution([]) == []
    assert bootstrap_median_distribution([7.0]) == [(7.0, 1.0)]
    four = bootstrap_median_distribution([4.0, 1.0, 3.0, 2.0])
    assert [value for value, _ in four] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    assert all(p > 0 for _, p in four) and math.isclose(sum(p for _, p in four), 1.0)


def test_a_value_exactly_two_percent_from_the_median_is_not_an_outlier() -> None:
    assert outlier_indices([100.0] * 5 + [102.0]) == ()
    assert outlier_indices([100.0] * 5 + [102.5]) == (5,)


def test_student_t_needs_a_degree_of_freedom_and_widens_below_each_row() -> None:
    with pytest.raises(ValueError, match=r"^at least one degree of freedom is needed$"):
        t95(0)
    assert (t95(1), t95(9), t95(10), t95(14), t95(15), t95(59), t95(60), t95(1000)) == (
        12.706,
        2.262,
        2.228,
        2.228,
        2.131,
        2.042,
        2.0,
        2.0,
    )


def test_a_change_against_a_single_trial_has_no_interval() -> None:
    three, one = Estimate((100.0, 110.0, 90.0)), Estimate((120.0,))
    for base, new in ((three, one), (one, three)):
        change = relative_change(base, new)
        assert change is not None and change.uncertainty is None and change.low is None
    both = relative_change(three, three)
    assert both is not None and both.relative == 0.0 and both.uncertainty is not None


def test_a_modified_z_score_of_exactly_three_and_a_half_is_not_an_outlier() -> None:
    at = [-0.6745, 0.0, 0.0, 0.6745, 3.5]
    assert modified_z_scores(at) == (-0.6745, 0.0, 0.0, 0.6745, 3.5)
    assert outlier_indices(at) == ()
    assert outlier_indices([*at[:4], 3.6]) == (4,)


# Each rule just inside and just outside its threshold, the threshold read from its flag's declaration.


def test_a_cv_a_hair_above_the_threshold_is_noisy_and_a_hair_below_it_is_not() -> None:
    cv = kind("high-variance").threshold("cv")

    def two_trials(target: float) -> Estimate:
        # 100 - d and 100 + d: a mean of 100 and a standard deviation of d x sqrt(2).
        d = 100.0 * target / math.sqrt(2)
        return Estimate((100.0 - d, 100.0 + d))

    assert two_trials(cv * (1 + HAIR)).noisy
    assert not two_trials(cv * (1 - HAIR)).noisy


def test_a_modified_z_score_a_hair_above_the_threshold_is_an_outlier_and_a_hair_below_it_is_not() -> None:
    z = OUTLIER.threshold("z")
    # A median of 0 and a MAD of 0.6745: each value is its own modified z-score.
    spread = [-0.6745, 0.0, 0.0, 0.6745]
    assert outlier_indices([*spread, z * (1 + HAIR)]) == (4,)
    assert outlier_indices([*spread, z * (1 - HAIR)]) == ()


def test_a_trial_a_hair_beyond_the_share_of_the_median_is_an_outlier_and_a_hair_within_it_is_not() -> None:
    share = OUTLIER.threshold("min_share")
    # Twenty equal trials and one apart: its modified z-score, 21 / 1.253314, is far above the threshold.
    same = [100.0] * 20
    assert OUTLIER.threshold("z") < 21 / 1.253314
    assert outlier_indices([*same, 100.0 * (1 + share * (1 + HAIR))]) == (20,)
    assert outlier_indices([*same, 100.0 * (1 + share * (1 - HAIR))]) == ()


def test_outliers_start_at_the_least_number_of_trials() -> None:
    least = int(OUTLIER.threshold("min_trials"))
    assert modified_z_scores([100.0] * least) is not None
    assert modified_z_scores([100.0] * (least - 1)) is None
