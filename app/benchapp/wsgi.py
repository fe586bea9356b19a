"""WSGI entry point: ``benchapp.wsgi:app``."""

from benchapp import create_app

app = create_app()
