"""Werkzeug's development server around the app, as app.run() users start it.

    python -m servingmatrix_entry.devserver                  one request at a time
    python -m servingmatrix_entry.devserver --threaded       a thread per request
    python -m servingmatrix_entry.devserver --processes N    a forked child per request, at most N at once

The address comes from --host and --port, else HOST and PORT, else 0.0.0.0:8000; the app from SM_WSGI.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An integer option in low..high; a string default goes through it too."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer in {low}..{high}, got {raw!r}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m servingmatrix_entry.devserver")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--threaded", action="store_true", help="handle each request in its own thread")
    how.add_argument("--processes", type=_bounded(1, 256), default=1, metavar="N")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=_bounded(1, 65535), default=os.environ.get("PORT", "8000"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Imported after the flags are checked, so that a usage error needs no app.
    from werkzeug.serving import run_simple

    from servingmatrix_entry import load_wsgi

    run_simple(
        args.host,
        args.port,
        load_wsgi(),
        threaded=args.threaded,
        processes=args.processes,
        use_reloader=False,
        use_debugger=False,
    )


if __name__ == "__main__":
    main()
