"""Reports rendered from recorded runs, opened in real headless Chromium (Debian's ``chromium``).

No console message, every chart drawn with data, the verdict table present; then, driven as a reader
would (the pointer moved onto a point, a legend entry and the log toggle pressed), every chart shows
a point's figures on hover, hides and shows a series, and changes a log axis to linear and back;
and a screenshot in ``reports/screenshots/`` for people to look at. ``make test`` installs chromium
first (``servingmatrix tools``); this test installs nothing. None of it needs Docker: the runs are
recorded (``tests/fixtures/runs/``) or written on the spot (``tests/unit/synthetic_runs.py``).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.analysis.compare import compare_runs
from servingmatrix.building.chromium import find_chromium, install_hint, load, screenshot
from servingmatrix.building.devtools import DevTools
from servingmatrix.paths import project_root
from servingmatrix.report.page import write_report
from servingmatrix.report.views.compare_page import write_compare
from tests.unit.chart_dom import page_charts, points, title
from tests.unit.synthetic_runs import (
    SYNC,
    cell,
    closed_cells,
    hosts_records,
    matrix_cells,
    on_hosts,
    write_run,
)

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
        elif tag == "svg" and "chart-svg" in classes:
            self.charts[a["data-chart"]] = a.get("data-points", "")
        elif tag == "div" and "chart" in classes and "data-svg" in a:
            # A site's history chart: its page's script counts the marks the browser drew.
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
    for chart_id, drawn in parsed.charts.items():
        assert drawn.isdigit() and int(drawn) > 0, f"chart {chart_id} drew no points"
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


def test_a_run_on_simulated_hosts_draws_with_its_method_and_hosts_table(browser: str, tmp_path: Path) -> None:
    """The banner naming the simulated hosts, the hosts table, and a comparison with one machine."""
    cells = {key: on_hosts(data, 2, 4, "main") for key, data in closed_cells().items()}
    simulated = write_run(tmp_path / "simulated", cells, [1, 8, 64], trials=3, records=hosts_records(True))
    parsed = opened(browser, write_report(simulated, tmp_path / "simulated.html").path)
    assert parsed.tables["hosts-table"] == 1 + 3
    assert "Method: simulated (one kernel)" in (tmp_path / "simulated.html").read_text()
    one = write_run(tmp_path / "one", closed_cells(), [1, 8, 64], trials=3)
    page, _, _ = write_compare(compare_runs(one, simulated), tmp_path / "compare.html")
    opened(browser, page)
    assert "method: one machine vs simulated (one kernel)" in page.read_text()


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


#: Installed in the page: where a chart's elements are on screen, and what it shows, as a reader sees it.
PROBE = (Path(__file__).resolve().parent / "chart_probe.js").read_text()


def probe(page: DevTools, call: str) -> Any:
    return page.evaluate(f"window.__probe.{call}")


def centre(page: DevTools, element: str) -> tuple[float, float]:
    x, y = page.evaluate(f"window.__probe.centre({element})")
    return x, y


def check_every_series_draws(page: DevTools, chart: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = probe(page, f"series({chart!r})")
    assert keys, f"{chart}: no legend"
    for key in keys:
        assert key["drawn"] > 0, f"{chart}: {key['label']} draws nothing"
        assert key["pressed"] == "true"
    return keys


def check_hover_shows_the_figures(page: DevTools, chart: str, mark: int, expected: str) -> None:
    """The pointer beside a point (or on a bar) shows that point's figures."""
    x, y = centre(page, f"window.__probe.mark({chart!r}, {mark})")
    page.move(x + 1, y + 1)
    assert probe(page, "tip()") == expected.split("\n"), chart
    page.move(1, 1)
    assert probe(page, "tip()") is None, f"{chart}: the tooltip outlived the pointer"


def drawn(page: DevTools, chart: str) -> dict[str, dict[str, Any]]:
    return {k["label"]: k for k in probe(page, f"series({chart!r})")}


def check_a_legend_entry_hides_its_series(page: DevTools, chart: str, label: str) -> None:
    """A click on the entry hides its series and only it, a second shows it; so does Enter."""
    text = f"window.__probe.keyText({chart!r}, {label!r})"
    x, y = centre(page, text)
    page.click(x, y)
    after = drawn(page, chart)
    assert after[label]["drawn"] == 0 and after[label]["pressed"] == "false", f"{chart}: {label} still shows"
    assert all(k["drawn"] > 0 for name, k in after.items() if name != label), (
        f"{chart}: hid more than {label}"
    )
    page.click(x, y)
    assert drawn(page, chart)[label]["drawn"] > 0, f"{chart}: {label} stays hidden"
    page.evaluate(f"{text}.parentNode.focus()")
    page.press("Enter", "Enter", 13)
    assert drawn(page, chart)[label]["drawn"] == 0, f"{chart}: Enter did not hide {label}"
    page.press("Enter", "Enter", 13)
    assert drawn(page, chart)[label]["drawn"] > 0, f"{chart}: Enter did not show {label} again"


def check_the_log_toggle_changes_the_axis(page: DevTools, chart: str) -> None:
    button = f"document.querySelector('.scale-toggle[data-chart=\"{chart}\"]')"
    first = f"window.__probe.mark({chart!r}, 0).getAttribute('cy')"
    log_y, log_text = page.evaluate(first), probe(page, f"visibleText({chart!r})")
    # The value axis's title (the steps' axis says its own log scale, whichever the value axis shows).
    assert any(t.endswith("ms (log scale)") for t in log_text) and "0" not in log_text
    page.click(*centre(page, button))
    assert page.evaluate(f"window.__probe.svg({chart!r}).getAttribute('data-scale')") == "linear"
    linear_text = probe(page, f"visibleText({chart!r})")
    assert "0" in linear_text and not any(t.endswith("ms (log scale)") for t in linear_text), chart
    assert probe(page, f"visibleText({chart!r})").count("concurrent users (log scale)") == 1
    assert page.evaluate(first) != log_y, f"{chart}: its points did not move"
    assert page.evaluate(f"{button}.getAttribute('aria-pressed')") == "true"
    # The button names the state the axis is in, not the action.
    assert page.evaluate(f"{button}.textContent") == "value axis: linear scale"
    page.click(*centre(page, button))
    assert page.evaluate(first) == log_y and probe(page, f"visibleText({chart!r})") == log_text


def drive(browser: str, html_path: Path) -> int:
    """Every chart of the page hovered, a series hidden and shown, every log axis toggled."""
    expected = hovered_marks(html_path.read_text())
    with DevTools(browser, html_path) as page:
        body = "document.body.getAttribute"
        page.wait_for(f"{body}('data-charts-ready') === {body}('data-charts-expected')")
        assert page.evaluate(PROBE)
        toggles = probe(page, "toggles()")
        for chart, (mark, hover) in expected.items():
            keys = check_every_series_draws(page, chart)
            check_hover_shows_the_figures(page, chart, mark, hover)
            check_a_legend_entry_hides_its_series(page, chart, keys[0]["label"])
            if chart in toggles:
                check_the_log_toggle_changes_the_axis(page, chart)
        assert page.evaluate("document.body.getAttribute('data-js-errors')") == "0"
        assert page.console == [], f"the page logged to the console: {page.console}"
        assert all(toggles) and toggles == [c for c in expected if c.startswith("latency-")]
    return len(expected)


def apart(marks: list[ET.Element]) -> tuple[int, ET.Element]:
    """The point farthest from any other (the one a pointer on it can only mean), or the first bar."""
    if marks[0].tag == "rect":
        return 0, marks[0]

    def room(mark: ET.Element) -> float:
        x, y = float(mark.attrib["cx"]), float(mark.attrib["cy"])
        others = [m for m in marks if m is not mark]
        return min(
            (math.dist((x, y), (float(m.attrib["cx"]), float(m.attrib["cy"]))) for m in others), default=1e9
        )

    best = max(marks, key=room)
    return marks.index(best), best


def hovered_marks(html: str) -> dict[str, tuple[int, str]]:
    """Per chart, which of its points (or bars) to hover, and what its hover must say, as written."""
    out = {}
    for chart, svg in page_charts(html).items():
        (plot,) = [g for g in svg.iter("g") if g.get("class") == "plot"]
        marks = [*points(plot), *(r for r in plot.iter("rect") if r.get("class") == "bar")]
        index, mark = apart(marks)
        out[chart] = (index, title(mark))
    return out


@pytest.mark.parametrize("run", ["good", "default-profile-sized"])
def test_every_chart_shows_figures_on_hover_hides_series_and_changes_its_log_axis(
    browser: str, tmp_path: Path, run: str
) -> None:
    if run == "good":
        root = RUNS / "good"
    else:
        root = write_run(tmp_path / "matrix", matrix_cells(13, 3, [1, 8, 64]), [1, 8, 64])
    page = write_report(root, tmp_path / "report.html").path
    # good: json's error-rate chart is a sentence (no request failed there).
    assert drive(browser, page) == {"good": 9, "default-profile-sized": 3 * 4 + 2}[run]


def test_a_comparison_shows_figures_on_hover_and_hides_series(browser: str, tmp_path: Path) -> None:
    page, _, _ = write_compare(compare_runs(RUNS / "good", RUNS / "other-machine"), tmp_path / "compare.html")
    assert drive(browser, page) == 4


def test_a_site_s_history_charts_draw_in_the_browser(browser: str, tmp_path: Path) -> None:
    """Two runs of the same cells a day apart: every history chart draws its points (SVG, no script
    library), the index opens without errors, and the reproduction page too."""
    from servingmatrix.analysis.reproduction import judge_reproduction
    from servingmatrix.report.views.reproduce_page import write_reproduction_page
    from servingmatrix.report.views.reproduce_view import Source
    from servingmatrix.report.views.site import slug, write_site
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


def rendered_choice(tmp_path: Path) -> Path:
    """The first screen's run: a development server first on io, sync (no keep-alive) first on json,
    the machine busy as the run began, the backing services on the generator's core."""
    from tests.unit.test_report_answer import choosing_run

    return write_report(choosing_run(tmp_path / "choosing"), tmp_path / "choosing.html").path


#: Every visible flag label of every chart, with its box on screen.
LABEL_BOXES = """
Array.prototype.map.call(document.querySelectorAll("svg.chart-svg"), function (svg) {
  var boxes = [];
  svg.querySelectorAll("g.plot g[data-series] > text").forEach(function (t) {
    var r = t.getBoundingClientRect();
    var shown = r.width > 0 && getComputedStyle(t).display !== "none";
    if (shown) { boxes.push([r.left, r.top, r.right, r.bottom]); }
  });
  return [svg.getAttribute("data-chart"), boxes];
})
"""


def texts(tab: DevTools, selector: str) -> list[str]:
    """The text of every element ``selector`` finds, in the page's order."""
    found: list[str] = tab.evaluate(
        f"Array.prototype.map.call(document.querySelectorAll({selector!r}), e => e.textContent)"
    )
    return found


def overlaps(boxes: list[list[float]]) -> int:
    return sum(
        1
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5
    )


def test_the_first_screen_answers_the_person_choosing(browser: str, tmp_path: Path) -> None:
    """On a 1400-wide window: the budget and the verdict within the first 900 pixels, the deployed
    command on the page, a development server marked, the run-wide condition said once at the top."""
    for page in (write_report(RUNS / "good", tmp_path / "good.html").path, rendered_choice(tmp_path)):
        with DevTools(browser, page, width=1400, height=1000) as tab:
            body = "document.body.getAttribute"
            tab.wait_for(f"{body}('data-charts-ready') === {body}('data-charts-expected')")
            budget = tab.evaluate("document.querySelector('p.budget').getBoundingClientRect().bottom")
            assert 0 < budget <= 900, f"{page.name}: the budget ends at {budget} px"
            summary = tab.evaluate(
                "document.querySelector('table.verdict-summary').getBoundingClientRect().top"
            )
            assert 0 < summary <= 900, f"{page.name}: the verdict starts at {summary} px"
            text = tab.evaluate("document.querySelector('p.budget').textContent")
            assert "each mode's server had 1 CPU (core 0)" in text and "The host, not the budget" in text
            commands = texts(tab, "#verdict pre.command")
            assert any(c.startswith("gunicorn --bind 0.0.0.0:8000") for c in commands), commands
            assert not any("127.0.0.1" in c for c in commands)
    html = (tmp_path / "choosing.html").read_text()
    ranked = html[html.index('id="verdict"') : html.index('id="warnings"')]
    # Wherever the development server ranks, its cell says what it is.
    assert "werkzeug-threaded</td>" not in ranked and "development server, not for production" in ranked
    assert html.count("Every figure below carries B, machine busy") == 1


def test_no_flag_labels_overlap_and_every_legend_flag_occurs(browser: str, tmp_path: Path) -> None:
    """Flag letters beside points never overlap on screen; the verdict's flag legend lists only
    letters some figure or banner of the page carries."""
    big = write_run(tmp_path / "matrix", matrix_cells(13, 3, [1, 8, 64]), [1, 8, 64])
    for page in (write_report(big, tmp_path / "big.html").path, rendered_choice(tmp_path)):
        with DevTools(browser, page) as tab:
            body = "document.body.getAttribute"
            tab.wait_for(f"{body}('data-charts-ready') === {body}('data-charts-expected')")
            for chart, boxes in tab.evaluate(LABEL_BOXES):
                assert overlaps(boxes) == 0, f"{page.name} {chart}: flag labels overlap"
            legend = texts(tab, "#verdict p.note .flag")
            carried = texts(tab, "header .banner .flag, td .flag, g.plot text")
            for letter in legend:
                assert any(letter in c for c in carried), (
                    f"{page.name}: legend lists {letter}, nothing carries it"
                )


def test_a_comparison_of_disjoint_cells_shows_no_regression(browser: str, tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", {(SYNC, "json", 1, 1): cell(100.0)}, [1])
    run = write_run(tmp_path / "run", {(SYNC, "io[ms=100]", 1, 1): cell(9.0)}, [1])
    page, _, _ = write_compare(compare_runs(base, run), tmp_path / "compare.html")
    with DevTools(browser, page) as tab:
        body = "document.body.getAttribute"
        tab.wait_for(f"{body}('data-charts-ready') === {body}('data-charts-expected')")
        assert tab.evaluate("document.querySelectorAll('.short, .regressions li').length") == 0
        verdicts = texts(tab, "table.compare-table td:last-child")
        assert verdicts and all(v.startswith("not in both runs") for v in verdicts), verdicts
        assert "regression" not in " ".join(verdicts)


def test_a_cut_interval_is_marked_on_screen(browser: str, tmp_path: Path) -> None:
    base = {(SYNC, "json", 1, t): cell(rps) for t, rps in ((1, 100.0), (2, 300.0))}
    new = {(SYNC, "json", 1, t): cell(rps) for t, rps in ((1, 110.0), (2, 320.0))}
    comparison = compare_runs(
        write_run(tmp_path / "a", base, [1], trials=2), write_run(tmp_path / "b", new, [1], trials=2)
    )
    page, _, _ = write_compare(comparison, tmp_path / "compare.html")
    with DevTools(browser, page) as tab:
        body = "document.body.getAttribute"
        tab.wait_for(f"{body}('data-charts-ready') === {body}('data-charts-expected')")
        drawn = tab.evaluate(
            "Array.prototype.map.call(document.querySelectorAll('path.clipped'), "
            "p => p.getBoundingClientRect().height)"
        )
        assert drawn and all(h > 0 for h in drawn)
