"""A step of a run is at least 1 user, or 1 request per second offered; a trial is numbered from 1.

The runner never writes a step of 0: a matrix refuses it. A file that holds one was edited, and would
reach the charts, whose step axis is logarithmic and has no place for 0. It is refused when the file is
read, in one line naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError


def _zero(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def refuse_empty_steps(path: Path, data: dict[str, Any]) -> None:
    """Refuse a cell whose step or trial is 0, or a run.json whose matrix lists a step of 0 (a value of
    another type or sign is left to the file's own reader, which names what is allowed)."""
    for field in ("users", "trial"):
        if _zero(data.get(field)):
            raise UserError(f"{path}: '{field}' is 0; {_allowed(field)}; the file is corrupt or was edited")
    matrix = data.get("matrix")
    if not isinstance(matrix, dict):
        return
    for field in ("users", "arrival_rates"):
        values = matrix.get(field)
        if isinstance(values, list) and any(_zero(v) for v in values):
            raise UserError(
                f"{path}: 'matrix.{field}' lists 0; {_allowed(field)}; the file is corrupt or was edited"
            )


def _allowed(field: str) -> str:
    if field == "trial":
        return "trials are numbered from 1"
    return "a step is at least 1 user, or 1 request per second offered"
