"""A user's requirements file: every line one package pinned with ``==``, nothing else.

The lock is resolved from it (``servingmatrix lock --app DIR``), and a build refuses a lock that no
longer holds these pins, so what the file says is what the images run.
"""

from __future__ import annotations

import re
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.spec import shown
from servingmatrix.user_app.config import Pin

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?P<extras>\[[A-Za-z0-9._-]+(?:,[A-Za-z0-9._-]+)*\])?"
    r"==(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$"
)
ALLOWED = "NAME==VERSION or NAME[EXTRA]==VERSION, one a line"
#: A requirements file is a few dozen lines; a megabyte is a mistake.
MAX_BYTES = 1 << 20


def parse_requirements(path: Path) -> tuple[Pin, ...]:
    """The pins of ``path``; one line naming the file and the line when one is not pinned with ==."""
    text = _text(path)
    pins: dict[str, Pin] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        match = _PIN.match(line.replace(" ", ""))
        if match is None:
            raise UserError(
                f"{path}: line {number}: {shown(line)} is not pinned with == (allowed: {ALLOWED})"
            )
        pin = Pin(match.group("name"), match.group("extras") or "", match.group("version"))
        key = canonical_name(pin.name)
        if key in pins:
            raise UserError(f"{path}: line {number}: {pin.name} is pinned twice (allowed: each package once)")
        pins[key] = pin
    if not pins:
        raise UserError(f"{path}: no requirement (allowed: {ALLOWED}; the app's packages, Flask's included)")
    return tuple(pins.values())


def canonical_name(name: str) -> str:
    """A package's name as the index compares them: ``Flask_Login`` is ``flask-login``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the requirements file ({exc.strerror})") from None
    if len(raw) > MAX_BYTES or b"\0" in raw:
        raise UserError(f"{path}: not a requirements file (allowed: UTF-8 text, {ALLOWED})")
    try:
        return raw.decode("utf-8")
    except UnicodeError:
        raise UserError(f"{path}: not a requirements file (allowed: UTF-8 text, {ALLOWED})") from None
