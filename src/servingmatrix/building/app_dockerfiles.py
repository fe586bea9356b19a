"""The Dockerfiles of a user's app: its app image and its runtime (its modes' are the registry's).

They are rendered into the build context by ``servingmatrix build --app DIR``, never into the user's
folder. The app image installs the app's lock, copies the app and the harness's entry points, and
imports the WSGI callable, so an app that cannot be imported stops the build with its reason. The
layout is the bundled app's: the lock and its wheels staged in ``install/``, a tools environment's pip
filling ``/opt/venv``, and each mode's server installed into ``/opt/server`` over it.
"""

from __future__ import annotations

import json

from servingmatrix import __version__
from servingmatrix.building.dockerfiles import (
    INSTALL_DIR,
    PIP_INSTALL,
    RUNTIME_ENV,
    SERVER_DIR,
    SOURCE_URL,
    instruction,
    runtime_dockerfile,
)
from servingmatrix.user_app import UserApp
from servingmatrix.user_app.config import ENTRY_PACKAGE, WSGI_ENV

#: Where the app and the harness's entry points are in the images.
APP_ROOT = "/srv/app"
ENTRY_ROOT = "/srv/entry"
PYTHONPATH = f"{APP_ROOT}:{ENTRY_ROOT}"


def _labels(app: UserApp, role: str, image: str, description: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.title": image,
        "org.opencontainers.image.description": description,
        "org.opencontainers.image.version": app.version or __version__,
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.licenses": "MIT",
        "io.servingmatrix.project": "servingmatrix",
        "io.servingmatrix.role": role,
        "io.servingmatrix.app": app.name,
        "io.servingmatrix.packages": " ".join(pin.line for pin in app.pins),
    }


def import_check(app: UserApp) -> str:
    """The build step that imports the WSGI callable, in the app's own environment, without its database."""
    env = [f"PYTHONPATH={PYTHONPATH}", f"{WSGI_ENV}={app.wsgi}", *(f"{k}={v}" for k, v in app.env)]
    argv = ["/usr/bin/env", *env, "/opt/venv/bin/python", "-m", f"{ENTRY_PACKAGE}.check"]
    return f"RUN {json.dumps(argv, ensure_ascii=False)}"


def render_user_app_dockerfile(app: UserApp) -> str:
    """``servingmatrix/app:NAME``: the app's lock in an environment, the app, the entry points.

    Built as the bundled app's image is (``render_app_dockerfile``): a build stage only, keeping the
    tools environment whose pip every mode's build of this app installs its server with; the runtime
    copies ``/opt/venv`` and ``/srv`` out of it.
    """
    image = f"servingmatrix/app:{app.name}"
    labels = _labels(
        app, "app", image, f"Serving Matrix: the app {app.name}, shared by every mode serving it"
    )
    return "\n".join(
        [
            f"# {image}: the app in {app.folder}; each mode's image adds its server to it.",
            "# Rendered from its app.yml by `servingmatrix build --app`.",
            "ARG BASE_IMAGE=servingmatrix/base:3.13",
            "FROM ${BASE_IMAGE}",
            f"COPY {INSTALL_DIR}/ /tmp/{INSTALL_DIR}/",
            f"COPY app/ {APP_ROOT}/",
            f"COPY entry/ {ENTRY_ROOT}/",
            "# The app's environment, filled by the pip of a tools environment beside it (the modes install",
            "# their servers with it too), so /opt/venv holds no pip. Bytecode now: the running container's",
            "# root is read-only; a file that does not compile matters only if the app imports it, which",
            "# the check below does.",
            "RUN python3 -m venv /opt/tools && python3 -m venv --without-pip /opt/venv \\",
            f"    && {PIP_INSTALL[0]}",
            PIP_INSTALL[1],
            f"{PIP_INSTALL[2]} \\",
            f"    && {{ /opt/venv/bin/python -m compileall -q {APP_ROOT} {ENTRY_ROOT} > /dev/null \\",
            "          || true; }",
            "# The WSGI callable must import here, with the app's environment and without its database:",
            "# an app that cannot be imported stops the build, its reason the build's error.",
            import_check(app),
            instruction("LABEL", labels, "      "),
            "",
        ]
    )


def render_user_runtime_dockerfile(app: UserApp) -> str:
    """``servingmatrix/runtime:NAME``: what every mode's image of the app runs with, but its server."""
    image = f"servingmatrix/runtime:{app.name}"
    env = {**RUNTIME_ENV, "PYTHONPATH": f"{PYTHONPATH}:{SERVER_DIR}", WSGI_ENV: app.wsgi, **dict(app.env)}
    labels = _labels(app, "runtime", image, f"Serving Matrix runtime of the app {app.name}")
    header = (
        f"# {image}: what every mode's image of the app runs with; each mode adds its server.",
        "# Rendered from its app.yml by `servingmatrix build --app`.",
    )
    return runtime_dockerfile(header, f"servingmatrix/app:{app.name}", env, labels, app.health)
