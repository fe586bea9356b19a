"""The open loop's sender, apart from Locust and gevent: when each request goes, what the cap refuses,
and what its latency counts from.

Each arrival is sent when it is due (``ArrivalClock``), each in its own task, whether or not earlier
ones were answered, so a slow server cannot slow the load down and hide its own latency (coordinated
omission). At most the cap's worth are in flight; an arrival beyond it is recorded as a failed
request at its due time. A request's latency counts from when it was due, not when it went out: a
sender that fell behind adds its lateness to the request's wait. ``smlocust`` runs this with gevent's
pool and clock; the harness's unit tests with a fake clock and a fake server. It imports nothing
of the load generator's, so either can load it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

#: What became of an arrival: sent, refused (the cap was reached), or none left (every step is over).
Outcome = Literal["sent", "refused", "over"]


class Arrivals(Protocol):
    """When the next request is due (``smconfig.ArrivalClock``); None once every step is over."""

    def take(self) -> float | None: ...


class InFlight(Protocol):
    """The requests in flight, capped (gevent's ``Pool``): ``full`` at the cap; ``spawn`` runs a
    request in a task of its own."""

    def full(self) -> bool: ...

    def spawn(self, send: Callable[..., object], *args: Any) -> object: ...


class Samples(Protocol):
    """Where each request's timing is recorded (``smconfig.SampleBuffer``)."""

    def add(self, start: float, ms: float, ok: bool, name: str, size: int) -> None: ...


class Named(Protocol):
    """A request to send (``smconfig.Target``): its name is what its samples are recorded under."""

    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=Named)


@dataclass
class OpenLoop(Generic[R]):
    """One open-loop sender: its arrivals' clock, its requests in flight, where refusals are recorded,
    and the clock and the wait it runs on."""

    clock: Arrivals
    in_flight: InFlight
    samples: Samples
    now: Callable[[], float]
    sleep: Callable[[float], object]

    def send_next(self, target: R, send: Callable[[R, float], object]) -> Outcome:
        """Wait until the next arrival is due, then send ``target`` in a task of its own
        (``send(target, due)``), or record it as failed when the cap is reached."""
        due = self.clock.take()
        if due is None:
            return "over"
        delay = due - self.now()
        if delay > 0:
            self.sleep(delay)
        if self.in_flight.full():
            # The offered load was not sent: a failure at its due time, taking no time.
            self.samples.add(due, 0.0, False, target.name, 0)
            return "refused"
        self.in_flight.spawn(send, target, due)
        return "sent"


def from_due(start: float, response_ms: float, due: float) -> tuple[float, float]:
    """A request's start and latency, counted from when it was due: ``start`` (when it went out) and
    ``response_ms`` (from then to its answer) with the sender's lateness, if any, added."""
    return due, response_ms + max(0.0, start - due) * 1000.0
