"""A plain-text summary of a run: throughput per mode and user level, with every flag beside its figure."""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any

from servingmatrix.report.flags import kind
from servingmatrix.results import RunFolder

#: The flags shown beside a figure, lettered as in the report; cores-shared is noted once instead.
FLAGS = {code: kind(code).letter for code in ("loadgen-saturated", "cpu-throttled", "errors", "machine-busy")}


def summarize(folder: RunFolder) -> str:
    run = folder.read_run()
    users = run["matrix"]["users"]
    cells = folder.read_cells()
    grid: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        grid[(cell["workload"], cell["mode"])][cell["users"]].append(cell)
    lines = [
        f"throughput, requests/s (median of trials); flags: {', '.join(f'{v}={k}' for k, v in FLAGS.items())}"
    ]
    width = max((len(mode) for _, mode in grid), default=10)
    for workload in sorted({w for w, _ in grid}):
        lines.append("")
        lines.append(f"{workload}")
        lines.append("  " + "mode".ljust(width) + "".join(f"{u:>14}" for u in users))
        for (w, mode), by_users in sorted(grid.items()):
            if w != workload:
                continue
            row = "  " + mode.ljust(width)
            for u in users:
                row += f"{_figure(by_users.get(u, [])):>14}"
            lines.append(row)
    notes = sorted(
        {w["message"] for c in cells for w in c.get("warnings") or [] if w["code"] == "cores-shared"}
    )
    lines += ["", *(f"note: {n}" for n in notes)]
    return "\n".join(lines).rstrip() + "\n"


def _figure(cells: list[dict[str, Any]]) -> str:
    if not cells:
        return "-"
    ok = [c for c in cells if c.get("status") == "ok"]
    if not ok:
        return "failed"
    value = median(float(c["throughput_rps"]) for c in ok)
    flags = "".join(
        sorted({FLAGS[w["code"]] for c in ok for w in c.get("warnings") or [] if w["code"] in FLAGS})
    )
    return f"{value:,.0f}{'' if not flags else ' ' + flags}"
