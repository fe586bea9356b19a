"""What a tune is asked: the app and workload, the budget, the objective, the modes, the wall time,
and how each capacity is bracketed and each probe measured. Checked once, before anything is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from servingmatrix.analysis.verdict import Objective
from servingmatrix.errors import UserError
from servingmatrix.matrix_keys import MAX_MEMORY_MB, parse_memory
from servingmatrix.modes import Budget
from servingmatrix.spec import shown
from servingmatrix.tune.bracket import BracketSettings

#: Poisson arrivals are tune's default: production traffic comes in bursts, and evenly spaced arrivals
#: never queue below capacity, so a capacity measured on them would run a server at 90% and more of
#: what its workers can do.
TUNE_ARRIVALS = "poisson"
#: The seed of the search's sampler and of the probes' arrivals unless one is given (recorded).
DEFAULT_SEED = 0
DEFAULT_BUDGET_S = 30 * 60.0
DEFAULT_PROBE_S = 10.0
DEFAULT_PROBE_WARMUP_S = 3.0


def memory_mb(memory: str) -> int:
    """A memory limit as Docker takes it (``512m``, ``2g``) in MiB."""
    text = parse_memory("--server-memory", memory)
    number, unit = int(text[:-1]), text[-1]
    return min(MAX_MEMORY_MB, number * (1024 if unit == "g" else 1))


@dataclass(frozen=True)
class TuneRequest:
    """One tune, as asked and checked."""

    #: The mode specs searched (a tunable given in a spec is fixed).
    modes: tuple[str, ...]
    workload: str
    server_cpus: int = 1
    server_memory: str = "2g"
    objective: Objective = field(default_factory=Objective)
    budget_s: float = DEFAULT_BUDGET_S
    seed: int = DEFAULT_SEED
    bracket: BracketSettings = field(default_factory=BracketSettings)
    probe_s: float = DEFAULT_PROBE_S
    probe_warmup_s: float = DEFAULT_PROBE_WARMUP_S
    #: A user's app's folder; None: the bundled app.
    app: str | None = None
    #: The most configurations measured (None: until the budget or the space runs out).
    max_configs: int | None = None
    #: How the probes' arrivals are spaced (a matrix's ``arrivals``).
    arrivals: str = TUNE_ARRIVALS

    @property
    def budget(self) -> Budget:
        return Budget(self.server_cpus, memory_mb(self.server_memory))

    def as_json(self) -> dict[str, Any]:
        """The request as ``tune.json`` records it (and a resumed tune must match)."""
        b = self.bracket
        return {
            "modes": list(self.modes),
            "workload": self.workload,
            "app": self.app,
            "server_cpus": self.server_cpus,
            "server_memory": self.server_memory,
            "slo_p99_ms": self.objective.p99_ms,
            "max_error_rate": self.objective.max_error_rate,
            "arrivals": self.arrivals,
            "budget_s": self.budget_s,
            "seed": self.seed,
            "probe_s": self.probe_s,
            "probe_warmup_s": self.probe_warmup_s,
            "start_rps": b.start_rps,
            "growth": b.growth,
            "precision": b.precision,
            "confirmations": b.confirmations,
            "max_probes": b.max_probes,
            "max_configs": self.max_configs,
        }


def request_differences(recorded: dict[str, Any], request: TuneRequest) -> list[str]:
    """What a tune folder's recorded request has that this one does not, in words (a resumed tune must
    ask the same; the budget and the most configurations may change)."""
    mine = request.as_json()
    free = {"budget_s", "max_configs"}
    return [
        f"{key} {recorded.get(key)!r} there, {value!r} here"
        for key, value in mine.items()
        if key not in free and recorded.get(key) != value
    ]


def parse_budget(text: str) -> float:
    """A wall time such as ``30m``, ``2h`` or ``90s``, in seconds: 1 minute to 24 hours."""
    match = _BUDGET.fullmatch(text.strip())
    if match is None:
        raise UserError(
            f"--budget {shown(text)} is not a wall time; write it with a unit, e.g. 30m, 2h or 90s"
        )
    seconds = float(match.group(1)) * _UNITS_S[match.group(2)]
    if not MIN_BUDGET_S <= seconds <= MAX_BUDGET_S:
        raise UserError(f"--budget {text} is out of range (allowed: 1m to 24h)")
    return seconds


_BUDGET = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(s|m|h)")
_UNITS_S = {"s": 1.0, "m": 60.0, "h": 3600.0}
MIN_BUDGET_S = 60.0
MAX_BUDGET_S = 24 * 3600.0
