"""``make bench-tune``: tune against the grid it searches.

Every configuration of a grid (gunicorn sync with 1 to 5 workers; gthread with 1, 2 or 3 workers of 2,
4 or 8 threads; waitress with 2, 4, 8 or 16 threads: 18 in all) is measured with tune's own objective,
the same capacity search (bracketed, bisected, confirmed), without pruning; then ``tune`` searches the
same grid. The bundled app, ``mixed``, 1 CPU, p99 <= 200 ms. The targets: tune's recommendation within
the grid's best configuration's interval, in at most a third of the grid's wall time.

    .venv/bin/python bench/tune.py --out reports/bench/tune

Prints both tables (Markdown) and writes them with the figures to ``OUT/bench-tune.json``. The grid's
probes and the tune's are runs of their own under ``OUT/grid`` and ``OUT/tune``: rerunning resumes both.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from servingmatrix.analysis.verdict import Objective
from servingmatrix.errors import UserError
from servingmatrix.modes import resolve_mode
from servingmatrix.say import Say
from servingmatrix.tune.bracket import ConfigurationCapacity, find_capacity
from servingmatrix.tune.probe import Prober
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.result_file import TuneResult
from servingmatrix.tune.space import SearchSpace, grid_space
from servingmatrix.tune.tune import tune

#: The grid of the issue: every configuration of it is measured, then tune searches it.
GRID: dict[str, dict[str, list[int]]] = {
    "gunicorn-sync": {"workers": [1, 2, 3, 4, 5]},
    "gunicorn-gthread": {"workers": [1, 2, 3], "threads": [2, 4, 8]},
    "waitress": {"threads": [2, 4, 8, 16]},
}
REQUEST = TuneRequest(
    modes=tuple(GRID),
    workload="mixed",
    server_cpus=1,
    objective=Objective(p99_ms=200.0),
    budget_s=2 * 3600.0,
)
#: tune is to spend at most this share of the grid's wall time.
TIME_SHARE = 1 / 3


@dataclass(frozen=True)
class Bench:
    """The grid measured whole, and tune over it."""

    grid: tuple[ConfigurationCapacity, ...]
    grid_s: float
    tuned: TuneResult
    tune_s: float

    @property
    def best(self) -> ConfigurationCapacity:
        return max(self.grid, key=lambda c: (c.lower_rps or 0, -(c.upper_rps or 0)))

    def grid_capacity(self, spec: str | None) -> ConfigurationCapacity | None:
        return next((c for c in self.grid if c.spec == spec), None)

    @property
    def within_best(self) -> bool:
        """The recommendation's capacity on the grid reaches the best's interval: its bracket's upper
        end is above the best's lower end, or its lower end is as high."""
        mine, best = self.grid_capacity(self.tuned.recommendation), self.best
        if mine is None or mine.lower_rps is None or best.lower_rps is None:
            return False
        return mine.lower_rps >= best.lower_rps or (mine.upper_rps or 0) > best.lower_rps

    @property
    def fast_enough(self) -> bool:
        return self.tune_s <= TIME_SHARE * self.grid_s


def grid_configs(space: SearchSpace) -> list[str]:
    """Every configuration of the grid, mode by mode, in order."""
    specs = []
    for mode in space.modes:
        combos: list[dict[str, str]] = [{}]
        for d in mode.dimensions:
            assert d.values is not None
            combos = [{**c, d.tunable.name: str(v)} for c in combos for v in d.values]
        for combo in combos:
            values = {**{k: str(v) for k, v in mode.fixed.items()}, **combo}
            specs.append(mode.mode.resolve(values, space.budget.cpus).spec)
    return specs


def measure_grid(
    prober: Prober, space: SearchSpace, say: Say, clock: Callable[[], float]
) -> tuple[tuple[ConfigurationCapacity, ...], float]:
    began = clock()
    found = []
    for spec in grid_configs(space):
        config = resolve_mode(spec, space.budget.cpus)
        capacity = find_capacity(config, prober, REQUEST.objective, REQUEST.bracket)
        say(f"grid: {spec}: {capacity.status}: {capacity.note}")
        found.append(capacity)
    return tuple(found), clock() - began


def run_bench(
    out: Path,
    grid_prober: Prober,
    tune_prober: Prober,
    say: Say,
    clock: Callable[[], float] = time.monotonic,
) -> Bench:
    space = grid_space(GRID, REQUEST.budget)
    grid, grid_s = measure_grid(grid_prober, space, say, clock)
    began = clock()
    tuned = tune(REQUEST, tune_prober, out / "tune", say, clock, space)
    return Bench(grid, grid_s, tuned, clock() - began)


def _interval(c: ConfigurationCapacity | None) -> str:
    if c is None or c.lower_rps is None:
        return "-"
    return f"{c.lower_rps} to < {c.upper_rps}" if c.upper_rps is not None else f"at least {c.lower_rps}"


def tables(bench: Bench) -> str:
    """The grid's table and tune's, in Markdown."""
    lines = [
        f"Grid: {len(bench.grid)} configurations, each bracketed in full, {bench.grid_s / 60:.1f} min.",
        "",
        "| configuration | capacity (req/s) | interval | probes |",
        "|---|---:|---|---:|",
    ]
    for c in sorted(bench.grid, key=lambda c: -(c.lower_rps or 0)):
        lines.append(f"| `{c.spec}` | {c.lower_rps or '-'} | {_interval(c)} | {len(c.probes)} |")
    rec = bench.tuned.recommendation
    lines += [
        "",
        "| | configuration | capacity on the grid | wall time |",
        "|---|---|---|---:|",
        f"| grid's best | `{bench.best.spec}` | {_interval(bench.best)} | {bench.grid_s / 60:.1f} min |",
        f"| tune's recommendation | `{rec}` | {_interval(bench.grid_capacity(rec))} | "
        f"{bench.tune_s / 60:.1f} min ({bench.tune_s / bench.grid_s:.0%} of the grid's) |",
        "",
        f"Targets: within the grid's best interval: {'yes' if bench.within_best else 'no'}; at most a third "
        f"of the grid's wall time: {'yes' if bench.fast_enough else 'no'}.",
    ]
    return "\n".join(lines) + "\n"


def as_json(bench: Bench) -> dict[str, object]:
    return {
        "grid": {c.spec: [c.lower_rps, c.upper_rps] for c in bench.grid},
        "grid_s": bench.grid_s,
        "best": bench.best.spec,
        "recommendation": bench.tuned.recommendation,
        "tune_s": bench.tune_s,
        "within_best": bench.within_best,
        "fast_enough": bench.fast_enough,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("reports/bench/tune"), help="the bench's folder")
    args = parser.parse_args(argv)
    from servingmatrix.engine.docker import Docker
    from servingmatrix.flags import QUIET_WAIT_S
    from servingmatrix.run.measure_matrix import RunSettings, build_for
    from servingmatrix.tune.runner_prober import RunnerProber, probe_matrix

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        docker = Docker()
        docker.ping()
        space = grid_space(GRID, REQUEST.budget)
        first = space.folk_default(space.modes[0].mode.name)
        matrix = probe_matrix(REQUEST, first, 1, 1)
        build_for(docker, replace(matrix, modes=tuple(GRID)), say)
        settings = RunSettings(quiet_wait_s=QUIET_WAIT_S)
        grid = RunnerProber(docker, REQUEST, args.out / "grid", say, settings)
        tuned = RunnerProber(docker, REQUEST, args.out / "tune", say, settings)
        bench = run_bench(args.out, grid, tuned, say)
    except UserError as exc:
        print(f"bench-tune: error: {exc}", file=sys.stderr)
        return 2
    text = tables(bench)
    sys.stdout.write(text)
    (args.out / "bench-tune.json").write_text(json.dumps({**as_json(bench), "tables": text}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
