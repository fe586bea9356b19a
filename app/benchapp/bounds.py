"""Each endpoint's query parameters: name, inclusive bounds and default.

Rendered from src/servingmatrix/workloads.py by `servingmatrix generate`; do not edit: change the
registry and render again (`generate --check` fails when this file and the registry differ).
"""

from __future__ import annotations

from benchapp.params import IntParam

#: GET /json: a small JSON response: the framework's own overhead
JSON: tuple[IntParam, ...] = ()

#: GET /cpu: pure-Python CPU work
CPU: tuple[IntParam, ...] = (IntParam("n", 1, 2000, 8),)

#: GET /io: time.sleep(ms): waiting as the async workers see it once patched
IO: tuple[IntParam, ...] = (IntParam("ms", 0, 5000, 50),)

#: GET /upstream: a real HTTP call to an upstream service that answers after ms
UPSTREAM: tuple[IntParam, ...] = (IntParam("ms", 0, 5000, 50),)

#: GET /db: a real PostgreSQL read by primary key, plus an optional pg_sleep(ms)
DB: tuple[IntParam, ...] = (IntParam("ms", 0, 5000, 0), IntParam("rows", 1, 1000, 1))

#: GET /sqlite: the same read against SQLite: a C call no green thread can yield in
SQLITE: tuple[IntParam, ...] = (IntParam("rows", 1, 1000, 1), IntParam("work", 0, 5000000, 0))

#: GET /bytes: a response of kb kilobytes
BYTES: tuple[IntParam, ...] = (IntParam("kb", 1, 4096, 64),)
