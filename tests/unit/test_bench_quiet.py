"""bench/quiet.py: the largest quiet readings and the threshold they give, from a run's cells."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from servingmatrix.errors import UserError
from servingmatrix.paths import project_root
from servingmatrix.results.folder import RunFolder
from tests.unit.synthetic_runs import SYNC, cell, write_run


def quiet() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quiet", project_root() / "bench" / "quiet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("largest", "expected"), [(0.0955, 0.15), (0.1, 0.15), (0.1001, 0.16), (0.02, 0.03), (0.0, 0.0)]
)
def test_the_threshold_is_the_largest_reading_half_as_much_again_rounded_up(
    largest: float, expected: float
) -> None:
    assert quiet().threshold(largest) == expected


def test_the_table_lists_the_largest_readings_and_counts_windows_measured_again(tmp_path: Path) -> None:
    cells = {
        (SYNC, "json", 1, 1): {
            **cell(100.0),
            "disturbance": {"locust": {"server": 0.02, "generator": None}, "reference": {"server": 0.07}},
        },
        (SYNC, "json", 8, 1): {
            **cell(200.0),
            "disturbance": {"locust": {"server": 0.01, "generator": 0.03}},
            "measured_again": 1,
        },
    }
    text = quiet().table(RunFolder(write_run(tmp_path / "r", cells, [1, 8])))
    assert text.startswith("4 readings; the largest 4:")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "%" in line]
    assert [r.split(" | ")[0] for r in rows] == ["| 7.0%", "| 3.0%", "| 2.0%", "| 1.0%"]
    assert f"{SYNC} x json @ 1, reference window, server cores" in rows[0]
    assert "threshold from them: 11% (largest x 1.5, rounded up)" in text
    assert "1 cell(s) measured again" in text


def test_a_run_without_readings_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no cell recorded its windows' disturbance"):
        quiet().table(RunFolder(write_run(tmp_path / "r", {(SYNC, "json", 1, 1): cell(100.0)}, [1])))
