"""Comparing runs: per-cell changes with their uncertainty, regressions for CI, runs from different
machines under a clear warning, and named baselines kept outside the run folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from servingmatrix.analysis.compare import _worse, compare_runs
from servingmatrix.analysis.stats import Change
from servingmatrix.cli import main
from servingmatrix.errors import UserError
from servingmatrix.report.views.compare_page import write_compare
from servingmatrix.report.views.compare_text import terminal_table
from servingmatrix.results.baseline import baselines_dir, list_baselines, resolve_baseline, save_baseline
from tests.unit.synthetic_runs import SYNC, cell, warning, write_run

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
GTHREAD = "gunicorn-gthread[workers=2,threads=4]"
GEVENT = "gunicorn-gevent[workers=1,connections=1000]"


def test_a_run_against_itself_changes_nothing() -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "good")
    assert comparison.differences == ()
    assert comparison.regressions == []
    assert len(comparison.changes) == 2 * 3 * 3
    # gevent at 64 users on json was generator-bound (S): its "no change" is between two lower bounds.
    assert {c.status for c in comparison.changes} == {
        "no change",
        "no change (a lower bound (S) in the baseline and the run: the load generator set its pace)",
    }
    for change in comparison.changes:
        assert change.throughput is not None and change.throughput.relative == 0.0
        assert change.throughput.uncertainty is not None  # two trials each: an interval is known


def test_runs_from_different_machines_are_compared_under_a_warning_naming_what_differs() -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "other-machine")
    differs = "\n".join(comparison.differences)
    for key in ("cpu_model", "cpu_count: 2 vs 8", "kernel", "docker_version", "images differ: gunicorn-"):
        assert key in differs
    table = terminal_table(comparison)
    assert "WARNING: these runs differ" in table and "AMD EPYC 9654" in table


def test_a_slower_mode_is_a_regression_with_its_uncertainty() -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "other-machine")
    regressed = comparison.regressions
    assert regressed and {(c.workload, c.mode) for c in regressed} == {("json", GTHREAD)}
    for change in regressed:
        assert change.throughput is not None and change.throughput.relative < -0.05
        assert change.throughput.high is not None and change.throughput.high < 0
        assert any(p.startswith("throughput -") and "±" in p for p in change.problems)
    table = terminal_table(comparison)
    # Between two machines: a regression said to be between runs that are not comparable.
    assert "REGRESSION (the runs are not comparable): throughput -" in table
    assert (
        f"{len(regressed)} regression(s) beyond 5% in 18 cells in both runs (the runs are not comparable"
        in table
    )


def test_a_cell_that_fails_now_is_a_regression_and_a_missing_mode_is_noted() -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "partial")
    failed = [c for c in comparison.regressions if c.mode == GEVENT and c.workload == "io[ms=100]"]
    assert len(failed) == 3 and all(c.problems[0].startswith("failed now") for c in failed)
    assert "run: no result for werkzeug-single" in comparison.missing
    assert "note: run: no result for werkzeug-single" in terminal_table(comparison)


@pytest.mark.parametrize(
    ("change", "sign", "worse"),
    [
        (Change(-0.10, None), -1, True),  # a single trial: the change alone decides
        (Change(-0.10, 0.04), -1, True),  # the whole interval is below zero
        (Change(-0.10, 0.20), -1, False),  # the interval includes no change: noise
        (Change(-0.03, None), -1, False),  # within the threshold
        (Change(+0.10, None), -1, False),  # faster is not a regression
        (Change(+0.30, 0.10), +1, True),  # p99 up by 30% ± 10%
        (None, +1, False),
    ],
)
def test_a_regression_is_beyond_the_threshold_and_beyond_the_noise(
    change: Change | None, sign: int, worse: bool
) -> None:
    assert _worse(change, 0.05, sign) is worse


def test_compare_page_leads_with_the_differences(tmp_path: Path) -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "other-machine")
    path, _, size = write_compare(comparison, tmp_path / "c.html")
    html = path.read_text()
    assert size == len(html.encode())
    assert html.index("These runs differ") < html.index("Regressions") < html.index("compare-table")
    assert "cpu_count: 2 vs 8" in html and html.count('data-chart="change-') == 4


def test_compare_exits_non_zero_on_regression_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["compare", str(RUNS / "good"), str(RUNS / "other-machine"), "-o", str(tmp_path / "c.html")]
    assert main(args) == 0
    assert main([*args, "--fail-on-regression"]) == 1
    assert "regression(s) beyond 5%" in capsys.readouterr().err
    assert main([*args, "--fail-on-regression", "--threshold", "50%"]) == 0
    out = capsys.readouterr().out
    assert "0 regression(s) beyond 50%" in out and f"wrote {tmp_path / 'c.html'}" in out


def test_threshold_must_be_a_percentage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["compare", "a", "b", "--threshold", "lots"])
    assert raised.value.code == 2
    assert "'lots' is not a percentage" in capsys.readouterr().err


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    return tmp_path / "baselines"


def test_a_baseline_is_a_copy_of_the_results_kept_by_name(store: Path) -> None:
    saved = save_baseline(RUNS / "good", "prod-2026")
    assert saved == store / "prod-2026" == baselines_dir() / "prod-2026"
    assert (saved / "run.json").read_text() == (RUNS / "good" / "run.json").read_text()
    assert len(list((saved / "cells").glob("*.json"))) == 36
    assert json.loads((saved / "baseline.json").read_text())["source"] == str((RUNS / "good").resolve())
    (listed,) = list_baselines()
    assert (listed.name, listed.modes, listed.cells) == ("prod-2026", 3, 36)
    assert "Intel(R) Xeon(R)" in listed.machine and listed.started_at.startswith("2026-11-21")
    assert resolve_baseline("prod-2026") == saved
    assert compare_runs(resolve_baseline("prod-2026"), RUNS / "good").regressions == []


def test_a_baseline_of_a_simulated_run_is_listed_with_its_method(store: Path, tmp_path: Path) -> None:
    run = tmp_path / "simulated"
    shutil.copytree(RUNS / "good", run)
    meta = json.loads((run / "run.json").read_text())
    meta["metadata"]["hosts"] = {"simulated": True, "method": "simulated (one kernel)"}
    (run / "run.json").write_text(json.dumps(meta))
    save_baseline(run, "sim")
    (listed,) = list_baselines()
    assert "Intel(R) Xeon(R)" in listed.machine and listed.machine.endswith("; simulated (one kernel)")


def test_baselines_are_not_overwritten_unless_asked(store: Path) -> None:
    save_baseline(RUNS / "good", "prod")
    with pytest.raises(UserError, match="exists"):
        save_baseline(RUNS / "other-machine", "prod")
    save_baseline(RUNS / "other-machine", "prod", force=True)
    (listed,) = list_baselines()
    assert "AMD EPYC" in listed.machine
    assert not [p for p in store.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_baseline_names_and_lookups_are_checked(store: Path) -> None:
    with pytest.raises(UserError, match="not allowed"):
        save_baseline(RUNS / "good", "../escape")
    save_baseline(RUNS / "good")  # named after the folder
    with pytest.raises(UserError, match=r"neither a run folder nor a saved baseline .*: good\)"):
        resolve_baseline("nope")


def test_baseline_commands(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "list"]) == 0
    assert "no baselines in" in capsys.readouterr().out
    assert main(["baseline", "save", str(RUNS / "good"), "home"]) == 0
    assert main(["baseline", "list"]) == 0
    out = capsys.readouterr().out
    assert "saved baseline home" in out and "home " in out.splitlines()[-1]
    run = tmp_path / "run"
    shutil.copytree(RUNS / "other-machine", run)
    assert main(["compare", "home", str(run), "--fail-on-regression"]) == 1
    assert (run / "compare.html").exists()


def test_an_open_loop_run_against_a_closed_loop_one_is_a_difference(tmp_path: Path) -> None:
    closed = write_run(tmp_path / "closed", {(SYNC, "json", 100, 1): cell(90.0)}, [100])
    rates = {(SYNC, "json", 100, 1): cell(99.0, offered=100.0)}
    open_loop = write_run(tmp_path / "open", rates, [100], open_loop=True)
    comparison = compare_runs(closed, open_loop)
    assert any(d.startswith("matrix arrival_rates: None vs [100]") for d in comparison.differences)
    page, _, _ = write_compare(comparison, tmp_path / "compare.html")
    html = page.read_text()
    assert '<th class="num">offered req/s</th>' in html and "offered requests per second" in html


def test_a_change_of_exactly_the_threshold_is_not_beyond_it() -> None:
    # 110 against 100 is 10.000000000000009% in floating point: still 10%, not a regression at 10%.
    change = Change(110.0 / 100.0 - 1.0, None)
    assert change.relative > 0.10
    assert not _worse(change, 0.10, +1)
    assert _worse(Change(0.1001, None), 0.10, +1)


def _app_run(root: Path, app: dict[str, object] | None) -> Path:
    return write_run(
        root, {(SYNC, "app:get", 1, 1): cell(100.0)}, [1], metadata={"app": app} if app else None
    )


NOTES = {"name": "notes-api", "bundled": False, "version": "1.0.0", "lock_sha256": "a" * 64}


def test_runs_of_different_apps_are_refused_unless_asked(tmp_path: Path) -> None:
    notes = _app_run(tmp_path / "notes", NOTES)
    bundled = _app_run(tmp_path / "bundled", None)
    with pytest.raises(
        UserError,
        match=r"measured the bundled app benchapp and .* measured notes-api 1\.0\.0 "
        r"\(lock sha256 aaaaaaaaaaaa\): different apps, so no figure is comparable "
        r"\(--allow-different-apps compares them anyway\)",
    ):
        compare_runs(bundled, notes)
    allowed = compare_runs(bundled, notes, allow_different_apps=True)
    assert (
        allowed.differences[0]
        == "different apps: the bundled app benchapp vs notes-api 1.0.0 (lock sha256 aaaaaaaaaaaa)"
    )


def test_another_version_of_the_same_app_is_compared_under_a_warning(tmp_path: Path) -> None:
    old = _app_run(tmp_path / "old", NOTES)
    new = _app_run(tmp_path / "new", {**NOTES, "version": "1.1.0", "lock_sha256": "b" * 64})
    differences = compare_runs(old, new).differences
    assert differences[:2] == (
        "app notes-api version: 1.0.0 vs 1.1.0",
        "app notes-api: its lock file differs (sha256 aaaaaaaaaaaa vs bbbbbbbbbbbb): "
        "its pinned packages are not the same",
    )


def test_compare_says_in_one_line_that_the_apps_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = _app_run(tmp_path / "notes", NOTES)
    bundled = _app_run(tmp_path / "bundled", None)
    assert main(["compare", str(bundled), str(notes)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different apps" in err[0]
    assert not (notes / "compare.html").exists()
    assert main(["compare", str(bundled), str(notes), "--allow-different-apps"]) == 0
    assert "different apps: the bundled app benchapp vs notes-api" in capsys.readouterr().out


def test_the_summary_and_the_report_name_the_app(tmp_path: Path) -> None:
    from servingmatrix.analysis.points import aggregate
    from servingmatrix.analysis.verdict import Objective
    from servingmatrix.report.environment_rows import mode_info
    from servingmatrix.report.markdown import render_markdown
    from servingmatrix.report.views.summary import summarize
    from servingmatrix.results.folder import RunFolder
    from servingmatrix.results.run import load_run

    record = {
        **NOTES,
        "git_commit": "c" * 40,
        "folder": "examples/notes-api",
        "wsgi": "notes_api.wsgi:app",
        "health": "/healthz",
        "requests": [
            {"name": "get", "method": "GET", "path": "/notes/42", "weight": 3, "statuses": [200]},
            {"name": "create", "method": "POST", "path": "/notes", "weight": 1, "statuses": [201]},
        ],
    }
    run = _app_run(tmp_path / "notes", record)
    assert summarize(RunFolder(run)).splitlines()[0] == (
        "app: notes-api 1.0.0 (git cccccccccccc; lock sha256 aaaaaaaaaaaa)"
    )
    text = render_markdown(aggregate(load_run(run)), Objective(), "charts").text
    assert "App under test" in text and "notes-api 1.0.0 (git cccccccccccc; lock sha256 aaaaaaaaaaaa)" in text
    assert "WSGI callable: notes\\_api.wsgi:app" in text and "| create | 25% | `POST /notes` | 201 |" in text
    # Each mode's command is the one that served the app.
    assert mode_info(load_run(run), SYNC).command.endswith(" notes_api.wsgi:app")
    assert mode_info(load_run(RUNS / "good"), SYNC).command.endswith(" benchapp.wsgi:app")
    old = summarize(RunFolder(RUNS / "good")).splitlines()[0]
    assert old == "app: the bundled app benchapp"


def test_two_apps_of_one_name_are_two_apps(tmp_path: Path) -> None:
    """The name alone does not make one app: another WSGI callable, or a user's app named as the
    bundled one, is another app, refused as another name is."""
    notes = _app_run(tmp_path / "notes", {**NOTES, "wsgi": "notes_api.wsgi:app"})
    other = _app_run(tmp_path / "other", {**NOTES, "wsgi": "other_api.wsgi:app"})
    with pytest.raises(UserError, match=r"different apps \(WSGI callable notes_api\.wsgi:app vs other_api"):
        compare_runs(notes, other)
    allowed = compare_runs(notes, other, allow_different_apps=True)
    assert allowed.differences[0].startswith("different apps (WSGI callable notes_api.wsgi:app vs other_api")
    bundled = _app_run(tmp_path / "bundled", None)
    impostor = _app_run(tmp_path / "impostor", {"name": "benchapp", "bundled": False, "wsgi": "benchapp:app"})
    with pytest.raises(UserError, match=r"one is the bundled app, the other a user's app of the same name"):
        compare_runs(bundled, impostor)


def test_the_same_app_at_another_lock_is_compared_and_said(tmp_path: Path) -> None:
    record = {**NOTES, "wsgi": "notes_api.wsgi:app"}
    old = _app_run(tmp_path / "old", record)
    new = _app_run(tmp_path / "new", {**record, "lock_sha256": "b" * 64})
    assert compare_runs(old, new).differences[0] == (
        "app notes-api: its lock file differs (sha256 aaaaaaaaaaaa vs bbbbbbbbbbbb): "
        "its pinned packages are not the same"
    )
    unrecorded = _app_run(tmp_path / "unrecorded", {**record, "lock_sha256": None})
    assert compare_runs(unrecorded, new).differences[0] == (
        "app notes-api: only the second run recorded its lock file (sha256 bbbbbbbbbbbb); the first "
        "recorded none, so whether its pinned packages changed is unknown"
    )


def test_cells_in_one_run_only_are_not_in_both_runs_never_regressions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = write_run(
        tmp_path / "base", {(SYNC, "json", 1, 1): cell(100.0), (SYNC, "json", 8, 1): cell(500.0)}, [1, 8]
    )
    run = write_run(
        tmp_path / "run", {(SYNC, "json", 1, 1): cell(101.0), (SYNC, "io[ms=100]", 1, 1): cell(9.0)}, [1]
    )
    comparison = compare_runs(baseline, run)
    assert comparison.regressions == [] and len(comparison.in_both) == 1
    apart = {(c.workload, c.users): c.status for c in comparison.not_in_both}
    assert apart == {
        ("json", 8): "not in both runs (only in the baseline: not measured in the run)",
        ("io[ms=100]", 1): "not in both runs (only in the run)",
    }
    table = terminal_table(comparison)
    assert "REGRESSION" not in table
    assert (
        "0 regression(s) beyond 5% in 1 cells in both runs; 2 cell(s) not in both runs, not compared" in table
    )
    page, _, _ = write_compare(comparison, tmp_path / "c.html")
    html = page.read_text()
    assert "No cell regressed beyond 5% (1 cells in both runs compared)" in html
    assert 'class="short"' not in html and "2 cell(s) are not in both runs" in html
    # The gate still fails on the baseline's cell the run lacks, and says it is not in both runs.
    args = ["compare", str(baseline), str(run), "-o", str(tmp_path / "c.html"), "--fail-on-regression"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "1 cell(s) of the baseline not in both runs: not measured in the run" in err
    assert "regression(s)" not in err
    # A run holding every cell of the baseline and more passes it.
    assert (
        main(["compare", str(run), str(baseline), "-o", str(tmp_path / "d.html"), "--fail-on-regression"])
        == 1
    )
    # A run holding every cell of the baseline and more passes it.
    wider = write_run(
        tmp_path / "wider",
        {
            (SYNC, "json", 1, 1): cell(100.0),
            (SYNC, "json", 8, 1): cell(500.0),
            (SYNC, "cpu", 1, 1): cell(50.0),
        },
        [1, 8],
    )
    assert (
        main(["compare", str(baseline), str(wider), "-o", str(tmp_path / "e.html"), "--fail-on-regression"])
        == 0
    )


def test_a_change_between_runs_not_comparable_says_so(tmp_path: Path) -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "other-machine")
    assert not comparison.comparable
    changed = [c for c in comparison.changes if c.gains or c.problems]
    assert changed
    for c in changed:
        assert "(the runs are not comparable" in c.status
    page, _, _ = write_compare(comparison, tmp_path / "c.html")
    html = page.read_text()
    assert 'class="holds"' not in html.split('id="summary"')[1]
    assert ">improvement<" not in html and ">regression<" not in html


def test_a_change_on_a_lower_bound_says_so(tmp_path: Path) -> None:
    bound = [warning("generator-bound", "the load generator set the pace")]
    baseline = write_run(
        tmp_path / "base", {(SYNC, "json", 1, 1): cell(100.0, warnings=bound, generator_bound=True)}, [1]
    )
    run = write_run(tmp_path / "run", {(SYNC, "json", 1, 1): cell(150.0)}, [1])
    (change,) = compare_runs(baseline, run).changes
    assert change.gains and change.status.startswith("improvement (a lower bound (G) in the baseline")
    html = write_compare(compare_runs(baseline, run), tmp_path / "c.html")[0].read_text()
    assert 'class="holds"' not in html.split('class="compare-table"')[1]


def test_an_interval_cut_at_the_charts_edge_ends_in_an_arrowhead(tmp_path: Path) -> None:
    # Two trials a side, far apart: the change's interval is far wider than the chart's span.
    base = {(SYNC, "json", 1, t): cell(rps) for t, rps in ((1, 100.0), (2, 300.0))}
    new = {(SYNC, "json", 1, t): cell(rps) for t, rps in ((1, 110.0), (2, 320.0))}
    comparison = compare_runs(
        write_run(tmp_path / "a", base, [1], trials=2), write_run(tmp_path / "b", new, [1], trials=2)
    )
    html = write_compare(comparison, tmp_path / "c.html")[0].read_text()
    assert html.count('class="clipped"') == 1  # throughput (p99 did not move): cut at both ends
    assert "An arrowhead ends a bar whose interval runs past the chart&#39;s edge." in html
    one = {(SYNC, "json", 1, 1): cell(100.0)}
    quiet = compare_runs(write_run(tmp_path / "c", one, [1]), write_run(tmp_path / "d", one, [1]))
    html = write_compare(quiet, tmp_path / "d.html")[0].read_text()
    assert 'class="clipped"' not in html and "arrowhead" not in html


def test_a_workload_with_no_cell_in_both_runs_gets_a_sentence_not_empty_charts(tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", {(SYNC, "json", 1, 1): cell(100.0)}, [1])
    run = write_run(tmp_path / "run", {(SYNC, "io[ms=100]", 1, 1): cell(9.0)}, [1])
    html = write_compare(compare_runs(base, run), tmp_path / "c.html")[0].read_text()
    assert 'data-charts-expected="0"' in html and 'class="chart-svg' not in html
    assert html.count("none has a figure in both runs") == 2
    # A cell in both runs: its workload's two charts are drawn, the other workload's sentence stays.
    both = write_run(
        tmp_path / "both", {(SYNC, "json", 1, 1): cell(110.0), (SYNC, "io[ms=100]", 1, 1): cell(9.0)}, [1]
    )
    html = write_compare(compare_runs(base, both), tmp_path / "d.html")[0].read_text()
    assert 'data-charts-expected="2"' in html and html.count("none has a figure in both runs") == 1


def test_a_faster_answer_is_a_gain_and_a_slower_one_a_problem_each_way_once(tmp_path: Path) -> None:
    # One trial each side: the change alone decides (no interval to be beyond).
    base = write_run(tmp_path / "base", {(SYNC, "json", 8, 1): cell(1000.0, p99=10.0)}, [8])
    better = write_run(tmp_path / "better", {(SYNC, "json", 8, 1): cell(2000.0, p99=5.0)}, [8])
    worse = write_run(tmp_path / "worse", {(SYNC, "json", 8, 1): cell(500.0, p99=20.0)}, [8])
    (up,) = compare_runs(base, better).changes
    assert (up.problems, up.gains) == ((), ("throughput +100.0%", "p99 -50.0%"))
    (down,) = compare_runs(base, worse).changes
    assert (down.problems, down.gains) == (("throughput -50.0%", "p99 +100.0%"), ())
