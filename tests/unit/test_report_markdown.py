"""The Markdown export for publication: tables, static SVG charts, and every flag beside its figure."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from servingmatrix.cli import main
from servingmatrix.report.export import export_markdown
from servingmatrix.report.figures.chart_specs import ChartPoint, Guide, LineChart, Panel, Series
from servingmatrix.report.figures.svg import PRINT
from servingmatrix.report.figures.svg_lines import line_chart

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
SVG = "{http://www.w3.org/2000/svg}"


def test_markdown_has_tables_and_charts_beside_it(tmp_path: Path) -> None:
    written = export_markdown(RUNS / "good", tmp_path / "post" / "matrix.md")
    page = tmp_path / "post" / "matrix.md"
    assert written[0] == page
    charts = written[1:]
    assert {p.name for p in charts} == {
        "throughput-json.svg",
        "p99-json.svg",
        "throughput-io-ms-100.svg",
        "p99-io-ms-100.svg",
    }
    text = page.read_text()
    for chart in charts:
        assert chart.parent == tmp_path / "post" / "matrix-charts"
        assert f"](matrix-charts/{chart.name})" in text
        root = ET.parse(chart).getroot()
        assert root.tag == f"{SVG}svg"
        assert list(root.iter(f"{SVG}path")) and list(root.iter(f"{SVG}circle"))
    assert "## Verdict" in text and "| workload | most served |" in text
    assert "![Throughput vs users: io\\[ms=100\\]](matrix-charts/throughput-io-ms-100.svg)" in text


def test_every_flagged_figure_carries_its_letters(tmp_path: Path) -> None:
    export_markdown(RUNS / "good", tmp_path / "m.md")
    text = (tmp_path / "m.md").read_text()
    assert "1,154 [S]" in text  # gevent on json at 64 users: the generator was saturated
    assert "783 [V]" in text  # gthread on json at 8 users: the trials disagree
    assert "3.0 [E]" in text  # sync's concurrency on io at 64 users, with errors
    assert "Every figure below carries" not in text  # json and io call no backing service: no C
    svg = (tmp_path / "m-charts" / "throughput-json.svg").read_text()
    assert ">S</text>" in svg and "Hollow points are flagged: S load generator saturated" in svg


def test_failed_cells_and_missing_modes_are_said(tmp_path: Path) -> None:
    export_markdown(RUNS / "partial", tmp_path / "m.md")
    text = (tmp_path / "m.md").read_text()
    assert "**Missing modes**: the matrix lists werkzeug-single" in text
    assert "**Failed cells**" in text and "OOM-killed" in text
    assert "| failed | failed | failed |" in text


def test_export_md_defaults_to_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUNS / "recorded", run)
    assert main(["export", str(run), "--format", "md"]) == 0
    assert (run / "report.md").exists() and (run / "report-charts" / "throughput-json.svg").exists()
    assert f"wrote {run / 'report.md'}" in capsys.readouterr().out


def one_line(
    points: tuple[tuple[int, float | None, str], ...], log_y: bool = False, guide: Guide | None = None
) -> LineChart:
    line = Series("m", "#123456", tuple(ChartPoint(x, y, flags) for x, y, flags in points))
    xs = tuple(x for x, _, _ in points)
    return LineChart("c", "t", "", "users", "ms", xs, (Panel("p", (line,)),), 300, log_y=log_y, guide=guide)


def test_a_line_chart_leaves_a_gap_where_a_cell_is_missing() -> None:
    spec = one_line(
        ((1, 10.0, ""), (8, 20.0, ""), (64, None, ""), (256, 30.0, "E")), guide=Guide(25.0, "limit")
    )
    svg = line_chart(spec, PRINT)
    root = ET.fromstring(svg)
    (line,) = [p for p in root.iter(f"{SVG}path") if p.get("d")]
    # Two points, then a new stroke: the point after the gap stands alone.
    assert line.attrib["d"].count("M") == 2 and line.attrib["d"].count("L") == 1
    assert len([c for c in root.iter(f"{SVG}circle") if c.get("class") == "pt"]) == 3
    assert "limit" in svg and ">E</text>" in svg


def test_log_scale_spans_powers_of_ten() -> None:
    svg = line_chart(one_line(((1, 2.0, ""), (8, 900.0, "")), log_y=True), PRINT)
    for label in (">1</text>", ">10</text>", ">100</text>", ">1,000</text>"):
        assert label in svg
    assert ">ms (log scale)</text>" in svg
