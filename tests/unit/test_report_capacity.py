"""Capacity, knee, outlier trials, generator-bound figures, open-loop runs and the calibration, in the
report's context, its page and the Markdown export, from runs whose answers are known."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.analysis.capacity import capacities, knee_text
from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.verdict import SATURATED_CPU_SHARE, Objective, concurrency_checks
from servingmatrix.report.environment_rows import calibration_rows
from servingmatrix.report.export import export_markdown
from servingmatrix.report.html import render_document
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run
from tests.unit.boundaries import HAIR
from tests.unit.chart_dom import legend, page_charts, points, series, title
from tests.unit.synthetic_runs import CALIBRATION, GEVENT, SYNC, cell, closed_cells, warning, write_run

JSON = "json"


@pytest.fixture
def closed(tmp_path: Path) -> Path:
    return write_run(tmp_path / "closed", closed_cells(), [1, 8, 64], trials=3, calibration=CALIBRATION)


@pytest.fixture
def open_loop(tmp_path: Path) -> Path:
    cells = {}
    for rate, achieved, p99 in ((100, 100.0, 5.0), (200, 198.0, 20.0), (400, 205.0, 900.0)):
        cells[(SYNC, JSON, rate, 1)] = cell(achieved, p99=p99, offered=float(rate))
    return write_run(tmp_path / "open", cells, [100, 200, 400], open_loop=True, calibration={"error": "boom"})


def results(root: Path) -> Results:
    return aggregate(load_run(root))


def test_capacity_is_the_best_point_within_the_objective_and_the_knee_where_growth_stops(
    closed: Path,
) -> None:
    res = results(closed)
    by_mode = {c.mode: c for c in capacities(res, JSON, Objective())}
    sync = by_mode[SYNC]
    assert sync.point is not None and sync.point.users == 64 and sync.throughput == 760.0
    assert sync.point.throughput is not None
    assert (sync.point.throughput.ci_low, sync.point.throughput.ci_high) == (759.0, 761.0)
    # 700 at 8 users is 92% of the peak of 760: the knee.
    assert sync.knee is not None and sync.knee.step == 8 and not sync.knee.at_last_step
    # p99 10 ms at 8 users (every trial), 80 ms at 64: what the load past the knee added.
    assert knee_text(res, sync.knee) == (
        "knee at 8 users: 700 req/s, 92% of its peak of 760 at 64 users; "
        "p99 10.0 ms there, 80.0 ms at 64 users"
    )
    gevent = by_mode[GEVENT]
    assert gevent.point is None and gevent.why_not is not None
    assert "p99 above 500 ms at every step" in gevent.why_not
    assert gevent.knee is not None and gevent.knee.step == 8
    # A looser objective lets gevent qualify, at its highest step.
    loose = {c.mode: c for c in capacities(res, JSON, Objective(p99_ms=1000.0))}
    best = loose[GEVENT].point
    assert best is not None and best.users == 64


def test_the_capacity_table_and_the_knee_on_the_page(closed: Path) -> None:
    res = results(closed)
    document = build_document(res, Objective())
    rows = {row[0].text: row for row in document.tables("capacity-table")[JSON].rows}
    capacity, step, p99, interval, knee = rows[SYNC][1:]
    assert capacity.text == "760" and [b.letter for b in capacity.flags] == ["G"]
    assert (step.text, p99.text, interval.text) == ("64", "80.0", "759 to 761")
    assert (knee.text, knee.sub) == ("8 users, 700 req/s", "")
    assert "92% of its peak of 760 at 64 users" in knee.title
    why_not, gevent_knee = rows[GEVENT][1:]
    assert why_not.text.startswith("none within the objective") and gevent_knee.text.startswith("8 users,")
    html = render_document(document)
    assert 'class="capacity-table" data-workload="json"' in html
    assert "none within the objective: p99 above 500 ms at every step" in html
    throughput = page_charts(html)["throughput-json"]
    assert "knee (first step at 90% of the peak)" in legend(throughput)
    for mode, says in ((SYNC, "knee at 8 users: 700 req/s"), (GEVENT, "knee at 8 users: 900 req/s")):
        (group,) = series(throughput, mode)
        (ring,) = [c for c in group.iter("circle") if c.get("class") == "knee"]
        (at_knee,) = [p for p in points(group) if says in title(p)]
        assert (ring.get("cx"), ring.get("cy")) == (at_knee.get("cx"), at_knee.get("cy"))
    assert "A ring marks each mode" in html


def test_an_outlier_trial_is_flagged_and_does_not_move_the_median(closed: Path) -> None:
    res = results(closed)
    point = res.point(JSON, SYNC, 8)
    assert point is not None and point.throughput is not None
    assert point.throughput.median == 700.0
    assert {"outlier-trial", "high-variance"} <= point.codes
    (flag,) = [f for f in point.flags if f.code == "outlier-trial"]
    assert flag.letter == "O" and "trial 3 at 900 req/s" in flag.message
    steady = res.point(JSON, SYNC, 1)
    assert steady is not None and "outlier-trial" not in steady.codes
    html = render_document(build_document(res, Objective()))
    assert "outlier trial" in html and "noisy: CV above 10%" in html


def test_generator_bound_figures_carry_g(closed: Path, tmp_path: Path) -> None:
    res = results(closed)
    point = res.point(JSON, SYNC, 64)
    assert point is not None and [f.letter for f in point.flags] == ["G"]
    assert point.cells[0].loadgen.bound is True
    export_markdown(closed, tmp_path / "m.md")
    text = (tmp_path / "m.md").read_text()
    assert "| `gunicorn-sync[workers=3]` | 760 [G] | 64 | 80.0 | 759 to 761 | 8 users, 700 req/s |" in text
    assert "**[G] generator-bound**" in text and "**[O] outlier trial**" in text
    svg = (tmp_path / "m-charts" / "throughput-json.svg").read_text()
    assert svg.count('class="knee"') == 2


def test_a_closed_loop_run_labels_its_steps_as_users(closed: Path) -> None:
    res = results(closed)
    assert not res.open_loop and res.step_label == "users"
    assert res.step_text(1) == "1 user" and res.step_text(64) == "64 users"
    svg = page_charts(render_document(build_document(res, Objective())))["throughput-json"]
    assert "concurrent users (log scale)" in [t.text for t in svg.iter("text")]


def test_an_open_loop_run_labels_its_steps_as_offered_rates(open_loop: Path, tmp_path: Path) -> None:
    res = results(open_loop)
    # The matrix's users are the runner's defaults; the steps are the arrival rates.
    assert res.open_loop and res.users == (100, 200, 400)
    assert res.step_label == "offered req/s" and res.step_text(200) == "200 offered req/s"
    document = build_document(res, Objective())
    steps = document.tables("throughput-table")[JSON]
    assert [c.label for c in steps.columns[1:]] == [
        "100 offered req/s",
        "200 offered req/s",
        "400 offered req/s",
    ]
    (row,) = document.tables("capacity-table")[JSON].rows
    assert (row[1].text, row[2].text, row[3].text) == ("198", "200", "99%")
    assert row[-1].text.startswith("200 offered req/s,")
    html = render_document(document)
    assert '<th class="num">achieved req/s</th><th class="num">offered req/s</th>' in html
    assert '<th class="num">100 offered req/s</th>' in html and "1 user" not in html
    svg = page_charts(html)["throughput-json"]
    assert "offered requests per second (log scale)" in [t.text for t in svg.iter("text")]
    assert legend(svg)["offered (achieved = offered)"] == "offered"
    (offered,) = [g for g in svg.iter("g") if g.get("data-series") == "offered"]
    assert offered.find("path") is not None
    export_markdown(open_loop, tmp_path / "m.md")
    text = (tmp_path / "m.md").read_text()
    assert "offered req/s 100, 200, 400 (open loop)" in text
    assert (
        "| mode | achieved req/s | offered req/s | achieved / offered | p99 ms | 95% interval, req/s | knee |"
        in text
    )
    assert (
        "| `gunicorn-sync[workers=3]` | 198 | 200 | 99% | 20.0 | single trial "
        "| 200 offered req/s, 198 req/s |" in text
    )
    assert "| mode: req/s (p50, p99 ms) | 100 offered req/s |" in text


def test_the_calibration_is_shown_whatever_the_run_holds(
    closed: Path, open_loop: Path, tmp_path: Path
) -> None:
    rows = dict(calibration_rows(CALIBRATION))
    assert rows["most the generator sent"] == "4,322 req/s"
    assert rows["limited by"].startswith("the load generator: it used at least 90%")
    assert rows["generator CPU"] == "97% of its 100% quota" and rows["target CPU"] == "41%"
    assert rows["load"] == "1 process(es), 64 users, 6 s measured"
    assert dict(calibration_rows({"error": "boom"}))["calibration"].startswith("failed: boom")
    assert dict(calibration_rows(None))["calibration"].startswith("not recorded")
    extra = dict(calibration_rows({**CALIBRATION, "server_cpu_pct": None, "novel": 3}))
    assert extra["target CPU"] == "not measured" and extra["novel"] == "3"
    for root, says in ((closed, "4,322 req/s"), (open_loop, "failed: boom")):
        html = render_document(build_document(results(root), Objective()))
        section = html[html.index('id="environment"') :]
        assert "Load generator calibration" in section and says in section
        export_markdown(root, tmp_path / f"{root.name}.md")
        markdown = (tmp_path / f"{root.name}.md").read_text()
        assert "- Load generator calibration: " in markdown and says in markdown


def test_an_open_loop_io_claim_is_held_to_the_requests_the_rate_keeps_in_flight(tmp_path: Path) -> None:
    io = "io[ms=100]"
    cells = {}
    for rate in (100, 400):
        data = cell(rate * 0.995, p99=120.0, offered=float(rate))
        data["effective_concurrency"] = rate * 0.995 * 0.1
        data["effective_concurrency_basis"] = "io sleep"
        data["promised_concurrency"] = 1000
        cells[(GEVENT, io, rate, 1)] = data
    res = results(write_run(tmp_path / "open-io", cells, [100, 400], open_loop=True))
    (check,) = concurrency_checks(res)
    # 400 req/s of 100 ms requests keep 40 in flight: the claim of 1000 is held to 40.
    assert check.users == 400 and check.offered == 40 and check.expected == 40
    assert (
        check.judgement
        == "holds up to the 40 requests in flight at 400 req/s (the claim of 1000 is untested)"
    )


def _short_io_run(tmp_path: Path, mode: str, cpu_pct: float, warnings: list[dict[str, str]]) -> Results:
    """One io[ms=100] cell at 16 users serving 40 req/s: 4 requests at once, each taking 400 ms."""
    data = cell(40.0, p99=600.0, warnings=warnings)
    data["latency_ms"]["mean"] = 400.0
    data["effective_concurrency"] = 4.0
    data["promised_concurrency"] = 8
    data["server"]["cpu_pct"] = cpu_pct
    return results(
        write_run(tmp_path / mode.replace("[", "-").rstrip("]"), {(mode, "io[ms=100]", 16, 1): data}, [16])
    )


NO_KEEP_ALIVE = (
    "no keep-alive: every request opens a new connection, whose accept, set-up and close add to its time "
    "and queue in the listen backlog"
)
STAYS = (
    "keep-alive connections stay with the worker that accepted them: one worker's threads can all be busy "
    "while another worker's idle"
)
QUEUED = "requests queued for a free worker or thread"
SATURATED_AT = SATURATED_CPU_SHARE * 100.0


@pytest.mark.parametrize(
    ("mode", "cpu_pct", "warnings", "cause"),
    [
        ("gunicorn-sync[workers=8]", 40.0, [], NO_KEEP_ALIVE),
        ("gunicorn-gthread[workers=2,threads=4]", 40.0, [], STAYS),
        ("gunicorn-gthread[workers=1,threads=8]", 40.0, [], QUEUED),
        (
            "gunicorn-gthread[workers=2,threads=4]",
            97.0,
            [],
            "the server's CPU was saturated (97%): the work around each sleep queued",
        ),
        (
            "gunicorn-gthread[workers=2,threads=4]",
            SATURATED_AT,
            [],
            f"the server's CPU was saturated ({SATURATED_AT:.0f}%): the work around each sleep queued",
        ),
        ("gunicorn-gthread[workers=2,threads=4]", SATURATED_AT * (1 - HAIR), [], STAYS),
        (
            "gunicorn-sync[workers=8]",
            40.0,
            [warning("generator-bound")],
            "the load generator set the pace, not the server",
        ),
        (
            "gunicorn-sync[workers=8]",
            40.0,
            [warning("loadgen-saturated")],
            "the load generator set the pace, not the server",
        ),
    ],
)
def test_a_concurrency_claim_that_falls_short_says_where_the_time_went(
    tmp_path: Path, mode: str, cpu_pct: float, warnings: list[dict[str, str]], cause: str
) -> None:
    (check,) = concurrency_checks(_short_io_run(tmp_path, mode, cpu_pct, warnings))
    assert check.judgement == (
        f"falls short: 4.0 of the 8 expected; each request took 400 ms against the 100 ms sleep; {cause}"
    )
    assert not check.holds


def test_the_sleep_of_a_workload_is_read_from_its_spec_and_only_from_io() -> None:
    from servingmatrix.analysis.verdict import _claim, _sleep_ms, is_development, keeps_alive

    assert _sleep_ms("io[ms=100]") == 100.0
    assert _sleep_ms("io[ms=7]") == 7.0
    assert _sleep_ms("io") is None, "a spec that does not write its sleep out"
    assert _sleep_ms("json") is None and _sleep_ms("cpu[n=3]") is None
    assert _sleep_ms("io[ms=") is None, "not a spec"
    assert is_development("werkzeug-single") and not is_development("gunicorn-sync[workers=3]")
    assert not is_development("[not a spec")
    assert keeps_alive("gunicorn-gthread[workers=2,threads=4]") is True
    assert keeps_alive("gunicorn-sync[workers=3]") is False
    assert keeps_alive("[not a spec") is None
    assert _claim("[not a spec") == "(a mode this version does not know)"
