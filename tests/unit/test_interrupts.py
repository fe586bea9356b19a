"""A stop asked for by a signal is taken only where no container can be left half-started."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from servingmatrix.engine import interrupts
from servingmatrix.engine.container_spec import ContainerSpec
from servingmatrix.engine.docker import Docker
from servingmatrix.engine.interrupts import StopRequested, holding, starting, taking_stops, wait_for_starts


def _signal_self(signum: signal.Signals = signal.SIGTERM) -> None:
    # To this thread: os.kill may hand the signal to another thread of the process, whose handler then
    # runs in the main thread only later, after the block under test has ended.
    signal.raise_signal(signum)


def test_a_signal_outside_any_section_stops_at_once() -> None:
    reached = False
    with taking_stops(), pytest.raises(StopRequested):
        _signal_self()
        reached = True
    assert not reached


def test_a_signal_while_starting_is_taken_when_the_start_has_ended() -> None:
    steps: list[str] = []
    with taking_stops():
        with pytest.raises(StopRequested):
            with starting():
                _signal_self()
                steps.append("the start went on")
            steps.append("after the start")
        # Nothing new begins once a stop was asked for.
        with pytest.raises(StopRequested), starting():
            steps.append("a second start")
    assert steps == ["the start went on"]


def test_sigint_is_held_the_same_way() -> None:
    steps: list[str] = []
    with taking_stops(), pytest.raises(StopRequested), starting():
        _signal_self(signal.SIGINT)
        steps.append("held")
    assert steps == ["held"]


def test_a_start_without_a_signal_raises_nothing() -> None:
    with taking_stops():
        with starting():
            pass
        with holding():
            pass
        assert interrupts.stop_requested() is None


def test_teardown_is_not_cut_short_by_a_second_signal() -> None:
    removed: list[str] = []
    with taking_stops(), pytest.raises(StopRequested), holding():
        _signal_self()
        removed.append("server")
        removed.append("loadgen")
    assert removed == ["server", "loadgen"]


def test_the_handlers_are_put_back_and_the_request_forgotten() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with taking_stops(), pytest.raises(StopRequested):
        _signal_self()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert interrupts.stop_requested() is None
    with starting():  # a later run starts as usual
        pass


def test_an_ignored_sigint_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with taking_stops():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, previous)


def test_teardown_waits_for_a_start_under_way_in_another_thread() -> None:
    entered, release = threading.Event(), threading.Event()

    def lane() -> None:
        with starting():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=lane)
    thread.start()
    try:
        assert entered.wait(10)
        assert wait_for_starts(timeout_s=0.2) is False  # still starting: not done waiting
        release.set()
        assert wait_for_starts(timeout_s=10) is True
    finally:
        release.set()
        thread.join(10)


def test_a_thread_does_not_wait_for_its_own_start() -> None:
    with starting():
        assert wait_for_starts(timeout_s=0.1) is True


class _Container:
    id = "c0ffee"

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def start(self) -> None:
        self.calls.append("start")


class _Containers:
    """The SDK's ``containers``: ``create`` takes a signal while the engine is still creating."""

    def __init__(self, calls: list[str], signal_during_create: bool) -> None:
        self.calls = calls
        self.signal_during_create = signal_during_create

    def create(self, **_kwargs: Any) -> _Container:
        if self.signal_during_create:
            _signal_self()
        self.calls.append("create")
        return _Container(self.calls)


class _Client:
    def __init__(self, containers: _Containers) -> None:
        self.containers = containers


def _docker_with(calls: list[str], signal_during_create: bool = False) -> Docker:
    docker = Docker()
    docker._client = _Client(_Containers(calls, signal_during_create))  # type: ignore[assignment]
    return docker


def test_a_container_created_when_the_signal_came_is_started_and_named_before_the_stop() -> None:
    calls: list[str] = []
    docker = _docker_with(calls, signal_during_create=True)
    with taking_stops(), pytest.raises(StopRequested):
        docker.run_detached(ContainerSpec(name="servingmatrix-r1-server", image="x"))
    assert calls == ["create", "start"]


def test_no_container_is_created_once_a_stop_was_asked_for() -> None:
    calls: list[str] = []
    docker = _docker_with(calls)
    with taking_stops():
        with pytest.raises(StopRequested):
            _signal_self()
        with pytest.raises(StopRequested):
            docker.run_detached(ContainerSpec(name="servingmatrix-r1-server", image="x"))
    assert calls == []
