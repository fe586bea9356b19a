"""The table of ``make bench-generator``: per mode, Locust's throughput, the reference generator's
against the same server, cores and quota, and Locust's share of it (generator efficiency).

    .venv/bin/python bench/generator.py reports/bench/generator

Each figure is the median of the run's trials; ``flagged`` says whether the cell carries the
generator-bound flag (any of its rules, the efficiency below 0.90 among them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from servingmatrix.analysis.points import Point, aggregate
from servingmatrix.errors import UserError
from servingmatrix.fmt import DASH, rps
from servingmatrix.results.run import load_run


def row(point: Point) -> str:
    """One Markdown row: mode, Locust req/s (CV), wrk req/s, efficiency, keeps alive, flagged."""
    locust = point.throughput
    cv = f" (CV {locust.cv:.1%})" if locust is not None and locust.cv is not None else ""
    share = point.value("generator_efficiency")
    efficiency = DASH if share is None else f"{share:.2f}"
    keeps_alive = point.cells[0].keeps_alive if point.cells else None
    alive = DASH if keeps_alive is None else "yes" if keeps_alive else "no"
    flagged = "**yes**" if point.generator_bound else "no"
    figure = rps(locust.median if locust else None)
    reference = rps(point.value("reference_rps"))
    return f"| `{point.mode}` | {figure}{cv} | {reference} | {efficiency} | {alive} | {flagged} |"


def table(run_dir: Path) -> str:
    results = aggregate(load_run(run_dir))
    lines = [
        "| mode | Locust req/s | wrk req/s | Locust / wrk | keeps alive | flagged |",
        "|---|---|---|---|---|---|",
    ]
    for workload in results.workloads:
        for mode in results.modes_of(workload):
            lines += [row(p) for p in results.series(workload, mode) if p.ok]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("run_dir", type=Path, help="the run folder of bench/generator.yml")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(table(args.run_dir))
    except UserError as exc:
        print(f"generator: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
