"""A Locust step's window against its answers' latency: one too short for them is measured again, longer.

A step counts the answers that complete inside its window. When the answers take longer than the
window (64 users queued on one worker that answers a whole batch at once, as gunicorn's tornado worker
does with a WSGI app: 64 answers every 6.4 s on ``io[ms=100]``), a short window holds one batch, or
none, and its count says nothing of the server's rate. Such a step is measured again, once, with its
warm-up and window grown from the latency it showed, up to a bound; what it then gives is its figure.

Closed loops only: an open loop offered more than the server answers queues without end, and a
longer window only lets its answers take longer (its figure is already that it did not keep up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from servingmatrix.results.cell import CellRecord

#: A window shorter than this many of the step's p99 latencies is too short for its answers.
MIN_WINDOW_LATENCIES = 1.0
#: A step measured again gets a window of this many of its p99 latencies...
GROWN_WINDOW_LATENCIES = 3.0
#: ...after a warm-up of at least this many.
GROWN_WARMUP_LATENCIES = 1.0
#: How often Locust asks the load shape which step to hold, seconds: a closed step lasts until the
#: first poll at or after its warm-up and window, so a 5.5 s step holds the load for 6 s.
LOCUST_SHAPE_POLL_S = 1.0
#: The longest window and warm-up a step is grown to, seconds.
MAX_STEP_WINDOW_S = 60.0
MAX_STEP_WARMUP_S = 30.0


@dataclass(frozen=True)
class StepWindow:
    """A step's warm-up and measured window, seconds."""

    warmup_s: float
    duration_s: float

    @property
    def step_s(self) -> float:
        return self.warmup_s + self.duration_s

    @property
    def held_s(self) -> float:
        """How long Locust holds the step's load: its warm-up and window up to the next shape poll."""
        return math.ceil(self.step_s / LOCUST_SHAPE_POLL_S - 1e-9) * LOCUST_SHAPE_POLL_S


def latency_beyond_window(cell: CellRecord) -> float | None:
    """The latency (s) that ``cell``'s window was too short for; None when the window held its answers.

    An ``ok`` cell of a closed loop whose p99 is above ``MIN_WINDOW_LATENCIES`` windows; one in which no
    request completed while its server lived, whose answers took at least the whole step (warm-up and
    window).
    """
    window = cell.window
    if window is None or window.seconds <= 0 or cell.load != "closed":
        return None
    if cell.ok:
        p99_ms = cell.latency_ms.p99
        if p99_ms is None or not math.isfinite(p99_ms):
            return None
        latency = p99_ms / 1000.0
        return latency if latency > MIN_WINDOW_LATENCIES * window.seconds else None
    if cell.status == "failed" and cell.requests == 0 and cell.server.exit is None:
        return window.warmup_s + window.seconds
    return None


def grown_window(latency_s: float, given: StepWindow) -> StepWindow | None:
    """The warm-up and window for a step whose answers took ``latency_s``: ``GROWN_WINDOW_LATENCIES`` of
    them after ``GROWN_WARMUP_LATENCIES``, never shorter than ``given``, each up to its bound. None
    when that is no longer than ``given`` (already at the bounds): measuring again would tell nothing."""
    warmup = min(MAX_STEP_WARMUP_S, max(given.warmup_s, GROWN_WARMUP_LATENCIES * latency_s))
    duration = min(MAX_STEP_WINDOW_S, max(given.duration_s, GROWN_WINDOW_LATENCIES * latency_s))
    grown = StepWindow(warmup, duration)
    return grown if grown.duration_s > given.duration_s else None
