"""The conformance check: every endpoint of a running server answers as the app promises.

The runner uses it before measuring a stack (a broken stack is recorded as failed, not measured),
and the integration tests run it against every mode.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Body = Any
Check = Callable[[Body, bytes], str | None]
REQUIRED_HEADERS = ("X-Serving-Mode", "X-Served-By-Pid", "X-Served-By-Thread")


@dataclass(frozen=True)
class Probe:
    path: str
    status: int
    check: Check | None = None


def _rows(count: int) -> Check:
    def check(body: Body, _raw: bytes) -> str | None:
        rows = body.get("rows") if isinstance(body, dict) else None
        if not isinstance(rows, list) or len(rows) != count:
            return f"expected {count} rows, got {rows!r:.80}"
        return None

    return check


def _equals(expected: Body) -> Check:
    return lambda body, _raw: None if body == expected else f"expected {expected!r}, got {body!r:.80}"


def _has_error(body: Body, _raw: bytes) -> str | None:
    return None if isinstance(body, dict) and isinstance(body.get("error"), str) else "no JSON error message"


def _length(size: int) -> Check:
    return lambda _body, raw: None if len(raw) == size else f"expected {size} bytes, got {len(raw)}"


PROBES: tuple[Probe, ...] = (
    Probe(
        "/healthz", 200, lambda b, _r: None if isinstance(b, dict) and b.get("status") == "ok" else "not ok"
    ),
    Probe("/json", 200, _equals({"message": "Hello, World!"})),
    Probe("/cpu?n=1", 200),
    Probe("/io?ms=1", 200),
    Probe("/upstream?ms=1", 200),
    Probe("/db", 200, _rows(1)),
    Probe("/db?rows=3&ms=5", 200, _rows(3)),
    Probe("/sqlite?rows=3", 200, _rows(3)),
    Probe("/sqlite?work=1000", 200),
    Probe("/bytes?kb=4", 200, _length(4096)),
    Probe("/cpu?n=0", 400, _has_error),
    Probe("/cpu?n=abc", 400, _has_error),
    Probe("/io?ms=5001", 400, _has_error),
    Probe("/io?ms=-1", 400, _has_error),
    Probe("/upstream?ms=x", 400, _has_error),
    Probe("/db?rows=0", 400, _has_error),
    Probe("/sqlite?rows=1001", 400, _has_error),
    Probe("/bytes?kb=4097", 400, _has_error),
    Probe("/json?unknown=1", 400, _has_error),
    Probe("/no-such-endpoint", 404, _has_error),
)


def check_server(base_url: str, expected_mode: str, timeout_s: float = 10.0) -> list[str]:
    """Run every probe against ``base_url``; return what failed (empty when conformant)."""
    parts = urlsplit(base_url)
    failures: list[str] = []
    for probe in PROBES:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s)
        try:
            conn.request("GET", probe.path)
            response = conn.getresponse()
            raw = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"GET {probe.path}: {exc.__class__.__name__}: {exc}")
            continue
        finally:
            conn.close()
        problem = _judge(probe, response.status, headers, raw, expected_mode)
        if problem:
            failures.append(f"GET {probe.path}: {problem}")
    return failures


def _judge(probe: Probe, status: int, headers: dict[str, str], raw: bytes, mode: str) -> str | None:
    if status != probe.status:
        return f"status {status}, expected {probe.status}: {raw[:120]!r}"
    missing = [h for h in REQUIRED_HEADERS if h.lower() not in headers]
    if missing:
        return f"missing headers {', '.join(missing)}"
    if headers["x-serving-mode"] != mode:
        return f"X-Serving-Mode is {headers['x-serving-mode']!r}, expected {mode!r}"
    body: Body = None
    if headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            return "invalid JSON body"
    return probe.check(body, raw) if probe.check else None
