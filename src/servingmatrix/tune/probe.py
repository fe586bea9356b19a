"""One probe: a configuration offered one arrival rate (open loop) for a short window, and whether it
stayed within the objective there.

The measuring side is a ``Prober``: the runner drives it for real (``runner_prober``), a model of a
server in the unit tests. A probe the load generator bounded says nothing about the server: its
offered rate was not really offered, and its latency holds the generator's own queueing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from servingmatrix.analysis.verdict import Objective
from servingmatrix.modes import ModeConfig

#: How a probe's cell ended: measured, failed (the stack never took the load), or disturbed (other
#: work on its cores through every re-measurement).
ProbeStatus = Literal["ok", "failed", "disturbed"]
PROBE_STATUSES: tuple[ProbeStatus, ...] = ("ok", "failed", "disturbed")

#: A probe's judgement: within the objective, beyond it, or bounded by the load generator (no evidence).
Outcome = Literal["within", "beyond", "generator-bound"]
OUTCOMES: tuple[Outcome, ...] = ("within", "beyond", "generator-bound")


@dataclass(frozen=True)
class ProbeResult:
    """What one probe measured."""

    spec: str
    #: The arrival rate offered, requests per second.
    rate: int
    #: Which trial at this rate (1 first; the final rate is confirmed with more).
    repeat: int
    status: ProbeStatus
    p99_ms: float | None = None
    error_rate: float | None = None
    #: The rate achieved (answers a second, failures left out).
    throughput_rps: float | None = None
    generator_bound: bool = False
    #: The server container's memory in the window (less reclaimable page cache).
    server_mem_mb: float | None = None
    #: Why it failed or was disturbed, or why the generator bounded it.
    reason: str | None = None


class Prober(Protocol):
    """Measures one configuration at one offered rate."""

    def probe(self, config: ModeConfig, rate: int, repeat: int) -> ProbeResult: ...


def judge_probe(result: ProbeResult, objective: Objective) -> tuple[Outcome, str]:
    """Whether the probe stayed within ``objective``, and why, in words."""
    if result.generator_bound:
        why = f": {result.reason}" if result.reason else ""
        return "generator-bound", f"the load generator could not offer {result.rate} req/s{why}"
    if result.status == "failed":
        return "beyond", f"failed: {result.reason or 'no reason recorded'}"
    if result.status == "disturbed":
        # Counted against the configuration: it can only lower its capacity, never raise it.
        return "beyond", f"disturbed by other work on its cores: {result.reason or 'no reason recorded'}"
    errors = result.error_rate or 0.0
    if errors > objective.max_error_rate:
        return "beyond", f"{errors:.1%} errors, above {objective.max_error_rate:.1%}"
    if result.p99_ms is None:
        return "beyond", "no successful answer, so no p99"
    if result.p99_ms > objective.p99_ms:
        return "beyond", f"p99 {result.p99_ms:.0f} ms, above {objective.p99_ms:g} ms"
    return "within", f"p99 {result.p99_ms:.0f} ms, {errors:.1%} errors"
