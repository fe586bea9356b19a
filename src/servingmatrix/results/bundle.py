"""A run packed for publication: one gzip tar holding the run, its matrix, the exact inputs of its
images and its environment, with the SHA-256 of every other member in ``MANIFEST.sha256``.

The members, every one a plain file:

- ``bundle.json``: the format (``kind``, ``schema``), when and by which version it was made, the run
  and its commit, and where the images' inputs came from;
- ``matrix.yml``: the run's matrix as a matrix file (``servingmatrix run --matrix`` reads it);
- ``environment.json``: the machine and software the run measured on (run.json's ``metadata``);
- ``run/``: ``run.json`` and ``cells/`` as they are on disk, and the report (``report.html``), the
  summary (``summary.txt``) and the Markdown export (``report.md``, ``report-charts/``) when present;
  the per-request samples (``sessions/``) only when asked;
- ``inputs/``: ``images/``, ``app/`` and ``locustfiles/`` at the run's commit;
- ``MANIFEST.sha256``: last, in ``sha256sum`` format (``sha256sum -c MANIFEST.sha256`` checks an
  extracted bundle), its comment lines saying where the inputs came from.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from servingmatrix import __version__
from servingmatrix.errors import UserError
from servingmatrix.matrix import matrix_file_text, matrix_from_record
from servingmatrix.results.folder import RUN_FILE
from servingmatrix.results.run import Run, load_run
from servingmatrix.spec import shown

KIND = "servingmatrix-bundle"
#: The bundle format's version: a reader refuses a newer one.
BUNDLE_SCHEMA = 1
BUNDLE_FILE = "bundle.json"
MANIFEST_FILE = "MANIFEST.sha256"
MATRIX_FILE = "matrix.yml"
ENVIRONMENT_FILE = "environment.json"
RUN_DIR = "run"
INPUTS_DIR = "inputs"
#: What a run folder may hold beside run.json and its cells that a publication carries.
PUBLISHED_FILES = ("report.html", "summary.txt", "report.md")
PUBLISHED_DIRS = ("report-charts",)
#: The per-request samples a run kept (``run --keep-samples``): in a bundle only when asked.
SAMPLES_DIR = "sessions"
#: ``sha256sum`` separates the sum from the name with two spaces.
MANIFEST_SEPARATOR = "  "
#: A run's id is its folder's name, and names the reproduction's folder: nothing that leaves a folder.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class InputsSource:
    """Where a bundle's image inputs came from: ``git archive`` of the run's commit, or the working
    tree (asked for with ``--inputs-from-worktree``, and then ``reason`` says why git could not serve)."""

    source: str
    commit: str | None
    reason: str | None = None

    @property
    def from_commit(self) -> bool:
        return self.source == "commit"

    def describe(self) -> str:
        if self.from_commit:
            return f"git archive of commit {self.commit}"
        return f"the working tree when the bundle was made, not the run's commit: {self.reason}"

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "commit": self.commit, "reason": self.reason}

    @classmethod
    def from_json(cls, where: str, data: object) -> InputsSource:
        if not isinstance(data, dict) or data.get("source") not in ("commit", "worktree"):
            raise UserError(f"{where}: 'inputs' is not {{'source': 'commit' or 'worktree', ...}}")
        commit, reason = data.get("commit"), data.get("reason")
        if not isinstance(commit, str | None) or not isinstance(reason, str | None):
            raise UserError(f"{where}: 'inputs' holds a commit or reason that is not text")
        return cls(str(data["source"]), commit, reason)


def inputs_source(
    where: str, metadata: dict[str, Any], commit_known: Callable[[str], bool], from_worktree: bool
) -> InputsSource:
    """Take the inputs at the run's commit; when git cannot give them (no commit recorded, a dirty
    tree, a commit the repository lacks), refuse in one line unless ``from_worktree``."""
    commit = metadata.get("git_commit")
    commit = commit if isinstance(commit, str) and commit else None
    problem = None
    if commit is None:
        problem = "the run records no git commit"
    elif metadata.get("git_dirty") is not False:
        problem = f"the run was made from a tree with uncommitted changes (at commit {commit[:12]})"
    elif not commit_known(commit):
        problem = f"its commit {commit} is not in this repository"
    if problem is None:
        return InputsSource("commit", commit)
    if not from_worktree:
        raise UserError(
            f"{where}: {problem}, so its images' exact inputs cannot be taken from git; "
            "--inputs-from-worktree takes them from the working tree instead, and the bundle says so"
        )
    return InputsSource("worktree", commit, problem)


@dataclass(frozen=True)
class BundleInfo:
    """``bundle.json``."""

    schema: int
    created: str
    tool_version: str
    run_id: str
    commit: str | None
    inputs: InputsSource
    samples: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "schema": self.schema,
            "created": self.created,
            "tool_version": self.tool_version,
            "run_id": self.run_id,
            "commit": self.commit,
            "inputs": self.inputs.as_json(),
            "samples": self.samples,
        }

    @classmethod
    def from_json(cls, where: str, data: dict[str, Any]) -> BundleInfo:
        """bundle.json read back: its kind and schema already checked, the rest checked here."""
        text = {key: data.get(key) for key in ("created", "tool_version", "run_id")}
        for key, value in text.items():
            if not isinstance(value, str) or not value:
                raise UserError(f"{where}: {key!r} is missing or not text")
        if not RUN_ID.fullmatch(str(text["run_id"])):
            raise UserError(
                f"{where}: run_id {shown(str(text['run_id']))} is not a folder's name (letters, digits, "
                "'.', '_' and '-', at most 128, starting with a letter or digit)"
            )
        commit = data.get("commit")
        if not isinstance(commit, str | None):
            raise UserError(f"{where}: 'commit' is not text")
        return cls(
            schema=int(data["schema"]),
            created=str(text["created"]),
            tool_version=str(text["tool_version"]),
            run_id=str(text["run_id"]),
            commit=commit,
            inputs=InputsSource.from_json(where, data.get("inputs")),
            samples=data.get("samples") is True,
        )


@dataclass(frozen=True)
class Written:
    """A bundle written: how many members, and the info it carries."""

    members: int
    info: BundleInfo


def _own(run_dir: Path, path: Path) -> Path:
    """``path`` in the run folder, refused when it, or a folder on the way to it, is a symbolic link:
    a bundle is published, and a link would carry whatever it names (``report.html -> ~/.ssh/id_rsa``)."""
    at = run_dir
    for part in path.relative_to(run_dir).parts:
        at = at / part
        if at.is_symlink():
            raise UserError(
                f"{at}: is a symbolic link; a bundle carries only the run folder's own files (replace the "
                "link with the file it names, or remove it); nothing was written"
            )
    return path


def _files_under(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    """The regular files under ``root``, by their names in the bundle; no link is followed."""
    for top, folders, names in os.walk(root):
        folders.sort()
        for name in [*folders, *sorted(names)]:
            _own(root, Path(top) / name)
        for name in sorted(names):
            path = Path(top) / name
            if path.is_file():
                yield f"{prefix}/{path.relative_to(root).as_posix()}", path


def run_members(run: Run, samples: bool) -> list[tuple[str, Path]]:
    """The run folder's files a bundle carries, by their names in it; none is a symbolic link."""
    run_dir = run.root
    members = [(f"{RUN_DIR}/{RUN_FILE}", run_dir / RUN_FILE)]
    members += [(f"{RUN_DIR}/cells/{cell.path.name}", cell.path) for cell in run.cells]
    members += [
        (f"{RUN_DIR}/{name}", run_dir / name)
        for name in PUBLISHED_FILES
        if (run_dir / name).is_file() or (run_dir / name).is_symlink()
    ]
    for folder in (*PUBLISHED_DIRS, *((SAMPLES_DIR,) if samples else ())):
        if (run_dir / folder).is_dir() or (run_dir / folder).is_symlink():
            _own(run_dir, run_dir / folder)
            members += list(_files_under(run_dir / folder, f"{RUN_DIR}/{folder}"))
    return [(name, _own(run_dir, path)) for name, path in members]


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1) + "\n").encode()


def _check_name(name: str) -> str:
    # sha256sum escapes such names with a backslash; a bundle never needs them.
    if "\n" in name or "\\" in name:
        raise UserError(f"{name!r}: a file name with a newline or a backslash cannot go into a bundle")
    return name


class _Archive:
    """A tar being written, and the sum of every member added to it."""

    def __init__(self, tar: tarfile.TarFile, mtime: float) -> None:
        self.tar = tar
        self.mtime = mtime
        self.sums: list[tuple[str, str]] = []

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        info = tarfile.TarInfo(_check_name(name))
        info.size = len(data)
        info.mtime = int(self.mtime)
        info.mode = 0o755 if executable else 0o644
        self.tar.addfile(info, io.BytesIO(data))
        self.sums.append((hashlib.sha256(data).hexdigest(), name))

    def add_file(self, name: str, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{path}: cannot read ({exc.strerror or exc}); nothing was written") from None
        self.add(name, data, executable=bool(path.stat().st_mode & 0o100))


def manifest_text(sums: list[tuple[str, str]], inputs: InputsSource) -> str:
    lines = [
        f"# {KIND}, schema {BUNDLE_SCHEMA}: the SHA-256 of every other member (sha256sum -c {MANIFEST_FILE})",
        f"# inputs: {inputs.describe()}" + ("" if inputs.from_commit else " (--inputs-from-worktree)"),
    ]
    lines += [f"{digest}{MANIFEST_SEPARATOR}{name}" for digest, name in sums]
    return "\n".join(lines) + "\n"


def write_bundle(
    handle: IO[bytes], run_dir: Path, inputs_dir: Path, inputs: InputsSource, samples: bool
) -> Written:
    """Write the bundle of the run in ``run_dir``, its image inputs taken from ``inputs_dir``."""
    run = load_run(run_dir)
    members = run_members(run, samples)
    matrix = matrix_from_record(f"{run_dir / RUN_FILE}: matrix", run.record.matrix)
    created = datetime.now(UTC)
    info = BundleInfo(
        schema=BUNDLE_SCHEMA,
        created=created.isoformat(timespec="seconds"),
        tool_version=__version__,
        run_id=run_dir.resolve().name,
        commit=inputs.commit,
        inputs=inputs,
        samples=any(name.startswith(f"{RUN_DIR}/{SAMPLES_DIR}/") for name, _ in members),
    )
    header = f"# The matrix of run {info.run_id}, as `servingmatrix run --matrix` reads it.\n"
    with tarfile.open(fileobj=handle, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        archive = _Archive(tar, created.timestamp())
        archive.add(BUNDLE_FILE, _json_bytes(info.as_json()))
        archive.add(MATRIX_FILE, (header + matrix_file_text(matrix)).encode())
        archive.add(ENVIRONMENT_FILE, _json_bytes(run.metadata))
        for name, path in members:
            archive.add_file(name, path)
        for name, path in _files_under(inputs_dir, INPUTS_DIR):
            archive.add_file(name, path)
        archive.add(MANIFEST_FILE, manifest_text(archive.sums, inputs).encode())
    return Written(len(archive.sums), info)
