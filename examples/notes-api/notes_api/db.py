"""PostgreSQL through a small pool per process: DATABASE_URL (and PGPASSWORD) as the harness sets them."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg

Connection = psycopg.Connection[tuple[Any, ...]]


class Unavailable(Exception):
    """The database could not answer (the API says 503)."""


class Pool:
    """At most ``size`` connections per process, made when first needed and again after a fork.

    A ``queue.LifoQueue`` holds them: under gevent or eventlet its locks are patched, so a request
    waiting for a connection yields instead of blocking its worker.
    """

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.size = size
        self._slots: queue.LifoQueue[Connection | None] | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _queue(self) -> queue.LifoQueue[Connection | None]:
        with self._lock:
            if self._slots is None or self._pid != os.getpid():
                slots: queue.LifoQueue[Connection | None] = queue.LifoQueue(self.size)
                for _ in range(self.size):
                    slots.put_nowait(None)
                self._slots, self._pid = slots, os.getpid()
            return self._slots

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Lend a connection; one that fails while lent is closed, and its slot freed."""
        slots = self._queue()
        try:
            conn = slots.get(timeout=30)
        except queue.Empty:
            raise Unavailable(f"no connection free within 30 s (pool of {self.size})") from None
        try:
            if conn is None or conn.closed or conn.broken:
                conn = None
                conn = psycopg.connect(self.url, connect_timeout=5, autocommit=True)
            yield conn
        except psycopg.Error as exc:
            _close(conn)
            slots.put_nowait(None)
            raise Unavailable(
                str(exc).strip().splitlines()[0] if str(exc).strip() else "query failed"
            ) from None
        except BaseException:
            _close(conn)
            slots.put_nowait(None)
            raise
        else:
            slots.put_nowait(conn)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as conn:
            return conn.execute(sql, params).fetchall()


def _close(conn: Connection | None) -> None:
    if conn is not None:
        with suppress(psycopg.Error):
            conn.close()
