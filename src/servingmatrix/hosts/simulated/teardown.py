"""``hosts down``: remove every simulated host, and whatever a crashed ``up`` left half made.

Each step finds what is there rather than trusting the record alone (hosts are also found by their
namespaces' and folders' names), so running it again, or after a crash at any point, is safe. In
order: the containers (while the engine still answers), the engines, then their containerds, then
any process left in a host's namespace; the mounts under the hosts' folders; the links and the
namespaces; a killed shim's socket; the folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated.mountinfo import read_mounts_under
from servingmatrix.hosts.simulated.network import link_exists, remove_network, try_command
from servingmatrix.hosts.simulated.plan import MAIN_LINK, Layout, SimulatedHost
from servingmatrix.hosts.simulated.processes import (
    command_name,
    namespace_id,
    pids_in_namespace,
    signal_pids,
    stop,
)
from servingmatrix.hosts.simulated.state import HostsState

#: How long an engine has to stop its containers and exit, and a containerd to exit, before SIGKILL.
ENGINE_GRACE_S = 20.0
CONTAINERD_GRACE_S = 10.0
#: What is left then is a container whose engine was killed: its first process ignores SIGTERM sent
#: from outside its PID namespace, so SIGKILL follows soon.
ORPHAN_GRACE_S = 2.0
#: containerd's shims put their sockets here whatever containerd's own state folder is.
SHIM_SOCKETS = Path("/run/containerd/s")
#: containerd's namespace of Docker's containers.
CONTAINERD_NAMESPACE = "moby"

_HOST_NETNS = re.compile(r"smhost([0-9]+)")


@dataclass(frozen=True)
class Removed:
    hosts: int
    killed: int
    unmounted: int
    network: int


def found_hosts(layout: Layout, state: HostsState | None) -> list[SimulatedHost]:
    """The hosts the record names, and any other whose namespace or folders are still there."""
    indices = set(range(1, len(state.cpusets) + 1)) if state is not None else set()
    if layout.netns_dir.is_dir():
        indices |= {
            int(m.group(1)) for p in layout.netns_dir.iterdir() if (m := _HOST_NETNS.fullmatch(p.name))
        }
    for root in (layout.run_root, layout.data_root):
        if root.is_dir():
            indices |= {int(p.name) for p in root.iterdir() if p.name.isdigit()}
    return [SimulatedHost(index, "", layout) for index in sorted(indices)]


def remove_containers(host: SimulatedHost) -> None:
    """Remove the engine's containers while it still answers: an engine told to stop only stops them."""
    if not host.socket.exists():
        return
    docker = ["docker", "-H", host.socket_url]
    try:
        listed = subprocess.run(
            [*docker, "ps", "--all", "--quiet"], capture_output=True, text=True, timeout=10, check=False
        )
        ids = listed.stdout.split() if listed.returncode == 0 else []
        if ids:
            subprocess.run([*docker, "rm", "--force", *ids], capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return


def stop_processes(hosts: list[SimulatedHost]) -> int:
    """Stop every process in the hosts' namespaces, all hosts at once: engines first (they stop their
    containers), then containerds, then whatever is left. How many had to be killed."""
    namespaces = [ns for host in hosts if (ns := namespace_id(host.netns_path)) is not None]

    def running(names: set[str] | None) -> list[int]:
        pids = [pid for ns in namespaces for pid in pids_in_namespace(ns)]
        return [pid for pid in pids if names is None or command_name(pid) in names]

    killed = len(stop(running({"dockerd"}), ENGINE_GRACE_S))
    killed += len(stop(running({"containerd"}), CONTAINERD_GRACE_S))
    killed += len(stop(running(None), ORPHAN_GRACE_S))
    left = running(None)
    if left:
        signal_pids(left, signal.SIGKILL)
        raise UserError(f"processes {', '.join(map(str, left))} of the simulated hosts would not exit")
    return killed


def unmount_all(roots: list[Path]) -> int:
    """Unmount everything under ``roots``, deepest first; lazily when a mount is busy."""
    unmounted = 0
    for _ in range(5):
        mounts = read_mounts_under(roots)
        if not mounts:
            return unmounted
        for point in mounts:
            if try_command(["umount", str(point)]) or try_command(["umount", "--lazy", str(point)]):
                unmounted += 1
    left = read_mounts_under(roots)
    if left:
        raise UserError(f"{left[0]} is still mounted; unmount it, then run `servingmatrix hosts down` again")
    return unmounted


def shim_socket(containerd_socket: Path, namespace: str, container_id: str) -> Path:
    """Where containerd's runc shim puts a task's socket: named by a hash of containerd's address, the
    namespace and the task, so one containerd's shims never meet another's."""
    digest = hashlib.sha256(str(containerd_socket / namespace / container_id).encode()).hexdigest()
    return SHIM_SOCKETS / digest


def remove_shim_sockets(host: SimulatedHost) -> None:
    """A shim that was killed leaves its socket; its task's folder in containerd's state names it."""
    tasks = host.containerd_state / "io.containerd.runtime.v2.task"
    if not tasks.is_dir():
        return
    for namespace in tasks.iterdir():
        for task in namespace.iterdir() if namespace.is_dir() else []:
            shim_socket(host.containerd_socket, namespace.name, task.name).unlink(missing_ok=True)


def remove_folders(layout: Layout) -> None:
    roots = [layout.run_root, layout.data_root]
    if read_mounts_under(roots):
        raise UserError(f"something is still mounted under {layout.run_root} or {layout.data_root}")
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():
            raise UserError(f"{root} could not be removed")
        # The project's folder in /run or /var/lib, when nothing else of the project is in it.
        with contextlib.suppress(OSError):
            root.parent.rmdir()


def remove_netns_dir(layout: Layout) -> None:
    """``ip netns add`` made the folder and mounted it on itself; undone when it is empty again."""
    folder = layout.netns_dir
    if not folder.is_dir() or any(folder.iterdir()):
        return
    if folder in read_mounts_under([folder]):
        try_command(["umount", str(folder)])
    with contextlib.suppress(OSError):
        folder.rmdir()


def leftovers(layout: Layout, hosts: list[SimulatedHost]) -> list[str]:
    """What of the simulated hosts is still there: empty after a complete ``down``."""
    left = [str(p) for p in read_mounts_under([layout.run_root, layout.data_root])]
    left += [str(h.netns_path) for h in hosts if h.netns_path.exists()]
    left += [str(layout.switch_netns_path)] if layout.switch_netns_path.exists() else []
    left += [f"link {MAIN_LINK}"] if link_exists(MAIN_LINK) else []
    left += [str(root) for root in (layout.run_root, layout.data_root) if root.exists()]
    return left


def tear_down(layout: Layout, state: HostsState | None) -> Removed:
    hosts = found_hosts(layout, state)
    anything = bool(hosts) or layout.switch_netns_path.exists() or link_exists(MAIN_LINK)
    for host in hosts:
        remove_containers(host)
    killed = stop_processes(hosts)
    unmounted = unmount_all([layout.run_root, layout.data_root])
    network = remove_network(layout, hosts)
    for host in hosts:
        remove_shim_sockets(host)
    remove_folders(layout)
    if state is not None and state.made_netns_dir:
        remove_netns_dir(layout)
    left = leftovers(layout, hosts)
    if left:
        raise UserError(f"simulated hosts partly removed; still there: {', '.join(left)}")
    return Removed(len(hosts) if anything else 0, killed, unmounted, network)
