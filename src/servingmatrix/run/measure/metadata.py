"""Run metadata, collected rather than typed: small ``collect_*`` functions filling one dict.

Each collector tolerates a missing source (pyperf's habit): what cannot be read is left out, and a
run never fails for want of metadata.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from servingmatrix import __version__
from servingmatrix.building.app_images import app_catalogue
from servingmatrix.building.app_locks import app_lock
from servingmatrix.building.images import APP_IMAGE_NAME, Catalogue, all_images, image_def, inputs_tag
from servingmatrix.building.locks import parse_lock
from servingmatrix.engine.docker import ContainerSpec, Docker
from servingmatrix.paths import project_root
from servingmatrix.user_app import BUNDLED_NAME, UserApp

#: Keys that must agree before two runs' figures may be set side by side without a warning.


def collect_host(meta: dict[str, Any]) -> None:
    meta["cpu_count"] = os.cpu_count()
    meta["kernel"] = platform.release()
    meta["machine"] = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                meta["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                meta["memory_total_kb"] = int(line.split()[1])
                break
    except OSError:
        pass


def collect_docker(meta: dict[str, Any], docker: Docker) -> None:
    info = docker.info()
    meta["docker_version"] = info.get("ServerVersion")
    meta["cgroup_version"] = info.get("CgroupVersion")
    meta["cgroup_driver"] = info.get("CgroupDriver")
    meta["storage_driver"] = info.get("Driver")
    meta["docker_cpus"] = info.get("NCPU")


def _git(folder: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_state(folder: Path) -> tuple[str, bool] | None:
    """The commit of the checkout ``folder`` is in, and whether ``folder``'s tracked files changed since."""
    commit = _git(folder, "rev-parse", "HEAD")
    if not commit:
        return None
    return commit, bool(_git(folder, "status", "--porcelain", "--untracked-files=no", "--", "."))


def collect_git(meta: dict[str, Any]) -> None:
    commit = _git(project_root(), "rev-parse", "HEAD")
    if commit:
        meta["git_commit"] = commit
        meta["git_dirty"] = bool(_git(project_root(), "status", "--porcelain", "--untracked-files=no"))


def collect_harness(meta: dict[str, Any]) -> None:
    meta["harness_version"] = __version__
    meta["python"] = platform.python_version()
    meta["command_line"] = [Path(sys.argv[0]).name, *sys.argv[1:]]


def collect_images(
    meta: dict[str, Any], docker: Docker, names: Iterable[str], catalogue: Catalogue | None = None
) -> None:
    """Image ids, digests, labels, and the exact packages each was installed from (its lock)."""
    known = catalogue if catalogue is not None else {image.name: image for image in all_images()}
    images: dict[str, Any] = {}
    for name in names:
        image = known.get(name)
        info = docker.image_inspect(image.ref) if image is not None else None
        if image is None or info is None:
            continue
        entry: dict[str, Any] = {
            "ref": image.ref,
            "id": info.get("Id"),
            "digests": info.get("RepoDigests") or [],
            "created": info.get("Created"),
            "size_bytes": info.get("Size"),
            "labels": (info.get("Config") or {}).get("Labels") or {},
            # The tag that names the hash of the inputs it was built from (see building/images.py).
            "inputs": inputs_tag(image, info.get("RepoTags") or []),
        }
        lock = image.lock
        if lock is not None and lock.exists():
            entry["lock_sha256"] = hashlib.sha256(lock.read_bytes()).hexdigest()
            entry["packages"] = {p.name: p.version for p in parse_lock(lock)}
        images[name] = entry
    meta["images"] = images


#: ``wrk --version`` prints e.g. ``wrk debian/4.1.0-4 [epoll] Copyright (C) 2012 Will Glozer``.
_WRK_VERSION = re.compile(r"^wrk (\S+)")


def collect_wrk_version(meta: dict[str, Any], docker: Docker) -> None:
    """The reference generator's version, read once from its image; nothing when the image is absent."""
    entry = (meta.get("images") or {}).get("wrk")
    if entry is None:
        return
    # wrk prints its version, then its usage, and exits 1: the output is what counts, not the code.
    spec = ContainerSpec(
        name=f"servingmatrix-wrk-version-{os.getpid()}",
        image="servingmatrix/wrk:latest",
        command=("--version",),
        network="none",
    )
    docker.remove_containers([spec.name])
    _, output = docker.run_once(spec, timeout=60)
    first = output.strip().splitlines()[0] if output.strip() else ""
    found = _WRK_VERSION.match(first)
    if found:
        entry["packages"] = {"wrk": found.group(1)}
        entry["version_line"] = first


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def collect_app(meta: dict[str, Any], app: UserApp | None) -> None:
    """Which app the run measures: its name, version, git commit, lock hash and declared requests."""
    if app is None:
        lock = image_def(APP_IMAGE_NAME).lock
        meta["app"] = {"name": BUNDLED_NAME, "bundled": True, "lock_sha256": lock and _sha256(lock)}
        return
    record: dict[str, Any] = {
        "name": app.name,
        "bundled": False,
        "folder": str(app.folder),
        "version": app.version,
        "wsgi": app.wsgi,
        "health": app.health,
        "lock_sha256": _sha256(app_lock(app)),
        "requests": [
            {
                "name": r.name,
                "method": r.method,
                "path": r.path,
                "weight": r.weight,
                "statuses": list(r.statuses),
            }
            for r in app.requests
        ],
    }
    state = git_state(app.folder.resolve())
    if state is not None:
        record["git_commit"], record["git_dirty"] = state
    meta["app"] = record


def collect_metadata(
    docker: Docker, image_names: Iterable[str], app: UserApp | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    image_names = list(image_names)
    catalogue = app_catalogue(app) if app is not None else None
    collectors: list[Callable[[dict[str, Any]], None]] = [
        collect_host,
        lambda m: collect_docker(m, docker),
        collect_git,
        collect_harness,
        lambda m: collect_app(m, app),
        lambda m: collect_images(m, docker, image_names, catalogue),
        lambda m: collect_wrk_version(m, docker),
    ]
    for collect in collectors:
        try:
            collect(meta)
        except Exception as exc:  # a collector must never end a run
            meta.setdefault("metadata_errors", []).append(f"{exc.__class__.__name__}: {exc}")
    return meta
