"""Pages and exports written whole: a reader (or a browser) never sees half a file, and a run's own
files are never written over.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from servingmatrix.errors import UserError
from servingmatrix.inputs.input_files import node_kind
from servingmatrix.inputs.user_paths import kernel_root, unusable
from servingmatrix.results.folder import is_run_record
from servingmatrix.spec import shown

#: Pages and exports are meant to be published: readable by everyone, as a file made with `umask 022`.
PUBLISHED_MODE = 0o644

T = TypeVar("T")


#: The names an output option takes for the standard streams: ``-`` is standard output.
STREAMS = {"-": "stdout", "/dev/stdout": "stdout", "/dev/stderr": "stderr"}
ALLOWED = "a regular file, a new name, or - for standard output"


def stream_of(path: Path | str) -> IO[bytes] | None:
    """The standard stream an output path names (``-``, ``/dev/stdout``, ``/dev/stderr``), or None."""
    name = STREAMS.get(str(path))
    if name is None:
        return None
    return sys.stdout.buffer if name == "stdout" else sys.stderr.buffer


def check_output_path(path: Path, *, streams: bool = True) -> None:
    """Refuse, in one line and before anything is computed, an output path that is not a regular file
    or a new name (a symbolic link, a FIFO, a device or a folder would be replaced by a file), or is one
    of a run's own records; ``-``, ``/dev/stdout`` and ``/dev/stderr`` are the streams (where
    ``streams``)."""
    text = str(path)
    if text in STREAMS:
        if streams:
            return
        raise UserError(f"{text}: this output is a page with files beside it; give the name of a file")
    if not text.strip():
        raise UserError(f"output {text!r} is empty; give {ALLOWED}")
    problem = unusable(path)
    if problem is not None:
        raise UserError(f"output {shown(text)}: {problem}; give {ALLOWED}")
    root = kernel_root(path)
    if root is not None:
        raise UserError(f"{path}: is under {root}, the kernel's, where no output goes; give {ALLOWED}")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{path}: {parent} is not a folder; give {ALLOWED}")
    try:
        node = os.lstat(path)
    except FileNotFoundError:
        node = None
    except OSError as exc:
        raise UserError(f"{path}: cannot be checked ({exc.strerror or exc}); nothing was written") from None
    if node is not None and not stat.S_ISREG(node.st_mode):
        raise UserError(f"{path}: is {node_kind(node.st_mode)}, which would be replaced; give {ALLOWED}")
    if is_run_record(path):
        raise UserError(f"{path}: is one of a run's own result files; write the output elsewhere")


def write_atomic(path: Path, produce: Callable[[IO[bytes]], T]) -> T:
    """Let ``produce`` write the file beside ``path``, then rename it over ``path`` (or write to the
    stream it names); any refusal of the file system is one line, and an error of ``produce`` leaves
    nothing behind."""
    check_output_path(path)
    stream = stream_of(path)
    if stream is not None:
        result = produce(stream)
        stream.flush()
        return result
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
