"""Where the project's files are: the checkout this package runs from, or SERVINGMATRIX_ROOT.

The image build reads its inputs (``images/``, ``app/``, ``locustfiles/``) from ``inputs_root()``:
the checkout, unless ``inputs_from`` names another folder for a while (``reproduce`` builds a
bundle's inputs so). Everything else (profiles, reports, the wheelhouse cache) stays the checkout's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_INPUTS: ContextVar[Path | None] = ContextVar("servingmatrix_inputs_root", default=None)


def project_root() -> Path:
    override = os.environ.get("SERVINGMATRIX_ROOT")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def inputs_root() -> Path:
    """The folder holding the images' inputs: the one ``inputs_from`` names, or the project root."""
    chosen = _INPUTS.get()
    return chosen if chosen is not None else project_root()


@contextmanager
def inputs_from(root: Path) -> Iterator[Path]:
    """Within the block, images are built from (and their locks read in) ``root`` instead."""
    token = _INPUTS.set(root.resolve())
    try:
        yield root
    finally:
        _INPUTS.reset(token)


def images_dir() -> Path:
    return inputs_root() / "images"


def cache_dir() -> Path:
    return project_root() / ".cache"
