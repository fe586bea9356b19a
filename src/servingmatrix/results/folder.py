"""Run folders and cell results on disk: written atomically the moment a cell ends, read back checked.

A run folder holds ``run.json`` (the matrix, the plan and the collected metadata) and one
``cells/<key>.json`` per cell. Every file carries ``schema``; older schemas are upgraded on read
(``upgrade_to_N`` functions, as asv does), newer ones are refused with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError

SCHEMA_VERSION = 2
RUN_FILE = "run.json"
CELLS_DIR = "cells"
#: Result files are read by others (a team's baselines are committed): as a file made with `umask 022`.
RESULT_MODE = 0o644


def is_run_file(path: Path) -> bool:
    """Whether ``path`` is a run folder's ``run.json`` or one of its cells: files no output may replace."""
    resolved = path.resolve()
    if resolved.name == RUN_FILE:
        return (resolved.parent / CELLS_DIR).is_dir() or _holds_a_run(resolved)
    return resolved.parent.name == CELLS_DIR and (resolved.parent.parent / RUN_FILE).exists()


@dataclass(frozen=True)
class CellKey:
    mode: str
    workload: str
    users: int
    trial: int

    @property
    def slug(self) -> str:
        """A file name that is readable and unique (the hash separates specs that slugify alike)."""
        text = f"{self.mode}|{self.workload}|{self.users}|{self.trial}"
        readable = re.sub(r"[^a-z0-9]+", "-", f"{self.mode}-{self.workload}".lower()).strip("-")
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{readable}-u{self.users}-t{self.trial}-{digest}"

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "workload": self.workload, "users": self.users, "trial": self.trial}


def _holds_a_run(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
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
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON, the file is corrupt or truncated ({exc.msg})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not text, the file is corrupt") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return upgrade(path, data)


def upgrade(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Bring a result of an older schema up to the current one."""
    version = data.get("schema")
    if not isinstance(version, int):
        raise UserError(f"{path}: no schema version; not a servingmatrix result file")
    if version > SCHEMA_VERSION:
        raise UserError(
            f"{path}: schema {version} is newer than this servingmatrix ({SCHEMA_VERSION}); upgrade"
        )
    if version < 2:
        data = upgrade_to_2(data)
    return data


def upgrade_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 added figures (generator-bound, offered rate, calibration); schema 1 lacks them.

    Every reader treats a missing figure as unknown, so the upgrade only restamps the version.
    """
    return {**data, "schema": 2}


class RunFolder:
    """One run's folder: its run.json and its cells."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cells_dir = root / CELLS_DIR

    @property
    def run_file(self) -> Path:
        return self.root / RUN_FILE

    def exists(self) -> bool:
        return self.run_file.exists()

    def read_run(self) -> dict[str, Any]:
        if not self.exists():
            raise UserError(f"{self.root}: not a run folder (no {RUN_FILE})")
        return read_json(self.run_file)

    def write_run(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.run_file, clean_floats({"schema": SCHEMA_VERSION, **data}))

    def cell_path(self, key: CellKey) -> Path:
        return self.cells_dir / f"{key.slug}.json"

    def has_cell(self, key: CellKey) -> bool:
        return self.cell_path(key).exists()

    def write_cell(self, key: CellKey, data: dict[str, Any]) -> None:
        write_json_atomic(
            self.cell_path(key), clean_floats({"schema": SCHEMA_VERSION, **key.as_dict(), **data})
        )

    def read_cells(self) -> list[dict[str, Any]]:
        if not self.cells_dir.exists():
            return []
        return [read_json(path) for path in sorted(self.cells_dir.glob("*.json"))]
