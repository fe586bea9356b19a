"""The table ``make bench-littles-law`` prints, from a run folder written on the spot: Little's law per
mode and step on a sleeping endpoint, each client's figure as its share of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.matrix import load_matrix
from servingmatrix.modes import MODES, resolve_mode

from .synthetic_runs import SYNC, cell, write_run
from .test_bench_generator import BENCH, load
from .test_reference_report import with_reference

IO = "io[ms=100]"


def test_the_law_is_the_modes_promise_or_the_users_over_the_sleep() -> None:
    law = load("littles_law").law_rps
    assert SYNC == "gunicorn-sync[workers=3]"
    assert law(SYNC, IO, 1, 1) == pytest.approx(10.0)
    assert law(SYNC, IO, 64, 1) == pytest.approx(30.0)
    assert law("werkzeug-threaded", IO, 64, 1) == pytest.approx(640.0)
    assert law("gunicorn-gthread[workers=2,threads=4]", IO, 8, 1) == pytest.approx(80.0)
    assert law(SYNC, "json", 8, 1) is None


def test_each_figure_is_its_share_of_the_law_and_those_outside_five_percent_are_bold(tmp_path: Path) -> None:
    cells = {
        (SYNC, IO, 1, 1): with_reference(cell(9.6), 9.7),
        (SYNC, IO, 64, 1): with_reference(cell(28.4), 5.3),
    }
    text = load("littles_law").table(write_run(tmp_path / "run", cells, [1, 64]))
    lines = text.splitlines()
    assert lines[0].startswith("| mode | users | Little's law req/s | Locust req/s | Locust / law |")
    assert f"| `{SYNC}` | 1 | 10 | 9.6 | 0.96 | 9.7 | 0.97 | — |" in lines
    row = next(line for line in lines if line.startswith(f"| `{SYNC}` | 64 |"))
    assert row.startswith(f"| `{SYNC}` | 64 | 30 | 28 | **0.95** | 5.3 | **0.18** |")
    assert lines[-1] == "2 of 4 figures within 5% of Little's law (bold: outside)."


def test_a_missing_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load("littles_law").main([str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("littles-law: error: ")


def test_the_bench_matrix_has_every_mode_on_the_sleeping_endpoint_at_three_steps() -> None:
    matrix = load_matrix(BENCH / "littles_law.yml")
    assert sorted(resolve_mode(m, 1).mode.name for m in matrix.modes) == sorted(m.name for m in MODES)
    assert (matrix.workloads, matrix.users, matrix.reference, matrix.reference_trials) == (
        (IO,),
        (1, 8, 64),
        "wrk",
        "every",
    )
