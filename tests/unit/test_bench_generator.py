"""The table ``make bench-generator`` prints, from a run folder written on the spot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from servingmatrix.matrix import load_matrix
from servingmatrix.modes import MODES, resolve_mode

from .synthetic_runs import SYNC, cell, write_run
from .test_reference_report import GTHREAD, with_reference

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_table_has_each_mode_with_both_figures_and_the_share(tmp_path: Path) -> None:
    cells = {
        (GTHREAD, "json", 32, 1): with_reference(cell(4963.0), 6444.0),
        (SYNC, "json", 32, 1): with_reference(cell(2386.0), 2400.0),
    }
    text = load("generator").table(write_run(tmp_path / "run", cells, [32]))
    lines = text.splitlines()
    assert lines[0].startswith("| mode | Locust req/s | wrk req/s | Locust / wrk |")
    assert f"| `{GTHREAD}` | 4,963 | 6,444 | 0.77 | — | **yes** |" in lines
    assert f"| `{SYNC}` | 2,386 | 2,400 | 0.99 | — | no |" in lines


def test_a_missing_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load("generator").main([str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("generator: error: ")


def test_the_bench_matrix_has_every_mode_and_the_two_target_cells() -> None:
    matrix = load_matrix(BENCH / "generator.yml")
    assert sorted(resolve_mode(m, 1).mode.name for m in matrix.modes) == sorted(m.name for m in MODES)
    specs = {c.spec for c in matrix.mode_configs()}
    assert {"gunicorn-sync[workers=1]", GTHREAD} <= specs
    assert (matrix.workloads, matrix.users, matrix.reference) == (("json",), (32,), "wrk")
