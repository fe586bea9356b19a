"""One cell's result as a typed record, written (``as_json``) and read (``from_json``) here only.

Every command reads cells through ``CellRecord.from_json``: it checks each figure's type, that every
number is finite and not negative, the status and the schema, and names the file and the key of the
first thing wrong in one line. Its figures nest as the JSON does; one missing is ``None`` (unknown),
as for a failed cell, which holds only its key, status, reason, warnings and, on several hosts, the
host whose server it was.

JSON format history (every file of a run, ``run.json`` and ``cells/*.json``, carries ``schema``):

- 1: the key (``mode``, ``workload``, ``users``, ``trial``), ``status``, ``reason``, ``window``,
  ``requests``, ``failures``, ``error_rate``, ``throughput_rps``, ``latency_ms``, ``endpoints``,
  ``server`` (with ``processes`` and ``exit``), ``loadgen`` (``cpu_pct``, ``cpu_quota_pct``,
  ``processes``, ``saturated``), ``effective_concurrency`` and its basis, ``promised_concurrency``,
  ``keeps_alive``, ``cpu_plan_applied``, ``session_timings``, ``warnings``.
- 2: ``loadgen`` gains ``generator_bound`` (``saturated`` widened by the quota's throttling and the
  calibrated ceiling), ``sent_rps`` and ``calibrated_max_rps``; the cell gains ``load`` (``closed`` or
  ``open``) and ``offered_rps``; in an open-loop run ``users`` holds the step's offered rate. ``run.json``
  gains ``calibration``. Nothing was renamed or removed, so ``upgrade_to_2`` only restamps the version
  and the new figures of an older file read as unknown (``generator_bound`` falls back to
  ``saturated``).

- 3: the cell gains ``reference`` (a native generator's measurement of the same server after the
  step: ``generator``, ``connections``, ``duration_s``, ``requests``, ``errors``, ``throughput_rps``,
  ``latency_ms``, or why it is ``missing``) and ``loadgen`` gains ``generator_efficiency`` (Locust's
  throughput over the reference's); ``run.json``'s matrix gains ``reference`` and
  ``reference_duration_s``. Added only: ``upgrade_to_3`` restamps the version, and a cell of an older
  schema has no reference (unknown).
- 4: a run may spread over several hosts (Docker engines): ``loadgen`` gains ``hosts`` (how many hosts
  sent the load; ``processes`` stays the number of Locust worker processes over all of them) and the
  cell gains ``server_host`` (the inventory's name of the host whose server it measured; absent on
  one machine). ``run.json`` gains ``cpu_plan_hosts``, ``distributed`` and its metadata's ``hosts``
  when the run had an inventory. Added only: ``upgrade_to_4`` restamps the version, and a cell of an
  older schema was measured on one machine, so its load came from one host.
- 5: ``server`` gains ``major_faults`` (pages the server's processes faulted back in from disk over the
  window: a server thrashing at its memory limit) and a cell may carry the ``memory-bound`` flag;
  ``run.json`` of a fleet gains ``calibration_hosts`` (each server host's lane's calibration). Added
  only: ``upgrade_to_5`` restamps the version, and a file of an older schema has them unknown.
- 6: the cell gains ``disturbance``: per measured window kind (``locust``, ``reference``), each role's
  (``server``, ``generator``) share of the window its cores spent on work other than the project's own
  containers (null: not measured, as on another host's engine), and ``measured_again`` (how many times
  its windows were discarded as disturbed and measured again). ``status`` may be ``disturbed``: the
  windows stayed disturbed through every re-measurement; the figures are kept in the file, with why,
  and never published. Added only: ``upgrade_to_6`` restamps the version, and a cell of an older
  schema has its disturbance unknown.
- 7: an open-loop cell gains ``arrivals`` (how its arrivals were spaced: ``uniform`` or ``poisson``)
  and, when they were drawn, ``arrival_seed`` (the seed its session drew them from); ``run.json``'s
  matrix gains ``arrivals`` and ``arrival_seed``. Every open loop before schema 7 spaced its arrivals
  evenly: ``upgrade_to_7`` writes ``arrivals: uniform`` into an older open-loop cell, so a reader tells
  an old cell from a new one by the cell alone.
- 8: the cell gains ``connections``: per window kind (``locust``, ``reference``), the server's client
  connections held by each of its container's processes, the median of the readings through the
  window, most first (``[16, 0, 0]``: a master and two workers, one holding all 16); null where they
  could not be read (another host's engine). Added only: ``upgrade_to_8`` restamps the version, and a
  cell of an older schema has its connections unknown.

A change of layout adds a version here, its ``upgrade_to_N`` below, and bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from servingmatrix.errors import UserError
from servingmatrix.flags import Flag
from servingmatrix.matrix_keys import ARRIVALS

SCHEMA_VERSION = 8
#: The percentiles a successful cell must have: those the report draws.
PERCENTILES = ("p50", "p95", "p99")

Status = Literal["ok", "failed", "disturbed"]
#: Every status a cell may have: ``disturbed`` holds figures that are not published.
STATUSES: tuple[Status, ...] = ("ok", "failed", "disturbed")
LoadKind = Literal["closed", "open"]


def upgrade(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Bring a result file of an older schema up to the current one; refuse one without or newer."""
    version = data.get("schema")
    if isinstance(version, bool) or not isinstance(version, int):
        raise UserError(f"{path}: no schema version; not a servingmatrix result file")
    if version > SCHEMA_VERSION:
        raise UserError(
            f"{path}: schema {version} is newer than this servingmatrix ({SCHEMA_VERSION}); upgrade"
        )
    if version < 1:
        raise UserError(f"{path}: schema {version} is not one servingmatrix ever wrote")
    if version < 2:
        data = upgrade_to_2(data)
    if version < 3:
        data = upgrade_to_3(data)
    if version < 4:
        data = upgrade_to_4(data)
    if version < 5:
        data = upgrade_to_5(data)
    if version < 6:
        data = upgrade_to_6(data)
    if version < 7:
        data = upgrade_to_7(data)
    if version < 8:
        data = upgrade_to_8(data)
    return data


def upgrade_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 only added figures (see the history above): restamp the version."""
    return {**data, "schema": 2}


def upgrade_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 3 only added the reference generator's figures: restamp the version."""
    return {**data, "schema": 3}


def upgrade_to_4(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 4 only added where the load came from and which host served: restamp the version."""
    return {**data, "schema": 4}


def upgrade_to_5(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 5 only added the server's major faults: restamp the version."""
    return {**data, "schema": 5}


def upgrade_to_6(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 6 only added the windows' disturbance and the ``disturbed`` status: restamp the version."""
    return {**data, "schema": 6}


def upgrade_to_7(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 7 records an open loop's arrivals; every open loop before it spaced them evenly."""
    if data.get("load") == "open" and "arrivals" not in data:
        return {**data, "schema": 7, "arrivals": "uniform"}
    return {**data, "schema": 7}


def upgrade_to_8(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 8 only added how the server's connections spread over its processes: restamp the version."""
    return {**data, "schema": 8}


@dataclass(frozen=True)
class CellKey:
    """Which cell: mode x workload x step x trial (``users`` holds the step, users or offered req/s)."""

    mode: str
    workload: str
    users: int
    trial: int

    @property
    def slug(self) -> str:
        """A file name that is readable and unique (the hash separates specs that slugify alike)."""
        text = f"{self.mode}|{self.workload}|{self.users}|{self.trial}"
        readable = re.sub(r"[^a-z0-9]+", "-", f"{self.mode}-{self.workload}".lower()).strip("-")
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{readable}-u{self.users}-t{self.trial}-{digest}"

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "workload": self.workload, "users": self.users, "trial": self.trial}


@dataclass(frozen=True)
class Window:
    """The measured window, epoch seconds, and the warm-up discarded before it."""

    start: float
    end: float
    seconds: float
    warmup_s: float


@dataclass(frozen=True)
class Latency:
    """Client-side latency of the successful requests, ms (nearest rank over every request)."""

    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None
    mean: float | None = None
    max: float | None = None

    def figures(self) -> dict[str, float]:
        """The figures present, by name."""
        return {k: v for k, v in _fields(self).items() if v is not None}


@dataclass(frozen=True)
class Endpoint:
    """The same figures for one request name (``mixed`` has several)."""

    requests: int
    failures: int
    throughput_rps: float | None
    latency_ms: Latency


@dataclass(frozen=True)
class Process:
    pid: int | None
    command: str | None
    rss_mb: float | None


@dataclass(frozen=True)
class ServerExit:
    """How the server ended when it died in or before the window."""

    oom_killed: bool
    exit_code: int | None
    finished_at: float | None
    last_log: tuple[str, ...] = ()


@dataclass(frozen=True)
class Server:
    """The server container over the window, from its cgroup."""

    cpu_pct: float | None = None
    throttled_s: float | None = None
    throttled_periods: int | None = None
    mem_mb: float | None = None
    mem_mb_mean: float | None = None
    processes: tuple[Process, ...] = ()
    exit: ServerExit | None = None
    #: Pages faulted back in from disk over the window (schema 5; unknown before).
    major_faults: int | None = None


@dataclass(frozen=True)
class Loadgen:
    """The load generator over the window, and whether it rather than the server set the pace."""

    cpu_pct: float | None = None
    cpu_quota_pct: float | None = None
    processes: int | None = None
    saturated: bool | None = None
    generator_bound: bool | None = None
    sent_rps: float | None = None
    calibrated_max_rps: float | None = None
    #: Locust's throughput / the reference generator's against the same server (schema 3).
    generator_efficiency: float | None = None
    #: How many hosts sent the load (schema 4): 1 on one machine, and in every result before schema 4.
    hosts: int = 1

    @property
    def bound(self) -> bool | None:
        """``generator_bound``, or in results before schema 2 ``saturated`` (the CPU share alone)."""
        return self.generator_bound if self.generator_bound is not None else self.saturated


@dataclass(frozen=True)
class Reference:
    """A native generator's measurement of the same server, cores and quota, after the step (schema 3)."""

    generator: str
    connections: int
    duration_s: float | None = None
    requests: int | None = None
    #: Every error it counted (connect, read, write, timeout, and answers above 399).
    errors: int | None = None
    #: Answered requests per second less the failed answers, as Locust's throughput counts them.
    throughput_rps: float | None = None
    latency_ms: Latency = field(default_factory=Latency)
    #: Why there is no measurement (the generator failed, or got no answer); None when there is one.
    missing: str | None = None


@dataclass(frozen=True)
class Limits:
    """The limits Docker applied to one container, as read back."""

    cpuset: str | None = None
    cpus: float | None = None
    memory_bytes: int | None = None
    pids_limit: int | None = None


@dataclass(frozen=True)
class Timings:
    """The session's seconds: starting the stack, under load, tearing it down."""

    start_s: float | None = None
    loadgen_s: float | None = None
    teardown_s: float | None = None


@dataclass(frozen=True)
class CellRecord:
    """One cell as its file holds it; see the module's JSON format history."""

    mode: str
    workload: str
    #: The step: users in a closed loop; in an open loop the offered rate (as ``offered_rps``).
    users: int
    trial: int
    status: Status
    reason: str | None = None
    window: Window | None = None
    requests: int | None = None
    failures: int | None = None
    error_rate: float | None = None
    throughput_rps: float | None = None
    latency_ms: Latency = field(default_factory=Latency)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    server: Server = field(default_factory=Server)
    loadgen: Loadgen = field(default_factory=Loadgen)
    load: LoadKind | None = None
    offered_rps: float | None = None
    #: Open loop (schema 6): how the arrivals were spaced, and the seed of drawn ones (None: not drawn).
    arrivals: str | None = None
    arrival_seed: int | None = None
    effective_concurrency: float | None = None
    effective_concurrency_basis: str | None = None
    promised_concurrency: int | None = None
    keeps_alive: bool | None = None
    cpu_plan_applied: dict[str, Limits] = field(default_factory=dict)
    session_timings: Timings = field(default_factory=Timings)
    reference: Reference | None = None
    #: The inventory's name of the host whose server this cell measured (schema 4); None on one machine.
    server_host: str | None = None
    #: Per window kind (``locust``, ``reference``), each role's share of the window spent on other work
    #: (schema 6; None: not measured).
    disturbance: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: How many times the cell's windows were discarded as disturbed and measured again (schema 6).
    measured_again: int | None = None
    #: Per window kind (``locust``, ``reference``), the server's connections per process, most first
    #: (schema 8; None: not read).
    connections: dict[str, tuple[int, ...] | None] = field(default_factory=dict)
    warnings: tuple[Flag, ...] = ()

    @property
    def key(self) -> CellKey:
        return CellKey(self.mode, self.workload, self.users, self.trial)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def measured(self) -> bool:
        """Whether it holds figures: a cell whose stack never took load holds only why."""
        return self.requests is not None

    def as_json(self) -> dict[str, Any]:
        """The cell file's content; NaN and infinities, which JSON lacks, become null."""
        head = {"schema": SCHEMA_VERSION, **self.key.as_dict(), "status": self.status, "reason": self.reason}
        warnings = [{"code": w.code, "message": w.message} for w in self.warnings]
        # Which host served is said even of a cell that measured nothing, and left out on one machine.
        served = {} if self.server_host is None else {"server_host": self.server_host}
        if not self.measured:
            return {**head, **served, "warnings": warnings}
        body = _fields(self)
        for name in ("mode", "workload", "users", "trial", "status", "reason", "server_host", "warnings"):
            del body[name]
        document: dict[str, Any] = _clean({**head, **_as_json(body), **served, "warnings": warnings})
        return document

    @classmethod
    def from_json(cls, path: Path, data: dict[str, Any]) -> CellRecord:
        """A cell file's content, upgraded and checked; one line naming ``path`` and the key if wrong."""
        return _read_cell(Fields(path, upgrade(path, data)))


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def _as_json(value: Any) -> Any:
    """Records, tuples and mappings as JSON values, keys named as the fields."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _as_json(v) for k, v in _fields(value).items()}
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_as_json(v) for v in value]
    return value


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class Fields:
    """Typed access to one JSON object, naming the file and the key on a mismatch."""

    def __init__(self, path: Path, data: dict[str, Any], where: str = "") -> None:
        self.path, self.data, self.where = path, data, where

    def bad(self, key: str, expected: str) -> UserError:
        return UserError(
            f"{self.path}: '{self.where}{key}' is missing or not {expected}; the file is corrupt or truncated"
        )

    def present(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value:
            raise self.bad(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.bad(key, "a string")
        return value

    def integer(self, key: str, signed: bool = False, least: int = 0) -> int:
        """An integer: not negative (unless ``signed``), and at least ``least`` when that is above 0."""
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.bad(key, "an integer")
        if value < 0 and not signed:
            raise self.bad(key, "a non-negative integer")
        if least > 0 and value < least:
            raise self.bad(key, f"an integer of at least {least}")
        return value

    def optional_integer(self, key: str, required: bool = False, signed: bool = False) -> int | None:
        return self.integer(key, signed) if required or self.present(key) else None

    def number(self, key: str, signed: bool = False) -> float:
        """A finite number, not negative unless ``signed`` (a clock's offset may be either way)."""
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.bad(key, "a number")
        if not math.isfinite(value):
            raise self.bad(key, "a finite number" if signed else "a finite non-negative number")
        if value < 0 and not signed:
            raise self.bad(key, "a finite non-negative number")
        return value

    def optional_number(self, key: str, required: bool = False, signed: bool = False) -> float | None:
        return self.number(key, signed) if required or self.present(key) else None

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.bad(key, "true or false")
        return value

    def obj(self, key: str) -> Fields:
        value = self.data.get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.bad(key, "an object")
        return Fields(self.path, value, f"{self.where}{key}.")

    def items(self, key: str) -> list[Fields]:
        """A list of objects (absent: empty)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.bad(key, "a list of objects")
        return [Fields(self.path, v, f"{self.where}{key}[].") for v in value]

    def entries(self, key: str) -> dict[str, Fields]:
        """An object of objects, by name (absent: empty)."""
        outer = self.obj(key)
        return {name: outer.obj(name) for name in outer.data}

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.bad(key, "a list of strings")
        return tuple(value)

    def integers(self, key: str, required: bool = False) -> tuple[int, ...] | None:
        """A list of non-negative integers (absent: None, unless ``required``)."""
        value = self.data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, list) or not all(_is_count(v) for v in value):
            raise self.bad(key, "a list of non-negative integers")
        return tuple(value)

    def numbers(self, key: str) -> tuple[float, ...] | None:
        """A list of finite non-negative numbers (absent: None)."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(_is_figure(v) for v in value):
            raise self.bad(key, "a list of finite non-negative numbers")
        return tuple(value)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_figure(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def _read_cell(f: Fields) -> CellRecord:
    status = f.text("status")
    known = next((s for s in STATUSES if s == status), None)
    if known is None:
        raise UserError(f"{f.path}: status {status!r} is not one of {', '.join(map(repr, STATUSES))}")
    ok = known == "ok"
    load = f.optional_text("load")
    if load not in (None, "closed", "open"):
        raise UserError(f"{f.path}: load {load!r} is neither 'closed' nor 'open'")
    arrivals = f.optional_text("arrivals")
    if arrivals is not None and arrivals not in ARRIVALS:
        raise UserError(f"{f.path}: arrivals {arrivals!r} is not one of {', '.join(ARRIVALS)}")
    return CellRecord(
        mode=f.text("mode"),
        workload=f.text("workload"),
        users=f.integer("users"),
        trial=f.integer("trial"),
        status=known,
        reason=f.optional_text("reason"),
        window=_window(f.obj("window")) if f.present("window") else None,
        requests=f.optional_integer("requests", required=ok),
        failures=f.optional_integer("failures", required=ok),
        error_rate=f.optional_number("error_rate"),
        throughput_rps=f.optional_number("throughput_rps", required=ok),
        latency_ms=_latency(f.obj("latency_ms"), required=ok),
        endpoints={name: _endpoint(e) for name, e in f.entries("endpoints").items()},
        server=_server(f.obj("server")),
        loadgen=_loadgen(f.obj("loadgen")),
        load="open" if load == "open" else "closed" if load == "closed" else None,
        offered_rps=f.optional_number("offered_rps"),
        arrivals=arrivals,
        arrival_seed=f.optional_integer("arrival_seed"),
        effective_concurrency=f.optional_number("effective_concurrency"),
        effective_concurrency_basis=f.optional_text("effective_concurrency_basis"),
        promised_concurrency=f.optional_integer("promised_concurrency"),
        keeps_alive=f.boolean("keeps_alive"),
        cpu_plan_applied={role: _limits(e) for role, e in f.entries("cpu_plan_applied").items()},
        session_timings=_timings(f.obj("session_timings")),
        reference=_reference(f.obj("reference")) if f.present("reference") else None,
        server_host=f.text("server_host") if f.present("server_host") else None,
        disturbance={kind: _shares(e) for kind, e in f.entries("disturbance").items()},
        measured_again=f.optional_integer("measured_again"),
        connections=_spreads(f.obj("connections")),
        warnings=tuple(_flag(w) for w in f.items("warnings")),
    )


def _shares(f: Fields) -> dict[str, float | None]:
    """One window kind's disturbance: each role's share (0 to 1) or null (not measured)."""
    shares: dict[str, float | None] = {}
    for role in f.data:
        share = f.optional_number(role)
        if share is not None and share > 1:
            raise f.bad(role, "a share between 0 and 1")
        shares[role] = share
    return shares


def _spreads(f: Fields) -> dict[str, tuple[int, ...] | None]:
    """Each window kind's connections per process (null: not read)."""
    return {kind: f.integers(kind) for kind in f.data}


def _reference(f: Fields) -> Reference:
    return Reference(
        generator=f.text("generator"),
        connections=f.integer("connections"),
        duration_s=f.optional_number("duration_s"),
        requests=f.optional_integer("requests"),
        errors=f.optional_integer("errors"),
        throughput_rps=f.optional_number("throughput_rps"),
        latency_ms=_latency(f.obj("latency_ms")),
        missing=f.optional_text("missing"),
    )


def _flag(f: Fields) -> Flag:
    message = f.data.get("message")
    return Flag(f.text("code"), message if isinstance(message, str) else "")


def _window(f: Fields) -> Window:
    return Window(f.number("start"), f.number("end"), f.number("seconds"), f.number("warmup_s"))


def _latency(f: Fields, required: bool = False) -> Latency:
    """The latency figures; a successful cell must have the percentiles the report draws."""
    names = Latency.__dataclass_fields__
    return Latency(**{name: f.optional_number(name, required and name in PERCENTILES) for name in names})


def _endpoint(f: Fields) -> Endpoint:
    return Endpoint(
        requests=f.integer("requests"),
        failures=f.integer("failures"),
        throughput_rps=f.optional_number("throughput_rps"),
        latency_ms=_latency(f.obj("latency_ms")),
    )


def _server(f: Fields) -> Server:
    return Server(
        cpu_pct=f.optional_number("cpu_pct"),
        throttled_s=f.optional_number("throttled_s"),
        throttled_periods=f.optional_integer("throttled_periods"),
        mem_mb=f.optional_number("mem_mb"),
        mem_mb_mean=f.optional_number("mem_mb_mean"),
        processes=tuple(
            Process(p.optional_integer("pid"), p.optional_text("command"), p.optional_number("rss_mb"))
            for p in f.items("processes")
        ),
        exit=_exit(f.obj("exit")) if f.present("exit") else None,
        major_faults=f.optional_integer("major_faults"),
    )


def _exit(f: Fields) -> ServerExit:
    return ServerExit(
        oom_killed=bool(f.boolean("oom_killed")),
        exit_code=f.optional_integer("exit_code", signed=True),
        finished_at=f.optional_number("finished_at"),
        last_log=f.strings("last_log"),
    )


def _loadgen(f: Fields) -> Loadgen:
    processes = f.optional_integer("processes")
    hosts = f.integer("hosts", least=1) if f.present("hosts") else 1
    if processes is not None and hosts > processes:
        # Every host that sent load ran at least one of the Locust worker processes counted.
        raise UserError(
            f"{f.path}: 'loadgen.hosts' {hosts} is more than 'loadgen.processes' {processes}: every host "
            "that sent load ran at least one worker; the file is corrupt"
        )
    return Loadgen(
        cpu_pct=f.optional_number("cpu_pct"),
        cpu_quota_pct=f.optional_number("cpu_quota_pct"),
        processes=processes,
        saturated=f.boolean("saturated"),
        generator_bound=f.boolean("generator_bound"),
        sent_rps=f.optional_number("sent_rps"),
        calibrated_max_rps=f.optional_number("calibrated_max_rps"),
        generator_efficiency=f.optional_number("generator_efficiency"),
        hosts=hosts,
    )


def _limits(f: Fields) -> Limits:
    return Limits(
        cpuset=f.optional_text("cpuset"),
        cpus=f.optional_number("cpus"),
        # Docker reads back -1 or 0 for "no limit": kept as Docker said it.
        memory_bytes=f.optional_integer("memory_bytes", signed=True),
        pids_limit=f.optional_integer("pids_limit", signed=True),
    )


def _timings(f: Fields) -> Timings:
    return Timings(
        f.optional_number("start_s"), f.optional_number("loadgen_s"), f.optional_number("teardown_s")
    )
