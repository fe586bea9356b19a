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
from servingmatrix.inputs import input_files
from servingmatrix.inputs.json_input import read_json_input
from servingmatrix.paths import project_root
from servingmatrix.results.folder import CELLS_DIR, RESULT_MODE, RUN_FILE, RunFolder
from servingmatrix.results.run import load_run
from servingmatrix.spec import shown

ENV = "SERVINGMATRIX_BASELINES"
INFO_FILE = "baseline.json"
#: A baseline's folders: readable and listable by everyone, as with `umask 022`.
SHARED_DIR_MODE = 0o755
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def baselines_dir() -> Path:
    override = os.environ.get(ENV)
    return Path(override) if override else project_root() / "reports" / "baselines"


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(
            f"baseline name {shown(name)} is not allowed (letters, digits, '.', '_' and '-', at most 64, "
            "starting with a letter or digit)"
        )
    return name


def save_baseline(run_dir: Path, name: str | None = None, force: bool = False) -> Path:
    """Copy a checked run as baseline ``name`` (default: the run folder's name); return its folder."""
    run = load_run(run_dir)
    name = _check_name(run_dir.resolve().name if name is None else name)
    target = baselines_dir() / name
    source = run_dir.resolve()
    if source == target.resolve() or target.resolve() in source.parents:
        # Replacing it would delete the run being saved (its report, its samples) before copying it.
        raise UserError(f"{run_dir}: is the baseline {name!r} itself; it is saved already")
    if target.exists() and not force:
        raise UserError(f"baseline {name!r} exists in {target.parent}; give another name or --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Assembled beside its destination and renamed into place: a half-copied baseline never exists.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        # Baselines are committed and shared: readable by everyone whatever the run's files were.
        os.chmod(staging, SHARED_DIR_MODE)
        _copy_shared(run_dir / RUN_FILE, staging / RUN_FILE)
        (staging / CELLS_DIR).mkdir(mode=SHARED_DIR_MODE)
        for cell in run.cells:
            _copy_shared(cell.path, staging / CELLS_DIR / cell.path.name)
        info = {
            "schema": 1,
            "name": name,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(run_dir.resolve()),
        }
        (staging / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")
        os.chmod(staging / INFO_FILE, RESULT_MODE)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UserError(
            f"{target}: cannot save the baseline ({exc.strerror or exc}); nothing was saved"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _copy_shared(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    os.chmod(target, RESULT_MODE)


@dataclass(frozen=True)
class BaselineInfo:
    name: str
    saved_at: str
    started_at: str
    modes: int
    cells: int
    machine: str


def _saved_folders() -> list[Path]:
    """The folders of saved baselines, by name, without reading them."""
    root = baselines_dir()
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and RunFolder(p).exists()
    )


def list_baselines() -> list[BaselineInfo]:
    found = []
    for folder in _saved_folders():
        try:
            run = load_run(folder)
        except UserError as exc:
            # One damaged baseline must not hide the others: it is listed with what is wrong.
            found.append(BaselineInfo(folder.name, "—", "—", 0, 0, f"unreadable: {exc}"))
            continue
        try:
            info = read_json_input(folder / INFO_FILE, input_files.BASELINE_INFO)
        except UserError:
            info = None
        saved = info.get("saved_at", "—") if isinstance(info, dict) else "—"
        found.append(
            BaselineInfo(
                name=folder.name,
                saved_at=str(saved),
                started_at=str(run.record.started_at or "—"),
                modes=len({c.record.mode for c in run.cells}),
                cells=len(run.cells),
                machine=run.testbed,
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
    saved = ", ".join(p.name for p in _saved_folders()) or "none"
    raise UserError(
        f"{text}: neither a run folder nor a saved baseline (saved in {baselines_dir()}: {saved})"
    )
