"""The pure side of the load generator: its settings, its requests, its step schedule and its sample files.

Nothing here imports Locust (which monkey-patches sockets on import), so the harness's unit tests
can exercise it directly; ``smlocust`` wires it into Locust's events and load shape.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import os
import random
import re
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_REQUESTS = 5_000_000
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_OUT = "/out"
MAX_USERS = 10_000
#: Open loop: the highest rate a step may offer, in requests per second (over every process).
MAX_RATE = 100_000
#: Open loop: requests one process keeps in flight at most; an arrival beyond it is recorded as failed.
DEFAULT_MAX_IN_FLIGHT = 1_000
LOADS = ("closed", "open")
#: Open loop: how a sender spaces its arrivals. ``uniform``: evenly, on a clock; ``poisson``: exponential
#: gaps, so the senders together are a Poisson process of the step's rate (the harness's ``arrivals`` key).
ARRIVALS = ("uniform", "poisson")
DEFAULT_ARRIVALS = "uniform"
#: Gated (SM_GO set): how long Locust waits for its go file before it ends without load, seconds; and
#: how often it looks for it.
DEFAULT_GO_TIMEOUT_S = 300.0
GO_POLL_S = 0.005
#: A day: longer than any step the matrix runs, short enough to catch a unit mix-up (ms for s).
MAX_SECONDS = 86_400.0
CSV_HEADER = "start,ms,ok,name,bytes\n"
#: Request names go into CSV cells and result keys unquoted, so they are kept to a safe alphabet.
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class ConfigError(ValueError):
    """A setting the load generator refuses; the message names the offending variable."""


#: The methods a request may use (the harness's own workloads are all GETs).
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: Each entry of SM_REQUESTS: these keys, and optionally the others.
REQUEST_KEYS = ("name", "path", "weight")
OPTIONAL_KEYS = ("method", "headers", "body")


@dataclass(frozen=True)
class Target:
    """One kind of request: the name its samples carry, the path (with query) it asks for, and for a
    user's app its method, headers and body."""

    name: str
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def plain(self) -> bool:
        """A GET without headers or body, sent the cheapest way."""
        return self.method == "GET" and not self.headers and self.body is None


@dataclass(frozen=True)
class Settings:
    """Everything the load generator reads from its environment, checked."""

    steps: tuple[int, ...]
    warmup_s: float
    duration_s: float
    #: The requests to send (SM_REQUESTS) and each one's relative weight, in the same order.
    targets: tuple[Target, ...]
    weights: tuple[int, ...]
    max_requests: int = DEFAULT_MAX_REQUESTS
    timeout_s: float = DEFAULT_TIMEOUT_S
    out_dir: Path = Path(DEFAULT_OUT)
    #: Open loop: the steps are arrival rates, sent on schedule whatever the answers' latency.
    open_loop: bool = False
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    #: Distributed (workers on several hosts): how many worker processes there are in all, so each
    #: takes its share of the open-loop rate and of the request cap. None: the local ``--processes``.
    workers: int | None = None
    #: Open loop: how arrivals are spaced (one of ``ARRIVALS``) and the seed their gaps are drawn from.
    arrivals: str = DEFAULT_ARRIVALS
    arrival_seed: int = 0
    #: Gated: the file whose appearance starts the first step (the harness writes it once the server is
    #: up and checked, so Locust's own start overlaps the server's); None: the steps start at once.
    go_file: Path | None = None
    go_timeout_s: float = DEFAULT_GO_TIMEOUT_S

    @property
    def hold_s(self) -> float:
        """How long each step lasts: its warm-up, then its measured window."""
        return self.warmup_s + self.duration_s

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        load = environ.get("SM_LOAD", "closed").strip()
        if load not in LOADS:
            raise ConfigError(f"SM_LOAD: {load!r} is not a kind of load (allowed: {', '.join(LOADS)})")
        open_loop = load == "open"
        targets, weights = parse_requests(environ.get("SM_REQUESTS"))
        return cls(
            steps=parse_steps(_required(environ, "SM_STEPS"), MAX_RATE if open_loop else MAX_USERS),
            targets=targets,
            weights=weights,
            open_loop=open_loop,
            max_in_flight=parse_count(
                "SM_MAX_IN_FLIGHT", environ.get("SM_MAX_IN_FLIGHT", str(DEFAULT_MAX_IN_FLIGHT))
            ),
            warmup_s=parse_seconds("SM_WARMUP_S", _required(environ, "SM_WARMUP_S"), allow_zero=True),
            duration_s=parse_seconds("SM_DURATION_S", _required(environ, "SM_DURATION_S")),
            max_requests=parse_count(
                "SM_MAX_REQUESTS", environ.get("SM_MAX_REQUESTS", str(DEFAULT_MAX_REQUESTS))
            ),
            timeout_s=parse_seconds(
                "SM_REQUEST_TIMEOUT_S", environ.get("SM_REQUEST_TIMEOUT_S", str(DEFAULT_TIMEOUT_S))
            ),
            out_dir=Path(environ.get("SM_OUT") or DEFAULT_OUT),
            workers=parse_count("SM_WORKERS", environ["SM_WORKERS"]) if environ.get("SM_WORKERS") else None,
            arrivals=parse_arrivals(environ.get("SM_ARRIVALS", DEFAULT_ARRIVALS)),
            arrival_seed=parse_seed(environ.get("SM_ARRIVAL_SEED", "0")),
            go_file=Path(environ["SM_GO"]) if environ.get("SM_GO", "").strip() else None,
            go_timeout_s=parse_seconds(
                "SM_GO_TIMEOUT_S", environ.get("SM_GO_TIMEOUT_S", str(DEFAULT_GO_TIMEOUT_S))
            ),
        )


def _required(environ: Mapping[str, str], key: str) -> str:
    value = environ.get(key)
    if value is None or not value.strip():
        raise ConfigError(f"{key} is not set")
    return value


def parse_steps(raw: str, maximum: int = MAX_USERS) -> tuple[int, ...]:
    """``"1,16,64"`` into user counts (or open-loop rates), each in 1..maximum."""
    parts = [part.strip() for part in raw.split(",")]
    steps: list[int] = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= maximum:
            raise ConfigError(f"SM_STEPS: {part!r} is not a step value in 1..{maximum} (got {raw!r})")
        steps.append(int(part))
    return tuple(steps)


def parse_seconds(key: str, raw: str, *, allow_zero: bool = False) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key}: {raw!r} is not a number of seconds") from None
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_SECONDS):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key}: {raw!r} must be {bound} and at most {MAX_SECONDS:g} seconds")
    return value


def parse_arrivals(raw: str) -> str:
    """``SM_ARRIVALS``: one of ``ARRIVALS``."""
    value = raw.strip()
    if value not in ARRIVALS:
        raise ConfigError(f"SM_ARRIVALS: {raw!r} is not a kind of arrivals (allowed: {', '.join(ARRIVALS)})")
    return value


def parse_seed(raw: str) -> int:
    """``SM_ARRIVAL_SEED``: a non-negative integer."""
    value = raw.strip()
    if not value.isascii() or not value.isdigit():
        raise ConfigError(f"SM_ARRIVAL_SEED: {raw!r} is not a non-negative integer")
    return int(value)


def parse_count(key: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key}: {raw!r} is not an integer") from None
    if value < 1:
        raise ConfigError(f"{key}: {value} must be at least 1")
    return value


def _json(key: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{key}: not valid JSON ({exc})") from None


def parse_requests(raw: str | None) -> tuple[tuple[Target, ...], tuple[int, ...]]:
    """``SM_REQUESTS``: a JSON list of ``{"name", "path", "weight"}`` (and, for a user's app's requests,
    ``"method"``, ``"headers"``, ``"body"``); returns the targets and their weights.

    The harness renders it from its workload registry: a single-endpoint workload is one entry.
    """
    if raw is None or not raw.strip():
        raise ConfigError("SM_REQUESTS is not set (the load generator takes the requests it sends from it)")
    data = _json("SM_REQUESTS", raw)
    if not isinstance(data, list) or not data:
        raise ConfigError("SM_REQUESTS: expected a non-empty JSON list of {name, path, weight} objects")
    targets: list[Target] = []
    weights: list[int] = []
    for index, entry in enumerate(data):
        where = f"SM_REQUESTS[{index}]"
        if (
            not isinstance(entry, dict)
            or not set(REQUEST_KEYS) <= set(entry)
            or not set(entry) <= {*REQUEST_KEYS, *OPTIONAL_KEYS}
        ):
            raise ConfigError(
                f"{where}: expected exactly the keys name, path, weight (and optionally method, headers, "
                f"body); got {json.dumps(entry)[:200]}"
            )
        name, path, weight = entry["name"], entry["path"], entry["weight"]
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(f"{where}.name: {name!r} must be 1-64 of letters, digits, '_', '.', '-'")
        if any(t.name == name for t in targets):
            raise ConfigError(f"{where}.name: {name!r} appears twice")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigError(f"{where}.path: {path!r} must be a path starting with '/'")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ConfigError(f"{where}.weight: {weight!r} must be a positive integer")
        targets.append(Target(name, path, *_sent(where, entry)))
        weights.append(weight)
    return tuple(targets), tuple(weights)


def _sent(where: str, entry: dict[str, Any]) -> tuple[str, dict[str, str], bytes | None]:
    """An entry's method, headers and body, checked (a GET without either by default)."""
    method, headers, body = entry.get("method", "GET"), entry.get("headers", {}), entry.get("body")
    if method not in METHODS:
        raise ConfigError(f"{where}.method: {method!r} is not one of {', '.join(METHODS)}")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ConfigError(f"{where}.headers: expected an object of header names and text values")
    if body is not None and not isinstance(body, str):
        raise ConfigError(f"{where}.body: expected text or null, got {json.dumps(body)[:80]}")
    return method, dict(headers), body.encode() if body is not None else None


def picker(
    targets: tuple[Target, ...], weights: tuple[int, ...], draw: Callable[[], float] = random.random
) -> Callable[[], Target]:
    """The call that names the next request to send, made once per request.

    Everything is worked out here, once: a single request is a constant (no draw); several cost one
    uniform draw and one bisect on the cumulative weights, the draw ``random.choices`` makes.
    """
    if not targets or len(targets) != len(weights):
        raise ConfigError("SM_REQUESTS: every request needs a weight")
    if len(targets) == 1:
        return itertools.repeat(targets[0]).__next__
    cum_weights = tuple(itertools.accumulate(weights))
    total = float(cum_weights[-1])
    last = len(targets) - 1

    def pick() -> Target:
        return targets[bisect.bisect(cum_weights, draw() * total, 0, last)]

    return pick


def budget_per_process(total: int, processes: int) -> int:
    """Each of ``processes`` load processes stops after its share of ``total`` requests."""
    return max(1, math.ceil(total / max(1, processes)))


@dataclass(frozen=True)
class StepWindow:
    """One step in absolute epoch seconds: users start at ``start``, are measured from ``measure_from``."""

    users: int
    start: float
    measure_from: float
    end: float


@dataclass(frozen=True)
class Tick:
    users: int
    #: Whether this tick began a new step (the schedule changed and should be written again).
    advanced: bool


class Stepper:
    """The stepped schedule as a clock-driven state machine, free of Locust.

    Locust polls a load shape about once a second, so a step really ends at the first poll after
    its planned end. Each step's times are therefore taken from the poll that actually began it,
    and the steps not yet begun are re-planned from there: the finished schedule holds what ran.
    """

    def __init__(
        self, steps: tuple[int, ...], warmup_s: float, duration_s: float, *, fixed: bool = False
    ) -> None:
        if not steps:
            raise ConfigError("SM_STEPS: no steps")
        #: Fixed: every window is planned from the first tick and never moved (open loop, where the
        #: senders keep their own clocks from the start); otherwise a step begins at the poll that began it.
        self.fixed = fixed
        self.steps = steps
        self.warmup_s = warmup_s
        self.duration_s = duration_s
        self.index = -1
        self.finished = False
        self.t0: float | None = None
        self.windows: list[StepWindow] = []
        self._began_mono = 0.0

    @property
    def hold_s(self) -> float:
        return self.warmup_s + self.duration_s

    def tick(self, mono: float, epoch: float) -> Tick | None:
        """The step to hold at ``mono`` (monotonic) = ``epoch`` (wall clock); None once all have run."""
        if self.finished:
            return None
        if self.fixed:
            return self._tick_fixed(mono, epoch)
        if self.index >= 0 and mono - self._began_mono < self.hold_s:
            return Tick(self.steps[self.index], advanced=False)
        self.index += 1
        if self.index >= len(self.steps):
            self.finished = True
            return None
        self._began_mono = mono
        if self.t0 is None:
            self.t0 = epoch
        self.windows = self.windows[: self.index] + plan_windows(
            self.steps[self.index :], epoch, self.warmup_s, self.duration_s
        )
        return Tick(self.steps[self.index], advanced=True)

    def _tick_fixed(self, mono: float, epoch: float) -> Tick | None:
        if self.t0 is None:
            self.t0, self._began_mono = epoch, mono
            self.windows = plan_windows(self.steps, epoch, self.warmup_s, self.duration_s)
        index = int((mono - self._began_mono) // self.hold_s)
        if index >= len(self.steps):
            self.finished = True
            return None
        advanced = index != self.index
        self.index = index
        return Tick(self.steps[index], advanced=advanced)

    def spawn_rate(self) -> float:
        """Users per second for the current step: the whole change at once, up or down."""
        previous = self.steps[self.index - 1] if self.index > 0 else 0
        return float(max(self.steps[self.index], previous, 1))

    def schedule(self, processes: int) -> dict[str, Any]:
        """What ``schedule.json`` holds; ``complete`` once the last step has ended."""
        return {
            "t0": self.t0,
            "steps": [
                {"users": w.users, "start": w.start, "measure_from": w.measure_from, "end": w.end}
                for w in self.windows
            ],
            "processes": processes,
            "complete": self.finished,
        }


def process_rng(seed: int, process: int) -> random.Random:
    """The generator of one load process's gaps: the run's seed and the process's index, so that every
    process draws its own stream (the same stream would send in lockstep) and a replay draws them again."""
    # A text seed is hashed with SHA-512 by ``random``: the same on every platform and interpreter run.
    return random.Random(f"{seed}/{process}")


@dataclass
class ArrivalClock:
    """When an open-loop sender sends next: every step's rate, split evenly among ``senders``.

    ``uniform`` arrivals are spaced evenly (a constant rate) from ``start``. ``poisson`` arrivals have
    exponential gaps of mean ``senders / rate``, drawn from ``process_rng(seed, process)``; the
    senders' streams together are then a Poisson process of the step's rate. A gap that would cross
    into the next step is drawn again from that step's start at its rate (exact: the exponential
    distribution is memoryless).

    A sender that falls behind sends at once until it has caught up, and each request's latency is
    counted from its planned time, so the server's slowness is never hidden by the sender waiting for
    it (coordinated omission).
    """

    rates: tuple[int, ...]
    hold_s: float
    start: float
    senders: int = 1
    arrivals: str = DEFAULT_ARRIVALS
    seed: int = 0
    #: This load process's index among the senders (Locust's worker index; 0 when alone).
    process: int = 0
    next_at: float = 0.0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.arrivals not in ARRIVALS:
            raise ConfigError(f"arrivals: {self.arrivals!r} (allowed: {', '.join(ARRIVALS)})")
        self.rng = process_rng(self.seed, self.process)
        self.next_at = self.start if self.arrivals == "uniform" else self._poisson_after(self.start)

    @property
    def end(self) -> float:
        return self.start + len(self.rates) * self.hold_s

    def step_at(self, t: float) -> int | None:
        index = int((t - self.start) // self.hold_s)
        return index if 0 <= index < len(self.rates) else None

    def take(self) -> float | None:
        """The planned time of the next arrival (and move past it); None once every step is over."""
        index = self.step_at(self.next_at)
        if index is None or self.next_at >= self.end:
            return None
        planned = self.next_at
        if self.arrivals == "uniform":
            self.next_at += self.senders / self.rates[index]
        else:
            self.next_at = self._poisson_after(planned)
        return planned

    def _poisson_after(self, t: float) -> float:
        """The next Poisson arrival after ``t``, or a time past the last step."""
        index = self.step_at(t)
        if index is None:
            return t
        # The step is counted here rather than read back from a boundary's time, which rounding could
        # put on either side.
        for step in range(index, len(self.rates)):
            candidate = t + self.rng.expovariate(self.rates[step] / self.senders)
            t = self.start + (step + 1) * self.hold_s
            if candidate < t:
                return candidate
        return t


def plan_windows(
    steps: tuple[int, ...], start: float, warmup_s: float, duration_s: float
) -> list[StepWindow]:
    """Back-to-back windows for ``steps`` beginning at ``start``."""
    hold = warmup_s + duration_s
    return [
        StepWindow(users, start + i * hold, start + i * hold + warmup_s, start + (i + 1) * hold)
        for i, users in enumerate(steps)
    ]


class SampleBuffer:
    """Every request's timing, kept compactly (about 27 bytes a request) until the run ends."""

    def __init__(self) -> None:
        self.starts = array("d")
        self.millis = array("d")
        self.oks = array("b")
        self.name_ids = array("H")
        self.sizes = array("q")
        self.names: list[str] = []
        self._ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.starts)

    def add(self, start: float, ms: float, ok: bool, name: str, size: int) -> None:
        name_id = self._ids.get(name)
        if name_id is None:
            name_id = self._ids[name] = len(self.names)
            self.names.append(name)
        self.starts.append(start)
        self.millis.append(ms)
        self.oks.append(1 if ok else 0)
        self.name_ids.append(name_id)
        self.sizes.append(size)

    def write_csv(self, path: Path, chunk: int = 65_536) -> int:
        """Write every sample to ``path`` atomically; return how many were written.

        Start times keep microseconds and latencies a microsecond too: Locust's own statistics
        round response times into buckets, which is exactly what these files are for avoiding.
        """
        count = len(self)
        names = self.names
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            handle.write(CSV_HEADER)
            for first in range(0, count, chunk):
                last = min(first + chunk, count)
                handle.write(
                    "".join(
                        f"{s:.6f},{m:.3f},{o},{names[n]},{b}\n"
                        for s, m, o, n, b in zip(
                            self.starts[first:last],
                            self.millis[first:last],
                            self.oks[first:last],
                            self.name_ids[first:last],
                            self.sizes[first:last],
                            strict=True,
                        )
                    )
                )
        os.replace(tmp, path)
        return count


def wait_for_go(
    path: Path,
    timeout_s: float,
    sleep: Callable[[float], object],
    clock: Callable[[], float],
    poll_s: float = GO_POLL_S,
) -> bool:
    """Wait (through ``sleep``, so a gevent loop goes on) until ``path`` exists: True; False when it has
    not appeared ``timeout_s`` after the first look."""
    deadline = clock() + timeout_s
    while not path.exists():
        if clock() >= deadline:
            return False
        sleep(poll_s)
    return True


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
