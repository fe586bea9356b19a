"""Where a run's time went, phase by phase, as ``run.json`` records it under ``timings``.

The run's wall time is split into what measures (the load generator's windows and the reference
generator's), what warms up (their warm-ups), and the rest, the harness's own cost: preparing,
calibrating, starting the backing services and each server with its checks, the generators' own start
and stop, and tearing down. ``overhead_share`` is that rest over the wall time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class SessionPhases(Protocol):
    """One session's seconds, as ``session.SessionTimings`` holds them."""

    backing_s: float
    start_s: float
    warmup_s: float
    measured_s: float
    teardown_s: float
    loadgen_s: float
    reference_s: float
    reference_warmup_s: float
    reference_measured_s: float
    backing_restarted: str


#: The phases, in the order a run goes through them, with what each counts.
PHASES: dict[str, str] = {
    "prepare_s": "leftovers removed, ports checked, cores planned, metadata collected",
    "calibration_s": "the load generator's calibration, start to end",
    "backing_s": "starting the backing services, or checking that the running ones are unchanged",
    "start_s": "starting each server, waiting until it answers, and its conformance check",
    "warmup_s": "the load generator's warm-ups",
    "measured_s": "the load generator's measured windows",
    "loadgen_other_s": "the load generator's container starting, reading its locustfile, stopping",
    "reference_warmup_s": "the reference generator's discarded warm-up runs",
    "reference_measured_s": "the reference generator's measured windows",
    "reference_other_s": "the reference generator's containers starting and stopping",
    "teardown_s": "removing each session's containers",
    "other_s": "the rest: judging and writing cells, the last teardown",
}


@dataclass
class RunPhases:
    """The run-wide phases, timed as the run goes; the sessions' are summed at the end."""

    began: float
    prepare_s: float = 0.0
    calibration_s: float = 0.0

    def as_dict(self, sessions: Sequence[SessionPhases], now: float | None = None) -> dict[str, Any]:
        wall = (time.monotonic() if now is None else now) - self.began
        phases = {
            "prepare_s": self.prepare_s,
            "calibration_s": self.calibration_s,
            "backing_s": sum(s.backing_s for s in sessions),
            "start_s": sum(s.start_s for s in sessions),
            "warmup_s": sum(s.warmup_s for s in sessions),
            "measured_s": sum(s.measured_s for s in sessions),
            "loadgen_other_s": sum(max(0.0, s.loadgen_s - s.warmup_s - s.measured_s) for s in sessions),
            "reference_warmup_s": sum(s.reference_warmup_s for s in sessions),
            "reference_measured_s": sum(s.reference_measured_s for s in sessions),
            "reference_other_s": sum(
                max(0.0, s.reference_s - s.reference_warmup_s - s.reference_measured_s) for s in sessions
            ),
            "teardown_s": sum(s.teardown_s for s in sessions),
        }
        phases["other_s"] = max(0.0, wall - sum(phases.values()))
        return {
            "sessions": len(sessions),
            "backing_starts": sum(1 for s in sessions if s.backing_restarted),
            "wall_s": wall,
            **phases,
            "overhead_share": overhead_share(phases, wall),
        }


def overhead_share(phases: dict[str, float], wall_s: float) -> float | None:
    """The share of ``wall_s`` neither measuring nor warming up; None for a run that took no time."""
    if wall_s <= 0:
        return None
    busy = sum(phases.get(key, 0.0) for key in MEASURING + WARMING)
    return max(0.0, 1.0 - busy / wall_s)


#: The phases that measure, and those that warm up; every other phase is the harness's cost.
MEASURING = ("measured_s", "reference_measured_s")
WARMING = ("warmup_s", "reference_warmup_s")
