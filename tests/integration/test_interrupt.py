"""Ctrl-C or SIGTERM mid-run: everything the run started is gone within 10 s, finished cells stay,
the exit status says it was interrupted, and rerunning resumes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.run.stack.stack import OWNER_LABEL

pytestmark = pytest.mark.docker


def start_run(out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "servingmatrix",
            "run",
            "--modes",
            "gunicorn-sync[workers=1],waitress",
            "--workloads",
            "json",
            "--users",
            "1,2",
            "--duration",
            "3s",
            "--warmup",
            "1s",
            # Neither the reference generator nor the wait for quiet cores is what this tests: a run of
            # the suite would wait for the load average the tests before it left.
            "--reference",
            "none",
            "--quiet-wait",
            "0s",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As a run started in the foreground of a terminal: a shell starts background jobs (and CI
        # runners may start their steps) with SIGINT ignored, which Python and so the run inherit.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def owned_by(docker: Docker, pid: int) -> list[str]:
    return docker.list_containers({OWNER_LABEL: str(pid)})


def wait_for_second_session(docker: Docker, proc: subprocess.Popen[str], out: Path) -> None:
    """Wait until the first session's cells are on disk and the second session has containers up."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        cells = list((out / "cells").glob("*.json")) if (out / "cells").exists() else []
        if len(cells) >= 2 and owned_by(docker, proc.pid):
            return
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.2)
    pytest.fail("the run never reached its second session")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_tears_down_keeps_cells_and_resumes(
    docker: Docker, images: None, tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "run"
    proc = start_run(out)
    try:
        wait_for_second_session(docker, proc, out)
        sent = time.monotonic()
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output
    assert "interrupted" in output
    assert took < 10, f"teardown took {took:.1f} s"
    assert owned_by(docker, proc.pid) == []
    kept = sorted(p.name for p in (out / "cells").glob("*.json"))
    assert len(kept) >= 2
    for path in (out / "cells").glob("*.json"):
        json.loads(path.read_text())  # whole files only: written atomically
    # Rerunning the same command resumes: the finished session is not measured again.
    again = start_run(out)
    rerun_output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, rerun_output
    assert "resuming: 1 of 2 sessions already measured" in rerun_output
    assert {p.name for p in (out / "cells").glob("*.json")} >= set(kept)
    assert len(list((out / "cells").glob("*.json"))) == 4


def test_sigkill_leaves_containers_that_the_next_run_removes_before_resuming(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    proc = start_run(out)
    try:
        wait_for_second_session(docker, proc, out)
        proc.kill()  # SIGKILL: no chance to tear anything down
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = owned_by(docker, proc.pid)
    assert left, "a killed run leaves its containers behind"
    again = start_run(out)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output
    # A `docker run` already under way when the runner died may still add a container: count >= 1.
    removed = re.search(r"removed (\d+) containers left by an earlier run", output)
    assert removed is not None and int(removed.group(1)) >= len(left), output
    assert "resuming: 1 of 2 sessions already measured" in output
    assert owned_by(docker, proc.pid) == []
    assert len(list((out / "cells").glob("*.json"))) == 4
