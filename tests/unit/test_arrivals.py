"""Open-loop arrivals: the gaps each load process draws, their seed, and the ``arrivals`` key.

The locustfile's clock (``locustfiles/smconfig.py``) is pure, so its gaps are tested here over many
draws from fixed seeds; the harness's side gives each session its seed and records it in the cell.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import statistics
from pathlib import Path
from typing import Any

import pytest

from locustfiles import smconfig
from locustfiles.smconfig import ArrivalClock, ConfigError, Settings
from servingmatrix.analysis.compare import run_differences as compare_differences
from servingmatrix.analysis.queueing import mdc_wait_s
from servingmatrix.analysis.reproduction import run_differences as reproduction_differences
from servingmatrix.errors import UserError
from servingmatrix.matrix import Matrix, Overrides, apply_overrides, load_matrix, matrix_from_record
from servingmatrix.matrix_keys import (
    ARRIVAL_SEED_KEY,
    ARRIVALS,
    ARRIVALS_KEY,
    MAX_ARRIVAL_SEED,
    method_values,
)
from servingmatrix.report.environment_rows import matrix_rows
from servingmatrix.results.run import Run
from servingmatrix.results.run_record import RunRecord
from servingmatrix.run.load.arrivals import Arrivals, session_seed
from servingmatrix.run.load.loadgen import Load, LocustJob
from servingmatrix.run.session import plan_sessions
from servingmatrix.workloads import resolve_workload

#: Draws enough that the mean and the spread of exponential gaps settle to about 1%.
DRAWS = 100_000


def arrival_times(clock: ArrivalClock) -> list[float]:
    times = []
    while (t := clock.take()) is not None:
        times.append(t)
    return times


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def cv(values: list[float]) -> float:
    """The coefficient of variation: the spread over the mean (1 for exponential gaps, 0 for even ones)."""
    return statistics.pstdev(values) / statistics.fmean(values)


def one_step(rate: int, draws: int, kind: str, **kw: int) -> ArrivalClock:
    """A clock of one step long enough for about ``draws`` arrivals at ``rate``."""
    senders = kw.get("senders", 1)
    return ArrivalClock((rate,), hold_s=draws * senders / rate, start=1000.0, arrivals=kind, **kw)


def test_poisson_gaps_have_the_mean_of_the_rate_and_a_cv_of_one() -> None:
    times = arrival_times(one_step(40, DRAWS, "poisson", seed=7))
    assert statistics.fmean(gaps(times)) == pytest.approx(1 / 40, rel=0.02)
    assert cv(gaps(times)) == pytest.approx(1.0, abs=0.02)
    assert len(times) == pytest.approx(DRAWS, rel=0.02)


def test_uniform_gaps_are_the_rate_s_exactly_with_no_spread() -> None:
    times = arrival_times(one_step(40, 1000, "uniform"))
    assert statistics.fmean(gaps(times)) == pytest.approx(1 / 40)
    assert cv(gaps(times)) == pytest.approx(0.0, abs=1e-9)
    assert times[0] == 1000.0


def test_each_process_draws_its_share_and_together_they_are_poisson_at_the_whole_rate() -> None:
    senders = 4
    streams = [
        arrival_times(one_step(40, DRAWS // senders, "poisson", seed=3, senders=senders, process=p))
        for p in range(senders)
    ]
    for stream in streams:
        # Each process: a quarter of the rate, so gaps four times as long on average.
        assert statistics.fmean(gaps(stream)) == pytest.approx(senders / 40, rel=0.03)
    assert len({tuple(s[:5]) for s in streams}) == senders  # no two processes send in lockstep
    merged = sorted(t for stream in streams for t in stream)
    assert statistics.fmean(gaps(merged)) == pytest.approx(1 / 40, rel=0.02)
    assert cv(gaps(merged)) == pytest.approx(1.0, abs=0.03)


def test_the_same_seed_replays_the_same_arrivals_and_another_does_not() -> None:
    first = arrival_times(ArrivalClock((10, 30), hold_s=20.0, start=0.0, arrivals="poisson", seed=11))
    again = arrival_times(ArrivalClock((10, 30), hold_s=20.0, start=0.0, arrivals="poisson", seed=11))
    other = arrival_times(ArrivalClock((10, 30), hold_s=20.0, start=0.0, arrivals="poisson", seed=12))
    assert first == again
    assert first != other


def test_poisson_steps_keep_their_own_rates_and_no_arrival_leaves_the_steps() -> None:
    clock = ArrivalClock((20, 200), hold_s=100.0, start=0.0, arrivals="poisson", seed=5)
    times = arrival_times(clock)
    assert times == sorted(times) and times[0] > 0.0 and times[-1] < clock.end
    first = [t for t in times if t < 100.0]
    assert len(first) == pytest.approx(20 * 100, rel=0.05)
    assert len(times) - len(first) == pytest.approx(200 * 100, rel=0.03)


def test_the_locustfile_reads_its_arrivals_and_seed_and_refuses_bad_ones() -> None:
    env = {
        "SM_STEPS": "40",
        "SM_WARMUP_S": "1",
        "SM_DURATION_S": "2",
        "SM_REQUESTS": '[{"name": "io", "path": "/io?ms=100", "weight": 1}]',
        "SM_LOAD": "open",
    }
    assert (Settings.from_env(env).arrivals, Settings.from_env(env).arrival_seed) == ("uniform", 0)
    given = Settings.from_env({**env, "SM_ARRIVALS": "poisson", "SM_ARRIVAL_SEED": "99"})
    assert (given.arrivals, given.arrival_seed) == ("poisson", 99)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**env, "SM_ARRIVALS": "bursty"})
    assert str(raised.value) == "SM_ARRIVALS: 'bursty' is not a kind of arrivals (allowed: uniform, poisson)"
    with pytest.raises(ConfigError, match="SM_ARRIVAL_SEED: '-1' is not a non-negative integer"):
        Settings.from_env({**env, "SM_ARRIVAL_SEED": "-1"})


def test_the_harness_and_the_locustfile_name_the_same_arrivals() -> None:
    assert smconfig.ARRIVALS == ARRIVALS
    assert ARRIVALS_KEY.default == smconfig.DEFAULT_ARRIVALS


def test_the_key_parses_from_a_file_and_an_option(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text(
        "modes: [gunicorn-sync]\nworkloads: [json]\narrival_rates: [20]\narrivals: poisson\n"
        "arrival_seed: 17\n"
    )
    matrix = load_matrix(path)
    assert (matrix.arrivals, matrix.arrival_seed) == ("poisson", 17)
    back = apply_overrides(matrix, Overrides(arrivals="uniform", arrival_seed="4"))
    assert (back.arrivals, back.arrival_seed) == ("uniform", 4)


@pytest.mark.parametrize("bad", ["bursty", "Poisson", "", 1, True, None, ["poisson"]])
def test_a_bad_kind_of_arrivals_is_refused_in_one_line_naming_the_allowed(bad: object) -> None:
    with pytest.raises(UserError) as raised:
        ARRIVALS_KEY.parse("m.yml: arrivals", bad)
    message = str(raised.value)
    assert "\n" not in message and message.startswith("m.yml: arrivals: ")
    assert message.endswith("is not a kind of arrivals (allowed: uniform, poisson)")


@pytest.mark.parametrize("bad", [-1, MAX_ARRIVAL_SEED + 1, "x", "1.5", 2.0, True, None])
def test_a_bad_seed_is_refused_in_one_line_naming_the_allowed(bad: object) -> None:
    with pytest.raises(UserError) as raised:
        ARRIVAL_SEED_KEY.parse("--arrival-seed", bad)
    assert "\n" not in str(raised.value) and f"(allowed: 0..{MAX_ARRIVAL_SEED})" in str(raised.value)


def test_an_option_s_bad_arrivals_stop_the_run_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text("modes: [gunicorn-sync]\nworkloads: [json]\narrival_rates: [20]\n")
    with pytest.raises(UserError) as raised:
        apply_overrides(load_matrix(path), Overrides(arrivals="bursty"))
    assert str(raised.value) == ("--arrivals: 'bursty' is not a kind of arrivals (allowed: uniform, poisson)")


def matrix(**changes: Any) -> Matrix:
    base = Matrix(
        name="m",
        modes=("gunicorn-sync[workers=4]", "waitress"),
        workloads=("io[ms=100]",),
        arrival_rates=(20, 32, 36),
        trials=2,
        arrivals="poisson",
        arrival_seed=8,
    )
    return dataclasses.replace(base, **changes)


def test_each_session_draws_from_its_own_seed_and_a_replay_from_the_same() -> None:
    sessions = plan_sessions(matrix())
    seeds = [s.arrivals.seed for s in sessions]
    assert len(set(seeds)) == len(sessions) == 4
    assert all(s.arrivals.kind == "poisson" for s in sessions)
    # The run's record holds the seed: the matrix rebuilt from it plans the same streams.
    replayed = plan_sessions(matrix_from_record("run.json", matrix().as_dict()))
    assert [s.arrivals for s in replayed] == [s.arrivals for s in sessions]
    assert [s.arrivals.seed for s in plan_sessions(matrix(arrival_seed=9))] != seeds
    first = sessions[0]
    assert first.arrivals.seed == session_seed(8, first.mode.spec, first.workload.spec, first.trial)


def test_the_open_loop_job_passes_its_arrivals_and_a_closed_one_none() -> None:
    workload = resolve_workload("io[ms=100]")
    arrivals = Arrivals("poisson", 1234)
    job = LocustJob(workload, "http://127.0.0.1:18000", (Load(40, "open"),), 1.0, 2.0, arrivals=arrivals)
    env = job.env()
    assert (env["SM_ARRIVALS"], env["SM_ARRIVAL_SEED"]) == ("poisson", "1234")
    settings = Settings.from_env(env)
    assert (settings.arrivals, settings.arrival_seed) == ("poisson", 1234)
    closed = LocustJob(workload, "http://127.0.0.1:18000", (Load(4),), 1.0, 2.0, arrivals=arrivals)
    assert "SM_ARRIVALS" not in closed.env()


def simulated_mdc_wait_s(rate: int, service_s: float, servers: int, seed: int) -> float:
    """The mean wait of first-come first-served workers of fixed ``service_s``, fed the clock's
    poisson arrivals: the queue the M/D/c prediction describes, run in arithmetic."""
    hold_s = 200_000 / rate
    times = arrival_times(ArrivalClock((rate,), hold_s, 0.0, arrivals="poisson", seed=seed))
    free_at = [0.0] * servers
    waits = []
    for t in times:
        earliest = heapq.heappop(free_at)
        begins = max(t, earliest)
        waits.append(begins - t)
        heapq.heappush(free_at, begins + service_s)
    return statistics.fmean(waits)


@pytest.mark.parametrize("load", [0.5, 0.8, 0.9])
def test_the_poisson_clock_queues_as_the_m_d_c_prediction_says(load: float) -> None:
    # io[ms=100] on four sync workers: 40 req/s at most, offered 50%, 80% and 90% of it.
    rate = round(40 * load)
    predicted = mdc_wait_s(rate, 0.1, 4)
    assert simulated_mdc_wait_s(rate, 0.1, 4, seed=1) == pytest.approx(predicted, rel=0.1)


def test_evenly_spaced_arrivals_never_queue_below_capacity() -> None:
    times = arrival_times(ArrivalClock((36,), 100.0, 0.0))
    free_at = [0.0] * 4
    for t in times:
        earliest = heapq.heappop(free_at)
        assert earliest <= t + 1e-9
        heapq.heappush(free_at, max(t, earliest) + 0.1)


def test_the_report_says_how_an_open_loop_s_arrivals_were_spaced_and_their_seed() -> None:
    def arrivals_row(matrix: dict[str, Any]) -> str:
        run = Run(Path("run"), RunRecord({"name": "m", "users": [1], **matrix}), ())
        return dict(matrix_rows(run))["arrivals"]

    poisson = arrivals_row({"arrival_rates": [36], "arrivals": "poisson", "arrival_seed": 7})
    assert poisson.startswith("poisson: exponential gaps") and "seed 7" in poisson
    # A run recorded before the key: every open loop then spaced its arrivals evenly.
    assert arrivals_row({"arrival_rates": [36]}).startswith("uniform: ")
    closed = Run(Path("run"), RunRecord({"name": "m", "users": [1], "arrivals": "poisson"}), ())
    assert "arrivals" not in dict(matrix_rows(closed))


def test_compare_weighs_arrivals_in_an_open_loop_and_reads_an_older_run_as_uniform() -> None:
    def run(**matrix: Any) -> Run:
        return Run(Path("run"), RunRecord({"name": "m", "users": [1], **matrix}), ())

    older = run(arrival_rates=[36])
    uniform = run(arrival_rates=[36], arrivals="uniform", arrival_seed=0)
    poisson = run(arrival_rates=[36], arrivals="poisson", arrival_seed=0)
    assert method_values(older.matrix)["arrivals"] == "uniform"
    for differences in (compare_differences, reproduction_differences):
        assert differences(older, uniform) == []
        found = differences(older, poisson)
        assert found and all("arrivals" in d for d in found)
        # A closed loop ignores its arrivals: two closed-loop runs that differ there measured alike.
        assert differences(run(), run(arrivals="poisson")) == []
