"""The project's images and their build: staged contexts, offline wheels, and no-op warm rebuilds.

Each image's inputs (its folder, the app, its wheels, the base image) are hashed into a label; an
image whose label already matches is left alone, so an unchanged rebuild takes seconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.building.base_image import BASE_IMAGE, ensure_base_image
from servingmatrix.building.dockerfiles import INSTALL_DIR
from servingmatrix.building.inputs import copy_tree
from servingmatrix.building.locks import LockedPackage, parse_lock
from servingmatrix.building.wheelhouse import Wheelhouse, requirement_line, wheel_project
from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.errors import ServingMatrixError, UserError
from servingmatrix.modes import get_mode, mode_names
from servingmatrix.paths import cache_dir, images_dir, inputs_root
from servingmatrix.say import Say

#: An image's inputs (its context, the base image, the images it starts from), hashed, are in a tag
#: beside ``latest``: ``inputs-`` and the first ``INPUTS_DIGITS`` hex digits. A tag costs the build no
#: step (a ``--label`` would add one, about 2 s on this engine), and an image whose tag matches is
#: left alone.
INPUTS_TAG = "inputs-"
INPUTS_DIGITS = 32
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


def stage_context(image: ImageDef, wheels: list[Path], into: Path, catalogue: Catalogue | None = None) -> str:
    """Assemble the build context of ``image`` in ``into``; return the hash of its inputs.

    What the build installs goes in ``install/``: the packages of its lock it does not inherit
    (``requirements.lock``, rendered) and their wheels (of ``wheels``, those it installs).
    ``catalogue`` holds the images it builds on (default: the project's own).
    """
    if image.source is not None:
        into.mkdir(parents=True, exist_ok=True)
        image.source.stage(into)
    else:
        copy_tree(image.folder, into)
    if image.with_app:
        copy_tree(inputs_root() / "app", into / "app")
    if image.with_locustfiles:
        copy_tree(inputs_root() / "locustfiles", into / "locustfiles")
    if image.lock is not None:
        install = into / INSTALL_DIR
        install.mkdir(exist_ok=True)
        packages = installed_packages(image, catalogue)
        (install / "requirements.lock").write_text("".join(requirement_line(p) for p in packages))
        keys = {package.key for package in packages}
        for wheel in (w for w in wheels if wheel_project(w) in keys):
            try:
                os.link(wheel, install / wheel.name)
            except OSError:
                shutil.copy2(wheel, install / wheel.name)
    digest = hashlib.sha256()
    for path in sorted(into.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(into).as_posix()
        digest.update(rel.encode() + b"\0")
        # Wheels were checked against the lock's hashes, and the lock is hashed: their names suffice.
        if not rel.endswith(".whl"):
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def installed_packages(image: ImageDef, catalogue: Catalogue | None = None) -> list[LockedPackage]:
    """What ``image``'s build installs: its lock's packages, less those the image it builds on holds.

    A package both locks name must be locked at the same version (``servingmatrix lock`` resolves
    each mode within the app's lock), or the parent's copy would silently win.
    """
    if image.lock is None:
        return []
    own = parse_lock(image.lock)
    parent_lock = next((lock for lock in (_find(p, catalogue).lock for p in image.parents) if lock), None)
    if parent_lock is None:
        return own
    inherited = {package.key: package for package in parse_lock(parent_lock)}
    mine = {package.key: package for package in own}
    for key, package in inherited.items():
        held = mine.get(key)
        if held is None or held.version != package.version:
            what = f"{held.name}=={held.version}" if held else f"no {package.name}"
            raise UserError(
                f"{image.lock} has {what} but {parent_lock} has {package.name}=={package.version}: "
                f"run `{image.relock}` to resolve them together"
            )
    return [package for package in own if package.key not in inherited]


def added_wheels(image: ImageDef, wheels: list[Path], catalogue: Catalogue | None = None) -> list[Path]:
    """The wheels ``image``'s build installs: those of ``installed_packages``."""
    keys = {package.key for package in installed_packages(image, catalogue)}
    return [wheel for wheel in wheels if wheel_project(wheel) in keys]


def _build_args(image: ImageDef, catalogue: Catalogue | None = None) -> dict[str, str]:
    """The base image, and the project images ``image`` starts from, by their ``ARG`` names."""
    args = {"BASE_IMAGE": BASE_IMAGE}
    for name in image.parents:
        args[f"{name.upper()}_IMAGE"] = _find(name, catalogue).ref
    return args


def explained(error: DockerError, log: Path) -> ServingMatrixError:
    """A failed build's error: the line a step marked as its reason, when one did (see BUILD_ERROR_MARK),
    as bad input (the step said what it was given wrong); else the engine's own error."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return error
    reasons = [line.split(BUILD_ERROR_MARK, 1)[1].strip() for line in lines if BUILD_ERROR_MARK in line]
    return UserError(f"{error.args[0].split(' failed:', 1)[0]} failed: {reasons[-1]}") if reasons else error


def default_jobs() -> int:
    """Builds at once: one more than the cores, so a build waiting on Debian's mirror leaves none idle
    (on 2 cores a cold build took 235 s with 2 at once and 216 s with 3), and at most 8."""
    return min(8, (os.cpu_count() or 1) + 1)


class _Builds:
    """Builds images on a pool of threads, each after the project image it starts from."""

    def __init__(
        self,
        docker: Docker,
        say: Say,
        wheelhouse: Wheelhouse,
        *,
        force: bool,
        total: int,
        catalogue: Catalogue,
    ) -> None:
        self.docker = docker
        self.catalogue = catalogue
        self.say = say
        self.base_id = ""
        self.force = force
        self.total = total
        self.arch = docker.architecture()
        self.wheelhouse = wheelhouse
        self.logs = cache_dir() / "build-logs"
        self.ids: dict[str, str] = {}
        self.done = 0
        self.lock = threading.Lock()

    def build(self, image: ImageDef) -> BuildOutcome:
        """Build ``image`` unless its inputs are unchanged; the images it starts from are built."""
        parent_ids = "".join(self.ids[name] for name in image.parents)
        started = time.monotonic()
        wheels = self.wheelhouse.wheels_for(image.lock, self.arch) if image.lock else []
        with tempfile.TemporaryDirectory(prefix=f"servingmatrix-{image.name}-") as tmp:
            context = Path(tmp)
            staged = stage_context(image, wheels, context, self.catalogue)
            inputs = hashlib.sha256((staged + self.base_id + parent_ids).encode()).hexdigest()
            marked = self.docker.image_inspect(inputs_ref(image, inputs))
            built = self.force or marked is None or image.ref not in (marked.get("RepoTags") or [])
            if built:
                self.say(f"{image.ref}: building")
                self._build(image, context)
                self._mark(image, inputs)
        info = self.docker.image_inspect(image.ref)
        seconds = time.monotonic() - started
        with self.lock:
            self.ids[image.name] = str((info or {}).get("Id", ""))
            self.done += 1
            state = f"built in {seconds:.0f} s" if built else "up to date"
            self.say(f"[{self.done}/{self.total}] {image.ref}: {state}")
        return BuildOutcome(image.name, image.ref, built, seconds)

    def _build(self, image: ImageDef, context: Path) -> None:
        log = self.logs / (f"{image.name}-{image.source.tag}.log" if image.source else f"{image.name}.log")
        try:
            self.docker.build(
                context,
                image.ref,
                build_args=_build_args(image, self.catalogue),
                labels={},
                log=log,
            )
        except DockerError as exc:
            raise explained(exc, log) from None

    def _mark(self, image: ImageDef, inputs: str) -> None:
        """Tag the new image with its inputs, and drop the tags of earlier inputs (and so the images
        nothing else tags): those of this image only, never another app's."""
        mark = inputs_ref(image, inputs)
        self.docker.tag(image.ref, mark)
        repository = image.ref.rsplit(":", 1)[0]
        earlier = f"{repository}:{inputs_prefix(image)}"
        for ref in self.docker.list_image_refs(repository):
            if ref.startswith(earlier) and len(ref) == len(mark) and ref != mark:
                with contextlib.suppress(DockerError):
                    self.docker.remove_image(ref)


def inputs_prefix(image: ImageDef) -> str:
    """The start of an image's inputs tag: ``inputs-``, or for a user's app's image its tag first
    (``notes-api-inputs-``), so one app's inputs tags are never another's."""
    return f"{image.source.tag}-{INPUTS_TAG}" if image.source else INPUTS_TAG


def inputs_tag(image: ImageDef, refs: Iterable[str]) -> str | None:
    """Of an image's tags (``RepoTags``), the one naming its inputs (``inputs-HASH``, or for a user's
    app's image ``notes-api-inputs-HASH``); None when it has none."""
    repository = image.ref.rsplit(":", 1)[0]
    prefix = inputs_prefix(image)
    for ref in refs:
        name, _, tag = ref.rpartition(":")
        if name == repository and tag.startswith(prefix) and len(tag) == len(prefix) + INPUTS_DIGITS:
            return tag
    return None


def inputs_ref(image: ImageDef, inputs: str) -> str:
    """The tag that says which inputs an image was built from: ``servingmatrix/NAME:inputs-HASH``."""
    return f"{image.ref.rsplit(':', 1)[0]}:{inputs_prefix(image)}{inputs[:INPUTS_DIGITS]}"


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

    Every image's wheels are fetched (in parallel) while the base image is made; then up to ``jobs``
    images build at once, each after the images it starts from. ``catalogue`` is a user's app's
    images (default: the project's own).
    """
    docker.ping()
    images = select_images(names, catalogue)
    known = catalogue if catalogue is not None else {image.name: image for image in all_images()}
    workers = jobs or default_jobs()
    wheelhouse = Wheelhouse(cache_dir() / "wheelhouse")
    builds = _Builds(docker, say, wheelhouse, force=force, total=len(images), catalogue=known)
    locks = [image.lock for image in images if image.lock]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wheels") as side:
        fetching = side.submit(builds.wheelhouse.prefetch, locks, builds.arch, workers)
        builds.base_id = ensure_base_image(docker, say)
        fetching.result()
    outcomes = schedule(images, workers, builds.build)
    return [outcomes[image.name] for image in images]


#: Among the builds ready to start, which go first: those others wait for (the app image, then the
#: runtime), then the longest (PostgreSQL and Locust; a mode that adds Debian packages), so the
#: short ones fill the gaps at the end rather than a long one running alone there.
FIRST = {APP_IMAGE_NAME: 0, RUNTIME_IMAGE_NAME: 1, "postgres": 2, "locust": 3}


def build_priority(image: ImageDef) -> int:
    if image.name in FIRST:
        return FIRST[image.name]
    if image.parents:
        return 4 if get_mode(image.name).debian_packages else 5
    return 6


def schedule(
    images: list[ImageDef], workers: int, build: Callable[[ImageDef], BuildOutcome]
) -> dict[str, BuildOutcome]:
    """``build`` every image, at most ``workers`` at once, each once the images it starts from are
    built; the first failure stops the rest (those running finish) and is raised."""
    names = {image.name for image in images}
    waiting = sorted(images, key=build_priority)
    outcomes: dict[str, BuildOutcome] = {}
    running: dict[Future[BuildOutcome], ImageDef] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
        while waiting or running:
            ready = [i for i in waiting if all(p in outcomes or p not in names for p in i.parents)]
            for image in ready[: workers - len(running)]:
                waiting.remove(image)
                # Each build runs in a copy of this context, so it reads the inputs root chosen here.
                running[pool.submit(contextvars.copy_context().run, build, image)] = image
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                image = running.pop(future)
                outcomes[image.name] = future.result()
    return outcomes
