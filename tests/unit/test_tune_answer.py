"""The answer of a tune: the ranking by capacity, the set the best cannot be told apart from, the
cheapest of it recommended, and a generator-bound configuration counted by its evidence only."""

from __future__ import annotations

from servingmatrix.modes import ModeConfig, resolve_mode
from servingmatrix.tune.answer import answer, indistinguishable
from servingmatrix.tune.bracket import CapacityStatus, ConfigurationCapacity, ProbeRecord
from servingmatrix.tune.probe import ProbeResult


def capacity(
    spec: str, lower: int | None, upper: int | None, status: CapacityStatus = "found", mem: float = 100.0
) -> ConfigurationCapacity:
    probe = ProbeResult(spec, lower or 1, 1, "ok", 10.0, 0.0, float(lower or 1), False, mem)
    return ConfigurationCapacity(spec, status, lower, upper, "", (ProbeRecord(probe, "within", ""),))


def config_of(spec: str) -> ModeConfig:
    return resolve_mode(spec, 1)


def folk(mode: str) -> str:
    return resolve_mode(mode, 1).spec


def test_the_cheapest_of_those_not_told_apart_is_recommended() -> None:
    measured = [
        capacity("gunicorn-gthread[workers=3,threads=8]", 100, 108),
        capacity("gunicorn-gthread[workers=2,threads=8]", 96, 104),  # reaches past 100: a contender
        capacity("waitress[threads=8]", 90, 99),  # below the best's lower end: told apart
        capacity("gunicorn-sync[workers=5]", 80, 85),
        capacity("gunicorn-gthread[workers=2,threads=4]", None, 100, "pruned"),
    ]
    found = answer(measured, config_of, folk)
    assert [c.spec for c in found.ranking] == [
        "gunicorn-gthread[workers=3,threads=8]",
        "gunicorn-gthread[workers=2,threads=8]",
        "waitress[threads=8]",
        "gunicorn-sync[workers=5]",
    ]
    assert [c.spec for c in found.contenders] == [
        "gunicorn-gthread[workers=3,threads=8]",
        "gunicorn-gthread[workers=2,threads=8]",
    ]
    assert (
        found.recommendation is not None
        and found.recommendation.spec == "gunicorn-gthread[workers=2,threads=8]"
    )
    # The folk default of gthread (2 x 4 at 1 CPU) was only pruned: it is named, with no capacity.
    assert found.folk_default is not None and found.folk_default.status == "pruned"


def test_equal_processes_the_least_memory_wins_then_the_fewest_threads() -> None:
    measured = [
        capacity("waitress[threads=16]", 100, 110, mem=90.0),
        capacity("waitress[threads=8]", 100, 110, mem=60.0),
        capacity("waitress[threads=4]", 100, 110, mem=60.0),
    ]
    found = answer(measured, config_of, folk)
    assert found.recommendation is not None and found.recommendation.spec == "waitress[threads=4]"


def test_a_generator_bound_configuration_is_a_contender_only_by_its_lower_bound() -> None:
    best = capacity("gunicorn-sync[workers=3]", 100, 110)
    assert not indistinguishable(capacity("waitress[threads=4]", 90, None, "generator-bound"), best)
    assert indistinguishable(capacity("waitress[threads=4]", 100, None, "generator-bound"), best)
    found = answer([best, capacity("waitress[threads=4]", 90, None, "generator-bound")], config_of, folk)
    assert found.recommendation is not None and found.recommendation.spec == "gunicorn-sync[workers=3]"


def test_nothing_within_the_objective_recommends_nothing() -> None:
    found = answer([capacity("waitress[threads=4]", None, 1, "none")], config_of, folk)
    assert (found.ranking, found.recommendation, found.folk_default) == ((), None, None)
