"""Run folders and cell results on disk: written atomically the moment a cell ends, read back checked.

A run folder holds ``run.json`` (the matrix, the plan and the collected metadata: a ``RunRecord``,
``results/run_record.py``) and one ``cells/<key>.json`` per cell, each a ``CellRecord``
(``results/cell.py``, where the layout, its schema history and the upgrades live). Every file
carries ``schema``; older schemas are upgraded on read, newer ones are refused with one line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.json_input import read_json_input
from servingmatrix.results.cell import SCHEMA_VERSION, CellKey, CellRecord, upgrade
from servingmatrix.results.run_record import RunRecord
from servingmatrix.results.steps import refuse_empty_steps
from servingmatrix.say import Say

__all__ = [
    "CELLS_DIR",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "CellKey",
    "RunFolder",
    "clean_floats",
    "read_json",
    "write_json_atomic",
]

RUN_FILE = "run.json"
CELLS_DIR = "cells"
#: Result files are read by others (a team's baselines are committed): as a file made with `umask 022`.
RESULT_MODE = 0o644


def is_run_record(path: Path) -> bool:
    """Whether ``path`` is a run folder's ``run.json``, or lies in its ``cells/`` (or below): files no
    output may replace or add to (a stray file in ``cells/`` would be read as a cell)."""
    resolved = path.resolve()
    if resolved.name == RUN_FILE and ((resolved.parent / CELLS_DIR).is_dir() or _holds_a_run(resolved)):
        return True
    return any(
        folder.name == CELLS_DIR and (folder.parent / RUN_FILE).exists() for folder in resolved.parents
    )


def _holds_a_run(path: Path) -> bool:
    try:
        data = read_json_input(path, input_files.RUN)
    except UserError:
        return False
    return isinstance(data, dict) and "schema" in data and "matrix" in data


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary file beside ``path``, then rename: a reader never sees half a file.

    A full disk (or any other refusal of the file system) is one line naming the file; the
    temporary file is removed, so what was on disk before is all that is there.
    """
    text = json.dumps(data, indent=1, sort_keys=False, allow_nan=False, default=_no_nan) + "\n"
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file its owner's alone; results are shared and committed (baselines).
        os.chmod(tmp, RESULT_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise UserError(
            f"{path}: cannot write ({exc.strerror or exc}); results already written are kept, "
            "free the space and run again to resume"
        ) from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _no_nan(value: object) -> object:
    raise TypeError(f"cannot serialise {value!r}")


def clean_floats(value: Any) -> Any:
    """NaN and infinities become null: JSON has no NaN, and a missing figure is not a number."""
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, dict):
        return {k: clean_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_floats(v) for v in value]
    return value


def read_json(path: Path) -> dict[str, Any]:
    """A result file (``run.json``, or a cell), read as a regular file within its kind's bound, every
    number in it a plain finite one, upgraded to the current schema, and no step in it of 0."""
    kind = input_files.RUN if path.name == RUN_FILE else input_files.CELL
    data = read_json_input(path, kind)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    data = upgrade(path, data)
    refuse_empty_steps(path, data)
    return data


class RunFolder:
    """One run's folder: its run.json and its cells."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cells_dir = root / CELLS_DIR

    @property
    def run_file(self) -> Path:
        return self.root / RUN_FILE

    def exists(self) -> bool:
        try:
            return self.run_file.exists()
        except OSError:
            # A name longer than the file system takes names no run folder.
            return False

    def write_run(self, record: RunRecord) -> None:
        write_json_atomic(self.run_file, clean_floats(record.as_json()))

    def read_run(self) -> RunRecord:
        """run.json, upgraded and checked; one line naming the file and the first bad field."""
        if not self.exists():
            raise UserError(f"{self.root}: not a run folder (no {RUN_FILE})")
        return RunRecord.from_json(self.run_file, read_json(self.run_file))

    def cell_path(self, key: CellKey) -> Path:
        return self.cells_dir / f"{key.slug}.json"

    def has_cell(self, key: CellKey) -> bool:
        return self.cell_path(key).exists()

    def measured(self, keys: Iterable[CellKey], say: Say) -> set[CellKey]:
        """Of ``keys``, those whose cell file reads back as that cell: what a resumed run need not
        measure again. A file there that does not read (cut short by a crash, edited, another cell's)
        is said, and left to be measured again and written over."""
        done: set[CellKey] = set()
        for key in keys:
            path = self.cell_path(key)
            if not os.path.lexists(path):
                continue
            try:
                record = self.read_cell(path)
            except UserError as exc:
                say(f"measuring again: {exc}")
                continue
            if record.key != key:
                say(f"measuring again: {path}: holds another cell ({record.key.slug})")
                continue
            done.add(key)
        return done

    def write_cell(self, record: CellRecord) -> None:
        write_json_atomic(self.cell_path(record.key), record.as_json())

    def cell_paths(self) -> list[Path]:
        return sorted(self.cells_dir.glob("*.json")) if self.cells_dir.exists() else []

    def read_cell(self, path: Path) -> CellRecord:
        return CellRecord.from_json(path, read_json(path))

    def read_cell_files(self) -> list[tuple[Path, CellRecord]]:
        """Every cell file with its record, each read and checked. A second file holding a cell already
        read (a stray copy, ``cp a.json b.json``) is refused: every reader would count it twice, and
        one of the two is not what the run measured."""
        seen: dict[CellKey, Path] = {}
        cells: list[tuple[Path, CellRecord]] = []
        for path in self.cell_paths():
            record = self.read_cell(path)
            first = seen.setdefault(record.key, path)
            if first != path:
                raise UserError(f"{path}: the same cell as {first.name}; one of them is a stray copy")
            cells.append((path, record))
        return cells

    def read_cells(self) -> list[CellRecord]:
        return [record for _, record in self.read_cell_files()]
