"""Before a run measures on one machine: the wait for quiet cores, then the ``machine-busy`` judgement.

The wait looks at the plan's server and generator cores once a second (``QUIET_PROBE_S``) until each
is busy at most ``DISTURBED_SHARE`` of that second with other work and, unless told otherwise, the
1-minute load average is within ``machine-busy``'s threshold (it lags a build that just ended by a
minute or so); it goes on with a warning when they never are (the machine is shared). ``machine-busy``
is judged after the wait, so the project's own build is not taken for other work.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from servingmatrix.flags import DISTURBED_SHARE, Flag
from servingmatrix.run.judge import BUSY_LOAD_PER_CORE, machine_busy
from servingmatrix.run.measure.disturbance import is_quiet
from servingmatrix.run.plan.cpuplan import CpuPlan
from servingmatrix.run.session import role_cores
from servingmatrix.say import Say

#: Each look at the cores while waiting for them to be quiet lasts this long.
QUIET_PROBE_S = 1.0


def load_average() -> list[float] | None:
    """The host's 1, 5 and 15 minute load averages: other work on the machine shows here."""
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def load_text(load: list[float] | None, host_cores: int) -> str:
    """The 1-minute load average against ``machine-busy``'s threshold, as the wait for quiet says it."""
    limit = BUSY_LOAD_PER_CORE * host_cores
    return f"the load average is {load[0]:.1f} (above {limit:g})" if load else "the load average is unknown"


@dataclass(frozen=True)
class QuietWait:
    """How a run settles before it calibrates: how long it waits at most (0: not at all), whether the
    wait waits for the load average too (not a tune's probes, each a run whose load average is the
    last probe's), how it reads each core's busy time, and where it says what it waits for."""

    wait_s: float
    wait_for_load: bool
    read_busy: Callable[[], dict[int, float] | None]
    say: Say

    def settle(self, plan: CpuPlan, wait: bool) -> Flag | None:
        """The wait (when there is anything to measure), then ``machine-busy`` judged and said; the
        warning, or None on a quiet machine."""
        if wait:
            self.wait_quiet(plan)
        busy = machine_busy(load_average(), plan.host_cores)
        if busy is not None:
            self.say(f"warning: {busy.message}")
        return busy

    def wait_quiet(self, plan: CpuPlan) -> None:
        """Wait (at most ``wait_s``) for the plan's cores to be quiet, and the load average within its
        threshold when asked, saying so; go on with a warning when they never are."""
        if self.wait_s <= 0:
            return
        cores = sorted({c for role in role_cores(plan).values() for c in role})
        deadline = time.monotonic() + self.wait_s
        said = False
        while True:
            before, t0 = self.read_busy(), time.monotonic()
            time.sleep(QUIET_PROBE_S)
            after, seconds = self.read_busy(), time.monotonic() - t0
            if before is None or after is None:
                return  # the cores cannot be read here: nothing to wait for
            quiet, core, share = is_quiet(before, after, seconds, cores, DISTURBED_SHARE.value)
            load = load_average() if self.wait_for_load else None
            busy = None if not quiet else machine_busy(load, plan.host_cores)
            if quiet and busy is None:
                if said:
                    self.say("the cores are quiet: calibrating")
                return
            why = (
                f"core {core} is {share:.0%} busy with other work"
                if not quiet
                else load_text(load, plan.host_cores)
            )
            if time.monotonic() >= deadline:
                self.say(
                    f"warning: after {self.wait_s:.0f} s {why}; going on "
                    "(disturbed windows will be measured again)"
                )
                return
            if not said:
                self.say(f"waiting for the cores to be quiet: {why} (at most {self.wait_s:.0f} s) ...")
                said = True
