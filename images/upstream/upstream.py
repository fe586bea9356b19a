"""The upstream HTTP service that /upstream calls: answers after a requested delay.

    GET /delay?ms=N   waits N milliseconds (0..5000), then answers {"slept_ms": N}
    GET /healthz      answers {"status": "ok"}

A standard-library asyncio HTTP/1.1 server with keep-alive: thousands of requests can wait at once on one
core, so the service under test, not this one, is what a benchmark measures. HOST and PORT come from the
environment (default 0.0.0.0:8081; PORT=0 picks a free port). The first line on stdout names the address.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from urllib.parse import parse_qsl, urlsplit

MAX_DELAY_MS = 5000
IDLE_TIMEOUT_S = 75.0
"""How long a connection may wait for (the whole head of) its next request; longer than clients keep idle."""
MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
SERVER_NAME = b"servingmatrix-upstream"


class BadRequest(Exception):
    """The request cannot be parsed; it is answered and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


def _response(status: int, payload: object, keep_alive: bool, head_only: bool = False) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode() + b"\n"
    head = b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown")),
            b"Server: " + SERVER_NAME + b"\r\n",
            b"Content-Type: application/json\r\n",
            b"Content-Length: %d\r\n" % len(body),
            b"Allow: GET, HEAD\r\n" if status == 405 else b"",
            b"Connection: keep-alive\r\n" if keep_alive else b"Connection: close\r\n",
            b"\r\n",
        )
    )
    return head if head_only else head + body


def _parse_head(head: bytes) -> tuple[str, str, bool, int]:
    """Return method, target, whether the client wants keep-alive, and the body length."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        if version.startswith("HTTP/"):
            raise BadRequest(505, f"unsupported version {version[:16]!r}")
        raise BadRequest(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        # Repeated headers are joined as RFC 9110 allows for list-valued fields.
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    connection = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    if "transfer-encoding" in headers:
        raise BadRequest(501, "request bodies with Transfer-Encoding are not supported")
    raw_length = headers.get("content-length", "0")
    if not raw_length.isdigit() or len(raw_length) > 12:
        raise BadRequest(400, "malformed Content-Length")
    length = int(raw_length)
    if length > MAX_BODY_BYTES:
        raise BadRequest(413, f"request body over {MAX_BODY_BYTES} bytes")
    return method, target, keep_alive, length


def _delay_ms(query: str) -> int:
    """Validate the query of /delay: exactly one `ms`, an integer in 0..MAX_DELAY_MS."""
    allowed = f"an integer in 0..{MAX_DELAY_MS}"
    pairs = parse_qsl(query, keep_blank_values=True)
    names = [name for name, _ in pairs]
    for name in names:
        if name != "ms":
            raise BadRequest(400, f"unknown parameter {name[:24]!r}; /delay accepts ms ({allowed})")
    if len(names) > 1:
        raise BadRequest(400, f"parameter 'ms' is given {len(names)} times; give it once, {allowed}")
    if not pairs:
        raise BadRequest(400, f"parameter 'ms' is required, {allowed}")
    raw = pairs[0][1]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) > MAX_DELAY_MS:
        raise BadRequest(400, f"parameter 'ms' must be {allowed}, got {raw[:24]!r}")
    return int(raw)


async def _answer(method: str, target: str) -> tuple[int, object]:
    if method not in ("GET", "HEAD"):
        return 405, {"error": f"method {method[:16]!r} not allowed; use GET"}
    parts = urlsplit(target)
    if parts.path == "/delay":
        ms = _delay_ms(parts.query)
        if ms:
            await asyncio.sleep(ms / 1000)
        return 200, {"slept_ms": ms}
    if parts.path == "/healthz":
        if parts.query:
            raise BadRequest(400, "/healthz takes no parameters")
        return 200, {"status": "ok"}
    return 404, {"error": f"no route {parts.path[:64]!r}"}


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer requests on one connection until the client closes, errs or idles out."""
    try:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return  # closed or idle: nothing to answer
            except asyncio.LimitOverrunError:
                writer.write(_response(431, {"error": "request head too large"}, keep_alive=False))
                await writer.drain()
                return
            try:
                method, target, keep_alive, length = _parse_head(head[:-4])
                if length:
                    await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT_S)
                status, payload = await _answer(method, target)
            except BadRequest as exc:
                writer.write(_response(exc.status, {"error": exc.message}, keep_alive=False))
                await writer.drain()
                return
            writer.write(_response(status, payload, keep_alive, head_only=method == "HEAD"))
            await writer.drain()
            if not keep_alive:
                return
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def _port_from_env() -> int:
    raw = os.environ.get("PORT", "8081")
    if not raw.isdigit() or int(raw) > 65535:
        raise SystemExit(f"upstream: PORT must be an integer in 0..65535, got {raw!r}")
    return int(raw)


async def serve(host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    connections: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await _serve_connection(reader, writer)
        except Exception as exc:
            # One bad connection must never take the service down.
            print(f"upstream: connection error: {exc!r}", file=sys.stderr, flush=True)
        finally:
            connections.discard(task)

    server = await asyncio.start_server(handle, host, port, limit=MAX_HEAD_BYTES, backlog=4096)
    bound = server.sockets[0].getsockname()
    print(f"upstream listening on http://{host}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # As PID 1 in a container a signal without a handler is ignored, so stop explicitly.
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    # Clients keep idle connections open, and since Python 3.12 wait_closed() waits for them: end them first.
    for task in list(connections):
        task.cancel()
    if connections:
        await asyncio.wait(list(connections), timeout=5)
    await server.wait_closed()
    print("upstream stopped", flush=True)


def main() -> None:
    """Read HOST and PORT and serve."""
    asyncio.run(serve(os.environ.get("HOST", "0.0.0.0"), _port_from_env()))


if __name__ == "__main__":
    main()
