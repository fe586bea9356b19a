"""The table of ``make bench-littles-law``: per mode and step on ``io[ms=100]``, Little's law's
throughput, Locust's and the reference generator's (wrk's), each as its share of the law.

    .venv/bin/python bench/littles_law.py reports/bench/littles-law

A request of ``io[ms=100]`` holds its slot 100 ms, so a mode that serves C requests at once (its
registry's promise: workers x threads, processes, connections) answers at most min(users, C) / 0.1 s
req/s, and a little less (each request also spends the server's own time). A client whose figure is
far below the law lost time in its window; one above it counted what it should not have. The target:
both clients within 5% of the law at every step. Werkzeug's threaded server and the coroutine modes
promise no bound below the users (their law is users / 0.1 s). Prints a Markdown table and the count
of figures within 5%; exit status 0 either way (it measures, it does not judge the machine).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from servingmatrix.analysis.points import Point, aggregate
from servingmatrix.errors import UserError
from servingmatrix.fmt import DASH, rps
from servingmatrix.modes import resolve_mode
from servingmatrix.results.run import load_run
from servingmatrix.workloads import resolve_workload

#: Within this share of the law, a figure agrees with it.
WITHIN = 0.05


def law_rps(mode: str, workload: str, users: int, server_cpus: int) -> float | None:
    """Little's law's throughput for ``users`` on a sleeping workload; None when it does not sleep."""
    sleep_ms = resolve_workload(workload).sleep_ms
    if not sleep_ms:
        return None
    promised = resolve_mode(mode, server_cpus).promised_concurrency
    at_once = users if promised is None else min(users, promised)
    return at_once / (sleep_ms / 1000.0)


def share(figure: float | None, law: float | None) -> str:
    if figure is None or not law:
        return DASH
    text = f"{figure / law:.2f}"
    return text if abs(figure / law - 1.0) <= WITHIN else f"**{text}**"


def row(point: Point, server_cpus: int) -> tuple[str, int]:
    """One Markdown row, and how many of its two figures are within ``WITHIN`` of the law."""
    law = law_rps(point.mode, point.workload, point.users, server_cpus)
    locust = point.value("throughput_rps")
    wrk = point.value("reference_rps")
    within = sum(1 for f in (locust, wrk) if f is not None and law and abs(f / law - 1.0) <= WITHIN)
    flags = "".join(sorted({f.letter for f in point.flags if f.letter}))
    text = (
        f"| `{point.mode}` | {point.users} | {rps(law)} | {rps(locust)} | {share(locust, law)} | "
        f"{rps(wrk)} | {share(wrk, law)} | {flags or DASH} |"
    )
    return text, within


def table(run_dir: Path) -> str:
    run = load_run(run_dir)
    results = aggregate(run)
    server_cpus = run.server_cpus
    lines = [
        "| mode | users | Little's law req/s | Locust req/s | Locust / law | wrk req/s | wrk / law | flags |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    within = figures = 0
    for workload in results.workloads:
        for mode in results.modes_of(workload):
            for point in results.series(workload, mode):
                if not point.ok:
                    continue
                text, agree = row(point, server_cpus)
                lines.append(text)
                within += agree
                figures += 2
    lines += ["", f"{within} of {figures} figures within {WITHIN:.0%} of Little's law (bold: outside)."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("run_dir", type=Path, help="the run folder of bench/littles_law.yml")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(table(args.run_dir))
    except UserError as exc:
        print(f"littles-law: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
