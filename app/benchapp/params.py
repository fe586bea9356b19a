"""Strict parsing of bounded integer query parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

# Digits only (an optional minus so "-1" is reported as out of range, not as garbage); the length cap
# keeps int() away from huge inputs.
_INTEGER = re.compile(r"-?[0-9]{1,12}")


class BadParam(ValueError):
    """A query string the endpoint refuses; the message names the parameter and its allowed range."""


@dataclass(frozen=True)
class IntParam:
    """One integer query parameter with inclusive bounds and a default."""

    name: str
    low: int
    high: int
    default: int

    @property
    def allowed(self) -> str:
        """The allowed range, as shown in error messages."""
        return f"an integer in {self.low}..{self.high}"


def _show(raw: str) -> str:
    return repr(raw if len(raw) <= 24 else raw[:24] + "...")


def parse_params(args: MultiDict[str, str], specs: Sequence[IntParam]) -> Mapping[str, int]:
    """Validate args against specs and return every parameter's value (given or default)."""
    by_name = {spec.name: spec for spec in specs}
    for key in args:
        if key not in by_name:
            accepted = ", ".join(f"{s.name} ({s.low}..{s.high})" for s in specs) or "no parameters"
            raise BadParam(f"unknown parameter {_show(key)}; this endpoint accepts {accepted}")
    values: dict[str, int] = {}
    for spec in specs:
        given = args.getlist(spec.name)
        if not given:
            values[spec.name] = spec.default
            continue
        if len(given) > 1:
            raise BadParam(
                f"parameter {spec.name!r} is given {len(given)} times; give it once, {spec.allowed}"
            )
        raw = given[0]
        if not _INTEGER.fullmatch(raw):
            raise BadParam(f"parameter {spec.name!r} must be {spec.allowed}, got {_show(raw)}")
        value = int(raw)
        if not spec.low <= value <= spec.high:
            raise BadParam(f"parameter {spec.name!r} must be {spec.allowed}, got {value}")
        values[spec.name] = value
    return values
