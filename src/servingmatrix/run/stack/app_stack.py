"""A user's app's stack: its seed SQL run in PostgreSQL once it is ready, and its declared requests as
the conformance check.

The backing services are the bundled ones (the server finds them by ``DATABASE_URL`` and
``UPSTREAM_URL``, as the bundled app does); PostgreSQL starts from the same data every time, so the
seed runs at every start, before the server. A seed that fails, or a declared request that does not
answer one of its statuses, is the reason the stack is recorded as failed.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from servingmatrix.engine.docker import Docker
from servingmatrix.inputs import input_files
from servingmatrix.inputs.input_files import read_text_input
from servingmatrix.run.stack.readiness import NotReady
from servingmatrix.run.stack.stack import Placement, Stack, StackPorts
from servingmatrix.user_app import AppRequest, UserApp

#: The seed runs as the superuser over the container's socket, then as the app's role, so what it
#: creates belongs to the role the app connects as.
SEED_PREAMBLE = (
    "GRANT CREATE ON DATABASE bench TO bench; GRANT CREATE ON SCHEMA public TO bench; SET ROLE bench;"
)
#: Back to the superuser (who alone may call it), and the session's statistics flushed when it ends.
SEED_FLUSH = "RESET ROLE; SELECT pg_stat_force_next_flush();"
SEED_TIMEOUT_S = 300.0


def seed_argv(port: int) -> list[str]:
    """psql in the PostgreSQL container: the preamble, then the seed on standard input, one transaction."""
    return [
        "psql",
        "--no-psqlrc",
        "--quiet",
        "--host=/var/run/postgresql",
        f"--port={port}",
        "--username=postgres",
        "--dbname=bench",
        "--set=ON_ERROR_STOP=1",
        "--single-transaction",
        f"--command={SEED_PREAMBLE}",
        "--file=-",
        # The seed's writes are in PostgreSQL's statistics before psql returns (not when its backend
        # ends), so the written-row count read next includes them.
        f"--command={SEED_FLUSH}",
    ]


def seed_database(docker: Docker, container: str, port: int, sql: str, source: str) -> float:
    """Run ``sql`` (the file ``source``) in the database; the seconds it took, or NotReady saying why."""
    started = time.monotonic()
    code, output = docker.exec_input(container, seed_argv(port), sql.encode(), SEED_TIMEOUT_S)
    if code != 0:
        lines = [
            line.strip()
            for line in output.replace("psql:<stdin>:", f"{source}:").splitlines()
            if line.strip()
        ]
        raise NotReady(f"the seed SQL failed: {lines[0] if lines else f'psql exited with code {code}'}")
    return time.monotonic() - started


@dataclass
class AppStack(Stack):
    """The bundled backing services and a user's app's server, its database seeded when it is ready."""

    seed_sql: str | None = None
    seed_source: str = ""

    def start_backing(self, placement: Placement, timeout_s: float = 60.0) -> float:
        """Start the backing services, then seed the database; every (re)start of them seeds it, so a
        session whose requests wrote (which restarts them, see ``ensure_backing``) leaves the next one
        the seeded data. The seed's rows are not a session's writes: they are counted from after it."""
        ready = super().start_backing(placement, timeout_s)
        if self.seed_sql is None:
            return ready
        seeded = seed_database(
            self.docker, self.name("postgres"), self.ports.postgres, self.seed_sql, self.seed_source
        )
        self.backing_writes = self.database_writes()
        return ready + seeded


def stack_factory(app: UserApp) -> Callable[[Docker, str, StackPorts], Stack]:
    """The stacks of a run of ``app``: its seed read now, so an unreadable file stops the run first."""
    sql: str | None = None
    if app.seed_sql is not None:
        sql = read_text_input(app.seed_sql, input_files.SEED_SQL, "SQL written in UTF-8")
    source = str(app.seed_sql or "")
    return lambda docker, run_id, ports: AppStack(docker, run_id, ports, seed_sql=sql, seed_source=source)


def send_declared(base_url: str, request: AppRequest, timeout_s: float = 10.0) -> str | None:
    """Send ``request`` once; None when it answered one of its statuses, else what went wrong."""
    parts = urlsplit(base_url)
    label = f"{request.method} {request.path} ({request.name})"
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s)
    try:
        body = request.body.encode() if request.body is not None else None
        conn.request(request.method, request.path, body=body, headers=dict(request.headers))
        response = conn.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return f"{label}: {exc.__class__.__name__}: {exc}"
    finally:
        conn.close()
    if response.status not in request.statuses:
        expected = ", ".join(str(s) for s in request.statuses)
        return f"{label}: status {response.status}, expected {expected}: {raw[:120]!r}"
    return None


def app_conformance(app: UserApp) -> Callable[[str, str], list[str]]:
    """The conformance check of ``app``: each declared request once, with its declared statuses."""

    def check(base_url: str, _mode: str) -> list[str]:
        return [problem for r in app.requests if (problem := send_declared(base_url, r)) is not None]

    return check
