"""A run read back: run.json checked field by field, its cells read through the cell record, and a
stray copy of a cell refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.results.cell import SCHEMA_VERSION
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import load_run

from .synthetic_runs import GOOD_CELL, GOOD_RUN


def write(root: Path, run: dict[str, object], cells: dict[str, dict[str, object]]) -> Path:
    (root / "cells").mkdir(parents=True)
    (root / "run.json").write_text(json.dumps(run))
    for name, cell in cells.items():
        (root / "cells" / name).write_text(json.dumps(cell))
    return root


def test_a_good_run_json_is_read_as_written(tmp_path: Path) -> None:
    root = write(tmp_path / "run", GOOD_RUN, {})
    assert RunFolder(root).read_run().as_json() == GOOD_RUN


def test_an_older_run_json_is_upgraded(tmp_path: Path) -> None:
    root = write(tmp_path / "run", {**GOOD_RUN, "schema": 1}, {})
    assert RunFolder(root).read_run().as_json()["schema"] == SCHEMA_VERSION


def test_a_folder_without_run_json_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        load_run(tmp_path)
    assert str(raised.value) == f"{tmp_path}: not a run folder (no run.json)"


@pytest.mark.parametrize("matrix", [None, [], "x"])
def test_run_json_without_a_matrix_object_is_refused(tmp_path: Path, matrix: object) -> None:
    root = write(tmp_path / "run", {**GOOD_RUN, "matrix": matrix}, {})
    with pytest.raises(UserError) as raised:
        load_run(root)
    assert str(raised.value) == (
        f"{root / 'run.json'}: 'matrix' is missing or not an object; the file is corrupt or truncated"
    )


def test_a_run_holds_its_cells_and_where_they_came_from(tmp_path: Path) -> None:
    cells = {"a.json": {**GOOD_CELL, "throughput_rps": 10}, "b.json": {**GOOD_CELL, "trial": 2}}
    root = write(tmp_path / "run", GOOD_RUN, cells)
    run = load_run(root)
    assert run.root == root and run.record.as_json() == GOOD_RUN
    assert [c.path for c in run.cells] == [root / "cells" / "a.json", root / "cells" / "b.json"]
    assert [c.record.trial for c in run.cells] == [1, 2]
    assert run.cells[0].record.throughput_rps == 10.0
    assert run.cells[0].record.reference is None


def test_a_stray_copy_of_a_cell_is_refused(tmp_path: Path) -> None:
    cells = {"a.json": GOOD_CELL, "b.json": GOOD_CELL, "c.json": {**GOOD_CELL, "trial": 2}}
    root = write(tmp_path / "run", GOOD_RUN, cells)
    with pytest.raises(UserError) as raised:
        load_run(root)
    assert str(raised.value) == (
        f"{root / 'cells' / 'b.json'}: the same cell as a.json; one of them is a stray copy"
    )
