"""A tune, from its checked request to its answer on disk: the search, the folk default of the server
it recommends (measured in full when the search pruned it), the artefacts, and ``tune.json``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.modes import MODES, ModeConfig, resolve_mode
from servingmatrix.say import Say
from servingmatrix.tune.answer import RANKED, Answer, answer
from servingmatrix.tune.artefacts import write_artefacts
from servingmatrix.tune.bracket import ConfigurationCapacity
from servingmatrix.tune.probe import Prober
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.result_file import TuneResult, write_tune
from servingmatrix.tune.search import TuneSearch
from servingmatrix.tune.space import SearchSpace, mode_space
from servingmatrix.user_app import load_app


def production_modes(app: str | None = None) -> tuple[str, ...]:
    """Every server one deploys that can serve the app (a user's app's lock may not hold some): what
    ``tune`` searches unless the modes are named."""
    production = [m for m in MODES if not m.development]
    if app is None:
        return tuple(m.name for m in production)
    from servingmatrix.building.app_locks import servable_modes

    return tuple(m.name for m in servable_modes(load_app(Path(app)), production))


def search_space(request: TuneRequest) -> SearchSpace:
    """The request's modes at its budget, serving its app; each spec checked."""
    budget = request.budget
    app = load_app(Path(request.app)) if request.app is not None else None
    spaces = tuple(mode_space(spec, budget) for spec in request.modes)
    names = [s.mode.name for s in spaces]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise UserError(
            f"--modes names {twice} twice; give each mode once (a tunable given in its spec is fixed, "
            "the others searched)"
        )
    if app is None:
        return SearchSpace(spaces, budget)
    return SearchSpace(spaces, budget, app.target)


def _answer(
    space: SearchSpace, capacities: tuple[ConfigurationCapacity, ...], folk: list[ConfigurationCapacity]
) -> Answer:
    def config_of(spec: str) -> ModeConfig:
        return resolve_mode(spec, space.budget.cpus, space.target)

    return answer(capacities, config_of, lambda mode: space.folk_default(mode).spec, folk)


def tune(
    request: TuneRequest,
    prober: Prober,
    folder: Path,
    say: Say,
    clock: Callable[[], float] = time.monotonic,
    space: SearchSpace | None = None,
) -> TuneResult:
    """Search (the request's space, or ``space`` when given: ``bench/tune.py``'s grid), answer, write
    the artefacts and ``tune.json`` into ``folder``; the result."""
    space = space or search_space(request)
    search = TuneSearch(space, prober, request, folder, say, clock)
    outcome = search.run()
    found = _answer(space, outcome.capacities, search.folk_defaults())
    if found.recommendation is not None and (
        found.folk_default is None or found.folk_default.status not in RANKED
    ):
        mode = resolve_mode(found.recommendation.spec, space.budget.cpus, space.target).mode.name
        search.measure_folk_default(space.folk_default(mode))
        found = _answer(space, outcome.capacities, search.folk_defaults())
    artefacts: list[Path] = []
    if found.recommendation is not None:
        config = resolve_mode(found.recommendation.spec, space.budget.cpus, space.target)
        artefacts = write_artefacts(folder, config, request.server_memory)
    result = TuneResult(
        request=request.as_json(),
        space_size=space.size,
        capacities=(*outcome.capacities, *search.folk_defaults()),
        ranking=tuple(c.spec for c in found.ranking),
        contenders=tuple(c.spec for c in found.contenders),
        recommendation=found.recommendation.spec if found.recommendation else None,
        folk_default=found.folk_default.spec if found.folk_default else None,
        stopped=outcome.stopped,
        elapsed_s=outcome.elapsed_s,
        artefacts=tuple(str(p.relative_to(folder)) for p in artefacts),
    )
    write_tune(folder, result)
    return result
