"""The project's images and their build: staged contexts, offline wheels, and no-op warm rebuilds.

Each image's inputs (its folder, the app, its wheels, the base image) are hashed into a label; an
image whose label already matches is left alone, so an unchanged rebuild takes seconds.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.building.base_image import BASE_IMAGE, ensure_base_image
from servingmatrix.building.inputs import copy_tree
from servingmatrix.building.locks import parse_lock
from servingmatrix.building.wheelhouse import Wheelhouse, wheel_project
from servingmatrix.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.modes import mode_names
from servingmatrix.paths import cache_dir, images_dir, inputs_root

INPUTS_LABEL = "io.servingmatrix.inputs"
#: The shared image every mode's build starts from: the app, its data and Flask's packages.
APP_IMAGE_NAME = "app"
#: The shared image every mode's final stage starts from: the user, the app, the environment.
RUNTIME_IMAGE_NAME = "runtime"
#: Images of the backing services and the load generators (Locust and the wrk reference), beside one
#: image per mode.
SUPPORT_IMAGES = ("upstream", "postgres", "locust", "wrk")

Say = Callable[[str], None]


@dataclass(frozen=True)
class ImageDef:
    """One image of the project: its folder under ``images/``, what its context needs, what it builds on."""

    name: str
    with_app: bool = False
    with_locustfiles: bool = False
    #: The project images its stages start from (for a mode: the app image and the runtime).
    parents: tuple[str, ...] = ()

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
    """Every image, each after those it builds on: the app image, the runtime, the modes, the rest."""
    return [
        ImageDef(APP_IMAGE_NAME, with_app=True),
        ImageDef(RUNTIME_IMAGE_NAME, parents=(APP_IMAGE_NAME,)),
        *(ImageDef(name, parents=(APP_IMAGE_NAME, RUNTIME_IMAGE_NAME)) for name in mode_names()),
        *(ImageDef(name, with_locustfiles=name == "locust") for name in SUPPORT_IMAGES),
    ]


def image_def(name: str) -> ImageDef:
    for image in all_images():
        if image.name == name:
            return image
    raise UserError(f"unknown image {name!r} (known: {', '.join(i.name for i in all_images())})")


def select_images(names: Iterable[str] | None) -> list[ImageDef]:
    """The images to build, in catalogue order: support images always come along, since every stack
    needs them, and so does the image each chosen one builds on."""
    catalogue = {image.name: image for image in all_images()}
    if names is None:
        return list(catalogue.values())
    chosen: set[str] = set(SUPPORT_IMAGES)
    for name in names:
        chosen |= {name, *image_def(name).parents}
    return [image for image in catalogue.values() if image.name in chosen]


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


def added_wheels(image: ImageDef, wheels: list[Path]) -> list[Path]:
    """The wheels ``image`` adds to the image it builds on: its lock's, less those its parent holds.

    A package both locks name must be locked at the same version (``servingmatrix lock`` resolves
    each mode within the app's lock), or the parent's copy would silently win.
    """
    parent_lock = next((lock for lock in (image_def(p).lock for p in image.parents) if lock), None)
    if image.lock is None or parent_lock is None:
        return wheels
    inherited = {package.key: package for package in parse_lock(parent_lock)}
    own = {package.key: package for package in parse_lock(image.lock)}
    for key, package in inherited.items():
        mine = own.get(key)
        if mine is None or mine.version != package.version:
            held = f"{mine.name}=={mine.version}" if mine else f"no {package.name}"
            raise UserError(
                f"{image.lock} has {held} but {parent_lock} has {package.name}=={package.version}: "
                "run `servingmatrix lock` to resolve them together"
            )
    return [wheel for wheel in wheels if wheel_project(wheel) not in inherited]


def _build_args(image: ImageDef) -> dict[str, str]:
    """The base image, and the project images ``image`` starts from, by their ``ARG`` names."""
    args = {"BASE_IMAGE": BASE_IMAGE}
    for name in image.parents:
        args[f"{name.upper()}_IMAGE"] = image_def(name).ref
    return args


def default_jobs() -> int:
    """Builds at once: two on a 2-core machine (one build's I/O overlaps the other's CPU), up to four."""
    return max(2, min(4, os.cpu_count() or 1))


class _Builds:
    """Builds images on a pool of threads, each after the project image it starts from."""

    def __init__(self, docker: Docker, say: Say, base_id: str, *, force: bool, total: int) -> None:
        self.docker = docker
        self.say = say
        self.base_id = base_id
        self.force = force
        self.total = total
        self.arch = docker.architecture()
        self.wheelhouse = Wheelhouse(cache_dir() / "wheelhouse")
        self.logs = cache_dir() / "build-logs"
        self.ids: dict[str, str] = {}
        self.done = 0
        self.lock = threading.Lock()

    def build(self, image: ImageDef, parents: list[Future[BuildOutcome]]) -> BuildOutcome:
        for parent in parents:
            parent.result()  # a failed parent fails its children with its own error
        parent_ids = "".join(self.ids[name] for name in image.parents)
        started = time.monotonic()
        wheels = self.wheelhouse.wheels_for(image.lock, self.arch) if image.lock else []
        with tempfile.TemporaryDirectory(prefix=f"servingmatrix-{image.name}-") as tmp:
            context = Path(tmp)
            staged = stage_context(image, added_wheels(image, wheels), context)
            inputs = hashlib.sha256((staged + self.base_id + parent_ids).encode()).hexdigest()
            built = self.docker.image_labels(image.ref).get(INPUTS_LABEL) != inputs or self.force
            if built:
                self.say(f"{image.ref}: building")
                self.docker.build(
                    context,
                    image.ref,
                    build_args=_build_args(image),
                    labels={INPUTS_LABEL: inputs},
                    log=self.logs / f"{image.name}.log",
                )
        info = self.docker.image_inspect(image.ref)
        seconds = time.monotonic() - started
        with self.lock:
            self.ids[image.name] = str((info or {}).get("Id", ""))
            self.done += 1
            state = f"built in {seconds:.0f} s" if built else "up to date"
            self.say(f"[{self.done}/{self.total}] {image.ref}: {state}")
        return BuildOutcome(image.name, image.ref, built, seconds)


def build_images(
    docker: Docker,
    names: Iterable[str] | None,
    say: Say,
    *,
    force: bool = False,
    jobs: int | None = None,
) -> list[BuildOutcome]:
    """Build the chosen images (all by default), skipping any whose inputs are unchanged.

    Every image's wheels are fetched first, in parallel; then up to ``jobs`` images build at once, each
    mode's after the app image it starts from.
    """
    docker.ping()
    images = select_images(names)
    base_id = ensure_base_image(docker, say)
    builds = _Builds(docker, say, base_id, force=force, total=len(images))
    workers = jobs or default_jobs()
    builds.wheelhouse.prefetch([image.lock for image in images if image.lock], builds.arch, workers)
    futures: dict[str, Future[BuildOutcome]] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
        # Parents come first, so a child waits only on builds already started.
        for image in sorted(images, key=lambda image: len(image.parents)):
            parents = [futures[name] for name in image.parents]
            # Each build runs in a copy of this context, so it reads the inputs root chosen here.
            context = contextvars.copy_context()
            futures[image.name] = pool.submit(context.run, builds.build, image, parents)
        try:
            return [futures[image.name].result() for image in images]
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
