"""Making and removing the simulated hosts' network: the switch, the namespaces and their links."""

from __future__ import annotations

import subprocess
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated.commands import Argv, host_network_commands, switch_commands
from servingmatrix.hosts.simulated.plan import MAIN_LINK, SWITCH_NETNS, Layout, SimulatedHost

SYS_NET = Path("/sys/class/net")


def run_command(argv: Argv, timeout_s: float = 30.0) -> None:
    """Run ``argv``; a failure is one line naming the command and its last line of output."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"`{' '.join(argv)}` did not finish within {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        said = [line for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        raise UserError(f"`{' '.join(argv)}` failed: {said[-1] if said else f'exit {proc.returncode}'}")


def make_switch() -> None:
    for argv in switch_commands():
        run_command(argv)


def make_host_network(host: SimulatedHost) -> None:
    for argv in host_network_commands(host):
        run_command(argv)


def link_exists(name: str) -> bool:
    return (SYS_NET / name).exists()


def try_command(argv: Argv) -> bool:
    """Run a removal that may find nothing to remove; whether it removed something."""
    try:
        run_command(argv)
    except UserError:
        return False
    return True


def remove_network(layout: Layout, hosts: list[SimulatedHost]) -> int:
    """Remove the links, every host namespace and the switch; how many of those there were.

    The links first, each deleted by name (which deletes its peer at once): a namespace deleted with
    links still in it is torn down later, in the background, so its links would linger a while."""
    removed = 0
    switch_there = (layout.netns_dir / SWITCH_NETNS).exists()
    for host in hosts:
        if switch_there:
            removed += try_command(["ip", "-n", SWITCH_NETNS, "link", "delete", host.switch_port])
        if (layout.netns_dir / host.netns).exists():
            removed += try_command(["ip", "netns", "delete", host.netns])
    if link_exists(MAIN_LINK):
        removed += try_command(["ip", "link", "delete", MAIN_LINK])
    if switch_there:
        removed += try_command(["ip", "netns", "delete", SWITCH_NETNS])
    return removed
