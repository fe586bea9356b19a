"""An app's folder as its images get it: its files, none of them reached through a link out of it.

The folder is copied into the app's image, which may be published. A symbolic link that leads out of
it (``notes_api -> /home/me/other``, ``secrets.py -> ~/.ssh/id_rsa``) would put whatever it names into
the image, so a file named in ``app.yml``, the WSGI module, and every file the image would get are
refused, in one line, when they lead out. A link that stays inside is followed, as a copy would.
"""

from __future__ import annotations

import os
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.spec import shown


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path``, named under ``folder``, stays in it once every link on the way is followed."""
    return path.resolve().is_relative_to(folder.resolve())


def skipped(relative: Path) -> bool:
    """Not copied into the image: hidden files and folders (``.git``, ``.venv``), and bytecode."""
    hidden = any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
    return hidden or relative.suffix in {".pyc", ".pyo"}


def app_files(folder: Path) -> list[Path]:
    """The regular files under ``folder`` an image gets, sorted; a link among them (or a linked
    folder) that leads out of the folder is refused, naming it."""
    files: list[Path] = []
    for top, folders, names in os.walk(folder):
        here = Path(top)
        # Hidden folders (a .venv) are never copied: not walked either.
        folders[:] = sorted(name for name in folders if not skipped(here.relative_to(folder) / name))
        for name in [*folders, *names]:
            path = here / name
            if skipped(path.relative_to(folder)):
                continue
            if path.is_symlink() and not inside(folder, path):
                raise UserError(
                    f"{path}: a symbolic link out of the app's folder (to {shown(os.readlink(path))}); the "
                    f"images get only what {folder} holds (allowed: a file or a link inside it)"
                )
            if name in names and path.is_file():
                files.append(path)
    return sorted(files)
