"""The host-built wheelhouse images install from, so no build needs the network inside a container.

Wheels are downloaded once per lock file for CPython 3.13 on the engine's architecture, then
verified against the lock's hashes; a manifest per lock remembers which files belong to it, so a
warm build neither resolves nor downloads anything.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from servingmatrix.building.locks import (
    PYTHON_VERSION,
    LockedPackage,
    canonical_name,
    lock_digest,
    parse_lock,
)
from servingmatrix.errors import UserError

_MANYLINUX = ("2_17", "2_24", "2_28", "2_31", "2_34", "2_35", "2_36", "2_38", "2_39", "2_41")


def platform_tags(arch: str) -> list[str]:
    """Wheel platform tags the base image (glibc 2.41) accepts on ``arch``."""
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(arch)
    if machine is None:
        raise UserError(f"unsupported Docker architecture {arch!r} (supported: x86_64, aarch64)")
    return [f"manylinux2014_{machine}", *(f"manylinux_{v}_{machine}" for v in _MANYLINUX), "any"]


def wheel_project(path: Path) -> str:
    return canonical_name(path.name.split("-", 1)[0])


def requirement_line(package: LockedPackage) -> str:
    """A lock's line for ``package``: its pin and the hashes of its distributions."""
    hashes = " ".join(f"--hash=sha256:{digest}" for digest in sorted(package.hashes))
    return f"{package.name}=={package.version} {hashes}\n"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Wheelhouse:
    """Wheels in one folder, with a manifest per (lock, architecture)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifests = root / "manifests"

    def prefetch(self, locks: list[Path], arch: str, workers: int) -> None:
        """Download every wheel the locks need and the folder lacks, each once, ``workers`` at a time.

        Builds then find their wheels here; a lock whose manifest is complete costs nothing.
        """
        wanted: dict[tuple[str, str], str] = {}
        for lock in locks:
            manifest = self._manifest(lock, arch)
            if manifest.exists() and all((self.root / n).exists() for n in manifest.read_text().split()):
                continue
            for package in parse_lock(lock):
                if self._present(package, arch) is None:
                    wanted.setdefault((package.key, package.version), requirement_line(package))
        if not wanted:
            return
        lines = sorted(wanted.values())
        shares = [lines[i :: max(1, workers)] for i in range(max(1, workers))]
        with tempfile.TemporaryDirectory(prefix="servingmatrix-wheels-") as tmp:
            requirement_files = []
            for index, share in enumerate(s for s in shares if s):
                path = Path(tmp) / f"share-{index}.txt"
                path.write_text("".join(share))
                requirement_files.append(path)
            with ThreadPoolExecutor(max_workers=len(requirement_files)) as pool:
                # pip's last line names the requirement it could not fetch (no wheel for the platform).
                list(pool.map(lambda path: self._pip_download(path, arch, str(self.root)), requirement_files))

    def _manifest(self, lock: Path, arch: str) -> Path:
        return self.manifests / f"{lock_digest(lock)}-{arch}.txt"

    def wheels_for(self, lock: Path, arch: str) -> list[Path]:
        """The verified wheels of ``lock``, downloading what is missing."""
        manifest = self._manifest(lock, arch)
        if manifest.exists():
            wheels = [self.root / name for name in manifest.read_text().split()]
            if all(w.exists() for w in wheels):
                self._verify(lock, wheels)
                return wheels
        wheels = self._download(lock, arch)
        self._verify(lock, wheels)
        self.manifests.mkdir(parents=True, exist_ok=True)
        tmp = manifest.with_suffix(".tmp")
        tmp.write_text("".join(f"{w.name}\n" for w in wheels))
        tmp.replace(manifest)
        return wheels

    def _download(self, lock: Path, arch: str) -> list[Path]:
        self._pip_download(lock, arch, str(lock))
        return [self._find(package, arch) for package in parse_lock(lock)]

    def _pip_download(self, requirements: Path, arch: str, what: str) -> None:
        """``pip download`` of hash-pinned ``requirements`` for CPython 3.13 on ``arch``, no resolving."""
        self.root.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary",
            ":all:",
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
            "--abi",
            f"cp{PYTHON_VERSION.replace('.', '')}",
            "--abi",
            "abi3",
            "--abi",
            "none",
            "--require-hashes",
            "--no-deps",
            "--dest",
            str(self.root),
            "-r",
            str(requirements),
        ]
        for tag in platform_tags(arch):
            args += ["--platform", tag]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=1200, check=False)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise UserError(
                f"{what}: downloading wheels for CPython {PYTHON_VERSION}/{arch} failed: {tail[0]}"
            )

    def _present(self, package: LockedPackage, arch: str) -> Path | None:
        """The wheel of ``package`` already in the folder with one of its locked hashes, if any."""
        try:
            wheel = self._find(package, arch)
        except UserError:
            return None
        return wheel if _sha256(wheel) in package.hashes else None

    def _find(self, package: LockedPackage, arch: str) -> Path:
        """The downloaded wheel of ``package`` for ``arch`` (pip names files after the project)."""
        tags = set(platform_tags(arch))
        for wheel in sorted(self.root.glob("*.whl")):
            parts = wheel.name[: -len(".whl")].split("-")
            if canonical_name(parts[0]) != package.key or parts[1] != package.version:
                continue
            if any(tag in tags for tag in parts[-1].split(".")):
                return wheel
        raise UserError(f"no wheel of {package.name}=={package.version} for CPython {PYTHON_VERSION}/{arch}")

    def _verify(self, lock: Path, wheels: list[Path]) -> None:
        locked = {p.key: p for p in parse_lock(lock)}
        for wheel in wheels:
            package = locked.get(wheel_project(wheel))
            if package is None:
                raise UserError(f"{wheel.name}: not in {lock}; delete {self.root} and build again")
            if _sha256(wheel) not in package.hashes:
                raise UserError(f"{wheel.name}: hash does not match {lock}; delete the file and build again")
        missing = set(locked) - {wheel_project(w) for w in wheels}
        if missing:
            raise UserError(f"{lock}: no wheel for {', '.join(sorted(missing))} on CPython {PYTHON_VERSION}")
