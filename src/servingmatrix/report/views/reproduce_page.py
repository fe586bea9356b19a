"""A reproduction as an HTML page: what was reproduced, what differs between the runs, then every cell."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.reproduction import Reproduction
from servingmatrix.report.html import render_static
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.sections.common import badges
from servingmatrix.report.views.reproduce_view import (
    Source,
    interval,
    p99,
    style,
    tally,
    throughput,
    tolerance_text,
)


def _rows(reproduction: Reproduction, workload: str) -> list[dict[str, Any]]:
    return [
        {
            "mode": c.change.mode,
            "step": c.change.users,
            "published": throughput(c.published),
            "published_interval": interval(c.published),
            "published_flags": badges(c.published.flags) if c.published else (),
            "reproduced": throughput(c.reproduced),
            "reproduced_interval": interval(c.reproduced),
            "reproduced_flags": badges(c.reproduced.flags) if c.reproduced else (),
            "throughput_change": fmt.change(c.change.throughput),
            "published_p99": p99(c.published),
            "reproduced_p99": p99(c.reproduced),
            "p99_change": fmt.change(c.change.p99),
            "status": c.status,
            "why": c.why,
            "style": style(c),
        }
        for c in reproduction.cells
        if c.change.workload == workload
    ]


def build_context(reproduction: Reproduction, source: Source) -> dict[str, Any]:
    workloads = list(dict.fromkeys(c.change.workload for c in reproduction.cells))
    published, run = reproduction.published, reproduction.reproduction
    return {
        "title": f"Serving Matrix: reproducing run {source.info.run_id}",
        "source": source.describe(),
        "published_started": str(published.record.started_at or fmt.DASH),
        "reproduction": {"dir": str(run.root), "started": str(run.record.started_at or fmt.DASH)},
        "differences": list(reproduction.differences),
        "notes": list(reproduction.notes),
        "counts": reproduction.counts(),
        "tally": tally(reproduction),
        "tolerance": tolerance_text(),
        "step_label": reproduction.comparison.run.step_label,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sections": [{"workload": w, "rows": _rows(reproduction, w)} for w in workloads],
        "svg_charts": 0,
    }


def write_reproduction_page(reproduction: Reproduction, source: Source, out: Path) -> tuple[Path, float, int]:
    started = time.perf_counter()
    html = render_static("reproduce.html.j2", build_context(reproduction, source))
    write_text_atomic(out, html)
    return out, time.perf_counter() - started, len(html.encode())
