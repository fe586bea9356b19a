"""Werkzeug's development server, started the way app.run() users start it.

    python -m benchapp.devserver                  one request at a time (threaded=False)
    python -m benchapp.devserver --threaded       a thread per request
    python -m benchapp.devserver --processes N    a forked child per request, at most N at once

The address comes from --host and --port, else from HOST and PORT, else 0.0.0.0:8000.
"""

from __future__ import annotations

import argparse
import os


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer in 1..65535, got {raw!r}")
    return port


def _processes(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be an integer in 1..256, got {raw!r}")
    return value


def main(argv: list[str] | None = None) -> None:
    """Parse the flags and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m benchapp.devserver", description=__doc__.splitlines()[0])
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--threaded", action="store_true", help="handle each request in its own thread")
    how.add_argument("--processes", type=_processes, default=1, metavar="N", help="fork up to N children")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"), help="address to bind (HOST)")
    # A string default goes through type= too, so a bad PORT is reported like a bad --port.
    parser.add_argument("--port", type=_port, default=os.environ.get("PORT", "8000"), help="port (PORT)")
    args = parser.parse_args(argv)

    # Imported after the flags are checked so that a usage error needs no app (and no database driver).
    from benchapp import create_app

    create_app().run(
        host=args.host,
        port=args.port,
        threaded=args.threaded,
        processes=args.processes,
        debug=False,
        use_reloader=False,
        load_dotenv=False,
    )


if __name__ == "__main__":
    main()
