"""The Flask app under test (app/benchapp), through Flask's test client: no Docker, no servers."""

from __future__ import annotations

import asyncio
import http.server
import importlib
import json
import os
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, cast

import benchapp
import benchapp.devserver as devserver
import benchapp.seed as seed
import psycopg
import pytest
from benchapp import dataset
from benchapp.config import ConfigError, Settings
from benchapp.database import DatabaseUnavailable, PgConnection, PgPool, read_pg
from benchapp.upstream_client import UpstreamClient, UpstreamError
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]

MODE = "gunicorn-gthread[workers=2,threads=4]"


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "items.sqlite"
    seed.write_sqlite(path)
    return path


@pytest.fixture(scope="module")
def settings(sqlite_path: Path) -> Settings:
    # Upstream and database point at closed ports: only the failure paths are reachable through them.
    return Settings(
        serving_mode=MODE,
        upstream_url=f"http://127.0.0.1:{closed_port()}",
        database_url=f"postgresql://bench:x@127.0.0.1:{closed_port()}/bench",
        sqlite_path=str(sqlite_path),
    )


@pytest.fixture(scope="module")
def app(settings: Settings) -> Flask:
    return benchapp.create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get_json(client: FlaskClient, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    assert response.headers["X-Serving-Mode"] == MODE
    assert response.headers["X-Served-By-Pid"] == str(os.getpid())
    assert response.headers["X-Served-By-Thread"] == str(threading.get_ident())
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def row(item_id: int) -> tuple[int, str, int]:
    """The data set's row, from its definition written out here (not from the app's ``dataset``):
    its id, ``item-<id>``, and id x 7919 modulo 10007."""
    return (item_id, f"item-{item_id}", (item_id * 7919) % 10007)


def assert_rows_match_dataset(rows: list[list[Any]], count: int) -> None:
    assert len(rows) == count
    ids = [r[0] for r in rows]
    assert ids == list(range(ids[0], ids[0] + count))
    assert [tuple(r) for r in rows] == [row(i) for i in ids]


# --- endpoints ---------------------------------------------------------------------------------------


def test_healthz(client: FlaskClient) -> None:
    assert get_json(client, "/healthz") == {"status": "ok", "mode": MODE}


def test_json(client: FlaskClient) -> None:
    assert get_json(client, "/json") == {"message": "Hello, World!"}


#: /cpu's results, written down once from the work's definition (4,000 steps of acc = acc x 31 + i,
#: modulo 2**32, per unit): a change of the work changes what the cpu workload measures.
CPU_RESULTS = {1: 3499255760, 2: 3116273568, 8: 1298415232}


def test_cpu_is_deterministic(client: FlaskClient) -> None:
    assert get_json(client, "/cpu") == {"n": 8, "result": CPU_RESULTS[8]}
    for n, result in CPU_RESULTS.items():
        assert get_json(client, f"/cpu?n={n}") == {"n": n, "result": result}


def test_the_cpu_results_are_the_works_definition() -> None:
    """The table above, from the definition written out here, not from the app's code."""
    acc = 0
    for unit in range(1, 9):
        for i in range(4000):
            acc = (acc * 31 + i) & 0xFFFFFFFF
        if unit in CPU_RESULTS:
            assert acc == CPU_RESULTS[unit]


def test_io_sleeps(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("benchapp.time.sleep", slept.append)
    assert get_json(client, "/io?ms=0") == {"slept_ms": 0}
    assert get_json(client, "/io?ms=20") == {"slept_ms": 20}
    assert sum(slept) == 0.02 and 0.02 in slept  # 20 ms in all, in one wait


@pytest.mark.parametrize("kb", [1, 3, 63, 64, 65, 127, 200, 4096])
def test_bytes_has_exact_size_and_pattern(client: FlaskClient, kb: int) -> None:
    response = client.get(f"/bytes?kb={kb}")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Length"] == str(kb * 1024)
    assert response.headers["X-Serving-Mode"] == MODE
    # The pattern: bytes 0 to 255, over and over, cut at the size asked for.
    assert response.data == (bytes(range(256)) * (kb * 4 + 1))[: kb * 1024]


def test_bytes_default_is_the_workloads_default_of_64_kib(client: FlaskClient) -> None:
    assert len(client.get("/bytes").data) == 64 * 1024


def test_sqlite_reads_the_dataset(client: FlaskClient) -> None:
    body = get_json(client, "/sqlite")
    assert (body["work"], body["count"]) == (0, 0)
    assert_rows_match_dataset(body["rows"], 1)
    assert body["start"] == body["rows"][0][0]
    body = get_json(client, "/sqlite?rows=1000&work=1000")
    assert body["count"] == 1000
    assert_rows_match_dataset(body["rows"], 1000)


def test_sqlite_missing_file_is_503(settings: Settings, tmp_path: Path) -> None:
    missing = Settings(serving_mode=MODE, sqlite_path=str(tmp_path / "none.sqlite"))
    body = get_json(benchapp.create_app(missing).test_client(), "/sqlite", 503)
    assert "none.sqlite" in body["error"]


def test_db_unreachable_is_503(client: FlaskClient) -> None:
    body = get_json(client, "/db?rows=2", 503)
    assert "cannot connect to PostgreSQL" in body["error"]


def test_upstream_unreachable_is_502(client: FlaskClient) -> None:
    body = get_json(client, "/upstream?ms=0", 502)
    assert "unreachable" in body["error"]


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    assert get_json(client, "/nope", 404) == {"error": "no route /nope"}


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.post("/json")
    assert response.status_code == 405
    assert response.get_json() == {"error": "method POST not allowed on /json"}
    assert "GET" in response.headers["Allow"]
    assert response.headers["X-Serving-Mode"] == MODE


def test_unexpected_error_is_json_500(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(n: int) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(benchapp, "cpu_work", boom)
    assert get_json(client, "/cpu?n=1", 500) == {"error": "internal error: RuntimeError"}


# --- parameter validation ----------------------------------------------------------------------------

PARAMS = {
    "/cpu": {"n": (1, 2000)},
    "/io": {"ms": (0, 5000)},
    "/upstream": {"ms": (0, 5000)},
    "/db": {"ms": (0, 5000), "rows": (1, 1000)},
    "/sqlite": {"rows": (1, 1000), "work": (0, 5_000_000)},
    "/bytes": {"kb": (1, 4096)},
}
BAD_VALUES: dict[str, Callable[[int, int], str]] = {
    "non-integer": lambda low, high: "abc",
    "float": lambda low, high: "1.5",
    "empty": lambda low, high: "",
    "plus-sign": lambda low, high: "+1",
    "huge": lambda low, high: "9" * 40,
    "negative": lambda low, high: "-1",
    "below-min": lambda low, high: str(low - 1),
    "above-max": lambda low, high: str(high + 1),
}
BAD_CASES = [
    pytest.param(path, name, kind, id=f"{path}-{name}-{kind}")
    for path, params in PARAMS.items()
    for name in params
    for kind in BAD_VALUES
]


@pytest.mark.parametrize(("path", "name", "kind"), BAD_CASES)
def test_bad_value_is_400_naming_its_range(client: FlaskClient, path: str, name: str, kind: str) -> None:
    low, high = PARAMS[path][name]
    body = get_json(client, f"{path}?{name}={BAD_VALUES[kind](low, high)}", 400)
    assert f"'{name}'" in body["error"]
    assert f"{low}..{high}" in body["error"]


@pytest.mark.parametrize("path", [*PARAMS, "/healthz", "/json"])
def test_unknown_param_is_400(client: FlaskClient, path: str) -> None:
    body = get_json(client, f"{path}?bogus=1", 400)
    assert "unknown parameter 'bogus'" in body["error"]
    for name, (low, high) in PARAMS.get(path, {}).items():
        assert f"{name} ({low}..{high})" in body["error"]


@pytest.mark.parametrize(("path", "name"), [(p, n) for p, params in PARAMS.items() for n in params])
def test_repeated_param_is_400(client: FlaskClient, path: str, name: str) -> None:
    low, _ = PARAMS[path][name]
    body = get_json(client, f"{path}?{name}={low}&{name}={low}", 400)
    assert f"'{name}' is given 2 times" in body["error"]


def test_bounds_are_inclusive(client: FlaskClient) -> None:
    assert get_json(client, "/io?ms=0")["slept_ms"] == 0
    assert len(get_json(client, "/sqlite?rows=1000")["rows"]) == 1000
    assert len(client.get("/bytes?kb=4096").data) == 4096 * 1024


# --- /upstream against a stub server -------------------------------------------------------------------


class StubUpstream(http.server.BaseHTTPRequestHandler):
    """Answers like the upstream image, with switches for the failure cases."""

    protocol_version = "HTTP/1.1"
    status: ClassVar[int] = 200
    body: ClassVar[bytes | None] = None
    drop_after_answer: ClassVar[bool] = False
    connections: ClassVar[set[tuple[str, int]]] = set()
    #: Set when the server has closed a connection.
    closed: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        StubUpstream.connections.add(self.client_address)
        ms = int(self.path.split("ms=", 1)[1])
        body = self.body if self.body is not None else json.dumps({"slept_ms": ms}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # Closing without "Connection: close" is what an upstream's idle timeout looks like to a client.
        self.close_connection = self.drop_after_answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StubServer(http.server.ThreadingHTTPServer):
    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        StubUpstream.closed.set()


@pytest.fixture
def stub_upstream() -> Iterator[str]:
    server = StubServer(("127.0.0.1", 0), StubUpstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    StubUpstream.status, StubUpstream.body, StubUpstream.drop_after_answer = 200, None, False
    StubUpstream.connections = set()
    StubUpstream.closed = threading.Event()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_upstream_returns_upstream_json_and_elapsed(settings: Settings, stub_upstream: str) -> None:
    app = benchapp.create_app(Settings(serving_mode=MODE, upstream_url=stub_upstream))
    body = get_json(app.test_client(), "/upstream?ms=7")
    assert body["ms"] == 7
    assert body["upstream"] == {"slept_ms": 7}
    assert body["elapsed_ms"] > 0
    assert get_json(app.test_client(), "/upstream")["upstream"] == {"slept_ms": 50}


def test_upstream_client_reuses_connections(stub_upstream: str) -> None:
    client = UpstreamClient(stub_upstream)
    for ms in range(3):
        assert client.delay(ms)[0] == {"slept_ms": ms}
    assert len(StubUpstream.connections) == 1
    client.close()


def test_upstream_client_retries_once_when_a_pooled_connection_was_closed(stub_upstream: str) -> None:
    StubUpstream.drop_after_answer = True
    client = UpstreamClient(stub_upstream)
    assert client.delay(1)[0] == {"slept_ms": 1}
    assert StubUpstream.closed.wait(10), "the server closed the connection after its answer"
    assert client.delay(2)[0] == {"slept_ms": 2}
    assert len(StubUpstream.connections) == 2


def test_upstream_error_status_is_502(stub_upstream: str) -> None:
    StubUpstream.status = 500
    with pytest.raises(UpstreamError, match="HTTP 500"):
        UpstreamClient(stub_upstream).delay(0)


def test_upstream_invalid_json_is_502(stub_upstream: str) -> None:
    StubUpstream.body = b"not json"
    app = benchapp.create_app(Settings(serving_mode=MODE, upstream_url=stub_upstream))
    assert "invalid JSON" in get_json(app.test_client(), "/upstream?ms=0", 502)["error"]


# --- /db's pool, with fake connections ----------------------------------------------------------------


class FakeCursor:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class FakeConnection:
    """Answers read_pg's two statements from the dataset module; can be told to fail."""

    opened = 0

    def __init__(self) -> None:
        FakeConnection.opened += 1
        self.closed = False
        self.broken = False
        self.fail = False
        self.statements: list[str] = []

    def execute(self, sql: str, params: tuple[Any, ...]) -> FakeCursor:
        self.statements.append(sql)
        if self.fail:
            self.broken = True
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        if "pg_sleep" in sql:
            return FakeCursor([])
        first, last = params
        return FakeCursor([tuple(dataset.item(i)) for i in range(first, last + 1)])

    def close(self) -> None:
        self.closed = True


def fake_pool(size: int, acquire_timeout: float = 1.0) -> tuple[PgPool, list[FakeConnection]]:
    made: list[FakeConnection] = []

    def connect() -> PgConnection:
        made.append(FakeConnection())
        return cast(PgConnection, made[-1])

    return PgPool("postgresql://unused", size, acquire_timeout=acquire_timeout, connect=connect), made


def test_pool_connects_lazily_and_reuses() -> None:
    pool, made = fake_pool(2)
    assert made == []
    assert read_pg(pool, 5, 3, 0) == [(5, "item-5", 9574), (6, "item-6", 7486), (7, "item-7", 5398)]
    assert read_pg(pool, 1, 1, 10) == [(1, "item-1", 7919)]
    assert len(made) == 1
    assert made[0].statements[-2].startswith("SELECT pg_sleep")


def test_pool_never_exceeds_its_size() -> None:
    pool, made = fake_pool(2, acquire_timeout=0.05)
    with (
        pool.connection(),
        pool.connection(),
        pytest.raises(DatabaseUnavailable, match="no PostgreSQL connection free"),
        pool.connection(),
    ):
        pass
    assert len(made) == 2
    with pool.connection():
        pass
    assert len(made) == 2


def test_pool_discards_a_broken_connection() -> None:
    pool, made = fake_pool(1)
    with pool.connection() as conn:
        cast(FakeConnection, conn).fail = True
    with pytest.raises(DatabaseUnavailable, match="server closed the connection"):
        read_pg(pool, 1, 1, 0)
    assert made[0].closed
    assert read_pg(pool, 2, 1, 0) == [(2, "item-2", 5831)]
    assert len(made) == 2


def test_pool_frees_the_slot_when_connecting_fails() -> None:
    attempts = 0

    def refuse() -> PgConnection:
        nonlocal attempts
        attempts += 1
        raise psycopg.OperationalError("connection refused")

    pool = PgPool("postgresql://unused", 1, acquire_timeout=0.05, connect=refuse)
    for _ in range(3):
        with pytest.raises(DatabaseUnavailable, match="cannot connect"):
            read_pg(pool, 1, 1, 0)
    assert attempts == 3


def test_pool_starts_afresh_after_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    pool, made = fake_pool(1)
    read_pg(pool, 1, 1, 0)
    parent_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent_pid + 1)  # as seen from a forked child
    read_pg(pool, 1, 1, 0)
    assert len(made) == 2
    assert not made[0].closed  # the parent's session is left alone


# --- data set and seeds --------------------------------------------------------------------------------


def test_dataset_formula() -> None:
    rows = list(dataset.items())
    assert len(rows) == dataset.ITEM_COUNT == 10_000
    assert rows[0] == (1, "item-1", 7919)
    assert rows[-1] == (10_000, "item-10000", 4_609)
    assert rows == [row(i) for i in range(1, 10_001)]
    with pytest.raises(ValueError, match=r"1\.\.10000"):
        dataset.item(0)


def test_sqlite_seed_holds_the_dataset(sqlite_path: Path) -> None:
    with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT id, name, value FROM items ORDER BY id").fetchall()
    assert rows == [row(i) for i in range(1, 10_001)]
    assert not Path(str(sqlite_path) + ".tmp").exists()


def test_postgres_seed_file_matches_the_generator() -> None:
    # The postgres image's build context is images/postgres/ alone, so it carries a generated copy.
    committed = (ROOT / "images" / "postgres" / "seed.sql").read_text()
    assert committed == seed.postgres_sql(), "regenerate: python -m benchapp.seed --postgres-sql"


def test_postgres_sql_rows_are_the_dataset() -> None:
    lines = seed.postgres_sql().splitlines()
    start = lines.index("COPY items (id, name, value) FROM stdin;") + 1
    end = lines.index("\\.")
    parsed = [(int(i), name, int(v)) for i, name, v in (line.split("\t") for line in lines[start:end])]
    assert parsed == [row(i) for i in range(1, 10_001)]


def test_seed_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed.main([str(tmp_path / "x" / "items.sqlite")]) == 0
    assert (tmp_path / "x" / "items.sqlite").stat().st_size > 0
    assert seed.main(["--postgres-sql"]) == 0
    assert capsys.readouterr().out == seed.postgres_sql()
    with pytest.raises(SystemExit):
        seed.main([])


# --- configuration and entry points ------------------------------------------------------------------


def test_settings_from_env() -> None:
    assert Settings.from_env({}) == Settings()
    env = {
        "SERVING_MODE": MODE,
        "UPSTREAM_URL": "http://upstream:9000/base",
        "DATABASE_URL": "postgresql://u@db/x",
        "SQLITE_PATH": "/x.sqlite",
        "DB_POOL_SIZE": "8",
    }
    got = Settings.from_env(env)
    assert (got.serving_mode, got.upstream_url, got.db_pool_size) == (MODE, "http://upstream:9000/base", 8)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DB_POOL_SIZE": "four"}, "DB_POOL_SIZE"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE"),
        ({"UPSTREAM_URL": "https://x:1"}, "UPSTREAM_URL"),
        ({"UPSTREAM_URL": "http://x:notaport"}, "UPSTREAM_URL"),
        ({"SQLITE_PATH": ""}, "SQLITE_PATH"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("argv", "threaded", "processes"),
    [([], False, 1), (["--threaded"], True, 1), (["--processes", "3"], False, 3)],
)
def test_devserver_maps_flags_to_app_run(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], threaded: bool, processes: int
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(Flask, "run", lambda self, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("PORT", "8123")
    devserver.main([*argv, "--host", "127.0.0.1"])
    assert calls == [
        {
            "host": "127.0.0.1",
            "port": 8123,
            "threaded": threaded,
            "processes": processes,
            "debug": False,
            "use_reloader": False,
            "load_dotenv": False,
        }
    ]


@pytest.mark.parametrize(
    "argv", [["--threaded", "--processes", "2"], ["--processes", "0"], ["--processes", "x"], ["--port", "0"]]
)
def test_devserver_rejects_bad_flags(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        devserver.main(argv)
    assert exc.value.code == 2


def test_asgi_app_serves_through_a2wsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A2WSGI_WORKERS", "2")
    monkeypatch.setenv("SERVING_MODE", "uvicorn[workers=1,threads=2]")
    monkeypatch.delitem(sys.modules, "benchapp.asgi", raising=False)
    asgi = importlib.import_module("benchapp.asgi")
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/json",
            "raw_path": b"/json",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8000),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asgi.app(scope, receive, send)

    asyncio.run(call())
    assert sent[0]["status"] == 200
    assert (b"x-serving-mode", b"uvicorn[workers=1,threads=2]") in [
        (k.lower(), v) for k, v in sent[0]["headers"]
    ]
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b'{"message":"Hello, World!"}\n'
    monkeypatch.delitem(sys.modules, "benchapp.asgi")


def test_asgi_rejects_bad_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A2WSGI_WORKERS", "0")
    monkeypatch.delitem(sys.modules, "benchapp.asgi", raising=False)
    with pytest.raises(SystemExit, match="A2WSGI_WORKERS"):
        importlib.import_module("benchapp.asgi")
    monkeypatch.delitem(sys.modules, "benchapp.asgi", raising=False)
