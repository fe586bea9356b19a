"""The engine's own processes count as the project's: their threads' time, read from a ``/proc`` tree
written here, is put on the core each thread last ran on, from the second reading on."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.run.measure.disturbance import (
    CoreReader,
    EngineDaemons,
    is_engine_daemon,
    other_share,
    parse_task_stat,
)

TICKS = 100


def stat_line(name: str, ticks: tuple[int, int], core: int) -> str:
    """A task's stat as the kernel writes it: 52 fields, utime and stime at 14 and 15, processor at 39."""
    fields = ["S"] + ["0"] * 49
    fields[11], fields[12], fields[36] = str(ticks[0]), str(ticks[1]), str(core)
    return f"4242 ({name}) " + " ".join(fields) + "\n"


def write_task(proc: Path, pid: int, tid: int, comm: str, ticks: tuple[int, int], core: int) -> None:
    (proc / str(pid) / "task" / str(tid)).mkdir(parents=True, exist_ok=True)
    (proc / str(pid) / "comm").write_text(comm + "\n")
    (proc / str(pid) / "task" / str(tid) / "stat").write_text(stat_line(comm, ticks, core))


@pytest.mark.parametrize(
    ("comm", "engine"),
    [
        ("dockerd", True),
        ("containerd", True),
        ("containerd-shim", True),
        ("containerd-shi", False),
        ("python3", False),
        ("docker", False),
        ("dockerd-rootles", False),
    ],
)
def test_the_engine_is_dockerd_containerd_and_the_shims(comm: str, engine: bool) -> None:
    assert is_engine_daemon(comm) is engine


def test_a_task_stat_gives_its_time_and_last_core_whatever_its_name() -> None:
    assert parse_task_stat(stat_line("a (b) c", (7, 5), 1)) == (12, 1)


def test_each_threads_time_since_the_last_reading_goes_on_the_core_it_last_ran_on(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    write_task(proc, 10, 10, "dockerd", (100, 50), 0)
    write_task(proc, 10, 11, "dockerd", (10, 10), 1)
    write_task(proc, 20, 20, "containerd-shim", (5, 5), 1)
    write_task(proc, 30, 30, "python3", (900, 900), 1)  # not the engine's
    (proc / "self").mkdir()
    daemons = EngineDaemons(proc, TICKS)
    assert daemons.usage_by_core() == {}, "the first reading is the baseline"
    write_task(proc, 10, 10, "dockerd", (110, 60), 0)  # 20 ticks on core 0
    write_task(proc, 10, 11, "dockerd", (30, 20), 1)  # 30 ticks, now seen on core 1
    write_task(proc, 20, 20, "containerd-shim", (9, 6), 0)  # 5 ticks, last on core 0
    write_task(proc, 20, 21, "containerd-shim", (50, 50), 1)  # a new thread: its baseline
    write_task(proc, 30, 30, "python3", (999, 999), 1)
    assert daemons.usage_by_core() == {0: pytest.approx(0.25e9), 1: pytest.approx(0.30e9)}
    write_task(proc, 20, 21, "containerd-shim", (60, 50), 1)  # 10 ticks on core 1
    (proc / "10" / "task" / "11" / "stat").unlink()  # a thread that ended
    assert daemons.usage_by_core() == {0: pytest.approx(0.25e9), 1: pytest.approx(0.40e9)}


def test_a_proc_that_cannot_be_listed_keeps_what_was_counted(tmp_path: Path) -> None:
    daemons = EngineDaemons(tmp_path / "gone", TICKS)
    assert daemons.usage_by_core() == {}


def test_the_engines_time_is_not_taken_for_other_work(tmp_path: Path) -> None:
    """A core busy 50% while a container took 25% and the engine the other 25% is quiet."""
    proc = tmp_path / "proc"
    write_task(proc, 10, 10, "dockerd", (0, 0), 1)
    stat = tmp_path / "stat"

    class Container:
        def __init__(self) -> None:
            self.ns = 0.0

        def usage_by_core(self) -> dict[int, float]:
            return {1: self.ns}

    container = Container()
    stat.write_text("cpu  0 0 0 0 0 0 0 0\ncpu0 0 0 0 100 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0\n")
    with_engine = CoreReader([container, EngineDaemons(proc, TICKS)], stat)
    without = CoreReader([container], stat)
    first = [with_engine.read(), without.read()]
    # One second: core 1 busy 50 ticks, the container 25, the engine's thread 25.
    stat.write_text("cpu  0 0 0 0 0 0 0 0\ncpu0 0 0 0 200 0 0 0 0\ncpu1 25 0 25 50 0 0 0 0\n")
    container.ns = 0.25e9
    write_task(proc, 10, 10, "dockerd", (5, 20), 1)
    last = [with_engine.read(), without.read()]
    readings = [(a, b) for a, b in zip(first, last, strict=True)]
    shares = []
    for a, b in readings:
        assert a is not None and b is not None
        b = type(b)(a.t + 1.0, b.busy_ns, b.own_ns)
        shares.append(other_share([a, b], a.t, a.t + 1.0, [1]))
    assert shares[0] == pytest.approx(0.0, abs=1e-9)
    assert shares[1] == pytest.approx(0.25)
