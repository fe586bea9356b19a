"""The CPU plan: which cores the server, the load generator and the backing services may use.

The server under test gets its own cores first (``--server-cpus``, default 1), the load generator
the next ones, the backing services what is left. On a small machine some roles must share cores;
the plan says so, and the warning travels with every result measured under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from servingmatrix.errors import UserError
from servingmatrix.run.stack.stack import Placement


def _cpuset(cores: list[int]) -> str:
    return ",".join(str(c) for c in cores)


@dataclass(frozen=True)
class CpuPlan:
    server: Placement
    loadgen: Placement
    backing: Placement
    host_cores: int
    warnings: tuple[str, ...]
    #: Locust processes sending the load: as asked, or one per core of the generator.
    loadgen_processes: int = 1

    def as_dict(self) -> dict[str, object]:
        return {
            "host_cores": self.host_cores,
            "server": {"cpuset": self.server.cpuset, "cpus": self.server.cpus},
            "loadgen": {"cpuset": self.loadgen.cpuset, "cpus": self.loadgen.cpus},
            "backing": {"cpuset": self.backing.cpuset, "cpus": self.backing.cpus},
            "loadgen_processes": self.loadgen_processes,
            "warnings": list(self.warnings),
        }


def split_generator_and_backing(rest: list[int]) -> tuple[list[int], list[int], list[str]]:
    """The cores left after the server's, split between the load generator and the backing services:
    ``(loadgen, backing, warnings)``. A single core is shared, with a warning."""
    if len(rest) == 1:
        shared = (
            f"cores shared: the load generator and the backing services (upstream, PostgreSQL) share core "
            f"{rest[0]}; workloads that use the backing services measure them competing with the load"
        )
        return rest, rest, [shared]
    # The backing services get a third of what is left (at least one core), the generator the rest:
    # the generator is what most often runs out first.
    n_backing = max(1, len(rest) // 3)
    return rest[: len(rest) - n_backing], rest[len(rest) - n_backing :], []


def crowded_processes_warning(processes: int, loadgen: list[int]) -> str | None:
    """The warning for more load generator processes than it has cores, or None."""
    if processes <= len(loadgen):
        return None
    return (
        f"load processes share cores: {processes} load generator processes on "
        f"{len(loadgen)} core(s) ({_cpuset(loadgen)}); more processes than cores add no CPU"
    )


def plan_cpus(
    host_cores: list[int], server_cpus: int, server_memory: str = "2g", loadgen_processes: int | None = None
) -> CpuPlan:
    """Split ``host_cores`` between the roles; refuse a server budget the machine cannot give."""
    if server_cpus >= len(host_cores):
        raise UserError(
            f"--server-cpus {server_cpus} leaves no core for the load generator on this "
            f"{len(host_cores)}-core machine (allowed: 1..{max(1, len(host_cores) - 1)})"
        )
    server = host_cores[:server_cpus]
    loadgen, backing, warnings = split_generator_and_backing(host_cores[server_cpus:])
    processes = loadgen_processes or len(loadgen)
    crowded = crowded_processes_warning(processes, loadgen)
    if crowded is not None:
        warnings.append(crowded)
    return CpuPlan(
        server=Placement(_cpuset(server), float(len(server)), memory=server_memory),
        loadgen=Placement(_cpuset(loadgen), float(len(loadgen)), memory="2g"),
        backing=Placement(_cpuset(backing), float(len(backing)), memory="1g"),
        host_cores=len(host_cores),
        warnings=tuple(warnings),
        loadgen_processes=processes,
    )
