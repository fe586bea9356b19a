"""Reading a mapping of ``app.yml`` key by key, every refusal one line naming the file and the key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.spec import shown

#: What a path may hold: printable ASCII without spaces, as it goes on the request line.
_PATH = re.compile(r"/[\x21-\x7e]{0,2047}")


def written(value: Any) -> str:
    """A value as a message repeats it: a string quoted and cut short, anything else as YAML read it."""
    return shown(value) if isinstance(value, str) else shown(repr(value)).strip("'\"")


@dataclass(frozen=True)
class Fields:
    """The mapping at ``prefix`` (``requests.list``) of the file ``file``."""

    file: Path
    data: dict[Any, Any]
    prefix: str = ""

    def key(self, name: str) -> str:
        return ".".join(part for part in (self.prefix, name) if part)

    def refuse(self, name: str, problem: str) -> UserError:
        return UserError(f"{self.file}: {self.key(name)}: {problem}")

    def at(self, name: str, data: dict[Any, Any] | None = None) -> Fields:
        """The mapping under ``name`` (its own data when given)."""
        return Fields(self.file, data if data is not None else {}, self.key(name))

    def known(self, keys: tuple[str, ...], required: tuple[str, ...] = ()) -> None:
        """Every key one of ``keys``, and each of ``required`` given."""
        for name in self.data:
            if name not in keys:
                where = f"{self.prefix}: " if self.prefix else ""
                raise UserError(
                    f"{self.file}: {where}unknown key {shown(str(name))} (allowed: {', '.join(keys)})"
                )
        for name in required:
            if name not in self.data:
                where = f"{self.prefix}: " if self.prefix else ""
                raise UserError(f"{self.file}: {where}missing key {name!r} (required: {', '.join(required)})")

    def text(self, name: str, value: Any) -> str:
        """A string; anything YAML read as a number, a boolean or a list is refused (quote it)."""
        if not isinstance(value, str):
            raise self.refuse(name, f"{written(value)} is not text (allowed: a string; quote it)")
        return value

    def path(self, name: str, value: Any) -> str:
        """A request path: ``/`` then printable ASCII, no spaces."""
        text = self.text(name, value)
        if not _PATH.fullmatch(text):
            raise self.refuse(
                name,
                f"{shown(text)} is not a path (allowed: / then printable ASCII, no spaces, e.g. /healthz)",
            )
        return text

    def integer(self, name: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.refuse(name, f"{written(value)} is not allowed (allowed: an integer in {low}..{high})")
        return value
