"""Progress of a long run: cell x of y, the latest throughput, and an ETA.

On a terminal one line is redrawn in place; otherwise (CI, a log file) plain lines are printed.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, total_cells: int, planned_s: float, stream: TextIO | None = None) -> None:
        self.total_cells = total_cells
        self.planned_s = planned_s
        # Standard output as it is when the run starts, not when this module was imported.
        self.stream = stream if stream is not None else sys.stdout
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.done_cells = 0
        self.spent_planned_s = 0.0
        # Sessions on several hosts at once report from their own threads.
        self._lock = threading.RLock()

    def eta_s(self) -> float:
        """Remaining planned time, scaled by how far the real time has run over the plan so far."""
        elapsed = time.monotonic() - self.started
        remaining = max(0.0, self.planned_s - self.spent_planned_s)
        if self.spent_planned_s <= 0:
            return remaining
        return remaining * max(1.0, elapsed / self.spent_planned_s)

    def line(self, text: str) -> None:
        """A message that stays (a warning, a failure)."""
        with self._lock:
            if self.tty:
                self.stream.write("\r\033[K")
            self.stream.write(text + "\n")
            self.stream.flush()

    def extend(self, cells: int, planned_s: float) -> None:
        """More cells, and their planned time, than the run began with (a further round of trials)."""
        with self._lock:
            self.total_cells += cells
            self.planned_s += planned_s

    def spend(self, planned_s: float) -> None:
        """Count ``planned_s`` of the plan as done (a session, whose cells are then reported)."""
        with self._lock:
            self.spent_planned_s += planned_s

    def cell_done(
        self, label: str, throughput: float | None, planned_s: float = 0.0, status: str = "failed"
    ) -> None:
        """A cell written: its throughput, or (None) its ``status`` (failed, disturbed)."""
        with self._lock:
            self.done_cells += 1
            self.spent_planned_s += planned_s
            rate = f"{throughput:,.0f} req/s" if throughput is not None else status
            text = (
                f"cell {self.done_cells}/{self.total_cells}  {label}: {rate}  "
                f"elapsed {_clock(time.monotonic() - self.started)}  ETA {_clock(self.eta_s())}"
            )
            if self.tty:
                self.stream.write("\r\033[K" + text)
                self.stream.flush()
            else:
                self.line(text)

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
