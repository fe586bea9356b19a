"""The HTTP client behind /upstream: stdlib http.client with a small keep-alive pool.

http.client is plain sockets, so gevent's and eventlet's monkey-patching make it cooperative.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import time
from typing import Any
from urllib.parse import urlsplit


class UpstreamError(Exception):
    """The upstream could not be reached or gave an unusable answer (the app answers 502)."""


class UpstreamClient:
    """Calls ``GET {base}/delay?ms=N`` and keeps up to max_idle connections open for reuse.

    Reusing connections keeps the benchmark from measuring TCP handshakes and from piling up
    TIME_WAIT sockets on the loopback interface at high request rates. The pool only grows to the
    process's peak concurrency (one for a sync worker, up to its worker-connections for gevent).
    """

    def __init__(self, base_url: str, max_idle: int = 1024) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream URL must be http://HOST:PORT, got {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._max_idle = max_idle
        # Created on first use in each process: a queue built before gevent/eventlet patch threading would
        # hold real locks, and one inherited across fork would share sockets with the parent.
        self._idle: queue.LifoQueue[http.client.HTTPConnection] | None = None
        self._pid = 0

    def _pool(self) -> queue.LifoQueue[http.client.HTTPConnection]:
        idle = self._idle
        if idle is None or self._pid != os.getpid():
            # Two first requests at once may both build a queue: the loser only drops idle connections.
            idle = self._idle = queue.LifoQueue(self._max_idle)
            self._pid = os.getpid()
        return idle

    def _checkout(self) -> tuple[http.client.HTTPConnection, bool]:
        try:
            return self._pool().get_nowait(), True
        except queue.Empty:
            return http.client.HTTPConnection(self._host, self._port), False

    def _checkin(self, conn: http.client.HTTPConnection) -> None:
        try:
            self._pool().put_nowait(conn)
        except queue.Full:
            conn.close()

    def _exchange(
        self, conn: http.client.HTTPConnection, path: str, timeout: float
    ) -> tuple[int, bytes, bool]:
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return response.status, body, response.will_close

    def delay(self, ms: int) -> tuple[Any, float]:
        """Ask the upstream to wait ms milliseconds; return its JSON answer and the elapsed milliseconds."""
        path = f"{self._prefix}/delay?ms={ms}"
        timeout = ms / 1000 + 5.0
        started = time.perf_counter()
        conn, reused = self._checkout()
        try:
            try:
                status, body, will_close = self._exchange(conn, path, timeout)
            except (ConnectionError, http.client.BadStatusLine):
                if not reused:
                    raise
                # The upstream may have closed an idle pooled connection; a GET is safe to send again once.
                conn.close()
                conn = http.client.HTTPConnection(self._host, self._port)
                status, body, will_close = self._exchange(conn, path, timeout)
        except TimeoutError:
            conn.close()
            raise UpstreamError(f"upstream {self._host}:{self._port} timed out after {timeout:g} s") from None
        except OSError as exc:
            conn.close()
            raise UpstreamError(f"upstream {self._host}:{self._port} unreachable: {exc!r}") from None
        except http.client.HTTPException as exc:
            conn.close()
            raise UpstreamError(f"upstream {self._host}:{self._port} broke HTTP: {exc!r}") from None
        except BaseException:
            # Interrupted mid-exchange (e.g. a killed green thread): the connection's state is unknown.
            conn.close()
            raise
        elapsed_ms = (time.perf_counter() - started) * 1000
        if will_close:
            conn.close()
        else:
            self._checkin(conn)
        if status != 200:
            raise UpstreamError(f"upstream answered HTTP {status}: {body[:200]!r}")
        try:
            payload = json.loads(body)
        except ValueError:
            raise UpstreamError(f"upstream answered invalid JSON: {body[:200]!r}") from None
        return payload, elapsed_ms

    def close(self) -> None:
        """Close every idle connection of this process."""
        if self._idle is None or self._pid != os.getpid():
            return
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
