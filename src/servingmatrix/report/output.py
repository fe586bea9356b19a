"""Pages and exports written whole: a reader (or a browser) never sees half a file, and a run's own
files are never written over.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from servingmatrix.errors import UserError
from servingmatrix.results.folder import is_run_file

#: Pages and exports are meant to be published: readable by everyone, as a file made with `umask 022`.
PUBLISHED_MODE = 0o644

T = TypeVar("T")


def check_output_path(path: Path) -> None:
    """Refuse, in one line, an output path that is a folder or one of a run's own result files."""
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give the name of the file to write")
    if is_run_file(path):
        raise UserError(f"{path}: is one of the run's own result files; write the output elsewhere")


def write_atomic(path: Path, produce: Callable[[IO[bytes]], T]) -> T:
    """Let ``produce`` write the file beside ``path``, then rename it over ``path``; any refusal of the
    file system is one line, and an error of ``produce`` leaves nothing behind."""
    check_output_path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            result = produce(handle)
        os.chmod(tmp, PUBLISHED_MODE)
        os.replace(tmp, path)
        return result
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror or exc}); nothing was written there") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path``, then rename over it."""
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))
