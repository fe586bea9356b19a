"""The hosts a run used, as run.json records them, and the run's method in words.

A run with a host inventory records its hosts three times over, each record saying something the
others do not: the metadata's ``hosts`` (each host's engine, address, roles, Docker version, image ids
and clock offset), ``cpu_plan_hosts`` (each host's cores by role, as planned) and ``distributed`` (the
Locust master, and each load host's workers, cores and clock). A run on one machine records none of
them. Everything here reads them as collected metadata: what is missing or malformed is left out
(``RunRecord.from_json`` has already refused a malformed run.json), never a reason to fail a report.

The method is said the same way everywhere a run is shown or compared: ``one machine``, ``simulated
(one kernel)``, or ``N hosts``. Simulated hosts are Docker engines in network namespaces of one
kernel: their figures say how the harness behaves across engines, not how separate machines do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servingmatrix import fmt

#: The method of a run without an inventory: this machine's engine did everything.
ONE_MACHINE = "one machine"
#: The method of a run whose hosts are engines in network namespaces of one kernel.
SIMULATED = "simulated (one kernel)"
#: Why a simulated run's figures are not those of separate machines, said wherever its method is.
SIMULATED_CAVEAT = (
    "its hosts are Docker engines in network namespaces of one kernel, which share its cores and memory "
    "bandwidth, so its figures say nothing of separate machines or of the network between them"
)
#: The roles a host may have, in the order they are shown.
ROLES = ("server", "backing", "loadgen")
#: run.json's keys of the three records (``metadata.hosts`` is under ``metadata``).
METADATA_HOSTS = "hosts"
CPU_PLAN_HOSTS = "cpu_plan_hosts"
#: run.json's key of a fleet's calibrations, one per server host's lane (``calibration`` is the first's).
CALIBRATION_HOSTS = "calibration_hosts"
DISTRIBUTED = "distributed"


@dataclass(frozen=True)
class Clock:
    """How far a host's clock was from the harness's, give or take, and what was applied to its times."""

    offset_ms: float
    uncertainty_ms: float | None = None
    applied_ms: float | None = None

    @property
    def applied(self) -> bool:
        """Whether the offset moved the host's times (one within its uncertainty does not)."""
        return bool(self.applied_ms)

    def describe(self) -> str:
        """``+1.25 ± 0.40 ms``: the offset, and its uncertainty when known."""
        uncertainty = "" if self.uncertainty_ms is None else f" ± {fmt.ms(self.uncertainty_ms)}"
        return f"{_signed_ms(self.offset_ms)}{uncertainty} ms"

    def describe_applied(self) -> str:
        if self.applied:
            return f"yes ({_signed_ms(self.applied_ms or 0.0)} ms)"
        if self.uncertainty_ms is not None and abs(self.offset_ms) <= self.uncertainty_ms:
            return "no: within its uncertainty"
        return "no"


def _signed_ms(value: float) -> str:
    return f"{'-' if value < 0 else '+'}{fmt.ms(abs(value))}"


@dataclass(frozen=True)
class RunHost:
    """One host of a run, from whichever of run.json's three records say something of it."""

    name: str
    address: str | None = None
    roles: tuple[str, ...] = ()
    #: The cores each of its roles had, as planned: (role, cpuset), in the order of ``ROLES``.
    cores: tuple[tuple[str, str], ...] = ()
    #: Locust worker processes it ran (None: it ran none, or the run did not say).
    workers: int | None = None
    #: Whether the Locust master ran here.
    master: bool = False
    clock: Clock | None = None
    docker: str | None = None
    docker_version: str | None = None

    def describe_roles(self) -> str:
        """Its roles, with the Locust master named where it ran: ``loadgen, Locust master``."""
        roles = list(self.roles)
        if self.master:
            roles.append("Locust master")
        return ", ".join(roles) or fmt.DASH

    def describe_cores(self) -> str:
        """``server 0; backing 1`` (a role's cores as planned), or a dash when no plan was recorded."""
        return "; ".join(f"{role} {cpuset}" for role, cpuset in self.cores) or fmt.DASH


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _figure(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def metadata_hosts(run: Mapping[str, Any]) -> dict[str, Any]:
    """run.json's ``metadata.hosts`` (empty on one machine)."""
    return _obj(_obj(run.get("metadata")).get(METADATA_HOSTS))


def is_simulated(run: Mapping[str, Any]) -> bool:
    """Whether the run's hosts were simulated: engines in network namespaces of one kernel."""
    hosts, plan = metadata_hosts(run), _obj(run.get(CPU_PLAN_HOSTS))
    for record in (hosts, plan):
        if isinstance(record.get("simulated"), bool):
            return bool(record["simulated"])
    return hosts.get("method") == SIMULATED


def method(run: Mapping[str, Any]) -> str:
    """The run's method in words, from run.json's whole content (``RunRecord.as_json``): ``one
    machine`` without an inventory, ``simulated (one kernel)``, or ``N hosts``.

    It reads ``metadata.hosts`` (``simulated``, ``hosts``), or when the metadata lacks them (a collector
    that failed) ``cpu_plan_hosts`` (``simulated``, ``hosts``): a run with either had an inventory.
    """
    hosts, plan = metadata_hosts(run), _obj(run.get(CPU_PLAN_HOSTS))
    if not hosts and not plan:
        return ONE_MACHINE
    if is_simulated(run):
        return SIMULATED
    count = len(_objects(hosts.get("hosts"))) or len(_objects(plan.get("hosts")))
    if not count:
        return _text(hosts.get("method")) or "several hosts"
    return f"{count} host{'' if count == 1 else 's'}"


def run_hosts(run: Mapping[str, Any]) -> tuple[RunHost, ...]:
    """Every host of the run, in the inventory's order (empty on one machine): its address, roles,
    cores per role, Locust workers, whether the master ran there, and its clock."""
    described = {e["name"]: e for e in _objects(metadata_hosts(run).get("hosts")) if _text(e.get("name"))}
    plan = _obj(run.get(CPU_PLAN_HOSTS))
    planned = {e["host"]: e for e in _objects(plan.get("hosts")) if _text(e.get("host"))}
    distributed = _obj(run.get(DISTRIBUTED))
    loading = {e["name"]: e for e in _objects(distributed.get("hosts")) if _text(e.get("name"))}
    master = _text(_obj(distributed.get("master")).get("host"))
    names = list(dict.fromkeys([*described, *planned, *loading]))
    return tuple(
        _host(name, described.get(name, {}), planned.get(name, {}), loading.get(name, {}), master)
        for name in names
    )


def _host(
    name: str, described: dict[str, Any], planned: dict[str, Any], loading: dict[str, Any], master: str | None
) -> RunHost:
    roles = described.get("roles") if isinstance(described.get("roles"), list) else planned.get("roles")
    if not isinstance(roles, list):
        roles = ["loadgen"] if loading else []
    cores = tuple(
        (role, str(_obj(planned.get(role)).get("cpuset")))
        for role in ROLES
        if _text(_obj(planned.get(role)).get("cpuset"))
    )
    workers = _count(loading.get("workers"))
    if workers is None and _obj(planned.get("loadgen")):
        workers = _count(planned.get("loadgen_workers"))
    return RunHost(
        name=name,
        address=_text(described.get("address"))
        or _text(planned.get("address"))
        or _text(loading.get("address")),
        roles=tuple(str(role) for role in roles),
        cores=cores,
        workers=workers,
        master=name == master if master is not None else bool(_obj(planned.get("locust_master"))),
        clock=_clock(_obj(described.get("clock")) or _obj(loading.get("clock"))),
        docker=_text(described.get("docker")) or _text(planned.get("docker")),
        docker_version=_text(described.get("docker_version")),
    )


def _clock(record: dict[str, Any]) -> Clock | None:
    offset = _figure(record.get("offset_ms"))
    if offset is None:
        return None
    return Clock(offset, _figure(record.get("uncertainty_ms")), _figure(record.get("applied_ms")))


def describe_layout(hosts: tuple[RunHost, ...]) -> str:
    """The hosts' count and each one's roles, as a comparison names them: ``2 (main: server, backing;
    gen: loadgen)``."""
    each = "; ".join(f"{h.name}: {', '.join(h.roles) or fmt.DASH}" for h in hosts)
    return f"{len(hosts)} ({each})"


def layout(hosts: tuple[RunHost, ...]) -> tuple[tuple[str, ...], ...]:
    """What the hosts did, in the inventory's order and whatever their names: each one's roles."""
    return tuple(tuple(sorted(h.roles)) for h in hosts)


def _workers(count: int) -> str:
    return f"{count} Locust worker{'' if count == 1 else 's'}"


def placement(hosts: tuple[RunHost, ...]) -> str:
    """Where each role ran, in one line: ``server on main; backing on main; load from gen-a (2 Locust
    workers), gen-b (2 Locust workers)``."""
    parts = []
    for role, label in (("server", "server on"), ("backing", "backing services on")):
        names = [h.name for h in hosts if role in h.roles]
        if names:
            parts.append(f"{label} {', '.join(names)}")
    loads = [
        h.name + ("" if h.workers is None else f" ({_workers(h.workers)})")
        for h in hosts
        if "loadgen" in h.roles
    ]
    if loads:
        parts.append(f"load from {', '.join(loads)}")
    return "; ".join(parts)


def method_line(run: Mapping[str, Any]) -> str:
    """The method with where each role ran, as the report's header and the summary say it:
    ``3 hosts: server on main; load from gen-a (2 Locust workers), gen-b (2 Locust workers)``."""
    said = method(run)
    where = placement(run_hosts(run))
    return f"{said}: {where}" if where and said != ONE_MACHINE else said
