"""Reproduction judged on the figure that is the server's: the reference's where Locust was the
bottleneck (G), both clients' where they disagree (R), none where a side stayed disturbed; and a p99
of a millisecond or two given an absolute floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.analysis.reproduction import (
    DIFFERS,
    NOT_COMPARABLE,
    P99_FLOOR_MS,
    P99_TOLERANCE,
    REPRODUCED,
    judge_reproduction,
)

from .synthetic_runs import BOUND, SYNC, cell, warning, write_run

Cells = dict[tuple[str, str, int, int], dict[str, Any]]


def reference(rps: float | None, p99: float = 10.0) -> dict[str, Any]:
    return {
        "generator": "wrk",
        "connections": 1,
        "duration_s": 5.0,
        "requests": None if rps is None else round(rps * 5),
        "errors": 0,
        "throughput_rps": rps,
        "latency_ms": {"p50": p99 / 4, "p99": p99},
        "missing": None if rps is not None else "wrk got no successful answer",
    }


def trials(*pairs: tuple[float, float | None], flag: str | None = None, p99: float = 10.0) -> Cells:
    """SYNC x json x 1 user, one trial per (Locust's, the reference's) throughput."""
    out = {}
    for trial, (rps, ref) in enumerate(pairs, 1):
        warnings = []
        if flag == "G":
            warnings.append(warning("generator-bound", BOUND))
        if flag == "R":
            warnings.append(warning("clients-disagree", "Locust drew 1.43 of the reference's throughput"))
        measured = cell(rps, p99=p99, warnings=warnings, generator_bound=flag == "G")
        measured["reference"] = reference(ref)
        out[(SYNC, "json", 1, trial)] = measured
    return out


def run(root: Path, given: Cells) -> Path:
    folder = write_run(root, given, [1], trials=max(t for *_, t in given))
    meta = json.loads((folder / "run.json").read_text())
    meta["metadata"].update({"cpu_model": "a CPU", "docker_version": "27.3.1"})
    (folder / "run.json").write_text(json.dumps(meta))
    return folder


def verdict(tmp_path: Path, published: Cells, reproduced: Cells) -> tuple[str, str]:
    judged = judge_reproduction(run(tmp_path / "a", published), run(tmp_path / "b", reproduced))
    (only,) = judged.cells
    return only.status, only.why


@pytest.mark.parametrize("side", ["published", "reproduced"])
def test_a_generator_bound_cell_is_judged_on_the_reference_figure(tmp_path: Path, side: str) -> None:
    # Locust's figure moved 30% (the generator's pace); the server's, measured by wrk, did not.
    bound = trials((1000.0, 2000.0), flag="G")
    clean = trials((1300.0, 2020.0))
    published, reproduced = (bound, clean) if side == "published" else (clean, bound)
    status, why = verdict(tmp_path, published, reproduced)
    assert status == REPRODUCED, why
    assert "reference generator's figures" in why and "G in" in why


def test_a_generator_bound_cell_whose_reference_moved_differs(tmp_path: Path) -> None:
    status, why = verdict(tmp_path, trials((1000.0, 2000.0), flag="G"), trials((1000.0, 1500.0), flag="G"))
    assert status == DIFFERS, why
    assert "throughput -25" in why


def test_a_generator_bound_cell_without_a_reference_is_not_comparable(tmp_path: Path) -> None:
    status, why = verdict(tmp_path, trials((1000.0, None), flag="G"), trials((1000.0, 2000.0)))
    assert status == NOT_COMPARABLE
    assert "the reference generator's figure is missing" in why


def test_a_cell_where_the_clients_disagree_must_reproduce_on_both(tmp_path: Path) -> None:
    # Locust's figure holds; the reference's dropped 30%: the cell does not reproduce.
    status, why = verdict(tmp_path, trials((155.0, 108.0), flag="R"), trials((155.0, 75.0), flag="R"))
    assert status == DIFFERS, why
    assert "the reference generator's throughput" in why and "R in" in why
    # And the other way round: the reference holds, Locust's moved.
    status, why = verdict(tmp_path / "2", trials((155.0, 108.0), flag="R"), trials((110.0, 108.0)))
    assert status == DIFFERS, why
    assert "Locust's throughput" in why
    # Both hold: reproduced, said on both.
    status, why = verdict(tmp_path / "3", trials((155.0, 108.0), flag="R"), trials((150.0, 110.0), flag="R"))
    assert status == REPRODUCED, why
    assert "Locust's throughput" in why and "the reference generator's throughput" in why


def test_an_unflagged_cell_is_judged_on_locust_alone(tmp_path: Path) -> None:
    # The reference moved a lot, but it judges nothing here: no G, no R.
    status, why = verdict(tmp_path, trials((1000.0, 1000.0)), trials((1000.0, 500.0)))
    assert status == REPRODUCED, why
    assert "reference" not in why


@pytest.mark.parametrize("side", ["published", "reproduced"])
def test_a_disturbed_cell_is_not_comparable_and_says_why(tmp_path: Path, side: str) -> None:
    disturbed = trials((1000.0, 1000.0))
    disturbed[(SYNC, "json", 1, 1)].update(
        status="disturbed", reason="disturbed: server core 30% busy with other work"
    )
    clean = trials((1000.0, 1000.0))
    published, reproduced = (disturbed, clean) if side == "published" else (clean, disturbed)
    status, why = verdict(tmp_path, published, reproduced)
    assert status == NOT_COMPARABLE
    named = "the published run" if side == "published" else "the reproduction"
    assert f"disturbed in {named}" in why and "server core 30% busy" in why


def test_the_p99_floor_is_a_positive_fraction_of_a_millisecond_or_more() -> None:
    assert 0.5 <= P99_FLOOR_MS <= 2.0


@pytest.mark.parametrize(
    ("published_ms", "reproduced_ms", "status"),
    [
        # 1.19 against 0.75 ms: -37%, beyond the share, but within the floor: jitter.
        (1.19, 0.75, REPRODUCED),
        # The same share at the floor's edge and just past it.
        (2.0, 2.0 + P99_FLOOR_MS, REPRODUCED),
        (2.0, 2.0 + P99_FLOOR_MS + 0.01, DIFFERS),
        # Large figures: the share decides, the floor is far below.
        (10.0, 10.0 * (1 + P99_TOLERANCE), REPRODUCED),
        (10.0, 10.0 * (1 + P99_TOLERANCE) + 0.1, DIFFERS),
    ],
)
def test_a_p99_change_within_the_floor_is_not_a_difference(
    tmp_path: Path, published_ms: float, reproduced_ms: float, status: str
) -> None:
    found, why = verdict(
        tmp_path, trials((1000.0, 1000.0), p99=published_ms), trials((1000.0, 1000.0), p99=reproduced_ms)
    )
    assert found == status, why


def test_runs_without_a_reference_are_judged_on_locust(tmp_path: Path) -> None:
    # An earlier schema's cells have no reference at all.
    old = trials((1000.0, None))
    for given in old.values():
        del given["reference"]
    status, why = verdict(tmp_path, old, trials((1050.0, None)))
    assert status == REPRODUCED, why
