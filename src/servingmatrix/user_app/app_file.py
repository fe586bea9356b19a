"""``app.yml``, read strictly: every key known, every value of its type, every file present.

A bad entry is refused before anything is built, in one line naming the file, the key and what is
allowed. The requests are checked in ``app_requests``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.input_files import node_kind, read_text_input
from servingmatrix.spec import shown
from servingmatrix.user_app.app_requests import parse_requests
from servingmatrix.user_app.app_tree import app_files, inside
from servingmatrix.user_app.config import ENTRY_PACKAGE, WSGI_ENV, UserApp
from servingmatrix.user_app.fields import Fields, written
from servingmatrix.user_app.requirements import parse_requirements

APP_FILE = "app.yml"
KEYS = ("name", "version", "wsgi", "health", "requirements", "env", "seed_sql", "requests")
REQUIRED = ("name", "wsgi", "health", "requirements")
#: The name goes into image tags (``servingmatrix/app:NAME``, ``servingmatrix/<mode>:app-NAME``).
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
NAME_ALLOWED = "1 to 63 of a-z, 0-9, '_', '.', '-', starting with a letter or a digit; not 'latest'"
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_WSGI = re.compile(rf"(?P<module>{_IDENTIFIER}(?:\.{_IDENTIFIER})*):{_IDENTIFIER}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEALTH = re.compile(r"/[A-Za-z0-9/._~?=&-]{0,255}")
HEALTH_ALLOWED = "a path of letters, digits and /._~?=&-, e.g. /healthz"
#: Set by the harness for every server (or by the app's image): an app may not set them itself.
HARNESS_ENV = (
    "PORT",
    "SERVING_MODE",
    "DATABASE_URL",
    "UPSTREAM_URL",
    "PGPASSWORD",
    "PATH",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "A2WSGI_WORKERS",
    WSGI_ENV,
)
MAX_ENV_VALUE = 4096
_LINKS_OUT = "is a symbolic link out of the app's folder (allowed: the app's own package or module)"


def load_app(folder: Path) -> UserApp:
    """The app in ``folder``, its ``app.yml`` checked; one line naming what is wrong."""
    if not folder.is_dir():
        raise UserError(
            f"--app {folder}: not a folder (allowed: a folder holding a WSGI app and its {APP_FILE})"
        )
    path = folder / APP_FILE
    # A FIFO or a folder in its place is not "missing": the reader says what it is.
    if not os.path.lexists(path):
        raise UserError(
            f"{path}: missing (an app folder holds its WSGI app and an {APP_FILE}: see the README)"
        )
    # Here, not at the top: a report names a run's app without reading an app.yml, or loading YAML.
    from servingmatrix.inputs.yaml_files import read_yaml

    data = read_yaml(path, input_files.APP_FILE)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of {', '.join(KEYS)}")
    fields = Fields(path, data)
    fields.known(KEYS, REQUIRED)
    # Checked in the order the keys are listed, so the first wrong one is the one reported.
    name = _name(fields)
    version = _version(fields) if "version" in data else None
    wsgi = _wsgi(fields, folder)
    health = _health(fields)
    requirements = _requirements(fields, folder)
    app = UserApp(
        folder=folder,
        name=name,
        version=version,
        wsgi=wsgi,
        health=health,
        requirements=requirements,
        pins=parse_requirements(requirements),
        env=_env(fields, data.get("env", {})),
        seed_sql=_seed(fields, folder) if "seed_sql" in data else None,
        requests=parse_requests(fields.at("requests"), data["requests"]) if "requests" in data else (),
    )
    # Every file the images would get, none through a link out of the folder: refused now, not at build.
    app_files(folder)
    return app


def _name(fields: Fields) -> str:
    name = fields.text("name", fields.data["name"])
    if not _NAME.fullmatch(name) or name == "latest":
        raise fields.refuse("name", f"{shown(name)} is not allowed (allowed: {NAME_ALLOWED})")
    return name


def _version(fields: Fields) -> str:
    version = fields.text("version", fields.data["version"])
    if not 1 <= len(version) <= 64 or not version.isprintable():
        raise fields.refuse(
            "version", f"{shown(version)} is not allowed (allowed: 1 to 64 printable characters)"
        )
    return version


def _wsgi(fields: Fields, folder: Path) -> str:
    """``module:callable``, the module's top package or file in the folder."""
    value = fields.text("wsgi", fields.data["wsgi"])
    match = _WSGI.fullmatch(value)
    if match is None:
        raise fields.refuse(
            "wsgi", f"{shown(value)} is not module:callable (allowed: e.g. notes_api.wsgi:app)"
        )
    top = match.group("module").split(".", 1)[0]
    if top == ENTRY_PACKAGE:
        raise fields.refuse("wsgi", f"{shown(value)}: {ENTRY_PACKAGE} is the harness's own package")
    package, module = folder / top, folder / f"{top}.py"
    for found in (package, module):
        if (found.is_symlink() or found.exists()) and not inside(folder, found):
            raise fields.refuse("wsgi", f"{shown(value)}: {found} {_LINKS_OUT}")
    if not (package.is_dir() or module.is_file()):
        raise fields.refuse("wsgi", f"{shown(value)}: no {top}/ or {top}.py in {folder}")
    return value


def _health(fields: Fields) -> str:
    """The path readiness and the images' health check poll: a plain path, quoted nowhere."""
    value = fields.text("health", fields.data["health"])
    if not _HEALTH.fullmatch(value):
        raise fields.refuse("health", f"{shown(value)} is not allowed (allowed: {HEALTH_ALLOWED})")
    return value


def _requirements(fields: Fields, folder: Path) -> Path:
    """The requirements file; its lock is written beside it, so it may not be a ``.lock`` itself."""
    path = _file(fields, folder, "requirements")
    if path.suffix == ".lock":
        raise fields.refuse(
            "requirements", f"{shown(path.name)}: its lock goes beside it (allowed: not a .lock)"
        )
    return path


def _file(fields: Fields, folder: Path, key: str) -> Path:
    """A file named relative to the folder, and inside it."""
    value = fields.text(key, fields.data[key])
    path = folder / value
    if not inside(folder, path) or Path(value).is_absolute():
        raise fields.refuse(key, f"{shown(value)} is outside {folder} (allowed: a file in the app's folder)")
    if not path.is_file():
        if os.path.lexists(path):
            kind = node_kind(os.stat(path).st_mode) if path.exists() else "a link to nothing"
            raise fields.refuse(key, f"{shown(value)}: is {kind}, not a regular file in {folder}")
        raise fields.refuse(key, f"{shown(value)}: no such file in {folder}")
    return path


def _seed(fields: Fields, folder: Path) -> Path:
    """The seed SQL, read now (within its bound, as text) so that a run learns of a bad one before any
    engine is reached, not when the backing services start."""
    path = _file(fields, folder, "seed_sql")
    read_text_input(path, input_files.SEED_SQL, "SQL written in UTF-8")
    return path


def _env(fields: Fields, value: Any) -> tuple[tuple[str, str], ...]:
    """The app's environment: names it may set, each to a line of text."""
    where = fields.at("env")
    if not isinstance(value, dict):
        raise where.refuse("", f"{written(value)} is not a mapping (allowed: NAME: value, one a line)")
    out: list[tuple[str, str]] = []
    for name, text in value.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise where.refuse(str(name), "not a variable name (allowed: letters, digits, '_')")
        if name in HARNESS_ENV:
            raise where.refuse(name, f"set by the harness (not allowed: {', '.join(HARNESS_ENV)})")
        line = where.text(name, text)
        if len(line) > MAX_ENV_VALUE or not line.isprintable():
            raise where.refuse(
                name, f"allowed: one line of printable text, at most {MAX_ENV_VALUE} characters"
            )
        out.append((name, line))
    return tuple(out)
