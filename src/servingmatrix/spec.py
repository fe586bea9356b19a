"""The spec syntax shared by modes and workloads: ``NAME[key=value,...]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from servingmatrix.errors import SpecError

_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_-]*)(?:\[(?P<params>[^\[\]]*)\])?$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
#: ASCII digits, an optional minus (so "-1" is reported as out of range), at most 12 of them: Python's
#: int() would also take "1_0", digits of other scripts, and thousands of digits.
_INTEGER = re.compile(r"-?[0-9]{1,12}")
#: The longest piece of a user's input an error message repeats.
SHOWN_CHARS = 40


def shown(text: str) -> str:
    """``text`` as an error message repeats it: quoted, and cut short when it is long."""
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def parse_int(text: str) -> int | None:
    """A plain decimal integer as a person writes it, or None: no underscores, signs or other digits."""
    stripped = text.strip()
    return int(stripped) if _INTEGER.fullmatch(stripped) else None


def spec_name(text: str) -> str:
    """The name of a spec as written, its parameters left off: ``io`` of ``io[ms=100]``."""
    return text.split("[", 1)[0]


@dataclass(frozen=True)
class Spec:
    """A parsed spec: a name and its parameters in the order written."""

    name: str
    params: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return dict(self.params)


def parse_spec(text: str) -> Spec:
    """Parse ``NAME`` or ``NAME[key=value,...]``; refuse anything else with one line."""
    stripped = text.strip()
    match = _SPEC.match(stripped)
    if match is None:
        raise SpecError(
            f"{shown(text)}: not a spec; expected NAME or NAME[key=value,...], e.g. gunicorn-sync[workers=2]"
        )
    name = match.group("name")
    raw = match.group("params")
    if raw is None:
        return Spec(name)
    if not raw.strip():
        raise SpecError(f"{shown(text)}: empty brackets; write {name} alone or give key=value pairs")
    params: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in raw.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not _KEY.match(key) or not value:
            raise SpecError(f"{shown(text)}: {shown(item.strip())} is not key=value")
        if key in seen:
            raise SpecError(f"{shown(text)}: {key!r} is given twice")
        seen.add(key)
        params.append((key, value))
    return Spec(name, tuple(params))


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of specs, keeping commas inside brackets."""
    items: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    specs = [item.strip() for item in items]
    if any(not item for item in specs):
        raise SpecError(f"{shown(text)}: empty entry in the list")
    return specs


def parse_positive_int(owner: str, key: str, value: str, maximum: int) -> int:
    """An integer in 1..maximum, or one line saying what is allowed."""
    number = parse_int(value)
    if number is None:
        raise SpecError(f"{owner}: {key}={shown(value)} is not an integer (allowed: 1..{maximum})")
    if not 1 <= number <= maximum:
        raise SpecError(f"{owner}: {key}={number} is out of range (allowed: 1..{maximum})")
    return number
