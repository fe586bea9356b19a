"""The load generator's Locust side: the user base class, the stepped load shape, the recorder.

Settings, the requests to send included, come from the environment (see ``smconfig``). With
``--processes N`` Locust imports the locustfile once and then forks N workers: the master runs the
shape and writes ``schedule.json``, each worker sends the requests and writes its own
``samples-<pid>.csv``. Without ``--processes`` the single process does both.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]  # gevent ships no type information
import gevent.pool  # type: ignore[import-untyped]
import geventhttpclient.client
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError, HTTPSocketPoolResponse
from locust import FastHttpUser, LoadTestShape, constant, events
from locust.env import Environment
from locust.event import EventHook
from locust.exception import StopUser
from locust.runners import STATE_CLEANUP, STATE_STOPPED, STATE_STOPPING, MasterRunner, WorkerRunner
from openloop import OpenLoop, from_due
from smconfig import (
    ArrivalClock,
    ConfigError,
    SampleBuffer,
    Settings,
    Stepper,
    Target,
    budget_per_process,
    wait_for_go,
    write_json_atomic,
)

logger = logging.getLogger("smlocust")

#: How long the master waits for its forked workers to write their samples (millions take seconds).
WORKER_FLUSH_TIMEOUT_S = 300.0


def _load_settings() -> Settings:
    try:
        return Settings.from_env(os.environ)
    except ConfigError as exc:
        # One line naming the variable, rather than a traceback from inside Locust's loader.
        raise SystemExit(f"smlocust: {exc}") from None


SETTINGS = _load_settings()
SAMPLES = SampleBuffer()


class _Budget:
    """The request cap of this process: SM_MAX_REQUESTS shared evenly between the workers."""

    limit = SETTINGS.max_requests
    warned = False

    @classmethod
    def exhausted(cls) -> bool:
        if len(SAMPLES) < cls.limit:
            return False
        if not cls.warned:
            cls.warned = True
            logger.warning("SM_MAX_REQUESTS reached (%d in this process): users stop", cls.limit)
        return True


class _InFlight:
    """Open loop: the requests this process has sent and not yet had answered, capped."""

    pool = gevent.pool.Pool(SETTINGS.max_in_flight)
    warned = False

    @classmethod
    def refused(cls) -> None:
        """An arrival beyond the cap was recorded as a failure (``OpenLoop``); said once."""
        if not cls.warned:
            cls.warned = True
            logger.warning("open loop: %d requests in flight, later arrivals fail", SETTINGS.max_in_flight)


def _senders(runner: object) -> int:
    """How many open-loop senders share the offered rate: one per load process, on every host."""
    if SETTINGS.workers is not None:
        return SETTINGS.workers
    if isinstance(runner, WorkerRunner):
        options = runner.environment.parsed_options
        return max(1, int(getattr(options, "processes", 0) or 1))
    return 1


def _process_index(runner: object) -> int:
    """This load process's index among the senders: the worker index its master gave it (unique over
    every host), 0 when it runs alone. It picks the process's own stream of arrival gaps."""
    if isinstance(runner, WorkerRunner):
        return max(0, int(getattr(runner, "worker_index", 0)))
    return 0


class ClosedWithoutAnswer(HTTPParseError):
    """The server closed a new connection without answering the request on it."""


#: The sockets on which a response has begun: kept-alive connections, as opposed to new ones.
_ANSWERED: weakref.WeakSet[Any] = weakref.WeakSet()


class _CountedResponse(HTTPSocketPoolResponse):
    """A response whose connection closed before it began is a failure when the connection was new.

    geventhttpclient resends a GET whose connection closes before any answer, silently. That is
    right for a kept-alive connection the server closed while it was idle; but on a new connection
    it is a server that dropped the request (a worker killed mid-request), and resending it would
    record a success. Those requests fail here, and are counted.
    """

    def __init__(self, sock: Any, pool: Any, **kw: Any) -> None:
        new = sock not in _ANSWERED
        try:
            super().__init__(sock, pool, **kw)
        except HTTPConnectionClosed:
            if new:
                raise ClosedWithoutAnswer("the server closed the connection without answering") from None
            raise
        _ANSWERED.add(sock)


# geventhttpclient's client builds every response through this module-level name.
geventhttpclient.client.HTTPSocketPoolResponse = _CountedResponse


class WorkloadUser(FastHttpUser):
    """A load user.

    Closed loop (the default): it sends its next request as soon as the last one is answered.
    Open loop (SM_LOAD=open): one user per process sends on a clock, each request in its own
    greenlet, whether or not earlier ones were answered.
    """

    abstract = True
    wait_time = constant(0)
    # A hung server fails requests after this long instead of stalling the whole run.
    network_timeout = SETTINGS.timeout_s
    connection_timeout = SETTINGS.timeout_s
    # Open loop: a connection per request in flight, so no request waits for a connection here.
    concurrency = SETTINGS.max_in_flight if SETTINGS.open_loop else 10

    open_loop: OpenLoop | None = None

    def hit(self, target: Target) -> None:
        if _Budget.exhausted():
            raise StopUser()
        if SETTINGS.open_loop:
            self._send_on_schedule(target)
            return
        # HTTP >= 400 and transport errors are reported to the request event as failures.
        if target.plain:
            self.client.get(target.path, name=target.name)
        else:
            self.client.request(
                target.method, target.path, name=target.name, headers=target.headers, data=target.body
            )

    def _send_on_schedule(self, target: Target) -> None:
        if self.open_loop is None:
            runner = self.environment.runner
            clock = ArrivalClock(
                SETTINGS.steps,
                SETTINGS.hold_s,
                time.time(),
                _senders(runner),
                arrivals=SETTINGS.arrivals,
                seed=SETTINGS.arrival_seed,
                process=_process_index(runner),
            )
            self.open_loop = OpenLoop(clock, _InFlight.pool, SAMPLES, time.time, gevent.sleep)
        outcome = self.open_loop.send_next(target, self._send_due)
        if outcome == "over":
            # Every step is over; the load shape ends the run at its next poll.
            gevent.sleep(0.5)
        elif outcome == "refused":
            _InFlight.refused()

    def _send_due(self, target: Target, due: float) -> None:
        """One open-loop request, in its own greenlet; ``_on_request`` counts its latency from ``due``."""
        self.client.request(
            target.method,
            target.path,
            name=target.name,
            headers=target.headers or None,
            data=target.body,
            context={"planned": due},
        )


class StepShape(LoadTestShape):
    """Hold each SM_STEPS user count for warm-up plus duration, starting all of a step's users at once."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Locust leaves this one untyped
        self.stepper = Stepper(
            SETTINGS.steps, SETTINGS.warmup_s, SETTINGS.duration_s, fixed=SETTINGS.open_loop
        )
        self.gated = SETTINGS.go_file is not None

    def tick(self) -> tuple[int, float] | None:
        if self.gated:
            # Locust started beside the server's start: its first step waits for the harness's go.
            self.gated = False
            if SETTINGS.go_file and not wait_for_go(
                SETTINGS.go_file, SETTINGS.go_timeout_s, gevent.sleep, time.monotonic
            ):
                logger.error(
                    "SM_GO: no %s after %g s; ending without load", SETTINGS.go_file, SETTINGS.go_timeout_s
                )
                self.stepper.finished = True
                return None
        step = self.stepper.tick(time.monotonic(), time.time())
        if step is None:
            if self.stepper.t0 is not None:
                self._write_schedule()
            return None
        if step.advanced:
            self._write_schedule()
        if SETTINGS.open_loop:
            # One sender per process for the whole run; the senders' clocks change the rate.
            senders = self._processes()
            return senders, float(senders)
        return step.users, self.stepper.spawn_rate()

    def _processes(self) -> int:
        runner = self.runner
        if isinstance(runner, MasterRunner):
            options = runner.environment.parsed_options
            return int(getattr(options, "expect_workers", 0) or len(runner.clients) or 1)
        return 1

    def _write_schedule(self) -> None:
        SETTINGS.out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(SETTINGS.out_dir / "schedule.json", self.stepper.schedule(self._processes()))


class _QuietSpawnRate(logging.Filter):
    """Drop Locust's warning about spawn rates over 100: starting a step at once is the point."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Your selected spawn rate is very high")


logging.getLogger("locust.runners").addFilter(_QuietSpawnRate())


class _Recorder:
    """Flushes this process's samples to SM_OUT/samples-<pid>.csv when the test stops or Locust quits."""

    written = -1

    @classmethod
    def flush(cls, environment: Environment) -> None:
        # The master only steers: its workers send every request and write their own files.
        if isinstance(environment.runner, MasterRunner) or len(SAMPLES) == cls.written:
            return
        SETTINGS.out_dir.mkdir(parents=True, exist_ok=True)
        path = SETTINGS.out_dir / f"samples-{os.getpid()}.csv"
        # A Ctrl-C or SIGTERM arriving mid-write waits until the file is whole.
        blocked = {signal.SIGINT, signal.SIGTERM}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            started = time.monotonic()
            cls.written = SAMPLES.write_csv(path)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        logger.info("wrote %d samples to %s in %.1f s", cls.written, path, time.monotonic() - started)


def _on_init(environment: Environment, **_: Any) -> None:
    # Locust handles SIGTERM only once a load shape has ended: during the run `docker stop` would be
    # ignored (Locust is PID 1) or, outside a container, kill it before any sample was written.
    gevent.signal_handler(signal.SIGTERM, _quit_on_sigterm, environment)
    runner = environment.runner
    options = environment.parsed_options
    if isinstance(runner, WorkerRunner) and options is not None:
        # Workers share one budget: forked ones (--processes), or those of every host (SM_WORKERS); a
        # worker started on its own takes it all.
        workers = SETTINGS.workers or int(getattr(options, "processes", 0) or 1)
        _Budget.limit = budget_per_process(SETTINGS.max_requests, workers)


def _quit_on_sigterm(environment: Environment) -> None:
    runner = environment.runner
    if runner is None or runner.state in (STATE_CLEANUP, STATE_STOPPING, STATE_STOPPED):
        return
    logger.warning("SIGTERM: ending the run early; samples so far are written")
    # In its own greenlet: quitting kills greenlets and must not run inside the signal callback.
    gevent.spawn(runner.quit)


def _on_request(
    *,
    name: str,
    response_time: float,
    response_length: int | None = None,
    exception: BaseException | None = None,
    start_time: float | None = None,
    context: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    if start_time is None:
        start_time = time.time() - response_time / 1000.0
    planned = (context or {}).get("planned")
    if isinstance(planned, float):
        # Open loop: the latency counts from when the request was due, not when it went out.
        start_time, response_time = from_due(start_time, response_time, planned)
    SAMPLES.add(start_time, float(response_time), exception is None, name, int(response_length or 0))


def _on_test_stop(environment: Environment, **_: Any) -> None:
    if SETTINGS.open_loop:
        # Requests still in flight end (answered or timed out) before the samples are written.
        _InFlight.pool.join(timeout=SETTINGS.timeout_s + 1.0)
    _Recorder.flush(environment)


def _on_quitting(environment: Environment, **_: Any) -> None:
    _Recorder.flush(environment)
    if isinstance(environment.runner, MasterRunner):
        _wait_for_workers(WORKER_FLUSH_TIMEOUT_S)


def _wait_for_workers(timeout_s: float) -> None:
    """Hold the master until its forked workers have exited, their sample files written.

    Locust's own wait for its workers gives up at once, and in a container the master is PID 1:
    when it exits, the kernel kills the workers, half-written files and all.
    """
    me = os.getpid()
    try:
        children = [int(pid) for pid in Path(f"/proc/{me}/task/{me}/children").read_text().split()]
    except OSError:
        return
    deadline = time.monotonic() + timeout_s
    while children and time.monotonic() < deadline:
        children = [pid for pid in children if not _exited(pid)]
        if children:
            gevent.sleep(0.1)
    if children:
        logger.warning(
            "%d worker(s) still running after %.0f s: their samples may be lost", len(children), timeout_s
        )


def _exited(pid: int) -> bool:
    try:
        # WNOWAIT only looks: Locust reaps its workers itself once the master moves on.
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped (gevent watches the children it forks)
        return True


def _listen(hook: EventHook, handler: Callable[..., None]) -> None:
    hook.add_listener(handler)  # type: ignore[no-untyped-call]  # Locust's EventHook is untyped


_listen(events.init, _on_init)
_listen(events.request, _on_request)
_listen(events.test_stop, _on_test_stop)
_listen(events.quitting, _on_quitting)
