"""Progress lines: cell x of y and an ETA that a session's cells, reported together, do not skew."""

from __future__ import annotations

import io
import time

import pytest

from servingmatrix.run.progress import Progress


def test_eta_scales_the_remaining_plan_by_the_pace_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    out = io.StringIO()
    bar = Progress(total_cells=6, planned_s=60.0, stream=out)
    assert bar.eta_s() == 60.0
    # A session of three cells planned at 20 s took 30 s; all three are reported at its end.
    now[0] += 30.0
    bar.spend(20.0)
    for users in (1, 8, 64):
        bar.cell_done(f"m x json @ {users} users", 100.0)
    # 40 s of plan left, at 1.5 times the plan's pace: 60 s, from the first of the three lines on.
    assert bar.eta_s() == pytest.approx(60.0)
    lines = out.getvalue().splitlines()
    assert lines[0] == "cell 1/6  m x json @ 1 users: 100 req/s  elapsed 0:00:30  ETA 0:01:00"
    assert [line.split("ETA ")[1] for line in lines] == ["0:01:00"] * 3


def test_a_failed_cell_shows_as_failed() -> None:
    out = io.StringIO()
    Progress(1, 10.0, stream=out).cell_done("m x json @ 1 users", None, 10.0)
    assert "m x json @ 1 users: failed" in out.getvalue()
