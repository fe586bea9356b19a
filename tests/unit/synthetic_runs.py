"""Small run folders written on the spot, with figures chosen so the report's answers are known:
closed or open loop, any number of trials, any warnings, a calibration or none, one machine or
several hosts (simulated or not)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from servingmatrix.hosts.inventory import Host, Inventory
from servingmatrix.results.cell import SCHEMA_VERSION, CellRecord
from servingmatrix.results.folder import CellKey, RunFolder
from servingmatrix.results.run_record import RunRecord
from servingmatrix.run.plan.hostplan import plan_hosts

SYNC = "gunicorn-sync[workers=3]"
GEVENT = "gunicorn-gevent[workers=1,connections=1000]"
BOUND = "the load generator set the pace (it used 95% of its 100% CPU): the throughput is a lower bound"
SHARED = (
    "cores shared: the load generator and the backing services (upstream, PostgreSQL) share core 1; "
    "workloads that use the backing services measure them competing with the load"
)
CALIBRATION = {
    "max_rps": 4321.5,
    "loadgen_cpu_pct": 97.2,
    "loadgen_cpu_quota_pct": 100.0,
    "server_cpu_pct": 41.0,
    "processes": 1,
    "users": 64,
    "duration_s": 6.0,
    "limited_by": "generator",
    "target": "upstream /delay?ms=0 on the server's cores",
}


#: A cell file's content with the least a successful cell must hold, as the current schema writes it.
GOOD_CELL: dict[str, Any] = {
    "schema": SCHEMA_VERSION,
    "mode": "waitress[threads=4]",
    "workload": "json",
    "users": 1,
    "trial": 1,
    "status": "ok",
    "requests": 100,
    "failures": 0,
    "throughput_rps": 10.0,
    "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0},
    "warnings": [],
}


#: A run.json with every field the runner writes, each as it writes it (``RunRecord.from_json`` checks them).
GOOD_RUN: dict[str, Any] = {
    "schema": SCHEMA_VERSION,
    "matrix": {
        "name": "good",
        "description": "a run written by a unit test",
        "modes": ["waitress"],
        "workloads": ["json"],
        "users": [1],
        "duration_s": 20.0,
        "warmup_s": 5.0,
        "trials": 1,
        "server_cpus": 1,
        "arrival_rates": None,
        "server_memory": "2g",
        "loadgen_processes": None,
        "request_timeout_s": 10.0,
        "reference": "wrk",
        "reference_duration_s": 5.0,
    },
    "cpu_plan": {
        "host_cores": 2,
        "server": {"cpuset": "0", "cpus": 1.0},
        "loadgen": {"cpuset": "1", "cpus": 1.0},
        "backing": {"cpuset": "1", "cpus": 1.0},
        "loadgen_processes": 1,
        "warnings": ["the load generator shares core 1 with the backing services"],
    },
    "ports": {"server": 18000, "upstream": 18001, "postgres": 18002},
    "started_at": "2026-11-21T19:48:40+00:00",
    "load_average_at_start": [0.5, 0.25, 0.1],
    "metadata": {
        "cpu_count": 2,
        "cpu_model": "a CPU",
        "kernel": "6.1.0",
        "memory_total_kb": 24000000,
        "docker_cpus": 2,
        "git_commit": "0123abcd",
        "git_dirty": False,
        "command_line": ["servingmatrix", "run"],
        "images": {"waitress": {"id": "sha256:0", "size_bytes": 1000, "labels": {}, "packages": {}}},
    },
    "calibration": {**CALIBRATION, "reused_from": "2026-11-21T18:00:00+00:00"},
    "finished_at": "2026-11-21T19:58:12+00:00",
    "load_average_at_end": [1.0, 0.5, 0.25],
    "timings": {
        "sessions": 1,
        "backing_starts": 1,
        "wall_s": 60.0,
        "prepare_s": 2.0,
        "calibration_s": 8.0,
        "backing_s": 3.0,
        "start_s": 1.0,
        "warmup_s": 5.0,
        "measured_s": 20.0,
        "loadgen_other_s": 4.0,
        "reference_warmup_s": 1.0,
        "reference_measured_s": 5.0,
        "reference_other_s": 2.0,
        "teardown_s": 1.0,
        "other_s": 8.0,
        "overhead_share": 0.5,
    },
    "reproduces": {"bundle": "published.tar.gz", "run_id": "published", "commit": None, "inputs": "git"},
}


def warning(code: str, message: str = "") -> dict[str, str]:
    return {"code": code, "message": message or code}


def cell(
    rps: float,
    p99: float = 10.0,
    warnings: Iterable[dict[str, str]] = (),
    offered: float | None = None,
    generator_bound: bool | None = None,
    failures: int = 0,
) -> dict[str, Any]:
    """A measured cell as the runner writes it (schema 2), with the figures that matter here."""
    requests = round(rps * 10) + failures
    loadgen: dict[str, Any] = {"cpu_pct": 40.0, "cpu_quota_pct": 100.0, "saturated": False}
    if generator_bound is not None:
        loadgen["generator_bound"] = generator_bound
    return {
        "status": "ok",
        "reason": None,
        "requests": requests,
        "failures": failures,
        "error_rate": failures / requests if requests else 0.0,
        "throughput_rps": rps,
        "latency_ms": {"mean": p99 / 3, "p50": p99 / 4, "p90": p99 / 2, "p95": p99 / 1.5, "p99": p99},
        "server": {"cpu_pct": 80.0, "mem_mb": 100.0, "throttled_s": 0.0, "processes": [{"rss_mb": 30.0}]},
        "loadgen": loadgen,
        "effective_concurrency": 2.0,
        "promised_concurrency": 3,
        "offered_rps": offered,
        "warnings": list(warnings),
    }


def closed_cells() -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """gunicorn-sync: 100, 700, 760 req/s at 1, 8, 64 users, its third trial at 8 users far off, and
    generator-bound at 64; gevent: faster, but p99 above the objective at every step."""
    cells = {}
    for trial, delta in ((1, -1.0), (2, 0.0), (3, 1.0)):
        cells[(SYNC, "json", 1, trial)] = cell(100 + delta, p99=5.0)
        cells[(SYNC, "json", 8, trial)] = cell(900.0 if trial == 3 else 700 + delta, p99=10.0)
        cells[(SYNC, "json", 64, trial)] = cell(
            760 + delta, p99=80.0, warnings=[warning("generator-bound", BOUND)], generator_bound=True
        )
        for step, rps, p99 in ((1, 200.0, 600.0), (8, 900.0, 700.0), (64, 950.0, 900.0)):
            cells[(GEVENT, "json", step, trial)] = cell(rps + delta, p99=p99)
    return cells


def write_run(
    root: Path,
    cells: dict[tuple[str, str, int, int], dict[str, Any]],
    steps: list[int],
    open_loop: bool = False,
    trials: int = 1,
    calibration: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    records: dict[str, Any] | None = None,
) -> Path:
    """A run folder holding ``cells`` by (mode, workload, step, trial); an open-loop run's steps are
    its arrival rates, and its matrix keeps the default users as the runner writes them. ``metadata``
    is added to run.json's metadata, ``records`` to run.json itself (``hosts_records``)."""
    folder = RunFolder(root)
    modes = sorted({m.split("[")[0] for m, _, _, _ in cells})
    workloads = sorted({w for _, w, _, _ in cells})
    matrix = {
        "name": root.name,
        "description": "a run written by a unit test",
        "modes": modes,
        "workloads": workloads,
        "users": [1, 16, 64] if open_loop else steps,
        "arrival_rates": steps if open_loop else None,
        "duration_s": 10.0,
        "warmup_s": 2.0,
        "trials": trials,
        "server_cpus": 1,
    }
    meta: dict[str, Any] = {"matrix": matrix, "metadata": {"cpu_count": 2, **(metadata or {})}}
    for key, value in (records or {}).items():
        meta[key] = {**meta[key], **value} if key in ("metadata", "matrix") else value
    if calibration is not None:
        meta["calibration"] = calibration
    folder.write_run(RunRecord.from_json(folder.run_file, {"schema": SCHEMA_VERSION, **meta}))
    for (mode, workload, step, trial), data in cells.items():
        folder.write_cell(record(CellKey(mode, workload, step, trial), data))
    return root


def record(key: CellKey, data: dict[str, Any]) -> CellRecord:
    """A cell given as its file's figures, read (and so checked) as a file of it would be."""
    return CellRecord.from_json(Path(f"{key.slug}.json"), {"schema": SCHEMA_VERSION, **key.as_dict(), **data})


def write_schema_1_cell(root: Path, mode: str, workload: str, step: int, trial: int, rps: float) -> Path:
    """A cell as schema 1 wrote it: no generator_bound, no offered_rps; ``saturated`` alone."""
    data = cell(rps, warnings=[warning("loadgen-saturated", "the load generator used 95%")])
    data["loadgen"] = {"cpu_pct": 95.0, "cpu_quota_pct": 100.0, "saturated": True}
    del data["offered_rps"]
    key = CellKey(mode, workload, step, trial)
    path = RunFolder(root).cell_path(key)
    path.write_text(json.dumps({"schema": 1, **key.as_dict(), **data}))
    return path


#: A mode spec per mode of the registry, plus tuned variants: a matrix as wide as any profile's.
MATRIX_MODES = (
    "werkzeug-single",
    "werkzeug-threaded",
    "werkzeug-processes[processes=4]",
    SYNC,
    "gunicorn-gthread[workers=2,threads=4]",
    GEVENT,
    "gunicorn-eventlet[workers=1,connections=1000]",
    "gunicorn-tornado[workers=2]",
    "waitress[threads=4]",
    "uwsgi[processes=2,threads=2]",
    "granian[workers=2]",
    "uvicorn-a2wsgi[workers=2]",
    "nginx-gunicorn-sync[workers=3]",
    "gunicorn-sync[workers=6]",
    "gunicorn-gthread[workers=4,threads=8]",
    "waitress[threads=16]",
)
MATRIX_WORKLOADS = (
    "json",
    "io[ms=100]",
    "mixed",
    "cpu",
    "db",
    "upstream[ms=50]",
    "db[ms=20]",
    "sqlite",
    "bytes[kb=64]",
)


def matrix_cells(
    modes: int, workloads: int, steps: list[int], trials: int = 1
) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """A full matrix of cells whose figures vary by mode, workload and step, with a flag here and
    there, and on every cell the run-wide flag a 2-core machine gives: a run of a profile's size, for
    what the report costs to write and to send."""
    cells = {}
    for m, mode in enumerate(MATRIX_MODES[:modes]):
        for w, workload in enumerate(MATRIX_WORKLOADS[:workloads]):
            for s, step in enumerate(steps):
                for trial in range(1, trials + 1):
                    rps = 50.0 * (m + 1) * (s + 1) / (w + 1) + trial
                    flagged = (m + w + s) % 7 == 0
                    bound = [warning("generator-bound", BOUND)] if flagged else []
                    cells[(mode, workload, step, trial)] = cell(
                        rps,
                        p99=2.0 * (s + 1) ** 2 * (w + 1) + m,
                        warnings=[warning("cores-shared", SHARED), *bound],
                        generator_bound=flagged,
                        failures=trial if (m + s) % 5 == 0 else 0,
                    )
    return cells


#: Three hosts: the server and backing services on ``main``, the load from ``gen-a`` and ``gen-b``.
HOSTS = (
    Host("main", "unix:///var/run/docker.sock", "10.213.0.1", (0, 1), ("server", "backing")),
    Host("gen-a", "tcp://10.213.0.2:2375", "10.213.0.2", (0, 1), ("loadgen",)),
    Host("gen-b", "ssh://bench@10.213.0.3", "10.213.0.3", (0, 1), ("loadgen",)),
)
#: Each host's clock against the harness's: ``gen-b``'s offset is beyond its uncertainty, so applied.
CLOCKS = {
    "main": {"offset_ms": 0.0, "uncertainty_ms": 0.05, "applied_ms": 0.0},
    "gen-a": {"offset_ms": 0.12, "uncertainty_ms": 0.4, "applied_ms": 0.0},
    "gen-b": {"offset_ms": -1250.5, "uncertainty_ms": 0.8, "applied_ms": -1250.5},
}


def hosts_records(simulated: bool, hosts: tuple[Host, ...] = HOSTS) -> dict[str, Any]:
    """What the runner writes into run.json of a run across ``hosts``: ``cpu_plan_hosts`` (the real
    plan's record), ``distributed`` and the metadata's ``hosts``."""
    plan = plan_hosts(Inventory(hosts, simulated=simulated), server_cpus=1)
    loaders = [p for p in plan.hosts if p.loadgen is not None]
    distributed = {
        "master": {"host": plan.master.name, "address": plan.master.host.address, "port": 5557},
        "hosts": [
            {
                "name": p.name,
                "address": p.host.address,
                "workers": p.loadgen_workers,
                "cores": [int(c) for c in p.loadgen.cpuset.split(",")] if p.loadgen else [],
                "clock": dict(CLOCKS.get(p.name, CLOCKS["main"])),
            }
            for p in loaders
        ],
        "workers": sum(p.loadgen_workers for p in loaders),
    }
    described = {
        "simulated": simulated,
        "method": "simulated (one kernel)" if simulated else "several hosts",
        "hosts": [
            {
                "name": h.name,
                "docker": h.docker,
                "address": h.address,
                "roles": list(h.roles),
                "docker_version": "27.3.1",
                "images": {"gunicorn-sync": "sha256:5a5a", "locust": "sha256:1c1c"},
                "clock": dict(CLOCKS.get(h.name, CLOCKS["main"])),
            }
            for h in hosts
        ],
    }
    return {"cpu_plan_hosts": plan.as_dict(), "distributed": distributed, "metadata": {"hosts": described}}


def on_hosts(data: dict[str, Any], hosts: int, workers: int, server_host: str) -> dict[str, Any]:
    """A cell as a run across several hosts writes it: the load from ``hosts`` hosts' ``workers``."""
    return {
        **data,
        "loadgen": {**data["loadgen"], "processes": workers, "hosts": hosts},
        "server_host": server_host,
    }


def _with_hosts(run: dict[str, Any], records: dict[str, Any]) -> dict[str, Any]:
    return {**run, **records, "metadata": {**run["metadata"], **records["metadata"]}}


#: ``GOOD_RUN`` as a run across ``HOSTS`` writes it: with the three records of its hosts.
GOOD_HOSTS_RUN: dict[str, Any] = _with_hosts(GOOD_RUN, hosts_records(False))
