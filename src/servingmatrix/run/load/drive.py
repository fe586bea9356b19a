"""One Locust container driven to its end, the cgroups of what it loads sampled the while.

Both the calibration and a measured session drive the generator this way; what they make of its
output differs.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import ContainerSpec, Docker
from servingmatrix.errors import UserError
from servingmatrix.run.load.loadgen import GO_FILE, LoadgenOutput, LoadKind, read_output
from servingmatrix.run.measure.cgroups import ContainerCgroup, Sampler
from servingmatrix.run.measure.connections import ConnectionCounter, url_port
from servingmatrix.run.measure.disturbance import CoreReader, EngineDaemons
from servingmatrix.run.stack.stack import Stack

#: Beyond its planned load time (and the request timeout), how long Locust may take before it is stopped.
LOCUST_GRACE_S = 90.0


@dataclass(frozen=True)
class StartedLocust:
    """A Locust container started and not yet waited for: its name, its output folder, and whether its
    first step waits for the go file."""

    name: str
    out_dir: Path
    gated: bool = False


@dataclass(frozen=True)
class LocustRun:
    """One Locust container's run: its output (or why there is none) and the cgroup samples."""

    output: LoadgenOutput | str
    sampler: Sampler
    applied: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0


#: The backing services' roles: the project's own containers too, whose time on the cores is not
#: other work.
BACKING_ROLES = ("upstream", "postgres")


def sampler_for(pids: dict[str, int]) -> Sampler:
    """A sampler of the cgroups of the containers whose first processes are ``pids``, and of the host's
    cores (those containers being the project's own, their time is not counted as other work)."""
    cgroups = {role: ContainerCgroup(pid) for role, pid in pids.items()}
    return Sampler(cgroups, core_reader=CoreReader([*cgroups.values(), EngineDaemons()]))


def count_server_connections(sampler: Sampler, server_url: str) -> Sampler:
    """``sampler`` reading, beside its cgroups, how the server's connections spread over its processes:
    where the server's cgroup is read on this machine (none through another host's engine)."""
    server = sampler.cgroups.get("server")
    if isinstance(server, ContainerCgroup):
        sampler.connection_counter = ConnectionCounter(server.procs_file, url_port(server_url))
    return sampler


def applied_limits(info: dict[str, Any]) -> dict[str, Any]:
    """The cpuset, CPU quota, memory and pids limits a container's engine applied (its inspection)."""
    host = info.get("HostConfig") or {}
    return {
        "cpuset": host.get("CpusetCpus"),
        "cpus": (host.get("NanoCpus") or 0) / 1e9,
        "memory_bytes": host.get("Memory"),
        "pids_limit": host.get("PidsLimit"),
    }


@dataclass
class Driver:
    docker: Docker
    request_timeout_s: float
    #: The unit tests replace the cgroups with a fake.
    new_sampler: Callable[[dict[str, int]], Sampler] = sampler_for

    def pid_of(self, name: str) -> int | None:
        """The first process of a running container; None when it is not running."""
        info = self.docker.container_inspect(name)
        if info is None or not info["State"].get("Running"):
            return None
        return int(info["State"]["Pid"])

    def backing_pids(self, stack: Stack, exclude: Mapping[str, int] | None = None) -> dict[str, int]:
        """The running backing services' first processes on this machine's engine (none of another
        host's): the project's own containers, sampled so that their time is not taken for other work."""
        pids: dict[str, int] = {}
        for role in BACKING_ROLES:
            if (exclude and role in exclude) or stack.engine(role) is not self.docker:
                continue
            pid = self.pid_of(stack.name(role))
            if pid is not None:
                pids[role] = pid
        return pids

    def applied(self, stack: Stack) -> dict[str, Any]:
        """The CPU and memory limits Docker actually applied, read back from each container."""
        applied: dict[str, Any] = {}
        for role in ("server", "upstream", "postgres", "loadgen"):
            info = stack.engine(role).container_inspect(stack.name(role))
            if info is None:
                continue
            applied[role] = applied_limits(info)
        return applied

    def drive(
        self,
        stack: Stack,
        spec: ContainerSpec,
        pids: dict[str, int | None],
        out_dir: Path,
        load_s: float,
        kind: LoadKind = "closed",
    ) -> LocustRun:
        """Start a Locust container, sample it and ``pids`` until it ends (or overruns); read its output."""
        return self.run_steps(stack, self.start(stack, spec, out_dir), pids, load_s, kind)

    def start(self, stack: Stack, spec: ContainerSpec, out_dir: Path) -> StartedLocust:
        """Start a Locust container writing into ``out_dir`` (emptied first); a gated one (``SM_GO`` in
        its environment) waits for ``run_steps`` to start its first step."""
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        name = stack.name("loadgen")
        stack.started.append(name)
        self.docker.run_detached(spec)
        return StartedLocust(name, out_dir, "SM_GO" in spec.env)

    def run_steps(
        self,
        stack: Stack,
        started: StartedLocust,
        pids: dict[str, int | None],
        load_s: float,
        kind: LoadKind = "closed",
    ) -> LocustRun:
        """Sample the started Locust container and ``pids`` from its go until it ends (or overruns);
        read its output."""
        name, out_dir = started.name, started.out_dir
        watched = {role: pid for role, pid in pids.items() if pid is not None}
        loadgen_pid = self.pid_of(name)
        if loadgen_pid is not None:
            watched["loadgen"] = loadgen_pid
        watched.update(self.backing_pids(stack, exclude=watched))
        applied = self.applied(stack)
        sampler = count_server_connections(self.new_sampler(watched), stack.server_url).start()
        if started.gated:
            (out_dir / GO_FILE).touch()
        began = time.monotonic()
        budget = load_s + LOCUST_GRACE_S + self.request_timeout_s
        try:
            # One blocking wait on the engine, not a poll: the end is seen when it happens, and no
            # process starts every half second beside the measurement.
            exit_code = self.docker.wait_exit(name, budget)
            if exit_code is None and self.pid_of(name) is not None:
                self.docker.remove_containers([name])
                return LocustRun("the load generator overran its time budget and was stopped", sampler)
        finally:
            sampler.stop()
        elapsed = time.monotonic() - began
        try:
            output = read_output(out_dir, kind)
        except UserError as exc:
            logs = self.docker.logs(name, tail=5)
            last = logs.splitlines()[-1] if logs else "(none)"
            reason = f"{exc} (locust exit code {exit_code}; last log line: {last})"
            return LocustRun(reason, sampler, applied, elapsed)
        return LocustRun(output, sampler, applied, elapsed)
