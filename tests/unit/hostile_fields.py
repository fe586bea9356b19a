"""Result files made wrong field by field: every leaf of a document given a value no servingmatrix file
holds, written as a hostile hand would write it, and the field the one line of its refusal must name.

A value is written into the JSON text as it stands (``NaN``, ``1e400``, four hundred digits, a nesting
far deeper than any file's), so the reader sees the bytes a forger would write, not what Python's own
JSON writer would make of them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: A place in a document: keys, and list indexes.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Raw:
    """JSON text written in place of a value, as it stands."""

    text: str


#: Refused in every field by the JSON reader, whatever the field: (name, what is written).
NEVER_WRITTEN: tuple[tuple[str, Raw], ...] = (
    ("nan", Raw("NaN")),
    ("infinity", Raw("Infinity")),
    ("minus-infinity", Raw("-Infinity")),
    ("overflow", Raw("1e400")),
    ("digits-400", Raw(str(10**400))),
    ("absurd", Raw("1e308")),
    ("subnormal", Raw("1e-320")),
    ("nested-40", Raw("[" * 40 + "1" + "]" * 40)),
    ("nested-100000", Raw("[" * 100_000 + "]" * 100_000)),
)


def leaves(document: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every value of ``document`` that holds no other (an empty object or list is one), in order."""
    if isinstance(document, dict) and document:
        for key, value in document.items():
            yield from leaves(value, (*path, key))
    elif isinstance(document, list) and document:
        for index, value in enumerate(document):
            yield from leaves(value, (*path, index))
    else:
        yield path, document


def field_name(path: Path) -> str:
    """A place as the readers name it in a refusal: ``server.processes[].pid``; an item of a list of
    values is named by its list."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += "[]"
        else:
            name += f".{part}" if name else part
    return name.removesuffix("[]")


def text_with(document: Any, path: Path, value: object) -> str:
    """``document`` as JSON text with the value at ``path`` replaced by ``value`` (a ``Raw`` as it
    stands; ``REMOVED`` takes the key out)."""
    data = copy.deepcopy(document)
    target = data
    for part in path[:-1]:
        target = target[part]
    last = path[-1]
    if value is REMOVED:
        del target[last]
        return json.dumps(data)
    if not isinstance(value, Raw):
        target[last] = value
        return json.dumps(data)
    marker = "\u0000raw\u0000"
    target[last] = marker
    return json.dumps(data).replace(json.dumps(marker), value.text)


REMOVED = object()


def wrong_type(value: object) -> object | None:
    """A value of another type than ``value``'s, as a hand edit makes it; None when the value (a null)
    says nothing of its type."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 5
    if isinstance(value, dict):
        return ["a list"]
    if isinstance(value, list):
        return "a text"
    return None


def negative(value: object) -> object | None:
    """The value made negative (a count or a figure); None for what is not a number or not above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return -value
