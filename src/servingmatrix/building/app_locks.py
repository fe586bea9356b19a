"""A user's app's locks: its own, beside its requirements file, and one per mode in the cache.

``servingmatrix lock --app DIR`` resolves the requirements file (say ``requirements.txt``) with hashes
into ``requirements.lock`` beside it: the app's lock is the user's to commit, like the file it comes
from, and nothing else of theirs is written. Each mode's server is then resolved within that lock
(``--constraint``) into ``.cache/apps/<name>/locks/<mode>.lock``, so a mode's image starts from the
app's image and adds only its server, and the bundled app's ``images/<mode>/requirements.lock`` stay
as they are. Builds check the locks first and never resolve anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from servingmatrix.building.dockerfiles import render_requirements_in
from servingmatrix.building.locks import canonical_name, compile_lock, parse_lock
from servingmatrix.errors import UserError
from servingmatrix.modes import Mode
from servingmatrix.paths import cache_dir
from servingmatrix.say import Say
from servingmatrix.user_app import UserApp


def app_lock(app: UserApp) -> Path:
    """The app's lock, beside its requirements file: ``requirements.txt`` gives ``requirements.lock``."""
    return app.requirements.with_suffix(".lock")


def app_cache(app: UserApp) -> Path:
    """The harness's files of this app: its modes' pins and locks."""
    return cache_dir() / "apps" / app.name


def mode_lock(app: UserApp, mode: Mode) -> Path:
    return app_cache(app) / "locks" / f"{mode.name}.lock"


def _pinned(line: str) -> tuple[str, str]:
    """``gunicorn[gevent]==27.0.1`` as (canonical name, version)."""
    name, _, version = line.partition("==")
    return canonical_name(name.split("[", 1)[0]), version


def _lacks(mode: Mode, locked: dict[str, str]) -> str | None:
    """Why the app cannot be served by ``mode``: a package its server comes with is not in the app's lock."""
    missing = [name for name in mode.from_app if canonical_name(name) not in locked]
    if not missing:
        return None
    return f"{mode.name} serves the app with what its lock brings, and it has no {', '.join(missing)}"


def lock_app(app: UserApp, modes: Iterable[Mode], say: Say, *, every_mode: bool) -> None:
    """Resolve the app's lock, then each mode's within it (``lock_modes``)."""
    lock = app_lock(app)
    compile_lock(Path(app.requirements.name), Path(lock.name), cwd=app.requirements.parent)
    say(f"locked {lock}")
    lock_modes(app, modes, say, every_mode=every_mode)


def lock_modes(app: UserApp, modes: Iterable[Mode], say: Say, *, every_mode: bool) -> None:
    """Resolve each mode's server within the app's lock; a mode the app's lock cannot serve is skipped
    when every mode was asked for, and refused when it was named."""
    lock = app_lock(app)
    locked = {p.key: p.version for p in parse_lock(lock)}
    folder = app_cache(app) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    for mode in modes:
        why = _lacks(mode, locked)
        if why is not None:
            if not every_mode:
                raise UserError(f"{app.requirements}: {why} (add it, pinned with ==)")
            say(f"skipped {mode.name}: {why}")
            continue
        source = folder / f"{mode.name}.in"
        pins = (*(pin.line for pin in app.pins), *mode.server_packages)
        source.write_text(render_requirements_in(f"{mode.name}:app-{app.name}", pins, f"{app.requirements}"))
        compile_lock(Path(source.name), Path(mode_lock(app, mode).name), lock.resolve(), cwd=folder)
        say(f"locked {mode_lock(app, mode)}")


def servable_modes(app: UserApp, modes: Iterable[Mode]) -> list[Mode]:
    """The modes that can serve ``app`` (all of them for a Flask app): those ``lock`` does not skip."""
    lock = app_lock(app)
    locked = {p.key: p.version for p in parse_lock(lock)} if lock.is_file() else {}
    return [mode for mode in modes if not locked or _lacks(mode, locked) is None]


def check_locks(app: UserApp, modes: Iterable[Mode]) -> None:
    """Refuse, in one line, a build whose locks are missing or stale: before anything is built."""
    lock = app_lock(app)
    hint = f"run `{app.relock}` (it resolves with PyPI)"
    # A FIFO or a folder there is not missing: the lock's reader names what it is.
    if not os.path.lexists(lock):
        raise UserError(f"{lock}: missing, the lock of {app.requirements}; {hint}")
    locked = {p.key: p.version for p in parse_lock(lock)}
    for pin in app.pins:
        if locked.get(canonical_name(pin.name)) != pin.version:
            raise UserError(f"{lock}: holds no {pin.line}, which {app.requirements} pins; {hint}")
    for mode in modes:
        why = _lacks(mode, locked)
        if why is not None:
            raise UserError(f"{app.requirements}: {why} (add it, pinned with ==)")
        _check_mode_lock(mode_lock(app, mode), mode, locked, hint)


def _check_mode_lock(path: Path, mode: Mode, locked: dict[str, str], hint: str) -> None:
    if not path.is_file():
        raise UserError(f"{path}: missing, the lock of {mode.name} for this app; {hint}")
    own = {p.key: p.version for p in parse_lock(path)}
    wanted = [*locked.items(), *(_pinned(line) for line in mode.server_packages)]
    for name, version in wanted:
        if own.get(name) != version:
            raise UserError(f"{path}: {name} is not at {version}; {hint}")
