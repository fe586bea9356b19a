"""The base image every project image builds on: ``python:3.13-slim``, or its equivalent made locally.

Where no registry can be reached, a Debian trixie root file system (whose Python is 3.13) is
bootstrapped with debootstrap and imported, so the rest of the build never needs a registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from servingmatrix.engine.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.say import Say

UPSTREAM_BASE = "python:3.13-slim"
BASE_IMAGE = "servingmatrix/base:3.13"
DEBIAN_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: What the bootstrapped base holds beyond Debian's minimal base: Python 3.13, venv (for pip) and CAs.
BOOTSTRAP_PACKAGES = ("python3", "python3-venv", "ca-certificates")
#: Trimmed after bootstrap: documentation and caches no container reads.
TRIM_PATHS = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/cache/apt",
    "var/lib/apt/lists",
)
PULL_TIMEOUT_S = 120.0


def ensure_base_image(docker: Docker, say: Say) -> str:
    """Return the id of the base image, pulling or bootstrapping it when it is missing."""
    info = docker.image_inspect(BASE_IMAGE)
    if info is not None:
        return str(info["Id"])
    pulled, reason = docker.pull(UPSTREAM_BASE, PULL_TIMEOUT_S)
    if pulled:
        docker.tag(UPSTREAM_BASE, BASE_IMAGE)
        say(f"base image: pulled {UPSTREAM_BASE}")
    else:
        say(
            f"base image: {UPSTREAM_BASE} cannot be pulled ({reason}); "
            f"bootstrapping an equivalent from Debian {DEBIAN_SUITE} with debootstrap"
        )
        bootstrap_base_image(docker, say)
    info = docker.image_inspect(BASE_IMAGE)
    if info is None:
        raise UserError(f"the base image {BASE_IMAGE} is still missing after it was made")
    return str(info["Id"])


def _require_debootstrap(say: Say) -> str:
    found = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if Path(p).exists()), None
    )
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("base image: installing debootstrap with apt-get")
        for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "debootstrap"]):
            subprocess.run(args, check=True, capture_output=True, timeout=900)
        return _require_debootstrap(say)
    raise UserError(
        f"{UPSTREAM_BASE} cannot be pulled and debootstrap is missing: "
        "install it as root with `apt-get install debootstrap` (Debian/Ubuntu), then run the build again"
    )


def bootstrap_base_image(docker: Docker, say: Say) -> None:
    """debootstrap a minimal trixie with Python 3.13 and import it as the base image."""
    if os.geteuid() != 0:
        raise UserError(
            f"{UPSTREAM_BASE} cannot be pulled, and bootstrapping a base with debootstrap needs root: "
            "run `make images` as root once, or make the registry reachable"
        )
    debootstrap = _require_debootstrap(say)
    with tempfile.TemporaryDirectory(prefix="servingmatrix-base-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "root"
        proc = subprocess.run(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={','.join(BOOTSTRAP_PACKAGES)}",
                DEBIAN_SUITE,
                str(root),
                DEBIAN_MIRROR,
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise UserError(f"debootstrap of Debian {DEBIAN_SUITE} failed: {tail[0]}")
        for rel in TRIM_PATHS:
            shutil.rmtree(root / rel, ignore_errors=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
        # Containers reach Debian's mirror over plain HTTP only; say so explicitly in the sources.
        (root / "etc/apt/sources.list").write_text(f"deb {DEBIAN_MIRROR} {DEBIAN_SUITE} main\n")
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True, timeout=900)
        docker.import_tarball(
            tarball,
            BASE_IMAGE,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
                f"LABEL io.servingmatrix.base=debootstrap-{DEBIAN_SUITE}",
                "LABEL io.servingmatrix.project=servingmatrix",
                'CMD ["python3"]',
            ],
        )
    say(f"base image: imported {BASE_IMAGE} from a Debian {DEBIAN_SUITE} bootstrap")
