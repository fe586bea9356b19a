"""The verb of simulated hosts: hosts up|down|status."""

from __future__ import annotations

import argparse
from pathlib import Path

from servingmatrix.cli.output import say
from servingmatrix.cli.verb import Argument, Verb
from servingmatrix.hosts.simulated.plan import MAX_HOSTS
from servingmatrix.spec import parse_int, shown


def host_count(text: str) -> int:
    value = parse_int(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not an integer (allowed: 1..{MAX_HOSTS})")
    if not 1 <= value <= MAX_HOSTS:
        raise argparse.ArgumentTypeError(f"{value} is out of range (allowed: 1..{MAX_HOSTS})")
    return value


def cmd_hosts_up(args: argparse.Namespace) -> int:
    from servingmatrix.hosts.simulated.hosts import hosts_up

    hosts_up(args.count, Path(args.out), say)
    return 0


def cmd_hosts_down(_args: argparse.Namespace) -> int:
    from servingmatrix.hosts.simulated.hosts import hosts_down

    hosts_down(say)
    return 0


def cmd_hosts_status(_args: argparse.Namespace) -> int:
    from servingmatrix.hosts.simulated.hosts import hosts_status

    hosts_status(say)
    return 0


HOSTS = Verb(
    "hosts",
    "simulated hosts: Docker engines in network namespaces of this machine (root)",
    actions=(
        Verb(
            "up",
            "start N engines, each at its own address, and write the inventory",
            cmd_hosts_up,
            (
                Argument(
                    ("count",), f"how many simulated hosts, 1..{MAX_HOSTS}", metavar="N", type=host_count
                ),
                Argument(("--out",), "the inventory YAML to write", metavar="FILE", required=True),
            ),
        ),
        Verb(
            "down",
            "remove the simulated hosts and everything they made (also after a failed `up`)",
            cmd_hosts_down,
        ),
        Verb("status", "each simulated host's address, core and whether it answers", cmd_hosts_status),
    ),
)
