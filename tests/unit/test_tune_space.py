"""The search space from the registry: every tunable's bounds follow from the CPU and memory budget,
a tunable given in a spec is fixed, and Werkzeug's development server is searched only when named."""

from __future__ import annotations

import pytest

from servingmatrix.errors import UserError
from servingmatrix.modes import MODES, PROCESS_ALLOWANCE_MB, Budget, get_mode, resolve_mode
from servingmatrix.tune.space import SearchSpace, mode_space
from servingmatrix.tune.tune import production_modes


def bounds(mode: str, tunable: str, budget: Budget) -> tuple[int, int]:
    (found,) = (t for t in get_mode(mode).tunables if t.name == tunable)
    return found.bounds(budget)


def test_bounds_grow_with_the_cpus() -> None:
    assert bounds("gunicorn-sync", "workers", Budget(1, 2048)) == (1, 5)
    assert bounds("gunicorn-sync", "workers", Budget(4, 8192)) == (1, 17)
    assert bounds("gunicorn-gthread", "threads", Budget(2, 2048)) == (1, 32)
    assert bounds("gunicorn-gevent", "workers", Budget(3, 4096)) == (1, 6)


def test_the_memory_budget_bounds_the_processes_but_not_the_threads() -> None:
    small = Budget(4, 3 * PROCESS_ALLOWANCE_MB)
    assert bounds("gunicorn-sync", "workers", small) == (1, 3)
    assert bounds("uwsgi", "processes", small) == (1, 3)
    assert bounds("waitress", "threads", small) == (1, 64)
    # Less than one process's allowance still leaves one process to try.
    assert bounds("gunicorn-sync", "workers", Budget(1, 64)) == (1, 1)


def test_every_default_at_the_budget_is_inside_its_bounds() -> None:
    for cpus in (1, 2, 4):
        budget = Budget(cpus, 2048 * cpus)
        for mode in MODES:
            for tunable, value in mode.defaults(cpus).items():
                low, high = bounds(mode.name, tunable, budget)
                assert low <= value <= high or tunable == "connections", (mode.name, tunable, value)


def test_a_given_tunable_is_fixed_and_the_others_searched() -> None:
    space = mode_space("gunicorn-gthread[threads=4]", Budget(1, 2048))
    assert dict(space.fixed) == {"threads": 4}
    assert [d.tunable.name for d in space.dimensions] == ["workers"]
    assert space.size == 5
    with pytest.raises(UserError, match="unknown tunable 'threads'"):
        mode_space("gunicorn-sync[threads=4]", Budget(1, 2048))


def test_the_space_holds_its_configurations_and_enqueues_the_folk_defaults() -> None:
    budget = Budget(1, 2048)
    space = SearchSpace((mode_space("gunicorn-sync", budget), mode_space("waitress", budget)), budget)
    assert space.size == 5 + 16
    default = space.folk_default("gunicorn-sync")
    assert default.spec == "gunicorn-sync[workers=3]" and space.holds(default)
    assert space.params(default) == {"mode": "gunicorn-sync", "gunicorn-sync:workers": 3}
    assert not space.holds(resolve_mode("gunicorn-sync[workers=9]", 1))


def test_werkzeug_is_tuned_only_when_named() -> None:
    assert not [m for m in production_modes() if m.startswith("werkzeug")]
    assert "gunicorn-sync" in production_modes() and "granian" in production_modes()


def test_a_configuration_counts_its_processes_and_threads() -> None:
    config = resolve_mode("gunicorn-gthread[workers=2,threads=4]", 1)
    assert (config.counted("processes"), config.counted("threads")) == (2, 4)
    assert resolve_mode("waitress[threads=8]", 1).counted("processes") == 1
