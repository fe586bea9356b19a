"""The reference generator's figures where a reader meets them: the verdict's ranking and its caveat,
the capacity table, the summary, the export, each from a run folder written on the spot."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from servingmatrix.analysis.points import aggregate
from servingmatrix.analysis.verdict import Objective, verdicts
from servingmatrix.flags import kind
from servingmatrix.report.export import export_csv
from servingmatrix.report.markdown import render_markdown
from servingmatrix.report.views.summary import summarize
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import load_run

from .synthetic_runs import SYNC, cell, warning, write_run

GTHREAD = "gunicorn-gthread[workers=1,threads=4]"


def with_reference(data: dict[str, Any], reference_rps: float) -> dict[str, Any]:
    """``data`` with a reference at ``reference_rps``, its efficiency, and the flag it would set."""
    efficiency = data["throughput_rps"] / reference_rps
    data["reference"] = {
        "generator": "wrk",
        "connections": 32,
        "duration_s": 5.0,
        "requests": round(reference_rps * 5),
        "errors": 0,
        "throughput_rps": reference_rps,
        "latency_ms": {"p50": 4.0, "p99": 9.0},
    }
    data["loadgen"]["generator_efficiency"] = efficiency
    if efficiency < 0.9:
        data["loadgen"]["generator_bound"] = True
        data["warnings"] = [warning("generator-bound", f"Locust reached {efficiency:.2f} of wrk")]
    if efficiency > kind("clients-disagree").threshold("above"):
        data["warnings"] = [warning("clients-disagree", f"Locust reached {efficiency:.2f} of wrk")]
    return data


def run_with(tmp_path: Path, gthread_ref: float, sync_ref: float) -> Path:
    """gthread ahead by Locust's figures (4,963 against 2,386), each with its reference."""
    cells = {
        (GTHREAD, "json", 32, 1): with_reference(cell(4963.0, p99=20.0), gthread_ref),
        (SYNC, "json", 32, 1): with_reference(cell(2386.0, p99=30.0), sync_ref),
    }
    return write_run(tmp_path / "run", cells, [32])


def test_a_bound_runner_up_whose_server_answers_more_unsettles_the_ranking(tmp_path: Path) -> None:
    # As measured on this machine: wrk drew 6,444 from gthread and 5,551 from sync (0.77 and 0.43).
    verdict = verdicts(aggregate(load_run(run_with(tmp_path, 6444.0, 5551.0))), Objective())[0]
    assert verdict.winner is not None and verdict.winner.mode == GTHREAD
    assert verdict.caveat == (
        "not settled: the load generator set the pace of gunicorn-sync[workers=3] (a native client drew "
        f"5,551 req/s), more than {GTHREAD}'s 4,963 req/s"
    )


def test_a_bound_runner_up_below_the_winner_leaves_the_winner_standing(tmp_path: Path) -> None:
    verdict = verdicts(aggregate(load_run(run_with(tmp_path, 5000.0, 3000.0))), Objective())[0]
    assert verdict.caveat == (
        "the load generator set the pace of gunicorn-sync[workers=3]: those figures are lower bounds; the "
        "winner stands (no native client drew more than 4,963 req/s from the others), the places below it "
        "may not"
    )


def test_no_bound_figure_no_caveat(tmp_path: Path) -> None:
    verdict = verdicts(aggregate(load_run(run_with(tmp_path, 5000.0, 2400.0))), Objective())[0]
    assert verdict.caveat is None


def test_the_report_shows_the_reference_beside_the_figure_and_the_caveat(tmp_path: Path) -> None:
    results = aggregate(load_run(run_with(tmp_path, 6444.0, 5551.0)))
    text = render_markdown(results, Objective(), "charts").text
    assert "wrk req/s (Locust's share)" in text
    assert "6,444 (0.77)" in text and "5,551 (0.43)" in text
    assert "Ranking: not settled" in text


def test_the_summary_shows_the_reference_and_the_share(tmp_path: Path) -> None:
    text = summarize(RunFolder(run_with(tmp_path, 6444.0, 5551.0)))
    assert "wrk req/s against the same server" in text
    row = next(line for line in text.splitlines() if line.strip().startswith(SYNC) and "(" in line[40:])
    assert "5,551 (0.43)" in row


def test_the_export_carries_the_reference_columns(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(export_csv(RunFolder(run_with(tmp_path, 6444.0, 5551.0))))))
    sync = next(r for r in rows if r["mode"] == SYNC)
    assert (sync["reference_rps"], sync["reference_p50_ms"], sync["reference_p99_ms"]) == ("5551", "4", "9")
    assert sync["generator_efficiency"] == "0.429832" and sync["generator_bound"] == "true"


def test_a_run_without_references_shows_no_reference_column(tmp_path: Path) -> None:
    cells = {(SYNC, "json", 32, 1): cell(2386.0)}
    results = aggregate(load_run(write_run(tmp_path / "run", cells, [32])))
    assert "wrk req/s" not in render_markdown(results, Objective(), "charts").text
    assert "wrk req/s" not in summarize(RunFolder(tmp_path / "run"))


def test_a_winner_the_clients_disagree_on_with_a_runner_up_above_its_reference_is_not_settled(
    tmp_path: Path,
) -> None:
    # gthread at 4,963 by Locust but 3,470 by wrk (1.43): sync's 2,386 is below both, so settled; at 3,470
    # wrk and sync 3,600 by Locust, the order depends on the client.
    cells = {
        (GTHREAD, "json", 32, 1): with_reference(cell(4963.0, p99=20.0), 3470.0),
        (SYNC, "json", 32, 1): with_reference(cell(3600.0, p99=30.0), 3700.0),
    }
    verdict = verdicts(aggregate(load_run(write_run(tmp_path / "run", cells, [32]))), Objective())[0]
    assert verdict.winner is not None and verdict.winner.mode == GTHREAD
    assert verdict.caveat == (
        f"not settled: the clients disagree on {GTHREAD} (a native client drew 3,470 req/s from it), less "
        "than gunicorn-sync[workers=3]'s 3,600 req/s"
    )
    text = render_markdown(aggregate(load_run(tmp_path / "run")), Objective(), "charts").text
    # A share above 1 says what it means.
    assert "| 4,963 [R] | 32 | 3,470 (1.43) (Locust drew more than wrk) |" in text
    assert "[R] the clients disagree" in text
    assert "Ranking: not settled: the clients disagree" in text


def test_a_disagreement_that_cannot_change_the_order_is_said_but_settled(tmp_path: Path) -> None:
    cells = {
        (GTHREAD, "json", 32, 1): with_reference(cell(4963.0, p99=20.0), 3470.0),
        (SYNC, "json", 32, 1): with_reference(cell(2386.0, p99=30.0), 2400.0),
    }
    verdict = verdicts(aggregate(load_run(write_run(tmp_path / "run", cells, [32]))), Objective())[0]
    assert verdict.caveat == (
        f"the clients disagree on {GTHREAD}: those figures depend on the client; the order stands on both"
    )


def _certainty_of(tmp_path: Path, gthread: list[float], sync: list[float]) -> str:
    cells = {(GTHREAD, "json", 32, t + 1): cell(rps) for t, rps in enumerate(gthread)}
    cells.update({(SYNC, "json", 32, t + 1): cell(rps) for t, rps in enumerate(sync)})
    trials = max(len(gthread), len(sync))
    run = write_run(tmp_path / f"run-{len(gthread)}-{len(sync)}-{gthread[0]:g}", cells, [32], trials=trials)
    return verdicts(aggregate(load_run(run)), Objective())[0].certainty


def test_how_sure_a_verdict_is_in_each_case_in_words(tmp_path: Path) -> None:
    assert _certainty_of(tmp_path, [5000.0], [2000.0]) == (
        "single trial, no estimate of variance: the margin may be noise"
    )
    assert _certainty_of(tmp_path, [5000.0, 5010.0, 4990.0], [2000.0]) == (
        f"{SYNC} has a single trial, so no estimate of the margin's variance: it may be noise"
    )
    clear = _certainty_of(tmp_path, [5000.0, 5010.0, 4990.0], [2000.0, 2010.0, 1990.0])
    assert clear.startswith("clear: +") and clear.endswith(" (95% interval, 3 and 3 trials)")
    close = _certainty_of(tmp_path, [5100.0, 4900.0, 5000.0], [5050.0, 4950.0, 4980.0])
    assert close.startswith("too close to call: ")
    assert close.endswith(" (95% interval, 3 and 3 trials) includes no difference")
    alone = write_run(tmp_path / "alone", {(SYNC, "json", 32, 1): cell(2000.0)}, [32])
    assert (
        verdicts(aggregate(load_run(alone)), Objective())[0].certainty
        == "the only mode that met the objective"
    )
