"""The project's images and their build: staged contexts, offline wheels, and no-op warm rebuilds.

Each image's inputs (its folder, the app, its wheels, the base image) are hashed into a label; an
image whose label already matches is left alone, so an unchanged rebuild takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.building.base_image import BASE_IMAGE, ensure_base_image
from servingmatrix.building.inputs import copy_tree
from servingmatrix.building.wheelhouse import Wheelhouse
from servingmatrix.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.modes import mode_names
from servingmatrix.paths import cache_dir, images_dir, inputs_root

INPUTS_LABEL = "io.servingmatrix.inputs"
#: Images of the backing services and the load generators (Locust and the wrk reference), beside one
#: image per mode.
SUPPORT_IMAGES = ("upstream", "postgres", "locust", "wrk")

Say = Callable[[str], None]


@dataclass(frozen=True)
class ImageDef:
    """One image of the project: its folder under ``images/`` and what its context needs."""

    name: str
    with_app: bool = False
    with_locustfiles: bool = False

    @property
    def ref(self) -> str:
        return f"servingmatrix/{self.name}:latest"

    @property
    def folder(self) -> Path:
        return images_dir() / self.name

    @property
    def lock(self) -> Path | None:
        path = self.folder / "requirements.lock"
        return path if path.exists() else None


def all_images() -> list[ImageDef]:
    return [ImageDef(name, with_app=True) for name in mode_names()] + [
        ImageDef(name, with_locustfiles=name == "locust") for name in SUPPORT_IMAGES
    ]


def select_images(names: Iterable[str] | None) -> list[ImageDef]:
    """The images to build; support images always come along, since every stack needs them."""
    catalogue = {image.name: image for image in all_images()}
    if names is None:
        return list(catalogue.values())
    chosen: dict[str, ImageDef] = {}
    for name in names:
        if name not in catalogue:
            raise UserError(f"unknown image {name!r} (known: {', '.join(catalogue)})")
        chosen[name] = catalogue[name]
    for name in SUPPORT_IMAGES:
        chosen.setdefault(name, catalogue[name])
    return list(chosen.values())


@dataclass(frozen=True)
class BuildOutcome:
    name: str
    ref: str
    built: bool
    seconds: float


def stage_context(image: ImageDef, wheels: list[Path], into: Path) -> str:
    """Assemble the build context of ``image`` in ``into``; return the hash of its inputs."""
    copy_tree(image.folder, into)
    if image.with_app:
        copy_tree(inputs_root() / "app", into / "app")
    if image.with_locustfiles:
        copy_tree(inputs_root() / "locustfiles", into / "locustfiles")
    wheel_dir = into / "wheels"
    wheel_dir.mkdir(exist_ok=True)
    for wheel in wheels:
        try:
            os.link(wheel, wheel_dir / wheel.name)
        except OSError:
            shutil.copy2(wheel, wheel_dir / wheel.name)
    digest = hashlib.sha256()
    for path in sorted(into.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(into).as_posix()
        digest.update(rel.encode() + b"\0")
        # Wheels were checked against the lock's hashes, and the lock is hashed: their names suffice.
        if not rel.startswith("wheels/"):
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_images(
    docker: Docker,
    names: Iterable[str] | None,
    say: Say,
    *,
    force: bool = False,
) -> list[BuildOutcome]:
    """Build the chosen images (all by default), skipping any whose inputs are unchanged."""
    docker.ping()
    images = select_images(names)
    base_id = ensure_base_image(docker, say)
    arch = docker.architecture()
    wheelhouse = Wheelhouse(cache_dir() / "wheelhouse")
    logs = cache_dir() / "build-logs"
    outcomes: list[BuildOutcome] = []
    for index, image in enumerate(images, 1):
        started = time.monotonic()
        wheels = wheelhouse.wheels_for(image.lock, arch) if image.lock else []
        with tempfile.TemporaryDirectory(prefix=f"servingmatrix-{image.name}-") as tmp:
            context = Path(tmp)
            inputs = hashlib.sha256((stage_context(image, wheels, context) + base_id).encode()).hexdigest()
            current = docker.image_labels(image.ref).get(INPUTS_LABEL)
            if current == inputs and not force:
                outcomes.append(BuildOutcome(image.name, image.ref, False, time.monotonic() - started))
                say(f"[{index}/{len(images)}] {image.ref}: up to date")
                continue
            say(f"[{index}/{len(images)}] {image.ref}: building")
            docker.build(
                context,
                image.ref,
                build_args={"BASE_IMAGE": BASE_IMAGE},
                labels={INPUTS_LABEL: inputs},
                log=logs / f"{image.name}.log",
            )
        seconds = time.monotonic() - started
        outcomes.append(BuildOutcome(image.name, image.ref, True, seconds))
        say(f"[{index}/{len(images)}] {image.ref}: built in {seconds:.0f} s")
    return outcomes
