"""The one list of matrix keys: the Matrix, the file, the ``run`` options and run.json agree with it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from servingmatrix.building.readme.docs import matrix_table
from servingmatrix.cli import build_parser
from servingmatrix.matrix import Matrix, Overrides, apply_overrides, load_matrix
from servingmatrix.matrix_keys import MATRIX_KEYS, METHOD_KEYS, OPTION_KEYS, MatrixKey
from servingmatrix.paths import project_root

#: run.json's "matrix" as every schema so far wrote it: old runs are read by these names.
RECORDED = {
    "name",
    # Schema 3: the reference generator (a run without them resumes with their defaults).
    "reference",
    "reference_duration_s",
    # No bump: a run without it measured the reference in every trial.
    "reference_trials",
    "description",
    "modes",
    "workloads",
    "users",
    "duration_s",
    "warmup_s",
    "trials",
    # --trials auto's (a run without them resumes with their defaults).
    "precision",
    "max_trials",
    "server_cpus",
    "arrival_rates",
    # Schema 6: how an open loop's arrivals were spaced (a run without them spaced them evenly).
    "arrivals",
    "arrival_seed",
    "server_memory",
    "loadgen_processes",
    "request_timeout_s",
    # A user's app (a run without it measured the bundled app).
    "app",
    # A multi-host run's inventory (a run without it ran on one machine).
    "hosts",
}


def test_every_key_is_a_field_of_the_matrix_with_the_key_s_default() -> None:
    assert sorted(f.name for f in fields(Matrix) if f.name != "name") == sorted(k.field for k in MATRIX_KEYS)
    defaults = {f.name: f.default for f in fields(Matrix)}
    for key in MATRIX_KEYS:
        if not key.required:
            assert defaults[key.field] == key.default, key.yaml


def test_the_record_keeps_the_names_old_runs_are_read_by() -> None:
    matrix = Matrix(name="m", modes=("waitress",), workloads=("json",), arrival_rates=(5, 10))
    record = matrix.as_dict()
    assert set(record) == RECORDED
    assert record["users"] == [1, 16, 64] and record["arrival_rates"] == [5, 10]
    assert record["duration_s"] == 20.0 and record["loadgen_processes"] is None


def test_compare_checks_the_same_method_keys() -> None:
    assert METHOD_KEYS == ("duration_s", "warmup_s", "server_cpus", "arrival_rates", "arrivals")


@pytest.mark.parametrize(
    "key", [k for k in MATRIX_KEYS if not k.required and k.shown is None], ids=lambda k: k.yaml
)
def test_a_shown_default_reads_back_as_the_default(key: MatrixKey[Any]) -> None:
    assert key.parse("x", yaml.safe_load(key.default_shown)) == key.default


RUN_OPTIONS = [
    ("--modes", "MODES", "comma-separated mode specs, e.g. gunicorn-gthread[workers=2,threads=4]"),
    ("--workloads", "WORKLOADS", "comma-separated workload specs, e.g. io[ms=100]"),
    ("--users", "USERS", "comma-separated increasing user counts, e.g. 1,16,64"),
    ("--duration", "DURATION", "measured time per step, e.g. 20s"),
    ("--warmup", "WARMUP", "discarded warm-up per step, e.g. 5s"),
    (
        "--trials",
        "TRIALS",
        "repeats of every cell, or auto: at least 3, more until --precision (up to --max-trials)",
    ),
    (
        "--precision",
        "PRECISION",
        "with --trials auto, the half-width of the median's 95% interval asked, e.g. 5%",
    ),
    ("--max-trials", "MAX_TRIALS", "with --trials auto, the most trials of a cell"),
    ("--server-cpus", "SERVER_CPUS", "cores given to the server under test"),
    ("--server-memory", "SERVER_MEMORY", "the server container's memory limit, e.g. 512m (default: 2g)"),
    (
        "--loadgen-processes",
        "LOADGEN_PROCESSES",
        "Locust processes sending the load (its --processes) (default: one per core of the generator)",
    ),
    (
        "--arrival-rate",
        "RATES",
        "open loop: requests per second offered at each step, e.g. 200,400,800 (replaces --users)",
    ),
    (
        "--arrivals",
        "uniform|poisson",
        "open loop: how arrivals are spaced, uniform (evenly, the default) or poisson (exponential gaps "
        "from --arrival-seed)",
    ),
    (
        "--arrival-seed",
        "SEED",
        "poisson arrivals: the seed their gaps are drawn from (default: 0); the same seed replays the "
        "same arrivals",
    ),
    ("--request-timeout", "REQUEST_TIMEOUT", "a request not answered by then fails, e.g. 30s (default)"),
    (
        "--reference",
        "GENERATOR",
        "the native generator measured after each closed-loop step against the same server: wrk "
        "(default) or none",
    ),
    (
        "--reference-duration",
        "REFERENCE_DURATION",
        "the reference generator's shortest measured window, e.g. 5s (default); longer when the step's "
        "answers are slow",
    ),
    (
        "--reference-trials",
        "every|first",
        "which trials of a cell the reference generator measures: every (default) or first",
    ),
    (
        "--app",
        "DIR",
        "measure your own WSGI app: the folder holding it and its app.yml (its workloads: app:NAME, "
        "app:mixed)",
    ),
    (
        "--hosts",
        "FILE",
        "run across the Docker engines of a host inventory (YAML: each host's engine, address, cores and "
        "roles)",
    ),
]


def test_the_run_options_are_as_they_were(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # no help line wraps
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    places = [text.find(f" {flag} {metavar} {help} ") for flag, metavar, help in RUN_OPTIONS]
    assert -1 not in places and places == sorted(places)
    assert [flag for flag, _, _ in RUN_OPTIONS] == [key.flag for key in OPTION_KEYS]


def test_every_option_replaces_its_key(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text("modes: [gunicorn-sync]\nworkloads: [json]\n")
    app = str(project_root() / "examples" / "notes-api")
    argv = ["run", "--modes", "waitress", "--workloads", "app:get", "--arrival-rate", "10,20"]
    argv += ["--duration", "3s", "--warmup", "1s", "--trials", "2", "--server-cpus", "2"]
    argv += ["--precision", "2.5%", "--max-trials", "9"]
    argv += ["--server-memory", "512m", "--loadgen-processes", "3", "--request-timeout", "4s"]
    argv += ["--reference", "none", "--reference-duration", "7s", "--reference-trials", "first", "--app", app]
    argv += ["--hosts", str(tmp_path / "hosts.yml"), "--arrivals", "poisson", "--arrival-seed", "42"]
    matrix = apply_overrides(load_matrix(path), Overrides.from_options(build_parser().parse_args(argv)))
    assert (matrix.reference, matrix.reference_duration_s, matrix.app) == ("none", 7.0, app)
    assert matrix.reference_trials == "first"
    assert matrix.hosts == str(tmp_path / "hosts.yml")
    assert (matrix.arrivals, matrix.arrival_seed) == ("poisson", 42)
    assert (matrix.modes, matrix.workloads, matrix.arrival_rates) == (("waitress",), ("app:get",), (10, 20))
    assert (matrix.duration_s, matrix.warmup_s, matrix.trials, matrix.server_cpus) == (3.0, 1.0, 2, 2)
    assert (matrix.server_memory, matrix.loadgen_processes, matrix.request_timeout_s) == ("512m", 3, 4.0)
    assert (matrix.precision, matrix.max_trials) == (0.025, 9)
    assert len(argv[1::2]) == len(OPTION_KEYS) - 1  # every option but --users, which excludes the rates


def test_the_readme_example_loads(tmp_path: Path) -> None:
    readme = (project_root() / "README.md").read_text()
    example = re.search(r"```yaml\n(description: .*?)```", readme, re.S)
    assert example is not None
    path = tmp_path / "example.yml"
    path.write_text(example.group(1))
    assert load_matrix(path).users == (1, 16, 64)


def test_the_readme_table_has_a_row_per_key() -> None:
    rows = [line for line in matrix_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [key.yaml for key in MATRIX_KEYS]


def test_a_run_recorded_before_a_key_existed_is_the_same_matrix() -> None:
    matrix = Matrix(name="m", modes=("waitress",), workloads=("json",))
    recorded = matrix.as_dict()
    for key in ("reference", "reference_duration_s", "arrivals", "arrival_seed"):
        del recorded[key]
    assert matrix.differences(recorded) == []
    assert matrix.differences({**recorded, "trials": 3}) == ["trials 3 there, 1 here"]
