"""Where the project's files are: the checkout this package runs from, or SERVINGMATRIX_ROOT."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    override = os.environ.get("SERVINGMATRIX_ROOT")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def images_dir() -> Path:
    return project_root() / "images"


def cache_dir() -> Path:
    return project_root() / ".cache"
