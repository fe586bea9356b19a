"""A tiny real run, bundled and reproduced on this machine: the images built from the bundle's inputs
(taken with git at the run's commit), the same matrix measured again, and the cell reproduced: judged
on the trials' intervals, on the reference's figure where Locust set the pace (G), with other work in
a window measured again rather than let into a figure."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from servingmatrix.analysis.reproduction import REPRODUCED, judge_reproduction
from servingmatrix.cli import main
from servingmatrix.engine.docker import Docker
from servingmatrix.results.folder import RunFolder

pytestmark = pytest.mark.docker

#: One mode, json, one step of users, three short trials with their reference: a minute or two of
#: measuring a run.
RUN = (
    "--modes",
    "gunicorn-gthread[workers=1,threads=4]",
    "--workloads",
    "json",
    "--users",
    "4",
    "--duration",
    "3s",
    "--warmup",
    "1s",
    "--trials",
    "3",
    "--no-calibration",
    # The suite's machine is never quiet between two runs, and this is not a test of that wait.
    "--quiet-wait",
    "0s",
)


def test_a_bundled_run_is_reproduced_on_the_machine_that_made_it(docker: Docker, tmp_path: Path) -> None:
    published, bundle, again = tmp_path / "published", tmp_path / "run.tar.gz", tmp_path / "again"
    assert main(["run", *RUN, "--out", str(published)]) == 0
    metadata = RunFolder(published).read_run().as_json()["metadata"]
    # A checkout with uncommitted changes cannot give the run's inputs from git: say so, as the bundle will.
    from_worktree = ["--inputs-from-worktree"] if metadata.get("git_dirty") is not False else []
    assert main(["bundle", str(published), "-o", str(bundle), *from_worktree]) == 0
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        info = json.loads(tar.extractfile("bundle.json").read())  # type: ignore[union-attr]
    assert info["commit"] == metadata.get("git_commit")
    assert info["inputs"]["source"] == ("worktree" if from_worktree else "commit")
    assert (
        "inputs/images/gunicorn-gthread/requirements.lock" in names and "inputs/app/benchapp/wsgi.py" in names
    )

    assert main(["reproduce", str(bundle), "--quiet-wait", "0s", "--out", str(again)]) == 0
    assert RunFolder(again).read_run().as_json()["reproduces"]["run_id"] == "published"
    assert (again / "reproduce.html").exists()

    judged = judge_reproduction(published, again)
    assert judged.differences == ()
    (cell,) = judged.cells
    assert cell.status == REPRODUCED, cell.why
