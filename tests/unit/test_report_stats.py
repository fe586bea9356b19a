"""Figures with their doubts: medians, spreads, intervals and relative changes."""

from __future__ import annotations

import pytest

from servingmatrix import fmt
from servingmatrix.analysis.stats import Estimate, estimate, relative_change, t95


def test_t95_is_students_t_and_rounds_towards_the_wider_value() -> None:
    assert t95(1) == pytest.approx(12.706)
    assert t95(4) == pytest.approx(2.776)
    assert t95(12) == t95(10) == pytest.approx(2.228)
    assert t95(1000) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        t95(0)


def test_one_trial_has_no_estimate_of_variance() -> None:
    single = Estimate((100.0,))
    assert single.median == 100.0
    assert single.stdev is None and single.cv is None and single.half_width is None
    assert not single.noisy and single.interval is None and single.outliers == ()
    assert fmt.spread(single) == "single trial, no estimate of variance"


def test_several_trials_give_median_spread_and_interval() -> None:
    est = Estimate((90.0, 100.0, 110.0))
    assert est.median == 100.0 and est.low == 90.0 and est.high == 110.0
    assert est.cv == pytest.approx(0.1)
    # 4.303 (t, 2 df) x 10 / sqrt(3)
    assert est.half_width == pytest.approx(4.303 * 10 / 3**0.5)
    assert not est.noisy  # exactly 10% is not above it
    assert Estimate((80.0, 120.0)).noisy
    # With three trials the bootstrap interval of the median is the lowest to the highest.
    assert (est.ci_low, est.ci_high) == (90.0, 110.0)
    assert fmt.spread(est) == "3 trials, 90 to 110 req/s, CV 10%; 95% interval of the median 90 to 110"


def test_estimate_skips_missing_values() -> None:
    assert estimate([None, None]) is None
    est = estimate([1.0, None, 3.0])
    assert est is not None and est.values == (1.0, 3.0)


def test_relative_change_with_and_without_an_interval() -> None:
    change = relative_change(Estimate((100.0,)), Estimate((90.0,)))
    assert change is not None
    assert change.relative == pytest.approx(-0.10)
    assert change.uncertainty is None and change.low is None
    assert fmt.change(change) == "-10.0%"
    paired = relative_change(Estimate((99.0, 101.0)), Estimate((89.0, 91.0)))
    assert paired is not None
    assert paired.relative == pytest.approx(-0.10)
    # t(1 df) x hypot(1, 1) / 100
    assert paired.uncertainty == pytest.approx(12.706 * 2**0.5 / 100)
    assert paired.low is not None and paired.high is not None and paired.low < paired.relative < paired.high
    assert relative_change(Estimate((0.0,)), Estimate((1.0,))) is None


def test_number_formats() -> None:
    assert fmt.rps(1234.4) == "1,234" and fmt.rps(9.87) == "9.9" and fmt.rps(None) == "—"
    assert fmt.ms(0.842) == "0.84" and fmt.ms(12.34) == "12.3" and fmt.ms(1234.0) == "1,234"
    assert fmt.pct(0.021, 1) == "2.1%" and fmt.signed_pct(0.05) == "+5.0%"
    assert fmt.mb(5.25) == "5.2 MB" and fmt.mb(136.0) == "136 MB"
