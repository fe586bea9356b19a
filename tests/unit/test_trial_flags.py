"""The flags judged over a figure's trials (noisy, outlier trial, failed trials), each at its
threshold, through the point the report reads: the thresholds are their flags' declarations."""

from __future__ import annotations

from servingmatrix.analysis.points import Point, make_point
from servingmatrix.flags import kind
from servingmatrix.results.cell import CellRecord

from .boundaries import HAIR, exactly

CV = kind("high-variance").threshold("cv")
OUTLIER = kind("outlier-trial")


def point(*throughputs: float | None) -> Point:
    """A point of one trial per throughput; None is a failed trial."""
    cells = tuple(
        CellRecord("m", "json", 8, trial, "ok", throughput_rps=rps)
        if rps is not None
        else CellRecord("m", "json", 8, trial, "failed", "the server died")
        for trial, rps in enumerate(throughputs, start=1)
    )
    return make_point(cells)


def _cv(figure: Point) -> float | None:
    return figure.throughput.cv if figure.throughput is not None else None


def spread_by(cv: float) -> tuple[float, float, float]:
    """Three trials 100 - d, 100, 100 + d: a mean of 100 and a standard deviation of d."""
    d = 100.0 * cv
    return (100.0 - d, 100.0, 100.0 + d)


def test_trials_whose_cv_is_exactly_the_threshold_are_not_noisy_and_a_hair_above_it_are() -> None:
    at = exactly(lambda cv: _cv(point(*spread_by(cv))), CV, CV)
    steady = point(*spread_by(at))
    assert steady.throughput is not None and steady.throughput.cv == CV
    assert steady.codes == frozenset()
    noisy = point(*spread_by(at * (1 + HAIR)))
    assert noisy.codes == {"high-variance"}
    (flag,) = noisy.flags
    assert flag.message.startswith(f"throughput varies by {CV:.0%} (CV) over 3 trials")


def test_a_trial_exactly_the_share_of_the_median_away_is_not_an_outlier_and_a_hair_farther_is() -> None:
    share = OUTLIER.threshold("min_share")
    same = [100.0] * 20
    at = exactly(lambda x: x - 100.0, share * 100.0, 100.0 * (1 + share))
    assert "outlier-trial" not in point(*same, at).codes
    odd = point(*same, at * (1 + HAIR))
    assert "outlier-trial" in odd.codes
    (flag,) = [f for f in odd.flags if f.code == "outlier-trial"]
    assert flag.message.startswith("trial 21 at 102 req/s (modified z-score")


def test_a_modified_z_score_a_hair_under_the_threshold_is_not_an_outlier_trial_and_a_hair_above_is() -> None:
    # (The score exactly at the threshold is judged in test_stats, where it can be built exactly.)
    z = OUTLIER.threshold("z")
    # Median 1,000 and MAD 10: a trial's modified z-score is 0.06745 x its distance from 1,000.
    spread = [990.0, 1000.0, 1000.0, 1010.0]
    distance = 10.0 * z / 0.6745
    under = point(*spread, 1000.0 + distance * (1 - HAIR))
    assert under.throughput is not None and under.throughput.z_scores is not None
    assert under.throughput.z_scores[-1] < z and under.codes == frozenset()
    over = point(*spread, 1000.0 + distance * (1 + HAIR))
    assert over.codes == {"outlier-trial"}


def test_outliers_are_judged_from_the_least_number_of_trials_and_not_below() -> None:
    least = int(OUTLIER.threshold("min_trials"))
    # 99, then 100s, then 200: a MAD of 1 makes 200 a modified z-score of 67, as odd as a trial gets.
    trials = [99.0, *([100.0] * (least - 2)), 200.0]
    enough = point(*trials)
    assert len(trials) == least and enough.codes == {"outlier-trial", "high-variance"}
    too_few = point(*trials[1:])
    assert "outlier-trial" not in too_few.codes


def test_a_figure_with_a_failed_trial_says_so_and_one_without_does_not() -> None:
    some = point(100.0, None, 100.0)
    assert some.codes == {"failed-trials"}
    assert [f.message for f in some.flags] == ["1 of 3 trials failed"]
    assert point(100.0, 100.0, 100.0).codes == frozenset()
    # Every trial failed: there is no figure to carry the flag.
    none_left = point(None, None)
    assert none_left.throughput is None and none_left.codes == frozenset()
