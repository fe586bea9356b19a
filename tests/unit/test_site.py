"""The static site: an index of the runs by date, machine and commit, each run's report, and every
cell's history chart across the runs; self-contained, and written only where a site may go."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from servingmatrix.analysis.history import build_history
from servingmatrix.analysis.points import aggregate
from servingmatrix.cli import main
from servingmatrix.report.views.site import SITE_MARK, slug
from servingmatrix.results.run import load_run

from .bundles import published_run
from .synthetic_runs import GEVENT, SYNC, cell, closed_cells, write_run


def second_run(root: Path, **metadata: object) -> Path:
    """A later run of the same cells, from another commit, with no report of its own; SYNC at 8 users
    failed in it."""
    cells = closed_cells()
    for trial in (1, 2, 3):
        cells[(SYNC, "json", 8, trial)] = {"status": "failed", "reason": "the server died"}
    run = write_run(root, cells, [1, 8, 64], trials=3)
    meta = json.loads((run / "run.json").read_text())
    meta["started_at"] = "2026-12-02T08:00:00+00:00"
    meta["metadata"].update(
        {"git_commit": "beef" * 10, "git_dirty": True, "cpu_model": "a CPU", "docker_version": "27.3.1"}
    )
    meta["metadata"].update(metadata)
    (run / "run.json").write_text(json.dumps(meta))
    return run


def third_run(root: Path) -> Path:
    """The second run again, a day later, on the first run's machine."""
    run = second_run(root)
    meta = json.loads((run / "run.json").read_text())
    meta["started_at"] = "2026-12-03T08:00:00+00:00"
    (run / "run.json").write_text(json.dumps(meta))
    return run


def svgs(page: Path) -> dict[str, str]:
    """Each chart's SVG by its id."""
    return dict(
        re.findall(r'<div class="chart" id="([^"]+)" data-svg[^>]*>(.*?)</div>', page.read_text(), re.S)
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    first = published_run(tmp_path / "first")
    second = second_run(tmp_path / "second")
    assert main(["site", str(second), str(first), "-o", str(tmp_path / "site")]) == 0
    return tmp_path / "site"


def test_the_index_lists_the_runs_newest_first_with_machine_and_commit(site: Path) -> None:
    index = (site / "index.html").read_text()
    rows = re.findall(r'<tr data-run="([^"]+)">(.*?)</tr>', index, re.S)
    assert [run_id for run_id, _ in rows] == ["2026-12-02-second", "2026-11-21-first"]
    second = rows[0][1]
    assert "2026-12-02T08:00:00+00:00" in second and "a CPU, 2 CPUs" in second
    assert "beefbeefbeef" in second and "dirty" in second and "27.3.1" in second
    assert 'href="runs/2026-12-02-second/report.html"' in second


def test_each_run_s_report_is_copied_in_or_rendered_when_it_has_none(site: Path) -> None:
    assert (site / "runs" / "2026-11-21-first" / "report.html").read_text() == "<html>the report</html>"
    rendered = (site / "runs" / "2026-12-02-second" / "report.html").read_text()
    assert "Serving Matrix" in rendered and "Verdict" in rendered and rendered.count("<svg") >= 2


def test_every_cell_has_a_history_chart_across_the_runs(site: Path) -> None:
    charts = svgs(site / "history" / f"{slug('json')}.html")
    assert len(charts) == 2 * 3  # two modes x three steps
    sync8 = charts[slug("json", SYNC, "closed", 8)]
    # Failed in the second run: its one point is the first run's, and an x marks the failure.
    assert sync8.count('class="mark"') == 2 and sync8.count('class="failed"') == 1
    assert "the server died" in sync8
    sync1 = charts[slug("json", SYNC, "closed", 1)]
    assert sync1.count('class="mark"') == 4  # throughput and p99, in two runs
    assert sync1.count('class="interval"') == 2 * 3  # three trials: an interval bar with its caps
    assert "95% interval 99 to 101" in sync1 and "<polyline" in sync1


#: The published runs hold json at 1, 8 and 64 users for two modes: a history chart for each.
CHARTS_OF_JSON = 2 * 3


def test_the_index_links_every_cell_to_its_chart(site: Path) -> None:
    index = (site / "index.html").read_text()
    charts = list(svgs(site / "history" / f"{slug('json')}.html"))
    assert len(charts) == CHARTS_OF_JSON, charts
    for chart_id in charts:
        assert f'href="history/{slug("json")}.html#{chart_id}"' in index


def test_figures_of_different_machines_are_never_joined(tmp_path: Path) -> None:
    first = published_run(tmp_path / "first")
    second = second_run(tmp_path / "second", cpu_model="another CPU")
    third = third_run(tmp_path / "third")
    assert main(["site", str(first), str(second), str(third), "-o", str(tmp_path / "site")]) == 0
    chart = svgs(tmp_path / "site" / "history" / f"{slug('json')}.html")[slug("json", SYNC, "closed", 1)]
    assert "a CPU, 2 CPUs" in chart and "another CPU, 2 CPUs" in chart
    # The first and third runs (one machine) are joined; the second (another machine) stands alone.
    lines = re.findall(r'<polyline points="([^"]+)"', chart)
    assert len(lines) == 2 and all(len(points.split()) == 2 for points in lines)


def test_a_simulated_run_is_never_joined_with_one_machines_and_the_index_names_its_method(
    tmp_path: Path,
) -> None:
    """The same CPU, but the second run's hosts were engines in namespaces of one kernel: its own line."""
    first = published_run(tmp_path / "first")
    simulated = second_run(tmp_path / "second", hosts={"simulated": True, "method": "simulated (one kernel)"})
    third = third_run(tmp_path / "third")
    assert main(["site", str(first), str(simulated), str(third), "-o", str(tmp_path / "site")]) == 0
    chart = svgs(tmp_path / "site" / "history" / f"{slug('json')}.html")[slug("json", SYNC, "closed", 1)]
    assert "a CPU, 2 CPUs; simulated (one kernel)" in chart
    lines = re.findall(r'<polyline points="([^"]+)"', chart)
    assert len(lines) == 2 and all(len(points.split()) == 2 for points in lines)
    index = (tmp_path / "site" / "index.html").read_text()
    rows = dict(re.findall(r'<tr data-run="([^"]+)">(.*?)</tr>', index, re.S))
    assert "a CPU, 2 CPUs; simulated (one kernel)" in rows["2026-12-02-second"]
    assert "<td>a CPU, 2 CPUs</td>" in rows["2026-12-03-third"], "one machine: the machine alone"
    # One table per testbed, the newest first: each cell's newest figure measured on that testbed,
    # naming the run and testbed it came from.
    link = f'href="history/{slug("json")}.html#{slug("json", SYNC, "closed", 1)}"'
    assert re.findall(link + r' title="([^"]*)"', index) == [
        "from the run third (2026-12-03T08:00:00+00:00) on a CPU, 2 CPUs; server 1 CPU",
        "from the run second (2026-12-02T08:00:00+00:00) on a CPU, 2 CPUs; simulated (one kernel); "
        "server 1 CPU",
    ]


def test_a_cell_the_newest_run_lacks_names_the_older_run_its_figure_came_from(tmp_path: Path) -> None:
    first = published_run(tmp_path / "first")
    cells = {key: data for key, data in closed_cells().items() if key[2] != 1 or key[0] != SYNC}
    newest = write_run(tmp_path / "newest", cells, [1, 8, 64], trials=3)
    meta = json.loads((newest / "run.json").read_text())
    meta["started_at"] = "2026-12-05T08:00:00+00:00"
    meta["metadata"]["cpu_model"] = "a CPU"  # the first run's machine: one testbed, one table
    (newest / "run.json").write_text(json.dumps(meta))
    assert main(["site", str(first), str(newest), "-o", str(tmp_path / "site")]) == 0
    index = (tmp_path / "site" / "index.html").read_text()

    def cell(step: int) -> tuple[str, str]:
        link = f'href="history/{slug("json")}.html#{slug("json", SYNC, "closed", step)}"'
        (found,) = re.findall(
            link
            + r' title="([^"]*)">[^<]*</a>(?:<span class="flag[^>]*>[^<]*</span>)*'
            + r'(<span class="sub older">[^<]*</span>)?',
            index,
        )
        hover, older = found
        return str(hover), str(older)

    hover, older = cell(1)
    # Older than the table's newest run: said on the page, not only on hover.
    assert (
        hover.startswith("from the run first (2026-11-21")
        and older == '<span class="sub older">run first</span>'
    )
    hover, older = cell(8)
    assert hover.startswith("from the run newest (2026-12-05") and older == ""


def test_the_index_never_mixes_testbeds_in_a_row(tmp_path: Path) -> None:
    """A run on 8 CPUs beside two on 2 CPUs: a table per testbed, each row's figures from its own."""
    first = published_run(tmp_path / "first")
    bigger = second_run(tmp_path / "bigger", cpu_count=8)
    third = third_run(tmp_path / "third")
    assert main(["site", str(first), str(bigger), str(third), "-o", str(tmp_path / "site")]) == 0
    index = (tmp_path / "site" / "index.html").read_text()
    beds = re.findall(r'<table class="cells-table" data-testbed="([^"]+)">(.*?)</table>', index, re.S)
    # The testbed measured most recently first (the third run, on 2 CPUs).
    assert [bed for bed, _ in beds] == ["a CPU, 2 CPUs; server 1 CPU", "a CPU, 8 CPUs; server 1 CPU"]
    for bed, table in beds:
        sources = set(re.findall(r'title="from the run (\w+) \(', table))
        assert sources and sources <= ({"bigger"} if "8 CPUs" in bed else {"first", "third"}), bed
    assert '</th><th class="num">1 user, req/s</th>' in index


def test_the_site_needs_no_network(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) == 1 + 2 + 1  # the index, two reports, the one workload's history
    for page in pages:
        text = page.read_text()
        assert not re.search(r"<(script|link|img)[^>]*\b(src|href)=", text), page
        # Outside the scripts (whose libraries name web sites in strings), no address is loaded or linked.
        markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
        assert not re.search(r'(src|href)="(https?:)?//', markup), page


def test_closed_and_open_loop_steps_are_never_the_same_cell(tmp_path: Path) -> None:
    closed = write_run(tmp_path / "closed", {(SYNC, "json", 100, 1): cell(100.0)}, [100])
    opened = write_run(
        tmp_path / "open", {(SYNC, "json", 100, 1): cell(90.0, offered=100.0)}, [100], open_loop=True
    )
    history = build_history([aggregate(load_run(closed)), aggregate(load_run(opened))])
    assert [(c.key.open_loop, c.key.step) for c in history.cells] == [(False, 100), (True, 100)]
    assert [sum(p is not None for p in c.points) for c in history.cells] == [1, 1]


def test_writing_again_replaces_the_site_and_nothing_else(site: Path, tmp_path: Path) -> None:
    (site / "stale.html").write_text("from before")
    assert main(["site", str(tmp_path / "first"), "-o", str(site)]) == 0
    assert not (site / "stale.html").exists() and (site / SITE_MARK).exists()
    assert "2026-12-02-second" not in (site / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda root: (root / "notes").mkdir() or (root / "notes" / "x.txt").write_text("x"), "not a site"),
        (lambda root: (root / "notes").write_text("x"), "is a file"),
    ],
)
def test_a_site_goes_only_where_a_site_may_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, says: str
) -> None:
    run = published_run(tmp_path / "first")
    make(tmp_path)  # type: ignore[operator]
    assert main(["site", str(run), "-o", str(tmp_path / "notes")]) == 2
    assert says in capsys.readouterr().err


def test_a_run_given_twice_or_inside_the_site_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = published_run(tmp_path / "site" / "first")
    assert main(["site", str(run), str(run), "-o", str(tmp_path / "other")]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["site", str(run), "-o", str(tmp_path / "site")]) == 2
    assert run.exists()


def test_a_report_that_is_a_link_is_rendered_anew_not_followed(tmp_path: Path) -> None:
    run = published_run(tmp_path / "run")
    (tmp_path / "private.txt").write_text("a private key")
    (run / "report.html").unlink()
    (run / "report.html").symlink_to(tmp_path / "private.txt")
    assert main(["site", str(run), "-o", str(tmp_path / "site")]) == 0
    pages = list((tmp_path / "site" / "runs").rglob("report.html"))
    assert len(pages) == 1 and "a private key" not in pages[0].read_text()


def test_the_history_axis_is_time(tmp_path: Path) -> None:
    """Runs on 21 November, 2 and 3 December: the last two a day apart stand far closer than the
    first two, eleven days apart."""
    first = published_run(tmp_path / "first")
    second = second_run(tmp_path / "second")
    third = third_run(tmp_path / "third")
    assert main(["site", str(first), str(second), str(third), "-o", str(tmp_path / "site")]) == 0
    chart = svgs(tmp_path / "site" / "history" / f"{slug('json')}.html")[slug("json", GEVENT, "closed", 1)]
    xs = sorted({float(x) for x in re.findall(r'<circle cx="([\d.]+)"', chart)})
    assert len(xs) == 3
    assert (xs[2] - xs[1]) * 5 < xs[1] - xs[0]


def test_history_flag_labels_of_runs_close_in_time_never_overlap() -> None:
    from servingmatrix.report.figures.history_svg import HistoryMark, MachineLine, RunLabel, history_chart

    def mark(run: int) -> HistoryMark:
        return HistoryMark(run, 500.0, None, None, 10.0, "G", f"run {run}")

    # Three runs: the last two an hour apart, two testbeds, both figures flagged at the same value.
    runs = [RunLabel("2026-11-01", "a"), RunLabel("2026-12-01", "b"), RunLabel("2026-12-01", "c")]
    lines = [MachineLine("one", "#111", (mark(0), mark(1))), MachineLine("two", "#222", (mark(2),))]
    svg = history_chart("t", runs, lines, [0.0, 2_592_000.0, 2_595_600.0])
    labels = [(float(x), float(y)) for x, y in re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*>G<', svg)]
    assert len(labels) == 3
    for i, (x, y) in enumerate(labels):
        for bx, by in labels[i + 1 :]:
            assert abs(x - bx) >= 8 or abs(y - by) >= 12, labels
