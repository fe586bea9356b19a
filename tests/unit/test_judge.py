"""Judging a cell from its window's figures: status, flags, generator-bound and effective concurrency,
without a container or a recording."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from servingmatrix.flags import Flag, kind
from servingmatrix.modes import resolve_mode
from servingmatrix.results.cell import ServerExit
from servingmatrix.run.judge import RunFacts, StepFigures, judge_cell, machine_busy
from servingmatrix.run.load.arrivals import Arrivals
from servingmatrix.run.load.loadgen import Load
from servingmatrix.run.load.reference import ReferenceResult
from servingmatrix.run.measure.cgroups import WindowUsage
from servingmatrix.run.measure.efficiency import generator_efficiency
from servingmatrix.run.measure.latency import WindowStats
from servingmatrix.run.session import Session, SessionTimings, Swarm
from servingmatrix.workloads import resolve_workload

from .boundaries import HAIR, exactly

LATENCY = {"p50": 8.0, "p90": 9.0, "p95": 9.5, "p99": 10.0, "p999": 11.0, "mean": 8.5, "max": 12.0}
FACTS = RunFacts(loadgen_quota_pct=100.0, ceiling=None)
EIGHT_USERS = Load(8)
GENERATOR_BOUND = kind("generator-bound")


def usage(cpu_pct: float, throttled_s: float = 0.0, major_faults: int | None = 0) -> WindowUsage:
    return WindowUsage(cpu_pct, throttled_s, 0, 64 * 2**20, 60 * 2**20, major_faults)


def figures(
    requests: int = 1000,
    failures: int = 0,
    loadgen: WindowUsage | None = None,
    server: WindowUsage | None = None,
    load: Load = EIGHT_USERS,
) -> StepFigures:
    stats = WindowStats(requests, failures, 10.0, dict(LATENCY))
    return StepFigures(
        load=load,
        start=100.0,
        end=110.0,
        warmup_s=2.0,
        stats=stats,
        endpoints={"json": stats},
        server=server or usage(50.0),
        loadgen=loadgen or usage(30.0),
        server_processes=[(1, "gunicorn", 20 * 2**20), (2, "gunicorn", 40 * 2**20)],
        loadgen_processes=1,
    )


def judge(
    step: StepFigures,
    facts: RunFacts = FACTS,
    workload: str = "json",
    server_exit: ServerExit | None = None,
    reference: ReferenceResult | None = None,
    applied: dict[str, Any] | None = None,
) -> dict[str, Any]:
    session = Session(
        resolve_mode("gunicorn-sync[workers=3]", 1), resolve_workload(workload), 1, (step.load,)
    )
    references = {step.load.amount: reference} if reference is not None else {}
    limits = applied if applied is not None else {"server": {"cpuset": "0"}}
    swarm = Swarm("unused: the figures are given", server_exit, None, limits, references)
    return judge_cell(session, step, swarm, SessionTimings(start_s=1.0), facts).as_json()


def codes(cell: dict[str, Any]) -> list[str]:
    return [w["code"] for w in cell["warnings"]]


def test_a_clean_window_is_ok_and_unflagged() -> None:
    cell = judge(figures())
    assert (cell["status"], cell["reason"]) == ("ok", None)
    assert codes(cell) == []
    assert cell["throughput_rps"] == 100.0 and cell["loadgen"]["sent_rps"] == 100.0
    assert cell["loadgen"]["generator_bound"] is False and cell["loadgen"]["saturated"] is False
    assert [p["rss_mb"] for p in cell["server"]["processes"]] == [20.0, 40.0]
    assert cell["load"] == "closed" and cell["offered_rps"] is None


def test_run_warnings_come_first_then_each_flag_in_order() -> None:
    facts = RunFacts(100.0, None, (Flag("cores-shared", "shared"),))
    step = figures(failures=10, loadgen=usage(95.0), server=usage(99.0, throttled_s=2.0, major_faults=50_000))
    cell = judge(step, facts)
    assert codes(cell) == ["cores-shared", "generator-bound", "cpu-throttled", "memory-bound", "errors"]
    assert "it used 95% of its 100% CPU" in cell["warnings"][1]["message"]
    assert cell["warnings"][4]["message"] == "10 of 1000 requests failed (1.0%)"
    assert cell["throughput_rps"] == 99.0 and cell["error_rate"] == 0.01


def test_the_generator_is_bound_when_its_quota_holds_it_back_or_it_nears_its_ceiling() -> None:
    throttled = judge(figures(loadgen=usage(50.0, throttled_s=1.0)))
    assert codes(throttled) == ["generator-bound"]
    assert "its CPU quota held it back for 1.0 s of 10 s" in throttled["warnings"][0]["message"]
    near = judge(figures(), RunFacts(100.0, ceiling=105.0))
    assert near["loadgen"]["generator_bound"] is True and near["loadgen"]["saturated"] is False
    assert "95% of the 105 req/s the calibration found" in near["warnings"][0]["message"]
    assert judge(figures(), RunFacts(100.0, ceiling=200.0))["loadgen"]["generator_bound"] is False


def test_the_server_dying_in_or_before_the_window_fails_the_cell() -> None:
    died = ServerExit(oom_killed=True, exit_code=137, finished_at=105.0, last_log=("Killed",))
    cell = judge(figures(), server_exit=died)
    assert cell["status"] == "failed" and "OOM-killed" in cell["reason"]
    assert cell["server"]["exit"] == {
        "oom_killed": True,
        "exit_code": 137,
        "finished_at": 105.0,
        "last_log": ["Killed"],
    }
    later = judge(figures(), server_exit=replace(died, finished_at=120.0))
    assert later["status"] == "ok" and later["server"]["exit"] is None
    unknown = judge(figures(), server_exit=ServerExit(oom_killed=False, exit_code=1, finished_at=None))
    assert unknown["reason"] == "the server stopped during the run (exit code 1)"


def test_an_empty_window_fails() -> None:
    cell = judge(figures(requests=0))
    assert cell["reason"] == "no request completed in the measured window"


def test_an_empty_window_says_the_server_stopped_after_it() -> None:
    """Stalled at its memory limit through the window, then OOM-killed: both are said."""
    later = ServerExit(oom_killed=True, exit_code=137, finished_at=120.0, last_log=("Killed",))
    cell = judge(figures(requests=0), server_exit=later)
    assert cell["status"] == "failed"
    assert (
        cell["reason"]
        == "no request completed in the measured window; the server stopped after it (OOM-killed)"
    )


def test_effective_concurrency_takes_the_io_sleep_or_the_client_mean() -> None:
    io = judge(figures(), workload="io[ms=100]")
    assert io["effective_concurrency"] == 10.0 and io["effective_concurrency_basis"] == "io sleep"
    plain = judge(figures())
    assert plain["effective_concurrency"] == 0.85
    assert plain["effective_concurrency_basis"] == "client mean latency"


def test_an_open_loop_step_records_its_offered_rate() -> None:
    cell = judge(figures(load=Load(200, "open")))
    assert cell["load"] == "open" and cell["offered_rps"] == 200.0
    assert str(Load(200, "open")) == "200 req/s offered" and str(Load(4)) == "4 users"


def test_a_cell_records_how_its_arrivals_were_spaced_and_the_seed_they_were_drawn_from() -> None:
    step = figures(load=Load(36, "open"))

    def judged(load: Load, arrivals: Arrivals) -> dict[str, Any]:
        session = Session(
            resolve_mode("gunicorn-sync[workers=4]", 1), resolve_workload("json"), 1, (load,), arrivals
        )
        swarm = Swarm("unused", None, None, {"server": {"cpuset": "0"}}, {})
        return judge_cell(session, replace(step, load=load), swarm, SessionTimings(), FACTS).as_json()

    poisson = judged(Load(36, "open"), Arrivals("poisson", 4321))
    assert (poisson["arrivals"], poisson["arrival_seed"]) == ("poisson", 4321)
    uniform = judged(Load(36, "open"), Arrivals("uniform", 4321))
    assert (uniform["arrivals"], uniform.get("arrival_seed")) == ("uniform", None)
    closed = judged(Load(4), Arrivals("poisson", 4321))
    assert (closed.get("arrivals"), closed.get("arrival_seed")) == (None, None)


def reference_at(rps: float) -> ReferenceResult:
    return ReferenceResult(8, duration_s=5.0, requests=round(rps * 5), errors=0, throughput_rps=rps)


def test_efficiency_just_below_the_floor_is_generator_bound_and_says_both_figures() -> None:
    # Locust's 100 req/s against 111.12 from the reference: 0.8999.
    cell = judge(figures(), reference=reference_at(111.12))
    assert cell["loadgen"]["generator_efficiency"] < GENERATOR_BOUND.threshold("efficiency")
    assert cell["loadgen"]["generator_bound"] is True
    message = next(w["message"] for w in cell["warnings"] if w["code"] == "generator-bound")
    assert "Locust reached 100 req/s, 0.899 of the 111 req/s the reference generator reached" in message
    assert cell["reference"]["throughput_rps"] == 111.12 and cell["reference"]["connections"] == 8


def test_efficiency_exactly_at_the_floor_is_not_generator_bound() -> None:
    floor = GENERATOR_BOUND.threshold("efficiency")
    reference = exactly(lambda rps: generator_efficiency(100.0, rps), floor, 100.0 / floor)
    cell = judge(figures(), reference=reference_at(reference))
    assert cell["loadgen"]["generator_efficiency"] == floor
    assert cell["loadgen"]["generator_bound"] is False and codes(cell) == []
    # Beside it, a reference a hair higher puts the same Locust under the floor.
    under = judge(figures(), reference=reference_at(reference * (1 + HAIR)))
    assert under["loadgen"]["generator_bound"] is True and codes(under) == ["generator-bound"]


def test_a_missing_reference_has_no_efficiency_and_no_flag() -> None:
    cell = judge(figures(), reference=ReferenceResult(8, missing="wrk wrote no reference.json"))
    assert cell["reference"]["missing"] == "wrk wrote no reference.json"
    assert cell["loadgen"]["generator_efficiency"] is None and cell["loadgen"]["generator_bound"] is False


def test_a_window_where_every_request_failed_is_a_failed_cell() -> None:
    cell = judge(figures(requests=50, failures=50))
    assert cell["status"] == "failed"
    assert cell["reason"] == "every request failed (50 of 50 in the measured window)"


def test_a_server_faulting_pages_back_in_from_disk_is_memory_bound_and_says_how_fast() -> None:
    """Thrashing at its memory limit: 10 s of window, 3,210 major faults a second, 64 MiB of 64."""
    limit = {"server": {"cpuset": "0", "memory_bytes": 64 * 2**20}}
    cell = judge(figures(server=usage(40.0, major_faults=32_100)), applied=limit)
    assert cell["status"] == "ok" and codes(cell) == ["memory-bound"]
    assert cell["warnings"][0]["message"] == (
        "the server faulted 3,210 pages a second back in from disk (memory 64 MiB of its 64 MiB limit)"
    )
    assert cell["server"]["major_faults"] == 32_100


def test_memory_bound_without_a_limit_read_back_gives_the_memory_alone() -> None:
    # A server just under its limit faults a few hundred a second (waitress at 60 of 64 MiB): not flagged.
    assert codes(judge(figures(server=usage(40.0, major_faults=2_800)))) == []
    beyond = math.floor(kind("memory-bound").threshold("faults_per_s") * figures().stats.seconds) + 1
    above = judge(figures(server=usage(40.0, major_faults=beyond)))
    assert codes(above) == ["memory-bound"]
    # No limit read back (or none set, 0): the message gives the memory alone.
    assert above["warnings"][0]["message"].endswith("(memory 64 MiB)")
    unlimited = judge(
        figures(server=usage(40.0, major_faults=beyond)), applied={"server": {"memory_bytes": 0}}
    )
    assert unlimited["warnings"][0]["message"].endswith("(memory 64 MiB)")


def test_a_server_not_measured_has_its_major_faults_unknown_and_no_memory_flag() -> None:
    step = replace(figures(), server=None)
    cell = judge(step)
    assert cell["server"]["major_faults"] is None and "memory-bound" not in codes(cell)


def test_major_faults_a_source_did_not_give_are_unknown_not_none_faulted() -> None:
    cell = judge(figures(server=usage(40.0, major_faults=None)))
    assert cell["server"]["major_faults"] is None and codes(cell) == []


# Each rule just inside and just outside its threshold, the threshold read from its flag's declaration.


def test_the_generator_at_its_cpu_share_is_bound_and_a_hair_below_it_is_not() -> None:
    at = GENERATOR_BOUND.threshold("cpu") * FACTS.loadgen_quota_pct
    reached = judge(figures(loadgen=usage(at)))
    assert codes(reached) == ["generator-bound"] and reached["loadgen"]["saturated"] is True
    below = judge(figures(loadgen=usage(at * (1 - HAIR))))
    assert codes(below) == [] and below["loadgen"]["saturated"] is False


def test_the_generator_throttled_a_hair_beyond_its_share_of_the_window_is_bound_and_at_it_is_not() -> None:
    at = GENERATOR_BOUND.threshold("throttled") * figures().stats.seconds
    assert codes(judge(figures(loadgen=usage(30.0, throttled_s=at)))) == []
    beyond = judge(figures(loadgen=usage(30.0, throttled_s=at * (1 + HAIR))))
    assert codes(beyond) == ["generator-bound"]
    assert "its CPU quota held it back" in beyond["warnings"][0]["message"]


def test_a_rate_at_the_ceiling_share_of_the_calibrated_most_is_bound_and_a_hair_under_it_is_not() -> None:
    sent = 100.0  # 1,000 requests in 10 s
    ceiling = sent / GENERATOR_BOUND.threshold("ceiling")
    reached = judge(figures(), RunFacts(100.0, ceiling=ceiling * (1 - HAIR)))
    assert reached["loadgen"]["sent_rps"] == sent and codes(reached) == ["generator-bound"]
    assert "the calibration found to be its most" in reached["warnings"][0]["message"]
    assert codes(judge(figures(), RunFacts(100.0, ceiling=ceiling * (1 + HAIR)))) == []


def test_an_efficiency_a_hair_under_the_floor_is_bound_and_a_hair_over_it_is_not() -> None:
    floor = GENERATOR_BOUND.threshold("efficiency")
    under = judge(figures(), reference=reference_at(100.0 / (floor * (1 - HAIR))))
    assert codes(under) == ["generator-bound"] and under["loadgen"]["generator_bound"] is True
    over = judge(figures(), reference=reference_at(100.0 / (floor * (1 + HAIR))))
    assert codes(over) == [] and over["loadgen"]["generator_bound"] is False


def test_the_server_throttled_a_hair_beyond_its_share_of_the_window_is_flagged_and_at_it_is_not() -> None:
    at = kind("cpu-throttled").threshold("share") * figures().stats.seconds
    assert codes(judge(figures(server=usage(50.0, throttled_s=at)))) == []
    assert codes(judge(figures(server=usage(50.0, throttled_s=at * (1 + HAIR))))) == ["cpu-throttled"]


def test_a_page_more_than_the_faults_a_second_over_the_window_is_memory_bound() -> None:
    allowed = kind("memory-bound").threshold("faults_per_s") * figures().stats.seconds
    at = math.floor(allowed)
    assert codes(judge(figures(server=usage(40.0, major_faults=at)))) == []
    assert codes(judge(figures(server=usage(40.0, major_faults=at + 1)))) == ["memory-bound"]


def test_a_load_average_a_hair_above_the_share_per_core_is_a_busy_machine_and_at_it_is_not() -> None:
    cores = 2
    at = kind("machine-busy").threshold("load_per_core") * cores
    assert machine_busy([at, 0.0, 0.0], cores) is None
    busy = machine_busy([at * (1 + HAIR), 0.0, 0.0], cores)
    assert busy is not None and busy.code == "machine-busy"
    assert busy.message == f"the machine was busy when the run began (load average {at * (1 + HAIR):.1f})"
    assert machine_busy(None, cores) is None


def test_a_rate_exactly_at_the_ceiling_share_of_the_calibrated_most_is_bound() -> None:
    share = GENERATOR_BOUND.threshold("ceiling")
    sent = 100.0  # 1,000 requests in 10 s
    ceiling = exactly(lambda most: share * most, sent, sent / share)
    at = judge(figures(), RunFacts(100.0, ceiling=ceiling))
    assert at["loadgen"]["sent_rps"] == sent and codes(at) == ["generator-bound"]
    assert codes(judge(figures(), RunFacts(100.0, ceiling=ceiling * (1 + HAIR)))) == []


def test_the_clients_disagree_a_hair_above_their_bound_and_agree_exactly_at_it() -> None:
    above = kind("clients-disagree").threshold("above")
    reference = exactly(lambda rps: generator_efficiency(100.0, rps), above, 100.0 / above)
    at = judge(figures(), reference=reference_at(reference))
    assert at["loadgen"]["generator_efficiency"] == above and codes(at) == []
    beyond = judge(figures(), reference=reference_at(reference * (1 - HAIR)))
    assert codes(beyond) == ["clients-disagree"]
    message = beyond["warnings"][0]["message"]
    assert message.startswith("Locust reached 100 req/s") and "the figure depends on the client" in message


def test_one_answer_in_the_window_is_a_measured_cell() -> None:
    one = judge(figures(requests=1))
    assert (one["status"], one["reason"], one["requests"]) == ("ok", None, 1)
    assert judge(figures(requests=0))["status"] == "failed"


def test_one_request_answered_among_failures_is_a_measured_cell_with_errors() -> None:
    one_left = judge(figures(requests=50, failures=49))
    assert one_left["status"] == "ok" and codes(one_left) == ["errors"]
    assert one_left["warnings"][0]["message"] == "49 of 50 requests failed (98.0%)"
    assert judge(figures(requests=50, failures=50))["status"] == "failed"


def test_a_server_stopping_exactly_as_the_window_ends_did_not_die_in_it() -> None:
    end = figures().end
    at_end = judge(figures(), server_exit=ServerExit(oom_killed=False, exit_code=1, finished_at=end))
    assert at_end["status"] == "ok" and at_end["server"]["exit"] is None
    before = ServerExit(oom_killed=False, exit_code=1, finished_at=math.nextafter(end, 0.0))
    died = judge(figures(), server_exit=before)
    assert died["status"] == "failed" and died["reason"] == "the server stopped during the run (exit code 1)"


def test_one_failed_request_flags_errors_and_none_does_not() -> None:
    one = judge(figures(failures=1))
    assert codes(one) == ["errors"]
    assert one["warnings"][0]["message"] == "1 of 1000 requests failed (0.1%)"
    assert codes(judge(figures(failures=0))) == []


def test_a_judged_cell_records_every_figure_it_was_given_each_in_its_place() -> None:
    """Every input distinct, every field of the record read back: a figure written to the wrong field,
    or dropped, fails here."""
    other = WindowStats(400, 4, 10.0, {**LATENCY, "p99": 20.0})
    step = replace(
        figures(server=WindowUsage(55.0, 0.25, 3, 80 * 2**20, 70 * 2**20, 7), loadgen=usage(33.0)),
        endpoints={"json": other},
        disturbance={"server": 0.01, "generator": 0.02},
        connections=(5, 3),
    )
    wrk = {"p50": 7.0, "p90": 8.0, "p99": 9.0, "p999": 9.5, "mean": 7.5, "max": 10.0}
    reference = ReferenceResult(
        8, duration_s=3.0, requests=315, errors=1, throughput_rps=105.0, latency_ms=wrk
    )
    session = Session(resolve_mode("gunicorn-sync[workers=3]", 1), resolve_workload("json"), 2, (step.load,))
    limits = {"cpuset": "0", "cpus": 1.0, "memory_bytes": 2**30, "pids_limit": 4096}
    swarm = Swarm(
        "unused",
        None,
        None,
        {"server": limits},
        {8: reference},
        {8: {"server": 0.03, "generator": 0.04}},
        {8: (6, 2)},
    )
    timings = SessionTimings(start_s=1.5, loadgen_s=9.0, teardown_s=0.2)
    facts = RunFacts(100.0, 5000.0, server_host="h1", loadgen_hosts=2)
    cell = judge_cell(session, step, swarm, timings, facts).as_json()
    assert (cell["mode"], cell["workload"], cell["users"], cell["trial"]) == (
        "gunicorn-sync[workers=3]",
        "json",
        8,
        2,
    )
    assert cell["window"] == {"start": 100.0, "end": 110.0, "seconds": 10.0, "warmup_s": 2.0}
    assert (cell["requests"], cell["failures"], cell["throughput_rps"]) == (1000, 0, 100.0)
    assert cell["endpoints"] == {
        "json": {
            "requests": 400,
            "failures": 4,
            "throughput_rps": 39.6,
            "latency_ms": {**LATENCY, "p99": 20.0},
        }
    }
    assert cell["server"] == {
        "cpu_pct": 55.0,
        "throttled_s": 0.25,
        "throttled_periods": 3,
        "mem_mb": 80.0,
        "mem_mb_mean": 70.0,
        "processes": [
            {"pid": 1, "command": "gunicorn", "rss_mb": 20.0},
            {"pid": 2, "command": "gunicorn", "rss_mb": 40.0},
        ],
        "exit": None,
        "major_faults": 7,
    }
    assert cell["loadgen"] == {
        "cpu_pct": 33.0,
        "cpu_quota_pct": 100.0,
        "processes": 1,
        "saturated": False,
        "generator_bound": False,
        "sent_rps": 100.0,
        "calibrated_max_rps": 5000.0,
        "generator_efficiency": 100.0 / 105.0,
        "hosts": 2,
    }
    assert (cell["promised_concurrency"], cell["keeps_alive"]) == (3, False)
    assert cell["cpu_plan_applied"] == {"server": limits}
    assert cell["session_timings"] == {"start_s": 1.5, "loadgen_s": 9.0, "teardown_s": 0.2}
    assert cell["reference"] == {
        "generator": "wrk",
        "connections": 8,
        "duration_s": 3.0,
        "requests": 315,
        "errors": 1,
        "throughput_rps": 105.0,
        "latency_ms": {**wrk, "p95": None},
        "missing": None,
    }
    assert cell["disturbance"] == {
        "locust": {"server": 0.01, "generator": 0.02},
        "reference": {"server": 0.03, "generator": 0.04},
    }
    assert cell["connections"] == {"locust": [5, 3], "reference": [6, 2]}
    assert cell["server_host"] == "h1"


def test_a_cell_without_a_reference_run_records_locusts_window_alone() -> None:
    step = replace(figures(), disturbance={"server": 0.01, "generator": None}, connections=None)
    session = Session(resolve_mode("waitress", 1), resolve_workload("json"), 1, (step.load,))
    cell = judge_cell(session, step, Swarm("unused"), SessionTimings(), FACTS).as_json()
    assert cell["disturbance"] == {"locust": {"server": 0.01, "generator": None}}
    assert cell["connections"] == {"locust": None}
    assert cell["reference"] is None


def test_the_servers_processes_are_those_last_seen_at_or_before_the_windows_end() -> None:
    from servingmatrix.run.judge import _processes_at

    early, late, after = [(1, "a", 1)], [(2, "b", 2)], [(3, "c", 3)]
    history = [(1.0, early), (5.0, late), (9.0, after)]
    assert _processes_at(history, 5.0) == late, "a reading at the end counts"
    assert _processes_at(history, 8.9) == late
    assert _processes_at(history, 0.5) == after, "none at or before the end: the last seen"
    assert _processes_at([], 3.0) == []
