"""The command line's errors: one line naming what was wrong, exit status 2 for bad input and 3 for an
engine that cannot be reached, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servingmatrix", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


UNREACHABLE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
#: A run folder no earlier run left: the checks before Docker pass, so the engine is reached for.
FRESH_RUN = str(Path(tempfile.mkdtemp(prefix="servingmatrix-cli-")) / "run")


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["run", "--profile", "nope"], None, "unknown profile 'nope'"),
        (["run", "--modes", "gunicorn-sync[threads=4]"], None, "unknown tunable 'threads'"),
        (["run", "--users", "0"], None, "out of range"),
        (["run", "--duration", "20"], None, "with a unit"),
        (["run", "--workloads", "io[ms=-1]"], None, "out of range"),
        (["run", "--profile", "quick", "--matrix", "x.yml"], None, "not both"),
        (["export", "/nonexistent/run"], None, "not a run folder"),
        (["hosts", "up", "9", "--out", "hosts.yml"], None, "9 is out of range (allowed: 1..8)"),
        (["hosts", "up", "two", "--out", "hosts.yml"], None, "'two' is not an integer"),
        (["hosts", "up", "2"], None, "required: --out"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], env: dict[str, str] | None, fragment: str) -> None:
    proc = cli(*args, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("servingmatrix: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


#: One mode, one workload, one step, one trial: a valid matrix, so only the engine can refuse it.
SMALL_MATRIX = ["--modes", "waitress", "--workloads", "json", "--users", "1"]
SMALL_MATRIX += ["--duration", "5s", "--trials", "1"]


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--profile", "quick", "--out", FRESH_RUN],
        ["run", *SMALL_MATRIX, "--out", FRESH_RUN],
        ["build"],
        ["clean"],
    ],
)
def test_an_unreachable_engine_is_one_line_and_exit_3(args: list[str]) -> None:
    """A dead engine is not a typo: a script tells them apart by the exit status."""
    proc = cli(*args, env=UNREACHABLE)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("servingmatrix: error: docker engine 'local' ")
    assert "(unix:///nonexistent/docker.sock): not reachable" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", *SMALL_MATRIX, "--modes", "gunicorn-sync[threads=4]"], "unknown tunable 'threads'"),
        (["clean", "--hosts"], "expected one argument"),
        (["claen"], "invalid choice: 'claen'"),
    ],
)
def test_a_typo_is_exit_2_even_when_the_engine_is_unreachable(args: list[str], fragment: str) -> None:
    """Input is checked before the engine is asked: a typo says so, whatever state the engine is in."""
    proc = cli(*args, env=UNREACHABLE)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("servingmatrix: error: ") and fragment in lines[0]


def test_corrupt_cell_file_is_named(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "cells").mkdir(parents=True)
    (run / "run.json").write_text('{"schema": 1, "matrix": {"users": [1]}}')
    broken = run / "cells" / "x.json"
    broken.write_text('{"schema": 1, "mode": "gunic')
    proc = cli("export", str(run))
    assert proc.returncode == 2
    assert str(broken) in proc.stderr and "corrupt or truncated" in proc.stderr


MATRIX_FILES: list[tuple[bytes, str]] = [
    (b"modes: [waitress]\nworkloads: [json]\ntrials: 1\ntrials: 2\n", "key 'trials' is given twice"),
    (b"modes: &m [waitress]\nworkloads: [json]\n", "key 'modes', line 1: YAML anchors and aliases (&m)"),
    (
        b"modes: [waitress]\nworkloads: [json]\nusers: *u\n",
        "key 'users', line 3: YAML anchors and aliases (*u)",
    ),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file; a matrix file is YAML written in UTF-8"),
    (b"modes: [waitress]\nworkloads: [json]\ndescription: \xe9t\xe9\n", "not a text file"),
    (
        b"modes: [waitress]\nworkloads: [json]\nusers: [1]\narrival_rates: [10]\n",
        "users and arrival_rates are both given; give one of them",
    ),
]


@pytest.mark.parametrize(("content", "fragment"), MATRIX_FILES)
def test_a_refused_matrix_file_is_one_line_naming_it(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes(content)
    proc = cli("run", "--matrix", str(path), env=UNREACHABLE)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"servingmatrix: error: {path}: "), proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr


def test_users_and_rates_as_options_are_refused() -> None:
    proc = cli("run", "--users", "1,4", "--arrival-rate", "10", env=UNREACHABLE)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "servingmatrix: error: give --users or --arrival-rate, not both (--arrival-rate replaces --users)"
    )


INVENTORY = (
    "hosts:\n"
    "  - {name: main, docker: 'unix:///var/run/docker.sock', address: 10.0.0.1, cores: 2,\n"
    "     roles: [server, backing]}\n"
    "  - {name: lg, docker: 'ssh://bench@10.0.0.2', address: 10.0.0.2, cores: 2, roles: [loadgen]}\n"
)


def refused_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command printed (it must be refused, before anything started)."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("servingmatrix: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    return lines[0].removeprefix("servingmatrix: error: ")


def test_a_missing_host_inventory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "hosts.yml"
    line = refused_line(cli("run", "--hosts", str(missing), "--out", FRESH_RUN, env=UNREACHABLE))
    assert line == f"{missing}: cannot read the host inventory: no such file"


def test_an_invalid_host_inventory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(INVENTORY.replace("cores: 2, roles: [loadgen]", "core: 2, roles: [loadgen]"))
    line = refused_line(cli("run", "--hosts", str(path), "--out", FRESH_RUN, env=UNREACHABLE))
    assert line.startswith(f"{path}: host 'lg': unknown key 'core' (did you mean 'cores'?")


def test_a_matrix_s_host_inventory_is_read_beside_it(tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    path = tmp_path / "lab" / "hosts.yml"
    path.write_text(INVENTORY.replace("roles: [loadgen]", "roles: [loadgen, database]"))
    matrix = tmp_path / "lab" / "m.yml"
    matrix.write_text("modes: [waitress]\nworkloads: [json]\nhosts: hosts.yml\n")
    line = refused_line(cli("run", "--matrix", str(matrix), "--out", FRESH_RUN, env=UNREACHABLE))
    assert line == f"{path}: host 'lg': unknown role 'database' (allowed: server, backing, loadgen)"


def test_a_plan_the_hosts_cannot_give_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(INVENTORY)
    line = refused_line(
        cli("run", "--hosts", str(path), "--server-cpus", "2", "--out", FRESH_RUN, env=UNREACHABLE)
    )
    assert line.startswith(f"{path}: host 'main': --server-cpus 2 leaves no core for the backing services")
