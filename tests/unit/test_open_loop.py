"""The open loop's sender on a fake clock against a fake server: requests go when they are due whatever
the server does, a request due during a stall carries its wait in its latency, latency counts from
when a request was due even when the sender was late, and at most the cap's worth are in flight."""

from __future__ import annotations

import ast
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from locustfiles.openloop import OpenLoop, Outcome, from_due
from locustfiles.smconfig import ArrivalClock, SampleBuffer, Settings, Target
from servingmatrix.run.load.loadgen import Load, LocustJob
from servingmatrix.workloads import resolve_workload

ROOT = Path(__file__).resolve().parents[2]
JSON = Target("json", "/json")


def cap_given_by_the_harness() -> int:
    """The cap a load process keeps in an open-loop run: the generator's settings, read from the
    environment the harness gives it."""
    job = LocustJob(resolve_workload("json"), "http://127.0.0.1:18000", (Load(200, "open"),), 1.0, 2.0)
    return Settings.from_env(job.env()).max_in_flight


CAP = cap_given_by_the_harness()


class FakeTime:
    """The sender's clock and wait. ``held`` is a span in which the sender's own loop was busy: a
    wait meant to end inside it ends when it does (the sender falls behind)."""

    def __init__(self, held: tuple[float, float] | None = None) -> None:
        self.t = 0.0
        self.held = held

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        until = self.t + seconds
        if self.held is not None and self.held[0] <= until < self.held[1]:
            until = self.held[1]
        self.t = until


@dataclass
class Request:
    due: float
    sent: float
    answered: float


@dataclass
class FakeServer:
    """Answers each request ``service_s`` after it arrives; one arriving during ``stall`` waits for
    the stall's end first."""

    service_s: float
    stall: tuple[float, float] | None = None

    def answered_at(self, arrived: float) -> float:
        begin = arrived
        if self.stall is not None and self.stall[0] <= arrived < self.stall[1]:
            begin = self.stall[1]
        return begin + self.service_s


@dataclass
class FakeClient:
    """The requests in flight (capped, as gevent's pool) and the client sending them: a spawned request
    goes at once and is timed from when it went out, as Locust times it, then recorded from its due time."""

    time: FakeTime
    server: FakeServer
    cap: int
    samples: SampleBuffer
    requests: list[Request] = field(default_factory=list)
    most_in_flight: int = 0
    #: When each request in flight will be answered, soonest first.
    answers: list[float] = field(default_factory=list)

    def in_flight(self) -> int:
        while self.answers and self.answers[0] <= self.time.now():
            heapq.heappop(self.answers)
        return len(self.answers)

    def full(self) -> bool:
        return self.in_flight() >= self.cap

    def spawn(self, send: Callable[..., object], *args: object) -> object:
        return send(*args)

    def send(self, target: Target, due: float) -> None:
        sent = self.time.now()
        request = Request(due, sent, self.server.answered_at(sent))
        self.requests.append(request)
        heapq.heappush(self.answers, request.answered)
        self.most_in_flight = max(self.most_in_flight, self.in_flight())
        start, ms = from_due(sent, (request.answered - sent) * 1000.0, due)
        self.samples.add(start, ms, True, target.name, 27)


def run(rate: int, hold_s: float, client: FakeClient) -> list[Outcome]:
    """One step of ``rate`` requests a second for ``hold_s``, sent until the clock says it is over."""
    loop: OpenLoop[Target] = OpenLoop(
        ArrivalClock((rate,), hold_s, start=0.0), client, client.samples, client.time.now, client.time.sleep
    )
    outcomes: list[Outcome] = []
    while (outcome := loop.send_next(JSON, client.send)) != "over":
        outcomes.append(outcome)
    return outcomes


def latencies(samples: SampleBuffer) -> list[tuple[float, float, bool]]:
    """(due, latency ms, ok) of each sample, in the order they were recorded."""
    return [(s, m, bool(o)) for s, m, o in zip(samples.starts, samples.millis, samples.oks, strict=True)]


def test_requests_due_during_a_server_stall_go_on_time_and_carry_their_wait() -> None:
    # 10 a second for 3 s; the server answers in 10 ms but stalls for a second, from 0.95 s to 1.95 s
    # (between two arrivals: the clock's sums of 0.1 s need not land on 1.0 exactly).
    stall = (0.95, 1.95)
    time = FakeTime()
    client = FakeClient(time, FakeServer(0.010, stall=stall), CAP, SampleBuffer())
    outcomes = run(10, 3.0, client)
    assert outcomes == ["sent"] * 30
    # Each went out when it was due, answered or not the ones before it.
    assert [r.sent for r in client.requests] == [r.due for r in client.requests]
    recorded = latencies(client.samples)
    assert len(recorded) == 30
    during = [ms for due, ms, _ in recorded if stall[0] <= due < stall[1]]
    # Due at 1.0, 1.1, ... 1.9: each waited for the stall's end, then 10 ms.
    assert during == pytest.approx([960.0, 860.0, 760.0, 660.0, 560.0, 460.0, 360.0, 260.0, 160.0, 60.0])
    # Beside them, the requests outside the stall: 10 ms each.
    outside = [ms for due, ms, _ in recorded if not stall[0] <= due < stall[1]]
    assert len(outside) == 20 and outside == pytest.approx([10.0] * 20)
    assert all(ok for _, _, ok in recorded)


def test_a_late_sender_adds_its_lateness_to_each_request_from_when_it_was_due() -> None:
    # The sender's own loop is busy from 0.95 s to 1.45 s: the requests due then go out at 1.45 s, and
    # the server answers each in 10 ms from when it went out.
    busy = (0.95, 1.45)
    time = FakeTime(held=busy)
    client = FakeClient(time, FakeServer(0.010), CAP, SampleBuffer())
    assert run(10, 3.0, client) == ["sent"] * 30
    late = [r for r in client.requests if r.sent != r.due]
    assert [r.sent for r in late] == [1.45] * 5
    recorded = latencies(client.samples)
    # Recorded at their due time, their latency counts from it: 460 ms for the one due at 1.0.
    assert [due for due, _, _ in recorded] == [r.due for r in client.requests]
    held = [ms for due, ms, _ in recorded if busy[0] <= due < busy[1]]
    assert held == pytest.approx([460.0, 360.0, 260.0, 160.0, 60.0])
    on_time = [ms for due, ms, _ in recorded if not busy[0] <= due < busy[1]]
    assert len(on_time) == 25 and on_time == pytest.approx([10.0] * 25)


def test_from_due_counts_a_late_start_and_never_takes_an_early_one_off() -> None:
    assert from_due(10.25, 30.0, 10.0) == (10.0, 280.0)
    assert from_due(10.0, 30.0, 10.0) == (10.0, 30.0)
    # Sent a hair early (the clock's rounding): the latency is what was measured, not less.
    assert from_due(9.999, 30.0, 10.0) == (10.0, 30.0)


def test_at_most_the_cap_is_in_flight_and_later_arrivals_are_recorded_failed() -> None:
    # 2,000 a second for 3 s at a server that answers at once, but stalls for one second between two
    # arrivals: 2,000 arrive in the stall; the cap's worth go out and wait, the others fail.
    # The sender is also held up for a moment then (1.8 s to 1.85 s): what it refuses late is still
    # recorded at its due time.
    stall = (1.00025, 2.00025)
    time = FakeTime(held=(1.8, 1.85))
    client = FakeClient(time, FakeServer(0.0, stall=stall), CAP, SampleBuffer())
    outcomes = run(2000, 3.0, client)
    assert CAP == 1000
    assert len(outcomes) == 6000
    assert outcomes.count("refused") == 1000 and outcomes.count("sent") == 5000
    assert client.most_in_flight == 1000
    refused = [(due, ms) for due, ms, ok in latencies(client.samples) if not ok]
    assert len(refused) == 1000
    # Each refused arrival is a failure at its due time, in the stall after the cap was reached.
    assert all(ms == 0.0 for _, ms in refused)
    clock = ArrivalClock((2000,), 3.0, start=0.0)
    dues = set(iter(clock.take, None))
    assert len(dues) == 6000 and {due for due, _ in refused} <= dues
    assert all(1.5 <= due < stall[1] for due, _ in refused)
    held = [r for r in client.requests if r.answered == pytest.approx(stall[1])]
    assert len(held) == 1000


def test_without_a_stall_nothing_reaches_the_cap() -> None:
    """The positive control of the cap's test: the same load at a server that never stalls."""
    time = FakeTime()
    client = FakeClient(time, FakeServer(0.0), CAP, SampleBuffer())
    outcomes = run(2000, 3.0, client)
    assert len(outcomes) == 6000 and outcomes.count("refused") == 0
    assert all(ok for _, _, ok in latencies(client.samples))


def test_the_readme_states_the_cap_the_load_generator_keeps() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"At most {CAP:,} requests per process are in flight" in readme


def test_the_locustfile_sends_its_open_loop_through_the_sender_and_times_from_the_due_time() -> None:
    # Without importing Locust: the pool is capped by the settings, the user sends through OpenLoop,
    # and the request event counts each open-loop request's latency with from_due.
    tree = ast.parse((ROOT / "locustfiles" / "smlocust.py").read_text())
    source = ast.unparse(tree)
    assert "pool = gevent.pool.Pool(SETTINGS.max_in_flight)" in source
    assert "OpenLoop(clock, _InFlight.pool, SAMPLES, time.time, gevent.sleep)" in source
    assert "self.open_loop.send_next(target, self._send_due)" in source
    assert "start_time, response_time = from_due(start_time, response_time, planned)" in source
    assert "context={'planned': due}" in source
