"""A small notes API: JSON routes over PostgreSQL, and one HTML page rendered from a Jinja template.

GET  /healthz                liveness, without the database
GET  /notes?limit=N          the newest notes (N: 1..100, default 20)
GET  /notes/<id>             one note, or 404
GET  /notes/<id>/page        the note as an HTML page, with the notes sharing its tag
GET  /notes/search?q=TAG     the newest notes with that tag
POST /notes                  {"title": ..., "tag": ...}: 201 with the new note
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from notes_api.db import Pool, Unavailable

_COLUMNS = "id, title, tag, created_at"
MAX_LIMIT = 100


def _note(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "title": row[1], "tag": row[2], "created_at": row[3].isoformat()}


def _limit(raw: str | None) -> int:
    value = int(raw) if raw is not None and raw.isdigit() else 20
    return max(1, min(value, MAX_LIMIT))


def create_app() -> Flask:
    """The app, its database from DATABASE_URL; nothing connects until a request needs it."""
    app = Flask(__name__)
    url = os.environ.get("DATABASE_URL", "postgresql://bench@127.0.0.1:5432/bench")
    pool = Pool(url, int(os.environ.get("NOTES_POOL_SIZE", "4")))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/notes")
    def newest() -> Response:
        rows = pool.rows(
            f"SELECT {_COLUMNS} FROM notes ORDER BY id DESC LIMIT %s", (_limit(request.args.get("limit")),)
        )
        return jsonify(notes=[_note(r) for r in rows])

    @app.get("/notes/<int:note_id>")
    def one(note_id: int) -> tuple[Response, int]:
        rows = pool.rows(f"SELECT {_COLUMNS} FROM notes WHERE id = %s", (note_id,))
        if not rows:
            return jsonify(error=f"no note {note_id}"), 404
        return jsonify(_note(rows[0])), 200

    @app.get("/notes/<int:note_id>/page")
    def page(note_id: int) -> tuple[str, int]:
        rows = pool.rows(f"SELECT {_COLUMNS} FROM notes WHERE id = %s", (note_id,))
        if not rows:
            return render_template("missing.html", note_id=note_id), 404
        note = _note(rows[0])
        related = pool.rows(
            f"SELECT {_COLUMNS} FROM notes WHERE tag = %s AND id <> %s ORDER BY id DESC LIMIT 10",
            (note["tag"], note_id),
        )
        return render_template("note.html", note=note, related=[_note(r) for r in related]), 200

    @app.get("/notes/search")
    def search() -> Response:
        tag = request.args.get("q", "")
        rows = pool.rows(
            f"SELECT {_COLUMNS} FROM notes WHERE tag = %s ORDER BY id DESC LIMIT %s",
            (tag, _limit(request.args.get("limit"))),
        )
        return jsonify(tag=tag, notes=[_note(r) for r in rows])

    @app.post("/notes")
    def create() -> tuple[Response, int]:
        data = request.get_json(silent=True)
        title = data.get("title") if isinstance(data, dict) else None
        tag = data.get("tag", "untagged") if isinstance(data, dict) else None
        if not isinstance(title, str) or not title or not isinstance(tag, str):
            return jsonify(error="expected JSON with a title (text) and a tag (text)"), 400
        rows = pool.rows(f"INSERT INTO notes (title, tag) VALUES (%s, %s) RETURNING {_COLUMNS}", (title, tag))
        return jsonify(_note(rows[0])), 201

    @app.errorhandler(Unavailable)
    def unavailable(exc: Unavailable) -> tuple[Response, int]:
        return jsonify(error=f"database unavailable: {exc}"), 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.description), exc.code or 500

    return app
