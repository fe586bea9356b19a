"""Disturbance: the share of a window the plan's cores spent on work other than the project's own.

Two readings bracket a window: each core's busy time from the host's ``/proc/stat`` (user, nice,
system, irq, softirq and steal; iowait and idle are not busy), and the time the project's own
containers ran on each core, from their cgroups. The difference over the window, per core of a role
(the server's cores, the generator's), is what something else took: a shell, a build, another
benchmark, a hypervisor's other guests (steal).

What each source can see:

- The engine's own processes (dockerd, containerd, each container's shim) work for the containers
  outside their cgroups (carrying their output, answering the API): their threads' time, from
  ``/proc/PID/task``, counts as the project's, put on the core each thread last ran on.
- cgroup v1: ``cpuacct.usage_percpu`` gives each container's time per core, in ns: exact.
- cgroup v2: ``cpu.stat``'s ``usage_usec`` gives a container's total only; it is spread over the cores
  of its cpuset. Exact for a role whose containers' cores are their own (the plan pins them so); an
  estimate where a container's cpuset straddles two roles.
- An engine on another host: its kernel's files cannot be read from here, so the window is "not
  measured" (None), never 0. A container's own ``/proc/stat`` is the host's (not namespaced), so a
  reading made inside one would see the same cores, not a share of them.

The arithmetic here is pure; the readers at the end are small, and each answers None when its source
is missing or unreadable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

PROC_STAT = Path("/proc/stat")
#: The busy columns of a ``cpuN`` line of ``/proc/stat`` (after the name): user, nice, system, then
#: irq, softirq and steal. Idle (3) and iowait (4) are not busy; guest time is already in user.
BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)
#: The roles whose cores are measured, as the cell records them.
ROLES = ("server", "generator")


@dataclass(frozen=True)
class CoreReading:
    """One instant (``t``, epoch seconds): each core's busy time since boot and the project's own
    containers' time on it, in ns."""

    t: float
    busy_ns: Mapping[int, float]
    own_ns: Mapping[int, float]


def parse_proc_stat(text: str, clock_ticks: int) -> dict[int, float]:
    """Each core's busy time in ns from the text of ``/proc/stat`` (``cpuN`` lines; the ``cpu`` total
    is left out). ``clock_ticks`` is the kernel's USER_HZ, the unit of its columns."""
    busy: dict[int, float] = {}
    for line in text.splitlines():
        name, *columns = line.split()
        if not name.startswith("cpu") or name == "cpu" or not name[3:].isdigit():
            continue
        ticks = [int(c) for c in columns]
        busy[int(name[3:])] = sum(ticks[i] for i in BUSY_COLUMNS if i < len(ticks)) * 1e9 / clock_ticks
    return busy


def parse_usage_percpu(text: str) -> dict[int, float]:
    """A cgroup v1 ``cpuacct.usage_percpu``: ns per possible core, in core order."""
    return {core: float(ns) for core, ns in enumerate(int(v) for v in text.split())}


def parse_usage_usec(text: str) -> float | None:
    """A cgroup v2 ``cpu.stat``'s total usage, in ns; None when it has none."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value) * 1000.0
    return None


def parse_cpuset(text: str) -> tuple[int, ...]:
    """A cpuset list ("0-2,5") as its cores; empty for an empty text."""
    cores: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        cores.extend(range(int(first), int(last or first) + 1))
    return tuple(cores)


def spread(total_ns: float, cores: Sequence[int]) -> dict[int, float]:
    """A container's total time spread evenly over its cores: exact for the sum over any set of
    cores that holds all of them (cgroup v2 gives only the total)."""
    if not cores:
        return {}
    return {core: total_ns / len(cores) for core in cores}


def add_up(usages: Iterable[Mapping[int, float]]) -> dict[int, float]:
    """Several containers' time per core, summed core by core."""
    total: dict[int, float] = {}
    for usage in usages:
        for core, ns in usage.items():
            total[core] = total.get(core, 0.0) + ns
    return total


def _at(readings: Sequence[CoreReading], t: float, core: int, own: bool) -> float:
    """A core's counter at ``t``, interpolated between the readings either side (clamped at the ends)."""

    def value(r: CoreReading) -> float:
        return (r.own_ns if own else r.busy_ns).get(core, 0.0)

    before = [r for r in readings if r.t <= t]
    after = [r for r in readings if r.t >= t]
    if not before:
        return value(readings[0])
    if not after:
        return value(readings[-1])
    a, b = before[-1], after[0]
    if b.t == a.t:
        return value(a)
    return value(a) + (t - a.t) / (b.t - a.t) * (value(b) - value(a))


def other_share(
    readings: Sequence[CoreReading], start: float, end: float, cores: Sequence[int]
) -> float | None:
    """The share of ``cores``' time over [start, end] spent on other work than the project's own
    containers: 0 is a quiet window, 1 a window another process took whole.

    None (not measured) when there are no cores, no readings of them, or readings covering less than
    half the window. A small negative difference (the kernel's tick-sampled busy time against the
    cgroups' exact one) counts as none.
    """
    usable = [r for r in readings if all(c in r.busy_ns for c in cores)]
    if not cores or len(usable) < 2 or end <= start:
        return None
    first, last = max(start, usable[0].t), min(end, usable[-1].t)
    span = last - first
    if span < 0.5 * (end - start):
        return None
    other = sum(
        (_at(usable, last, c, own=False) - _at(usable, first, c, own=False))
        - (_at(usable, last, c, own=True) - _at(usable, first, c, own=True))
        for c in cores
    )
    return min(1.0, max(0.0, other / (span * 1e9 * len(cores))))


def window_disturbance(
    readings: Sequence[CoreReading], start: float, end: float, roles: Mapping[str, Sequence[int]]
) -> dict[str, float | None]:
    """Each role's share of [start, end] spent on other work (None: not measured)."""
    return {role: other_share(readings, start, end, cores) for role, cores in roles.items()}


def readings_disturbance(
    readings: Sequence[CoreReading], roles: Mapping[str, Sequence[int]]
) -> dict[str, float | None]:
    """Each role's share of the span the readings cover (a run whose start and end are those of the
    readings themselves: the reference generator's, read while its container ran)."""
    if len(readings) < 2:
        return {role: None for role in roles}
    return window_disturbance(readings, readings[0].t, readings[-1].t, roles)


def worst(disturbance: Mapping[str, Mapping[str, float | None]]) -> tuple[str, str, float] | None:
    """The most disturbed (window kind, role, share) of a cell's measurement; None when none was measured."""
    measured = [
        (kind, role, share)
        for kind, roles in disturbance.items()
        for role, share in roles.items()
        if share is not None
    ]
    return max(measured, key=lambda m: m[2]) if measured else None


def describe(role: str, share: float, kind: str | None = None) -> str:
    """``server core 12% busy with other work`` (during the reference's window, when ``kind`` says so)."""
    during = f" during the {kind} window" if kind and kind != "locust" else ""
    return f"{role} core {share:.0%} busy with other work{during}"


# The readers: each tolerant of a missing source.


class OwnUsage(Protocol):
    """One of the project's containers: its time per core so far (ns), or None when unreadable."""

    def usage_by_core(self) -> dict[int, float] | None: ...


#: The container engine's own processes (``/proc/PID/comm``, which the kernel cuts at 15 characters):
#: they carry the containers' output to their logs and answer the API, outside the containers' cgroups.
ENGINE_DAEMONS = ("dockerd", "containerd")
ENGINE_SHIM = "containerd-shim"


def is_engine_daemon(comm: str) -> bool:
    """Whether a process named ``comm`` is the engine's: dockerd, containerd or a container's shim."""
    return comm in ENGINE_DAEMONS or comm.startswith(ENGINE_SHIM)


def parse_task_stat(text: str) -> tuple[int, int]:
    """A ``/proc/PID/task/TID/stat``'s CPU time (user and system, in clock ticks) and the core it last
    ran on. The name in brackets may hold spaces and brackets, so the fields are counted from its end."""
    fields = text[text.rindex(")") + 1 :].split()
    # After the name: state is field 3, utime 14, stime 15, processor 39 (proc(5)'s numbering).
    return int(fields[11]) + int(fields[12]), int(fields[36])


@dataclass
class EngineDaemons:
    """The engine's own processes' time, put on the core each of their threads last ran on.

    The engine works for the project's containers outside their cgroups: a server that logs every
    request (Werkzeug's development server does, as ``app.run()`` users run it) has dockerd and its
    shim write each line, and at a few thousand requests a second that took a quarter of a core here.
    It is the benchmark's own work, the same in every window, so it counts as the project's, not as
    a disturbance that measuring again could avoid. Each reading adds every thread's time since the
    previous reading to the core it last ran on: exact for a thread that stayed on one core between
    two readings (half a second apart), an approximation for one that moved.
    """

    proc: Path = Path("/proc")
    ticks: int = 0
    _last: dict[tuple[int, int], int] = field(default_factory=dict)
    _by_core: dict[int, float] = field(default_factory=dict)

    def _daemons(self) -> list[int]:
        pids = []
        for entry in self.proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if is_engine_daemon(comm):
                pids.append(int(entry.name))
        return pids

    def usage_by_core(self) -> dict[int, float]:
        """The engine's time per core since the first reading, in ns (empty where ``/proc`` has none)."""
        ns_per_tick = 1e9 / (self.ticks or clock_ticks())
        try:
            pids = self._daemons()
        except OSError:
            return dict(self._by_core)
        for pid in pids:
            try:
                tasks = list((self.proc / str(pid) / "task").iterdir())
            except OSError:
                continue
            for task in tasks:
                try:
                    ticks, core = parse_task_stat((task / "stat").read_text())
                except (OSError, ValueError, IndexError):
                    continue
                key = (pid, int(task.name))
                before = self._last.get(key)
                self._last[key] = ticks
                if before is not None and ticks > before:
                    self._by_core[core] = self._by_core.get(core, 0.0) + (ticks - before) * ns_per_tick
        return dict(self._by_core)


def clock_ticks() -> int:
    """The kernel's USER_HZ, the unit of ``/proc/stat`` (100 almost everywhere)."""
    try:
        return int(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, AttributeError):
        return 100


def read_busy(path: Path = PROC_STAT, ticks: int | None = None) -> dict[int, float] | None:
    """Each core's busy time (ns) from ``/proc/stat``; None where there is none (not Linux)."""
    try:
        busy = parse_proc_stat(path.read_text(), ticks or clock_ticks())
    except (OSError, ValueError):
        return None
    return busy or None


@dataclass
class CoreReader:
    """Reads the host's cores and the project's own containers' time on them, together."""

    own: Sequence[OwnUsage]
    proc_stat: Path = PROC_STAT

    def read(self) -> CoreReading | None:
        """One reading; None when the host or any own container cannot be read (a container that has
        gone would make its time look like other work)."""
        busy = read_busy(self.proc_stat)
        if busy is None:
            return None
        usages = []
        for container in self.own:
            try:
                usage = container.usage_by_core()
            except (OSError, ValueError):
                return None
            if usage is None:
                return None
            usages.append(usage)
        return CoreReading(time.time(), busy, add_up(usages))


def is_quiet(
    busy_before: Mapping[int, float],
    busy_after: Mapping[int, float],
    seconds: float,
    cores: Sequence[int],
    threshold: float,
) -> tuple[bool, int | None, float]:
    """Whether every one of ``cores`` was busy at most ``threshold`` of ``seconds`` between two readings
    of ``/proc/stat`` with none of the project's containers running; also the busiest core and its share."""
    shares = {
        c: max(0.0, (busy_after.get(c, 0.0) - busy_before.get(c, 0.0)) / (seconds * 1e9)) for c in cores
    }
    if not shares or seconds <= 0:
        return True, None, 0.0
    core = max(shares, key=lambda c: shares[c])
    return shares[core] <= threshold, core, min(1.0, shares[core])
