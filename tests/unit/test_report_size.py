"""What the README says of the report's size: a run the size of the default profile, and a wider
one, each write a self-contained page of at most 1.5 MB (it was 5 MB or more with plotly.js)."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.matrix import load_profile
from servingmatrix.report.page import write_report
from tests.unit.chart_dom import page_charts
from tests.unit.synthetic_runs import MATRIX_MODES, MATRIX_WORKLOADS, matrix_cells, write_run

#: The README's promise for the page of a run of these sizes.
LIMIT_BYTES = 1_500_000


def default_profile() -> tuple[int, int, list[int], int]:
    """Modes, workloads, steps and trials of ``profiles/default.yml`` (with ``trials: auto``, the most
    trials a cell may get): the test follows the profile."""
    profile = load_profile("default")
    trials = profile.max_trials if profile.auto_trials else int(profile.trials)
    return len(profile.modes), len(profile.workloads), list(profile.users), trials


def test_the_synthetic_matrix_can_be_as_wide_as_the_default_profile() -> None:
    modes, workloads, _, _ = default_profile()
    assert modes <= len(MATRIX_MODES) and workloads <= len(MATRIX_WORKLOADS)


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(default_profile(), id="default-profile"),
        # Every mode and three tuned variants, five workloads, six steps: 480 cells.
        pytest.param((16, 5, [1, 4, 16, 64, 256, 1024], 1), id="16-modes-5-workloads-6-steps"),
    ],
)
def test_the_report_of_a_large_run_is_at_most_1_5_mb(
    tmp_path: Path, shape: tuple[int, int, list[int], int]
) -> None:
    modes, workloads, steps, trials = shape
    run = write_run(tmp_path / "run", matrix_cells(modes, workloads, steps, trials), steps, trials=trials)
    written = write_report(run, tmp_path / "report.html")
    html = written.path.read_text()
    assert written.size_bytes == len(html.encode()) <= LIMIT_BYTES, written.describe()
    # Small because nothing is left out: every chart is drawn, with every point.
    charts = page_charts(html)
    assert len(charts) == 4 * workloads + 2
    points = sum(int(svg.attrib["data-points"]) for svg in charts.values())
    # Per workload and mode: a point per step on throughput, three latency panels, errors, efficiency.
    assert points >= modes * workloads * len(steps) * 6
