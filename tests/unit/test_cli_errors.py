"""The command line's errors: one line naming what was wrong, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["run", "--profile", "quick"], UNREACHABLE, "the Docker engine is not reachable"),
        (["build"], UNREACHABLE, "the Docker engine is not reachable"),
        (["clean"], UNREACHABLE, "the Docker engine is not reachable"),
        (["run", "--profile", "nope"], None, "unknown profile 'nope'"),
        (["run", "--modes", "gunicorn-sync[threads=4]"], None, "unknown tunable 'threads'"),
        (["run", "--users", "0"], None, "out of range"),
        (["run", "--duration", "20"], None, "with a unit"),
        (["run", "--workloads", "io[ms=-1]"], None, "out of range"),
        (["run", "--profile", "quick", "--matrix", "x.yml"], None, "not both"),
        (["export", "/nonexistent/run"], None, "not a run folder"),
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


def test_corrupt_cell_file_is_named(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "cells").mkdir(parents=True)
    (run / "run.json").write_text('{"schema": 1, "matrix": {"users": [1]}}')
    broken = run / "cells" / "x.json"
    broken.write_text('{"schema": 1, "mode": "gunic')
    proc = cli("export", str(run))
    assert proc.returncode == 2
    assert str(broken) in proc.stderr and "corrupt or truncated" in proc.stderr
