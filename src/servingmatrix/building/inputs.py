"""The images' inputs as files: the folders the image build reads, taken at a commit or as they stand.

The build stages each image's context from ``images/<name>/``, ``app/`` and ``locustfiles/`` (see
``images.py``); the base image and the wheels come from elsewhere (a registry or debootstrap, and
PyPI through the locks, which are in ``images/``). So those three folders are what a run's images
were made from, and ``git archive`` of them at the run's commit gives them back exactly, however far
the checkout has moved on since.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from servingmatrix.errors import UserError

#: The folders of the project the image build reads.
INPUT_FOLDERS = ("images", "app", "locustfiles")
GIT_TIMEOUT_S = 120


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise UserError("git is not installed; it is needed to take the images' inputs at a commit") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"git {args[0]} did not finish within {GIT_TIMEOUT_S} s in {repo}") from None


def has_commit(repo: Path, commit: str) -> bool:
    """Whether the repository at ``repo`` holds ``commit``."""
    return _git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def export_at_commit(repo: Path, commit: str, into: Path) -> None:
    """Write the input folders as they were at ``commit`` into ``into`` (modes kept, nothing else)."""
    if not has_commit(repo, commit):
        raise UserError(f"commit {commit} is not in the repository at {repo}")
    listed = _git(repo, "ls-tree", "--name-only", commit, "--", *INPUT_FOLDERS)
    present = listed.stdout.decode().split()
    archive = _git(repo, "archive", "--format=tar", commit, "--", *present)
    if archive.returncode != 0 or not present:
        last = (archive.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise UserError(f"git archive of {commit} in {repo} failed: {last}")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # git's own archive of its own tree: the data filter still refuses anything unsafe.
        tar.extractall(into, filter="data")


def ignored(rel: Path) -> bool:
    """Whether the build leaves a file out of an image's context: Python's caches."""
    return "__pycache__" in rel.parts or rel.suffix in {".pyc", ".pyo"}


def copy_tree(source: Path, target: Path) -> None:
    """Copy every file under ``source`` to ``target`` (modes kept), less what the build leaves out."""
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if ignored(rel) or not path.is_file():
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


def export_worktree(root: Path, into: Path) -> None:
    """Write the input folders as they stand in ``root`` into ``into``: every file the build would stage."""
    for folder in INPUT_FOLDERS:
        if (root / folder).is_dir():
            copy_tree(root / folder, into / folder)
