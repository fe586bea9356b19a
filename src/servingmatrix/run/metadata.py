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
from servingmatrix.building.locks import parse_lock
from servingmatrix.docker import Docker
from servingmatrix.paths import images_dir, project_root
from servingmatrix.run.stack import HARDENING

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


def collect_git(meta: dict[str, Any]) -> None:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=project_root(), capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit:
        meta["git_commit"] = commit
        meta["git_dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))


def collect_harness(meta: dict[str, Any]) -> None:
    meta["harness_version"] = __version__
    meta["python"] = platform.python_version()
    meta["command_line"] = [Path(sys.argv[0]).name, *sys.argv[1:]]


def collect_images(meta: dict[str, Any], docker: Docker, names: Iterable[str]) -> None:
    """Image ids, digests, labels, and the exact packages each was installed from (its lock)."""
    images: dict[str, Any] = {}
    for name in names:
        info = docker.image_inspect(f"servingmatrix/{name}:latest")
        if info is None:
            continue
        entry: dict[str, Any] = {
            "id": info.get("Id"),
            "digests": info.get("RepoDigests") or [],
            "created": info.get("Created"),
            "size_bytes": info.get("Size"),
            "labels": (info.get("Config") or {}).get("Labels") or {},
            # The tag that names the hash of the inputs it was built from (see building/images.py).
            "inputs": next(
                (t.rsplit(":", 1)[1] for t in info.get("RepoTags") or [] if ":inputs-" in t), None
            ),
        }
        lock = images_dir() / name / "requirements.lock"
        if lock.exists():
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
    _, output = docker.run_once(
        ["--network", "none", *HARDENING, "servingmatrix/wrk:latest", "--version"], timeout=60
    )
    first = output.strip().splitlines()[0] if output.strip() else ""
    found = _WRK_VERSION.match(first)
    if found:
        entry["packages"] = {"wrk": found.group(1)}
        entry["version_line"] = first


def collect_metadata(docker: Docker, image_names: Iterable[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    image_names = list(image_names)
    collectors: list[Callable[[dict[str, Any]], None]] = [
        collect_host,
        lambda m: collect_docker(m, docker),
        collect_git,
        collect_harness,
        lambda m: collect_images(m, docker, image_names),
        lambda m: collect_wrk_version(m, docker),
    ]
    for collect in collectors:
        try:
            collect(meta)
        except Exception as exc:  # a collector must never end a run
            meta.setdefault("metadata_errors", []).append(f"{exc.__class__.__name__}: {exc}")
    return meta
