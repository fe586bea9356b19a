"""The report's first screen answers the person choosing: the budget, each workload's winner with the
command one would deploy, how sure with the run's conditions, keep-alive, development servers marked
with the best production mode beside them, and how to reproduce the run; the Markdown export says
the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from servingmatrix.analysis.points import Results, aggregate
from servingmatrix.analysis.verdict import Objective, verdicts
from servingmatrix.deployment import deployment
from servingmatrix.modes import resolve_mode
from servingmatrix.report.document import Document, Flags, Inline, Paragraph, Strong, Table
from servingmatrix.report.html import render_document
from servingmatrix.report.markdown import paragraph as md_paragraph
from servingmatrix.report.markdown import render_markdown
from servingmatrix.report.sections import build_document
from servingmatrix.results.run import load_run
from tests.unit.synthetic_runs import GEVENT, SHARED, SYNC, cell, warning, write_run

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
DEV = "werkzeug-threaded"
IO = "io[ms=100]"
BUSY = "the machine was busy when the run began (load average 4.3)"
COMMAND = ["servingmatrix", "run", "--profile", "quick", "--server-memory", "512m"]
PLAN = {
    "host_cores": 2,
    "server": {"cpuset": "0", "cpus": 1.0},
    "loadgen": {"cpuset": "1", "cpus": 1.0},
    "backing": {"cpuset": "1", "cpus": 1.0},
    "loadgen_processes": 1,
    "warnings": [SHARED],
}


def choosing_run(root: Path) -> Path:
    """sync wins json (it closes every connection); Werkzeug's threaded development server wins io,
    gevent a close second; db is gevent's alone. Every cell carries B (the machine was busy as the
    run began) and C (cores shared with the backing services, which only db calls)."""
    conditions = [warning("machine-busy", BUSY), warning("cores-shared", SHARED)]
    figures = {
        (SYNC, "json"): (800.0, 700.0),
        (GEVENT, "json"): (600.0, 650.0),
        (DEV, IO): (300.0, 624.0),
        (GEVENT, IO): (290.0, 618.0),
        (SYNC, IO): (10.0, 30.0),
        (GEVENT, "db"): (200.0, 400.0),
    }
    cells = {
        (mode, workload, step, 1): cell(rps, p99=50.0, warnings=conditions)
        for (mode, workload), by_step in figures.items()
        for step, rps in zip((1, 64), by_step, strict=True)
    }
    records = {
        "cpu_plan": PLAN,
        "metadata": {"command_line": COMMAND, "git_commit": "abc1234", "cpu_model": "AMD EPYC"},
        "matrix": {"server_memory": "512m"},
    }
    return write_run(root, cells, [1, 64], records=records)


@pytest.fixture
def run(tmp_path: Path) -> Results:
    return aggregate(load_run(choosing_run(tmp_path / "choosing")))


@pytest.fixture
def document(run: Results) -> Document:
    return build_document(run, Objective())


def words(parts: tuple[Inline, ...]) -> str:
    return "".join(
        p if isinstance(p, str) else words(p.parts) if isinstance(p, Strong) else getattr(p, "text", "")
        for p in parts
    )


def text_of(paragraph: Paragraph) -> str:
    return words(paragraph.parts)


def first_screen(html: str) -> str:
    """The page up to the per-workload cards: what a reader sees before scrolling far."""
    return html[: html.index('class="card verdict"')]


def test_the_budget_is_in_the_preface_and_the_host_is_named_as_the_host(document: Document) -> None:
    (budget,) = [s for s in document.preface if isinstance(s, Paragraph) and "budget" in s.style]
    said = text_of(budget)
    assert "1 CPU (core 0) and 512 MiB of memory" in said
    assert "the load generator 1 CPU (core 1, 1 Locust process)" in said
    assert "The host, not the budget: AMD EPYC, 2 CPUs" in said
    assert document.preface.index(budget) <= 1


def test_the_memory_limit_is_written_one_way(tmp_path: Path) -> None:
    html = render_document(build_document(aggregate(load_run(RUNS / "good")), Objective()))
    assert "2 GiB" in html and not re.search(r">2g<|: 2g\b", html)


def test_each_winner_comes_with_the_command_one_would_deploy(run: Results, document: Document) -> None:
    html = render_document(document)
    screen = first_screen(html)
    for mode in (SYNC, GEVENT):
        command = deployment(resolve_mode(mode, 1)).command
        assert command in screen
        assert "127.0.0.1" not in command and "--graceful-timeout" not in command
    # The development server won io, so the production mode beside it is the one to deploy too.
    assert deployment(resolve_mode(DEV, 1)).command in screen
    assert "best production mode on io[ms=100]" in screen


def test_the_measured_command_stays_in_the_per_mode_detail_labelled_so(document: Document) -> None:
    html = render_document(document)
    detail = html[html.index('id="modes"') : html.index('id="warnings"')]
    assert "As measured (the harness&#39;s command" in detail
    assert "--bind 127.0.0.1:" in detail


def test_a_development_server_is_marked_wherever_it_ranks(run: Results, document: Document) -> None:
    summary = document.tables("verdict-summary")[""]
    (io_row,) = [row for row in summary.rows if row[0].text == IO]
    assert io_row[1].text == DEV and "development server" in io_row[1].sub
    ranking = document.tables("verdict-table")[IO]
    marked = {row[1].text: row[1].sub for row in ranking.rows}
    assert "development server" in marked[DEV] and marked[GEVENT] == ""
    banners = [text_of(p) for p in document.sections() if isinstance(p, Paragraph) and p.style == "banner"]
    (said,) = [b for b in banners if "not for production" in b]
    assert f"{DEV} is Werkzeug's development server" in said
    assert f"the best mode one could run in production is {GEVENT}, 618 req/s (-1.0% against it)" in said
    (verdict,) = [v for v in verdicts(run, Objective()) if v.workload == IO]
    assert verdict.best_production is not None and verdict.best_production.mode == GEVENT


def test_a_mode_without_keep_alive_in_the_first_two_is_explained_once(document: Document) -> None:
    notes = [
        text_of(p) for p in document.sections() if isinstance(p, Paragraph) and p.parts[0] == "Keep-alive: "
    ]
    # sync is first on json and not in io's first two; Werkzeug closes connections too, and ranks first on io.
    assert len(notes) == 2
    assert any(
        note.startswith(f"Keep-alive: {SYNC} (ranked on json) closes every connection") for note in notes
    )


def test_how_sure_says_the_run_wide_condition_and_no_figure_carries_its_letter(
    run: Results, document: Document
) -> None:
    for verdict in verdicts(run, Objective()):
        assert "machine busy (B)" in verdict.how_sure
        assert ("cores shared by the CPU plan (C)" in verdict.how_sure) == (verdict.workload == "db")
    summary = document.tables("verdict-summary")[""]
    assert all("machine busy" in row[-1].text for row in summary.rows)
    banners = [s for s in document.preface if isinstance(s, Paragraph) and s.style == "banner"]
    assert [
        b.letter for p in banners for part in p.parts if isinstance(part, Flags) for b in part.badges
    ] == ["B", "C"]
    # C is said once too, for the one workload that calls the backing services.
    assert text_of(banners[1]).startswith(" Every figure of db carries C, cores shared by the CPU plan")
    # Said once, so no figure in any table carries its letter.
    tables = [s for s in document.sections() if isinstance(s, Table)]
    assert tables and not any(b.letter == "B" for t in tables for row in t.rows for c in row for b in c.flags)


def test_cores_shared_only_on_the_workloads_that_call_the_backing_services(run: Results) -> None:
    for (workload, _, _), point in run.points.items():
        assert ("cores-shared" in point.codes) == (workload == "db")


def test_a_run_whose_every_workload_calls_the_backing_services_says_c_once(tmp_path: Path) -> None:
    cells = {
        (GEVENT, "db", step, 1): cell(100.0 * step, warnings=[warning("cores-shared", SHARED)])
        for step in (1, 8)
    }
    res = aggregate(load_run(write_run(tmp_path / "db", cells, [1, 8], records={"cpu_plan": PLAN})))
    document = build_document(res, Objective())
    banners = [text_of(s) for s in document.preface if isinstance(s, Paragraph) and s.style == "banner"]
    (banner,) = banners
    # Said once, without the sentence repeating its own title.
    assert banner.count("cores shared") == 1
    assert "cores shared by the CPU plan (C)" in verdicts(res, Objective())[0].how_sure
    # Under each table of figures once, not beside each figure; in Warnings once, with the count.
    notes = [text_of(p) for p in document.sections() if isinstance(p, Paragraph) and p.style == "note"]
    under_tables = [n for n in notes if n.startswith("Every figure of this run carries")]
    assert len(under_tables) == len(res.workloads) + 1 + len(res.modes)
    html = render_document(document)
    assert "all 2 figures" in html[html.index('id="warnings"') :]
    markdown = render_markdown(res, Objective(), "charts").text
    assert (
        "> [C] **Every figure below carries C, cores shared by the CPU plan**: the load generator" in markdown
    )


def test_the_legend_lists_only_the_flags_that_occur(run: Results, document: Document) -> None:
    html = render_document(document)
    verdict = html[html.index('id="verdict"') : html.index('class="card verdict"')]
    legend = verdict[verdict.index("Flags in this run") :]
    legend = legend[: legend.index("</p>")]
    assert re.findall(r'class="flag flag-(\w)"', legend) == ["B", "C"]


def test_the_reproduce_block_holds_the_recorded_command_and_the_bundle(document: Document) -> None:
    commands = [text_of(p) for p in document.sections() if isinstance(p, Paragraph) and p.style == "command"]
    assert "servingmatrix run --profile quick --server-memory 512m" in commands
    (bundle,) = [c for c in commands if c.startswith("servingmatrix bundle ")]
    assert bundle.split("\n")[0].endswith("-o choosing.tar.gz")
    assert bundle.split("\n")[1] == "servingmatrix reproduce choosing.tar.gz"


def test_the_markdown_export_carries_the_first_screen(run: Results) -> None:
    text = render_markdown(run, Objective(), "charts").text
    for said in (
        "**Budget measured**: each mode's server had 1 CPU (core 0) and 512 MiB of memory",
        deployment(resolve_mode(GEVENT, 1)).command,
        "servingmatrix run --profile quick --server-memory 512m",
        "development server, not for production",
        "Keep-alive: ",
    ):
        assert said in text
    assert "Every figure on this page" not in text


def test_how_sure_names_a_lower_bound_at_the_top_and_the_disturbed_cells(tmp_path: Path) -> None:
    bound = [warning("generator-bound", "the load generator set the pace")]
    cells = {
        (SYNC, "json", 1, 1): cell(900.0, warnings=bound, generator_bound=True),
        (GEVENT, "json", 1, 1): cell(800.0),
        (GEVENT, "json", 8, 1): {"status": "disturbed", "reason": "other work took 40% of core 0"},
    }
    res = aggregate(load_run(write_run(tmp_path / "g", cells, [1, 8])))
    (verdict,) = verdicts(res, Objective())
    assert verdict.conditions == (
        "1 cell(s) disturbed by other work on their cores, not published",
        f"{SYNC}: a lower bound, the load generator set the pace (G)",
    )
    assert verdict.how_sure == "; ".join((verdict.certainty, *verdict.conditions))


@pytest.mark.parametrize("name", ["good", "partial", "recorded", "choosing"])
def test_the_markdown_export_says_every_sentence_the_printed_page_says(tmp_path: Path, name: str) -> None:
    """Every paragraph and command of the preface and the printed parts is in the Markdown export."""
    root = choosing_run(tmp_path / "choosing") if name == "choosing" else RUNS / name
    res = aggregate(load_run(root))
    document = build_document(res, Objective())
    markdown = render_markdown(res, Objective(), "charts").text
    printed = Document("", document.preface, tuple(p for p in document.parts if p.printed))
    paragraphs = [s for s in printed.sections() if isinstance(s, Paragraph)]
    assert paragraphs
    for p in paragraphs:
        # A command is fenced on lines of its own; any other paragraph is one line.
        said = "\n".join(md_paragraph(p))
        assert said in markdown, said


def test_a_workloads_charts_and_notes_name_only_the_run_wide_flags_its_figures_carry(
    document: Document,
) -> None:
    captions = {c.id: c.caption for c in document.charts()}
    assert "C (cores shared by the CPU plan)" in captions["throughput-db"]
    assert "C (cores shared by the CPU plan)" not in captions["throughput-json"]
    assert "B (machine busy)" in captions["throughput-json"]
    performance = next(p for p in document.parts if p.anchor == "performance")
    notes = [
        text_of(s)
        for s in Document("", (), (performance,)).sections()
        if isinstance(s, Paragraph) and text_of(s).startswith("Every figure of")
    ]
    # B under each workload's table; C under db's only.
    assert sum("machine busy" in n for n in notes) == 3
    assert sum("cores shared" in n for n in notes) == 1


def test_the_budget_gives_the_generators_memory_as_docker_applied_it() -> None:
    document = build_document(aggregate(load_run(RUNS / "good")), Objective())
    (budget,) = [s for s in document.preface if isinstance(s, Paragraph) and "budget" in s.style]
    assert "the load generator 1 CPU (core 1) and 2 GiB of memory" in text_of(budget)
