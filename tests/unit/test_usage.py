"""The engine's figures in the project's terms: a stats answer as a usage Sample (memory as
``docker stats`` counts it, on cgroup v1 and v2), and its timestamps as epoch seconds."""

from __future__ import annotations

from datetime import datetime

import pytest

from servingmatrix.engine.clock import engine_seconds
from servingmatrix.engine.usage import Sample, memory_in_use, sample_from_stats


def test_memory_in_use_leaves_out_the_droppable_page_cache() -> None:
    assert memory_in_use(100, {"total_inactive_file": 30, "inactive_file": 5}) == 70, "cgroup v1"
    assert memory_in_use(100, {"inactive_file": 30}) == 70, "cgroup v2"
    assert memory_in_use(100, {"inactive_file": 300}) == 100, "never below nothing"
    assert memory_in_use(100, {}) == 100


def test_a_cgroup_v2_answer_is_a_sample() -> None:
    stats = {
        "cpu_stats": {"cpu_usage": {"total_usage": 7_000}, "throttling_data": {}},
        "memory_stats": {"usage": 4096, "stats": {"inactive_file": 1024}},
    }
    assert sample_from_stats(stats, 12.5) == Sample(12.5, 7_000, 0, 0, 3072)


def test_an_answer_carries_the_major_faults_of_either_cgroup_version() -> None:
    def answer(memory: dict[str, int]) -> dict[str, object]:
        return {
            "cpu_stats": {"cpu_usage": {"total_usage": 1}},
            "memory_stats": {"usage": 4096, "stats": memory},
        }

    v1 = sample_from_stats(answer({"pgmajfault": 1, "total_pgmajfault": 900}), 1.0)
    v2 = sample_from_stats(answer({"pgmajfault": 450}), 1.0)
    assert v1 is not None and v1.major_faults == 900, "v1: the hierarchy's total"
    assert v2 is not None and v2.major_faults == 450
    none = sample_from_stats(answer({}), 1.0)
    assert none is not None and none.major_faults is None, "not given: unknown, not none faulted"


def test_an_answer_without_figures_is_none() -> None:
    assert sample_from_stats({}, 1.0) is None
    assert (
        sample_from_stats({"cpu_stats": {"cpu_usage": {"total_usage": 1}}, "memory_stats": {}}, 1.0) is None
    )


@pytest.mark.parametrize(
    ("text", "fraction"),
    [
        ("2026-11-21T10:00:00Z", 0.0),
        ("2026-11-21T10:00:00.5Z", 0.5),
        ("2026-11-21T10:00:00.000000001Z", 1e-9),
        ("2026-11-21T12:00:00.987654321+02:00", 0.987654321),
        ("2026-11-21T05:00:00.25-05:00", 0.25),
    ],
)
def test_engine_timestamps_are_epoch_seconds(text: str, fraction: float) -> None:
    whole = datetime.fromisoformat("2026-11-21T10:00:00+00:00").timestamp()
    seconds = engine_seconds(text)
    assert seconds is not None and seconds - whole == pytest.approx(fraction, abs=1e-6)


@pytest.mark.parametrize("text", ["", "0001-01-01T00:00:00Z", "yesterday", "2026-11-21 10:00:00"])
def test_the_zero_time_and_non_timestamps_are_none(text: str) -> None:
    assert engine_seconds(text) is None
