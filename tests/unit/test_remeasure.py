"""A disturbed window is measured again, a bounded number of times: clean on a second try gives an ok
cell; disturbed every time gives a ``disturbed`` cell, with why, that the report lists and the
verdict leaves out. Before calibrating, ``run`` waits (bounded) for quiet cores."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from servingmatrix.analysis.points import aggregate
from servingmatrix.analysis.verdict import Objective, verdicts
from servingmatrix.flags import DISTURBED_SHARE
from servingmatrix.matrix import Matrix
from servingmatrix.report.document import Document, Entries
from servingmatrix.report.sections import build_document
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import load_run
from servingmatrix.run import quiet as quiet_module
from servingmatrix.run import runner as runner_module
from servingmatrix.run.judge import BUSY_LOAD_PER_CORE
from servingmatrix.run.load.loadgen import LOCUST_IMAGE
from servingmatrix.run.plan.cpuplan import plan_cpus
from servingmatrix.run.progress import Progress
from servingmatrix.run.quiet import QuietWait
from servingmatrix.run.runner import REMEASURES, Runner
from servingmatrix.run.stack.stack import StackPorts
from tests.unit.synthetic_runs import GEVENT, SYNC, cell, write_run

from .fakes import FakeDocker, FakeSampler, fake_stack

ONE_MODE = Matrix(
    name="unit", modes=("waitress",), workloads=("json",), users=(1, 4), duration_s=2.0, warmup_s=1.0
).check("test")
#: Other work on every core, well above the threshold.
BUSY = DISTURBED_SHARE.value * 4


def runner(tmp_path: Path, docker: FakeDocker, **kwargs: object) -> Runner:
    return Runner(
        docker,
        ONE_MODE,
        RunFolder(tmp_path / "run"),
        lambda line: None,
        ports=StackPorts(server=28000, upstream=28081, postgres=28432),
        new_stack=fake_stack,
        new_sampler=lambda pids: FakeSampler(docker, pids),
        conformance=lambda url, mode: [],
        calibrate=False,
        **kwargs,  # type: ignore[arg-type]
    )


def locust_runs(docker: FakeDocker) -> int:
    return len([s for s in docker.started if s.image == LOCUST_IMAGE])


def test_every_window_records_its_disturbance_per_role(tmp_path: Path) -> None:
    docker = FakeDocker()
    docker.other_work = [DISTURBED_SHARE.value / 2]
    runner(tmp_path, docker).run()
    cells = [c.as_json() for c in RunFolder(tmp_path / "run").read_cells()]
    assert {c["status"] for c in cells} == {"ok"}
    for c in cells:
        assert c["disturbance"]["locust"]["server"] == pytest.approx(DISTURBED_SHARE.value / 2)
        assert c["disturbance"]["locust"]["generator"] == pytest.approx(DISTURBED_SHARE.value / 2)
        # The fake's wrk has ended before its cores can be read: its run is not measured, never 0.
        assert c["disturbance"]["reference"] == {"server": None, "generator": None}
    assert locust_runs(docker) == 1


def test_cores_that_cannot_be_read_are_not_measured_and_not_measured_again(tmp_path: Path) -> None:
    docker = FakeDocker()  # other_work None: no reading of the cores
    runner(tmp_path, docker).run()
    cells = [c.as_json() for c in RunFolder(tmp_path / "run").read_cells()]
    assert {c["status"] for c in cells} == {"ok"}
    assert all(c["disturbance"]["locust"] == {"server": None, "generator": None} for c in cells)
    assert locust_runs(docker) == 1


def progress_into(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The run's progress lines, written into a buffer."""
    buffer = io.StringIO()
    made = lambda total, planned: Progress(total, planned, stream=buffer)  # noqa: E731
    monkeypatch.setattr(runner_module, "Progress", made)
    return buffer


def test_a_window_clean_on_its_second_try_gives_an_ok_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = progress_into(monkeypatch)
    docker = FakeDocker()
    docker.other_work = [BUSY, 0.0]
    runner(tmp_path, docker).run()
    cells = [c.as_json() for c in RunFolder(tmp_path / "run").read_cells()]
    assert {c["status"] for c in cells} == {"ok"}
    assert {c["measured_again"] for c in cells} == {1}
    assert all(c["disturbance"]["locust"]["server"] == pytest.approx(0.0) for c in cells)
    assert locust_runs(docker) == 2
    out = progress.getvalue()
    assert f"(1 of {REMEASURES}): server core {BUSY:.0%} busy with other work" in out
    assert "re-measuring waitress[threads=4] x json @ " in out


def test_a_window_disturbed_every_time_gives_a_disturbed_cell_after_the_bounded_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = progress_into(monkeypatch)
    docker = FakeDocker()
    docker.other_work = [BUSY] * (REMEASURES + 5)
    runner(tmp_path, docker).run()
    assert locust_runs(docker) == 1 + REMEASURES
    cells = [c.as_json() for c in RunFolder(tmp_path / "run").read_cells()]
    assert {c["status"] for c in cells} == {"disturbed"}
    assert {c["measured_again"] for c in cells} == {REMEASURES}
    for c in cells:
        assert c["reason"] == (
            f"disturbed: server core {BUSY:.0%} busy with other work (above {DISTURBED_SHARE.text})"
        )
        assert c["throughput_rps"] > 0  # kept for the record
    assert progress.getvalue().count(": disturbed  ") == len(cells)


def disturbed_run(tmp_path: Path) -> Path:
    """SYNC measured clean; GEVENT faster, but disturbed in every measurement."""
    cells = {}
    for step in (1, 8):
        cells[(SYNC, "json", step, 1)] = cell(100.0 * step, p99=5.0)
        disturbed = cell(1000.0 * step, p99=5.0)
        disturbed.update(status="disturbed", reason="disturbed: server core 30% busy with other work")
        cells[(GEVENT, "json", step, 1)] = disturbed
    return write_run(tmp_path / "run", cells, [1, 8])


def test_the_verdict_and_rankings_leave_disturbed_cells_out(tmp_path: Path) -> None:
    results = aggregate(load_run(disturbed_run(tmp_path)))
    verdict = verdicts(results, Objective())[0]
    assert [p.mode for p in verdict.ranking] == [SYNC]
    assert (
        dict(verdict.unqualified)[GEVENT] == "every cell disturbed by other work on its cores (not published)"
    )
    point = results.point("json", GEVENT, 8)
    assert point is not None and not point.ok and point.disturbed and point.throughput is None


def test_the_report_lists_disturbed_cells_apart_from_failed_ones(tmp_path: Path) -> None:
    results = aggregate(load_run(disturbed_run(tmp_path)))
    document = build_document(results, Objective())
    sections = list(Document("", document.preface, document.parts).sections())
    listed = [e for s in sections if isinstance(s, Entries) for e in s.items]
    assert any("30% busy with other work" in why for _, why in listed)
    text = repr(sections)
    assert "Disturbed cells" in text and "Failed cells" not in text
    assert "(0 failed, 2 disturbed)" in text


def test_run_waits_for_quiet_cores_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quiet_module, "QUIET_PROBE_S", 0.001)
    busy = iter([{0: 0.0, 1: 0.0}, {0: 1e9, 1: 0.0}, {0: 1e9, 1: 0.0}, {0: 1e9, 1: 0.0}])
    lines: list[str] = []
    QuietWait(30.0, True, lambda: next(busy), lines.append).wait_quiet(plan_cpus([0, 1], 1))
    assert lines[0].startswith("waiting for the cores to be quiet: core 0 is 100% busy with other work")
    assert lines[1] == "the cores are quiet: calibrating"


def test_run_goes_on_with_a_warning_when_the_cores_never_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quiet_module, "QUIET_PROBE_S", 0.001)
    ticks = iter(range(10**6))
    lines: list[str] = []
    # The clock the probe reads moves 1 ms while the generator's core is busy 10 ms: always busy.
    waiting = QuietWait(0.05, True, lambda: {0: 0.0, 1: next(ticks) * 1e7}, lines.append)
    waiting.wait_quiet(plan_cpus([0, 1], 1))
    assert lines[-1].startswith("warning: after 0 s core 1 is 100% busy with other work; going on")


def test_run_waits_for_the_load_average_too_and_judges_busy_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quiet_module, "QUIET_PROBE_S", 0.001)
    limit = BUSY_LOAD_PER_CORE * len(os.sched_getaffinity(0))
    above = limit * (1 + 1e-6)
    # A build just ended: the cores are quiet at once, the load average a hair above its limit for two
    # probes (the wait's line, then the next probe), then at it.
    loads = iter([[above, 0.0, 0.0], [above, 0.0, 0.0], [above, 0.0, 0.0]])
    monkeypatch.setattr(quiet_module, "load_average", lambda: next(loads, [limit, 0.0, 0.0]))
    lines: list[str] = []
    waiting = runner(tmp_path, FakeDocker(), quiet_wait_s=30.0, read_busy=lambda: {0: 0.0, 1: 0.0})
    waiting.say = lines.append
    waiting.run()
    waits = [line for line in lines if line.startswith("waiting for the cores to be quiet")]
    said = f"the load average is {above:.1f} (above {limit:g})"
    assert waits == [f"waiting for the cores to be quiet: {said} (at most 30 s) ..."]
    assert "the cores are quiet: calibrating" in lines
    assert not [line for line in lines if "busy when the run began" in line]
    cells = RunFolder(tmp_path / "run").read_cells()
    assert cells and all("machine-busy" not in {w.code for w in cell.warnings} for cell in cells)


def test_a_wait_not_asked_to_wait_for_the_load_average_goes_on_with_quiet_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tune's probes: the load average is the last probe's own, and the quiet cores are what counts.
    monkeypatch.setattr(quiet_module, "QUIET_PROBE_S", 0.001)
    monkeypatch.setattr(quiet_module, "load_average", lambda: [99.0, 0.0, 0.0])
    lines: list[str] = []
    QuietWait(30.0, False, lambda: {0: 0.0, 1: 0.0}, lines.append).wait_quiet(plan_cpus([0, 1], 1))
    assert lines == []


def test_no_wait_at_all_unless_asked(tmp_path: Path) -> None:
    def never() -> dict[int, float]:
        raise AssertionError("the cores were read")

    assert runner(tmp_path, FakeDocker()).quiet_wait_s == 0
    QuietWait(0.0, True, never, lambda line: None).wait_quiet(plan_cpus([0, 1], 1))


def test_run_itself_waits_as_long_as_declared(tmp_path: Path) -> None:
    from servingmatrix.flags import QUIET_WAIT_S
    from servingmatrix.run.measure_matrix import RunSettings, new_runner

    made = new_runner(FakeDocker(), ONE_MODE, RunFolder(tmp_path / "run"), lambda line: None, RunSettings())
    assert made.quiet_wait_s == QUIET_WAIT_S > 0
