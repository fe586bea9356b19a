"""A static site of runs: an index of the runs by date, machine and commit, each run's report, and
for every cell (mode x workload x step) a chart of its history across the runs, as asv publishes a
benchmark's history. Self-contained: every page opens without a network (the reports inline their
script, the history charts are SVG).

Layout: ``index.html``; ``runs/<id>/report.html`` (the run's own report copied in, or rendered when
it has none); ``history/<workload>.html``, one chart per cell, each anchored by its id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from servingmatrix import fmt
from servingmatrix.analysis.history import CellHistory, History, build_history, started, testbed
from servingmatrix.analysis.points import Point, Results, aggregate
from servingmatrix.errors import UserError
from servingmatrix.inputs.user_paths import kernel_root, unusable
from servingmatrix.report.figures.chart_specs import colours
from servingmatrix.report.figures.history_svg import HistoryMark, MachineLine, RunLabel, history_chart
from servingmatrix.report.html import render_static
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.page import REPORT_FILE, write_report
from servingmatrix.report.sections.common import badges
from servingmatrix.report.views.reproduce_view import letters
from servingmatrix.results.run import load_run
from servingmatrix.spec import shown

#: The file that marks a folder as a site written here: a later ``site -o`` may replace it, nothing else.
SITE_MARK = ".servingmatrix-site"
#: A published site is read by everyone, as a folder made with `umask 022`.
SITE_DIR_MODE = 0o755


@dataclass(frozen=True)
class SiteWritten:
    path: Path
    runs: int
    charts: int
    #: Reports rendered for runs that had none of their own.
    rendered: int
    size_bytes: int
    seconds: float

    def describe(self) -> str:
        rendered = f", {self.rendered} report(s) rendered" if self.rendered else ""
        return (
            f"{self.path}: {self.runs} runs, {self.charts} history charts{rendered} "
            f"({self.size_bytes / 1e6:.1f} MB, written in {self.seconds:.1f} s)"
        )


def slug(*parts: object) -> str:
    """A file name or anchor that is readable and unique (the hash separates specs that slugify alike)."""
    text = "|".join(str(p) for p in parts)
    readable = re.sub(r"[^a-z0-9]+", "-", "-".join(str(p) for p in parts).lower()).strip("-")
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:6]}"


def label(results: Results) -> RunLabel:
    meta = results.run.metadata
    when = started(results)
    commit = str(meta.get("git_commit") or "no commit")[:7]
    dirty = "+dirty" if meta.get("git_dirty") else ""
    return RunLabel(when[:10] or "undated", f"{when[11:16]} {commit}{dirty}".strip())


def _run_ids(history: History) -> list[str]:
    ids: list[str] = []
    for results in history.runs:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{started(results)[:10]}-{results.run.name}").strip("-.")
        candidate, n = base or "run", 1
        while candidate in ids:
            n += 1
            candidate = f"{base}-{n}"
        ids.append(candidate)
    return ids


def check_site_target(out: Path, run_dirs: Sequence[Path]) -> None:
    """The site may go to ``out``: a new or empty folder, or a site written here before."""
    problem = unusable(out)
    if problem is not None:
        raise UserError(f"-o {shown(str(out))}: {problem}; give a folder for the site")
    root = kernel_root(out)
    if root is not None:
        raise UserError(f"-o {out}: is under {root}, the kernel's; give a folder for the site")
    if out.exists() and not out.is_dir():
        raise UserError(f"-o {out}: is a file; give a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARK).exists():
        raise UserError(
            f"-o {out}: holds files that are not a site servingmatrix wrote; give a new or empty folder, "
            "or a site's folder to replace it"
        )
    for run_dir in run_dirs:
        if out.resolve() in (run_dir.resolve(), *run_dir.resolve().parents):
            raise UserError(f"-o {out}: holds the run {run_dir}, which replacing the site would delete")


def _mark(history: History, cell: CellHistory, index: int, line_label: RunLabel) -> HistoryMark | None:
    point = cell.points[index]
    if point is None:
        return None
    results = history.runs[index]
    est = point.throughput
    flags = letters(point)
    figure = f"{fmt.rps(est.median)} req/s" if est else "failed: " + "; ".join(point.failed_reasons)
    parts = [f"{results.run.name} ({line_label.date} {line_label.commit})", figure]
    if est is not None and est.ci_low is not None and est.ci_high is not None:
        parts.append(f"95% interval {fmt.rps(est.ci_low)} to {fmt.rps(est.ci_high)}")
    parts += [f"p99 {fmt.ms(point.p99)} ms"] if est else []
    parts += [f"flags: {flags}"] if flags else []
    return HistoryMark(
        run=index,
        throughput=est.median if est else None,
        low=est.ci_low if est else None,
        high=est.ci_high if est else None,
        p99=point.p99 if est else None,
        flags=flags,
        hover="; ".join(parts),
    )


@dataclass(frozen=True)
class ChartEntry:
    """One cell's chart on its workload's page, and what the index shows of it."""

    id: str
    mode: str
    step: str
    title: str
    svg: Markup
    caption: str
    latest: Point | None
    #: The run the newest figure comes from, and its testbed, in words (empty when there is none).
    latest_from: str = ""

    @property
    def latest_text(self) -> str:
        if self.latest is None:
            return fmt.DASH
        return fmt.rps(self.latest.throughput.median) if self.latest.throughput else "failed"


def _step_text(history: History, cell: CellHistory) -> str:
    """ "64 users", or "200 offered req/s": as a run of the cell's kind of loop words it."""
    results = next(r for r in history.runs if r.open_loop == cell.key.open_loop)
    return results.step_text(cell.key.step)


#: What a line of a history chart is.
LINES = "one line per testbed (machine, method and the server's budget), never joined"


def cell_chart(history: History, cell: CellHistory) -> ChartEntry:
    """One cell's chart: a line per testbed (machine, and method when not one machine) over the runs,
    oldest first."""
    labels = [label(r) for r in history.runs]
    testbeds = history.testbeds()
    palette = colours(tuple(testbeds))
    lines = []
    for bed in testbeds:
        marks = [
            mark for i in history.runs_on(bed) if (mark := _mark(history, cell, i, labels[i])) is not None
        ]
        if marks:
            lines.append(MachineLine(bed, palette[bed], tuple(marks)))
    key = cell.key
    step = _step_text(history, cell)
    title = f"{key.mode} x {key.workload} x {step}"
    measured = sum(p is not None for p in cell.points)
    return ChartEntry(
        id=slug(key.workload, key.mode, "open" if key.open_loop else "closed", key.step),
        mode=key.mode,
        step=step,
        title=title,
        svg=Markup(history_chart(title, labels, lines, run_times(history))),
        caption=f"Measured in {measured} of {len(history.runs)} runs; {LINES}.",
        latest=cell.latest,
        latest_from=_run_words(history.runs[cell.latest_at]) if cell.latest_at is not None else "",
    )


def run_times(history: History) -> list[float] | None:
    """When each run started, in seconds, for a time axis; None when a run records no start."""
    times = []
    for results in history.runs:
        try:
            times.append(datetime.fromisoformat(started(results)).timestamp())
        except ValueError:
            return None
    return times


def _run_words(results: Results) -> str:
    return f"from the run {results.run.name} ({started(results) or 'undated'}) on {testbed(results)}"


def _workload_page(history: History, workload: str, charts: list[ChartEntry]) -> str:
    modes = [
        {"mode": m, "charts": [c for c in charts if c.mode == m]}
        for m in dict.fromkeys(c.mode for c in charts)
    ]
    return render_static(
        "site_history.html.j2",
        {
            "title": f"Serving Matrix history: {workload}",
            "workload": workload,
            "runs": len(history.runs),
            "modes": modes,
            "svg_charts": len(charts),
        },
    )


def _run_row(run_id: str, results: Results) -> dict[str, Any]:
    run, meta = results.run, results.run.metadata
    return {
        "id": run_id,
        "name": run.name,
        "started": started(results) or fmt.DASH,
        "machine": run.testbed,
        "budget": run.budget,
        "engine": str(meta.get("docker_version") or fmt.DASH),
        "commit": str(meta.get("git_commit") or fmt.DASH)[:12],
        "dirty": bool(meta.get("git_dirty")),
        "cells": f"{sum(c.record.ok for c in run.cells)} of {len(run.cells)} ok",
        "href": f"runs/{run_id}/{REPORT_FILE}",
    }


def _grid_cell(history: History, page: str, chart: ChartEntry, cell: CellHistory, runs: list[int]) -> Any:
    """A cell's newest figure among ``runs`` (one testbed's), linking to its chart; None when none has it."""
    at = cell.latest_among(runs)
    if at is None:
        return None
    point = cell.points[at]
    text = fmt.DASH if point is None else fmt.rps(point.throughput.median) if point.throughput else "failed"
    return {
        "href": f"{page}#{chart.id}",
        "text": text,
        "flags": badges(point.flags) if point is not None else (),
        "from": _run_words(history.runs[at]),
        # Said on the page, not only on hover, when the figure is older than the table's newest run.
        "older": "" if at == runs[-1] else f"run {history.runs[at].run.name}",
    }


def _workload_grids(history: History, workload: str, charts: list[ChartEntry]) -> dict[str, Any]:
    """The index's tables of a workload, one per testbed (newest first): a row per mode, a column
    per step, each the newest figure measured on that testbed; figures of two testbeds never share
    a row."""
    page = f"history/{slug(workload)}.html"
    cells = history.of_workload(workload)
    tables = []
    # The testbed measured most recently first.
    for bed in sorted(history.testbeds(), key=lambda b: -history.runs_on(b)[-1]):
        runs = history.runs_on(bed)
        here = [(c, h) for c, h in zip(charts, cells, strict=True) if h.latest_among(runs) is not None]
        if not here:
            continue
        steps = list(dict.fromkeys(c.step for c, _ in here))
        by_place = {(c.mode, c.step): (c, h) for c, h in here}
        rows = [
            {
                "mode": mode,
                "cells": [
                    None
                    if (found := by_place.get((mode, step))) is None
                    else _grid_cell(history, page, *found, runs)
                    for step in steps
                ],
            }
            for mode in dict.fromkeys(c.mode for c, _ in here)
        ]
        newest = history.runs[runs[-1]]
        tables.append(
            {
                "testbed": bed,
                "runs": len(runs),
                "newest": f"{newest.run.name} ({started(newest) or 'undated'})",
                "steps": steps,
                "rows": rows,
            }
        )
    return {"name": workload, "href": page, "tables": tables}


def _index(history: History, ids: list[str], pages: dict[str, list[ChartEntry]]) -> str:
    return render_static(
        "site_index.html.j2",
        {
            "title": f"Serving Matrix: {len(history.runs)} runs",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "runs": [_run_row(i, r) for i, r in reversed(list(zip(ids, history.runs, strict=True)))],
            "workloads": [_workload_grids(history, w, charts) for w, charts in pages.items()],
            "svg_charts": 0,
        },
    )


def _write_pages(history: History, into: Path) -> tuple[int, int]:
    """Every page of the site under ``into``; returns the charts drawn and the reports rendered."""
    ids = _run_ids(history)
    rendered = 0
    for run_id, results in zip(ids, history.runs, strict=True):
        own = results.run.root / REPORT_FILE
        target = into / "runs" / run_id / REPORT_FILE
        target.parent.mkdir(parents=True)
        # A site is published: a report that is a link (to whatever it names) is rendered anew instead.
        if own.is_file() and not own.is_symlink():
            shutil.copyfile(own, target)
        else:
            write_report(results.run.root, target)
            rendered += 1
    pages = {w: [cell_chart(history, c) for c in history.of_workload(w)] for w in history.workloads}
    for workload, charts in pages.items():
        write_text_atomic(
            into / "history" / f"{slug(workload)}.html", _workload_page(history, workload, charts)
        )
    write_text_atomic(into / "index.html", _index(history, ids, pages))
    mark = {"kind": "servingmatrix-site", "runs": [str(r.run.root) for r in history.runs]}
    (into / SITE_MARK).write_text(json.dumps(mark, indent=1) + "\n")
    return sum(len(c) for c in pages.values()), rendered


def _publish(staging: Path, out: Path) -> None:
    """Put the staged site in place of ``out`` (an old site or an empty folder) in two renames."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        out.rename(old / out.name)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def write_site(run_dirs: Sequence[Path], out: Path) -> SiteWritten:
    """The site of the runs in ``run_dirs`` in the folder ``out``, replacing a site written there before."""
    begun = time.perf_counter()
    check_site_target(out, run_dirs)
    seen: set[Path] = set()
    for run_dir in run_dirs:
        if run_dir.resolve() in seen:
            raise UserError(f"{run_dir}: given twice; give each run once")
        seen.add(run_dir.resolve())
    history = build_history([aggregate(load_run(d)) for d in run_dirs])
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        os.chmod(staging, SITE_DIR_MODE)
        charts, rendered = _write_pages(history, staging)
        size = _size(staging)
        _publish(staging, out)
    except OSError as exc:
        raise UserError(
            f"{out}: cannot write the site ({exc.strerror or exc}); nothing was replaced"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SiteWritten(out, len(history.runs), charts, rendered, size, time.perf_counter() - begun)
