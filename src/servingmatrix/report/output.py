"""Pages and images written whole: a reader (or a browser) never sees half a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from servingmatrix.errors import UserError


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside ``path``, then rename over it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
