"""A gunicorn worker SIGKILLed in the middle of a measured window, for real.

The master notices its dead worker and forks a replacement; the server as a whole stays up, so the
cell is measured, not failed. What a kill costs is the request the worker was handling at that
moment: the sync worker serves one connection at a time, and when it dies the kernel closes that
connection, so the client's request ends without an answer, or with half of one. (The load
generator counts both: its HTTP client would resend a GET whose new connection closed unanswered,
which would hide exactly this; see ``_CountedResponse`` in locustfiles/smlocust.py.)

A kill at a random moment usually costs nothing. A `json` request takes the worker about a
millisecond; the rest of the time it waits in select() for a connection, or, having answered,
lingers until the client closes (gunicorn's graceful close: shutdown, then poll()). So the killer
watches each worker's open files in /proc and strikes when a connection it has not seen before
appears and the worker is not in poll(): just accepted, not yet answered. Even so a kill can land
just after the answer went out, so it kills several times across the window, and each time waits for
the master's replacement. The failed requests must be counted and shown as an ``errors`` warning,
never hidden.
"""

from __future__ import annotations

import os
import platform
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

from .schedule import measured_window, sleep_until

pytestmark = pytest.mark.docker

#: Where in the measured window the kills fall: apart enough for the master to replace each one.
KILL_AT = (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)
#: poll() and ppoll() by machine: where a sync worker waits for its client to close, once answered.
POLL_SYSCALLS = {"x86_64": {"7", "271"}, "aarch64": {"73"}}.get(platform.machine(), set())


def workers_of(master: int) -> list[int]:
    """The gunicorn master's children (host pids)."""
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def sockets_of(pid: int) -> set[int]:
    """The socket inodes among a process's open files."""
    inodes: set[int] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def answered(pid: int) -> bool:
    """Whether the worker waits in poll(): the lingering close after its answer (see above)."""
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()[0] in POLL_SYSCALLS
    except (OSError, IndexError):
        return False


def kill_a_busy_worker(master: int, seen: dict[int, set[int]], timeout_s: float = 2.0) -> int | None:
    """SIGKILL a worker that has just accepted a connection; its pid, or None if none was caught.

    ``seen`` holds, per worker, every socket it has been seen holding. A socket not seen before
    is a connection accepted since the last look, a millisecond ago: its request is being read or
    handled, not yet answered.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shared = sockets_of(master)
        for worker in workers_of(master):
            held = sockets_of(worker) - shared
            if worker not in seen:  # first sight: what it holds may be mid-answer already
                seen[worker] = held
                continue
            fresh = held - seen[worker]
            seen[worker] |= held
            if fresh and not answered(worker):
                os.kill(worker, signal.SIGKILL)
                return worker
        time.sleep(0)  # let the other threads run; a connection comes every few milliseconds
    return None


def kill_workers(docker: Docker, runner: Runner, done: threading.Event, log: dict[str, list[int]]) -> None:
    """At each point of KILL_AT, kill a busy worker and wait for the master to replace it."""
    window = measured_window(runner.folder.root, 0, done)
    info = docker.container_inspect(f"servingmatrix-{runner.run_id}-server")
    if window is None or info is None:
        return
    master = int(info["State"]["Pid"])  # the container's first process: gunicorn's master
    seen: dict[int, set[int]] = {}
    start, end = window
    for share in KILL_AT:
        sleep_until(start + share * (end - start))
        before = workers_of(master)
        killed = kill_a_busy_worker(master, seen)
        if killed is None:
            continue
        log["killed"].append(killed)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            fresh = [pid for pid in workers_of(master) if pid not in before]
            if fresh:
                log["replacements"].append(fresh[0])
                break
            time.sleep(0.05)


#: Runs tried until a kill lands on a request in flight: every kill can miss (the worker answered just
#: before), and then there is no failed request whose counting could be checked.
ATTEMPTS = 3


def killed_run(docker: Docker, tmp_path: Path, attempt: int) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """One run of the matrix with workers killed in its window: its cell and what the killer did."""
    matrix = Matrix(
        name="worker-kill",
        modes=("gunicorn-sync[workers=2]",),
        workloads=("json",),
        users=(4,),
        duration_s=4.0,
        warmup_s=1.0,
        reference="none",
    ).check("test")
    folder = RunFolder(tmp_path / f"run-{attempt}")
    # The killer's watch is a busy loop on the host: other work on the plan's cores, which would have
    # the window measured again, without kills. Measured once, the cell is recorded as it was.
    runner = Runner(docker, matrix, folder, lambda line: None, calibrate=False, remeasures=0)
    done = threading.Event()
    log: dict[str, list[int]] = {"killed": [], "replacements": []}
    killer = threading.Thread(target=kill_workers, args=(docker, runner, done, log), daemon=True)
    killer.start()
    try:
        runner.run()
    finally:
        done.set()
        killer.join(10)
    (cell,) = [r.as_json() for r in folder.read_cells()]
    return cell, log


def test_a_killed_worker_is_replaced_and_its_failed_requests_are_counted(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        cell, log = killed_run(docker, tmp_path, attempt)
        # How many kills land depends on the machine's timing (a busy worker must be caught between
        # accepting and answering): the test asserts on the kills that happened, not on their number.
        assert log["killed"], f"no worker was caught busy in the window: {log}"
        # The master forked a new worker for every one killed.
        assert len(log["replacements"]) == len(log["killed"]), log
        # Measured (the killer's own busy loop may have it recorded disturbed, never failed).
        assert cell["status"] in ("ok", "disturbed"), cell.get("reason")
        assert cell["status"] == "ok" or "busy with other work" in cell["reason"], cell["reason"]
        assert cell.get("measured_again") is None
        assert cell["server"]["exit"] is None
        # Each kill cost the one request its worker held, or none when it died just after answering.
        assert cell["failures"] <= len(log["killed"])
        if cell["failures"] > 0:
            break
    assert cell["failures"] > 0, f"in {ATTEMPTS} runs every kill came just after an answer: {log}"
    assert cell["requests"] > 10 * cell["failures"]
    errors = [w["message"] for w in cell["warnings"] if w["code"] == "errors"]
    share = f"{100 * cell['error_rate']:.1f}%"
    assert errors == [f"{cell['failures']} of {cell['requests']} requests failed ({share})"]
