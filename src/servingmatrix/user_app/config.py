"""What an ``app.yml`` declares, once checked: the app, its requests, and how a mode serves it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from servingmatrix.modes import AppTarget
from servingmatrix.workloads import Request

#: The harness's package in a user's app image: the ASGI wrapper for uvicorn, Werkzeug's development
#: server and the import check, each around the WSGI callable named in ``SM_WSGI``.
ENTRY_PACKAGE = "servingmatrix_entry"
#: The variable naming the WSGI callable (``module:callable``) in a user's app image.
WSGI_ENV = "SM_WSGI"


def app_target(name: str, wsgi: str, health: str) -> AppTarget:
    """How every mode serves a user's app: its callable, the harness's entry points, its images' tags."""
    return AppTarget(
        wsgi=wsgi,
        asgi=f"{ENTRY_PACKAGE}.asgi:app",
        devserver=f"{ENTRY_PACKAGE}.devserver",
        health_path=health,
        name=name,
    )


@dataclass(frozen=True)
class Pin:
    """One requirement pinned with ``==``: ``psycopg[binary]==3.3.9``."""

    name: str
    extras: str
    version: str

    @property
    def line(self) -> str:
        return f"{self.name}{self.extras}=={self.version}"


@dataclass(frozen=True)
class AppRequest:
    """One declared request: what is sent, its share of ``app:mixed``, and the statuses it may answer."""

    name: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    weight: int = 1
    statuses: tuple[int, ...] = (200,)

    def request(self) -> Request:
        """As the load generators send it (Locust and wrk, from the same list)."""
        return Request(self.name, self.path, self.weight, self.method, self.headers, self.body)


@dataclass(frozen=True)
class UserApp:
    """A user's app, as its ``app.yml`` declares it; every file named in it exists."""

    #: The folder, as given (relative to the current directory, or absolute).
    folder: Path
    name: str
    wsgi: str
    health: str
    requirements: Path
    pins: tuple[Pin, ...]
    version: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    seed_sql: Path | None = None
    requests: tuple[AppRequest, ...] = ()

    @property
    def target(self) -> AppTarget:
        """How every mode serves it: its callable, the harness's entry points around it, its images."""
        return app_target(self.name, self.wsgi, self.health)

    @property
    def relock(self) -> str:
        """The command that writes this app's locks again."""
        return f"servingmatrix lock --app {self.folder}"
