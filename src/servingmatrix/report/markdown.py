"""The Markdown export: the verdict, tables and static SVG charts, ready to paste into a post.

Every flagged figure carries its flags' letters in brackets (``1,154 [S]``); the letters are
explained under the tables, and flags every figure shares are named once at the top. Each workload
opens with its capacity table: per mode, the most served within the objective and the knee.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from servingmatrix import fmt
from servingmatrix.analysis.capacity import Capacity, capacities, series_knee
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.verdict import Objective, best_point, concurrency_checks, verdicts
from servingmatrix.flags import KINDS, Flag, kind
from servingmatrix.methodology import DERIVED
from servingmatrix.report.charts import colours
from servingmatrix.report.context import run_wide_codes
from servingmatrix.report.environment import calibration_rows, cpu_plan_rows
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.svg import Guide, Line, line_chart


@dataclass(frozen=True)
class Publication:
    text: str
    #: SVG charts by file name, written in the folder the text links to.
    images: dict[str, str]

    def write(self, path: Path, charts_dir: str) -> list[Path]:
        write_text_atomic(path, self.text)
        written = [path]
        for name, svg in self.images.items():
            target = path.parent / charts_dir / name
            write_text_atomic(target, svg)
            written.append(target)
        return written


def _flags(flags: tuple[Flag, ...], hide: frozenset[str]) -> str:
    shown = "".join(f.letter for f in flags if f.code not in hide)
    return f" [{shown}]" if shown else ""


def _figure(point: Point | None, hide: frozenset[str]) -> str:
    if point is None:
        return "not measured"
    if not point.ok:
        return "failed"
    return f"{fmt.rps(point.throughput.median if point.throughput else None)}{_flags(point.flags, hide)}"


def _table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")


def _notes(lines: list[Line], hide: frozenset[str]) -> tuple[str, ...]:
    """The flags drawn on a chart, spelled out under it, and those every figure carries."""
    used = {letter for line in lines for _, _, flags in line.points for letter in flags}
    parts = [f"{k.letter} {k.title}" for k in KINDS if k.letter in used and k.code not in hide]
    shared = [f"{kind(c).letter} {kind(c).title}" for c in sorted(hide)]
    notes = [f"Hollow points are flagged: {'; '.join(parts)}."] if parts else []
    if shared:
        notes.append(f"Every point carries {'; '.join(shared)}.")
    return tuple(notes)


def _alt(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def _lines(results: Results, workload: str, value: str, hide: frozenset[str]) -> list[Line]:
    palette = colours(results.modes)
    lines = []
    for mode in results.served_modes(workload):
        points = []
        for users in results.users:
            p = results.point(workload, mode, users)
            if value == "throughput":
                y = p.throughput.median if p and p.throughput else None
            else:
                est = p.latency.get(value) if p else None
                y = est.median if est else None
            flags = "".join(f.letter for f in p.flags if f.code not in hide) if p else ""
            points.append((float(users), y, flags))
        found = series_knee(results.series(workload, mode)) if value == "throughput" else None
        lines.append(Line(mode, palette[mode], tuple(points), float(found.step) if found else None))
    return lines


def _capacity(results: Results, items: list[Capacity], hide: frozenset[str]) -> list[str]:
    """Per mode: the most served within the objective, where, how sure, and the knee."""
    header = ["mode", "capacity req/s", f"at {results.step_label}", "p99 ms", "95% interval", "knee"]
    if results.open_loop:
        header = ["mode", "achieved req/s", "offered req/s", "p99 ms", "95% interval", "knee"]
    rows = []
    for c in items:
        knee = c.knee
        knee_cell = fmt.DASH
        if knee is not None:
            knee_cell = f"{results.step_text(knee.step)}, {fmt.rps(knee.throughput)} req/s"
            if knee.at_last_step:
                knee_cell += " (last step: may still rise)"
        p = c.point
        if p is None:
            rows.append([f"`{c.mode}`", f"none within the objective: {c.why_not}", "", "", "", knee_cell])
            continue
        est = p.throughput
        interval = (
            f"{fmt.rps(est.ci_low)} to {fmt.rps(est.ci_high)}"
            if est and est.ci_low is not None and est.ci_high is not None
            else "single trial"
        )
        where = fmt.rps(c.offered_rps) if results.open_loop else str(p.users)
        rows.append([f"`{c.mode}`", _figure(p, hide), where, fmt.ms(p.p99), interval, knee_cell])
    return _table(header, rows, {1, 2, 3})


def render_markdown(results: Results, objective: Objective, charts_dir: str) -> Publication:
    run = results.run
    hide = run_wide_codes(results)
    meta = run.metadata
    out: list[str] = [f"# Serving Matrix: {run.name}", ""]
    if run.matrix.get("description"):
        out += [str(run.matrix["description"]), ""]
    machine = ", ".join(
        str(v)
        for v in (
            meta.get("cpu_model"),
            meta.get("cpu_count") and f"{meta['cpu_count']} CPUs",
            meta.get("kernel"),
        )
        if v
    )
    out += [
        f"{len(results.modes)} modes x {len(results.workloads)} workloads x "
        f"{results.step_label} {', '.join(map(str, results.users))}"
        f"{' (open loop)' if results.open_loop else ''}, "
        f"{run.matrix.get('trials', 1)} trial(s) of {run.matrix.get('duration_s', '?')} s after "
        f"{run.matrix.get('warmup_s', '?')} s of warm-up; {machine or 'machine not recorded'}; "
        f"started {run.meta.get('started_at', '?')}.",
        "",
    ]
    for code in sorted(hide):
        message = next((f.message for p in results.points.values() for f in p.flags if f.code == code), "")
        out += [f"> **Every figure below carries {kind(code).letter} ({kind(code).title})**: {message}.", ""]
    missing = results.missing_modes()
    if missing:
        out += [
            f"> **Missing modes**: the matrix lists {', '.join(missing)}, "
            "but the run holds no result for them.",
            "",
        ]

    out += ["## Verdict", "", f"Acceptable latency: {objective.describe()}.", ""]
    rows = []
    for v in verdicts(results, objective):
        w, r = v.winner, v.runner_up
        rows.append(
            [
                v.workload,
                f"`{w.mode}`" if w else "none met the objective",
                _figure(w, hide) if w else "—",
                str(w.users) if w else "—",
                fmt.ms(w.p99) if w else "—",
                f"{fmt.change(v.margin)} over `{r.mode}` ({_figure(r, hide)})" if r and v.margin else "—",
                v.certainty,
            ]
        )
    out += _table(
        ["workload", "most served", "req/s", f"at {results.step_label}", "p99 ms", "margin", "how sure"],
        rows,
        {2, 3, 4},
    )
    out.append("")
    checks = concurrency_checks(results)
    for workload in sorted({c.workload for c in checks}):
        out += [f"### Concurrency on `{workload}`: achieved against the folk claim", ""]
        out += _table(
            ["mode", "folk claim", "promised", results.step_label, "achieved", "the claim"],
            [
                [
                    f"`{c.mode}`",
                    c.claim,
                    "unbounded" if c.promised is None else str(c.promised),
                    str(c.users),
                    f"{fmt.num(c.effective, 1)}{_flags(c.point.flags, hide)}",
                    c.judgement,
                ]
                for c in checks
                if c.workload == workload
            ],
            {2, 3, 4},
        )
        out.append("")

    images: dict[str, str] = {}
    for workload in results.workloads:
        out += [f"## {workload}", "", "### Capacity", ""]
        out += _capacity(results, capacities(results, workload, objective), hide)
        out += [
            "",
            f"Capacity: the most served with {objective.describe()}, the median of the trials at that "
            "step, with the bootstrap 95% interval of the median. Knee: the first step reaching 90% of "
            "the mode's highest throughput; past it, more load only adds latency.",
            "",
        ]
        slug = _slug(workload)
        throughput = _lines(results, workload, "throughput", hide)
        images[f"throughput-{slug}.svg"] = line_chart(
            f"Throughput vs {results.step_label}: {workload}",
            results.step_axis,
            "requests per second",
            [float(u) for u in results.users],
            throughput,
            notes=(*_notes(throughput, hide), "A ring marks each mode's knee."),
        )
        p99 = _lines(results, workload, "p99", hide)
        images[f"p99-{slug}.svg"] = line_chart(
            f"p99 latency vs {results.step_label}: {workload}",
            results.step_axis,
            "p99 latency, ms (log scale)",
            [float(u) for u in results.users],
            p99,
            log_y=True,
            guide=Guide(objective.p99_ms, f"objective {objective.p99_ms:g} ms"),
            notes=_notes(p99, hide),
        )
        out += [
            f"![Throughput vs {results.step_label}: {_alt(workload)}]({charts_dir}/throughput-{slug}.svg)",
            "",
            f"![p99 latency vs {results.step_label}: {_alt(workload)}]({charts_dir}/p99-{slug}.svg)",
            "",
        ]
        header = ["mode", *(f"{results.step_text(u)}: req/s (p99 ms)" for u in results.users)]
        table_rows = []
        for mode in results.modes_of(workload):
            cells = []
            for users in results.users:
                p = results.point(workload, mode, users)
                cells.append(_figure(p, hide) + (f" ({fmt.ms(p.p99)})" if p and p.ok else ""))
            table_rows.append([f"`{mode}`", *cells])
        out += _table(header, table_rows, set(range(1, len(header))))
        out.append("")

    out += [
        "## Cost",
        "",
        "Each mode at its best step meeting the objective (or its highest served step).",
        "",
    ]
    cost_rows = []
    for workload in results.workloads:
        for mode in results.modes_of(workload):
            series = results.series(workload, mode)
            p = best_point(series, objective) or next((q for q in reversed(series) if q.ok), None)
            if p is None:
                cost_rows.append([workload, f"`{mode}`", "—", "failed", "—", "—", "—", "—"])
                continue
            cost_rows.append(
                [
                    workload,
                    f"`{mode}`",
                    str(p.users),
                    _figure(p, hide),
                    f"{fmt.num(p.server_cpu_pct)}%",
                    fmt.rps(p.requests_per_cpu_s) + _flags(p.flags, hide),
                    fmt.mb(p.server_mem_mb),
                    fmt.mb(p.largest_process_mb),
                ]
            )
    out += _table(
        [
            "workload",
            "mode",
            results.step_label,
            "req/s",
            "server CPU",
            "req per CPU-second",
            "memory",
            "per worker",
        ],
        cost_rows,
        {2, 3, 4, 5, 6, 7},
    )
    out.append("")

    out += ["## Warnings", ""]
    flagged = False
    for k in KINDS:
        if k.code in hide:
            continue
        items = [
            f"- `{p.mode}` x `{p.workload}` x {results.step_text(p.users)}: {f.message}"
            for p in results.points.values()
            for f in p.flags
            if f.code == k.code
        ]
        if items:
            flagged = True
            out += [f"**[{k.letter}] {k.title}**: {k.meaning}.", "", *items, ""]
    failed = [c for c in run.cells if not c.ok]
    if failed:
        flagged = True
        out += ["**Failed cells**", ""]
        out += [
            f"- `{c.mode}` x `{c.workload}` x {results.step_text(c.users)}, trial {c.trial}: {c.reason}"
            for c in failed
        ]
        out.append("")
    if not flagged:
        out += ["No figure is flagged.", ""]

    out += ["## Environment and methodology", ""]
    plan = "; ".join(
        f"{role} on cores {cores} ({quota})" for role, cores, quota in cpu_plan_rows(run.cpu_plan)
    )
    out += [
        f"- Machine: {machine or 'not recorded'}; Docker {meta.get('docker_version', '?')}, cgroup "
        f"v{meta.get('cgroup_version', '?')}, {meta.get('storage_driver', '?')}.",
        f"- CPU plan: {plan or 'not recorded'}.",
        "- Load generator calibration: "
        + "; ".join(f"{label}: {value}" for label, value in calibration_rows(run.calibration))
        + ".",
        f"- Harness: servingmatrix {meta.get('harness_version', '?')} at {meta.get('git_commit', '?')}.",
        "",
    ]
    out += [f"- **{name}**: {how}." for name, how in DERIVED]
    out += ["", "Flags: " + "; ".join(f"[{k.letter}] {k.title}" for k in KINDS) + ".", ""]
    return Publication("\n".join(out), images)
