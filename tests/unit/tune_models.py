"""Models of servers for the tune's unit tests: a ``Prober`` whose configurations have a known capacity,
with noise, errors past a rate, a load generator's ceiling, and an interrupt, all on a fake clock."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from servingmatrix.modes import ModeConfig
from servingmatrix.tune.probe import ProbeResult

SLO_MS = 500.0


@dataclass
class FakeClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ServerModel:
    """A server whose p99 is the objective exactly at its capacity (``slo_ms x rate / capacity``): within
    it up to the capacity, beyond it past."""

    capacity: Callable[[ModeConfig], float]
    #: The capacity of each probe varies by this share (a normal's standard deviation).
    noise: float = 0.0
    seed: int = 1
    #: Above this rate 5% of requests fail (None: none do).
    errors_above: float | None = None
    #: The load generator cannot offer more than this (None: anything).
    generator_ceiling: float | None = None
    #: After this many probes the next one is interrupted (Ctrl-C).
    interrupt_after: int | None = None
    clock: FakeClock = field(default_factory=FakeClock)
    #: The objective the model's p99 meets exactly at the capacity.
    slo_ms: float = SLO_MS
    #: Seconds a probe takes on the clock.
    probe_s: float = 20.0
    probes: list[tuple[str, int, int]] = field(default_factory=list)
    #: The configuration whose probe was interrupted.
    interrupted: str | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def probe(self, config: ModeConfig, rate: int, repeat: int) -> ProbeResult:
        if self.interrupt_after is not None and len(self.probes) >= self.interrupt_after:
            self.interrupted = config.spec
            raise KeyboardInterrupt
        self.probes.append((config.spec, rate, repeat))
        self.clock.now += self.probe_s
        capacity = self.capacity(config) * (1 + self.rng.gauss(0, self.noise) if self.noise else 1)
        if self.generator_ceiling is not None and rate > self.generator_ceiling:
            return ProbeResult(
                config.spec, rate, repeat, "ok", 1.0, 0.0, self.generator_ceiling, True, 50.0, "cpu 95%"
            )
        errors = 0.05 if self.errors_above is not None and rate > self.errors_above else 0.0
        p99 = self.slo_ms * rate / capacity if capacity > 0 else math.inf
        return ProbeResult(
            config.spec,
            rate,
            repeat,
            "ok",
            p99,
            errors,
            float(rate),
            False,
            40.0 * config.counted("processes"),
        )
