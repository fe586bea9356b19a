"""The report's one context: every section computed here, as text and chart figures ready to lay out.

The template only places what this module prepares (Locust's habit: one dict, one template).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.capacity import Capacity, capacities, knee_text
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.stats import Estimate
from servingmatrix.analysis.verdict import (
    ConcurrencyCheck,
    Objective,
    Verdict,
    best_point,
    concurrency_checks,
    verdicts,
)
from servingmatrix.flags import KINDS, Flag, kind
from servingmatrix.methodology import DERIVED
from servingmatrix.report.charts import (
    Chart,
    concurrency_chart,
    efficiency_chart,
    error_chart,
    latency_chart,
    memory_chart,
    throughput_chart,
)
from servingmatrix.report.environment import (
    applied_rows,
    calibration_rows,
    cpu_plan_rows,
    matrix_rows,
    metadata_rows,
    mix_rows,
    mode_info,
)
from servingmatrix.results.run import Cell

#: Flags that describe the run rather than a figure: named once at the top when every figure has them.
RUN_WIDE = frozenset({"cores-shared"})


def run_wide_codes(results: Results) -> frozenset[str]:
    ok = [p for p in results.points.values() if p.ok]
    if not ok:
        return frozenset()
    return frozenset(code for code in RUN_WIDE if all(code in p.codes for p in ok))


def badges(flags: tuple[Flag, ...], hide: frozenset[str]) -> list[dict[str, str]]:
    return [
        {"letter": f.letter, "code": f.code, "title": f"{f.kind.title}: {f.message}"}
        for f in flags
        if f.code not in hide
    ]


def figure(text: str, flags: tuple[Flag, ...], hide: frozenset[str]) -> dict[str, Any]:
    """A figure as the page shows it: never without its flags."""
    return {"text": text, "flags": badges(flags, hide)}


def _rps(point: Point | None) -> str:
    return fmt.rps(point.throughput.median if point and point.throughput else None)


def _interval(est: Estimate | None) -> str:
    """The bootstrap 95% interval of a median, or why there is none."""
    if est is None or est.ci_low is None or est.ci_high is None:
        return "single trial" if est is not None else fmt.DASH
    return f"{fmt.rps(est.ci_low)} to {fmt.rps(est.ci_high)}"


def _verdict(v: Verdict, results: Results, hide: frozenset[str], objective: Objective) -> dict[str, Any]:
    winner, runner_up = v.winner, v.runner_up
    runner_text = ""
    if winner is None:
        headline = f"No mode met the objective ({objective.describe()})."
    else:
        headline = (
            f"{winner.mode} served the most: {_rps(winner)} req/s at {results.step_text(winner.users)} "
            f"(p99 {fmt.ms(winner.p99)} ms)"
        )
        if runner_up is not None and v.margin is not None:
            runner_text = (
                f"{fmt.signed_pct(v.margin.relative)} over {runner_up.mode} ({_rps(runner_up)} req/s)"
            )
    best = winner.throughput.median if winner and winner.throughput else None
    ranking = [
        {
            "rank": i + 1,
            "mode": p.mode,
            "throughput": figure(_rps(p), p.flags, hide),
            "users": p.users,
            "p99": fmt.ms(p.p99),
            "spread": fmt.spread(p.throughput),
            "vs_winner": "—"
            if i == 0 or not best or not p.throughput
            else fmt.signed_pct(p.throughput.median / best - 1),
        }
        for i, p in enumerate(v.ranking)
    ]
    return {
        "workload": v.workload,
        "winner": winner.mode if winner else None,
        "headline": headline,
        "certainty": v.certainty,
        "flags": badges(winner.flags, hide) if winner else [],
        # The runner-up's figure is quoted too, so it comes with its own flags.
        "runner_up": runner_text,
        "runner_up_flags": badges(runner_up.flags, hide) if runner_up and runner_text else [],
        "flag_notes": [f"{f.kind.title}: {f.message}" for f in winner.flags if f.code not in hide]
        if winner
        else [],
        "ranking": ranking,
        "unqualified": [{"mode": m, "why": why} for m, why in v.unqualified],
    }


def _concurrency(checks: list[ConcurrencyCheck], workload: str, hide: frozenset[str]) -> dict[str, Any]:
    rows = [
        {
            "mode": c.mode,
            "users": c.users,
            "effective": figure(fmt.num(c.effective, 1), c.point.flags, hide),
            "promised": "unbounded" if c.promised is None else str(c.promised),
            "expected": c.expected,
            "claim": c.claim,
            "judgement": c.judgement,
            "holds": c.holds,
        }
        for c in checks
        if c.workload == workload
    ]
    return {"workload": workload, "rows": rows, "chart": concurrency_chart(checks, workload)}


def _capacity_row(c: Capacity, results: Results, hide: frozenset[str]) -> dict[str, Any]:
    point, knee = c.point, c.knee
    row: dict[str, Any] = {
        "mode": c.mode,
        "met": point is not None,
        "why_not": c.why_not or "",
        "knee": results.step_text(knee.step) if knee else fmt.DASH,
        "knee_rps": fmt.rps(knee.throughput) if knee else fmt.DASH,
        "knee_note": "last step: may still rise" if knee and knee.at_last_step else "",
        "knee_title": knee_text(results, knee) if knee else "",
    }
    if point is None:
        return row
    return {
        **row,
        "capacity": figure(_rps(point), point.flags, hide),
        "step": results.step_text(point.users),
        "offered": fmt.rps(c.offered_rps),
        "achieved_share": fmt.pct(c.throughput / c.offered_rps) if c.throughput and c.offered_rps else "",
        "p99": fmt.ms(point.p99),
        "interval": _interval(point.throughput),
    }


def _performance(
    results: Results, workload: str, hide: frozenset[str], objective: Objective
) -> dict[str, Any]:
    rows = []
    for mode in results.modes_of(workload):
        figures = []
        for users in results.users:
            point = results.point(workload, mode, users)
            if point is None:
                figures.append({"text": "not measured", "sub": "", "title": "", "flags": []})
            elif not point.ok:
                figures.append(
                    {"text": "failed", "sub": "; ".join(point.failed_reasons), "title": "", "flags": []}
                )
            else:
                figures.append(
                    {
                        **figure(_rps(point), point.flags, hide),
                        "sub": f"p99 {fmt.ms(point.p99)} ms" + ("" if objective.met_by(point) else " ✗"),
                        "title": fmt.spread(point.throughput),
                    }
                )
        rows.append({"mode": mode, "figures": figures})
    return {
        "workload": workload,
        "capacity": [_capacity_row(c, results, hide) for c in capacities(results, workload, objective)],
        "charts": [
            throughput_chart(results, workload, hide),
            latency_chart(results, workload, hide, objective),
            error_chart(results, workload, hide),
        ],
        "rows": rows,
    }


def _cost(results: Results, workload: str, hide: frozenset[str], objective: Objective) -> dict[str, Any]:
    rows = []
    for mode in results.modes_of(workload):
        series = results.series(workload, mode)
        point = best_point(series, objective) or next((p for p in reversed(series) if p.ok), None)
        if point is None:
            rows.append({"mode": mode, "failed": True})
            continue
        rows.append(
            {
                "mode": mode,
                "failed": False,
                "users": point.users,
                "meets": objective.met_by(point),
                "throughput": figure(_rps(point), point.flags, hide),
                "cpu": f"{fmt.num(point.server_cpu_pct)}%",
                "per_cpu": figure(fmt.rps(point.requests_per_cpu_s), point.flags, hide),
                "memory": fmt.mb(point.server_mem_mb),
                "processes": fmt.num(point.processes),
                "per_worker": fmt.mb(point.largest_process_mb),
            }
        )
    return {"workload": workload, "rows": rows, "chart": efficiency_chart(results, workload, hide)}


def _cell_row(cell: Cell, hide: frozenset[str]) -> dict[str, Any]:
    if not cell.ok:
        return {
            "workload": cell.workload,
            "users": cell.users,
            "trial": cell.trial,
            "failed": cell.reason or "failed",
        }
    lat = cell.latency_ms
    flags = tuple(cell.flags)
    return {
        "workload": cell.workload,
        "users": cell.users,
        "trial": cell.trial,
        "failed": None,
        "requests": fmt.num(cell.requests),
        "throughput": figure(fmt.rps(cell.throughput_rps), flags, hide),
        "p50": fmt.ms(lat.get("p50")),
        "p95": fmt.ms(lat.get("p95")),
        "p99": fmt.ms(lat.get("p99")),
        "max": fmt.ms(lat.get("max")),
        "errors": fmt.pct(cell.error_rate, 2),
        "cpu": fmt.num(cell.server_cpu_pct),
        "memory": fmt.num(cell.server_mem_mb),
        "loadgen": fmt.num(cell.loadgen_cpu_pct),
        "concurrency": fmt.num(cell.effective_concurrency, 1),
    }


def _modes(results: Results, hide: frozenset[str]) -> list[dict[str, Any]]:
    order = {w: i for i, w in enumerate(results.workloads)}
    out = []
    for mode in results.modes:
        cells = sorted(
            (c for c in results.run.cells if c.mode == mode),
            key=lambda c: (order.get(c.workload, len(order)), c.users, c.trial),
        )
        out.append({"info": mode_info(results.run, mode), "cells": [_cell_row(c, hide) for c in cells]})
    return out


def _warnings(results: Results, hide: frozenset[str]) -> dict[str, Any]:
    groups = []
    points = [
        results.points[k]
        for k in sorted(
            results.points, key=lambda k: (results.workloads.index(k[0]), results.modes.index(k[1]), k[2])
        )
    ]
    for k in KINDS:
        items = [
            {"where": f"{p.mode} x {p.workload} x {results.step_text(p.users)}", "message": f.message}
            for p in points
            for f in p.flags
            if f.code == k.code
        ]
        if not items:
            continue
        if k.code in hide:
            # The same sentence for every figure: say it once, with the count.
            items = [{"where": f"all {len(items)} figures", "message": items[0]["message"]}]
        groups.append(
            {"letter": k.letter, "code": k.code, "title": k.title, "meaning": k.meaning, "entries": items}
        )
    failed = [
        {
            "where": f"{c.mode} x {c.workload} x {results.step_text(c.users)}, trial {c.trial}",
            "reason": c.reason or "no reason recorded",
        }
        for c in results.run.cells
        if not c.ok
    ]
    missing = results.missing_cells()
    return {
        "groups": groups,
        "failed": failed,
        "missing_modes": results.missing_modes(),
        "missing_cells": [f"{m} x {w} x {results.step_text(u)}, trial {t}" for m, w, u, t in missing],
        "total": sum(len(g["entries"]) for g in groups)
        + len(failed)
        + len(missing)
        + len(results.missing_modes()),
    }


def _applied_plan(results: Results) -> list[tuple[str, str, str, str]]:
    """The limits Docker actually applied, as read back for the first measured cell."""
    cell = next((c for c in results.run.cells if c.ok and c.applied), None)
    return applied_rows(cell.applied) if cell else []


def build_context(results: Results, objective: Objective, title: str | None = None) -> dict[str, Any]:
    run = results.run
    hide = run_wide_codes(results)
    checks = concurrency_checks(results)
    io_workloads = sorted({c.workload for c in checks}, key=results.workloads.index)
    performance = [_performance(results, w, hide, objective) for w in results.workloads]
    concurrency = [_concurrency(checks, w, hide) for w in io_workloads]
    cost = [_cost(results, w, hide, objective) for w in results.workloads]
    memory = memory_chart(results)
    charts: list[Chart] = [c["chart"] for c in concurrency]
    for section in performance:
        charts += section["charts"]
    charts += [memory, *(c["chart"] for c in cost)]
    meta = run.metadata
    machine = ", ".join(
        str(x)
        for x in (
            meta.get("cpu_model"),
            f"{meta['cpu_count']} CPUs" if meta.get("cpu_count") else None,
            meta.get("kernel"),
        )
        if x
    )
    plan = run.cpu_plan
    return {
        "title": title or f"Serving Matrix: {run.name}",
        "run_name": run.name,
        "run_dir": str(run.root),
        "description": str(run.matrix.get("description") or ""),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "started_at": str(run.meta.get("started_at") or "—"),
        "machine": machine or "not recorded",
        "objective": objective.describe(),
        "users": list(results.users),
        "steps": [results.step_text(u) for u in results.users],
        "step_label": results.step_label,
        "open_loop": results.open_loop,
        "counts": {
            "modes": len(results.modes),
            "workloads": len(results.workloads),
            "cells": len(run.cells),
            "failed": sum(1 for c in run.cells if not c.ok),
        },
        "run_wide": [
            {"letter": kind(c).letter, "title": kind(c).title, "message": _run_wide_message(results, c)}
            for c in sorted(hide)
        ],
        "flag_kinds": [{"letter": k.letter, "title": k.title, "meaning": k.meaning} for k in KINDS],
        "verdicts": [_verdict(v, results, hide, objective) for v in verdicts(results, objective)],
        "concurrency": concurrency,
        "io_missing": not io_workloads,
        "performance": performance,
        "memory_chart": memory,
        "cost": cost,
        "modes": _modes(results, hide),
        "warnings": _warnings(results, hide),
        "environment": {
            "metadata": metadata_rows(meta),
            "plan": cpu_plan_rows(plan),
            "plan_warnings": [str(w) for w in plan.get("warnings") or []],
            "applied": _applied_plan(results),
            "matrix": matrix_rows(run),
            "calibration": calibration_rows(run.calibration),
            "mix": mix_rows(results.workloads),
            "derived": list(DERIVED),
        },
        "charts": charts,
    }


def _run_wide_message(results: Results, code: str) -> str:
    for point in results.points.values():
        for flag in point.flags:
            if flag.code == code:
                return flag.message
    return ""
