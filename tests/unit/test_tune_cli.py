"""``servingmatrix tune``'s bad input: one line naming what was wrong, exit status 2, before any engine
is reached (the engine here is unreachable, so reaching it would be exit 3); and a probe's cell read
as the search reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.cli import main
from servingmatrix.flags import Flag
from servingmatrix.modes import resolve_mode
from servingmatrix.results.cell import CellRecord, Latency, Loadgen, Server
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.runner_prober import probe_folder, probe_matrix, probe_result


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--modes", "gunicorn-sync[threads=2]"], "unknown tunable 'threads'"),
        (["--modes", "apache"], "unknown mode 'apache'"),
        (["--modes", "waitress,waitress[threads=2]"], "names waitress twice"),
        (["--workload", "nope"], "unknown workload 'nope'"),
        (["--budget", "5"], "not a wall time"),
        (["--budget", "30h"], "out of range"),
        (["--slo-p99", "5"], "not a duration"),
        (["--max-error-rate", "150%"], "out of range"),
        (["--server-memory", "lots"], "not a memory size"),
        (["--server-cpus", "0"], "not a positive integer"),
        (["--precision", "0%"], "cannot be reached"),
        (["--seed", "-1"], "not a seed"),
        (["--app", "/nonexistent/app"], "/nonexistent/app"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    try:
        status = main(["tune", "--out", str(tmp_path / "t"), *argv])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert says in err and err.count("\n") == 1


def test_an_out_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    assert main(["tune", "--out", str(tmp_path / "f")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_run_folder_is_not_a_tune_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    assert main(["tune", "--modes", "waitress", "--out", str(tmp_path / "run")]) == 2
    assert "holds a run, not a tune" in capsys.readouterr().err


def test_a_folder_whose_study_is_not_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "tune.db").write_text("not a database")
    assert main(["tune", "--modes", "waitress", "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "tune.db is not a tune's study (file is not a database)" in err and err.count("\n") == 1


def test_a_probe_is_a_one_rate_open_loop_poisson_matrix() -> None:
    config = resolve_mode("waitress[threads=8]", 1)
    request = TuneRequest(modes=("waitress",), workload="io[ms=50]", probe_s=4.0, probe_warmup_s=1.0)
    matrix = probe_matrix(request, config, 120, 2)
    assert (matrix.modes, matrix.arrival_rates, matrix.arrivals, matrix.trials) == (
        ("waitress[threads=8]",),
        (120,),
        "poisson",
        1,
    )
    assert matrix.arrival_seed != probe_matrix(request, config, 120, 1).arrival_seed
    assert (matrix.duration_s, matrix.warmup_s, matrix.reference) == (4.0, 1.0, "none")
    assert probe_folder(Path("t"), config.spec, 120, 2) == Path("t/probes/waitress-threads-8-r120-t2")


def test_a_probe_reads_its_cell() -> None:
    cell = CellRecord(
        "waitress[threads=8]",
        "mixed",
        120,
        1,
        "ok",
        error_rate=0.002,
        throughput_rps=119.0,
        latency_ms=Latency(p99=87.0),
        loadgen=Loadgen(generator_bound=True),
        server=Server(mem_mb=61.0),
        warnings=(Flag("generator-bound", "the generator used 95% of its quota"),),
    )
    probe = probe_result(cell, 120, 1)
    assert (probe.p99_ms, probe.error_rate, probe.generator_bound, probe.server_mem_mb) == (
        87.0,
        0.002,
        True,
        61.0,
    )
    assert probe.reason == "the generator used 95% of its quota"
