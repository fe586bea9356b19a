"""The project's images and their build: staged contexts, offline wheels, and no-op warm rebuilds.

Each image's inputs (its folder, the app, its wheels, the base image) are hashed into a label; an
image whose label already matches is left alone, so an unchanged rebuild takes seconds.
"""

from __future__ import annotations

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
from servingmatrix.building.locks import parse_lock
from servingmatrix.building.wheelhouse import Wheelhouse, wheel_project
from servingmatrix.docker import Docker, DockerError
from servingmatrix.errors import UserError
from servingmatrix.modes import mode_names
from servingmatrix.paths import cache_dir, images_dir, project_root

INPUTS_LABEL = "io.servingmatrix.inputs"
#: The shared image every mode's build starts from: the app, its data and Flask's packages.
APP_IMAGE_NAME = "app"
#: The shared image every mode's final stage starts from: the user, the app, the environment.
RUNTIME_IMAGE_NAME = "runtime"
#: Images of the backing services and the load generators (Locust and the wrk reference), beside one
#: image per mode.
SUPPORT_IMAGES = ("upstream", "postgres", "locust", "wrk")

#: A build step that fails on purpose (a user's app that cannot be imported) prints this, then why: the
#: build's error is that line rather than the builder's last words.
BUILD_ERROR_MARK = "servingmatrix-build-error:"

Say = Callable[[str], None]


@dataclass(frozen=True)
class ContextSource:
    """A user's app's image: its tag, its lock, and what stages its context (not ``images/<name>/``)."""

    tag: str
    lock: Path | None
    #: Writes the context's files (its Dockerfile first) into the folder it is given; wheels come after.
    stage: Callable[[Path], None]
    #: The command that resolves its locks again.
    relock: str


@dataclass(frozen=True)
class ImageDef:
    """One image of the project: its folder under ``images/``, what its context needs, what it builds on."""

    name: str
    with_app: bool = False
    with_locustfiles: bool = False
    #: The project images its stages start from (for a mode: the app image and the runtime).
    parents: tuple[str, ...] = ()
    #: A user's app's image, staged from its app rather than from ``images/<name>/``.
    source: ContextSource | None = None

    @property
    def ref(self) -> str:
        return f"servingmatrix/{self.name}:{self.source.tag if self.source else 'latest'}"

    @property
    def folder(self) -> Path:
        return images_dir() / self.name

    @property
    def lock(self) -> Path | None:
        if self.source is not None:
            return self.source.lock
        path = self.folder / "requirements.lock"
        return path if path.exists() else None

    @property
    def relock(self) -> str:
        return self.source.relock if self.source is not None else "servingmatrix lock"


Catalogue = dict[str, ImageDef]


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


def _find(name: str, catalogue: Catalogue | None) -> ImageDef:
    return image_def(name) if catalogue is None else catalogue[name]


def select_images(names: Iterable[str] | None, catalogue: Catalogue | None = None) -> list[ImageDef]:
    """The images to build, in catalogue order: support images always come along, since every stack
    needs them, and so does the image each chosen one builds on."""
    images = catalogue if catalogue is not None else {image.name: image for image in all_images()}
    if names is None:
        return list(images.values())
    chosen: set[str] = set(SUPPORT_IMAGES)
    for name in names:
        if name not in images:
            raise UserError(f"unknown image {name!r} (known: {', '.join(images)})")
        chosen |= {name, *images[name].parents}
    return [image for image in images.values() if image.name in chosen]


@dataclass(frozen=True)
class BuildOutcome:
    name: str
    ref: str
    built: bool
    seconds: float


def _ignored(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}


def _copy_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if _ignored(rel) or not path.is_file():
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


def stage_context(image: ImageDef, wheels: list[Path], into: Path) -> str:
    """Assemble the build context of ``image`` in ``into``; return the hash of its inputs."""
    if image.source is not None:
        image.source.stage(into)
    else:
        _copy_tree(image.folder, into)
    if image.with_app:
        _copy_tree(project_root() / "app", into / "app")
    if image.with_locustfiles:
        _copy_tree(project_root() / "locustfiles", into / "locustfiles")
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


def added_wheels(image: ImageDef, wheels: list[Path], catalogue: Catalogue | None = None) -> list[Path]:
    """The wheels ``image`` adds to the image it builds on: its lock's, less those its parent holds.

    A package both locks name must be locked at the same version (``servingmatrix lock`` resolves
    each mode within the app's lock), or the parent's copy would silently win.
    """
    parents = (_find(p, catalogue).lock for p in image.parents)
    parent_lock = next((lock for lock in parents if lock), None)
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
                f"run `{image.relock}` to resolve them together"
            )
    return [wheel for wheel in wheels if wheel_project(wheel) not in inherited]


def _build_args(image: ImageDef, catalogue: Catalogue | None = None) -> dict[str, str]:
    """The base image, and the project images ``image`` starts from, by their ``ARG`` names."""
    args = {"BASE_IMAGE": BASE_IMAGE}
    for name in image.parents:
        args[f"{name.upper()}_IMAGE"] = _find(name, catalogue).ref
    return args


def explained(error: DockerError, log: Path) -> UserError:
    """A failed build's error: the line a step marked as its reason, when one did (see BUILD_ERROR_MARK)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return error
    reasons = [line.split(BUILD_ERROR_MARK, 1)[1].strip() for line in lines if BUILD_ERROR_MARK in line]
    return UserError(f"{error.args[0].split(' failed:', 1)[0]} failed: {reasons[-1]}") if reasons else error


def default_jobs() -> int:
    """Builds at once: two on a 2-core machine (one build's I/O overlaps the other's CPU), up to four."""
    return max(2, min(4, os.cpu_count() or 1))


class _Builds:
    """Builds images on a pool of threads, each after the project image it starts from."""

    def __init__(
        self, docker: Docker, say: Say, base_id: str, *, force: bool, total: int, catalogue: Catalogue
    ) -> None:
        self.docker = docker
        self.catalogue = catalogue
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
            staged = stage_context(image, added_wheels(image, wheels, self.catalogue), context)
            inputs = hashlib.sha256((staged + self.base_id + parent_ids).encode()).hexdigest()
            built = self.docker.image_labels(image.ref).get(INPUTS_LABEL) != inputs or self.force
            if built:
                self.say(f"{image.ref}: building")
                self._build(image, context, inputs)
        info = self.docker.image_inspect(image.ref)
        seconds = time.monotonic() - started
        with self.lock:
            self.ids[image.name] = str((info or {}).get("Id", ""))
            self.done += 1
            state = f"built in {seconds:.0f} s" if built else "up to date"
            self.say(f"[{self.done}/{self.total}] {image.ref}: {state}")
        return BuildOutcome(image.name, image.ref, built, seconds)

    def _build(self, image: ImageDef, context: Path, inputs: str) -> None:
        log = self.logs / (f"{image.name}-{image.source.tag}.log" if image.source else f"{image.name}.log")
        try:
            self.docker.build(
                context,
                image.ref,
                build_args=_build_args(image, self.catalogue),
                labels={INPUTS_LABEL: inputs},
                log=log,
            )
        except DockerError as exc:
            raise explained(exc, log) from None


def build_images(
    docker: Docker,
    names: Iterable[str] | None,
    say: Say,
    *,
    force: bool = False,
    jobs: int | None = None,
    catalogue: Catalogue | None = None,
) -> list[BuildOutcome]:
    """Build the chosen images (all by default), skipping any whose inputs are unchanged.

    Every image's wheels are fetched first, in parallel; then up to ``jobs`` images build at once, each
    mode's after the app image it starts from. ``catalogue`` is a user's app's images (default: the
    project's own).
    """
    docker.ping()
    images = select_images(names, catalogue)
    base_id = ensure_base_image(docker, say)
    known = catalogue if catalogue is not None else {image.name: image for image in all_images()}
    builds = _Builds(docker, say, base_id, force=force, total=len(images), catalogue=known)
    workers = jobs or default_jobs()
    builds.wheelhouse.prefetch([image.lock for image in images if image.lock], builds.arch, workers)
    futures: dict[str, Future[BuildOutcome]] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
        # Parents come first, so a child waits only on builds already started.
        for image in sorted(images, key=lambda image: len(image.parents)):
            parents = [futures[name] for name in image.parents]
            futures[image.name] = pool.submit(builds.build, image, parents)
        try:
            return [futures[image.name].result() for image in images]
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
