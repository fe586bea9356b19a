"""The report's sections, computed once and rendered twice: the page and the Markdown export show the
same tables with the same flags, and text from the run is escaped for each format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import Badge, Cell, Column, Document, Flags, Strong, Table
from servingmatrix.report.html import render_document
from servingmatrix.report.markdown import escape, inline, line, render_markdown, table
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run
from tests.unit.synthetic_runs import SYNC, cell, warning, write_run

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
HOSTILE = "# fast | slow <script>alert(1)</script> `x` *y* [z](http://e)\nsecond line"


def results(root: Path) -> Results:
    return aggregate(load_run(root))


def printed_tables(document: Document) -> list[Table]:
    return [
        s
        for part in document.parts
        if part.printed
        for s in Document("", (), (part,)).sections()
        if isinstance(s, Table)
    ]


# The mixed workload's weights are a table only in a run with the mixed workload (none of these).
@pytest.mark.parametrize(("run", "count"), [("good", 12), ("partial", 12), ("recorded", 7)])
def test_every_table_is_in_both_formats_with_its_rows_and_flags(run: str, count: int) -> None:
    res = results(RUNS / run)
    document = build_document(res, Objective())
    html = render_document(document)
    markdown = render_markdown(res, Objective(), "charts").text
    tables = printed_tables(document)
    assert len(tables) == count
    for t in tables:
        if t.name:
            assert html.count(f'<table class="{t.name}"') == len(document.tables(t.name))
        lines = table(t)
        # The same header and the same rows, each in its place.
        assert "\n".join(lines) in markdown
        assert len(lines) == 2 + len(t.rows)
        for row, text in zip(t.rows, lines[2:], strict=True):
            for c in row:
                if c.flags:
                    letters = "".join(b.letter for b in c.flags)
                    assert f"{escape(c.text)} [{letters}]" in text
                    assert all(f'flag-{b.letter}" title="' in html for b in c.flags)


def test_a_spanning_cell_keeps_the_columns_of_a_markdown_table() -> None:
    t = Table(
        "t",
        (Column("mode"), Column("a", True), Column("b", True), Column("knee")),
        ((Cell("m", code=True), Cell("none | within", span=2), Cell("8 users")),),
    )
    header, divider, row = table(t)
    assert divider == "| --- | ---: | ---: | --- |"
    assert row == "| `m` | none \\| within |  | 8 users |"
    assert row.replace("\\|", "").count("|") == header.count("|")


def test_names_with_a_bar_or_a_backtick_stay_in_their_cell() -> None:
    (row,) = table(Table("", (Column("mode"),), ((Cell("a|b`c", code=True),),)))[2:]
    assert row == "| `` a\\|b`c `` |"


def test_markdown_escapes_what_the_run_wrote(tmp_path: Path) -> None:
    flagged = cell(100.0, warnings=[warning("errors", "1 of 10 failed | <b>500</b>")], failures=1)
    root = write_run(tmp_path / "run", {(SYNC, "json", 1, 1): flagged}, [1])
    meta = json.loads((root / "run.json").read_text())
    meta["matrix"]["description"] = HOSTILE
    (root / "run.json").write_text(json.dumps(meta))
    markdown = render_markdown(results(root), Objective(), "charts").text
    assert (
        "\\# fast \\| slow \\<script\\>alert(1)\\</script\\> \\`x\\` \\*y\\* \\[z\\](http://e) second line"
        in markdown
    )
    assert "<script>" not in markdown and "<b>" not in markdown
    assert ": 1 of 10 failed \\| \\<b\\>500\\</b\\>" in markdown
    # Every table line still has as many cells as its header.
    for block in re.findall(r"(?:^\|.*\|$\n?)+", markdown, re.M):
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in block.strip().splitlines()}
        assert len(counts) == 1, block


def test_the_page_escapes_what_the_run_wrote(tmp_path: Path) -> None:
    flagged = cell(100.0, warnings=[warning("errors", "1 of 10 failed <b>500</b>")], failures=1)
    root = write_run(tmp_path / "run", {(SYNC, "json", 1, 1): flagged}, [1])
    meta = json.loads((root / "run.json").read_text())
    meta["matrix"]["description"] = HOSTILE
    (root / "run.json").write_text(json.dumps(meta))
    html = render_document(build_document(results(root), Objective()))
    body = html[html.index("<main>") : html.index("</main>")]
    assert "<script>" not in body and "<b>500</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;500&lt;/b&gt;" in body


def test_a_line_cannot_open_a_heading_a_list_or_a_quote() -> None:
    assert line("# not a heading") == "\\# not a heading"
    assert line("- not an item") == "\\- not an item"
    assert line("1. not an item") == "1\\. not an item"
    assert line("3 modes x 2 workloads") == "3 modes x 2 workloads"


def test_flags_beside_a_figure_in_a_paragraph_keep_their_space() -> None:
    badge = Badge("T", "cpu-throttled", "CPU throttled")
    assert inline(("892 req/s", Flags((badge,)), ".")) == "892 req/s [T]."
    assert inline((Strong((Flags((badge,)), " CPU throttled")),)) == "**[T] CPU throttled**"
    assert inline(("(", Flags((badge,)), ")")) == "([T])"
