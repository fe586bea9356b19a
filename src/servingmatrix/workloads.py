"""The registry of workloads: what each asks the app for, with bounded parameters in the spec syntax.

``io[ms=100]`` and ``mixed[io_ms=80]`` name a workload and its parameters exactly as modes are
named. A workload is written here only: the load generator sends ``WorkloadConfig.requests()``, and
the app's parameter bounds (``app/benchapp/bounds.py``) are rendered from these, so a workload cannot
ask the app for what it would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from servingmatrix.errors import SpecError
from servingmatrix.spec import parse_spec, shown


@dataclass(frozen=True)
class Param:
    name: str
    default: int
    low: int
    high: int
    help: str


@dataclass(frozen=True)
class Request:
    """One kind of request a workload sends: the name its samples carry, what it sends, its share.

    Weights are relative: a request of weight 2 is sent twice as often as one of weight 1. The
    registry's workloads are GETs without a body; a user's app may declare any method, headers and body.
    """

    name: str
    #: The path with its query string, exactly as sent.
    path: str
    weight: int = 1
    method: str = "GET"
    #: Headers beside those every client sends (Host, and Content-Length with a body), in order.
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None

    @property
    def plain(self) -> bool:
        """A GET without headers or body: what the registry's workloads send."""
        return self.method == "GET" and not self.headers and self.body is None


@dataclass(frozen=True)
class MixEntry:
    """One request type of the mixed workload and its share of requests."""

    name: str
    weight: int
    #: Path template; ``{io_ms}``-style fields are filled from the mixed workload's parameters.
    path: str


@dataclass(frozen=True)
class Workload:
    name: str
    summary: str
    endpoint: str
    params: tuple[Param, ...] = ()
    #: Requests given whole (a user's app's declared requests) rather than built from the endpoint.
    fixed: tuple[Request, ...] = ()
    #: The backing services its requests call (``upstream``, ``postgres``): where the CPU plan puts
    #: them beside the load generator, this workload's figures measure them competing with the load.
    backing: tuple[str, ...] = ()

    @property
    def is_mixed(self) -> bool:
        """Whether this workload blends several endpoints (``MIX``) rather than asking one."""
        return self.name == "mixed"

    def resolve(self, given: Mapping[str, str]) -> WorkloadConfig:
        known = {p.name: p for p in self.params}
        values = {p.name: p.default for p in self.params}
        for key, raw in given.items():
            param = known.get(key)
            if param is None:
                allowed = ", ".join(f"{p.name} ({p.low}..{p.high})" for p in self.params) or "nothing"
                raise SpecError(f"{self.name}: unknown parameter {key!r} (allowed: {allowed})")
            try:
                value = int(raw)
            except ValueError:
                raise SpecError(
                    f"{self.name}: {key}={raw!r} is not an integer (allowed: {param.low}..{param.high})"
                ) from None
            if not param.low <= value <= param.high:
                raise SpecError(
                    f"{self.name}: {key}={value} is out of range (allowed: {param.low}..{param.high})"
                )
            values[key] = value
        return WorkloadConfig(self, values)


@dataclass(frozen=True)
class WorkloadConfig:
    workload: Workload
    values: Mapping[str, int]

    @property
    def spec(self) -> str:
        if not self.values:
            return self.workload.name
        return f"{self.workload.name}[{','.join(f'{k}={v}' for k, v in self.values.items())}]"

    def requests(self) -> tuple[Request, ...]:
        """What the load generator sends, each request with its weight.

        A single-endpoint workload is one request named after the workload, its parameters as the
        query; the mixed workload is ``MIX`` with its parameters filled in.
        """
        if self.workload.fixed:
            return self.workload.fixed
        if self.workload.is_mixed:
            return tuple(Request(e.name, e.path.format(**self.values), e.weight) for e in MIX)
        return (Request(self.workload.name, query_path(self.workload.endpoint, self.values)),)

    def mix(self) -> list[dict[str, object]]:
        """The mixed workload's request types with their weights and concrete paths."""
        return [{"name": r.name, "weight": r.weight, "path": r.path} for r in self.requests()]

    @property
    def sleep_ms(self) -> int | None:
        """For `io`, the sleep each request takes: effective concurrency is throughput x this."""
        return self.values.get("ms") if self.workload.name == "io" else None


def query_path(endpoint: str, values: Mapping[str, int | str]) -> str:
    """The request path: the endpoint and its parameters, in their declared order, as a query string."""
    return f"{endpoint}?{urlencode(values)}" if values else endpoint


# These bounds are the app's (rendered into app/benchapp/bounds.py). The upper ones keep one request near
# a second at most on one core: cpu n=2000, and sqlite work=5000000 (a CTE of five million rows, about
# 1.4 s in SQLite's C code).
MS = Param("ms", 50, 0, 5000, "milliseconds to wait")
CPU_N = Param("n", 8, 1, 2000, "work units of about 0.4 ms")

#: The mixed workload: mostly cheap reads, some slow I/O and database calls, a little CPU.
#: These weights are the one place they are written; the report shows them.
MIX: tuple[MixEntry, ...] = (
    MixEntry("json", 40, "/json"),
    MixEntry("db", 20, "/db?rows=1"),
    MixEntry("sqlite", 10, "/sqlite?rows=1"),
    MixEntry("io", 10, "/io?ms={io_ms}"),
    MixEntry("upstream", 10, "/upstream?ms={upstream_ms}"),
    MixEntry("cpu", 5, "/cpu?n={cpu_n}"),
    MixEntry("bytes", 5, "/bytes?kb=16"),
)

WORKLOADS: tuple[Workload, ...] = (
    Workload("json", "a small JSON response: the framework's own overhead", "/json"),
    Workload("cpu", "pure-Python CPU work", "/cpu", (CPU_N,)),
    Workload("io", "time.sleep(ms): waiting as the async workers see it once patched", "/io", (MS,)),
    Workload(
        "upstream",
        "a real HTTP call to an upstream service that answers after ms",
        "/upstream",
        (MS,),
        backing=("upstream",),
    ),
    Workload(
        "db",
        "a real PostgreSQL read by primary key, plus an optional pg_sleep(ms)",
        "/db",
        (Param("ms", 0, 0, 5000, "slow-query milliseconds"), Param("rows", 1, 1, 1000, "rows read")),
        backing=("postgres",),
    ),
    Workload(
        "sqlite",
        "the same read against SQLite: a C call no green thread can yield in",
        "/sqlite",
        (
            Param("rows", 1, 1, 1000, "rows read"),
            Param("work", 0, 0, 5_000_000, "rows counted inside SQLite"),
        ),
    ),
    Workload("bytes", "a response of kb kilobytes", "/bytes", (Param("kb", 64, 1, 4096, "response size"),)),
    Workload(
        "mixed",
        "a weighted blend that looks like a real service",
        "(mixed)",
        # The bounds of the endpoints these fill in, so a mix cannot ask for what they refuse.
        (
            replace(MS, name="io_ms", help="sleep of the io requests"),
            replace(MS, name="upstream_ms", help="upstream delay"),
            replace(CPU_N, name="cpu_n", help="work units of the cpu requests"),
        ),
        backing=("postgres", "upstream"),
    ),
)

_BY_NAME = {w.name: w for w in WORKLOADS}


def get_workload(name: str) -> Workload:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise SpecError(f"unknown workload {shown(name)} (known: {', '.join(_BY_NAME)})") from None


def resolve_workload(text: str) -> WorkloadConfig:
    spec = parse_spec(text)
    return get_workload(spec.name).resolve(spec.as_dict())


def uses_backing(spec: str) -> bool:
    """Whether a workload's requests call the backing services; True for one this registry does not
    know (a user's app's requests may call anything), so a flag about them is never dropped unseen."""
    try:
        return bool(resolve_workload(spec).workload.backing)
    except SpecError:
        return True
