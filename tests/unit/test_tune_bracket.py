"""A configuration's capacity by bracketing, on a model of a server: its exact capacity found, the
objective met at its edge, errors past a rate, a generator-bound probe stopping it, and a pruner."""

from __future__ import annotations

from dataclasses import replace

from servingmatrix.analysis.verdict import Objective
from servingmatrix.modes import ModeConfig, resolve_mode
from servingmatrix.tune.bracket import BracketSettings, find_capacity
from servingmatrix.tune.probe import PROBE_STATUSES, ProbeResult, judge_probe

from .tune_models import SLO_MS, ServerModel

CONFIG = resolve_mode("gunicorn-sync[workers=2]", 1)
OBJECTIVE = Objective(p99_ms=SLO_MS, max_error_rate=0.01)
#: Bisected to one request per second: the capacity exactly.
EXACT = BracketSettings(start_rps=10, precision=0.0, confirmations=3)


def at(capacity: float) -> ServerModel:
    def of(_config: ModeConfig) -> float:
        return capacity

    return ServerModel(of)


def test_the_exact_capacity_is_found_and_confirmed() -> None:
    model = at(137)
    found = find_capacity(CONFIG, model, OBJECTIVE, EXACT)
    assert (found.status, found.lower_rps, found.upper_rps) == ("found", 137, 138)
    assert found.trials_at_lower == 3
    # Grown by doubling from 10 (10, 20, ..., 160), then bisected, then two more trials at 137.
    assert [r for _, r, _ in model.probes][:5] == [10, 20, 40, 80, 160]
    assert len(model.probes) <= 16


def test_p99_exactly_at_the_objective_is_within_it() -> None:
    model = at(40)
    probe = model.probe(CONFIG, 40, 1)
    assert probe.p99_ms == SLO_MS
    assert judge_probe(probe, OBJECTIVE)[0] == "within"
    assert judge_probe(model.probe(CONFIG, 41, 1), OBJECTIVE)[0] == "beyond"
    assert find_capacity(CONFIG, at(40), OBJECTIVE, EXACT).lower_rps == 40


def test_errors_past_a_rate_bound_the_capacity_below_the_latency() -> None:
    model = at(200)
    model.errors_above = 90
    found = find_capacity(CONFIG, model, OBJECTIVE, EXACT)
    assert (found.lower_rps, found.upper_rps) == (90, 91)
    assert any("errors, above" in p.why for p in found.probes if p.result.rate == 91)


def test_the_precision_bounds_the_bracket_and_the_probes() -> None:
    found = find_capacity(CONFIG, at(1000), OBJECTIVE, BracketSettings(precision=0.10))
    assert found.lower_rps is not None and found.upper_rps is not None
    assert found.lower_rps <= 1000 < found.upper_rps
    assert found.upper_rps - found.lower_rps <= 0.10 * found.lower_rps


def test_a_generator_bound_probe_is_no_evidence_and_stops_the_configuration_below_it() -> None:
    model = at(500)
    model.generator_ceiling = 100
    found = find_capacity(CONFIG, model, OBJECTIVE, BracketSettings(precision=0.10))
    assert found.status == "generator-bound"
    # 10 to 80 within; 160 not offered, so the bracket closes below it: 120 not offered, 100 within,
    # 110 not offered: the lower bound is 100, from probes the generator did not bound, and no upper end.
    assert [r for _, r, _ in model.probes] == [10, 20, 40, 80, 160, 120, 100, 110]
    assert (found.lower_rps, found.upper_rps) == (100, None)
    assert "could not offer 110 req/s" in found.note and "lower bound is 100" in found.note
    assert [p.outcome for p in found.probes].count("generator-bound") == 3


def test_a_generator_bound_confirmation_stops_the_configuration() -> None:
    class BoundOnSecondTrials(ServerModel):
        def probe(self, config: ModeConfig, rate: int, repeat: int) -> ProbeResult:
            result = super().probe(config, rate, repeat)
            return replace(result, generator_bound=True) if repeat > 1 else result

    found = find_capacity(CONFIG, BoundOnSecondTrials(lambda _c: 50), OBJECTIVE, EXACT)
    assert (found.status, found.lower_rps) == ("generator-bound", 50)
    assert found.trials_at_lower == 2 and found.probes[-1].outcome == "generator-bound"


def test_a_start_beyond_the_capacity_descends_to_it() -> None:
    model = at(30)
    found = find_capacity(CONFIG, model, OBJECTIVE, EXACT, start=400)
    assert (found.status, found.lower_rps, found.upper_rps) == ("found", 30, 31)
    assert [r for _, r, _ in model.probes][:5] == [400, 200, 100, 50, 25]


def test_a_server_beyond_the_objective_at_one_request_per_second_has_no_capacity() -> None:
    found = find_capacity(CONFIG, at(0.5), OBJECTIVE, EXACT)
    assert (found.status, found.lower_rps, found.upper_rps) == ("none", None, 1)


def test_a_failed_confirmation_lowers_the_bracket() -> None:
    # Every trial at 50 after the first goes beyond: the capacity ends below 50.
    class Flaky(ServerModel):
        def probe(self, config: ModeConfig, rate: int, repeat: int) -> ProbeResult:
            result = super().probe(config, rate, repeat)
            if rate == 50 and repeat > 1:
                return ProbeResult(result.spec, rate, repeat, "ok", SLO_MS * 2, 0.0, 50.0)
            return result

    found = find_capacity(CONFIG, Flaky(lambda _c: 50), OBJECTIVE, EXACT)
    assert found.status == "found" and found.upper_rps == 50 and found.lower_rps == 49


def test_a_stop_prunes_with_its_reason() -> None:
    def stop(lower: int | None, upper: int | None) -> str | None:
        return "cannot win" if upper is not None and upper <= 100 else None

    found = find_capacity(CONFIG, at(60), OBJECTIVE, EXACT, start=100, stop=stop)
    assert (found.status, found.note, len(found.probes)) == ("pruned", "cannot win", 1)


def test_a_disturbed_or_failed_probe_counts_against_the_configuration() -> None:
    for status in PROBE_STATUSES[1:]:
        probe = ProbeResult("x", 10, 1, status, reason="why")
        assert judge_probe(probe, OBJECTIVE)[0] == "beyond"
