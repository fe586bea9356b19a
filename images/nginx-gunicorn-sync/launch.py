"""Start gunicorn (sync) on a Unix socket and nginx in front of it; stop both when either stops.

nginx buffers requests and responses, so a slow client never ties up a sync worker, and it keeps
client connections alive while gunicorn's sync workers close theirs. Every path nginx writes is
under /tmp, so the container runs with a read-only root file system.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

SOCKET = "/tmp/gunicorn.sock"
CONF = Path("/tmp/nginx/nginx.conf")

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid /tmp/nginx/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path /tmp/nginx/body;
    proxy_temp_path /tmp/nginx/proxy;
    fastcgi_temp_path /tmp/nginx/fastcgi;
    uwsgi_temp_path /tmp/nginx/uwsgi;
    scgi_temp_path /tmp/nginx/scgi;
    keepalive_timeout 75s;
    keepalive_requests 100000;
    upstream app {{ server unix:{socket} fail_timeout=0; }}
    server {{
        listen {host}:{port} backlog=4096;
        client_max_body_size 4m;
        location / {{
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_redirect off;
            proxy_buffering on;
            proxy_buffers 64 64k;
            proxy_read_timeout 60s;
            proxy_pass http://app;
        }}
    }}
}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("gunicorn", nargs=argparse.REMAINDER, help="after --: the gunicorn command to run")
    args = parser.parse_args()
    if args.gunicorn[:1] == ["--"]:
        args.gunicorn = args.gunicorn[1:]
    if not args.gunicorn or f"unix:{SOCKET}" not in args.gunicorn:
        parser.error(f"give the gunicorn command after --, bound to unix:{SOCKET}")

    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (CONF.parent / sub).mkdir(parents=True, exist_ok=True)
    CONF.write_text(NGINX_CONF.format(socket=SOCKET, host=args.host, port=args.port))
    gunicorn = subprocess.Popen(args.gunicorn)
    nginx = subprocess.Popen(["nginx", "-c", str(CONF), "-e", "stderr"])
    children = (gunicorn, nginx)
    asked_to_stop: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        asked_to_stop.append(signum)
        for child in children:
            if child.poll() is None:
                # nginx stops gracefully on SIGQUIT; gunicorn on SIGTERM.
                child.send_signal(signal.SIGQUIT if child is nginx else signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.2)
    # One of them exited on its own: that is a failure of the stack, so take the other one down too.
    unexpected = not asked_to_stop
    stop(signal.SIGTERM, None)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
