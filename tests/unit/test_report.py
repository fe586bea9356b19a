"""The report rendered from recorded runs: verdict, charts, flags, failed cells and missing modes,
and one clear error for a corrupt or truncated results file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.verdict import Objective, concurrency_checks, verdicts
from servingmatrix.cli import main
from servingmatrix.errors import UserError
from servingmatrix.report.document import Cell, Paragraph, Table
from servingmatrix.report.html import chart_script, render_document
from servingmatrix.report.page import REPORT_FILE, write_report
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run
from tests.unit import chart_dom
from tests.unit.chart_dom import flag_letters, legend, page_charts, points, series

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
SYNC = "gunicorn-sync[workers=3]"
GTHREAD = "gunicorn-gthread[workers=2,threads=4]"
GEVENT = "gunicorn-gevent[workers=1,connections=1000]"
JSON, IO = "json", "io[ms=100]"


def results(name: str) -> Results:
    return aggregate(load_run(RUNS / name))


def copy_run(name: str, tmp_path: Path, trials: tuple[int, ...] = (1, 2)) -> Path:
    """A writable copy of a recorded run, keeping only the given trials."""
    target = tmp_path / name
    shutil.copytree(RUNS / name, target)
    for cell in (target / "cells").glob("*.json"):
        if json.loads(cell.read_text())["trial"] not in trials:
            cell.unlink()
    return target


@pytest.fixture(scope="module")
def good() -> Results:
    return results("good")


@pytest.fixture(scope="module")
def good_html(good: Results) -> str:
    return render_document(build_document(good, Objective()))


def codes(res: Results, workload: str, mode: str, users: int) -> set[str]:
    point = res.point(workload, mode, users)
    assert point is not None
    return set(point.codes)


def test_trials_fold_into_their_median_with_their_flags(good: Results) -> None:
    point = good.point(JSON, GTHREAD, 8)
    assert point is not None and point.throughput is not None
    values = [c.throughput_rps for c in point.cells if c.throughput_rps is not None]
    assert point.throughput.median == pytest.approx(median(values))
    assert point.trials == 2
    assert "high-variance" in codes(good, JSON, GTHREAD, 8)
    assert "loadgen-saturated" in codes(good, JSON, GEVENT, 64)
    assert "errors" in codes(good, IO, SYNC, 64)
    assert "cpu-throttled" in codes(good, JSON, GTHREAD, 64)
    # json and io call no backing service: the cores the plan shares with them are idle for these figures.
    assert not any("cores-shared" in p.codes for p in good.points.values())
    assert codes(good, JSON, SYNC, 1) == set()


def test_verdict_names_the_mode_serving_most_within_the_objective(good: Results) -> None:
    by_workload = {v.workload: v for v in verdicts(good, Objective())}
    json_verdict, io_verdict = by_workload[JSON], by_workload[IO]
    assert json_verdict.winner is not None and json_verdict.winner.mode == GEVENT
    assert [p.mode for p in json_verdict.ranking] == [GEVENT, GTHREAD, SYNC]
    assert json_verdict.margin is not None and json_verdict.margin.relative > 0.2
    assert json_verdict.certainty.startswith("clear:")
    # On io, sync's three workers queue 64 users past the objective: its best level is the lowest.
    assert io_verdict.winner is not None and io_verdict.winner.mode == GEVENT
    sync = next(p for p in io_verdict.ranking if p.mode == SYNC)
    assert sync.users == 1 and sync.p99 is not None and sync.p99 <= 500


def test_the_objective_is_a_parameter(good: Results) -> None:
    by_workload = {v.workload: v for v in verdicts(good, Objective(p99_ms=20.0))}
    winner = by_workload[JSON].winner
    assert winner is not None and winner.p99 is not None and winner.p99 <= 20.0
    assert by_workload[IO].winner is None
    assert {m for m, _ in by_workload[IO].unqualified} == {SYNC, GTHREAD, GEVENT}
    assert all("p99 above 20 ms at every step" in why for _, why in by_workload[IO].unqualified)
    html = render_document(build_document(good, Objective(p99_ms=20.0)))
    assert "No mode met the objective" in html


def test_a_single_trial_says_it_has_no_estimate_of_variance(tmp_path: Path) -> None:
    res = aggregate(load_run(copy_run("good", tmp_path, trials=(1,))))
    for verdict in verdicts(res, Objective()):
        assert verdict.certainty == "single trial, no estimate of variance: the margin may be noise"
    html = render_document(build_document(res, Objective()))
    assert "single trial, no estimate of variance" in html


def test_concurrency_on_io_is_set_against_the_folk_claims(good: Results) -> None:
    checks = {c.mode: c for c in concurrency_checks(good)}
    assert set(checks) == {SYNC, GTHREAD, GEVENT}
    assert checks[SYNC].promised == 3 and checks[SYNC].effective == pytest.approx(3.0, rel=0.05)
    assert checks[SYNC].judgement == "holds"
    assert checks[GTHREAD].promised == 8 and checks[GTHREAD].judgement == "holds"
    # gevent promises 1000 but was offered 64 users: the claim is held to 64, and says so.
    assert checks[GEVENT].expected == 64
    assert checks[GEVENT].judgement.startswith("holds up to the 64 users offered")
    assert all(c.users == 64 for c in checks.values())


def test_sections_come_in_the_issue_order(good_html: str) -> None:
    headings = re.findall(r"<h2[^>]*>(\d)\. ", good_html)
    assert headings == ["1", "2", "3", "4", "5", "6"]
    assert 'class="verdict-table"' in good_html
    assert "Concurrency on <code>io</code>" in good_html


def test_the_page_works_offline(good_html: str) -> None:
    assert good_html.count(chart_script()) == 1
    assert not re.search(r"<script[^>]+src=", good_html)
    assert "<link" not in good_html
    assert not re.search(r"(src|href)=\"https?://", good_html)


def test_every_chart_has_data_and_a_place_on_the_page(good_html: str) -> None:
    charts = page_charts(good_html)
    expected = int(re.search(r'data-charts-expected="(\d+)"', good_html).group(1))  # type: ignore[union-attr]
    # Per workload: throughput, latency, efficiency, and errors where a request failed (io only: json's
    # chart of zeros is a sentence); plus memory and io's concurrency.
    assert len(charts) == expected == 2 * 3 + 1 + 2
    assert "errors-io-ms-100" in charts and "errors-json" not in charts
    assert "No request failed on json: every step of every mode served without errors." in good_html
    for chart_id, svg in charts.items():
        assert f'<div class="chart" id="{chart_id}">' in good_html
        assert int(svg.attrib["data-points"]) > 0, chart_id


def test_flagged_points_carry_their_letters_on_the_charts(good_html: str) -> None:
    throughput = page_charts(good_html)["throughput-json"]
    (gevent,) = series(throughput, GEVENT)
    # Its last point (64 users) is hollow, lettered, and says why on hover.
    saturated = points(gevent)[-1]
    assert saturated.get("fill") == "#fff" and flag_letters(gevent) == ["S"]
    hover = chart_dom.title(saturated)
    assert "json, 64 users: 1,154 req/s" in hover and "load generator saturated" in hover
    (gthread,) = series(throughput, GTHREAD)
    assert flag_letters(gthread) == ["V", "T"] and points(gthread)[1].get("fill") == "#fff"
    (sync,) = series(throughput, SYNC)
    assert flag_letters(sync) == [] and all(p.get("fill") is None for p in points(sync))
    # The flag every figure carries is named by the caption, not on every point.
    assert not any("cores shared" in chart_dom.title(p) for p in points(sync))


def by_mode(table: Table, label: str) -> dict[str, Cell]:
    """One column of a table, by the mode each row is about."""
    i = [c.label for c in table.columns].index(label)
    return {row[0].text: row[i] for row in table.rows if len(row) > i}


def test_flagged_figures_carry_their_flags_in_every_table(good: Results) -> None:
    document = build_document(good, Objective())
    steps = document.tables("throughput-table")[JSON]
    for row in steps.rows:
        for users, fig in zip(good.users, row[1:], strict=True):
            point = good.point(JSON, row[0].text, users)
            assert point is not None
            expected = "".join(f.letter for f in point.flags if f.code != "cores-shared")
            assert "".join(b.letter for b in fig.flags) == expected
    cost = document.tables("cost-table")[JSON]
    assert [b.letter for b in by_mode(cost, "req/s")[GTHREAD].flags] == ["T"]
    assert [b.letter for b in by_mode(cost, "req per CPU-second")[GTHREAD].flags] == ["T"]
    concurrency = document.tables("concurrency-table")[IO]
    assert [b.letter for b in by_mode(concurrency, "achieved, at once")[SYNC].flags] == ["E"]
    # No figure carries C (json and io call no backing service), so no banner says it.
    assert not [s for s in document.preface if isinstance(s, Paragraph) and s.style == "banner"]


def test_warnings_list_every_flagged_figure(good_html: str) -> None:
    section = good_html[good_html.index('id="warnings"') : good_html.index('id="environment"')]
    for title in ("load generator saturated", "CPU throttled", "errors", "noisy: CV above 10%"):
        assert title in section
    assert "cores shared by the CPU plan" not in section


def test_environment_and_methodology_are_shown(good_html: str) -> None:
    section = good_html[good_html.index('id="environment"') :]
    for text in ("Intel(R) Xeon(R) Processor", "fuse-overlayfs", "warm-up per step", "Little"):
        assert text in section
    # No mixed workload in this run: no table of its weights.
    assert "/db?rows=1" not in section and "workload&#39;s weights" not in section
    assert "cores shared" in section


def test_per_mode_detail_has_command_tunables_image_and_cells(good_html: str) -> None:
    section = good_html[good_html.index('id="modes"') : good_html.index('id="warnings"')]
    assert "gunicorn --bind 127.0.0.1:18000 --workers 2 --worker-class gthread --threads 4" in section
    assert "threads = 4" in section and "sha256:aa01" in section and "gevent" in section
    assert section.count("<tr><td>json</td>") == 3 * 3 * 2


def test_a_run_with_failed_cells_and_a_missing_mode(tmp_path: Path) -> None:
    res = results("partial")
    assert res.missing_modes() == ["werkzeug-single"]
    partial = res.point(JSON, GTHREAD, 64)
    assert partial is not None and partial.trials == 1 and "failed-trials" in partial.codes
    failed = res.point(IO, GEVENT, 1)
    assert failed is not None and not failed.ok
    by_workload = {v.workload: v for v in verdicts(res, Objective())}
    assert (GEVENT, "every cell failed") in by_workload[IO].unqualified
    html = render_document(build_document(res, Objective()))
    assert "Missing modes" in html and "werkzeug-single" in html
    assert "conformance check failed: /io answered 502" in html
    assert "the server stopped during the run (OOM-killed)" in html
    # Charts still draw every mode that has data, with a gap where the cells failed.
    io_throughput = page_charts(html)["throughput-io-ms-100"]
    assert GEVENT not in legend(io_throughput) and SYNC in legend(io_throughput)
    assert f"Not drawn, every cell failed: {GEVENT}" in html
    assert write_report(RUNS / "partial", tmp_path / "partial.html").size_bytes > 0


def test_a_recorded_run_of_the_runner_renders(tmp_path: Path) -> None:
    res = results("recorded")
    (verdict,) = verdicts(res, Objective())
    assert verdict.winner is not None and verdict.certainty == "the only mode that met the objective"
    html = render_document(build_document(res, Objective()))
    assert "This run has no <code>io</code> workload" in html


def test_report_is_written_into_the_run_by_default(tmp_path: Path) -> None:
    run = copy_run("recorded", tmp_path)
    written = write_report(run)
    assert written.path == run / REPORT_FILE and written.path.stat().st_size == written.size_bytes
    assert "rendered in" in written.describe()


def test_report_command_prints_where_time_and_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "r.html"
    assert main(["report", str(RUNS / "good"), "-o", str(out), "--slo-p99", "250ms"]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "MB, rendered in" in printed
    assert "p99 ≤ 250 ms" in out.read_text()


def corrupt_truncated(run: Path, cell: Path) -> None:
    cell.write_text(cell.read_text()[:200])


def corrupt_missing_figure(run: Path, cell: Path) -> None:
    data = json.loads(cell.read_text())
    del data["throughput_rps"]
    cell.write_text(json.dumps(data))


def corrupt_wrong_type(run: Path, cell: Path) -> None:
    data = json.loads(cell.read_text())
    data["users"] = "eight"
    cell.write_text(json.dumps(data))


def corrupt_latency(run: Path, cell: Path) -> None:
    data = json.loads(cell.read_text())
    data["latency_ms"] = {"p50": 1.0}
    cell.write_text(json.dumps(data))


def corrupt_newer_schema(run: Path, cell: Path) -> None:
    data = json.loads(cell.read_text())
    data["schema"] = 99
    cell.write_text(json.dumps(data))


def corrupt_binary(run: Path, cell: Path) -> None:
    cell.write_bytes(b"\xff\xfe\x00garbage")


def corrupt_run_file(run: Path, cell: Path) -> None:
    (run / "run.json").write_text('{"schema": 1, "matrix": ')


def duplicate_cell(run: Path, cell: Path) -> None:
    shutil.copy(cell, cell.with_name("stray-copy.json"))


@pytest.mark.parametrize(
    ("damage", "names", "says"),
    [
        (corrupt_truncated, "cell", "not valid JSON, the file is corrupt or truncated"),
        (corrupt_missing_figure, "cell", "'throughput_rps' is missing or not a number"),
        (corrupt_wrong_type, "cell", "'users' is missing or not an integer"),
        (corrupt_latency, "cell", "'latency_ms.p95' is missing or not a number"),
        (corrupt_newer_schema, "cell", "schema 99 is newer"),
        (corrupt_binary, "cell", "corrupt"),
        (corrupt_run_file, "run", "not valid JSON"),
        (duplicate_cell, "stray", "the same cell as"),
    ],
)
def test_a_corrupt_results_file_is_one_clear_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: Any, names: str, says: str
) -> None:
    run = copy_run("recorded", tmp_path)
    cell = sorted((run / "cells").glob("*.json"))[0]
    damage(run, cell)
    expected = {"cell": cell, "run": run / "run.json", "stray": cell.with_name("stray-copy.json")}[names]
    with pytest.raises(UserError) as raised:
        write_report(run)
    assert str(expected) in str(raised.value) and says in str(raised.value)
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("servingmatrix: error: ") and str(expected) in err
    assert "Traceback" not in err


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a run folder"):
        write_report(tmp_path)


def test_run_ends_by_writing_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make matrix` is `servingmatrix run`: its last line names the report it wrote."""
    import servingmatrix.building.images
    from servingmatrix.run import measure_matrix

    class RecordedRunner:
        """Stands in for the runner: the run it "measures" is the recorded one."""

        def __init__(
            self, docker: object, matrix: object, folder: Any, *args: object, **kwargs: object
        ) -> None:
            self.root = folder.root

        def run(self) -> None:
            shutil.copytree(RUNS / "recorded", self.root, dirs_exist_ok=True)

    monkeypatch.setattr(measure_matrix, "Docker", lambda: None)
    monkeypatch.setattr(servingmatrix.building.images, "build_images", lambda *args, **kwargs: [])
    monkeypatch.setattr(measure_matrix, "new_runner", RecordedRunner)
    out = tmp_path / "run"
    assert main(["run", "--profile", "quick", "--out", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"report: {out / REPORT_FILE} (") and "rendered in" in last
    assert "Verdict" in (out / REPORT_FILE).read_text()
