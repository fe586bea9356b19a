"""A calibration is reused only on the same machine, images, plan and settings, within a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.run.load.calibration import calibration_text
from servingmatrix.run.load.calibration_cache import MAX_AGE_S, CalibrationCache, calibration_key

METADATA: dict[str, Any] = {
    "cpu_model": "Some CPU",
    "cpu_count": 2,
    "kernel": "6.1",
    "docker_version": "20.10",
    "cgroup_version": "1",
    "storage_driver": "overlay2",
    "images": {"locust": {"id": "sha256:l"}, "upstream": {"id": "sha256:u"}, "waitress": {"id": "x"}},
}
PLAN: dict[str, Any] = {
    "server": {"cpuset": "0", "cpus": 1.0},
    "loadgen": {"cpuset": "1", "cpus": 1.0},
    "loadgen_processes": 1,
}
SETTINGS = {"users_per_process": 64, "warmup_s": 2.0, "duration_s": 6.0, "request_timeout_s": 30.0}
RESULT = {"max_rps": 3000.0, "loadgen_cpu_pct": 95.0, "limited_by": "generator"}
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def key(**changes: Any) -> str | None:
    metadata = {**METADATA, **changes.pop("metadata", {})}
    plan = {**PLAN, **changes.pop("plan", {})}
    return calibration_key(metadata, plan, {**SETTINGS, **changes})


def test_same_facts_same_key_and_every_fact_counts() -> None:
    assert key() == key() and key() is not None
    others = [
        key(metadata={"cpu_model": "Other CPU"}),
        key(metadata={"cpu_count": 4}),
        key(metadata={"kernel": "6.2"}),
        key(metadata={"docker_version": "27.0"}),
        key(metadata={"images": {"locust": {"id": "sha256:L2"}, "upstream": {"id": "sha256:u"}}}),
        key(metadata={"images": {"locust": {"id": "sha256:l"}, "upstream": {"id": "sha256:U2"}}}),
        key(plan={"loadgen": {"cpuset": "1", "cpus": 0.5}}),
        key(plan={"server": {"cpuset": "0-1", "cpus": 2.0}}),
        key(plan={"loadgen_processes": 2}),
        key(duration_s=10.0),
        key(request_timeout_s=5.0),
    ]
    assert key() not in others and len(set(others)) == len(others)


def test_a_mode_image_does_not_count_and_a_missing_generator_image_means_no_key() -> None:
    images = {**METADATA["images"], "waitress": {"id": "changed"}}
    assert key(metadata={"images": images}) == key()
    assert key(metadata={"images": {"upstream": {"id": "sha256:u"}}}) is None


def test_a_kept_calibration_is_reused_within_a_day_and_named(tmp_path: Path) -> None:
    cache = CalibrationCache(tmp_path)
    cache.save("k", RESULT, now=NOW)
    kept = cache.load("k", now=NOW + timedelta(seconds=MAX_AGE_S))
    assert kept == {**RESULT, "reused_from": "2026-11-29T10:00:00+00:00"}
    assert "reused from 2026-11-29T10:00:00+00:00" in calibration_text({**kept, "loadgen_cpu_pct": 95.0})
    assert cache.load("k", now=NOW + timedelta(seconds=MAX_AGE_S + 1)) is None
    assert cache.load("k", now=NOW - timedelta(seconds=1)) is None, "a calibration from the future"
    assert cache.load("other", now=NOW) is None


@pytest.mark.parametrize("text", ["", "{", '{"measured_at": "x", "result": {}}', '{"result": {}}', "[]"])
def test_a_damaged_cache_file_is_no_calibration(tmp_path: Path, text: str) -> None:
    (tmp_path / "k.json").write_text(text)
    assert CalibrationCache(tmp_path).load("k", now=NOW) is None


def test_a_failed_calibration_is_never_kept(tmp_path: Path) -> None:
    cache = CalibrationCache(tmp_path)
    cache.save("k", {"error": "the calibration target did not start"}, now=NOW)
    assert not (tmp_path / "k.json").exists()


def test_a_reused_calibration_is_not_kept_again(tmp_path: Path) -> None:
    cache = CalibrationCache(tmp_path)
    cache.save("k", {**RESULT, "reused_from": "2026-11-28T10:00:00+00:00"}, now=NOW)
    assert not (tmp_path / "k.json").exists()
