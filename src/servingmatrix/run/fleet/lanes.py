"""Lanes: where a run's sessions go. One lane on one machine; with several server hosts, one per host.

A lane is one server host with its stack, its CPU plan, what its cells are judged against and its
load hosts. One lane runs its sessions in the run's own thread, as a run always has. Several (a fleet)
run at the same time, each in a thread of its own. Every trial of a cell (a mode x workload) goes to
the same lane, so a cell's trials are never a mix of two machines' figures; cells are dealt to the
lanes in turn. Ctrl-C or SIGTERM stops them all, each tearing down its own containers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from servingmatrix.engine.interrupts import holding, wait_for_starts
from servingmatrix.errors import ServingMatrixError
from servingmatrix.run.judge import RunFacts
from servingmatrix.run.plan.cpuplan import CpuPlan
from servingmatrix.run.session import Session, SessionRunner, SessionTimings
from servingmatrix.run.stack.stack import RUN_LABEL, Stack, StackPorts

#: How long the run's thread waits between looks at its lanes (it must stay able to take a signal).
JOIN_SLICE_S = 0.5
#: Beyond the session it is in, how long a lane may take to end once the run is interrupted.
STOP_GRACE_S = 120.0


@dataclass
class Lane:
    stack: Stack
    plan: CpuPlan
    facts: RunFacts
    sessions: SessionRunner
    #: The inventory's name of the lane's server host (None: this machine, no inventory).
    server_host: str | None = None

    def stop(self) -> None:
        """Remove every container of the lane: its stack's, and its Locust master's and workers' on
        the load hosts (found by the stack's run label). Every engine is asked even when one does not
        answer (its host gone); the first failure is raised once all were asked."""
        failures: list[ServingMatrixError] = []
        try:
            self.stack.stop()
        except ServingMatrixError as exc:
            failures.append(exc)
        load = self.sessions.load
        for host in load.hosts if load is not None else ():
            try:
                host.engine.remove_containers(host.engine.list_containers({RUN_LABEL: self.stack.run_id}))
            except ServingMatrixError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


def stop_lanes(lanes: list[Lane]) -> None:
    """Stop every lane, each even when another's engine does not answer; then raise the first failure.
    Containers still being started (by a lane's thread) are waited for first, so none appears after;
    a signal during the teardown is taken once it is done."""
    failures: list[ServingMatrixError] = []
    wait_for_starts()
    with holding():
        for lane in lanes:
            try:
                lane.stop()
            except ServingMatrixError as exc:
                failures.append(exc)
    if failures:
        raise failures[0]


def lane_ports(base: StackPorts, slot: int) -> StackPorts:
    """A lane's ports: its own where lanes may share a host's network (its backing host's, say)."""
    step = 10 * slot
    return StackPorts(base.server + step, base.upstream + step, base.postgres + step)


def deal(todo: list[Session], lanes: int, every: list[Session] | None = None) -> list[list[Session]]:
    """Each lane's sessions of ``todo``, in the run's order: the cells (mode x workload) of the whole
    plan ``every`` (``todo`` when not given) dealt in turn, every trial of a cell to the same lane. Dealt
    over the whole plan, a resumed run sends each cell's remaining trials where its first ones went."""
    cells: dict[tuple[str, str], int] = {}
    for session in [*(every or []), *todo]:
        cells.setdefault(_cell(session), len(cells) % lanes)
    out: list[list[Session]] = [[] for _ in range(lanes)]
    for session in todo:
        out[cells[_cell(session)]].append(session)
    return out


def _cell(session: Session) -> tuple[str, str]:
    return (session.mode.spec, session.workload.spec)


def run_lanes(
    lanes: list[Lane],
    todo: list[Session],
    run_one: Callable[[Session, Lane], SessionTimings],
    every: list[Session] | None = None,
) -> list[SessionTimings]:
    """Every session of ``todo`` on one of ``lanes`` (dealt over the whole plan ``every``); the timings
    of those that ran."""
    if len(lanes) == 1:
        return [run_one(session, lanes[0]) for session in todo]
    queues = deal(todo, len(lanes), every)
    stopping = threading.Event()
    timings: list[SessionTimings] = []
    errors: list[BaseException] = []

    def work(lane: Lane, sessions: list[Session]) -> None:
        for session in sessions:
            if stopping.is_set():
                return
            try:
                timings.append(run_one(session, lane))
            except BaseException as exc:  # a lane's failure ends the run, as it would with one lane
                errors.append(exc)
                stopping.set()
                return

    threads = [
        threading.Thread(target=work, args=(lane, mine), name=f"lane-{lane.server_host}", daemon=True)
        for lane, mine in zip(lanes, queues, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(JOIN_SLICE_S)
    except BaseException:
        stopping.set()
        # Removing a lane's containers ends the session it is in: its Locust and server are gone. An
        # engine that does not answer is said by the run's own stop, after; the interrupt is raised.
        with contextlib.suppress(ServingMatrixError):
            stop_lanes(lanes)
        for thread in threads:
            thread.join(STOP_GRACE_S)
        raise
    if errors:
        raise errors[0]
    return timings
