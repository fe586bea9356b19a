"""The inventory ``hosts up`` writes: the main host and every simulated host, as the harness reads it.

Written as text, not dumped, so its shape (and the comment saying what the hosts are) stays exactly
the documented one.
"""

from __future__ import annotations

from servingmatrix.hosts.simulated.plan import MAIN_ADDRESS, MAIN_DOCKER, SimulatedHost


def inventory_text(hosts: list[SimulatedHost], main_cores: int) -> str:
    """``main`` serves and holds the backing services; each simulated host generates load on one core
    (``cpuset``, which of the machine's cores: the hosts share one kernel)."""
    lines = [
        f"# Simulated hosts: {len(hosts)} Docker engines in network namespaces of one kernel "
        "(servingmatrix hosts up).",
        "simulated: true",
        "hosts:",
        "  - name: main",
        f"    docker: {MAIN_DOCKER}",
        f"    address: {MAIN_ADDRESS}",
        f"    cores: {main_cores}",
        "    roles: [server, backing]",
    ]
    for host in hosts:
        lines += [
            f"  - name: {host.name}",
            f"    docker: {host.docker_url}",
            f"    address: {host.address}",
            "    cores: 1",
            f'    cpuset: "{host.cpuset}"',
            "    roles: [loadgen]",
        ]
    return "\n".join(lines) + "\n"
