"""Reads a container's CPU time, CPU throttling, memory and major faults from its cgroup, on the host's
clock.

Reading the cgroup files directly is exact and cheap (``docker stats`` rounds and takes a second a
call). The container's cgroup is found from ``/proc/<pid>/cgroup`` of its first process, so both
cgroup v1 and v2, with either cgroup driver, are handled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Sample is named here too: the samplers' callers know it as this module's.
from servingmatrix.engine.usage import Sample as Sample
from servingmatrix.errors import ServingMatrixError
from servingmatrix.run.measure.connections import ConnectionCounter
from servingmatrix.run.measure.disturbance import (
    CoreReader,
    CoreReading,
    parse_cpuset,
    parse_usage_percpu,
    parse_usage_usec,
    spread,
)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PAGE_SIZE = 4096


def _read_kv(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


class UsageReader(Protocol):
    """Where a container's usage is read from: its cgroup files here, or its engine's API."""

    def sample(self) -> Sample: ...

    def process_rss(self) -> list[tuple[int, str, int]]: ...


class ContainerCgroup:
    """The cgroup files of one running container."""

    def __init__(self, pid: int, root: Path = CGROUP_ROOT, proc: Path = Path("/proc")) -> None:
        self.version = 2 if (root / "cgroup.controllers").exists() else 1
        paths: dict[str, str] = {}
        for line in (proc / str(pid) / "cgroup").read_text().splitlines():
            _, controllers, rel = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = rel.lstrip("/")
        if self.version == 2:
            self.cpu = self.cpuacct = self.memory = self.cpuset = root / paths[""]
        else:
            self.cpu = root / "cpu" / paths["cpu"]
            self.cpuacct = root / "cpuacct" / paths["cpuacct"]
            self.memory = root / "memory" / paths["memory"]
            self.cpuset = root / "cpuset" / paths.get("cpuset", paths["cpu"])

    def usage_by_core(self) -> dict[int, float] | None:
        """The container's CPU time so far on each core, ns: per core from cgroup v1's
        ``cpuacct.usage_percpu``; from cgroup v2's total spread over its cpuset (v2 keeps no per-core
        figure; exact over any set of cores holding the whole cpuset). None when unreadable."""
        if self.version == 1:
            return parse_usage_percpu((self.cpuacct / "cpuacct.usage_percpu").read_text())
        total = parse_usage_usec((self.cpu / "cpu.stat").read_text())
        cores = parse_cpuset((self.cpuset / "cpuset.cpus.effective").read_text())
        return spread(total, cores) if total is not None and cores else None

    def sample(self) -> Sample:
        now = time.time()
        if self.version == 2:
            cpu = _read_kv(self.cpu / "cpu.stat")
            mem = _read_kv(self.memory / "memory.stat")
            current = int((self.memory / "memory.current").read_text())
            return Sample(
                now,
                cpu.get("usage_usec", 0) * 1000,
                cpu.get("throttled_usec", 0) * 1000,
                cpu.get("nr_throttled", 0),
                current - mem.get("inactive_file", 0),
                mem.get("pgmajfault"),
            )
        stat = _read_kv(self.cpu / "cpu.stat")
        usage = int((self.cpuacct / "cpuacct.usage").read_text())
        mem = _read_kv(self.memory / "memory.stat")
        current = int((self.memory / "memory.usage_in_bytes").read_text())
        # What `docker stats` shows: usage less the page cache that could be dropped.
        return Sample(
            now,
            usage,
            stat.get("throttled_time", 0),
            stat.get("nr_throttled", 0),
            current - mem.get("total_inactive_file", 0),
            mem.get("total_pgmajfault"),
        )

    @property
    def procs_file(self) -> Path:
        """The file listing every process of the container."""
        return self.memory / "cgroup.procs"

    def process_rss(self) -> list[tuple[int, str, int]]:
        """(pid, command, resident bytes) of every process in the container."""
        procs_file = self.procs_file
        out: list[tuple[int, str, int]] = []
        for raw in procs_file.read_text().split():
            pid = int(raw)
            try:
                pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except (OSError, IndexError, ValueError):
                continue
            out.append((pid, comm, pages * PAGE_SIZE))
        return out


class Sampler:
    """Samples several containers' cgroups every ``interval_s`` in a background thread, and with them
    (given a ``core_reader``) the host's cores and the time the project's containers took on them, and
    (given a ``connection_counter``) how the server's connections are spread over its processes."""

    def __init__(
        self,
        cgroups: Mapping[str, UsageReader],
        interval_s: float = 0.5,
        core_reader: CoreReader | None = None,
        connection_counter: ConnectionCounter | None = None,
    ) -> None:
        self.cgroups = dict(cgroups)
        self.interval_s = interval_s
        self.core_reader = core_reader
        self.connection_counter = connection_counter
        #: (time, {pid: connections}) of the server's processes, as read.
        self.connections: list[tuple[float, dict[int, int]]] = []
        #: The readings of the cores (none when they cannot be read: another host's engine).
        self.cores: list[CoreReading] = []
        self.samples: dict[str, list[Sample]] = {name: [] for name in cgroups}
        self.processes: dict[str, list[tuple[float, list[tuple[int, str, int]]]]] = {n: [] for n in cgroups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cgroup-sampler", daemon=True)

    def _take(self) -> None:
        if self.core_reader is not None:
            reading = self.core_reader.read()
            if reading is not None:
                self.cores.append(reading)
        if self.connection_counter is not None:
            counts = self.connection_counter.read()
            if counts is not None:
                self.connections.append((time.time(), counts))
        for name, cgroup in self.cgroups.items():
            try:
                self.samples[name].append(cgroup.sample())
                self.processes[name].append((time.time(), cgroup.process_rss()))
            except (OSError, ValueError, ServingMatrixError):
                # The container has gone (a fault mid-run), or its engine did not answer this once
                # (a remote one's statistics API): skip this reading, keep what was taken. Raised
                # here, it would end the sampling thread, and every later reading of every role.
                continue

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._take()
            self._stop.wait(self.interval_s)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._take()


def _at(samples: list[Sample], t: float, field: str) -> float:
    """Linear interpolation of a cumulative counter at time ``t``."""
    before = [s for s in samples if s.t <= t]
    after = [s for s in samples if s.t >= t]
    if not before:
        return float(getattr(samples[0], field))
    if not after:
        return float(getattr(samples[-1], field))
    a, b = before[-1], after[0]
    if b.t == a.t:
        return float(getattr(a, field))
    share = (t - a.t) / (b.t - a.t)
    return float(getattr(a, field)) + share * (float(getattr(b, field)) - float(getattr(a, field)))


@dataclass(frozen=True)
class WindowUsage:
    cpu_pct: float
    throttled_s: float
    throttled_periods: int
    mem_bytes_max: int
    mem_bytes_mean: float
    #: Pages faulted back in from disk over the window (see ``Sample.major_faults``); None: unknown.
    major_faults: int | None = None


def window_usage(samples: list[Sample], start: float, end: float) -> WindowUsage | None:
    """CPU (as % of one core), throttling, memory and major faults of a container over [start, end]."""
    if len(samples) < 2 or end <= start:
        return None
    cpu = _at(samples, end, "cpu_ns") - _at(samples, start, "cpu_ns")
    throttled = _at(samples, end, "throttled_ns") - _at(samples, start, "throttled_ns")
    periods = _at(samples, end, "throttled_periods") - _at(samples, start, "throttled_periods")
    inside = [s.mem_bytes for s in samples if start <= s.t <= end] or [samples[-1].mem_bytes]
    return WindowUsage(
        cpu_pct=100.0 * cpu / ((end - start) * 1e9),
        throttled_s=throttled / 1e9,
        throttled_periods=round(periods),
        mem_bytes_max=max(inside),
        mem_bytes_mean=sum(inside) / len(inside),
        major_faults=_faults(samples, start, end),
    )


def _faults(samples: list[Sample], start: float, end: float) -> int | None:
    """Major faults over [start, end]; None when a sample lacks them. A counter that went back (the
    container was made anew under its name) counts from nothing rather than below it."""
    if any(s.major_faults is None for s in samples):
        return None
    return max(0, round(_at(samples, end, "major_faults") - _at(samples, start, "major_faults")))


def combined_usage(usages: list[WindowUsage | None]) -> WindowUsage | None:
    """Several containers' usage over one window as one: CPU, throttling and memory added up.

    A distributed load generator's workers, each on its own core: their CPU against their quotas
    added up says whether the generator as a whole ran out. None when none was measured.
    """
    measured = [u for u in usages if u is not None]
    if not measured:
        return None
    if len(measured) == 1:
        return measured[0]
    return WindowUsage(
        cpu_pct=sum(u.cpu_pct for u in measured),
        throttled_s=sum(u.throttled_s for u in measured),
        throttled_periods=sum(u.throttled_periods for u in measured),
        mem_bytes_max=sum(u.mem_bytes_max for u in measured),
        mem_bytes_mean=sum(u.mem_bytes_mean for u in measured),
        major_faults=_sum_known([u.major_faults for u in measured]),
    )


def _sum_known(counts: list[int | None]) -> int | None:
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
