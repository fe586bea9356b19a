"""The record of what ``hosts up`` made, so ``down`` removes exactly that, even after ``up`` crashed.

Written before anything is made: a crash at any point leaves a record of everything that may exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated.plan import DEFAULT_LAYOUT, Layout, SimulatedHost

STATE_VERSION = 1


@dataclass(frozen=True)
class HostsState:
    """The simulated hosts' cpusets (their count is the hosts'), and whether ``up`` created the
    namespaces' folder (``ip netns`` makes it a mount point, to be undone when nothing else is in it)."""

    cpusets: tuple[str, ...]
    made_netns_dir: bool

    def hosts(self, layout: Layout = DEFAULT_LAYOUT) -> list[SimulatedHost]:
        return [SimulatedHost(i + 1, cpuset, layout) for i, cpuset in enumerate(self.cpusets)]


def state_json(state: HostsState) -> str:
    record = {
        "version": STATE_VERSION,
        "cpusets": list(state.cpusets),
        "made_netns_dir": state.made_netns_dir,
    }
    return json.dumps(record, indent=2) + "\n"


def parse_state(where: str, text: str) -> HostsState:
    try:
        record = json.loads(text)
        cpusets = record["cpusets"]
        made = record["made_netns_dir"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{where}: not a simulated hosts state file") from None
    if (
        not isinstance(cpusets, list)
        or not all(isinstance(c, str) for c in cpusets)
        or not isinstance(made, bool)
    ):
        raise UserError(f"{where}: not a simulated hosts state file")
    return HostsState(tuple(cpusets), made)


def write_state(path: Path, state: HostsState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(state_json(state))
    partial.replace(path)


def read_state(path: Path) -> HostsState | None:
    if not path.exists():
        return None
    return parse_state(str(path), path.read_text())
