"""``servingmatrix hosts up|down|status``: simulated hosts on this machine, and the inventory naming them.

``up`` records what it is about to make before making it, starts every host's containerd and engine,
and waits (bounded) until each engine answers at its address; if any does not, it removes everything
it made and fails with one line naming the host and the last line of its log.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from servingmatrix.errors import EngineError, ServingMatrixError, UserError
from servingmatrix.hosts.simulated.engines import (
    CONTAINERD_TIMEOUT_S,
    READY_TIMEOUT_S,
    EngineFailed,
    Started,
    engine_version,
    start_containerd,
    start_dockerd,
    storage_driver,
    wait_answering,
    wait_containerd,
    write_configs,
)
from servingmatrix.hosts.simulated.inventory import inventory_text
from servingmatrix.hosts.simulated.network import link_exists, make_host_network, make_switch
from servingmatrix.hosts.simulated.plan import (
    DEFAULT_LAYOUT,
    MAIN_ADDRESS,
    MAIN_LINK,
    Layout,
    SimulatedHost,
    plan_simulated_hosts,
)
from servingmatrix.hosts.simulated.state import HostsState, read_state, write_state
from servingmatrix.hosts.simulated.teardown import Removed, found_hosts, leftovers, tear_down
from servingmatrix.say import Say

#: What ``up`` runs; each one missing is named on its own.
TOOLS = {
    "dockerd": "Docker Engine's daemon",
    "containerd": "containerd (installed with Docker Engine)",
    "docker": "the Docker command line",
    "ip": "iproute2",
    "nsenter": "util-linux",
}


def check_root(verb: str) -> None:
    if os.geteuid() != 0:
        raise UserError(
            f"`hosts {verb}` needs root: it makes network namespaces, links and Docker engines "
            "(run it as root)"
        )


def check_tools(names: list[str]) -> None:
    for name in names:
        if shutil.which(name) is None:
            raise UserError(f"{name} is not installed (not on PATH); simulated hosts need {TOOLS[name]}")


def check_out(out: Path) -> None:
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give the inventory file to write")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")


def check_not_up(layout: Layout) -> None:
    if layout.state_file.exists() or layout.switch_netns_path.exists() or link_exists(MAIN_LINK):
        raise UserError(
            "simulated hosts are already up (or a crashed `hosts up` left some): "
            "run `servingmatrix hosts down` first"
        )


def hosts_up(count: int, out: Path, say: Say, layout: Layout = DEFAULT_LAYOUT) -> list[SimulatedHost]:
    check_root("up")
    check_tools(list(TOOLS))
    check_out(out)
    check_not_up(layout)
    began = time.monotonic()
    core_ids = sorted(os.sched_getaffinity(0))
    hosts = plan_simulated_hosts(count, core_ids, layout)
    state = HostsState(tuple(h.cpuset for h in hosts), made_netns_dir=not layout.netns_dir.exists())
    write_state(layout.state_file, state)
    try:
        make_switch()
        for host in hosts:
            make_host_network(host)
            write_configs(host)
        start_engines(hosts, say)
        out.write_text(inventory_text(hosts, len(core_ids)))
    except BaseException as exc:
        undo_up(layout, state, exc)
        raise
    took = time.monotonic() - began
    say(f"wrote {out}: main at {MAIN_ADDRESS} and {count} simulated hosts, up in {took:.1f} s")
    return hosts


def start_engines(hosts: list[SimulatedHost], say: Say) -> None:
    """Every containerd first, then every engine, all starting at once; each waited for in turn."""
    began = time.monotonic()
    containerds = [start_containerd(host) for host in hosts]
    deadline = time.monotonic() + CONTAINERD_TIMEOUT_S
    for host, pid in zip(hosts, containerds, strict=True):
        wait_containerd(host, pid, deadline)
    started = [Started(host, pid, start_dockerd(host)) for host, pid in zip(hosts, containerds, strict=True)]
    deadline = time.monotonic() + READY_TIMEOUT_S
    for one in started:
        version = wait_answering(one, deadline)
        host = one.host
        say(
            f"{host.name}: Docker {version} at {host.docker_url}, core {host.cpuset}, "
            f"{storage_driver(host.docker_url)} storage, answering after {time.monotonic() - began:.1f} s"
        )


def undo_up(layout: Layout, state: HostsState, exc: BaseException) -> None:
    """Remove what a failed ``up`` made; a failed engine's logs are kept, and named, first."""
    if isinstance(exc, EngineFailed):
        kept = keep_logs(state.hosts(layout))
        exc.args = (f"{exc}; logs kept in {kept}",)
    try:
        tear_down(layout, state)
    except ServingMatrixError as failed:
        # Said as the failure that stopped ``up`` (an engine's, or what it was given), with both reasons.
        kind = EngineError if isinstance(exc, EngineError) else UserError
        raise kind(f"{exc}; and removing what was made failed: {failed}") from exc


def keep_logs(hosts: list[SimulatedHost]) -> Path:
    kept = Path(tempfile.mkdtemp(prefix="servingmatrix-hosts-logs-"))
    for host in hosts:
        for log in (host.containerd_log, host.dockerd_log):
            if log.exists():
                shutil.copy(log, kept / f"{host.name}-{log.name}")
    return kept


def hosts_down(say: Say, layout: Layout = DEFAULT_LAYOUT) -> Removed:
    check_root("down")
    check_tools(["ip"])
    began = time.monotonic()
    removed = tear_down(layout, read_state(layout.state_file))
    if removed.hosts == 0:
        say("no simulated hosts to remove")
    else:
        say(
            f"removed {plural(removed.hosts, 'simulated host')} in {time.monotonic() - began:.1f} s "
            f"({plural(removed.killed, 'process', 'processes')} killed, "
            f"{plural(removed.unmounted, 'mount')} undone)"
        )
    return removed


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def hosts_status(say: Say, layout: Layout = DEFAULT_LAYOUT) -> None:
    state = read_state(layout.state_file)
    if state is None:
        left = leftovers(layout, found_hosts(layout, None))
        if left:
            say(f"no simulated hosts are up, but these are left: {', '.join(left)} (run `hosts down`)")
        else:
            say("no simulated hosts are up (start some: servingmatrix hosts up N --out FILE)")
        return
    for host in state.hosts(layout):
        version = engine_version(host.docker_url)
        answer = f"Docker {version}" if version is not None else "not answering"
        say(f"{host.name}: {host.docker_url}, core {host.cpuset}: {answer}")
