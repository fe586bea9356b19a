"""The hosts of a multi-host run at run time: their engines connected, images shipped, clocks measured.

Made from the inventory and its plan (``hosts/``) once the run starts: every engine is pinged first
(one line naming a host that does not answer), the engine of a host that names this machine's own
socket is this machine's driver, every other is a driver of its own. Each server host gets its share
of the load hosts, round robin: with one server host it has them all; with several (a fleet) they
run their sessions at the same time, each swarmed by its own share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from servingmatrix.building.images import ImageDef, image_def
from servingmatrix.engine.docker import Docker
from servingmatrix.errors import ServingMatrixError, UserError
from servingmatrix.hosts.engines import check_engines
from servingmatrix.hosts.inventory import Host, Inventory
from servingmatrix.run.load.distributed import MASTER_PORT, DistributedLoad, LoadHost
from servingmatrix.run.measure.clocks import ClockOffset, measure_offset
from servingmatrix.run.plan.cpuplan import CpuPlan
from servingmatrix.run.plan.hostplan import HostPlan, InventoryPlan
from servingmatrix.run.stack.ship import ship_images
from servingmatrix.run.stack.stack import Placement
from servingmatrix.say import Say

#: How a run's figures were produced, in words: the report, the summary and ``compare`` say it.
SIMULATED_METHOD = "simulated (one kernel)"
#: The images the backing services and the load generator need where they run.
BACKING_IMAGES = ("upstream", "postgres")
LOADGEN_IMAGES = ("locust",)


def is_this_machine(host: Host, local: Docker) -> bool:
    """Whether ``host`` names this machine's own engine (then its containers' cgroups are ours to read)."""
    return host.docker.startswith("unix://") and host.docker == local.address


def worker_cores(plan: HostPlan) -> tuple[int, ...]:
    """The core of each of a load host's workers: its load generator cores in turn, as many workers
    as the plan gives it (one per core, or ``--loadgen-processes`` spread over the load hosts)."""
    if plan.loadgen is None:
        return ()
    cores = [int(c) for c in plan.loadgen.cpuset.split(",")]
    return tuple(cores[i % len(cores)] for i in range(plan.loadgen_workers))


@dataclass(frozen=True)
class ServerShare:
    """One server host of the run and what serves it: its slot (ports, master port), the backing
    host, the load hosts that swarm it, and the CPU plan its sessions run under."""

    slot: int
    server: HostPlan
    backing: HostPlan
    load: DistributedLoad
    plan: CpuPlan

    @property
    def name(self) -> str:
        return self.server.name


@dataclass
class RunHosts:
    inventory: Inventory
    plan: InventoryPlan
    engines: dict[str, Docker]
    clocks: dict[str, ClockOffset] = field(default_factory=dict)
    local: set[str] = field(default_factory=set)
    #: Image ids on each host's engine, by image name.
    images: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def connect(
        cls, inventory: Inventory, plan: InventoryPlan, local: Docker, connect: Callable[[Host], Docker]
    ) -> RunHosts:
        """Ping every engine (one line for one that does not answer), then measure every host's clock."""
        check_engines(inventory, connect)
        engines: dict[str, Docker] = {}
        here: set[str] = set()
        for host in inventory.hosts:
            if is_this_machine(host, local):
                engines[host.name] = local
                here.add(host.name)
            else:
                engines[host.name] = connect(host)
        clocks = {name: measure_offset(engine) for name, engine in engines.items()}
        return cls(inventory, plan, engines, clocks, here)

    @property
    def simulated(self) -> bool:
        return self.inventory.simulated

    @property
    def method(self) -> str:
        count = len(self.inventory.hosts)
        return SIMULATED_METHOD if self.simulated else f"{count} host{'' if count == 1 else 's'}"

    def ship(self, mode_images: list[str], say: Say, catalogue: dict[str, ImageDef] | None = None) -> None:
        """Every host's engine holds the images of its roles, as built on this machine's."""
        source = next(iter(self.engines[name] for name in self.local), None)
        source_hint = "unix:///var/run/docker.sock"
        if source is None:
            raise UserError(
                f"{self.inventory.source}: no host names this machine's engine ({source_hint}): the "
                "images are built here and shipped from it"
            )
        for host_plan in self.plan.hosts:
            names: list[str] = []
            if host_plan.server is not None:
                names += mode_images
            if host_plan.backing is not None or host_plan.server is not None:
                # The calibration's target, the upstream, runs on the server's cores.
                names += list(BACKING_IMAGES)
            if host_plan.loadgen is not None:
                names += list(LOADGEN_IMAGES)
            defs = [(catalogue or {}).get(n) or image_def(n) for n in dict.fromkeys(names)]
            engine = self.engines[host_plan.name]
            if host_plan.name in self.local:
                self.images[host_plan.name] = {
                    d.name: str((engine.image_inspect(d.ref) or {}).get("Id")) for d in defs
                }
                continue
            shipped = ship_images(source, engine, defs, say)
            self.images[host_plan.name] = {s.name: s.id for s in shipped}

    def shares(self) -> list[ServerShare]:
        """Each server host with its backing host and its share of the load hosts (round robin)."""
        servers = [p for p in self.plan.hosts if p.server is not None]
        loaders = [p for p in self.plan.hosts if p.loadgen is not None]
        backing = next(p for p in self.plan.hosts if p.backing is not None)
        if len(loaders) < len(servers):
            raise UserError(
                f"{self.inventory.source}: {len(servers)} server hosts but {len(loaders)} load generator "
                "host(s): each server host needs at least one load host of its own"
            )
        out: list[ServerShare] = []
        for slot, server in enumerate(servers):
            mine = loaders[slot :: len(servers)]
            hosts = tuple(
                LoadHost(
                    name=p.name,
                    engine=self.engines[p.name],
                    address=p.host.address,
                    cores=worker_cores(p),
                    clock=self.clocks[p.name],
                    local=p.name in self.local,
                )
                for p in mine
            )
            load = DistributedLoad(hosts, port=MASTER_PORT + 2 * slot)
            assert server.server is not None and backing.backing is not None
            # The generator as a whole: every worker's core, on each of its hosts.
            cores = " ".join(f"{p.name}:{p.loadgen.cpuset}" for p in mine if p.loadgen is not None)
            plan = CpuPlan(
                server=server.server,
                loadgen=Placement(cores, float(len(load.workers)), memory="2g"),
                backing=backing.backing,
                host_cores=server.host.cores,
                warnings=self.plan.warnings,
                loadgen_processes=len(load.workers),
            )
            out.append(ServerShare(slot, server, backing, load, plan))
        return out

    def metadata(self) -> dict[str, Any]:
        """run.json's ``metadata.hosts``: every host, its engine's version, its images and its clock."""
        hosts = []
        for host in self.inventory.hosts:
            engine = self.engines[host.name]
            try:
                version = engine.server_version()
            except ServingMatrixError as exc:
                version = f"unknown ({exc})"
            hosts.append(
                {
                    "name": host.name,
                    "docker": host.docker,
                    "address": host.address,
                    "roles": list(host.roles),
                    "docker_version": version,
                    "images": self.images.get(host.name, {}),
                    "clock": self.clocks[host.name].as_dict() if host.name in self.clocks else None,
                    "this_machine": host.name in self.local,
                }
            )
        return {"simulated": self.simulated, "method": self.method, "hosts": hosts}
