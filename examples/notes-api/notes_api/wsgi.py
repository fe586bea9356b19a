"""WSGI entry point: ``notes_api.wsgi:app``."""

from notes_api import create_app

app = create_app()
