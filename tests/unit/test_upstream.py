"""The upstream service (images/upstream/upstream.py) run as a subprocess on a free loopback port."""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, suppress
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parents[2] / "images" / "upstream" / "upstream.py"


def start_upstream() -> tuple[subprocess.Popen[str], int]:
    """Start upstream.py on a free port (PORT=0) and read the port from its first line."""
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(UPSTREAM)], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    # readline returns "" if the process dies before listening.
    line = proc.stdout.readline()
    if not line.startswith("upstream listening on http://127.0.0.1:"):
        proc.kill()
        proc.communicate()
        pytest.fail(f"upstream did not start: {line!r}")
    return proc, int(line.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    proc, bound = start_upstream()
    with proc:
        try:
            yield bound
        finally:
            proc.terminate()
            assert proc.wait(timeout=5) == 0
            proc.kill()


def get(port: int, path: str) -> tuple[int, dict[str, object], http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()), resp
    finally:
        conn.close()


def test_healthz(port: int) -> None:
    status, body, _ = get(port, "/healthz")
    assert (status, body) == (200, {"status": "ok"})


def test_delay_waits_and_echoes(port: int) -> None:
    started = time.perf_counter()
    status, body, resp = get(port, "/delay?ms=30")
    elapsed = time.perf_counter() - started
    assert (status, body) == (200, {"slept_ms": 30})
    assert resp.getheader("Content-Type") == "application/json"
    # At least the delay (a lower bound: a busy machine only adds to it).
    assert elapsed >= 0.03


@pytest.mark.parametrize(
    "query",
    [
        *("", "?ms=", "?ms=abc", "?ms=-1", "?ms=5001", "?ms=1.5"),
        *("?ms=1&ms=2", "?ms=1&x=2", "?x=1", "?ms=%EF%BC%91"),  # the last is a full-width digit one
    ],
)
def test_delay_rejects_bad_ms(port: int, query: str) -> None:
    status, body, resp = get(port, "/delay" + query)
    assert status == 400
    assert "ms" in str(body["error"]) or "x" in str(body["error"])
    assert resp.getheader("Connection") == "close"


def test_unknown_route_and_method(port: int) -> None:
    assert get(port, "/nope")[0] == 404
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/delay?ms=0", body=b"x")
        resp = conn.getresponse()
        assert resp.status == 405
        assert resp.getheader("Allow") == "GET, HEAD"
    finally:
        conn.close()


def test_keep_alive_serves_two_requests_on_one_connection(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/delay?ms=0")
        first = conn.getresponse()
        assert json.loads(first.read()) == {"slept_ms": 0}
        assert not first.will_close
        sock = conn.sock
        conn.request("GET", "/delay?ms=1")
        second = conn.getresponse()
        assert json.loads(second.read()) == {"slept_ms": 1}
        assert conn.sock is sock  # the same socket: no reconnect in between
    finally:
        conn.close()


def test_malformed_requests_get_400_and_the_server_survives(port: int) -> None:
    for raw in (b"GARBAGE\r\n\r\n", b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", b"\x00\xff\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(raw)
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 400 "), answer
            assert sock.recv(4096) == b""  # closed after the error
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 431 ")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /hea")  # a client that gives up halfway
    assert get(port, "/healthz")[0] == 200


def test_http_1_0_closes_unless_asked(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close\r\n" in data


def waiting_on(port: int, ms: int) -> socket.socket:
    """A connection whose request, a delay of ``ms``, has been sent and not yet answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET /delay?ms={ms} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def answered(sock: socket.socket) -> bool:
    """Whether anything (an answer, or the connection's end) has come back on ``sock`` yet."""
    return bool(select.select([sock], [], [], 0)[0])


def test_many_concurrent_delays_overlap(port: int) -> None:
    # Fifty requests waiting their longest; a fifty-first is answered while every one of them waits.
    # Served one after another, the fifty-first would come after the first of them: its socket answered.
    longest = 5000
    with ExitStack() as stack:
        waiting = [stack.enter_context(waiting_on(port, longest)) for _ in range(50)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(lambda _: get(port, "/delay?ms=0")[:2], range(10)))
        assert results == [(200, {"slept_ms": 0})] * 10
        assert [answered(sock) for sock in waiting] == [False] * 50
        # Positive control: a waiting request, once its delay is short, is seen answered.
        with waiting_on(port, 0) as quick:
            assert select.select([quick], [], [], 10)[0] == [quick] and answered(quick)


def test_sigterm_stops_promptly_despite_open_connections() -> None:
    proc, port = start_upstream()
    with (
        proc,
        closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10)) as idle,
        socket.create_connection(("127.0.0.1", port), timeout=10) as waiting,
    ):
        try:
            idle.request("GET", "/healthz")
            idle.getresponse().read()  # now an idle keep-alive connection
            waiting.sendall(b"GET /delay?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n")  # a request in flight
            # A round trip on the other connection: the server is serving while the request waits.
            idle.request("GET", "/healthz")
            idle.getresponse().read()
            proc.terminate()
            assert proc.wait(timeout=30) == 0
            # It did not wait for the request in flight: that request got no answer, only the end.
            with suppress(ConnectionResetError):
                assert waiting.recv(4096) == b""
        finally:
            proc.kill()
