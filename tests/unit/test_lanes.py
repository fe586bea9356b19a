"""Lanes: every trial of a cell on one lane, cells dealt in turn, a fleet's lanes at once in threads,
a failure or an interrupt ending them all; and a lane's stop reaching the load hosts' engines.

Concurrency is shown by a barrier that only lanes running at the same time can pass, never by timing.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Sequence
from typing import cast

import pytest

from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.matrix import Matrix
from servingmatrix.run.fleet import lanes as lanes_module
from servingmatrix.run.fleet.lanes import Lane, deal, lane_ports, run_lanes, stop_lanes
from servingmatrix.run.judge import RunFacts
from servingmatrix.run.load.distributed import DistributedLoad, LoadHost
from servingmatrix.run.load.drive import Driver
from servingmatrix.run.measure.clocks import LOCAL
from servingmatrix.run.plan.cpuplan import plan_cpus
from servingmatrix.run.session import Session, SessionRunner, SessionTimings, plan_sessions
from servingmatrix.run.stack.stack import RUN_LABEL, Stack, StackPorts

from .fakes import FakeDocker

PORTS = StackPorts(server=28000, upstream=28081, postgres=28432)
#: Long enough never to be reached by lanes that do run at once; short enough to fail a test quickly.
WAIT_S = 10.0


def matrix(modes: tuple[str, ...], workloads: tuple[str, ...] = ("json",), trials: int = 2) -> Matrix:
    return Matrix(name="lanes", modes=modes, workloads=workloads, users=(1,), trials=trials).check("test")


THREE_MODES = matrix(("gunicorn-sync[workers=1]", "waitress[threads=2]", "gunicorn-gthread[workers=1]"))


def cell(session: Session) -> tuple[str, str, int]:
    return session.mode.spec, session.workload.spec, session.trial


def lane(name: str, load: DistributedLoad | None = None, docker: FakeDocker | None = None) -> Lane:
    engine = docker or FakeDocker()
    runner = SessionRunner(engine, THREE_MODES, "r1", PORTS, Driver(engine, 5.0), load=load)
    facts = RunFacts(100.0, None, server_host=name)
    return Lane(Stack(engine, f"r1{name}", PORTS), plan_cpus([0, 1], 1), facts, runner, name)


# deal


def test_every_trial_of_a_cell_goes_to_the_lane_its_first_went_to() -> None:
    sessions = plan_sessions(THREE_MODES)
    dealt = deal(sessions, 2)
    sync, waitress, gthread = (m.spec for m in THREE_MODES.mode_configs())
    assert [cell(s) for s in dealt[0]] == [
        (sync, "json", 1),
        (gthread, "json", 1),
        (sync, "json", 2),
        (gthread, "json", 2),
    ]
    assert [cell(s) for s in dealt[1]] == [(waitress, "json", 1), (waitress, "json", 2)]


def test_a_resumed_runs_remaining_trials_go_where_the_cells_first_went() -> None:
    """Dealt over the whole plan: with a cell's first trial measured, its second still goes to its lane,
    and the next cell keeps its own, rather than being dealt afresh over what is left."""
    sessions = plan_sessions(THREE_MODES)
    whole = deal(sessions, 2)
    first_trial_done = [s for s in sessions if not (s.trial == 1 and cell(s)[0] == cell(sessions[0])[0])]
    resumed = deal(first_trial_done, 2, sessions)
    assert len(resumed) == 2
    for lane, mine in enumerate(resumed):
        assert all(s in whole[lane] for s in mine), lane
    # Dealt afresh over what is left, a cell would move to the other lane.
    assert deal(first_trial_done, 2) != resumed


def test_a_cell_is_a_mode_and_a_workload() -> None:
    # One mode, two workloads: two cells, one per lane (a deal by mode alone would put both on one).
    one_mode = matrix(("waitress[threads=2]",), ("json", "io"), trials=3)
    first, second = deal(plan_sessions(one_mode), 2)
    assert {s.workload.spec for s in first} == {"json"} and [s.trial for s in first] == [1, 2, 3]
    assert {s.workload.spec for s in second} != {"json"} and [s.trial for s in second] == [1, 2, 3]


def test_cells_are_dealt_in_turn_over_every_lane_and_order_is_kept() -> None:
    sessions = plan_sessions(THREE_MODES)
    dealt = deal(sessions, 3)
    assert [[cell(s)[0] for s in mine] for mine in dealt] == [
        [m.spec, m.spec] for m in THREE_MODES.mode_configs()
    ]
    # Every session once, none lost; each lane's in the run's order.
    assert sorted(cell(s) for mine in dealt for s in mine) == sorted(map(cell, sessions))
    for mine in dealt:
        assert mine == [s for s in sessions if s in mine]


def test_one_lane_takes_everything_and_more_lanes_than_cells_leave_some_idle() -> None:
    sessions = plan_sessions(THREE_MODES)
    assert deal(sessions, 1) == [sessions]
    dealt = deal(sessions, 5)
    assert [len(mine) for mine in dealt] == [2, 2, 2, 0, 0]
    assert deal([], 2) == [[], []]


# lane_ports


def test_a_lanes_ports_are_its_slots_own() -> None:
    assert lane_ports(PORTS, 0) == PORTS
    assert lane_ports(PORTS, 1) == StackPorts(server=28010, upstream=28091, postgres=28442)
    assert lane_ports(PORTS, 3) == StackPorts(server=28030, upstream=28111, postgres=28462)


def test_no_two_lanes_share_a_port() -> None:
    used = [port for slot in range(8) for port in vars(lane_ports(PORTS, slot)).values()]
    assert len(used) == len(set(used))


# run_lanes


def timings(session: Session) -> SessionTimings:
    """A session's timings that say which session they are (its trial and its cell's index)."""
    return SessionTimings(measured_s=float(session.trial), backing_restarted=cell(session)[0])


def test_one_lane_runs_every_session_in_the_calling_thread_in_order() -> None:
    sessions = plan_sessions(THREE_MODES)
    seen: list[tuple[Session, threading.Thread, Lane]] = []
    only = lane("main")

    def run_one(session: Session, on: Lane) -> SessionTimings:
        seen.append((session, threading.current_thread(), on))
        return timings(session)

    result = run_lanes([only], sessions, run_one)
    assert [s for s, _, _ in seen] == sessions
    assert all(thread is threading.current_thread() and on is only for _, thread, on in seen)
    assert result == [timings(s) for s in sessions]


def test_one_lanes_failure_is_raised_as_it_is() -> None:
    def run_one(session: Session, on: Lane) -> SessionTimings:
        raise RuntimeError("engine gone")

    with pytest.raises(RuntimeError, match="engine gone"):
        run_lanes([lane("main")], plan_sessions(THREE_MODES), run_one)


def test_several_lanes_run_at_once_each_in_its_own_thread_with_its_own_sessions() -> None:
    sessions = plan_sessions(THREE_MODES)
    lanes = [lane("a"), lane("b")]
    # Each lane's first session waits for the other's: only lanes running at once get past it.
    together = threading.Barrier(2, timeout=WAIT_S)
    seen: dict[str, list[Session]] = {"a": [], "b": []}
    threads: dict[str, set[threading.Thread]] = {"a": set(), "b": set()}
    lock = threading.Lock()

    def run_one(session: Session, on: Lane) -> SessionTimings:
        assert on.server_host is not None
        with lock:
            first = not seen[on.server_host]
            seen[on.server_host].append(session)
            threads[on.server_host].add(threading.current_thread())
        if first:
            together.wait()
        return timings(session)

    result = run_lanes(lanes, sessions, run_one)
    assert [seen["a"], seen["b"]] == deal(sessions, 2)
    main = threading.current_thread()
    assert all(len(t) == 1 and main not in t for t in threads.values())
    assert threads["a"] != threads["b"]
    assert sorted(result, key=repr) == sorted((timings(s) for s in sessions), key=repr)


def lane_thread(name: str) -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == f"lane-{name}")


def lane_thread_alive(name: str) -> bool:
    return any(t.name == f"lane-{name}" for t in threading.enumerate())


def test_a_failing_lane_stops_the_others_starting_sessions_and_its_error_is_raised() -> None:
    sessions = plan_sessions(THREE_MODES)
    lanes = [lane("a"), lane("b")]
    started: dict[str, list[Session]] = {"a": [], "b": []}
    failure = RuntimeError("lane a: engine gone")
    both_running = threading.Barrier(2, timeout=WAIT_S)

    def run_one(session: Session, on: Lane) -> SessionTimings:
        assert on.server_host is not None
        started[on.server_host].append(session)
        both_running.wait()
        if on.server_host == "a":
            raise failure
        # Lane b's session ends only once lane a's thread has ended, its failure taken in.
        lane_thread("a").join(WAIT_S)
        return timings(session)

    with pytest.raises(RuntimeError) as raised:
        run_lanes(lanes, sessions, run_one)
    assert raised.value is failure
    # Each lane had four and two sessions to run: each ran one, lane b none after lane a failed.
    assert [len(started["a"]), len(started["b"])] == [1, 1]
    assert not lane_thread_alive("a") and not lane_thread_alive("b")


class InterruptedWait(threading.Thread):
    """A lane's thread whose waiter, the run's thread, is interrupted (Ctrl-C) once every lane runs."""

    interrupt = threading.Event()
    interrupted = False

    def join(self, timeout: float | None = None) -> None:
        if timeout == lanes_module.JOIN_SLICE_S and not InterruptedWait.interrupted:
            assert InterruptedWait.interrupt.wait(WAIT_S)
            InterruptedWait.interrupted = True
            raise KeyboardInterrupt
        super().join(timeout)


class StoppableLane(Lane):
    """A lane whose stop is recorded, and ends the session in progress (as removing its containers does)."""

    def __init__(self, name: str) -> None:
        base = lane(name)
        super().__init__(base.stack, base.plan, base.facts, base.sessions, base.server_host)
        self.stopped = threading.Event()
        self.stopped_by: threading.Thread | None = None

    def stop(self) -> None:
        self.stopped_by = threading.current_thread()
        self.stopped.set()


def test_an_interrupt_stops_every_lane_and_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    InterruptedWait.interrupt = threading.Event()
    InterruptedWait.interrupted = False
    monkeypatch.setattr(
        lanes_module, "threading", types.SimpleNamespace(Thread=InterruptedWait, Event=threading.Event)
    )
    sessions = plan_sessions(THREE_MODES)
    lanes: list[Lane] = [StoppableLane("a"), StoppableLane("b")]
    started: list[str] = []
    ended_by_stop: dict[str, bool] = {}
    both_running = threading.Barrier(2, timeout=WAIT_S, action=InterruptedWait.interrupt.set)

    def run_one(session: Session, on: Lane) -> SessionTimings:
        assert isinstance(on, StoppableLane) and on.server_host is not None
        started.append(on.server_host)
        both_running.wait()
        ended_by_stop[on.server_host] = on.stopped.wait(WAIT_S)
        return timings(session)

    main = threading.current_thread()
    with pytest.raises(KeyboardInterrupt):
        run_lanes(lanes, sessions, run_one)
    assert InterruptedWait.interrupted
    for stopped in lanes:
        assert isinstance(stopped, StoppableLane)
        assert stopped.stopped.is_set() and stopped.stopped_by is main
    # Each session in progress ended by its lane's stop; no lane started another.
    assert ended_by_stop == {"a": True, "b": True}
    assert sorted(started) == ["a", "b"]


# Lane.stop


class LoadEngine:
    """A load host's engine: its containers by label, and what it was asked to remove."""

    def __init__(self, name: str, containers: dict[str, str]) -> None:
        self.name = name
        #: Container name -> its run label.
        self.containers = containers
        self.asked: list[dict[str, str | None]] = []
        self.removed: list[str] = []

    def list_containers(self, label_filters: dict[str, str | None]) -> list[str]:
        self.asked.append(dict(label_filters))
        (run,) = [v for k, v in label_filters.items() if k == RUN_LABEL]
        return [name for name, label in self.containers.items() if label == run]

    def remove_containers(self, names: Sequence[str]) -> None:
        self.removed.extend(names)


def load_of(*engines: LoadEngine) -> DistributedLoad:
    return DistributedLoad(
        tuple(LoadHost(e.name, cast(Docker, e), f"10.0.0.{i}", (0,), LOCAL) for i, e in enumerate(engines, 2))
    )


def test_a_lanes_stop_removes_its_stack_and_its_load_containers_on_every_load_host() -> None:
    gen_a = LoadEngine("gen-a", {"m": "r1a", "w1": "r1a", "other-run": "r9"})
    gen_b = LoadEngine("gen-b", {"w2": "r1a", "other-lane": "r1b"})
    docker = FakeDocker()
    mine = lane("a", load_of(gen_a, gen_b), docker)
    mine.stack.started.extend([mine.stack.name("upstream"), mine.stack.name("server")])
    mine.stop()
    assert docker.removed == ["servingmatrix-r1a-server", "servingmatrix-r1a-upstream"]
    assert mine.stack.started == []
    assert gen_a.asked == [{RUN_LABEL: "r1a"}] and gen_b.asked == [{RUN_LABEL: "r1a"}]
    assert (gen_a.removed, gen_b.removed) == (["m", "w1"], ["w2"])


def test_a_lane_without_load_hosts_stops_its_stack_alone() -> None:
    docker = FakeDocker()
    mine = lane("main", None, docker)
    mine.stack.started.append(mine.stack.name("server"))
    mine.stop()
    assert docker.removed == ["servingmatrix-r1main-server"]


def run_one_unused(session: Session, on: Lane) -> SessionTimings:
    raise AssertionError("no session runs")


def test_no_sessions_run_nothing() -> None:
    assert run_lanes([lane("a"), lane("b")], [], run_one_unused) == []
    assert run_lanes([lane("a")], [], run_one_unused) == []


class GoneEngine(LoadEngine):
    """A load host's engine that stopped answering."""

    def list_containers(self, label_filters: dict[str, str | None]) -> list[str]:
        raise DockerError(f"docker engine {self.name!r}: listing containers failed: connection refused")


class GoneStack(Stack):
    def stop(self) -> None:
        raise DockerError("docker engine 'srv-a': removing servingmatrix-r1a-server failed: gone")


def test_an_engine_that_does_not_answer_keeps_no_other_from_being_cleaned() -> None:
    gone, gen_a = GoneEngine("gone", {}), LoadEngine("gen-a", {"w1": "r1a"})
    gen_b = LoadEngine("gen-b", {"w2": "r1b"})
    first = lane("a", load_of(gone, gen_a))
    first.stack = GoneStack(FakeDocker(), "r1a", PORTS)
    second_docker = FakeDocker()
    second = lane("b", load_of(gen_b), second_docker)
    second.stack.started.append(second.stack.name("server"))
    with pytest.raises(DockerError, match="srv-a"):
        stop_lanes([first, second])
    assert gen_a.removed == ["w1"], "the lane's other load host is cleaned"
    assert gen_b.removed == ["w2"] and second_docker.removed == ["servingmatrix-r1b-server"]
