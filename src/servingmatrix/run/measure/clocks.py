"""The offset between the harness's clock and each engine's host's clock, measured, not assumed.

A distributed load generator stamps every request on the clock of the host that sent it, and its
master stamps the steps on its own. To put them on one clock, the harness asks each engine for its
time (``docker info``'s SystemTime) between two readings of its own clock, a few times, and keeps
the reading with the shortest round trip: the engine's time was read within half of it. An offset no
larger than that uncertainty cannot be told from zero and is not applied (on simulated hosts of one
kernel it is always that); every offset is recorded with its uncertainty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: Readings per engine; the one with the shortest round trip is kept.
READINGS = 5


class Clocked(Protocol):
    def system_time(self) -> float: ...


@dataclass(frozen=True)
class ClockOffset:
    """How far a host's clock is ahead of the harness's (seconds), give or take ``uncertainty_s``."""

    offset_s: float
    uncertainty_s: float

    @property
    def applied_s(self) -> float:
        """The offset used to move that host's times onto the harness's clock: zero when it is no
        larger than the uncertainty of its measurement."""
        return self.offset_s if abs(self.offset_s) > self.uncertainty_s else 0.0

    def to_local(self, t: float) -> float:
        """A time read on that host's clock, on the harness's."""
        return t - self.applied_s

    def as_dict(self) -> dict[str, float]:
        return {
            "offset_ms": round(self.offset_s * 1000.0, 3),
            "uncertainty_ms": round(self.uncertainty_s * 1000.0, 3),
            "applied_ms": round(self.applied_s * 1000.0, 3),
        }


#: The harness's own clock: the one every sample, window and cgroup reading is put on.
LOCAL = ClockOffset(0.0, 0.0)


def measure_offset(
    engine: Clocked, readings: int = READINGS, now: Callable[[], float] = time.time
) -> ClockOffset:
    """The offset of ``engine``'s clock from ``now``'s, from the reading with the shortest round trip."""
    best: ClockOffset | None = None
    for _ in range(max(1, readings)):
        before = now()
        remote = engine.system_time()
        after = now()
        reading = ClockOffset(remote - (before + after) / 2.0, (after - before) / 2.0)
        if best is None or reading.uncertainty_s < best.uncertainty_s:
            best = reading
    assert best is not None
    return best
