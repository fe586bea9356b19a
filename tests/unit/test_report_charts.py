"""The page's charts: every chart of the section model drawn as inline SVG with its series in its
legend, one small script for all of them, every piece of the run's text escaped, and a log axis
carrying its linear twin for the page's toggle."""

from __future__ import annotations

import math
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import Document
from servingmatrix.report.figures.chart_specs import BarChart, ChartPoint, LineChart, Panel, Series
from servingmatrix.report.figures.svg import PAGE, PRINT
from servingmatrix.report.figures.svg_axes import StepAxis, ValueAxis, ticks
from servingmatrix.report.figures.svg_lines import line_chart
from servingmatrix.report.html import SCRIPT, chart_script, render_document
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run
from tests.unit.chart_dom import legend, marks, page_charts, points, series, title
from tests.unit.synthetic_runs import SYNC, cell, closed_cells, matrix_cells, warning, write_run

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"


def results(root: Path) -> Results:
    return aggregate(load_run(root))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Runs drawing every kind of chart and mark: failed cells, knees, intervals, an open loop."""
    tmp = tmp_path_factory.mktemp("runs")
    rates = {(SYNC, "json", r, 1): cell(a, offered=float(r)) for r, a in ((100, 99.0), (200, 150.0))}
    return {
        "good": RUNS / "good",
        "partial": RUNS / "partial",
        "matrix": write_run(tmp / "matrix", matrix_cells(6, 3, [1, 8, 64]), [1, 8, 64]),
        "trials": write_run(tmp / "trials", closed_cells(), [1, 8, 64], trials=3),
        "open": write_run(tmp / "open", rates, [100, 200], open_loop=True),
    }


def series_names(spec: LineChart | BarChart) -> list[str]:
    if isinstance(spec, BarChart):
        return [b.name for b in spec.bars]
    return [s.name for s in spec.panels[0].series]


@pytest.mark.parametrize(
    # A workload where no request failed has a sentence instead of an error-rate chart of zeros.
    ("run", "count"),
    [("good", 9), ("partial", 9), ("matrix", 14), ("trials", 4), ("open", 4)],
)
def test_every_chart_is_an_svg_with_its_series_in_its_legend(
    runs: dict[str, Path], run: str, count: int
) -> None:
    document = build_document(results(runs[run]), Objective())
    charts = page_charts(render_document(document))
    assert len(charts) == count
    assert list(charts) == [spec.id for spec in document.charts()]
    for spec in document.charts():
        svg = charts[spec.id]
        names = series_names(spec)
        assert list(legend(svg))[: len(names)] == names, spec.id
        panels = 1 if isinstance(spec, BarChart) else len(spec.panels)
        for name in names:
            groups = series(svg, name)
            assert len(groups) == panels, (spec.id, name)
            assert all(marks(g) for g in groups), (spec.id, name)
            assert all(title(g) == name for g in groups)


def test_every_point_and_bar_says_its_series_and_figure_without_a_script(runs: dict[str, Path]) -> None:
    charts = page_charts(render_document(build_document(results(runs["good"]), Objective())))
    (sync,) = series(charts["errors-io-ms-100"], SYNC)
    assert title(points(sync)[-1]).split("\n")[:2] == [SYNC, "io[ms=100], 64 users: 2.17% of requests failed"]
    memory = charts["memory"]
    (container,) = series(memory, "server container (peak)")
    bars = [r for r in container.iter("rect") if r.get("class") == "bar"]
    assert len(bars) == 3
    first = title(bars[0]).split("\n")
    assert first[0] == SYNC and re.fullmatch(r"server container \(peak\): [\d.,]+ MB", first[1])


def test_the_script_is_inlined_once_small_and_the_only_one_with_the_charts(runs: dict[str, Path]) -> None:
    html = render_document(build_document(results(runs["good"]), Objective()))
    script = chart_script()
    assert html.count(script) == 1 and len(script.encode()) < 8_000
    # The other script collects errors for the browser test; neither loads anything.
    assert html.count("<script") == 2 and not re.search(r"<script[^>]+src=", html)
    assert "plotly" not in html.lower()


def test_text_from_the_run_is_escaped_in_the_charts(tmp_path: Path) -> None:
    hostile = 'failed <b>500</b> & "quoted" </svg><script>alert(1)</script>\x01'
    flagged = cell(100.0, warnings=[warning("errors", hostile)], failures=1)
    root = write_run(
        tmp_path / "run", {(SYNC, "json", 1, 1): flagged, (SYNC, "json", 8, 1): cell(200.0)}, [1, 8]
    )
    html = render_document(build_document(results(root), Objective()))
    assert "<b>500</b>" not in html and "<script>alert" not in html
    charts = page_charts(html)  # still well-formed XML, every one
    (group,) = series(charts["throughput-json"], SYNC)
    hover = title(points(group)[0])
    assert 'failed <b>500</b> & "quoted" </svg><script>alert(1)</script>\ufffd' in hover


def chart(values: tuple[float, ...], log: bool) -> LineChart:
    line = Series("m", "#123456", tuple(ChartPoint(x, y) for x, y in zip((1, 8, 64), values, strict=True)))
    return LineChart("c", "t", "", "users", "ms", (1, 8, 64), (Panel("p", (line,)),), 300, log_y=log)


def swap(svg: ET.Element) -> None:
    """What the page's toggle does: every attribute in ``data-swap`` traded for its other value."""
    for element in svg.iter():
        pairs = element.get("data-swap")
        if pairs is None:
            continue
        back = []
        for pair in pairs.split(";"):
            name, value = pair.split("=", 1)
            back.append(f"{name}={element.get(name)}")
            element.set(name, value)
        element.set("data-swap", ";".join(back))


def shown_text(svg: ET.Element) -> list[str]:
    hidden = {id(t) for g in svg.iter("g") if g.get("display") == "none" for t in g.iter("text")}
    return [t.text or "" for t in svg.iter("text") if id(t) not in hidden and t.get("display") != "none"]


def test_a_log_axis_on_the_page_carries_its_linear_twin() -> None:
    svg = ET.fromstring(line_chart(chart((1.0, 10.0, 100.0), log=True), PAGE))
    assert svg.get("data-scale") == "log"
    ys = [float(c.attrib["cy"]) for c in svg.iter("circle") if c.get("class") == "pt"]
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.2)  # a decade apart: evenly spaced
    assert "ms (log scale)" in shown_text(svg) and "1,000" not in shown_text(svg)
    swap(svg)
    ys = [float(c.attrib["cy"]) for c in svg.iter("circle") if c.get("class") == "pt"]
    assert (ys[0] - ys[1]) / (ys[1] - ys[2]) == pytest.approx(9 / 90, abs=0.01)  # linear: 1, 10, 100
    text = shown_text(svg)
    assert "ms" in text and "ms (log scale)" not in text and "0" in text
    swap(svg)
    assert "ms (log scale)" in shown_text(svg)


def test_a_linear_axis_and_a_publication_carry_no_twin() -> None:
    assert "data-swap" not in line_chart(chart((1.0, 10.0, 100.0), log=False), PAGE)
    printed = line_chart(chart((1.0, 10.0, 100.0), log=True), PRINT)
    assert "data-swap" not in printed and 'role="button"' not in printed


def test_only_a_log_chart_has_the_toggle_on_the_page(runs: dict[str, Path]) -> None:
    document: Document = build_document(results(runs["good"]), Objective())
    html = render_document(document)
    toggles = re.findall(r'<button type="button" class="scale-toggle" data-chart="([^"]+)"', html)
    log_charts = [s.id for s in document.charts() if isinstance(s, LineChart) and s.log_y]
    assert toggles == log_charts == ["latency-json", "latency-io-ms-100"]


def test_the_script_ships_with_the_package() -> None:
    """An installed (not editable) package has every template and the script the page inlines."""
    root = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = root / "src" / "servingmatrix"
    shipped = {p for pattern in globs["servingmatrix"] for p in package.glob(pattern)}
    assert SCRIPT in shipped
    assert set((package / "report" / "templates").iterdir()) <= shipped


def test_the_chart_axes_place_what_the_readers_would_refuse_without_a_math_error() -> None:
    # A step of 0 is refused when a run is read; an axis given one anyway puts it at its start.
    axis = StepAxis(0.0, 64.0, 0.0, 100.0)
    assert axis(0.0) == 0.0 and axis(64.0) == 100.0
    assert StepAxis(0.0, 0.0, 0.0, 100.0)(0.0) == 50.0
    assert ticks(0.0, 10.0, True)[0] > 0
    assert ticks(math.nan, math.inf, False) == [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    fitted = ValueAxis.fit([math.nan, math.inf, -math.inf, 3.0], True, 0.0, 100.0)
    assert fitted.ticks == (1.0, 10.0)
    assert 0.0 <= fitted(0.0) <= 100.0
    assert ValueAxis.fit([1e-320, 2e-320], False, 0.0, 100.0).ticks == (0.0, 1.0)
