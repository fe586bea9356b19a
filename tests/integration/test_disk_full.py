"""The disk fills up in the middle of a run, for real: a tiny tmpfs holds the run's cells.

The run's ``cells/`` folder is a 64 KiB tmpfs. Once the first cell is on it, the test fills what is
left, so the next cell cannot be written. The command must stop with exit status 2 and one line on
stderr naming the file (no traceback), tear its containers down, leave no temporary file, and keep
the cell written before the disk filled whole.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import matrix_from_record
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.session import plan_sessions
from servingmatrix.run.stack.stack import OWNER_LABEL

pytestmark = pytest.mark.docker


def cannot_run(why: str) -> None:
    """Skipped, saying why (under CI a skip fails: tests/conftest.py)."""
    pytest.skip(f"the full-disk test did not run: {why}")


@pytest.fixture
def tiny_cells(tmp_path: Path) -> Iterator[Path]:
    """A run folder whose cells/ is a 64 KiB tmpfs (needs root to mount)."""
    if os.geteuid() != 0:
        cannot_run("mounting a tmpfs needs root")
    out = tmp_path / "run"
    cells = out / "cells"
    cells.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "servingmatrix-test", str(cells)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        cannot_run(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield out
    finally:
        if subprocess.run(["umount", str(cells)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(cells)], capture_output=True, check=False)


def fill_after_first_cell(cells: Path, done: threading.Event, filled: list[int]) -> None:
    """Once a cell is on the tmpfs, write a filler file until the file system refuses."""
    deadline = time.monotonic() + 180
    while not list(cells.glob("*.json")):
        if done.is_set() or time.monotonic() > deadline:
            return
        time.sleep(0.05)
    size = 0
    with (cells / "filler.bin").open("wb", buffering=0) as filler:
        try:
            while True:
                size += filler.write(b"\0" * 4096)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                return
    filled.append(size)


def test_disk_full_mid_run_is_one_line_and_keeps_what_was_written(
    docker: Docker, images: None, tiny_cells: Path
) -> None:
    cells = tiny_cells / "cells"
    done = threading.Event()
    filled: list[int] = []
    filler = threading.Thread(target=fill_after_first_cell, args=(cells, done, filled), daemon=True)
    filler.start()
    command = [
        sys.executable,
        "-m",
        "servingmatrix",
        "run",
        "--modes",
        "gunicorn-sync[workers=1],waitress",
        "--workloads",
        "json",
        "--users",
        "1",
        "--duration",
        "2s",
        "--warmup",
        "1s",
        "--no-calibration",
        "--reference",
        "none",
        "--quiet-wait",
        "0s",
        "--out",
        str(tiny_cells),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        done.set()
        filler.join(5)
    assert filled, f"the disk was never filled; stdout:\n{stdout}\nstderr:\n{stderr}"

    assert proc.returncode == 2, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("servingmatrix: error: ")
    assert f"{cells}/" in lines[0]
    assert "No space left on device" in lines[0]
    assert "Traceback" not in stdout + stderr
    # Nothing half-written: no temporary file, and the cell written before the disk filled is whole.
    assert [p.name for p in cells.iterdir() if p.name.startswith(".")] == []
    written = list(cells.glob("*.json"))
    assert len(written) == 1
    cell = json.loads(written[0].read_text())
    # The run's first session in the order it recorded (modes are shuffled from a seed each round).
    record = RunFolder(tiny_cells).read_run()
    first = plan_sessions(matrix_from_record("run.json", record.matrix), record.trial_order_seed)[0]
    assert cell["mode"] == first.mode.spec and cell["status"] == "ok", cell.get("reason")
    # The run's containers went with it.
    assert docker.list_containers({OWNER_LABEL: str(proc.pid)}) == []
