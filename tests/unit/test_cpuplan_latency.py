"""The CPU plan, and the exact latency figures computed from per-request timings."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from servingmatrix.errors import UserError
from servingmatrix.run.measure.cgroups import Sample, window_usage
from servingmatrix.run.measure.latency import RequestSample, WindowStats, per_name, percentile, window_stats
from servingmatrix.run.plan.cpuplan import plan_cpus


def test_two_cores_share_with_a_warning() -> None:
    plan = plan_cpus([0, 1], 1)
    assert plan.server.cpuset == "0" and plan.server.cpus == 1.0
    assert plan.loadgen.cpuset == "1" and plan.backing.cpuset == "1"
    assert plan.warnings and "share core 1" in plan.warnings[0]


def test_bigger_machines_do_not_share() -> None:
    plan = plan_cpus(list(range(8)), 2)
    assert plan.server.cpuset == "0,1"
    assert plan.loadgen.cpuset == "2,3,4,5" and plan.loadgen.cpus == 4.0
    assert plan.backing.cpuset == "6,7"
    assert plan.warnings == ()


def test_server_budget_must_leave_a_core() -> None:
    with pytest.raises(UserError, match="leaves no core"):
        plan_cpus([0, 1], 2)


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 99.9) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_window_counts_requests_that_complete_inside() -> None:
    samples = [
        RequestSample(start=9.99, ms=20.0, ok=True, name="a", bytes=1),  # ends 10.01: inside
        RequestSample(start=9.0, ms=500.0, ok=True, name="a", bytes=1),  # ends 9.5: warm-up
        RequestSample(start=10.5, ms=100.0, ok=False, name="a", bytes=0),  # failure inside
        RequestSample(start=11.95, ms=100.0, ok=True, name="a", bytes=1),  # ends 12.05: after
    ]
    stats = window_stats(samples, 10.0, 12.0)
    assert stats.requests == 2 and stats.failures == 1
    assert stats.throughput_rps == 0.5
    assert stats.latency_ms["p50"] == 20.0 and stats.latency_ms["max"] == 20.0


def test_the_window_holds_its_start_not_its_end() -> None:
    at_start = RequestSample(start=9.0, ms=1000.0, ok=True, name="a", bytes=1)
    at_end = RequestSample(start=11.0, ms=1000.0, ok=True, name="a", bytes=1)
    assert (at_start.end, at_end.end) == (10.0, 12.0)
    stats = window_stats([at_start, at_end], 10.0, 12.0)
    assert (stats.requests, stats.seconds) == (1, 2.0)


def test_window_figures_are_exact() -> None:
    samples = [RequestSample(start=10.0, ms=ms, ok=True, name="a", bytes=1) for ms in (6.0, 1.0, 2.0)]
    samples.append(RequestSample(start=10.0, ms=500.0, ok=False, name="a", bytes=0))
    stats = window_stats(samples, 10.0, 12.0)
    assert stats.latency_ms == {
        "p50": 2.0,
        "p90": 6.0,
        "p95": 6.0,
        "p99": 6.0,
        "p999": 6.0,
        "mean": 3.0,
        "max": 6.0,
    }
    assert (stats.requests, stats.failures, stats.error_rate, stats.throughput_rps) == (4, 1, 0.25, 1.5)


def test_an_empty_window_has_no_latency_and_no_rates() -> None:
    stats = window_stats([], 10.0, 12.0)
    assert sorted(stats.latency_ms) == ["max", "mean", "p50", "p90", "p95", "p99", "p999"]
    assert all(math.isnan(v) for v in stats.latency_ms.values())
    assert (stats.error_rate, stats.throughput_rps) == (0.0, 0.0)
    assert WindowStats(3, 0, 0.0, {}).throughput_rps == 0.0


def test_each_request_name_has_its_own_figures() -> None:
    samples = [
        RequestSample(start=10.0, ms=4.0, ok=True, name="b", bytes=1),
        RequestSample(start=10.0, ms=2.0, ok=False, name="a", bytes=1),
        RequestSample(start=10.0, ms=8.0, ok=True, name="a", bytes=1),
        RequestSample(start=20.0, ms=8.0, ok=True, name="c", bytes=1),
    ]
    by_name = per_name(samples, 10.0, 11.0)
    assert list(by_name) == ["a", "b", "c"]
    assert (by_name["a"].requests, by_name["a"].failures, by_name["a"].latency_ms["max"]) == (2, 1, 8.0)
    assert (by_name["b"].requests, by_name["b"].latency_ms["p50"], by_name["b"].seconds) == (1, 4.0, 1.0)
    assert by_name["c"].requests == 0


def test_a_request_moved_onto_another_clock_keeps_everything_but_its_times() -> None:
    sample = RequestSample(start=100.0, ms=250.0, ok=False, name="io", bytes=17)
    moved = sample.shifted(-30.5)
    assert moved == RequestSample(start=69.5, ms=250.0, ok=False, name="io", bytes=17)
    assert moved.end == pytest.approx(69.75)
    assert sample.shifted(2.0) == RequestSample(start=102.0, ms=250.0, ok=False, name="io", bytes=17)
    # A window cut on the harness's clock takes the request where it now ends.
    assert window_stats([moved], 69.0, 70.0).requests == 1
    assert window_stats([sample], 69.0, 70.0).requests == 0


def test_cgroup_window_interpolates_counters() -> None:
    samples = [
        Sample(t=0.0, cpu_ns=0, throttled_ns=0, throttled_periods=0, mem_bytes=100, major_faults=50),
        Sample(
            t=2.0,
            cpu_ns=2_000_000_000,
            throttled_ns=200_000_000,
            throttled_periods=4,
            mem_bytes=300,
            major_faults=4050,
        ),
    ]
    usage = window_usage(samples, 0.5, 1.5)
    assert usage is not None
    assert usage.cpu_pct == pytest.approx(100.0)
    assert usage.throttled_s == pytest.approx(0.1)
    assert usage.major_faults == 2000, "half the 4,000 faulted between the samples"
    # A sample without them (a source that does not give them): unknown over the window.
    assert window_usage([samples[0], replace(samples[1], major_faults=None)], 0.5, 1.5).major_faults is None  # type: ignore[union-attr]
    # Made anew under its name, the container's counter went back: counted from nothing, not below.
    restarted = [samples[1], replace(samples[0], t=4.0)]
    assert window_usage(restarted, 2.0, 4.0).major_faults == 0  # type: ignore[union-attr]
    assert window_usage(samples[:1], 0.0, 1.0) is None


def test_the_generator_gets_one_load_process_per_core_unless_told() -> None:
    assert plan_cpus([0, 1], 1).loadgen_processes == 1
    eight = plan_cpus(list(range(8)), 2)
    # 6 cores left: 2 for the backing services, 4 for the generator, so 4 load processes.
    assert eight.loadgen.cpuset == "2,3,4,5" and eight.loadgen_processes == 4
    assert plan_cpus(list(range(8)), 2, loadgen_processes=2).loadgen_processes == 2
    crowded = plan_cpus([0, 1], 1, loadgen_processes=3)
    assert crowded.loadgen_processes == 3
    assert any("3 load generator processes on 1 core(s)" in w for w in crowded.warnings)
