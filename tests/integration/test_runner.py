"""The runner end to end: a tiny matrix through real Docker and real Locust."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from servingmatrix.engine.docker import PROJECT_LABEL, Docker
from servingmatrix.matrix import Matrix
from servingmatrix.report.export import export_csv
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

pytestmark = pytest.mark.docker

TINY = Matrix(
    name="tiny",
    modes=("gunicorn-sync[workers=2]", "gunicorn-gthread[workers=1,threads=4]"),
    workloads=("io[ms=20]",),
    users=(1, 4),
    duration_s=2.0,
    warmup_s=1.0,
)


@pytest.fixture(scope="module")
def tiny_run(docker: Docker, images: None, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    folder = RunFolder(tmp_path_factory.mktemp("run") / "tiny")
    Runner(docker, TINY.check("test"), folder, lambda line: None).run()
    return folder


def test_every_cell_is_exported_with_figures(tiny_run: RunFolder) -> None:
    rows = list(csv.DictReader(io.StringIO(export_csv(tiny_run))))
    assert [(r["mode"], r["users"]) for r in rows] == [
        ("gunicorn-gthread[workers=1,threads=4]", "1"),
        ("gunicorn-gthread[workers=1,threads=4]", "4"),
        ("gunicorn-sync[workers=2]", "1"),
        ("gunicorn-sync[workers=2]", "4"),
    ]
    for row in rows:
        assert row["status"] == "ok", row
        assert row["workload"] == "io[ms=20]"
        assert int(row["requests"]) > 0 and row["failures"] == "0"
        assert float(row["p50_ms"]) >= 20.0  # every request sleeps 20 ms in the server
        assert float(row["p50_ms"]) <= float(row["p99_ms"]) <= float(row["max_ms"])
        assert float(row["server_cpu_pct"]) > 0 and float(row["loadgen_cpu_pct"]) > 0
        assert row["loadgen_saturated"] in {"true", "false"}
    # io[ms=20] on 2 sync workers with 4 users: at most 2 requests in the server at once.
    sync4 = next(r for r in rows if r["mode"] == "gunicorn-sync[workers=2]" and r["users"] == "4")
    assert float(sync4["effective_concurrency"]) <= 2.2
    gthread4 = next(r for r in rows if r["mode"].startswith("gunicorn-gthread") and r["users"] == "4")
    assert float(gthread4["effective_concurrency"]) > 2.5


def test_the_applied_cpu_plan_is_read_back_and_recorded(tiny_run: RunFolder) -> None:
    run = tiny_run.read_run().as_json()
    plan = run["cpu_plan"]
    for cell in [r.as_json() for r in tiny_run.read_cells()]:
        applied = cell["cpu_plan_applied"]
        assert applied["server"]["cpuset"] == plan["server"]["cpuset"]
        assert applied["server"]["cpus"] == plan["server"]["cpus"]
        assert applied["loadgen"]["cpuset"] == plan["loadgen"]["cpuset"]
        assert set(applied) == {"server", "upstream", "postgres", "loadgen"}
    assert run["metadata"]["images"]["gunicorn-sync"]["lock_sha256"]
    assert run["metadata"]["docker_version"]
    assert run["finished_at"] >= run["started_at"]


def test_no_container_is_left_behind(docker: Docker, tiny_run: RunFolder) -> None:
    run_containers = [
        name
        for name in (listed.name for listed in docker.container_listing({PROJECT_LABEL: None}))
        if "-r" in name and "-test-" not in name
    ]
    assert run_containers == []


def test_rerun_resumes_and_measures_nothing_again(docker: Docker, tiny_run: RunFolder) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in Path(tiny_run.cells_dir).iterdir()}
    lines: list[str] = []
    Runner(docker, TINY.check("test"), tiny_run, lines.append).run()
    after = {p.name: p.stat().st_mtime_ns for p in Path(tiny_run.cells_dir).iterdir()}
    assert before == after
    assert any("resuming: 2 of 2 sessions already measured" in line for line in lines)


def test_each_cell_records_how_the_connections_landed_on_the_server_processes(tiny_run: RunFolder) -> None:
    cells = {(c.mode, c.users): c for c in tiny_run.read_cells()}
    assert len(cells) == 4
    for users in (1, 4):
        # gthread keeps every connection alive: its one worker holds all of them, its master none,
        # through Locust's window and through the reference's run alike.
        kept = cells[("gunicorn-gthread[workers=1,threads=4]", users)].connections
        assert kept == {"locust": (users, 0), "reference": (users, 0)}, kept
        # sync closes each connection after its answer: a master and two workers, never more
        # connections than users.
        closed = cells[("gunicorn-sync[workers=2]", users)].connections
        for spread in closed.values():
            assert spread is not None and len(spread) == 3 and sum(spread) <= users, closed
