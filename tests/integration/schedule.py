"""When Locust measures: read from the ``schedule.json`` it writes as each step starts, so a fault
can be injected inside a step's measured window rather than at a guessed time."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path


def measured_window(
    run_root: Path, step: int, done: threading.Event, timeout_s: float = 120.0
) -> tuple[float, float] | None:
    """The (measure_from, end) epoch times of the running session's step ``step`` (0-based).

    None when the run ended (``done``) or the deadline passed before Locust reached that step.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done.is_set():
        for path in (run_root / "sessions").glob("*/schedule.json"):
            try:
                steps = json.loads(path.read_text())["steps"]
            except (OSError, ValueError, KeyError):
                continue
            if len(steps) > step:
                return float(steps[step]["measure_from"]), float(steps[step]["end"])
        time.sleep(0.05)
    return None


def sleep_until(epoch_s: float) -> None:
    time.sleep(max(0.0, epoch_s - time.time()))
