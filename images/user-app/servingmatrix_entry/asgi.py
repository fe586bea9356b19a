"""ASGI entry point for uvicorn: ``servingmatrix_entry.asgi:app``, the app behind a2wsgi's thread pool."""

from __future__ import annotations

import os
from typing import cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi_typing import WSGIApp

from servingmatrix_entry import load_wsgi


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
app = WSGIMiddleware(cast(WSGIApp, load_wsgi()), workers=_workers())
