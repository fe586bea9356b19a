"""A run read back for reporting: run.json and its cells, checked and typed.

Anything malformed is refused with one line naming the file, never a traceback: a truncated or
hand-edited result must not turn into a wrong chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.flags import Flag
from servingmatrix.results.folder import RunFolder, read_json

PERCENTILES = ("p50", "p95", "p99")


@dataclass(frozen=True)
class Cell:
    """One cell's figures; those of a failed cell are None."""

    path: Path
    mode: str
    workload: str
    users: int
    trial: int
    status: str
    reason: str | None
    requests: int | None
    failures: int | None
    throughput_rps: float | None
    latency_ms: dict[str, float]
    server_cpu_pct: float | None
    server_mem_mb: float | None
    processes: int | None
    largest_process_mb: float | None
    throttled_s: float | None
    loadgen_cpu_pct: float | None
    effective_concurrency: float | None
    concurrency_basis: str | None
    promised_concurrency: int | None
    #: Open loop: the requests per second the step offered (``users`` holds the same number).
    offered_rps: float | None
    #: The generator, not the server, set the pace (``saturated`` in results before schema 2).
    generator_bound: bool | None
    #: The limits Docker applied to each container, as read back (role -> cpuset, cpus, memory).
    applied: dict[str, Any]
    flags: tuple[Flag, ...]

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def error_rate(self) -> float | None:
        if not self.requests or self.failures is None:
            return None
        return self.failures / self.requests


@dataclass(frozen=True)
class Run:
    root: Path
    meta: dict[str, Any]
    cells: tuple[Cell, ...]

    @property
    def name(self) -> str:
        return str(self.matrix.get("name") or self.root.name)

    @property
    def matrix(self) -> dict[str, Any]:
        return dict(self.meta.get("matrix") or {})

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.meta.get("metadata") or {})

    @property
    def cpu_plan(self) -> dict[str, Any]:
        return dict(self.meta.get("cpu_plan") or {})

    @property
    def server_cpus(self) -> int:
        value = self.matrix.get("server_cpus")
        return value if isinstance(value, int) and value > 0 else 1

    @property
    def arrival_rates(self) -> list[int] | None:
        """The requests per second each step offers in an open-loop run; None in a closed-loop one."""
        rates = self.matrix.get("arrival_rates")
        if not isinstance(rates, list) or not rates:
            return None
        return [r for r in rates if isinstance(r, int) and not isinstance(r, bool)]

    @property
    def open_loop(self) -> bool:
        return self.arrival_rates is not None

    @property
    def steps(self) -> list[int]:
        """What the steps hold: offered requests per second (open loop) or users (closed loop)."""
        rates = self.arrival_rates
        if rates is not None:
            return rates
        return [u for u in self.matrix.get("users") or [] if isinstance(u, int) and not isinstance(u, bool)]

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The load generator's calibration as run.json holds it (figures, or an error); None before it."""
        value = self.meta.get("calibration")
        return value if isinstance(value, dict) else None


def load_run(root: Path) -> Run:
    """Read and check a run folder; one clear error naming the first bad file."""
    folder = RunFolder(root)
    meta = folder.read_run()
    matrix = meta.get("matrix")
    if not isinstance(matrix, dict) or not isinstance(matrix.get("users"), list):
        raise UserError(f"{folder.run_file}: no 'matrix' with its 'users'; the file is corrupt or truncated")
    paths = sorted(folder.cells_dir.glob("*.json")) if folder.cells_dir.exists() else []
    cells = tuple(parse_cell(path, read_json(path)) for path in paths)
    seen: dict[tuple[str, str, int, int], Path] = {}
    for cell in cells:
        key = (cell.mode, cell.workload, cell.users, cell.trial)
        if key in seen:
            raise UserError(f"{cell.path}: the same cell as {seen[key].name}; one of them is a stray copy")
        seen[key] = cell.path
    return Run(root, meta, cells)


class _Fields:
    """Typed access to one JSON object, naming the file and the key on a mismatch."""

    def __init__(self, path: Path, data: dict[str, Any], where: str = "") -> None:
        self.path, self.data, self.where = path, data, where

    def _bad(self, key: str, expected: str) -> UserError:
        return UserError(
            f"{self.path}: '{self.where}{key}' is missing or not {expected}; the file is corrupt or truncated"
        )

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value:
            raise self._bad(key, "a string")
        return value

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, "an integer")
        return value

    def optional_integer(self, key: str, required: bool = False) -> int | None:
        return self.integer(key) if required or self.data.get(key) is not None else None

    def number(self, key: str, required: bool = False) -> float | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(key, "a number")
        return float(value)

    def obj(self, key: str) -> _Fields:
        value = self.data.get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self._bad(key, "an object")
        return _Fields(self.path, value, f"{self.where}{key}.")


def parse_cell(path: Path, data: dict[str, Any]) -> Cell:
    f = _Fields(path, data)
    status = f.text("status")
    if status not in ("ok", "failed"):
        raise UserError(f"{path}: status {status!r} is neither 'ok' nor 'failed'")
    ok = status == "ok"
    latency = f.obj("latency_ms")
    server = f.obj("server")
    loadgen = f.obj("loadgen")
    processes = server.data.get("processes") or []
    if not isinstance(processes, list) or not all(isinstance(p, dict) for p in processes):
        raise UserError(f"{path}: 'server.processes' is not a list of objects; the file is corrupt")
    sizes = [_Fields(path, p, "server.processes[].").number("rss_mb") for p in processes]
    rss = [s for s in sizes if s is not None]
    warnings = data.get("warnings") or []
    if not isinstance(warnings, list):
        raise UserError(f"{path}: 'warnings' is not a list; the file is corrupt")
    flags = tuple(
        Flag(w.text("code"), str(w.data.get("message") or ""))
        for w in (_Fields(path, item, "warnings[].") for item in warnings if isinstance(item, dict))
    )
    return Cell(
        path=path,
        mode=f.text("mode"),
        workload=f.text("workload"),
        users=f.integer("users"),
        trial=f.integer("trial"),
        status=status,
        reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
        requests=f.optional_integer("requests", required=ok),
        failures=f.optional_integer("failures", required=ok),
        throughput_rps=f.number("throughput_rps", required=ok),
        latency_ms=_latency(latency, required=ok),
        server_cpu_pct=server.number("cpu_pct"),
        server_mem_mb=server.number("mem_mb"),
        processes=len(processes) or None,
        largest_process_mb=max(rss) if rss else None,
        throttled_s=server.number("throttled_s"),
        loadgen_cpu_pct=loadgen.number("cpu_pct"),
        effective_concurrency=f.number("effective_concurrency"),
        concurrency_basis=data.get("effective_concurrency_basis")
        if isinstance(data.get("effective_concurrency_basis"), str)
        else None,
        promised_concurrency=f.optional_integer("promised_concurrency"),
        offered_rps=f.number("offered_rps"),
        generator_bound=_generator_bound(loadgen),
        applied=f.obj("cpu_plan_applied").data,
        flags=flags,
    )


def _generator_bound(loadgen: _Fields) -> bool | None:
    """``generator_bound`` when the cell has it, else the older ``saturated`` (CPU share alone)."""
    for key in ("generator_bound", "saturated"):
        value = loadgen.data.get(key)
        if isinstance(value, bool):
            return value
    return None


def _latency(fields: _Fields, required: bool) -> dict[str, float]:
    """The latency figures present; a successful cell must have the percentiles the report draws."""
    out: dict[str, float] = {}
    for key in (*PERCENTILES, "mean", "p90", "p999", "max"):
        value = fields.number(key, required=required and key in PERCENTILES)
        if value is not None:
            out[key] = value
    return out
