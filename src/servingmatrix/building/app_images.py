"""A user's app's images: its app image and runtime, and one image per mode on top of them.

The layout is the bundled app's (see ``images.py``): ``servingmatrix/app:NAME`` holds the app's lock,
the app and the harness's entry points; ``servingmatrix/runtime:NAME`` what every mode's image of it
runs with; ``servingmatrix/<mode>:app-NAME`` the mode's server over them. The tags carry the app's
name, so the bundled app's images are never replaced. The support images (upstream, PostgreSQL,
Locust, wrk) are the project's own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from servingmatrix.building.app_dockerfiles import render_user_app_dockerfile, render_user_runtime_dockerfile
from servingmatrix.building.app_locks import app_lock, check_locks, mode_lock, servable_modes
from servingmatrix.building.dockerfiles import render_mode_dockerfile
from servingmatrix.building.images import (
    APP_IMAGE_NAME,
    RUNTIME_IMAGE_NAME,
    SUPPORT_IMAGES,
    BuildOutcome,
    Catalogue,
    ContextSource,
    ImageDef,
    all_images,
    build_images,
)
from servingmatrix.engine.docker import Docker
from servingmatrix.modes import MODES, Mode, get_mode
from servingmatrix.paths import images_dir
from servingmatrix.say import Say
from servingmatrix.user_app import UserApp
from servingmatrix.user_app.app_tree import app_files
from servingmatrix.user_app.config import ENTRY_PACKAGE


def entry_source() -> Path:
    """The harness's entry points (the ASGI wrapper, the development server, the import check), from
    the images' inputs in use."""
    return images_dir() / "user-app" / ENTRY_PACKAGE


def copy_app(source: Path, target: Path) -> None:
    """The app's folder as the image gets it (``user_app.app_tree``: no hidden files or bytecode, and
    nothing through a link out of the folder)."""
    for path in app_files(source):
        rel = path.relative_to(source)
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / rel)


def stage_app(app: UserApp, into: Path) -> None:
    """The app image's Dockerfile, the app and the entry points (``stage_context`` adds ``install/``)."""
    (into / "Dockerfile").write_text(render_user_app_dockerfile(app))
    copy_app(app.folder, into / "app")
    copy_app(entry_source(), into / "entry" / ENTRY_PACKAGE)


def stage_runtime(app: UserApp, into: Path) -> None:
    (into / "Dockerfile").write_text(render_user_runtime_dockerfile(app))


def stage_mode(app: UserApp, mode: Mode, into: Path) -> None:
    """A mode's Dockerfile for the app and its extra files; ``stage_context`` adds its server's
    packages (those of its lock for the app that the app's lock does not hold) in ``install/``."""
    (into / "Dockerfile").write_text(render_mode_dockerfile(mode, app.target))
    for extra in mode.extra_files:
        shutil.copy2(images_dir() / mode.name / extra, into / extra)


def app_catalogue(app: UserApp) -> Catalogue:
    """Every image of ``app``, each after those it builds on, and the support images."""

    def source(tag: str, lock: Path | None, stage: Callable[[Path], None]) -> ContextSource:
        return ContextSource(tag, lock, stage, app.relock)

    images = [
        ImageDef(APP_IMAGE_NAME, source=source(app.name, app_lock(app), partial(stage_app, app))),
        ImageDef(
            RUNTIME_IMAGE_NAME,
            parents=(APP_IMAGE_NAME,),
            source=source(app.name, None, partial(stage_runtime, app)),
        ),
        *(
            ImageDef(
                mode.name,
                parents=(APP_IMAGE_NAME, RUNTIME_IMAGE_NAME),
                source=source(app.target.mode_tag, mode_lock(app, mode), partial(stage_mode, app, mode)),
            )
            for mode in MODES
        ),
        *(image for image in all_images() if image.name in SUPPORT_IMAGES),
    ]
    return {image.name: image for image in images}


def build_app_images(
    docker: Docker,
    app: UserApp,
    modes: Iterable[str] | None,
    say: Say,
    *,
    force: bool = False,
    jobs: int | None = None,
) -> list[BuildOutcome]:
    """Build ``app``'s images for ``modes`` (default: every mode that can serve it, as ``lock`` locked
    them), its locks checked before anything."""
    chosen = [get_mode(name) for name in modes] if modes is not None else servable_modes(app, MODES)
    check_locks(app, chosen)
    names = [mode.name for mode in chosen]
    return build_images(docker, names, say, force=force, jobs=jobs, catalogue=app_catalogue(app))
