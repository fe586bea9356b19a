"""The upstream service (images/upstream/upstream.py) run as a subprocess on a free loopback port."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
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
    assert 0.03 <= elapsed < 2


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


def test_many_concurrent_delays_overlap(port: int) -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: get(port, "/delay?ms=200")[:2], range(50)))
    elapsed = time.perf_counter() - started
    assert results == [(200, {"slept_ms": 200})] * 50
    # Served one after another this would take 10 s.
    assert elapsed < 3


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
            time.sleep(0.1)
            started = time.perf_counter()
            proc.terminate()
            assert proc.wait(timeout=5) == 0
            assert time.perf_counter() - started < 2
        finally:
            proc.kill()
