"""Serving Matrix's entry points around a user's WSGI app, copied into its image at /srv/entry.

The app's callable is named in ``SM_WSGI`` (``module:callable``, from its app.yml). gunicorn,
waitress, uWSGI and granian load it themselves; uvicorn loads ``servingmatrix_entry.asgi:app`` (a2wsgi's
thread pool around it), Werkzeug's development server runs ``python -m servingmatrix_entry.devserver``,
and the image build runs ``python -m servingmatrix_entry.check`` so an app that cannot be imported stops
the build with its reason.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

WSGI_ENV = "SM_WSGI"

WsgiApp = Callable[..., Any]


class LoadError(Exception):
    """The WSGI callable cannot be loaded; the message names it and why."""


def load_wsgi(target: str | None = None) -> WsgiApp:
    """The callable ``module:callable`` (default: ``SM_WSGI``), imported."""
    spec = target if target is not None else os.environ.get(WSGI_ENV, "")
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise LoadError(f"{WSGI_ENV}={spec!r} is not module:callable")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the app's own import error, whatever it is, is the reason
        raise LoadError(f"cannot import {module_name} ({exc.__class__.__name__}: {exc})") from exc
    app = getattr(module, attribute, None)
    if app is None:
        raise LoadError(f"{module_name} has no {attribute}")
    if not callable(app):
        raise LoadError(f"{spec} is a {type(app).__name__}, not a WSGI callable")
    loaded: WsgiApp = app
    return loaded
