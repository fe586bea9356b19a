"""Named baselines kept outside the run folder, so an ops team can hold a new run against them.

A baseline is a copy of a run's ``run.json`` and ``cells/`` (nothing else: no samples, no report)
under ``reports/baselines/NAME/``, or under ``$SERVINGMATRIX_BASELINES``; it is small enough to
commit beside the deployment it describes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.paths import project_root
from servingmatrix.results.folder import CELLS_DIR, RUN_FILE, RunFolder
from servingmatrix.results.run import load_run

ENV = "SERVINGMATRIX_BASELINES"
INFO_FILE = "baseline.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def baselines_dir() -> Path:
    override = os.environ.get(ENV)
    return Path(override) if override else project_root() / "reports" / "baselines"


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(
            f"baseline name {name!r} is not allowed (letters, digits, '.', '_' and '-', at most 64, "
            "starting with a letter or digit)"
        )
    return name


def save_baseline(run_dir: Path, name: str | None = None, force: bool = False) -> Path:
    """Copy a checked run as baseline ``name`` (default: the run folder's name); return its folder."""
    run = load_run(run_dir)
    name = _check_name(name or run_dir.resolve().name)
    target = baselines_dir() / name
    if target.exists() and not force:
        raise UserError(f"baseline {name!r} exists in {target.parent}; give another name or --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Assembled beside its destination and renamed into place: a half-copied baseline never exists.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        shutil.copy2(run_dir / RUN_FILE, staging / RUN_FILE)
        (staging / CELLS_DIR).mkdir()
        for cell in run.cells:
            shutil.copy2(cell.path, staging / CELLS_DIR / cell.path.name)
        info = {
            "schema": 1,
            "name": name,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(run_dir.resolve()),
        }
        (staging / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


@dataclass(frozen=True)
class BaselineInfo:
    name: str
    saved_at: str
    started_at: str
    modes: int
    cells: int
    machine: str


def list_baselines() -> list[BaselineInfo]:
    root = baselines_dir()
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not RunFolder(folder).exists():
            continue
        run = load_run(folder)
        try:
            saved = json.loads((folder / INFO_FILE).read_text()).get("saved_at", "—")
        except (OSError, ValueError, AttributeError):
            saved = "—"
        meta = run.metadata
        machine = ", ".join(
            str(v)
            for v in (meta.get("cpu_model"), meta.get("cpu_count") and f"{meta['cpu_count']} CPUs")
            if v
        )
        found.append(
            BaselineInfo(
                name=folder.name,
                saved_at=str(saved),
                started_at=str(run.meta.get("started_at") or "—"),
                modes=len({c.mode for c in run.cells}),
                cells=len(run.cells),
                machine=machine or "not recorded",
            )
        )
    return found


def resolve_baseline(text: str) -> Path:
    """A run folder given by path, or a saved baseline given by name."""
    path = Path(text)
    if RunFolder(path).exists():
        return path
    if _NAME.match(text) and RunFolder(baselines_dir() / text).exists():
        return baselines_dir() / text
    saved = ", ".join(b.name for b in list_baselines()) or "none"
    raise UserError(
        f"{text}: neither a run folder nor a saved baseline (saved in {baselines_dir()}: {saved})"
    )
