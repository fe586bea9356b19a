"""Property-based tests of the app's endpoints: whatever the query string, no 500, and nothing past
the documented bounds of CPU, sleep, size or rows."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import benchapp
import benchapp.database
import benchapp.seed as seed
import pytest
from benchapp.config import Settings
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENDPOINTS = ("/json", "/healthz", "/cpu", "/io", "/upstream", "/db", "/sqlite", "/bytes")
KEYS = ("n", "ms", "rows", "work", "kb", "x", "", "MS", "ms[]")

# Values a client might send: integers around and beyond every bound, and text that is not a number.
values = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(["", " 1", "1 ", "+5", "0x10", "1e3", "1.5", "٣", "nan", "-0", "00007", "9" * 40]),
    st.text(max_size=12),
)
queries = st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=3)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    path: Path = tmp_path_factory.mktemp("data") / "items.sqlite"
    seed.write_sqlite(path)
    return benchapp.create_app(
        Settings(
            serving_mode="property-test",
            upstream_url=f"http://127.0.0.1:{closed_port()}",
            database_url=f"postgresql://bench:x@127.0.0.1:{closed_port()}/bench",
            sqlite_path=str(path),
        )
    )


@pytest.fixture
def spent(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Record what each request asked of the expensive parts instead of spending it."""
    record: dict[str, list[Any]] = {"sleep": [], "cpu": [], "sqlite": []}
    monkeypatch.setattr("benchapp.time.sleep", lambda s: record["sleep"].append(s))
    real_cpu = benchapp.cpu_work

    def cpu(n: int) -> int:
        record["cpu"].append(n)
        return real_cpu(1)

    monkeypatch.setattr("benchapp.cpu_work", cpu)
    real_sqlite = benchapp.database.read_sqlite

    def sqlite(path: str, start: int, rows: int, work: int) -> Any:
        record["sqlite"].append((rows, work))
        return real_sqlite(path, start, rows, 0)

    monkeypatch.setattr("benchapp.read_sqlite", sqlite)
    return record


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), query=queries)
def test_no_input_gives_a_500_or_exceeds_the_bounds(
    app: Flask, spent: dict[str, list[Any]], endpoint: str, query: list[tuple[str, str]]
) -> None:
    for key in spent:
        spent[key].clear()
    response = app.test_client().get(f"{endpoint}?{urlencode(query)}" if query else endpoint)
    assert response.status_code in {200, 400, 502, 503}, response.data
    assert response.mimetype in {"application/json", "application/octet-stream"}
    if response.status_code == 400:
        body = response.get_json()
        assert isinstance(body, dict) and body["error"]
    assert all(0 <= s <= 5.0 for s in spent["sleep"])
    assert all(1 <= n <= 2000 for n in spent["cpu"])
    assert all(1 <= rows <= 1000 and 0 <= work <= 5_000_000 for rows, work in spent["sqlite"])
    if endpoint == "/bytes" and response.status_code == 200:
        assert 1024 <= len(response.data) <= 4096 * 1024
    if endpoint == "/sqlite" and response.status_code == 200:
        assert 1 <= len(response.get_json()["rows"]) <= 1000
