"""A user's requirements file: every line one package pinned with ``==``, nothing else.

The lock is resolved from it (``servingmatrix lock --app DIR``), and a build refuses a lock that no
longer holds these pins, so what the file says is what the images run.
"""

from __future__ import annotations

import re
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.input_files import read_text_input
from servingmatrix.spec import shown
from servingmatrix.user_app.config import Pin

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?P<extras>\[[A-Za-z0-9._-]+(?:,[A-Za-z0-9._-]+)*\])?"
    r"==(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$"
)
ALLOWED = "NAME==VERSION or NAME[EXTRA]==VERSION, one a line"


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
    # A requirements file is a few dozen lines: its bound (input_files.REQUIREMENTS) is a mistake's size.
    return read_text_input(path, input_files.REQUIREMENTS, f"UTF-8 text, {ALLOWED}")
