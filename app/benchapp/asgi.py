"""ASGI entry point for uvicorn: ``benchapp.asgi:app``, the WSGI app behind a2wsgi's thread pool."""

from __future__ import annotations

import os
from typing import cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi_typing import WSGIApp

from benchapp import create_app


def _workers() -> int:
    raw = os.environ.get("A2WSGI_WORKERS", "10")
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 1000:
        raise SystemExit(f"A2WSGI_WORKERS must be an integer in 1..1000, got {raw!r}")
    return workers


# a2wsgi runs each request of the synchronous app in a thread of this pool: its size caps concurrency.
# The cast only narrows typing: Flask types its environ as a plain dict, a2wsgi as a TypedDict.
app = WSGIMiddleware(cast(WSGIApp, create_app()), workers=_workers())
