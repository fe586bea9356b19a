"""``--trials auto``: the stopping rule from the median's interval, the rounds' shuffled order from a
recorded seed, and the runner adding rounds only for the sessions short of the precision."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.rows import rows as export_rows
from servingmatrix.errors import UserError
from servingmatrix.flags import kind
from servingmatrix.matrix import Matrix, load_matrix
from servingmatrix.precision import (
    MIN_AUTO_TRIALS,
    precise_enough,
    reached_precision,
    steps_short_of_precision,
)
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import load_run
from servingmatrix.run import runner as runner_module
from servingmatrix.run.session import plan_round, plan_sessions

from .fakes import FakeDocker
from .synthetic_runs import SYNC, cell, write_run
from .test_runner import MATRIX, runner

AUTO = replace(MATRIX, trials="auto", precision=0.05, max_trials=5)


def wants_another_trial(
    values_by_step: Mapping[int, Iterable[float]], trials: int, precision: float, most: int
) -> bool:
    """Whether some step of a mode on a workload gets one more trial."""
    return bool(steps_short_of_precision(values_by_step, tuple(values_by_step), trials, precision, most))


def test_the_precision_reached_is_the_interval_s_half_width_over_the_median() -> None:
    # Two to five trials: the interval is the lowest to the highest trial.
    assert reached_precision([90.0, 100.0, 110.0]) == pytest.approx(0.10)
    assert reached_precision([100.0, 100.0, 100.0]) == 0.0
    assert reached_precision([100.0]) is None
    assert reached_precision([]) is None
    assert reached_precision([0.0, 0.0, 0.0]) is None


def test_a_figure_is_precise_enough_at_the_precision_and_not_just_past_it() -> None:
    assert precise_enough([95.0, 100.0, 105.0], 0.05)
    assert not precise_enough([94.9, 100.0, 105.0], 0.05)
    assert not precise_enough([100.0], 0.5)


def _steps(*values: Iterable[float]) -> Mapping[int, Iterable[float]]:
    return {i: list(v) for i, v in enumerate(values)}


def test_another_trial_below_the_least_whatever_the_figures() -> None:
    precise = _steps([100.0] * (MIN_AUTO_TRIALS - 1))
    assert wants_another_trial(precise, MIN_AUTO_TRIALS - 1, 0.05, 7)
    assert not wants_another_trial(precise, MIN_AUTO_TRIALS - 1, 0.05, MIN_AUTO_TRIALS - 1)


def test_another_trial_while_a_step_is_short_of_the_precision_until_the_most() -> None:
    steps = _steps([100.0, 100.0, 100.0], [90.0, 100.0, 111.0])
    assert wants_another_trial(steps, 3, 0.05, 7)
    assert wants_another_trial(steps, 6, 0.05, 7)
    assert not wants_another_trial(steps, 7, 0.05, 7)
    assert not wants_another_trial(_steps([95.0, 100.0, 105.0], [100.0, 100.0, 100.0]), 3, 0.05, 7)


def test_a_step_that_never_gave_a_figure_is_not_waited_for() -> None:
    assert not wants_another_trial(_steps([100.0, 100.0, 100.0], []), 3, 0.05, 7)
    # One figure of three is not an interval: the step is short.
    assert wants_another_trial(_steps([100.0, 100.0, 100.0], [50.0]), 3, 0.05, 7)


def test_the_round_order_is_shuffled_from_the_seed_and_replays() -> None:
    matrix = replace(MATRIX, modes=("gunicorn-sync", "waitress", "gunicorn-gthread", "werkzeug-threaded"))
    registry = [s.mode.spec for s in plan_round(matrix, 1)]
    orders = {
        tuple(s.mode.spec for s in plan_round(matrix, trial, seed)) for seed in range(20) for trial in (1, 2)
    }
    assert len(orders) > 1 and all(sorted(o) == sorted(registry) for o in orders)
    assert plan_round(matrix, 2, 7) == plan_round(matrix, 2, 7)
    assert [s.trial for s in plan_sessions(matrix, 7)] == [1] * 4 + [2] * 4


def test_a_round_can_hold_only_the_sessions_short_of_the_precision_and_only_their_short_steps() -> None:
    matrix = replace(MATRIX, users=(1, 8, 64))
    only = {("waitress[threads=4]", "json"): (64,), ("gunicorn-sync[workers=2]", "json"): (1, 8)}
    planned = plan_round(matrix, 4, None, only)
    assert [(s.mode.spec, s.trial, [x.amount for x in s.loads]) for s in planned] == [
        ("gunicorn-sync[workers=2]", 4, [1, 8]),
        ("waitress[threads=4]", 4, [64]),
    ]
    # A session with no step to measure is not planned.
    assert plan_round(matrix, 4, None, {("waitress[threads=4]", "json"): ()}) == []


def test_only_the_steps_short_of_the_precision_get_another_trial() -> None:
    values = {8: [100.0, 100.0, 100.0], 64: [90.0, 100.0, 111.0], 128: []}
    assert steps_short_of_precision(values, (8, 64, 128), 3, 0.05, 7) == (64,)
    assert steps_short_of_precision(values, (8, 64, 128), MIN_AUTO_TRIALS - 1, 0.05, 7) == (8, 64, 128)
    assert steps_short_of_precision(values, (8, 64, 128), 7, 0.05, 7) == ()


def test_auto_plans_the_least_trials_first() -> None:
    assert AUTO.first_trials == MIN_AUTO_TRIALS
    assert {s.trial for s in plan_sessions(AUTO, 1)} == set(range(1, MIN_AUTO_TRIALS + 1))


def test_trials_auto_precision_and_most_trials_are_read_and_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text("modes: [waitress]\nworkloads: [json]\ntrials: auto\nprecision: 2.5%\nmax_trials: 9\n")
    matrix = load_matrix(path)
    assert (matrix.trials, matrix.precision, matrix.max_trials, matrix.auto_trials) == (
        "auto",
        0.025,
        9,
        True,
    )
    for line, says in (
        ("precision: 60%", "precision: '60%' is out of range (allowed: 0.1% to 50%, e.g. 5%)"),
        ("precision: lots", "precision: 'lots' is not a percentage (allowed: 0.1% to 50%, e.g. 5%)"),
        ("max_trials: 2", "max_trials: 2 is out of range (allowed: 3..100)"),
        ("trials: sometimes", "trials: 'sometimes' is not a number of trials (allowed: 1..100, or auto)"),
    ):
        path.write_text(f"modes: [waitress]\nworkloads: [json]\n{line}\n")
        with pytest.raises(UserError) as caught:
            load_matrix(path)
        assert str(caught.value) == f"{path}: {says}"


def _trials(tmp_path: Path) -> dict[str, list[int]]:
    by_mode: dict[str, set[int]] = {}
    for record in RunFolder(tmp_path / "run").read_cells():
        by_mode.setdefault(record.mode, set()).add(record.trial)
    return {mode: sorted(trials) for mode, trials in by_mode.items()}


def test_steady_figures_stop_at_the_least_trials(tmp_path: Path) -> None:
    """The recording gives every trial the same figures: three trials are within any precision."""
    runner(tmp_path, FakeDocker(), AUTO).run()
    assert _trials(tmp_path) == {m: [1, 2, 3] for m in ("gunicorn-sync[workers=2]", "waitress[threads=4]")}


def test_only_the_steps_short_of_the_precision_get_more_trials_up_to_the_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[tuple[int, ...], int, float, int]] = []
    # The runner asks session by session in the matrix's order, gunicorn-sync then waitress, each round.
    asking = iter(["gunicorn-sync", "waitress"] * 10)

    def rule(
        values: Mapping[int, Iterable[float]], steps: tuple[int, ...], trials: int, precision: float, m: int
    ) -> tuple[int, ...]:
        asked.append((steps, trials, precision, m))
        return (4,) if next(asking) == "waitress" and len(values) == 2 and trials < m else ()

    monkeypatch.setattr(runner_module, "steps_short_of_precision", rule)
    lines: list[str] = []
    measured = runner(tmp_path, FakeDocker(), AUTO)
    measured.say = lines.append
    measured.run()
    assert _trials(tmp_path) == {
        "gunicorn-sync[workers=2]": [1, 2, 3],
        "waitress[threads=4]": [1, 2, 3, 4, 5],
    }
    measured_steps = {(r.mode, r.users, r.trial) for r in RunFolder(tmp_path / "run").read_cells()}
    # The further trials measure the short step alone.
    assert {(u, t) for m, u, t in measured_steps if m == "waitress[threads=4]" and t > 3} == {(4, 4), (4, 5)}
    assert {(s, p, m) for s, _, p, m in asked} == {((1, 4), 0.05, 5)}
    assert sorted({t for _, t, _, _ in asked}) == [3, 4]


def test_the_seed_is_recorded_and_a_resume_goes_on_with_it(tmp_path: Path) -> None:
    runner(tmp_path, FakeDocker(), AUTO, order_seed=1234).run()
    assert RunFolder(tmp_path / "run").read_run().trial_order_seed == 1234
    resumed = runner(tmp_path, FakeDocker(), AUTO)
    resumed.run()
    assert resumed.order_seed == 1234
    fresh = runner(tmp_path / "other", FakeDocker(), AUTO)
    fresh.run()
    seed = RunFolder(tmp_path / "other" / "run").read_run().trial_order_seed
    assert isinstance(seed, int) and fresh.order_seed == seed


def test_a_fixed_number_of_trials_never_adds_a_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "steps_short_of_precision", lambda *a: (1, 4))
    runner(tmp_path, FakeDocker(), MATRIX).run()
    assert _trials(tmp_path) == {m: [1, 2] for m in ("gunicorn-sync[workers=2]", "waitress[threads=4]")}


def test_the_matrix_s_sentence_says_the_trials_it_may_take(tmp_path: Path) -> None:
    from servingmatrix.run.measure_matrix import describe

    assert "3 to 5 trials (until ±5.0%)" in describe(AUTO, tmp_path)
    assert "x 2 trials," in describe(MATRIX, tmp_path)


def test_an_auto_matrix_is_a_matrix() -> None:
    assert isinstance(AUTO.check("test"), Matrix)


def _auto_run(tmp_path: Path, spread: float) -> Results:
    """A ``--trials auto`` run of one figure over three trials, ``spread`` apart around 100 req/s."""
    cells = {(SYNC, "json", 1, t): cell(100.0 + d * spread) for t, d in ((1, -1), (2, 0), (3, 1))}
    root = write_run(tmp_path / f"run-{spread}", cells, [1], trials=3)
    meta = RunFolder(root).run_file
    data = json.loads(meta.read_text())
    data["matrix"] |= {"trials": "auto", "precision": 0.05, "max_trials": 3}
    meta.write_text(json.dumps(data))
    return aggregate(load_run(root))


def test_a_figure_short_of_the_precision_asked_is_flagged_p_and_one_within_it_is_not(tmp_path: Path) -> None:
    (within,) = _auto_run(tmp_path, 5.0).points.values()
    (short,) = _auto_run(tmp_path, 5.1).points.values()
    assert "imprecise" not in within.codes
    assert "imprecise" in short.codes and kind("imprecise").letter == "P"
    (flag,) = [f for f in short.flags if f.code == "imprecise"]
    assert flag.message == "the median's 95% interval is ±5.1% of it after 3 trials, short of the ±5.0% asked"


def test_a_fixed_number_of_trials_is_never_flagged_p(tmp_path: Path) -> None:
    cells = {(SYNC, "json", 1, t): cell(100.0 + d * 30) for t, d in ((1, -1), (2, 0), (3, 1))}
    (point,) = aggregate(load_run(write_run(tmp_path / "fixed", cells, [1], trials=3))).points.values()
    assert "imprecise" not in point.codes


def test_the_export_gives_the_precision_each_cell_reached(tmp_path: Path) -> None:
    results = _auto_run(tmp_path, 5.0)
    rows = export_rows(RunFolder(results.run.root))
    assert [r["cell_throughput_precision"] for r in rows] == [pytest.approx(0.05)] * 3
