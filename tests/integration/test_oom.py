"""A server OOM-killed under its memory limit in the middle of a session, for real.

waitress copies every response into its connection's output buffer (in memory up to 1 MiB, then a
temporary file on the container's /tmp, a tmpfs, so memory again) and keeps it until the client has
read it all. One user reading 4 MiB responses costs a few MiB; 64 users hold up to 256 MiB of
buffers, far over a 64 MiB limit, and the kernel's OOM killer ends the server (the container's only
process), which Docker records as OOMKilled. Before that, the kernel keeps it under the limit by
dropping its code and file pages, which fault straight back in from disk: it thrashes, thousands of
major faults a second. Werkzeug's threaded server writes each response straight to its socket, so the
same limit and load leave it standing and not thrashing (it reaches the limit too, with page cache the
kernel drops for free): the matrix goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

pytestmark = pytest.mark.docker


def test_server_oom_killed_mid_session_is_recorded_and_the_matrix_goes_on(
    docker: Docker, images: None, tmp_path: Path
) -> None:
    matrix = Matrix(
        name="oom",
        modes=("waitress[threads=4]", "werkzeug-threaded"),
        workloads=("bytes[kb=4096]",),
        users=(1, 64),
        duration_s=3.0,
        warmup_s=1.0,
        server_memory="64m",
        reference="none",
    ).check("test")
    folder = RunFolder(tmp_path / "run")
    Runner(docker, matrix, folder, lambda line: None, calibrate=False).run()
    cells = {(r.mode, r.users): r.as_json() for r in folder.read_cells()}

    # Ready, conformant and measured at one user: the limit is enough for the server itself.
    first = cells[("waitress[threads=4]", 1)]
    assert first["status"] == "ok", first.get("reason")
    assert first["cpu_plan_applied"]["server"]["memory_bytes"] == 64 * 2**20
    # At one user it is near its limit already (about 60 of 64 MiB here): the kernel drops a few of its
    # pages, which fault back in at up to a few hundred a second, not thrashing.
    assert "memory-bound" not in codes(first), first["warnings"]
    assert first["server"]["major_faults"] <= 1000 * first["window"]["seconds"]
    killed = cells[("waitress[threads=4]", 64)]
    # Thrashing at its limit, the server is killed in the window, or answers nothing in it (and is
    # killed after it or not at all while the session lasts), or answers a few requests: the cell
    # fails, or its figure carries the memory-bound flag. It is never a clean figure.
    if killed["status"] == "ok":
        assert "memory-bound" in codes(killed), killed["warnings"]
        assert killed["server"]["major_faults"] > 100 * killed["window"]["seconds"]
        assert killed["server"]["exit"] is None
    elif killed["reason"].startswith("no request completed in the measured window"):
        assert killed["server"]["mem_mb"] >= 0.9 * 64
        assert killed["reason"] in (
            "no request completed in the measured window",
            "no request completed in the measured window; the server stopped after it (OOM-killed)",
        )
    else:
        assert killed["reason"] == "the server stopped during the run (OOM-killed)"
        fate = killed["server"]["exit"]
        assert fate["oom_killed"] is True
        assert fate["exit_code"] == 137  # SIGKILL, from the kernel's OOM killer
        assert fate["finished_at"] < killed["window"]["end"]
    # The next mode, under the same limit and load, was measured as usual.
    for users in (1, 64):
        cell = cells[("werkzeug-threaded", users)]
        assert cell["status"] == "ok", cell.get("reason")
        assert cell["failures"] == 0
        assert cell["server"]["exit"] is None
        assert "memory-bound" not in codes(cell), cell["warnings"]


def codes(cell: dict[str, Any]) -> list[str]:
    return [w["code"] for w in cell["warnings"]]
