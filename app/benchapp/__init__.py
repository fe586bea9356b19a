"""The Flask app under test: one app, byte-for-byte the same in every serving mode's image."""

from __future__ import annotations

import os
import random
import threading
import time

from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from benchapp import bounds, dataset
from benchapp.config import Settings
from benchapp.database import DatabaseUnavailable, PgPool, read_pg, read_sqlite
from benchapp.params import BadParam, parse_params
from benchapp.upstream_client import UpstreamClient, UpstreamError

__all__ = ["BYTES_BLOCK", "CPU_UNIT_LOOPS", "Settings", "cpu_work", "create_app"]

CPU_UNIT_LOOPS = 4_000
"""Loop iterations in one /cpu unit: about 0.5 ms of Python 3.13 on one core (n=8: 4 ms, n=2000: 1 s)."""

_KIB = 1024
_BLOCK_KIB = 64
BYTES_BLOCK = bytes(range(256)) * (_BLOCK_KIB * _KIB // 256)
"""The /bytes pattern: every response is a prefix of this block repeated."""
# Prefixes of the block of 32, 16, ... 1 KiB: any size is whole blocks plus at most six of these, all built
# once at import, so a response of any size allocates no payload (the WSGI servers want bytes, not views).
_BYTES_PIECES = {kib: BYTES_BLOCK[: kib * _KIB] for kib in (32, 16, 8, 4, 2, 1)}


def cpu_work(n: int) -> int:
    """n units of deterministic pure-Python work; the result depends only on n."""
    acc = 0
    for _ in range(n):
        for i in range(CPU_UNIT_LOOPS):
            acc = (acc * 31 + i) & 0xFFFFFFFF
    return acc


def _bytes_body(kib: int) -> list[bytes]:
    body = [BYTES_BLOCK] * (kib // _BLOCK_KIB)
    rest = kib % _BLOCK_KIB
    body.extend(piece for size, piece in _BYTES_PIECES.items() if rest & size)
    return body


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; settings default to the environment (see Settings)."""
    cfg = Settings.from_env() if settings is None else settings
    app = Flask(__name__)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # answers keep their fields in the order the code gives them
    upstream = UpstreamClient(cfg.upstream_url)
    pg_pool = PgPool(cfg.database_url, cfg.db_pool_size)
    app.extensions["benchapp"] = {"settings": cfg, "upstream": upstream, "pg_pool": pg_pool}

    @app.before_request
    def stamp_start() -> None:
        g.handling_started = time.time()

    @app.after_request
    def label(response: Response) -> Response:
        # Runs for error responses too, so every answer says which mode, process and thread served it.
        # Under gevent and eventlet threading.get_ident() is the green thread's id, which is what we want.
        response.headers["X-Serving-Mode"] = cfg.serving_mode
        response.headers["X-Served-By-Pid"] = str(os.getpid())
        response.headers["X-Served-By-Thread"] = str(threading.get_ident())
        # When the app began and finished handling the request (epoch seconds, the host's clock): from
        # these, tests see how many requests were inside the server at once, whatever the load on the
        # machine does to wall times.
        started = g.get("handling_started")
        if started is not None:
            response.headers["X-Handling-Started"] = f"{started:.6f}"
        response.headers["X-Handling-Finished"] = f"{time.time():.6f}"
        return response

    @app.errorhandler(BadParam)
    def bad_param(exc: BadParam) -> tuple[Response, int]:
        return _error(400, str(exc))

    @app.errorhandler(UpstreamError)
    def bad_upstream(exc: UpstreamError) -> tuple[Response, int]:
        return _error(502, str(exc))

    @app.errorhandler(DatabaseUnavailable)
    def no_database(exc: DatabaseUnavailable) -> tuple[Response, int]:
        return _error(503, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 404:
            message = f"no route {request.path}"
        elif status == 405:
            message = f"method {request.method} not allowed on {request.path}"
        else:
            message = exc.description or exc.name
        response = jsonify(error=message)
        response.status_code = status
        # Keep headers such as Allow on 405, but not the HTML Content-Type.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        # The last resort: every expected failure has its own status above.
        app.logger.exception("unexpected error on %s", request.path)
        return _error(500, f"internal error: {type(exc).__name__}")

    @app.get("/healthz")
    def healthz() -> Response:
        parse_params(request.args, ())
        return jsonify(status="ok", mode=cfg.serving_mode)

    @app.get("/json")
    def json_hello() -> Response:
        parse_params(request.args, bounds.JSON)
        return jsonify(message="Hello, World!")

    @app.get("/cpu")
    def cpu() -> Response:
        n = parse_params(request.args, bounds.CPU)["n"]
        return jsonify(n=n, result=cpu_work(n))

    @app.get("/io")
    def io() -> Response:
        ms = parse_params(request.args, bounds.IO)["ms"]
        # gevent and eventlet patch time.sleep, so there a sleeping request lets the others run.
        time.sleep(ms / 1000)
        return jsonify(slept_ms=ms)

    @app.get("/upstream")
    def upstream_call() -> Response:
        ms = parse_params(request.args, bounds.UPSTREAM)["ms"]
        payload, elapsed_ms = upstream.delay(ms)
        return jsonify(ms=ms, upstream=payload, elapsed_ms=round(elapsed_ms, 3))

    @app.get("/db")
    def db() -> Response:
        p = parse_params(request.args, bounds.DB)
        start = random.randint(1, dataset.ITEM_COUNT - p["rows"] + 1)
        rows = read_pg(pg_pool, start, p["rows"], p["ms"])
        return jsonify(ms=p["ms"], start=start, rows=rows)

    @app.get("/sqlite")
    def sqlite() -> Response:
        p = parse_params(request.args, bounds.SQLITE)
        start = random.randint(1, dataset.ITEM_COUNT - p["rows"] + 1)
        rows, count = read_sqlite(cfg.sqlite_path, start, p["rows"], p["work"])
        return jsonify(work=p["work"], count=count, start=start, rows=rows)

    @app.get("/bytes")
    def payload_bytes() -> Response:
        kib = parse_params(request.args, bounds.BYTES)["kb"]
        response = Response(_bytes_body(kib), mimetype="application/octet-stream")
        response.content_length = kib * _KIB
        return response

    return app
