"""The verbs that need no engine never import the Docker SDK (with paramiko, about 160 ms of every
start), nor YAML or ``urllib.request`` they have no use for, and the exports not the page's templates
(Jinja): each runs in a fresh interpreter, which then says which of those it loaded. ``clean``, which
needs the engine, shows the check can see them. ``make bench-startup`` times the same verbs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .synthetic_runs import closed_cells, write_run

#: Runs the command line in this interpreter, then names the modules of the SDK it loaded.
PROBE = """
import sys
from servingmatrix.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:  # --version ends in argparse
    status = exc.code
watched = ("docker", "paramiko", "yaml", "urllib.request", "jinja2")
loaded = sorted(name for name in watched if name in sys.modules)
print(f"status={status} loaded={','.join(loaded)}", file=sys.stderr)
"""
UNREACHABLE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("startup") / "run", closed_cells(), [1, 8, 64], trials=3)


def probe(*args: str) -> str:
    """The probe's last line: the verb's exit status and the SDK's modules it loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **UNREACHABLE},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


#: Each verb, its arguments, and of the modules watched the ones it needs: only an HTML page needs Jinja.
VERBS: list[tuple[str, list[str], str]] = [
    ("version", ["--version"], ""),
    ("modes", ["modes"], ""),
    ("export-csv", ["export", "{run}"], ""),
    ("export-json", ["export", "{run}", "--format", "json", "-o", "{tmp}/cells.json"], ""),
    (
        "export-md",
        ["export", "{run}", "--format", "md", "-o", "{tmp}/md/report.md", "--slo-p99", "300ms"],
        "",
    ),
    ("report", ["report", "{run}", "-o", "{tmp}/report.html"], "jinja2"),
    ("compare", ["compare", "{run}", "{run}", "-o", "{tmp}/compare.html", "--threshold", "10%"], "jinja2"),
]


@pytest.mark.parametrize(("args", "needs"), [v[1:] for v in VERBS], ids=[v[0] for v in VERBS])
def test_a_verb_without_the_engine_does_not_import_the_docker_sdk(
    run: Path, tmp_path: Path, args: list[str], needs: str
) -> None:
    given = [arg.format(run=run, tmp=tmp_path) for arg in args]
    assert probe(*given) == f"status=0 loaded={needs}"


def test_a_verb_that_needs_the_engine_is_seen_importing_it() -> None:
    status, loaded = probe("clean").split(" ")
    assert status == "status=3"
    assert {"docker", "paramiko"} <= set(loaded.removeprefix("loaded=").split(","))
