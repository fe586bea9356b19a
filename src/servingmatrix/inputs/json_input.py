"""JSON files read from a user (a run's cells and ``run.json``, a bundle's record), read bounded and
refused whole when a number or a nesting is not one servingmatrix ever writes.

Python's JSON reader takes ``NaN`` and ``Infinity`` (which JSON does not have), turns ``1e400`` into an
infinity, keeps a subnormal such as ``1e-320`` whose reciprocal is infinite, raises ``ValueError`` on an
integer of thousands of digits, and recursion errors on deep nesting. Every such value is refused here
in one line naming the file and the field, before any reader of the file's fields sees it: a figure
that is not a plain finite number would otherwise turn into a wrong chart, or a crash.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.inputs.input_files import InputKind, read_input

#: No figure a run records comes near it: beyond it a float no longer holds every whole number.
MAX_MAGNITUDE = 2**53
#: The most digits an integer of ours has (``MAX_MAGNITUDE`` has 16).
MAX_DIGITS = 16
#: A result file nests a handful of levels (``metadata.hosts.hosts[].clock.offset_ms``).
MAX_DEPTH = 32
#: The longest field name a refusal repeats.
FIELD_CHARS = 80


@dataclass(frozen=True)
class _Refused:
    """A value the file holds that no servingmatrix file does: as written, and why it is refused."""

    written: str
    why: str


def _constant(name: str) -> _Refused:
    return _Refused(name, "not a number (JSON has no NaN or infinities)")


def _float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        return _Refused(_cut(text), "beyond the range of a number")
    if abs(value) > MAX_MAGNITUDE:
        return _Refused(_cut(text), f"larger than any figure of a run (at most {MAX_MAGNITUDE:,})")
    if value != 0.0 and abs(value) < sys.float_info.min:
        return _Refused(_cut(text), "subnormal, too small to be a figure (write 0)")
    return value


def _int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > MAX_DIGITS:
        return _Refused(_cut(text), f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_DIGITS})")
    value = int(text)
    if abs(value) > MAX_MAGNITUDE:
        return _Refused(text, f"larger than any figure of a run (at most {MAX_MAGNITUDE:,})")
    return value


def _cut(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}..."


def parse_json(path: Path | str, raw: bytes) -> Any:
    """The JSON document ``raw`` read from ``path`` (the file as a refusal names it); one line naming
    the file (and the field) if it is not text, not JSON, or holds what no servingmatrix file does."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not text, the file is corrupt") from None
    try:
        data = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise _too_deep(path, deep_field(text)) from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON, the file is corrupt or truncated ({exc.msg})") from None
    _check_values(path, data)
    return data


def read_json_input(path: Path, kind: InputKind) -> Any:
    """The JSON file ``path``, read as ``input_files.read_input`` reads a file of its kind."""
    return parse_json(path, read_input(path, kind))


def _too_deep(path: Path | str, field: str) -> UserError:
    where = f"'{field}' is " if field else ""
    return UserError(
        f"{path}: {where}nested deeper than {MAX_DEPTH} levels; the file is corrupt or not servingmatrix's"
    )


def _name(parts: list[str]) -> str:
    """A field's name as the readers of result files write it: ``hosts[].clock.offset_ms``; a list of
    values is named by its key alone."""
    while parts and parts[-1] == "[]":
        parts = parts[:-1]
    name = ""
    for part in parts:
        name += part if part == "[]" or not name else f".{part}"
    return name if len(name) <= FIELD_CHARS else f"{name[:FIELD_CHARS]}..."


def _key(key: str) -> str:
    return key if len(key) <= 40 else f"{key[:40]}..."


def _check_values(path: Path | str, data: Any) -> None:
    """Refuse the first value, in the file's order, that the parser marked, or a nesting too deep."""
    pending: list[tuple[Any, list[str]]] = [(data, [])]
    while pending:
        value, parts = pending.pop()
        if isinstance(value, _Refused):
            field = _name(parts)
            where = f"'{field}'" if field else "the document"
            problem = f"{value.written} is {value.why}"
            raise UserError(f"{path}: {where}: {problem}; the file is corrupt or was edited")
        if len(parts) > MAX_DEPTH:
            raise _too_deep(path, _name(parts))
        if isinstance(value, dict):
            pending += [(v, [*parts, _key(str(k))]) for k, v in reversed(value.items())]
        elif isinstance(value, list):
            pending += [(v, [*parts, "[]"]) for v in reversed(value)]


#: A key (a string before a colon), a bracket, or a string: what locating a deep nesting needs.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:|[\[\]{}]|"(?:[^"\\]|\\.)*"')


def deep_field(text: str) -> str:
    """The field under which ``text`` nests deeper than ``MAX_DEPTH`` ("" when it is the document
    itself): read token by token, for a file too deep for the parser to say."""
    parts: list[str] = []
    opened: list[str] = []
    key = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.endswith(":") and token.startswith('"'):
            key = _key(token[1:].rstrip(":").rstrip().removesuffix('"'))
        elif token in "{[":
            if opened:
                parts.append(key if opened[-1] == "{" else "[]")
            opened.append(token)
            if len(opened) > MAX_DEPTH:
                return _name(parts)
        elif token in "}]":
            if opened:
                opened.pop()
            if parts:
                parts.pop()
    return _name(parts)
