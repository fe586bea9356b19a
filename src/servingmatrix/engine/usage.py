"""A container's resource counters at one instant: cumulative CPU time and throttling, memory in use,
and the pages its processes faulted back in from disk (major faults).

Two sources fill them alike: the cgroup files on the host (``run/measure/cgroups.py``), exact and cheap where
the engine is local, and the engine's stats API (``engine/docker.py``), which is what an engine on another
machine offers. Both count the same kernel figures, so either feeds the same window arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sample:
    """Counters read at ``t`` (epoch seconds on the host's clock); CPU and throttled time in ns."""

    t: float
    cpu_ns: int
    throttled_ns: int
    throttled_periods: int
    mem_bytes: int
    #: Major page faults so far: pages read back from disk, the sign of a container thrashing at its
    #: memory limit (the kernel drops its code and file pages, and they fault straight back in). None:
    #: the source did not say.
    major_faults: int | None = None


def major_faults(stats: Mapping[str, Any]) -> int | None:
    """The memory statistics' major faults (cgroup v1 names them ``total_pgmajfault``, v2 ``pgmajfault``);
    None when they hold neither."""
    for key in ("total_pgmajfault", "pgmajfault"):
        count = stats.get(key)
        if isinstance(count, int) and not isinstance(count, bool):
            return count
    return None


def memory_in_use(usage: int, stats: Mapping[str, Any]) -> int:
    """Memory as ``docker stats`` shows it: usage less the page cache that could be dropped (cgroup v1
    names it ``total_inactive_file``, v2 ``inactive_file``)."""
    for key in ("total_inactive_file", "inactive_file"):
        inactive = stats.get(key)
        if isinstance(inactive, int):
            return usage - inactive if inactive < usage else usage
    return usage


def sample_from_stats(stats: Mapping[str, Any], t: float) -> Sample | None:
    """The counters in one answer of the engine's stats API (``GET /containers/{id}/stats``); None when
    it holds none (the container is not running: the engine then answers with empty sections)."""
    cpu = stats.get("cpu_stats") or {}
    memory = stats.get("memory_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage")
    usage = memory.get("usage")
    if not isinstance(total, int) or not isinstance(usage, int):
        return None
    throttling = cpu.get("throttling_data") or {}
    memory_stats = memory.get("stats") or {}
    return Sample(
        t,
        total,
        int(throttling.get("throttled_time") or 0),
        int(throttling.get("throttled_periods") or 0),
        memory_in_use(usage, memory_stats),
        major_faults(memory_stats),
    )
