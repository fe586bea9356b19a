"""The CPU plan of a multi-host run: on every host of the inventory, which cores each of its roles gets.

On a host with the ``server`` role the server under test gets its cores first (``--server-cpus``), as
on one machine; then the backing services if the host has that role, and the rest goes to the load
generator if it has that one. A host with only ``loadgen`` gives every core to Locust workers, one
worker per core. The Locust master lives on the first load generator host and shares a core with a
worker: it only gathers the workers' figures, and a core of its own would be a core less of load.

A host with all three roles is planned by :func:`~servingmatrix.run.plan.cpuplan.plan_cpus` itself, so an
inventory of one such host plans exactly what a run on one machine does. Where roles share cores the
plan says so, as on one machine, and so it does when simulated hosts share cores of their one kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.hosts.inventory import Host, Inventory
from servingmatrix.run.plan.cpuplan import crowded_processes_warning, plan_cpus, split_generator_and_backing
from servingmatrix.run.stack.stack import Placement

#: run.json's metadata key for :meth:`InventoryPlan.as_dict`.
METADATA_KEY = "cpu_plan_hosts"
#: The memory limits of the load generator's and the backing services' containers, as on one machine.
LOADGEN_MEMORY = "2g"
BACKING_MEMORY = "1g"


def _cpuset(cores: tuple[int, ...] | list[int]) -> str:
    return ",".join(str(core) for core in cores)


def _placement_dict(placement: Placement | None) -> dict[str, object] | None:
    return None if placement is None else {"cpuset": placement.cpuset, "cpus": placement.cpus}


@dataclass(frozen=True)
class HostPlan:
    """One host's share of the run: a placement per role it has (None for a role it has not)."""

    host: Host
    server: Placement | None = None
    backing: Placement | None = None
    loadgen: Placement | None = None
    #: Locust worker processes on this host's load generator cores.
    loadgen_workers: int = 0
    #: Whether the Locust master runs here (on the first load generator core, beside a worker).
    locust_master: bool = False
    #: Cores no role uses (a server-only host with more cores than the server's budget).
    idle: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def master_core(self) -> int | None:
        """The core the Locust master shares with a worker, or None when the master is elsewhere."""
        if not self.locust_master or self.loadgen is None:
            return None
        return int(self.loadgen.cpuset.split(",")[0])

    def as_dict(self) -> dict[str, object]:
        """This host's plan as run.json records it."""
        master = self.master_core
        return {
            "host": self.name,
            "address": self.host.address,
            "docker": self.host.docker,
            "roles": list(self.host.roles),
            "cores": _cpuset(self.host.cpuset),
            "server": _placement_dict(self.server),
            "backing": _placement_dict(self.backing),
            "loadgen": _placement_dict(self.loadgen),
            "loadgen_workers": self.loadgen_workers,
            "locust_master": None
            if master is None
            else {"cpuset": str(master), "shares_core_with": "a Locust worker"},
            "idle": _cpuset(self.idle),
            "warnings": list(self.warnings),
        }

    def describe(self) -> str:
        """One line saying what runs on which cores of this host."""
        parts: list[str] = []
        if self.server is not None:
            parts.append(f"server on {_cores_phrase(self.server.cpuset)} ({self.server.memory})")
        if self.backing is not None:
            parts.append(f"backing services on {_cores_phrase(self.backing.cpuset)}")
        if self.loadgen is not None:
            workers = f"{self.loadgen_workers} Locust worker{'s' if self.loadgen_workers != 1 else ''}"
            master = self.master_core
            if master is not None:
                workers += f", and the Locust master sharing core {master} with a worker"
            parts.append(f"load generator on {_cores_phrase(self.loadgen.cpuset)} ({workers})")
        if self.idle:
            parts.append(f"{_cores_phrase(_cpuset(self.idle))} idle")
        return f"host {self.name} ({self.host.address}): {'; '.join(parts)}"


def _cores_phrase(cpuset: str) -> str:
    return f"core{'s' if ',' in cpuset else ''} {cpuset}"


@dataclass(frozen=True)
class InventoryPlan:
    """The plan of every host, in the inventory's order, and every warning it carries."""

    hosts: tuple[HostPlan, ...]
    simulated: bool = False
    #: Each host's warnings (named by their host when there are several), then those across hosts.
    warnings: tuple[str, ...] = ()

    def host(self, name: str) -> HostPlan:
        return next(plan for plan in self.hosts if plan.name == name)

    @property
    def master(self) -> HostPlan:
        """The host the Locust master runs on."""
        return next(plan for plan in self.hosts if plan.locust_master)

    def as_dict(self) -> dict[str, Any]:
        """run.json's metadata ``cpu_plan_hosts``."""
        return {
            "simulated": self.simulated,
            "hosts": [plan.as_dict() for plan in self.hosts],
            "warnings": list(self.warnings),
        }

    def describe(self) -> list[str]:
        """The lines a run prints as it starts, one per host."""
        return [plan.describe() for plan in self.hosts]


@dataclass(frozen=True)
class _Split:
    """A host's cores by role, before the load generator's workers are counted."""

    server: list[int]
    backing: list[int]
    loadgen: list[int]
    idle: list[int]
    warnings: list[str]


def plan_hosts(
    inventory: Inventory, server_cpus: int, server_memory: str = "2g", loadgen_processes: int | None = None
) -> InventoryPlan:
    """Plan every host's cores; refuse in one line a server budget a host cannot give.

    ``loadgen_processes`` is the number of Locust workers across all load generator hosts, spread over
    them by their cores (None: one per core, as on one machine).
    """
    splits = [_split(inventory, host, server_cpus) for host in inventory.hosts]
    workers = _workers(inventory, splits, loadgen_processes)
    master = next(host.name for host, split in zip(inventory.hosts, splits, strict=True) if split.loadgen)
    plans = [
        _host_plan(host, split, count, host.name == master, server_cpus, server_memory, loadgen_processes)
        for host, split, count in zip(inventory.hosts, splits, workers, strict=True)
    ]
    warnings = [
        warning if len(plans) == 1 else f"host {plan.name}: {warning}"
        for plan in plans
        for warning in plan.warnings
    ]
    shared = _shared_simulated_cores(inventory) if inventory.simulated else None
    if shared is not None:
        warnings.append(shared)
    return InventoryPlan(hosts=tuple(plans), simulated=inventory.simulated, warnings=tuple(warnings))


def _split(inventory: Inventory, host: Host, server_cpus: int) -> _Split:
    """``host``'s cores by role: the server's first, then the backing services', the rest the generator's."""
    cores = list(host.cpuset)
    if not host.has("server"):
        if host.has("backing") and host.has("loadgen"):
            loadgen, backing, shared = split_generator_and_backing(cores)
            return _Split([], backing, loadgen, [], shared)
        if host.has("backing"):
            return _Split([], cores, [], [], [])
        return _Split([], [], cores, [], [])
    where = f"{inventory.source}: host {host.name!r}"
    others = [role for role in ("backing", "loadgen") if host.has(role)]
    if server_cpus > len(cores) or (server_cpus == len(cores) and others):
        if not others:
            raise UserError(
                f"{where}: --server-cpus {server_cpus} is more than its {len(cores)} core(s) "
                f"(allowed: 1..{len(cores)})"
            )
        whom = "load generator" if host.has("loadgen") else "backing services"
        roles = f"{' and '.join(others)} role{'s' if len(others) > 1 else ''}"
        allowed = (
            f"allowed: 1..{len(cores) - 1}"
            if len(cores) > 1
            else f"give the host more cores, or its {roles} to another host"
        )
        raise UserError(
            f"{where}: --server-cpus {server_cpus} leaves no core for the {whom} on its {len(cores)} "
            f"core(s) ({allowed})"
        )
    server, rest = cores[:server_cpus], cores[server_cpus:]
    if host.has("backing") and host.has("loadgen"):
        loadgen, backing, shared = split_generator_and_backing(rest)
        return _Split(server, backing, loadgen, [], shared)
    if host.has("backing"):
        return _Split(server, rest, [], [], [])
    if host.has("loadgen"):
        return _Split(server, [], rest, [], [])
    return _Split(server, [], [], rest, [])


def _workers(inventory: Inventory, splits: list[_Split], asked: int | None) -> list[int]:
    """Locust workers per host: one per load generator core, or ``asked`` spread by those cores."""
    if asked is None:
        return [len(split.loadgen) for split in splits]
    generators = [host.name for host, split in zip(inventory.hosts, splits, strict=True) if split.loadgen]
    if asked < len(generators):
        raise UserError(
            f"{inventory.source}: --loadgen-processes {asked} leaves a load generator host without a worker: "
            f"{len(generators)} hosts have the loadgen role ({', '.join(generators)}) "
            f"(allowed: at least {len(generators)})"
        )
    counts = [1 if split.loadgen else 0 for split in splits]
    for _ in range(asked - len(generators)):
        # The next worker goes where workers are fewest per core (the first such host on a tie).
        index = min(
            (i for i, split in enumerate(splits) if split.loadgen),
            key=lambda i: (counts[i] / len(splits[i].loadgen), i),
        )
        counts[index] += 1
    return counts


def _host_plan(
    host: Host,
    split: _Split,
    workers: int,
    master: bool,
    server_cpus: int,
    server_memory: str,
    loadgen_processes: int | None,
) -> HostPlan:
    if all(host.has(role) for role in ("server", "backing", "loadgen")):
        # As on one machine, to the byte: the same function plans it.
        one = plan_cpus(
            list(host.cpuset), server_cpus, server_memory, None if loadgen_processes is None else workers
        )
        return HostPlan(
            host=host,
            server=one.server,
            backing=one.backing,
            loadgen=one.loadgen,
            loadgen_workers=one.loadgen_processes,
            locust_master=master,
            warnings=one.warnings,
        )
    warnings = list(split.warnings)
    crowded = crowded_processes_warning(workers, split.loadgen) if split.loadgen else None
    if crowded is not None:
        warnings.append(crowded)
    return HostPlan(
        host=host,
        server=_placement(split.server, server_memory),
        backing=_placement(split.backing, BACKING_MEMORY),
        loadgen=_placement(split.loadgen, LOADGEN_MEMORY),
        loadgen_workers=workers,
        locust_master=master,
        idle=tuple(split.idle),
        warnings=tuple(warnings),
    )


def _placement(cores: list[int], memory: str) -> Placement | None:
    return Placement(_cpuset(cores), float(len(cores)), memory=memory) if cores else None


def _shared_simulated_cores(inventory: Inventory) -> str | None:
    """The warning for simulated hosts whose cpusets overlap: one kernel runs both hosts' loads."""
    users: dict[int, list[str]] = {}
    for host in inventory.hosts:
        for core in host.cpuset:
            users.setdefault(core, []).append(host.name)
    shared = [f"core {core} ({', '.join(names)})" for core, names in sorted(users.items()) if len(names) > 1]
    if not shared:
        return None
    return (
        f"cores shared across simulated hosts: {'; '.join(shared)}; the hosts run on one kernel, so what "
        "runs on one of them takes CPU from the others on those cores"
    )
