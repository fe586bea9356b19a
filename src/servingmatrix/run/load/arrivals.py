"""How an open loop's arrivals are spaced in one session, and the seed its gaps are drawn from.

The run's ``arrival_seed`` is one number; each session draws from a seed of its own, made from the run's
and the session's cell (mode, workload, trial), so two sessions never send the same stream and a run
with the same seed sends every stream again. Each load process then draws from that seed and its own
index (``locustfiles/smconfig.py``: ``process_rng``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from servingmatrix.matrix_keys import ARRIVALS_KEY, MAX_ARRIVAL_SEED


@dataclass(frozen=True)
class Arrivals:
    """One session's arrivals: ``uniform`` or ``poisson``, and the seed of its gaps."""

    kind: str = ARRIVALS_KEY.default
    seed: int = 0

    @property
    def random(self) -> bool:
        """Whether the gaps are drawn (and the seed says which ones)."""
        return self.kind != "uniform"

    def env(self) -> dict[str, str]:
        """The locustfile's settings for them."""
        return {"SM_ARRIVALS": self.kind, "SM_ARRIVAL_SEED": str(self.seed)}


def session_seed(run_seed: int, mode: str, workload: str, trial: int) -> int:
    """The seed of one session's arrivals: the run's seed and the cell, hashed (0..MAX_ARRIVAL_SEED)."""
    text = f"{run_seed}|{mode}|{workload}|{trial}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % (MAX_ARRIVAL_SEED + 1)
