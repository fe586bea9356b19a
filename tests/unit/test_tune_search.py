"""The search over a space, on models of servers: it finds the optimum of a noisy capacity surface
within a bounded number of probes, prunes what cannot win, measures the recommended server's folk
default, and resumes after an interrupt without measuring again what it finished."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from servingmatrix.analysis.verdict import Objective
from servingmatrix.errors import UserError
from servingmatrix.modes import ModeConfig
from servingmatrix.tune.bracket import BracketSettings
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.result_file import read_tune
from servingmatrix.tune.search import TuneSearch
from servingmatrix.tune.tune import search_space, tune

from .tune_models import SLO_MS, ServerModel

OBJECTIVE = Objective(p99_ms=SLO_MS, max_error_rate=0.01)
#: The optimum of the surface below: gunicorn-gthread with 2 workers of 8 threads.
OPTIMUM = "gunicorn-gthread[workers=2,threads=8]"


def surface(config: ModeConfig) -> float:
    """A capacity surface with one peak, lower plateaus elsewhere (req/s)."""
    v = config.values
    if config.mode.name == "gunicorn-gthread":
        return 60 + 200 * math.exp(-((v["workers"] - 2) ** 2) - (math.log2(v["threads"]) - 3) ** 2)
    if config.mode.name == "waitress":
        return 40 + 4 * min(v["threads"], 12)
    return 30 * min(v["workers"], 3)


def request(**changes: object) -> TuneRequest:
    base: dict[str, object] = {
        "modes": ("gunicorn-sync", "gunicorn-gthread", "waitress"),
        "workload": "mixed",
        "budget_s": 4 * 3600.0,
        "objective": OBJECTIVE,
        "bracket": BracketSettings(precision=0.05),
    }
    return TuneRequest(**{**base, **changes})  # type: ignore[arg-type]


def test_the_search_finds_the_optimum_of_a_noisy_surface_within_bounded_probes(tmp_path: Path) -> None:
    model = ServerModel(surface, noise=0.02, seed=3)
    asked = request()
    space = search_space(asked)
    result = tune(asked, model, tmp_path, lambda _line: None, model.clock)
    best = result.capacity(result.ranking[0])
    assert best is not None and best.lower_rps is not None
    # The best found is the optimum, or one of its neighbours within the precision of its capacity.
    optimum = space.folk_default("gunicorn-gthread").mode.resolve({"workers": "2", "threads": "8"}, 1)
    assert best.lower_rps >= 0.93 * surface(optimum)
    assert OPTIMUM in result.contenders or result.ranking[0] == OPTIMUM
    # Far fewer probes than bracketing every configuration of the space would take (about 10 each).
    assert len(model.probes) <= 4 * space.size
    assert sum(c.status == "pruned" for c in result.capacities) >= 10
    # The recommendation is the cheapest of the contenders, and the folk default of its server is measured.
    assert result.recommendation in result.contenders
    assert result.folk_default == "gunicorn-gthread[workers=2,threads=4]"
    folk = result.capacity(result.folk_default)
    assert folk is not None and folk.status == "found"
    assert read_tune(tmp_path / "tune.json") == result


def test_the_budget_stops_the_search(tmp_path: Path) -> None:
    model = ServerModel(surface)
    result = tune(request(budget_s=600.0), model, tmp_path, lambda _line: None, model.clock)
    assert "budget" in result.stopped
    # 20 s a probe: the budget ran out within one configuration of its end, then the folk default.
    assert len(model.probes) * model.probe_s <= 600 + 2 * 24 * model.probe_s


def test_a_small_space_is_measured_whole(tmp_path: Path) -> None:
    model = ServerModel(surface)
    asked = request(modes=("gunicorn-sync[workers=2]", "waitress[threads=4]"))
    result = tune(asked, model, tmp_path, lambda _line: None, model.clock)
    assert result.space_size == 2 and "every configuration" in result.stopped
    assert set(result.ranking) == {"gunicorn-sync[workers=2]", "waitress[threads=4]"}
    # Both serve one process; gunicorn-sync[workers=2] serves 60 req/s, waitress[threads=4] 56: told apart.
    assert result.recommendation == "gunicorn-sync[workers=2]"
    # The folk default of gunicorn sync (3 workers at 1 CPU) is outside the space: measured beside it.
    assert result.folk_default == "gunicorn-sync[workers=3]"
    assert "gunicorn-sync[workers=3]" not in result.ranking


def test_an_interrupted_tune_resumes_without_measuring_again_what_it_finished(tmp_path: Path) -> None:
    seen: list[str] = []
    asked = request(max_configs=12)
    first = ServerModel(surface, interrupt_after=20)
    with pytest.raises(KeyboardInterrupt):
        tune(asked, first, tmp_path, seen.append, first.clock)
    search = TuneSearch(search_space(asked), first, asked, tmp_path, seen.append)
    finished = {c.spec for c in search.measured(search.open_study())}
    cut_short = first.interrupted
    assert finished and cut_short not in finished
    second = ServerModel(surface)
    second.clock.now = first.clock.now
    result = tune(asked, second, tmp_path, seen.append, second.clock)
    assert any(line.startswith("resuming: trial") for line in seen)
    # The configuration cut short is measured first; nothing finished before the interrupt is probed again.
    assert second.probes[0][0] == cut_short
    assert not {spec for spec, _, _ in second.probes} & finished
    assert len({c.spec for c in result.capacities}) == 12
    # The wall time before the interrupt counts.
    assert result.elapsed_s >= first.clock.now


def test_a_folder_of_another_request_is_refused(tmp_path: Path) -> None:
    model = ServerModel(surface)
    tune(request(modes=("waitress[threads=4]",)), model, tmp_path, lambda _line: None, model.clock)
    with pytest.raises(UserError, match="asked otherwise"):
        tune(request(modes=("waitress[threads=8]",)), model, tmp_path, lambda _line: None, model.clock)
