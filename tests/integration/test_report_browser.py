"""Reports rendered from recorded runs, opened in real headless Chromium (Debian's ``chromium``).

No console message, every chart drawn with data, the verdict table present; and a screenshot in
``reports/screenshots/`` for people to look at. ``make test`` installs chromium first
(``servingmatrix tools``); this test installs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from servingmatrix.analysis.compare import compare_runs
from servingmatrix.building.chromium import find_chromium, install_hint, load, screenshot
from servingmatrix.paths import project_root
from servingmatrix.report import write_report
from servingmatrix.report.compare_page import write_compare
from tests.unit.synthetic_runs import SYNC, cell, closed_cells, write_run

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Page(HTMLParser):
    """What the test reads back from the DOM the browser dumped."""

    body: dict[str, str] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    errors: str = ""
    _in_errors: bool = False
    _table: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "body":
            self.body = a
        elif "chart" in classes and "id" in a:
            self.charts[a["id"]] = a.get("data-points", "")
        elif tag == "table" and classes:
            self._table = classes[0]
            self.tables.setdefault(self._table, 0)
        elif tag == "tr" and self._table:
            self.tables[self._table] += 1
        self._in_errors = tag == "pre" and a.get("id") == "js-errors"

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        if tag == "pre":
            self._in_errors = False

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.errors += data


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(f"chromium is missing ({install_hint()}); `make test` installs it")
    return found


def opened(browser: str, page: Path) -> Page:
    loaded = load(browser, page)
    assert loaded.console == (), f"the page logged to the console: {loaded.console}"
    parsed = Page()
    parsed.feed(loaded.dom)
    assert parsed.errors.strip() == "", parsed.errors
    assert parsed.body.get("data-js-errors") == "0"
    expected = int(parsed.body["data-charts-expected"])
    assert expected == len(parsed.charts) > 0
    assert parsed.body.get("data-charts-ready") == str(expected), "not every chart drew with data"
    for chart_id, points in parsed.charts.items():
        assert points.isdigit() and int(points) > 0, f"chart {chart_id} drew no points"
    return parsed


@pytest.mark.parametrize("run", ["good", "partial", "recorded"])
def test_a_report_draws_every_chart_without_errors(browser: str, tmp_path: Path, run: str) -> None:
    page = write_report(RUNS / run, tmp_path / f"{run}.html").path
    parsed = opened(browser, page)
    workloads = {"good": 2, "partial": 2, "recorded": 1}[run]
    assert parsed.tables["verdict-table"] >= workloads * 2  # a header and at least one mode each
    assert parsed.tables["throughput-table"] > 0 and parsed.tables["cells-table"] > 0


def test_three_trials_and_an_open_loop_run_draw_without_errors(browser: str, tmp_path: Path) -> None:
    """Knee rings, bootstrap bars, outlier and generator-bound flags; and the offered-rate axis."""
    closed = write_run(tmp_path / "closed", closed_cells(), [1, 8, 64], trials=3)
    rates = {
        (SYNC, "json", rate, 1): cell(achieved, p99=p99, offered=float(rate))
        for rate, achieved, p99 in ((100, 100.0, 5.0), (200, 198.0, 20.0), (400, 205.0, 900.0))
    }
    open_loop = write_run(tmp_path / "open", rates, [100, 200, 400], open_loop=True)
    for run in (closed, open_loop):
        parsed = opened(browser, write_report(run, tmp_path / f"{run.name}.html").path)
        assert parsed.tables["capacity-table"] > 0


def test_a_comparison_of_two_machines_draws_without_errors(browser: str, tmp_path: Path) -> None:
    comparison = compare_runs(RUNS / "good", RUNS / "other-machine")
    page, _, _ = write_compare(comparison, tmp_path / "compare.html")
    parsed = opened(browser, page)
    assert parsed.tables["compare-table"] == 2 * (1 + 9)


def test_a_screenshot_is_written_for_people_to_look_at(browser: str, tmp_path: Path) -> None:
    page = write_report(RUNS / "good", tmp_path / "report.html").path
    out = project_root() / "reports" / "screenshots" / "report.png"
    out.unlink(missing_ok=True)
    screenshot(browser, page, out)
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 50_000


def test_a_site_s_history_charts_draw_in_the_browser(browser: str, tmp_path: Path) -> None:
    """Two runs of the same cells a day apart: every history chart draws its points (SVG, no script
    library), the index opens without errors, and the reproduction page too."""
    from servingmatrix.analysis.reproduction import judge_reproduction
    from servingmatrix.report.reproduce_page import write_reproduction_page
    from servingmatrix.report.reproduce_view import Source
    from servingmatrix.report.site import slug, write_site
    from tests.unit.bundles import make_bundle, published_run
    from tests.unit.test_site import second_run

    first, second = published_run(tmp_path / "first"), second_run(tmp_path / "second")
    site = write_site([first, second], tmp_path / "site").path
    parsed = opened(browser, site / "history" / f"{slug('json')}.html")
    assert len(parsed.charts) == 6
    index = load(browser, site / "index.html")
    assert index.console == () and 'data-js-errors="0"' in index.dom
    assert 'data-run="2026-12-02-second"' in index.dom
    screenshot(browser, site / "history" / f"{slug('json')}.html", tmp_path / "history.png", 1000, 1400)
    assert (tmp_path / "history.png").read_bytes().startswith(PNG)

    from servingmatrix.results.unbundle import open_bundle

    opened_bundle = open_bundle(make_bundle(tmp_path / "b", first), tmp_path / "x")
    reproduction = judge_reproduction(opened_bundle.run_dir, second)
    source = Source(tmp_path / "b.tar.gz", opened_bundle.info)
    page, _, _ = write_reproduction_page(reproduction, source, tmp_path / "r.html")
    loaded = load(browser, page)
    assert loaded.console == () and 'data-js-errors="0"' in loaded.dom
    rows = re.findall(r'<tr data-status="([^"]+)"', loaded.dom)
    assert len(rows) == 6 and "differs" not in rows and "not comparable" in rows
