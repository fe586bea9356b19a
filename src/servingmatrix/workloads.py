"""The registry of workloads: one locustfile each, with bounded parameters in the spec syntax.

``io[ms=100]`` and ``mixed[io_ms=80]`` name a workload and its parameters exactly as modes are
named; the bounds are the app's own, so a workload cannot ask the app for what it would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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

    @property
    def locustfile(self) -> str:
        # Named workload_*.py so that no locustfile shadows a module (json, io) on the path.
        return f"/srv/locustfiles/workload_{self.name}.py"

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

    def mix(self) -> list[dict[str, object]]:
        """The mixed workload's request types with their weights and concrete paths."""
        return [{"name": e.name, "weight": e.weight, "path": e.path.format(**self.values)} for e in MIX]

    @property
    def sleep_ms(self) -> int | None:
        """For `io`, the sleep each request takes: effective concurrency is throughput x this."""
        return self.values.get("ms") if self.workload.name == "io" else None


MS = Param("ms", 50, 0, 5000, "milliseconds to wait")

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
    Workload("cpu", "pure-Python CPU work", "/cpu", (Param("n", 8, 1, 2000, "work units of about 0.4 ms"),)),
    Workload("io", "time.sleep(ms): waiting as the async workers see it once patched", "/io", (MS,)),
    Workload("upstream", "a real HTTP call to an upstream service that answers after ms", "/upstream", (MS,)),
    Workload(
        "db",
        "a real PostgreSQL read by primary key, plus an optional pg_sleep(ms)",
        "/db",
        (Param("ms", 0, 0, 5000, "slow-query milliseconds"), Param("rows", 1, 1, 1000, "rows read")),
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
        (
            Param("io_ms", 50, 0, 5000, "sleep of the io requests"),
            Param("upstream_ms", 50, 0, 5000, "upstream delay"),
            Param("cpu_n", 8, 1, 2000, "work units of the cpu requests"),
        ),
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
