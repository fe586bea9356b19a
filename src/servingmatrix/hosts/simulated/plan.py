"""What ``hosts up N`` makes, derived from N and the machine's cores alone: names, addresses, paths.

Pure, so the names and addresses that ``up`` creates and ``down`` removes come from one place, and so
both can be checked without making anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from servingmatrix.errors import UserError

#: At most this many simulated hosts: each holds an engine, and they all share this machine's cores.
MAX_HOSTS = 8
#: The switch's subnet; the main host is .1 and simulated host i is .(i+1).
SUBNET = "10.213.0"
PREFIX_LENGTH = 24
MAIN_ADDRESS = f"{SUBNET}.1"
#: The port every simulated engine listens on, at its own address (plain TCP: it is reachable only
#: from this machine's private switch).
DOCKER_PORT = 2375
#: The network namespace holding the switch (a Linux bridge): its own, empty, firewall lets the
#: simulated hosts reach each other, where the main namespace's may drop bridged traffic.
SWITCH_NETNS = "smswitch"
BRIDGE = "smbr0"
#: The main host's link to the switch, in the main namespace, holding MAIN_ADDRESS; its peer's name in
#: the switch's namespace.
MAIN_LINK = "smmain"
MAIN_PORT = "main"
#: The main host's engine, as every tool of the harness reaches it.
MAIN_DOCKER = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Layout:
    """Where the simulated hosts' files live: state and sockets under ``run_root`` (gone at reboot),
    image layers under ``data_root``; namespaces are named files in ``netns_dir`` (as ``ip netns``)."""

    run_root: Path = Path("/run/servingmatrix/hosts")
    data_root: Path = Path("/var/lib/servingmatrix/hosts")
    netns_dir: Path = Path("/run/netns")

    @property
    def state_file(self) -> Path:
        return self.run_root / "state.json"

    @property
    def switch_netns_path(self) -> Path:
        return self.netns_dir / SWITCH_NETNS


DEFAULT_LAYOUT = Layout()


@dataclass(frozen=True)
class SimulatedHost:
    """One simulated host: simulated host ``index`` (1-based) of the inventory."""

    index: int
    cpuset: str
    layout: Layout = DEFAULT_LAYOUT

    @property
    def name(self) -> str:
        return f"sim{self.index}"

    @property
    def netns(self) -> str:
        return f"smhost{self.index}"

    @property
    def netns_path(self) -> Path:
        return self.layout.netns_dir / self.netns

    @property
    def switch_port(self) -> str:
        """The host's link as the switch's namespace names it; its peer is ``eth0`` in the host."""
        return f"host{self.index}"

    @property
    def address(self) -> str:
        return f"{SUBNET}.{self.index + 1}"

    @property
    def docker_url(self) -> str:
        return f"tcp://{self.address}:{DOCKER_PORT}"

    @property
    def run_dir(self) -> Path:
        return self.layout.run_root / str(self.index)

    @property
    def data_root(self) -> Path:
        return self.layout.data_root / str(self.index)

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def socket_url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def daemon_config(self) -> Path:
        return self.run_dir / "daemon.json"

    @property
    def dockerd_log(self) -> Path:
        return self.run_dir / "dockerd.log"

    @property
    def containerd_config(self) -> Path:
        return self.run_dir / "containerd.toml"

    @property
    def containerd_state(self) -> Path:
        return self.run_dir / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_state / "containerd.sock"

    @property
    def containerd_root(self) -> Path:
        return self.data_root / "containerd"

    @property
    def containerd_log(self) -> Path:
        return self.run_dir / "containerd.log"


def check_host_count(count: int) -> int:
    if not 1 <= count <= MAX_HOSTS:
        raise UserError(f"{count} simulated hosts is out of range (allowed: 1..{MAX_HOSTS})")
    return count


def spread_cpusets(count: int, core_ids: list[int]) -> list[str]:
    """One core per simulated host, round-robin from the last core: the first cores stay the main
    host's (the server under test is pinned from core 0 up)."""
    if not core_ids:
        raise UserError("no CPU cores are available to this process")
    ordered = sorted(core_ids, reverse=True)
    return [str(ordered[i % len(ordered)]) for i in range(count)]


def plan_simulated_hosts(
    count: int, core_ids: list[int], layout: Layout = DEFAULT_LAYOUT
) -> list[SimulatedHost]:
    cpusets = spread_cpusets(check_host_count(count), core_ids)
    return [SimulatedHost(i + 1, cpuset, layout) for i, cpuset in enumerate(cpusets)]
