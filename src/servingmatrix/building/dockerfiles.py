"""Renders each mode's Dockerfile from the registry, so images and registry cannot drift apart.

The rendered files are committed under ``images/<mode>/Dockerfile`` (an ops team reads and copies
them) and a test checks that they match what this module renders.
"""

from __future__ import annotations

import json

from servingmatrix import __version__
from servingmatrix.modes import APP_PACKAGES, BUNDLED_APP, AppTarget, Mode

#: The port every mode image listens on when started by hand or by a compose stack.
DEFAULT_PORT = 8000
#: The CPU budget the image's default command is sized for (the runner passes its own).
DEFAULT_CPUS = 1
APP_UID = 10001
SOURCE_URL = "https://github.com/servingmatrix/servingmatrix"

#: Where a build's context holds what it installs: its ``requirements.lock`` and their wheels.
INSTALL_DIR = "install"
#: pip, from a tools environment of its own, installing into ``/opt/venv`` offline from the wheelhouse:
#: the environment an image runs never holds pip.
PIP_INSTALL = (
    "/opt/tools/bin/pip --python /opt/venv/bin/python install --no-cache-dir --no-index \\",
    f"       --find-links /tmp/{INSTALL_DIR} --require-hashes --no-deps \\",
    f"       -r /tmp/{INSTALL_DIR}/requirements.lock",
)
#: The locust image's build stage: a virtual environment filled offline from the host-built wheelhouse.
BUILD_STAGE = (
    "# Build stage: a virtual environment filled offline from the host-built wheelhouse, by the pip of",
    "# a tools environment beside it, so the environment itself holds no pip.",
    "FROM ${BASE_IMAGE} AS build",
    f"COPY {INSTALL_DIR}/ /tmp/{INSTALL_DIR}/",
    "RUN python3 -m venv /opt/tools && python3 -m venv --without-pip /opt/venv \\",
    f"    && {PIP_INSTALL[0]}",
    *PIP_INSTALL[1:],
)
#: The image every mode's build starts from: the app, its data and Flask's packages, built once.
APP_IMAGE = "servingmatrix/app:latest"
#: Where a mode's server is installed (``pip --target``), beside the app's environment.
SERVER_DIR = "/opt/server"
#: A mode's build stage: its server's packages (those of its lock the app image does not hold, staged in
#: ``install/``) installed into ``/opt/server`` by the app image's pip, offline from the wheelhouse.
MODE_BUILD_STAGE = (
    "# Build stage: this mode's server (the packages of its lock the app image does not hold), installed",
    "# into /opt/server offline from the host-built wheelhouse by the app image's tools environment.",
    "FROM ${APP_IMAGE} AS build",
    f"COPY {INSTALL_DIR}/ /tmp/{INSTALL_DIR}/",
    "RUN /opt/tools/bin/pip --python /opt/venv/bin/python install --no-cache-dir --no-index \\",
    f"       --find-links /tmp/{INSTALL_DIR} --require-hashes --no-deps --target {SERVER_DIR} \\",
    f"       -r /tmp/{INSTALL_DIR}/requirements.lock",
)
#: The image every mode's final stage starts from: the unprivileged user, the app, its environment
#: and data, the port and the health check, the same for every mode and so written once.
RUNTIME_IMAGE = "servingmatrix/runtime:latest"
#: The unprivileged user every image runs as; the group has the same id, so it reads 10001:10001.
APP_USER = (
    f"RUN groupadd --system --gid {APP_UID} bench \\",
    f"    && useradd --system --uid {APP_UID} --gid {APP_UID} --no-create-home \\",
    "       --shell /usr/sbin/nologin bench",
)
VENV_PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: A mode image's search path: its server's commands first, then the app's environment.
SERVER_PATH = f"{SERVER_DIR}/bin:{VENV_PATH}"
LOCUST_PACKAGES = ("locust==2.47.0",)


def healthcheck(path: str) -> str:
    """The image's health check: a GET of ``path`` on the port the server listens on."""
    return (
        "import os, urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:%s{path}' % os.environ.get('PORT', '8000'), timeout=2)"
    )


def mode_labels(mode: Mode, target: AppTarget = BUNDLED_APP) -> dict[str, str]:
    """The OCI and project labels a mode image carries (and the app's name, serving a user's app)."""
    labels = {
        "org.opencontainers.image.title": f"servingmatrix/{mode.name}",
        "org.opencontainers.image.description": mode.summary,
        "org.opencontainers.image.version": __version__,
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.licenses": "MIT",
        "io.servingmatrix.project": "servingmatrix",
        "io.servingmatrix.role": "server",
        "io.servingmatrix.mode": mode.name,
        "io.servingmatrix.packages": " ".join(mode.packages),
    }
    if target.name is not None:
        labels["org.opencontainers.image.title"] = f"servingmatrix/{mode.name}:{target.mode_tag}"
        labels["io.servingmatrix.app"] = target.name
        labels["io.servingmatrix.packages"] = " ".join(mode.server_packages)
    return labels


def server_packages(mode: Mode) -> tuple[str, ...]:
    """The pins a mode adds to the app's: its server (none for Flask's own development server)."""
    return mode.server_packages


def render_mode_dockerfile(mode: Mode, target: AppTarget = BUNDLED_APP) -> str:
    """The Dockerfile of one mode's image: its server beside the app, on the shared runtime."""
    config = mode.resolve({}, DEFAULT_CPUS, target)
    launch = config.launch("0.0.0.0", DEFAULT_PORT)
    env = {"SERVING_MODE": config.spec, **dict(launch.env)}
    adds = bool(server_packages(mode))
    source = (
        "# Rendered from src/servingmatrix/modes.py by `servingmatrix generate`: edit the registry."
        if target.name is None
        else f"# Rendered from src/servingmatrix/modes.py for the app {target.name} by `servingmatrix build`."
    )
    lines = [
        f"# servingmatrix/{mode.name}: {mode.summary}.",
        source,
        *([f"ARG APP_IMAGE=servingmatrix/app:{target.shared_tag}"] if adds else []),
        f"ARG RUNTIME_IMAGE=servingmatrix/runtime:{target.shared_tag}",
        "",
        *([*MODE_BUILD_STAGE, ""] if adds else []),
        "# Final stage: the shared runtime (user 10001, the app, its environment and data, the health",
        "# check: images/runtime/Dockerfile)" + (" and this mode's server" if adds else "") + "; no pip.",
        "FROM ${RUNTIME_IMAGE}",
    ]
    if mode.debian_packages:
        lines += [
            "USER root",
            "RUN apt-get update \\",
            f"    && apt-get install -y --no-install-recommends {' '.join(mode.debian_packages)} \\",
            "    && rm -rf /var/lib/apt/lists/*",
            f"USER {APP_UID}:{APP_UID}",
        ]
    if adds:
        lines.append(f"COPY --from=build {SERVER_DIR} {SERVER_DIR}")
    for extra in mode.extra_files:
        lines.append(f"COPY {extra} /srv/{mode.name}/{extra}")
    lines += [instruction("ENV", env, "    "), instruction("LABEL", mode_labels(mode, target), "      ")]
    lines += [
        f"# The default command is sized for a budget of {DEFAULT_CPUS} CPU; the runner passes its own.",
        f"CMD {json.dumps(list(launch.argv))}",
        "",
    ]
    return "\n".join(lines)


#: What every runtime image sets; a runtime adds the app's own (the bundled app's SQLite path).
RUNTIME_ENV = {
    "PATH": SERVER_PATH,
    "PYTHONPATH": f"/srv/app:{SERVER_DIR}",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PORT": str(DEFAULT_PORT),
}


def render_runtime_dockerfile() -> str:
    """The image every mode's final stage starts from: what a mode's image runs with, but its server."""
    labels = {
        "org.opencontainers.image.title": "servingmatrix/runtime",
        "org.opencontainers.image.description": (
            "Serving Matrix runtime: the unprivileged user, the app and its data every mode's image runs"
        ),
        "org.opencontainers.image.version": __version__,
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.licenses": "MIT",
        "io.servingmatrix.project": "servingmatrix",
        "io.servingmatrix.role": "runtime",
    }
    return runtime_dockerfile(
        (
            "# servingmatrix/runtime: what every mode's image runs with; each mode adds its environment.",
            "# Rendered from src/servingmatrix/building/dockerfiles.py by `servingmatrix generate`.",
        ),
        APP_IMAGE,
        {**RUNTIME_ENV, "SQLITE_PATH": "/srv/data/items.sqlite"},
        labels,
        BUNDLED_APP.health_path,
    )


def runtime_dockerfile(
    header: tuple[str, ...], app_image: str, env: dict[str, str], labels: dict[str, str], health: str
) -> str:
    """A runtime image: the user 10001, ``/opt/venv`` and ``/srv`` from ``app_image``, the environment,
    the health check."""
    return "\n".join(
        [
            *header,
            "ARG BASE_IMAGE=servingmatrix/base:3.13",
            f"ARG APP_IMAGE={app_image}",
            "FROM ${APP_IMAGE} AS app",
            "",
            "FROM ${BASE_IMAGE}",
            *APP_USER,
            "COPY --from=app /opt/venv /opt/venv",
            "COPY --from=app /srv /srv",
            instruction("ENV", env, "    "),
            instruction("LABEL", labels, "      "),
            f"USER {APP_UID}:{APP_UID}",
            "WORKDIR /srv/app",
            f"EXPOSE {DEFAULT_PORT}",
            "HEALTHCHECK --interval=2s --timeout=2s --start-period=2s --retries=15 \\",
            f"    CMD {json.dumps(['python', '-c', healthcheck(health)])}",
            "",
        ]
    )


def render_app_dockerfile() -> str:
    """The shared app image: a virtual environment with the app's packages, the app and its data.

    It is a build stage only (the runtime copies ``/opt/venv`` and ``/srv`` out of it, and each mode's
    build installs its server with its ``/opt/tools`` pip), so it keeps the tools environment.
    """
    labels = {
        "org.opencontainers.image.title": "servingmatrix/app",
        "org.opencontainers.image.description": (
            "Serving Matrix app layer: the benchmark app, its data and Flask's packages, shared by every mode"
        ),
        "org.opencontainers.image.version": __version__,
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.licenses": "MIT",
        "io.servingmatrix.project": "servingmatrix",
        "io.servingmatrix.role": "app",
        "io.servingmatrix.packages": " ".join(APP_PACKAGES),
    }
    return "\n".join(
        [
            "# servingmatrix/app: the app every mode serves; each mode's image adds its server to it.",
            "# Rendered from src/servingmatrix/building/dockerfiles.py by `servingmatrix generate`.",
            "ARG BASE_IMAGE=servingmatrix/base:3.13",
            "FROM ${BASE_IMAGE}",
            f"COPY {INSTALL_DIR}/ /tmp/{INSTALL_DIR}/",
            "COPY app/ /srv/app/",
            "# The app's environment, filled by the pip of a tools environment beside it (the modes install",
            "# their servers with it too), so /opt/venv holds no pip. The SQLite data set is written now:",
            "# the running container's root is read-only.",
            "RUN python3 -m venv /opt/tools && python3 -m venv --without-pip /opt/venv \\",
            f"    && {PIP_INSTALL[0]}",
            PIP_INSTALL[1],
            f"{PIP_INSTALL[2]} \\",
            "    && PYTHONPATH=/srv/app /opt/venv/bin/python -m benchapp.seed /srv/data/items.sqlite \\",
            "    && /opt/venv/bin/python -m compileall -q /srv/app",
            instruction("LABEL", labels, "      "),
            "",
        ]
    )


def render_locust_dockerfile() -> str:
    """The load generator's image: Locust and the project's locustfiles, built as the modes are."""
    env = {
        "PATH": VENV_PATH,
        # Locust imports each locustfile under its file name; smlocust and smconfig are found here.
        "PYTHONPATH": "/srv/locustfiles",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    labels = {
        "org.opencontainers.image.title": "servingmatrix/locust",
        "org.opencontainers.image.description": (
            "Serving Matrix load generator: Locust stepping closed-loop users through one workload"
        ),
        "org.opencontainers.image.version": __version__,
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.licenses": "MIT",
        "io.servingmatrix.project": "servingmatrix",
        "io.servingmatrix.role": "loadgen",
        "io.servingmatrix.packages": " ".join(LOCUST_PACKAGES),
    }
    lines = [
        "# servingmatrix/locust: the load generator, Locust with the project's locustfiles.",
        "# Rendered from src/servingmatrix/building/dockerfiles.py by `servingmatrix generate`.",
        "ARG BASE_IMAGE=servingmatrix/base:3.13",
        "",
        *BUILD_STAGE,
        "",
        "# Final stage: the interpreter, the environment and the locustfiles; no wheelhouse, no pip.",
        "FROM ${BASE_IMAGE}",
        # /out is the user's: a volume mounted there (a worker's samples on a remote engine, copied
        # out when it ends) starts with the mount point's owner.
        *APP_USER[:-1],
        f"{APP_USER[-1]} \\",
        f"    && install --directory --owner {APP_UID} --group {APP_UID} /out",
        "COPY --from=build /opt/venv /opt/venv",
        "COPY locustfiles/ /srv/locustfiles/",
        instruction("ENV", env, "    "),
        instruction("LABEL", labels, "      "),
        "# The runner passes --user <host uid>:<host gid> so the result files are the invoking user's.",
        f"USER {APP_UID}:{APP_UID}",
        "WORKDIR /srv/locustfiles",
        'ENTRYPOINT ["locust"]',
        'CMD ["--help"]',
        "",
    ]
    return "\n".join(lines)


#: The reference generator's Debian packages: wrk, a native HTTP benchmarking client (LuaJIT scripts).
WRK_PACKAGES = ("wrk",)


def render_wrk_dockerfile() -> str:
    """The reference generator's image: Debian's wrk on the base image, no Python environment."""
    labels = {
        "org.opencontainers.image.title": "servingmatrix/wrk",
        "org.opencontainers.image.description": (
            "Serving Matrix reference generator: wrk driving the server Locust drove, as a native client"
        ),
        "org.opencontainers.image.version": __version__,
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.licenses": "MIT",
        "io.servingmatrix.project": "servingmatrix",
        "io.servingmatrix.role": "reference",
        "io.servingmatrix.debian-packages": " ".join(WRK_PACKAGES),
    }
    return "\n".join(
        [
            "# servingmatrix/wrk: the reference generator, Debian's wrk.",
            "# Rendered from src/servingmatrix/building/dockerfiles.py by `servingmatrix generate`.",
            "ARG BASE_IMAGE=servingmatrix/base:3.13",
            "FROM ${BASE_IMAGE}",
            "# The base's apt sources reach Debian's mirror over plain HTTP (apt checks the signatures).",
            "RUN apt-get update \\",
            f"    && apt-get install -y --no-install-recommends {' '.join(WRK_PACKAGES)} \\",
            "    && rm -rf /var/lib/apt/lists/*",
            *APP_USER,
            instruction("LABEL", labels, "      "),
            "# The runner passes --user <host uid>:<host gid> so the result file is the invoking user's.",
            f"USER {APP_UID}:{APP_UID}",
            # The rendered script and the JSON its done() writes are in the folder mounted here.
            "WORKDIR /out",
            'ENTRYPOINT ["wrk"]',
            'CMD ["--version"]',
            "",
        ]
    )


def render_requirements_in(name: str, packages: tuple[str, ...], source: str = "the mode registry") -> str:
    """The top-level pins of one image, the input of its lock file."""
    header = f"# servingmatrix/{name}: top-level pins, rendered from {source}.\n"
    return header + "".join(f"{package}\n" for package in packages)


def instruction(keyword: str, values: dict[str, str], indent: str) -> str:
    """An ENV or LABEL instruction, one quoted key=value per line (``$`` kept as written, not expanded)."""
    return f"{keyword} " + f" \\\n{indent}".join(f"{key}={_quoted(value)}" for key, value in values.items())


def _quoted(value: str) -> str:
    """A value in double quotes as Docker reads them: escapes as JSON's, and ``$`` escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("$", "\\$")
