"""The harness's entry points in a user's app image (images/user-app), and the example app they serve
(examples/notes-api), through Flask's test client with its database faked."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from notes_api import create_app
from notes_api.db import Pool, Unavailable
from servingmatrix_entry import LoadError, load_wsgi
from servingmatrix_entry import check as check_module
from servingmatrix_entry.devserver import parse_args

from servingmatrix.building.images import BUILD_ERROR_MARK


def test_the_wsgi_callable_is_loaded_by_its_name() -> None:
    app = load_wsgi("notes_api.wsgi:app")
    assert isinstance(app, Flask) and app.import_name == "notes_api"


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("notes_api.wsgi", r"SM_WSGI='notes_api.wsgi' is not module:callable"),
        (
            "no_such_app.wsgi:app",
            r"cannot import no_such_app.wsgi \(ModuleNotFoundError: No module named 'no_such_app'\)",
        ),
        ("notes_api.wsgi:application", "notes_api.wsgi has no application"),
        ("notes_api:MAX_LIMIT", "notes_api:MAX_LIMIT is a int, not a WSGI callable"),
    ],
)
def test_a_callable_that_cannot_be_loaded_says_why(target: str, says: str) -> None:
    with pytest.raises(LoadError, match=says):
        load_wsgi(target)


def test_the_import_check_marks_its_reason_for_the_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_module.MARK == BUILD_ERROR_MARK
    monkeypatch.setenv("SM_WSGI", "no_such_app:app")
    assert check_module.main() == 1
    err = capsys.readouterr().err.strip().splitlines()
    reason = "cannot import no_such_app (ModuleNotFoundError: No module named 'no_such_app')"
    assert err == [f"{BUILD_ERROR_MARK} wsgi 'no_such_app:app': {reason}"]
    monkeypatch.setenv("SM_WSGI", "notes_api.wsgi:app")
    assert check_module.main() == 0


def test_the_development_server_takes_the_modes_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    args = parse_args(["--host", "127.0.0.1", "--processes", "3"])
    assert (args.host, args.port, args.processes, args.threaded) == ("127.0.0.1", 8123, 3, False)
    assert parse_args(["--threaded"]).threaded is True
    for bad in (["--processes", "0"], ["--port", "70000"], ["--threaded", "--processes", "2"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_the_asgi_entry_wraps_the_callable_in_a2wsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    from a2wsgi import WSGIMiddleware

    monkeypatch.setenv("SM_WSGI", "notes_api.wsgi:app")
    monkeypatch.setenv("A2WSGI_WORKERS", "3")
    sys.modules.pop("servingmatrix_entry.asgi", None)
    module = importlib.import_module("servingmatrix_entry.asgi")
    assert isinstance(module.app, WSGIMiddleware)
    monkeypatch.setenv("A2WSGI_WORKERS", "0")
    sys.modules.pop("servingmatrix_entry.asgi", None)
    with pytest.raises(SystemExit, match=r"A2WSGI_WORKERS must be an integer in 1\.\.1000"):
        importlib.import_module("servingmatrix_entry.asgi")
    sys.modules.pop("servingmatrix_entry.asgi", None)


WHEN = datetime(2026, 1, 1, tzinfo=UTC)


class FakeNotes:
    """Answers the example's queries from a list of notes; optionally the database is down."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        self.notes = [(n, f"note {n}", f"tag-{n % 10}", WHEN) for n in range(1, 51)]

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.queries.append((sql, params))
        if self.down:
            raise Unavailable("connection refused")
        if sql.startswith("INSERT"):
            return [(51, params[0], params[1], WHEN)]
        if "WHERE id = %s" in sql:
            return [n for n in self.notes if n[0] == params[0]]
        if "WHERE tag = %s" in sql:
            return [n for n in self.notes if n[2] == params[0]][: params[-1]]
        return self.notes[: params[0]]


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch) -> FakeNotes:
    fake = FakeNotes()
    monkeypatch.setattr(Pool, "rows", lambda self, sql, params=(): fake.rows(sql, params))
    return fake


def test_the_example_answers_its_json_routes(notes: FakeNotes) -> None:
    client = create_app().test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert len(client.get("/notes?limit=500").get_json()["notes"]) == 50
    assert notes.queries[-1][1] == (100,), "the limit is capped"
    assert client.get("/notes/42").get_json() == {
        "id": 42,
        "title": "note 42",
        "tag": "tag-2",
        "created_at": WHEN.isoformat(),
    }
    assert client.get("/notes/99").status_code == 404
    found = client.get("/notes/search?q=tag-3").get_json()
    assert found["tag"] == "tag-3" and {n["id"] for n in found["notes"]} == {3, 13, 23, 33, 43}
    created = client.post("/notes", json={"title": "hello", "tag": "load"})
    assert created.status_code == 201 and created.get_json()["title"] == "hello"
    assert client.post("/notes", json={"tag": "x"}).status_code == 400
    assert client.get("/nowhere").get_json()["error"]


def test_the_example_renders_a_note_page_from_its_template(notes: FakeNotes) -> None:
    page = create_app().test_client().get("/notes/42/page")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<h1>note 42</h1>" in html and '<a href="/notes/32/page">note 32</a>' in html
    assert create_app().test_client().get("/notes/99/page").status_code == 404


def test_the_example_says_503_when_its_database_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    down = FakeNotes(down=True)
    monkeypatch.setattr(Pool, "rows", lambda self, sql, params=(): down.rows(sql, params))
    answer = create_app().test_client().get("/notes")
    assert answer.status_code == 503 and "connection refused" in answer.get_json()["error"]
