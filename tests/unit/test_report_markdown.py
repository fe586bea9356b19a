"""The Markdown export for publication: tables, static SVG charts, and every flag beside its figure."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from servingmatrix.cli import main
from servingmatrix.report.export import export_markdown
from servingmatrix.report.svg import Guide, Line, line_chart

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
        assert root.findall(f"{SVG}polyline") and root.findall(f"{SVG}circle")
    assert "## Verdict" in text and "| workload | most served |" in text
    assert "![Throughput vs users: io\\[ms=100\\]](matrix-charts/throughput-io-ms-100.svg)" in text


def test_every_flagged_figure_carries_its_letters(tmp_path: Path) -> None:
    export_markdown(RUNS / "good", tmp_path / "m.md")
    text = (tmp_path / "m.md").read_text()
    assert "1,154 [S]" in text  # gevent on json at 64 users: the generator was saturated
    assert "783 [V]" in text  # gthread on json at 8 users: the trials disagree
    assert "3.0 [E]" in text  # sync's concurrency on io at 64 users, with errors
    assert "Every figure below carries C (cores shared by the CPU plan)" in text
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


def test_a_line_chart_leaves_a_gap_where_a_cell_is_missing() -> None:
    line = Line("m", "#123456", ((1.0, 10.0, ""), (8.0, 20.0, ""), (64.0, None, ""), (256.0, 30.0, "E")))
    svg = line_chart("t", "users", "req/s", [1.0, 8.0, 64.0, 256.0], [line], guide=Guide(25.0, "limit"))
    root = ET.fromstring(svg)
    assert len(root.findall(f"{SVG}polyline")) == 1  # the point after the gap stands alone
    assert len(root.findall(f"{SVG}circle")) == 3
    assert "limit" in svg and ">E</text>" in svg


def test_log_scale_spans_powers_of_ten() -> None:
    line = Line("m", "#123456", ((1.0, 2.0, ""), (8.0, 900.0, "")))
    svg = line_chart("t", "users", "ms", [1.0, 8.0], [line], log_y=True)
    for label in (">1</text>", ">10</text>", ">100</text>", ">1,000</text>"):
        assert label in svg
