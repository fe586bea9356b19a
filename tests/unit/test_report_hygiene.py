"""Charts and tables say what they show and only that: a log step axis said to be one, no line
joining two steps, flag letters that never overlap, captions and notes only for what is drawn,
units in the headers, the knee only where three steps can place one, a share above 1 explained,
flags in one order, and a scale button that names the axis's state."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import Document, Paragraph, Table
from servingmatrix.report.html import chart_script, render_document
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run
from tests.unit.chart_dom import page_charts, plot
from tests.unit.synthetic_runs import GEVENT, SYNC, cell, matrix_cells, warning, write_run
from tests.unit.test_reference_report import with_reference

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
BOUND = [warning("generator-bound", "the load generator set the pace")]


def two_steps(root: Path) -> Results:
    """Two modes at two steps, one trial, both flagged generator-bound at the same step and figure."""
    cells = {
        (SYNC, "json", 1, 1): cell(100.0),
        (SYNC, "json", 64, 1): cell(500.0, warnings=BOUND, generator_bound=True),
        (GEVENT, "json", 1, 1): cell(110.0),
        (GEVENT, "json", 64, 1): cell(500.0, warnings=BOUND, generator_bound=True),
    }
    return aggregate(load_run(write_run(root, cells, [1, 64])))


def document_of(res: Results) -> Document:
    return build_document(res, Objective())


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")] or [
        t.text or "" for t in svg.iter("text")
    ]


def series_lines(svg: ET.Element) -> list[ET.Element]:
    """The paths joining a series' points (not its interval bars or cut-interval arrowheads)."""
    return [
        p
        for g in plot(svg).iter("g")
        if g.get("data-series", "").isdigit()
        for p in g.findall("path")
        if p.get("stroke-width") is None and p.get("class") is None
    ]


def test_a_log_step_axis_says_so_and_two_steps_are_not_joined(tmp_path: Path) -> None:
    three = page_charts(render_document(document_of(aggregate(load_run(RUNS / "good")))))
    assert "concurrent users (log scale)" in texts(three["throughput-json"])
    assert series_lines(three["throughput-json"])
    two = page_charts(render_document(document_of(two_steps(tmp_path / "two"))))
    svg = two["throughput-json"]
    assert "concurrent users" in texts(svg) and "concurrent users (log scale)" not in texts(svg)
    assert series_lines(svg) == []


def label_boxes(svg: ET.Element) -> list[tuple[float, float, float]]:
    """Each flag label's x, baseline and width (8 px a letter), on the axis the page shows first."""
    return [
        (float(t.get("x", "0")), float(t.get("y", "0")), 8.0 * len(t.text or ""))
        for g in plot(svg).iter("g")
        if g.get("data-series", "").isdigit()
        for t in g.findall("text")
    ]


def overlapping(boxes: list[tuple[float, float, float]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, (x, y, w) in enumerate(boxes)
        for j, (bx, by, bw) in enumerate(boxes)
        if i < j and x < bx + bw and bx < x + w and abs(y - by) < 12
    ]


def test_flag_letters_at_one_point_never_overlap(tmp_path: Path) -> None:
    svg = page_charts(render_document(document_of(two_steps(tmp_path / "two"))))["throughput-json"]
    boxes = label_boxes(svg)
    assert len(boxes) == 2 and overlapping(boxes) == []
    big = write_run(tmp_path / "matrix", matrix_cells(13, 3, [1, 8, 64]), [1, 8, 64])
    for chart, drawn in page_charts(render_document(document_of(aggregate(load_run(big))))).items():
        assert overlapping(label_boxes(drawn)) == [], chart


def test_captions_and_notes_say_only_what_is_drawn(tmp_path: Path) -> None:
    res = two_steps(tmp_path / "two")
    document = document_of(res)
    (throughput,) = [c for c in document.charts() if c.id == "throughput-json"]
    assert "bars span" not in throughput.caption and "no interval is drawn" in throughput.caption
    assert "ring marks" not in throughput.caption  # two steps: no knee
    notes = [p for p in document.sections() if isinstance(p, Paragraph)]
    # Every step met the objective: no ✗ in the table, so no note explaining one.
    assert not any(str(p.parts[0]).startswith("✗") for p in notes)
    good = document_of(aggregate(load_run(RUNS / "good")))
    (caption,) = [c.caption for c in good.charts() if c.id == "throughput-json"]
    assert "bars span the bootstrap 95% interval" in caption and "ring marks" in caption


def test_two_steps_cannot_place_a_knee(tmp_path: Path) -> None:
    capacity = document_of(two_steps(tmp_path / "two")).tables("capacity-table")["json"]
    for row in capacity.rows:
        assert row[-1].text == "—" and row[-1].sub == "2 steps served: too few to place one"


def test_every_figure_column_of_the_cells_table_has_its_unit() -> None:
    document = document_of(aggregate(load_run(RUNS / "good")))
    (cells, *_) = [s for s in document.sections() if isinstance(s, Table) and s.name == "cells-table"]
    labels = [c.label for c in cells.columns]
    counts = {"workload", "users", "trial", "requests"}
    for label in labels:
        assert label in counts or label.endswith((" ms", " %", " MB", "req/s", "(requests)")), label
    html = render_document(document)
    assert "In flight: the requests the server held at once on average, by Little&#39;s law" in html


def test_a_share_above_one_is_explained(tmp_path: Path) -> None:
    data = with_reference(cell(300.0), 200.0)
    res = aggregate(load_run(write_run(tmp_path / "r", {(SYNC, "json", 8, 1): data}, [8])))
    capacity = document_of(res).tables("capacity-table")["json"]
    (row,) = capacity.rows
    shares = [c for c in row if c.text.endswith("(1.50)")]
    assert shares and shares[0].sub == "Locust drew more than wrk"


def test_flags_are_lettered_in_one_order_everywhere(tmp_path: Path) -> None:
    flagged = cell(100.0, warnings=[warning("errors", "1 failed"), *BOUND], failures=1, generator_bound=True)
    res = aggregate(load_run(write_run(tmp_path / "o", {(SYNC, "json", 1, 1): flagged}, [1])))
    document = document_of(res)
    tables = [s for s in document.sections() if isinstance(s, Table)]
    letters = {"".join(b.letter for b in c.flags) for t in tables for row in t.rows for c in row if c.flags}
    assert letters == {"GE"}


def test_the_scale_button_names_the_axis_state() -> None:
    html = render_document(document_of(aggregate(load_run(RUNS / "good"))))
    assert ">value axis: log scale</button>" in html
    assert '"value axis: linear scale" : "value axis: log scale"' in chart_script()


def test_every_numeric_column_of_every_table_says_its_unit(tmp_path: Path) -> None:
    """A figure's column names its unit, or counts something (a step, a trial, requests, processes);
    a change against the winner and a knee write their units in each cell ("-23.0%", "8 users, 720
    req/s")."""
    from tests.unit.test_reference_report import with_reference

    runs = [
        RUNS / "good",
        write_run(tmp_path / "r", {(SYNC, "json", 8, 1): with_reference(cell(300.0), 200.0)}, [8]),
    ]
    units = (" ms", " %", " MB", "req/s", "(requests)", "at once", "CPU-second", "(Locust's share)")
    counts = {"#", "trial", "requests", "processes", "vs winner", "knee"}
    for root in runs:
        res = aggregate(load_run(root))
        steps = {res.step_text(u) for u in res.users} | {res.step_label, f"at {res.step_label}"}
        for table in (s for s in document_of(res).sections() if isinstance(s, Table)):
            for column in table.columns:
                if column.numeric and column.label not in counts | steps:
                    assert column.label.endswith(units), (table.name, column.label)
