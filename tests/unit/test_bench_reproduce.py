"""bench/reproduce.py: its table from two runs, and the trials a busy loop touched that were published."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from servingmatrix.paths import project_root
from tests.unit.synthetic_runs import SYNC, cell, write_run


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reproduce", project_root() / "bench" / "reproduce.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def windowed(rps: float, start: float, **extra: Any) -> dict[str, Any]:
    return {
        **cell(rps),
        "window": {"start": start, "end": start + 5.0, "seconds": 5.0, "warmup_s": 2.0},
        **extra,
    }


def run(root: Path, cells: dict[tuple[str, str, int, int], dict[str, Any]]) -> Path:
    folder = write_run(root, cells, [1, 8])
    meta = json.loads((folder / "run.json").read_text())
    meta["metadata"].update({"cpu_model": "a CPU", "docker_version": "27.3.1"})
    (folder / "run.json").write_text(json.dumps(meta))
    return folder


def test_the_table_counts_verdicts_and_names_published_trials_the_loop_touched(tmp_path: Path) -> None:
    published = run(
        tmp_path / "a",
        {(SYNC, "json", 1, 1): windowed(100.0, 0.0), (SYNC, "json", 8, 1): windowed(700.0, 10.0)},
    )
    again = run(
        tmp_path / "b",
        {
            (SYNC, "json", 1, 1): windowed(100.0, 100.0, measured_again=1),
            (SYNC, "json", 8, 1): windowed(500.0, 110.0),
        },
    )
    lines = bench().report("hog", published, again, [112.0, 120.0])
    text = "\n".join(lines)
    assert "2 cells: 1 reproduced, 1 differs, 0 not comparable" in text
    assert "@ 8: differs" in text and "@ 1:" not in text
    assert "windows measured again: 1" in text
    assert "were published: 1" in text and "@ 8, trial 1" in text
    # A loop that touched no window: nothing published under it.
    assert "were published: 0" in "\n".join(bench().report("hog", published, again, [200.0, 210.0]))
