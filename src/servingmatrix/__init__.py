"""Serving Matrix: every way of serving one Flask app, measured side by side."""

__version__ = "0.1.0"
