"""Lock files: exact versions with hashes for every package an image installs.

``requirements.in`` holds an image's top-level pins; ``requirements.lock`` is resolved from it for
CPython 3.13 on Linux and carries the hash of every distribution of each pinned version, so the same
lock serves x86_64 and aarch64 machines.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.input_files import read_text_input

PYTHON_VERSION = "3.13"
_REQ = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s\\;]+)")
_HASH = re.compile(r"--hash=sha256:(?P<digest>[0-9a-f]{64})")


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    hashes: frozenset[str]

    @property
    def key(self) -> str:
        return canonical_name(self.name)


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(path: Path) -> list[LockedPackage]:
    """Read a hash-pinned requirements file; refuse one that is not fully pinned and hashed."""
    text = read_text_input(path, input_files.LOCK, "pinned requirements with their hashes, in UTF-8")
    packages: list[LockedPackage] = []
    name = version = ""
    hashes: set[str] = set()
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("--hash") else raw.strip()
        if not line:
            continue
        match = _REQ.match(line)
        if match is None:
            raise UserError(f"{path}: {line.split()[0]!r} is not pinned with == (run `servingmatrix lock`)")
        name, version = match.group("name"), match.group("version")
        hashes = {m.group("digest") for m in _HASH.finditer(line)}
        if not hashes:
            raise UserError(f"{path}: {name}=={version} has no --hash (run `servingmatrix lock`)")
        packages.append(LockedPackage(name, version, frozenset(hashes)))
    return packages


def lock_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compile_lock(
    requirements_in: Path, lock: Path, constraints: Path | None = None, cwd: Path | None = None
) -> None:
    """Resolve ``requirements_in`` into ``lock`` with uv, for CPython 3.13 on Linux.

    ``constraints`` (the app image's lock, for a mode) holds every package it names at that version,
    so a mode's image can start from the shared app image and add only its server. Paths are
    relative to ``cwd`` when given (the lock's comments then name the files as the folder sees them).
    """
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        raise UserError("uv is needed to write lock files: install the dev tools with `make venv`")
    proc = subprocess.run(
        [
            uv,
            "pip",
            "compile",
            str(requirements_in),
            "--output-file",
            str(lock),
            "--python-version",
            PYTHON_VERSION,
            "--python-platform",
            "x86_64-manylinux_2_28",
            "--generate-hashes",
            "--no-header",
            "--quiet",
            "--custom-compile-command",
            "servingmatrix lock",
            *(["--constraint", str(constraints)] if constraints is not None else []),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        where = cwd / requirements_in if cwd is not None else requirements_in
        raise UserError(f"{where}: resolving the lock failed: {tail[0]}")
