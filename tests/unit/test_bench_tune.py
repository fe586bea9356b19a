"""``make bench-tune``'s logic on a model of a server: every configuration of the grid bracketed in
full, tune over the same grid, and the two tables with the targets judged."""

from __future__ import annotations

import math
from pathlib import Path

from servingmatrix.modes import ModeConfig

from .test_bench_generator import load
from .tune_models import ServerModel


def surface(config: ModeConfig) -> float:
    """200 ms p99 at the capacity; gthread[workers=2,threads=4] the best of the grid."""
    v = config.values
    if config.mode.name == "gunicorn-gthread":
        return 50 + 60 * math.exp(-((v["workers"] - 2) ** 2) - (math.log2(v["threads"]) - 2) ** 2)
    if config.mode.name == "waitress":
        return 40 + 2 * v["threads"]
    return 20 * min(v["workers"], 4)


def test_the_bench_measures_the_grid_and_tune_over_it(tmp_path: Path) -> None:
    bench_tune = load("tune")
    grid_space = bench_tune.grid_space(bench_tune.GRID, bench_tune.REQUEST.budget)
    assert len(bench_tune.grid_configs(grid_space)) == 18
    slo = bench_tune.REQUEST.objective.p99_ms
    grid = ServerModel(surface, slo_ms=slo)
    tuned = ServerModel(surface, slo_ms=slo, clock=grid.clock)
    bench = bench_tune.run_bench(tmp_path, grid, tuned, lambda _line: None, grid.clock)
    assert len(bench.grid) == 18 and bench.best.spec == "gunicorn-gthread[workers=2,threads=4]"
    assert bench.within_best
    assert len(tuned.probes) < len(grid.probes)
    text = bench_tune.tables(bench)
    assert "| grid's best | `gunicorn-gthread[workers=2,threads=4]`" in text
    assert "Targets: within the grid's best interval: yes" in text
