"""The ``requests:`` of an ``app.yml``: named requests, each what is sent, its weight and its statuses.

Each becomes the workload ``app:NAME``, and all of them ``app:mixed``; Locust and wrk send them from
the same list, and the conformance check sends each once before the load, expecting its statuses.
"""

from __future__ import annotations

import json
import re
from typing import Any

from servingmatrix.spec import shown
from servingmatrix.user_app.config import AppRequest
from servingmatrix.user_app.fields import Fields, written

REQUEST_KEYS = ("method", "path", "headers", "body", "weight", "statuses")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: The name goes into sample files and result keys unquoted (as the locustfile checks it).
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: The blend of every request: a request may not take its name.
MIXED = "mixed"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
#: Headers the load generators set themselves, from the request.
SET_BY_CLIENT = ("host", "content-length", "transfer-encoding", "connection")
MAX_REQUESTS = 100
MAX_WEIGHT = 10_000
#: Every request travels to Locust in one environment variable (at most 128 KiB on Linux).
MAX_BODY_BYTES = 16 * 1024
MAX_HEADER_VALUE = 4096


def parse_requests(fields: Fields, value: Any) -> tuple[AppRequest, ...]:
    """Every declared request, checked, in the order written."""
    if not isinstance(value, dict) or not value:
        raise fields.refuse("", "expected a mapping of NAME: {method, path, ...}, at least one")
    if len(value) > MAX_REQUESTS:
        raise fields.refuse("", f"{len(value)} requests (allowed: at most {MAX_REQUESTS})")
    out = []
    for name, spec in value.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name == MIXED:
            raise fields.refuse(
                str(name),
                f"not a request name (allowed: 1 to 64 of letters, digits, '_', '.', '-'; not {MIXED!r})",
            )
        if not isinstance(spec, dict):
            raise fields.refuse(name, f"expected a mapping of {', '.join(REQUEST_KEYS)}")
        out.append(_request(fields.at(name, spec), name))
    return tuple(out)


def _request(fields: Fields, name: str) -> AppRequest:
    data = fields.data
    fields.known(REQUEST_KEYS, ("path",))
    headers = _headers(fields, data.get("headers", {}))
    body, headers = _body(fields, data.get("body"), headers)
    return AppRequest(
        name=name,
        path=fields.path("path", data["path"]),
        method=_method(fields, data.get("method", "GET")),
        headers=headers,
        body=body,
        weight=fields.integer("weight", data.get("weight", 1), 1, MAX_WEIGHT),
        statuses=_statuses(fields, data.get("statuses", [200])),
    )


def _method(fields: Fields, value: Any) -> str:
    method = fields.text("method", value)
    if method not in METHODS:
        raise fields.refuse("method", f"{shown(method)} is not a method (allowed: {', '.join(METHODS)})")
    return method


def _headers(fields: Fields, value: Any) -> tuple[tuple[str, str], ...]:
    where = fields.at("headers")
    if not isinstance(value, dict):
        raise where.refuse("", "expected a mapping of Header-Name: value")
    out = []
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise where.refuse(str(name), "not a header name (allowed: letters, digits and !#$%&'*+.^_`|~-)")
        if name.lower() in SET_BY_CLIENT:
            raise where.refuse(name, f"set by the load generators (not allowed: {', '.join(SET_BY_CLIENT)})")
        line = where.text(name, text)
        if len(line) > MAX_HEADER_VALUE or not all(" " <= c <= "~" or c == "\t" for c in line):
            raise where.refuse(
                name, f"not one line of printable ASCII (allowed: at most {MAX_HEADER_VALUE} such characters)"
            )
        out.append((name, line))
    return tuple(out)


def _body(
    fields: Fields, value: Any, headers: tuple[tuple[str, str], ...]
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The body as sent; a mapping or a list is sent as JSON, with its Content-Type unless one is given."""
    if value is None:
        return None, headers
    if isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers = (*headers, ("Content-Type", "application/json"))
    else:
        text = fields.text("body", value)
    if len(text.encode()) > MAX_BODY_BYTES:
        raise fields.refuse("body", f"{len(text.encode())} bytes (allowed: at most {MAX_BODY_BYTES})")
    return text, headers


def _statuses(fields: Fields, value: Any) -> tuple[int, ...]:
    """The statuses the request may answer: under load, as for every workload, 400 or more is a failure."""
    if not isinstance(value, list) or not value:
        raise fields.refuse(
            "statuses", f"{written(value)} is not allowed (allowed: a list of statuses, e.g. [200, 304])"
        )
    for index, status in enumerate(value):
        if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
            raise fields.refuse(
                f"statuses[{index}]",
                f"{status} is not allowed (allowed: 100..399; under load an answer of 400 or more "
                "counts as a failed request)",
            )
    statuses = tuple(fields.integer(f"statuses[{i}]", v, 100, 399) for i, v in enumerate(value))
    if len(set(statuses)) != len(statuses):
        raise fields.refuse("statuses", f"{list(statuses)} repeats a status (allowed: each once)")
    return statuses
