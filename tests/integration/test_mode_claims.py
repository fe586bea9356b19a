"""What the README claims of the modes, observed rather than read from the registry: tornado's one
request per worker, which modes keep a connection alive (on the wire), and werkzeug-processes' new
PostgreSQL connection per request (in PostgreSQL's own counters)."""

from __future__ import annotations

import socket

import psycopg
import pytest

from servingmatrix.modes import MODES, resolve_mode
from servingmatrix.run.stack.stack import Stack

from .conftest import serving
from .test_concurrency import IO, probe

pytestmark = pytest.mark.docker


def test_gunicorn_tornado_serves_one_request_per_worker_at_a_time(stack: Stack) -> None:
    with serving(stack, "gunicorn-tornado[workers=1]"):
        assert probe(stack, IO, 2).max_in_flight == 1


def read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response (headers, then Content-Length bytes); b"" when the server closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def keeps_alive_on_the_wire(port: int) -> bool:
    """Two requests on one connection: whether the second is answered on it."""
    request = b"GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        first = read_response(sock)
        assert first.startswith(b"HTTP/1."), first
        try:
            sock.sendall(request)
            second = read_response(sock)
        except OSError:  # reset: the server closed after its answer
            return False
        return second.startswith(b"HTTP/1.")


@pytest.mark.parametrize("mode", [m.name for m in MODES])
def test_keep_alive_is_what_the_registry_says(stack: Stack, mode: str) -> None:
    with serving(stack, mode):
        assert keeps_alive_on_the_wire(stack.ports.server) is resolve_mode(mode, 1).mode.keeps_alive


def sessions(stack: Stack) -> int:
    """PostgreSQL's count of sessions ever established in the bench database (PostgreSQL 14 and on)."""
    url = f"postgresql://bench:{stack.password}@127.0.0.1:{stack.ports.postgres}/bench"
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = 'bench'").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("mode", "at_most"), [("werkzeug-processes[processes=3]", None), ("gunicorn-sync[workers=1]", 1)]
)
def test_werkzeug_processes_opens_a_connection_per_request(
    stack: Stack, mode: str, at_most: int | None
) -> None:
    requests = 10
    with serving(stack, mode):
        before = sessions(stack)
        for _ in range(requests):
            with socket.create_connection(("127.0.0.1", stack.ports.server), timeout=10) as sock:
                sock.sendall(b"GET /db HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                assert read_response(sock).startswith(b"HTTP/1.1 200")
        opened = sessions(stack) - before - 1  # the count itself is read over a session of its own
    if at_most is None:
        assert opened >= requests  # a fork per request, a connection per fork
    else:
        assert opened <= at_most  # one worker keeps its pooled connection
