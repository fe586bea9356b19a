"""Reads of the items table: PostgreSQL through a small per-process pool, and the read-only SQLite file."""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from typing import Any
from urllib.parse import quote

import psycopg

Row = tuple[int, str, int]
PgConnection = psycopg.Connection[tuple[Any, ...]]

_SELECT_RANGE_PG = "SELECT id, name, value FROM items WHERE id BETWEEN %s AND %s ORDER BY id"
_SELECT_RANGE_SQLITE = "SELECT id, name, value FROM items WHERE id BETWEEN ? AND ? ORDER BY id"
# Counting rows of a recursive CTE keeps SQLite busy in C for a time proportional to `work`.
_COUNT_SQLITE = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c"
)


class DatabaseUnavailable(Exception):
    """The database could not serve the read (the app answers 503)."""


class PgPool:
    """At most `size` PostgreSQL connections per process, handed out last-in first-out.

    The slots live in a queue.LifoQueue: under gevent or eventlet its locks are patched, so a green thread
    waiting for a free connection yields instead of blocking the worker. Empty slots hold None and are
    connected on demand, so a process that never serves /db never connects. `connect`, when given, replaces
    psycopg.connect (the unit tests pass fakes).
    """

    def __init__(
        self,
        url: str,
        size: int,
        connect_timeout: int = 5,
        acquire_timeout: float = 30.0,
        connect: Callable[[], PgConnection] | None = None,
    ) -> None:
        self._url = url
        self._size = size
        self._connect_timeout = connect_timeout
        self._acquire_timeout = acquire_timeout
        self._connect_fn = connect or self._connect_psycopg
        # Built lazily in each process, after any monkey-patching and after any fork (see _slots).
        self._queue: queue.LifoQueue[PgConnection | None] | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _slots(self) -> queue.LifoQueue[PgConnection | None]:
        slots = self._queue
        if slots is not None and self._pid == os.getpid():
            return slots
        # Two first requests at once must not build two queues (and twice the connections). Nothing in
        # the critical section blocks, so the lock is safe even if it predates gevent's patching.
        with self._lock:
            if self._queue is None or self._pid != os.getpid():
                # A queue inherited across fork is dropped, never drained: its connections are the
                # parent's sessions, and psycopg closes a connection only in the process that opened it.
                slots = queue.LifoQueue(self._size)
                for _ in range(self._size):
                    slots.put_nowait(None)
                self._queue, self._pid = slots, os.getpid()
            return self._queue

    def _connect_psycopg(self) -> PgConnection:
        return psycopg.connect(self._url, connect_timeout=self._connect_timeout, autocommit=True)

    def _connect(self) -> PgConnection:
        try:
            return self._connect_fn()
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {_one_line(exc)}") from None

    @contextmanager
    def connection(self) -> Iterator[PgConnection]:
        """Lend one connection; a connection that fails while lent is closed and its slot emptied."""
        slots = self._slots()
        try:
            conn = slots.get(timeout=self._acquire_timeout)
        except queue.Empty:
            raise DatabaseUnavailable(
                f"no PostgreSQL connection free within {self._acquire_timeout:g} s (pool size {self._size})"
            ) from None
        try:
            if conn is None or conn.closed or conn.broken:
                _discard(conn)
                conn = None  # the slot stays ours while we connect, and is freed if that fails
                conn = self._connect()
            yield conn
        except psycopg.Error as exc:
            _discard(conn)
            slots.put_nowait(None)
            raise DatabaseUnavailable(f"PostgreSQL query failed: {_one_line(exc)}") from None
        except BaseException:
            _discard(conn)
            slots.put_nowait(None)
            raise
        else:
            slots.put_nowait(conn)

    def close(self) -> None:
        """Close this process's idle connections."""
        if self._queue is None or self._pid != os.getpid():
            return
        for _ in range(self._size):
            try:
                conn = self._queue.get_nowait()
            except queue.Empty:
                break
            _discard(conn)
            self._queue.put_nowait(None)


def _discard(conn: PgConnection | None) -> None:
    if conn is not None:
        # Closing a broken connection can itself fail; the slot is freed either way.
        with suppress(psycopg.Error):
            conn.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_pg(pool: PgPool, start: int, rows: int, sleep_ms: int) -> list[Row]:
    """Read `rows` consecutive items from `start`, after a server-side pg_sleep when sleep_ms > 0."""
    with pool.connection() as conn:
        if sleep_ms > 0:
            conn.execute("SELECT pg_sleep(%s)", (sleep_ms / 1000,))
        cur = conn.execute(_SELECT_RANGE_PG, (start, start + rows - 1))
        return [(int(r[0]), str(r[1]), int(r[2])) for r in cur.fetchall()]


def read_sqlite(path: str, start: int, rows: int, work: int) -> tuple[list[Row], int]:
    """Read `rows` consecutive items from `start` and count `work` CTE rows; return (rows, count).

    A connection is opened per request rather than per thread: opening an immutable read-only file costs
    tens of microseconds, every mode then pays the same, and no handle outlives the short-lived threads of
    werkzeug's threaded server or the per-request greenlets of gevent and eventlet.
    """
    # immutable=1: the image's root file system is read-only and nothing writes the file, so SQLite can
    # skip locking and change detection altogether.
    uri = f"file:{quote(path)}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            found = conn.execute(_SELECT_RANGE_SQLITE, (start, start + rows - 1)).fetchall()
            count = int(conn.execute(_COUNT_SQLITE, (work,)).fetchone()[0]) if work > 0 else 0
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"SQLite file {path!r} unusable: {_one_line(exc)}") from None
    return [(int(r[0]), str(r[1]), int(r[2])) for r in found], count
