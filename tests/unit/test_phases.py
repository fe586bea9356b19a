"""Where a run's time went: every second in one phase, and the harness's share of the wall time."""

from __future__ import annotations

import pytest

from servingmatrix.run.measure.phases import MEASURING, PHASES, WARMING, RunPhases, overhead_share
from servingmatrix.run.session import SessionTimings


def test_the_phases_add_up_to_the_wall_time() -> None:
    sessions = [
        SessionTimings(
            backing_s=2.0,
            start_s=1.5,
            warmup_s=4.0,
            measured_s=10.0,
            loadgen_s=15.0,
            reference_s=7.0,
            reference_warmup_s=2.0,
            reference_measured_s=4.0,
            teardown_s=0.5,
        ),
        SessionTimings(start_s=1.0, warmup_s=4.0, measured_s=10.0, loadgen_s=14.5, teardown_s=0.5),
    ]
    timings = RunPhases(began=100.0, prepare_s=1.0, calibration_s=9.0).as_dict(sessions, now=170.0)
    assert timings["wall_s"] == 70.0
    assert timings["loadgen_other_s"] == pytest.approx(1.5)
    assert timings["reference_other_s"] == pytest.approx(1.0)
    assert sum(timings[key] for key in PHASES) == pytest.approx(70.0)
    # 1 + 9 + 2 + 2.5 + (8 + 20 + 1.5) + (2 + 4 + 1) + 1 = 52 s in named phases.
    assert timings["other_s"] == pytest.approx(18.0)
    # Measuring: 20 + 4; warming up: 8 + 2; the rest of 70 s is the harness's.
    assert timings["overhead_share"] == pytest.approx(1 - 34.0 / 70.0)


def test_overhead_share_counts_only_what_neither_measures_nor_warms_up() -> None:
    phases = dict.fromkeys(PHASES, 0.0)
    for key in MEASURING + WARMING:
        phases[key] = 2.5
    assert overhead_share(phases, 10.0) == 0.0
    phases["calibration_s"] = 10.0
    assert overhead_share(phases, 20.0) == 0.5
    assert overhead_share(phases, 0.0) is None


def test_a_session_restarting_the_backing_services_is_counted() -> None:
    first = SessionTimings(backing_restarted="not started")
    kept = SessionTimings()
    again = SessionTimings(backing_restarted="postgres is no longer running")
    assert RunPhases(began=0.0).as_dict([first, kept, again], now=1.0)["backing_starts"] == 2
