"""A Locust step whose answers take longer than its window is measured again, once, with a window grown
from their latency: the rule at its boundary from its declaration, the bounds, and the runner doing it."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from servingmatrix.results.cell import CellRecord, Latency, Server, ServerExit, Window
from servingmatrix.results.folder import RunFolder
from servingmatrix.run import runner as runner_module
from servingmatrix.run.load.loadgen import LOCUST_IMAGE
from servingmatrix.run.load.reference import WRK_IMAGE
from servingmatrix.run.load.step_window import (
    GROWN_WARMUP_LATENCIES,
    GROWN_WINDOW_LATENCIES,
    LOCUST_SHAPE_POLL_S,
    MAX_STEP_WARMUP_S,
    MAX_STEP_WINDOW_S,
    MIN_WINDOW_LATENCIES,
    StepWindow,
    grown_window,
    latency_beyond_window,
)
from servingmatrix.run.progress import Progress

from .fakes import FakeDocker
from .test_remeasure import ONE_MODE, runner

WINDOW_S = 4.0


def _cell(p99_ms: float | None, status: str = "ok", requests: int = 100, died: bool = False) -> CellRecord:
    exit_ = ServerExit(oom_killed=True, exit_code=137, finished_at=1.0, last_log=()) if died else None
    return CellRecord(
        mode="waitress[threads=4]",
        workload="json",
        users=64,
        trial=1,
        status=status,  # type: ignore[arg-type]
        window=Window(0.0, WINDOW_S, WINDOW_S, 2.0),
        requests=requests,
        latency_ms=Latency(p99=p99_ms),
        server=Server(exit=exit_),
        load="closed",
    )


def test_a_window_shorter_than_its_answers_p99_is_too_short_and_one_as_long_is_not() -> None:
    edge_ms = MIN_WINDOW_LATENCIES * WINDOW_S * 1000
    assert latency_beyond_window(_cell(edge_ms)) is None
    assert latency_beyond_window(_cell(edge_ms + 1)) == pytest.approx((edge_ms + 1) / 1000)
    assert latency_beyond_window(_cell(None)) is None
    # An open loop's answers take longer the longer an overload lasts: a longer window tells nothing.
    assert latency_beyond_window(replace(_cell(edge_ms + 1), load="open")) is None


def test_a_step_with_no_answer_while_its_server_lived_took_at_least_the_whole_step() -> None:
    nothing = _cell(None, status="failed", requests=0)
    assert latency_beyond_window(nothing) == pytest.approx(2.0 + WINDOW_S)
    # A server that died is why nothing completed: a longer window would not help.
    assert latency_beyond_window(_cell(None, status="failed", requests=0, died=True)) is None
    # Every request failed: an answer of its own, not a window too short.
    assert latency_beyond_window(_cell(None, status="failed", requests=50)) is None


def test_the_grown_window_holds_its_latencies_within_its_bounds() -> None:
    given = StepWindow(2.0, WINDOW_S)
    assert grown_window(6.4, given) == StepWindow(GROWN_WARMUP_LATENCIES * 6.4, GROWN_WINDOW_LATENCIES * 6.4)
    # Never shorter than the matrix's.
    assert grown_window(1.5, given) == StepWindow(2.0, GROWN_WINDOW_LATENCIES * 1.5)
    assert grown_window(1000.0, given) == StepWindow(MAX_STEP_WARMUP_S, MAX_STEP_WINDOW_S)
    # Already at the bounds (or no longer than given): nothing to grow.
    assert grown_window(1000.0, StepWindow(MAX_STEP_WARMUP_S, MAX_STEP_WINDOW_S)) is None
    assert grown_window(0.5, given) is None


def _progress(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr(
        runner_module, "Progress", lambda total, planned: Progress(total, planned, stream=buffer)
    )
    return buffer


def _locust_windows(docker: FakeDocker) -> list[tuple[str, str]]:
    return [(s.env["SM_WARMUP_S"], s.env["SM_DURATION_S"]) for s in docker.started if s.image == LOCUST_IMAGE]


def test_slow_answers_are_measured_again_with_a_grown_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = _progress(monkeypatch)
    docker = FakeDocker()
    # The first session's answers take 2.5 s against 2 s windows; measured again, as recorded.
    docker.answer_ms = [2500.0, None]
    runner(tmp_path, docker).run()
    grown = grown_window(2.5, StepWindow(ONE_MODE.warmup_s, ONE_MODE.duration_s))
    assert grown is not None
    assert _locust_windows(docker) == [("1", "2"), (f"{grown.warmup_s:g}", f"{grown.duration_s:g}")]
    cells = list(RunFolder(tmp_path / "run").read_cells())
    assert {c.status for c in cells} == {"ok"} and len(cells) == 2
    assert all(c.latency_ms.p99 is not None and c.latency_ms.p99 < 1000 for c in cells)
    assert (
        "again with a 7.5 s window after 2.5 s of warm-up: its answers took 2.5 s or more"
        in progress.getvalue()
    )
    # The reference generator ran after the first session only; its figures stand beside the new ones.
    assert len([s for s in docker.started if s.image == WRK_IMAGE]) == len(ONE_MODE.users)
    assert all(c.reference is not None and c.reference.throughput_rps == pytest.approx(300.0) for c in cells)


def test_a_step_with_no_answer_is_measured_again_and_fails_only_if_it_still_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _progress(monkeypatch)
    docker = FakeDocker()
    docker.answer_ms = [60_000.0, 60_000.0]
    runner(tmp_path, docker).run()
    step_s = ONE_MODE.warmup_s + ONE_MODE.duration_s
    assert _locust_windows(docker)[1] == (f"{step_s:g}", f"{GROWN_WINDOW_LATENCIES * step_s:g}")
    # Measured again once only, however it comes out.
    assert len(_locust_windows(docker)) == 2
    cells = list(RunFolder(tmp_path / "run").read_cells())
    assert {c.status for c in cells} == {"failed"}
    assert {c.reason for c in cells} == {"no request completed in the measured window"}


def test_answers_within_their_window_are_not_measured_again(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.answer_ms = [MIN_WINDOW_LATENCIES * ONE_MODE.duration_s * 1000 / 2]
    runner(tmp_path, docker).run()
    assert len(_locust_windows(docker)) == 1


def test_a_step_holds_its_load_until_the_next_shape_poll() -> None:
    # Locust asks the shape once a second: a 5.5 s step holds 6 s, a whole 5 s step holds 5 s.
    assert StepWindow(1.5, 4.0).held_s == 6 * LOCUST_SHAPE_POLL_S
    assert StepWindow(1.0, 4.0).held_s == 5 * LOCUST_SHAPE_POLL_S
    assert StepWindow(1.0, 4.01).held_s == 6 * LOCUST_SHAPE_POLL_S
