"""Bad input from a careless or hostile user: one line naming the problem and what is allowed, exit 2,
nothing printed before it, nothing written and nothing lost, and never a Docker engine reached (the
engine here is unreachable, so a check that came after touching it would show the engine's error
instead of its own).

Most cases are generated: every field of a full cell and of run.json made wrong in the ways that apply
to it (another type, negative, missing, and in turn NaN, infinities, overflows, 400 digits, 1e308, a
subnormal, nesting 40 or 100,000 deep), each through one of the commands that read a run; and every
kind of input (a matrix, an inventory, an app's app.yml, requirements, lock and seed, a cell, run.json,
a bundle) made a FIFO, a folder, a link to /dev/zero, one byte over its bound (a sparse file) or nested
100,000 deep, through every command that reads it. FIFOs are made in the test's folder; /dev/zero is
looked at, never read.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markupsafe
import pytest

from servingmatrix.cli import MAX_ERROR_CHARS, main
from servingmatrix.inputs import input_files

from . import bundles, hostile_fields
from .synthetic_runs import GOOD_CELL, GOOD_HOSTS_RUN, GOOD_RUN, SYNC, cell, write_run

Setup = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    name: str
    #: Makes what the case needs under the folder it is given; returns the arguments.
    setup: Setup
    #: A fragment of the one line the case must print.
    says: str


def args(*given: str) -> Setup:
    return lambda _root: list(given)


def rooted(*given: str) -> Setup:
    """The arguments with ``{root}`` replaced by the case's folder."""
    return lambda root: [a.replace("{root}", str(root)) for a in given]


def with_file(name: str, content: bytes | str, *given: str) -> Setup:
    """Writes ``name`` under the folder, then the arguments with ``{}`` replaced by its path."""

    def setup(root: Path) -> list[str]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return [a.replace("{}", str(path)).replace("{root}", str(root)) for a in given]

    return setup


def with_run(*given: str, matrix: dict[str, object] | None = None) -> Setup:
    """A run folder at ROOT/run (run.json with ``matrix``, one good cell); ``{run}`` in the arguments."""

    def setup(root: Path) -> list[str]:
        run = root / "run"
        (run / "cells").mkdir(parents=True)
        recorded = matrix or {"name": "old", "modes": ["waitress"], "workloads": ["json"], "users": [1]}
        (run / "run.json").write_text(json.dumps({"schema": 2, "matrix": recorded}))
        return [a.replace("{run}", str(run)).replace("{root}", str(root)) for a in given]

    return setup


def with_bad_cell(text: str, *given: str) -> Setup:
    """A run folder whose one cell file holds ``text``; ``{run}`` and ``{root}`` in the arguments."""

    def setup(root: Path) -> list[str]:
        argv = with_run(*given)(root)
        (root / "run" / "cells" / "waitress-json-u1-t1-00000000.json").write_text(text)
        return argv

    return setup


def with_fifo(name: str, *given: str) -> Setup:
    """A FIFO at ROOT/``name`` (made in the test's folder); ``{}`` in the arguments is its path. Nothing
    ever writes to it: a reader that opened it as a file would wait for ever."""

    def setup(root: Path) -> list[str]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return [a.replace("{}", str(path)).replace("{root}", str(root)) for a in given]

    return setup


def with_link_loop(*given: str) -> Setup:
    """Two symbolic links naming each other at ROOT/loop-a and ROOT/loop-b; ``{}`` is loop-a."""

    def setup(root: Path) -> list[str]:
        (root / "loop-a").symlink_to(root / "loop-b")
        (root / "loop-b").symlink_to(root / "loop-a")
        return [a.replace("{}", str(root / "loop-a")) for a in given]

    return setup


def saved_baseline(*given: str) -> Setup:
    """A baseline ``kept`` already saved (a good run, with a report beside it); ``{saved}`` is its folder."""

    def setup(root: Path) -> list[str]:
        saved = root / "baselines" / "kept"
        (saved / "cells").mkdir(parents=True)
        (saved / "run.json").write_text(json.dumps(GOOD_RUN))
        (saved / "cells" / "waitress-json-u1-t1-00000000.json").write_text(json.dumps(GOOD_CELL))
        (saved / "report.html").write_text("<p>the run's report</p>")
        return [a.replace("{saved}", str(saved)).replace("{root}", str(root)) for a in given]

    return setup


def with_bundle(spoil: Callable[[Path], Path], *given: str) -> Setup:
    """A sound bundle of a synthetic run spoilt by ``spoil``; ``{bundle}`` and ``{root}`` in the arguments."""

    def setup(root: Path) -> list[str]:
        bad = spoil(bundles.make_bundle(root / "made"))
        return [a.replace("{bundle}", str(bad)).replace("{root}", str(root)) for a in given]

    return setup


#: A user's app that loads: every refusal below changes one thing of it.
APP_YML = """name: shop
wsgi: shop:app
health: /healthz
requirements: requirements.txt
requests:
  home:
    path: /
"""
APP_FILES = {"requirements.txt": "flask==3.1.3\n", "shop.py": "app = None\n"}
RUN_APP = ("run", "--app", "{app}", "--modes", "waitress", "--workloads", "app:home", "--out", "{root}/out")


def with_app(app_yml: str | None, *given: str, files: dict[str, str | bytes] | None = None) -> Setup:
    """An app folder at ROOT/app holding ``app_yml`` (None: no app.yml) and the files (``APP_FILES`` by
    default); ``{app}`` and ``{root}`` in the arguments."""

    def setup(root: Path) -> list[str]:
        folder = root / "app"
        folder.mkdir()
        written = {"app.yml": app_yml} if app_yml is not None else {}
        for name, content in {**written, **(APP_FILES if files is None else files)}.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return [a.replace("{app}", str(folder)).replace("{root}", str(root)) for a in given or RUN_APP]

    return setup


#: A host inventory that loads (its engine is never reached: every case below spoils one thing of it).
INVENTORY_YML = """hosts:
  - name: main
    docker: unix:///nonexistent/docker.sock
    address: 127.0.0.1
    cores: 4
    roles: [server, backing, loadgen]
"""
#: Every way an inventory is given: to a run, to clean, and as a matrix's key.
INVENTORY_VERBS = {
    "run": ("run", "--hosts", "{}", "--out", "{root}/o"),
    "clean": ("clean", "--hosts", "{}"),
    "matrix": ("run", "--matrix", "{root}/m.yml", "--out", "{root}/o"),
}


def inventory_with(old: str, new: str, verb: str) -> Setup:
    """The inventory with ``old`` replaced by ``new``, given as ``verb`` gives it."""
    assert old in INVENTORY_YML

    def setup(root: Path) -> list[str]:
        (root / "m.yml").write_text("modes: [waitress]\nworkloads: [json]\nhosts: hosts.yml\n")
        return with_file("hosts.yml", INVENTORY_YML.replace(old, new), *INVENTORY_VERBS[verb])(root)

    return setup


REPRODUCE = ("reproduce", "{bundle}", "--out", "{root}/reproduction")


def _fifo_beside(bundle: Path) -> Path:
    fifo = bundle.parent / "fifo.tar.gz"
    os.mkfifo(fifo)
    return fifo


def _written_beside(bundle: Path, data: bytes) -> Path:
    path = bundle.parent / "other.tar.gz"
    path.write_bytes(data)
    return path


#: Bundles as a cut download, a hand edit or a hostile author leave them.
BAD_BUNDLES = [
    ("truncated", bundles.truncated, "truncated"),
    ("sum-changed", lambda b: bundles.spoilt(b, bundles.replaced("run/report.html", b"forged")), "differs"),
    ("lock-edited", lambda b: bundles.spoilt(b, bundles.replaced(bundles.LOCK, b"flask==0.1\n")), "differs"),
    ("extra-member", lambda b: bundles.spoilt(b, bundles.added("run/cells/x.json")), "not in the manifest"),
    ("newer-schema", lambda b: bundles.spoilt(b, bundles.with_schema(2)), "newer than this servingmatrix"),
    ("traversal", lambda b: bundles.spoilt(b, bundles.added("../x")), "unsafe path"),
    # One byte flipped, in the compressed data or in gzip's CRC and length at its end: damage, said so.
    *(
        (f"flipped-at-{at}", lambda b, at=at: bundles.flipped(b, at), "damaged")
        for at in (0.2, 0.35, 0.5, 0.65, 0.8, 0.95, -8, -6, -4, -1)
    ),
    ("a-fifo", lambda b: _fifo_beside(b), "is a FIFO, not a regular file; a bundle is read only"),
    ("empty", lambda b: _written_beside(b, b""), "not a servingmatrix bundle (not a tar archive)"),
    ("gzip-of-nothing", lambda b: _written_beside(b, gzip.compress(b"")), "not a tar archive"),
    ("gzip-of-text", lambda b: _written_beside(b, gzip.compress(b"notes" * 100)), "not a servingmatrix"),
    # A bundle forged whole (its manifest made anew) whose record holds what no bundle's does.
    *(
        (
            f"bundle-json-{name}",
            lambda b, raw=raw: bundles.spoilt(b, bundles.resealed(bundles.replaced("bundle.json", raw))),
            says,
        )
        for name, raw, says in (
            ("nan-schema", b'{"kind": "servingmatrix-bundle", "schema": NaN}', "bundle.json: 'schema': NaN"),
            ("digits-schema", b'{"schema": ' + b"1" * 400 + b"}", "bundle.json: 'schema': 11111"),
            ("nested", b'{"inputs": ' + b"[" * 100_000 + b"}", "bundle.json: 'inputs' is nested deeper"),
            ("oversized", b" " * (1 << 20) + b"{}", "member 'bundle.json' is larger than 1 MiB"),
            ("binary", b"\xff\xfe", "bundle.json: not text"),
        )
    ),
    (
        "manifest-oversized",
        lambda b: bundles.spoilt(b, bundles.replaced("MANIFEST.sha256", b"#" * ((16 << 20) + 1))),
        "member 'MANIFEST.sha256' is larger than 16 MiB",
    ),
    (
        "no-bundle-json",
        lambda b: bundles.spoilt(b, bundles.dropped("bundle.json")),
        "not a servingmatrix bundle",
    ),
]


def app_with(old: str, new: str, *given: str) -> Setup:
    """The app with ``old`` replaced by ``new`` in its app.yml."""
    assert old in APP_YML
    return with_app(APP_YML.replace(old, new), *given)


def request_with(extra: str) -> Setup:
    """The app whose one request carries ``extra`` (YAML lines under it)."""
    return with_app(APP_YML + "".join(f"    {line}\n" for line in extra.splitlines()))


def cell_with(**changes: object) -> str:
    """The good cell with ``changes`` (a key set to None is removed), as its file's text."""
    data = {**GOOD_CELL, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None})


#: Result files as a disk, a crash or a hand edit leave them, with what the one line must say.
BAD_CELLS = [
    ("nan", cell_with(throughput_rps=None)[:-1] + ', "throughput_rps": NaN}', "'throughput_rps'"),
    ("infinity", cell_with(throughput_rps=None)[:-1] + ', "throughput_rps": Infinity}', "'throughput_rps'"),
    ("negative-requests", cell_with(requests=-5), "'requests'"),
    ("negative-latency", cell_with(latency_ms={"p50": -1.0, "p95": 2.0, "p99": 3.0}), "'latency_ms.p50'"),
    ("text-throughput", cell_with(throughput_rps="fast"), "'throughput_rps'"),
    ("unknown-status", cell_with(status="great"), "is not one of 'ok', 'failed', 'disturbed'"),
    ("negative-schema", cell_with(schema=-1), "not one servingmatrix ever wrote"),
    ("newer-schema", cell_with(schema=99), "newer than this servingmatrix"),
    ("truncated", cell_with()[:40], "corrupt or truncated"),
    ("binary", "\x00\xff\xfe", "corrupt"),
]
INF, NAN = float("inf"), float("nan")
#: Takes a key out of the good run.json.
REMOVED = object()


def run_with(field: str, value: object, good: dict[str, Any] = GOOD_RUN) -> str:
    """The good run.json with ``field`` (dotted, ``matrix.users``; a number is a list's index) set to
    ``value``, as its file's text (NaN and infinities as Python's JSON writes them)."""
    data = copy.deepcopy(good)
    *outer, last = field.split(".")
    target: Any = data
    for name in outer:
        target = target[int(name)] if isinstance(target, list) else target[name]
    if value is REMOVED:
        del target[last]
    else:
        target[last] = value
    return json.dumps(data)


def hosts_run_with(field: str, value: object) -> str:
    """The good run.json of a run across several hosts with ``field`` set to ``value``."""
    return run_with(field, value, GOOD_HOSTS_RUN)


def with_bad_run(text: str, *given: str) -> Setup:
    """A run folder whose run.json holds ``text``, with one good cell; ``{run}`` and ``{root}`` in the
    arguments."""

    def setup(root: Path) -> list[str]:
        run = root / "run"
        (run / "cells").mkdir(parents=True)
        (run / "run.json").write_text(text)
        (run / "cells" / "waitress-json-u1-t1-00000000.json").write_text(json.dumps(GOOD_CELL))
        return [a.replace("{run}", str(run)).replace("{root}", str(root)) for a in given]

    return setup


#: run.json as a disk, a crash or a hand edit leave it: every field the reader knows, each wrong, and
#: the file and the field the one line must name.
BAD_RUNS = [
    ("no-matrix", run_with("matrix", REMOVED), "run.json: 'matrix' is missing"),
    ("matrix-a-list", run_with("matrix", ["waitress"]), "run.json: 'matrix' is missing or not an object"),
    ("users-missing", run_with("matrix.users", REMOVED), "run.json: 'matrix.users' is missing"),
    ("users-text", run_with("matrix.users", "1,8"), "'matrix.users' is missing or not a list of non-neg"),
    ("users-negative", run_with("matrix.users", [1, -8]), "run.json: 'matrix.users'"),
    ("users-true", run_with("matrix.users", [True]), "run.json: 'matrix.users'"),
    ("arrival-rates-float", run_with("matrix.arrival_rates", [1.5]), "run.json: 'matrix.arrival_rates'"),
    ("modes-a-string", run_with("matrix.modes", "waitress"), "run.json: 'matrix.modes'"),
    ("workloads-numbers", run_with("matrix.workloads", [1]), "run.json: 'matrix.workloads'"),
    ("name-a-number", run_with("matrix.name", 7), "run.json: 'matrix.name'"),
    ("description-an-object", run_with("matrix.description", {"a": 1}), "run.json: 'matrix.description'"),
    ("server-memory-a-number", run_with("matrix.server_memory", 2), "run.json: 'matrix.server_memory'"),
    ("reference-a-list", run_with("matrix.reference", ["wrk"]), "run.json: 'matrix.reference'"),
    ("duration-nan", run_with("matrix.duration_s", NAN), "run.json: 'matrix.duration_s'"),
    ("warmup-negative", run_with("matrix.warmup_s", -5.0), "run.json: 'matrix.warmup_s'"),
    ("timeout-infinite", run_with("matrix.request_timeout_s", INF), "run.json: 'matrix.request_timeout_s'"),
    (
        "reference-duration-text",
        run_with("matrix.reference_duration_s", "5s"),
        "'matrix.reference_duration_s'",
    ),
    ("trials-text", run_with("matrix.trials", "3"), "run.json: 'matrix.trials'"),
    ("server-cpus-negative", run_with("matrix.server_cpus", -1), "run.json: 'matrix.server_cpus'"),
    ("processes-float", run_with("matrix.loadgen_processes", 1.5), "run.json: 'matrix.loadgen_processes'"),
    ("cpu-plan-a-list", run_with("cpu_plan", []), "run.json: 'cpu_plan'"),
    ("host-cores-text", run_with("cpu_plan.host_cores", "2"), "run.json: 'cpu_plan.host_cores'"),
    ("plan-processes-negative", run_with("cpu_plan.loadgen_processes", -1), "'cpu_plan.loadgen_processes'"),
    ("server-cpus-infinite", run_with("cpu_plan.server.cpus", INF), "run.json: 'cpu_plan.server.cpus'"),
    ("loadgen-cpuset-number", run_with("cpu_plan.loadgen.cpuset", 1), "run.json: 'cpu_plan.loadgen.cpuset'"),
    ("backing-a-string", run_with("cpu_plan.backing", "1"), "run.json: 'cpu_plan.backing'"),
    ("plan-warnings-numbers", run_with("cpu_plan.warnings", [1]), "run.json: 'cpu_plan.warnings'"),
    ("port-text", run_with("ports.server", "18000"), "run.json: 'ports.server'"),
    ("port-negative", run_with("ports.postgres", -1), "run.json: 'ports.postgres'"),
    ("ports-a-list", run_with("ports", [18000]), "run.json: 'ports'"),
    ("started-at-number", run_with("started_at", 5), "run.json: 'started_at'"),
    ("finished-at-a-list", run_with("finished_at", []), "run.json: 'finished_at'"),
    ("load-average-negative", run_with("load_average_at_start", [-1.0]), "'load_average_at_start'"),
    ("load-average-text", run_with("load_average_at_end", "high"), "run.json: 'load_average_at_end'"),
    ("metadata-a-list", run_with("metadata", []), "run.json: 'metadata'"),
    ("cpu-count-text", run_with("metadata.cpu_count", "2"), "run.json: 'metadata.cpu_count'"),
    ("docker-cpus-negative", run_with("metadata.docker_cpus", -2), "run.json: 'metadata.docker_cpus'"),
    ("memory-float", run_with("metadata.memory_total_kb", 1.5), "run.json: 'metadata.memory_total_kb'"),
    ("cpu-model-number", run_with("metadata.cpu_model", 5), "run.json: 'metadata.cpu_model'"),
    ("kernel-a-list", run_with("metadata.kernel", ["6"]), "run.json: 'metadata.kernel'"),
    ("git-commit-number", run_with("metadata.git_commit", 123), "run.json: 'metadata.git_commit'"),
    ("git-dirty-text", run_with("metadata.git_dirty", "yes"), "run.json: 'metadata.git_dirty'"),
    ("command-line-a-string", run_with("metadata.command_line", "run"), "'metadata.command_line'"),
    ("images-a-list", run_with("metadata.images", []), "run.json: 'metadata.images'"),
    ("image-a-string", run_with("metadata.images.waitress", "x"), "run.json: 'metadata.images.waitress'"),
    (
        "image-size-negative",
        run_with("metadata.images.waitress.size_bytes", -1),
        "'metadata.images.waitress.size",
    ),
    (
        "image-labels-a-list",
        run_with("metadata.images.waitress.labels", []),
        "'metadata.images.waitress.labels'",
    ),
    (
        "image-packages-text",
        run_with("metadata.images.waitress.packages", "x"),
        "'metadata.images.waitress.pack",
    ),
    ("calibration-a-list", run_with("calibration", []), "run.json: 'calibration'"),
    ("calibration-error-number", run_with("calibration.error", 1), "run.json: 'calibration.error'"),
    ("limited-by-number", run_with("calibration.limited_by", 1), "run.json: 'calibration.limited_by'"),
    ("target-a-list", run_with("calibration.target", []), "run.json: 'calibration.target'"),
    ("max-rps-nan", run_with("calibration.max_rps", NAN), "run.json: 'calibration.max_rps'"),
    ("p99-negative", run_with("calibration.p99_ms", -1.0), "run.json: 'calibration.p99_ms'"),
    ("loadgen-cpu-text", run_with("calibration.loadgen_cpu_pct", "97%"), "'calibration.loadgen_cpu_pct'"),
    (
        "quota-infinite",
        run_with("calibration.loadgen_cpu_quota_pct", INF),
        "'calibration.loadgen_cpu_quota_pct'",
    ),
    ("server-cpu-negative", run_with("calibration.server_cpu_pct", -1), "'calibration.server_cpu_pct'"),
    ("calibration-duration-text", run_with("calibration.duration_s", "6s"), "'calibration.duration_s'"),
    ("calibration-failures-float", run_with("calibration.failures", 0.5), "'calibration.failures'"),
    ("calibration-processes-negative", run_with("calibration.processes", -1), "'calibration.processes'"),
    ("calibration-users-text", run_with("calibration.users", "64"), "run.json: 'calibration.users'"),
    ("lane-calibrations-a-list", run_with("calibration_hosts", []), "run.json: 'calibration_hosts'"),
    (
        "lane-calibration-rps-text",
        run_with("calibration_hosts", {"main": {"max_rps": "fast"}}),
        "run.json: 'calibration_hosts.main.max_rps'",
    ),
    ("lane-calibration-null", run_with("calibration_hosts", {"main": None}), "'calibration_hosts.main'"),
    ("timings-a-list", run_with("timings", []), "run.json: 'timings'"),
    ("sessions-negative", run_with("timings.sessions", -1), "run.json: 'timings.sessions'"),
    ("start-nan", run_with("timings.start_s", NAN), "run.json: 'timings.start_s'"),
    ("warmup-text", run_with("timings.warmup_s", "5"), "run.json: 'timings.warmup_s'"),
    ("measured-negative", run_with("timings.measured_s", -20.0), "run.json: 'timings.measured_s'"),
    ("reference-infinite", run_with("timings.reference_measured_s", INF), "'timings.reference_measured_s'"),
    ("teardown-true", run_with("timings.teardown_s", True), "run.json: 'timings.teardown_s'"),
    ("wall-negative", run_with("timings.wall_s", -60.0), "run.json: 'timings.wall_s'"),
    ("backing-starts-float", run_with("timings.backing_starts", 1.5), "run.json: 'timings.backing_starts'"),
    ("overhead-text", run_with("timings.overhead_share", "half"), "run.json: 'timings.overhead_share'"),
    ("reused-from-number", run_with("calibration.reused_from", 5), "run.json: 'calibration.reused_from'"),
    ("reproduces-a-list", run_with("reproduces", []), "run.json: 'reproduces'"),
    ("reproduced-bundle-number", run_with("reproduces.bundle", 1), "run.json: 'reproduces.bundle'"),
    ("reproduced-run-id-list", run_with("reproduces.run_id", []), "run.json: 'reproduces.run_id'"),
    ("reproduced-commit-number", run_with("reproduces.commit", 5), "run.json: 'reproduces.commit'"),
    ("reproduced-inputs-object", run_with("reproduces.inputs", {}), "run.json: 'reproduces.inputs'"),
    ("hosts-a-list", run_with("metadata.hosts", []), "run.json: 'metadata.hosts'"),
    ("simulated-text", hosts_run_with("metadata.hosts.simulated", "no"), "'metadata.hosts.simulated'"),
    ("method-number", hosts_run_with("metadata.hosts.method", 3), "run.json: 'metadata.hosts.method'"),
    (
        "host-name-missing",
        hosts_run_with("metadata.hosts.hosts.0.name", REMOVED),
        "'metadata.hosts.hosts[].name'",
    ),
    (
        "host-docker-number",
        hosts_run_with("metadata.hosts.hosts.0.docker", 2375),
        "'metadata.hosts.hosts[].docker'",
    ),
    (
        "host-roles-text",
        hosts_run_with("metadata.hosts.hosts.1.roles", "loadgen"),
        "'metadata.hosts.hosts[].roles'",
    ),
    (
        "host-image-an-object",
        hosts_run_with("metadata.hosts.hosts.1.images.locust", {}),
        "'metadata.hosts.hosts[].images.locust'",
    ),
    (
        "clock-offset-infinite",
        hosts_run_with("metadata.hosts.hosts.2.clock.offset_ms", INF),
        "'metadata.hosts.hosts[].clock.offset_ms'",
    ),
    (
        "clock-uncertainty-negative",
        hosts_run_with("metadata.hosts.hosts.2.clock.uncertainty_ms", -1),
        "'metadata.hosts.hosts[].clock.uncertainty_ms'",
    ),
    ("plan-hosts-a-string", run_with("cpu_plan_hosts", "main"), "run.json: 'cpu_plan_hosts'"),
    (
        "plan-host-workers-float",
        hosts_run_with("cpu_plan_hosts.hosts.1.loadgen_workers", 0.5),
        "'cpu_plan_hosts.hosts[].loadgen_workers'",
    ),
    (
        "plan-host-cpus-nan",
        hosts_run_with("cpu_plan_hosts.hosts.0.server.cpus", NAN),
        "'cpu_plan_hosts.hosts[].server.cpus'",
    ),
    (
        "plan-host-warnings-object",
        hosts_run_with("cpu_plan_hosts.hosts.0.warnings", {"a": 1}),
        "'cpu_plan_hosts.hosts[].warnings'",
    ),
    ("distributed-a-list", run_with("distributed", []), "run.json: 'distributed'"),
    (
        "master-port-negative",
        hosts_run_with("distributed.master.port", -1),
        "run.json: 'distributed.master.port'",
    ),
    (
        "load-host-cores-text",
        hosts_run_with("distributed.hosts.0.cores", "0,1"),
        "'distributed.hosts[].cores'",
    ),
    (
        "load-host-clock-text",
        hosts_run_with("distributed.hosts.1.clock.applied_ms", "-1"),
        "'distributed.hosts[].clock.applied_ms'",
    ),
    ("schema-newer", run_with("schema", 99), "run.json: schema 99 is newer than this servingmatrix"),
    ("schema-zero", run_with("schema", 0), "run.json: schema 0 is not one servingmatrix ever wrote"),
    ("schema-missing", run_with("schema", REMOVED), "run.json: no schema version"),
    ("schema-text", run_with("schema", "3"), "run.json: no schema version"),
    ("schema-true", run_with("schema", True), "run.json: no schema version"),
    ("truncated", run_with("started_at", "x")[:60], "run.json: not valid JSON"),
    ("binary", "\x00\xff\xfe", "run.json: not valid JSON"),
    ("a-list", "[]", "run.json: expected a JSON object"),
]
#: The bad run.json files also read by every command: one for each part of the file.
EVERY_COMMAND = {
    "no-matrix",
    "users-negative",
    "duration-nan",
    "server-cpus-infinite",
    "port-text",
    "load-average-negative",
    "git-dirty-text",
    "max-rps-nan",
    "measured-negative",
    "clock-offset-infinite",
    "plan-host-workers-float",
    "load-host-cores-text",
    "schema-newer",
    "truncated",
}
RESULT_COMMANDS = [
    ("export", ("export", "{run}")),
    ("export-md", ("export", "{run}", "--format", "md", "-o", "{root}/out.md")),
    ("report", ("report", "{run}")),
    ("compare", ("compare", "{run}", "{run}")),
    ("baseline", ("baseline", "save", "{run}", "kept")),
]

#: A cell with every field the current schema writes (but the host of a run on several hosts), each
#: as the runner writes it: the cell every generated case below spoils one field of.
FULL_CELL: dict[str, Any] = {
    "schema": 5,
    "mode": "waitress",
    "workload": "json",
    "users": 1,
    "trial": 1,
    "status": "ok",
    "reason": "a note",
    "window": {"start": 1795290526.0, "end": 1795290546.0, "seconds": 20.0, "warmup_s": 5.0},
    "requests": 2000,
    "failures": 2,
    "error_rate": 0.001,
    "throughput_rps": 99.9,
    "latency_ms": {"p50": 1.0, "p90": 1.5, "p95": 2.0, "p99": 3.0, "p999": 4.0, "mean": 1.2, "max": 9.0},
    "endpoints": {
        "json": {
            "requests": 2000,
            "failures": 2,
            "throughput_rps": 99.9,
            "latency_ms": {"p50": 1.0, "p99": 3.0},
        }
    },
    "server": {
        "cpu_pct": 50.0,
        "throttled_s": 0.1,
        "throttled_periods": 3,
        "mem_mb": 40.0,
        "mem_mb_mean": 38.0,
        "processes": [{"pid": 100, "command": "waitress", "rss_mb": 30.0}],
        "exit": {"oom_killed": False, "exit_code": 0, "finished_at": 1795290546.0, "last_log": ["served"]},
        "major_faults": 1,
    },
    "loadgen": {
        "cpu_pct": 25.0,
        "cpu_quota_pct": 100.0,
        "processes": 2,
        "saturated": False,
        "generator_bound": False,
        "sent_rps": 100.0,
        "calibrated_max_rps": 4000.0,
        "generator_efficiency": 0.95,
        "hosts": 1,
    },
    "load": "closed",
    "effective_concurrency": 0.1,
    "effective_concurrency_basis": "Little's law",
    "promised_concurrency": 4,
    "keeps_alive": True,
    "cpu_plan_applied": {
        "server": {"cpuset": "0", "cpus": 1.0, "memory_bytes": 2147483648, "pids_limit": 4096}
    },
    "session_timings": {"start_s": 3.0, "loadgen_s": 25.0, "teardown_s": 0.5},
    "reference": {
        "generator": "wrk",
        "connections": 1,
        "duration_s": 5.0,
        "requests": 600,
        "errors": 1,
        "throughput_rps": 120.0,
        "latency_ms": {"p50": 0.8, "p99": 2.0},
    },
    "warnings": [{"code": "errors", "message": "2 of 2000 requests failed (0.1%)"}],
}
CELL_FILE = "waitress-json-u1-t1-00000000.json"
#: Fields a cell must hold (those of a successful cell, and of each part present), and those a reader
#: takes either way (a signed figure), or keeps only when it is of its type (a warning's message).
REQUIRED_CELL = {
    *("schema", "mode", "workload", "users", "trial", "status", "requests", "failures", "throughput_rps"),
    *(f"latency_ms.{p}" for p in ("p50", "p95", "p99")),
    *(f"window.{k}" for k in ("start", "end", "seconds", "warmup_s")),
    *("endpoints.json.requests", "endpoints.json.failures", "warnings[].code"),
    *("reference.generator", "reference.connections"),
}
SIGNED_CELL = {
    "server.exit.exit_code",
    "cpu_plan_applied.server.memory_bytes",
    "cpu_plan_applied.server.pids_limit",
}
LAX_CELL = {"warnings[].message"}
REQUIRED_RUN = {"schema", "matrix", "matrix.users"}
#: Collected rather than typed: an image's id is kept as the engine gave it.
LAX_RUN = {"metadata.images.waitress.id"}
#: Every command that reads a run, as the generated cases use them in turn.
FIELD_COMMANDS = [*RESULT_COMMANDS, ("site", ("site", "{run}", "-o", "{root}/site"))]


def with_run_files(run_text: str, cell_text: str, *given: str) -> Setup:
    """A run folder at ROOT/run holding ``run_text`` as its run.json and ``cell_text`` as its one cell."""

    def setup(root: Path) -> list[str]:
        run = root / "run"
        (run / "cells").mkdir(parents=True)
        (run / "run.json").write_text(run_text)
        (run / "cells" / CELL_FILE).write_text(cell_text)
        return [a.replace("{run}", str(run)).replace("{root}", str(root)) for a in given]

    return setup


def spoilt_fields(
    document: dict[str, Any],
    file: str,
    required: set[str],
    signed: set[str],
    lax: set[str],
    never_each: int = 2,
) -> list[tuple[str, str, str]]:
    """Every leaf of ``document`` made wrong in the ways that apply to it, as (name, the file's text,
    what the one line must say): ``never_each`` values no servingmatrix file holds (in turn: NaN,
    infinities, overflows, 400 digits, 1e308, a subnormal, nesting 40 or 100,000 deep), another type, a
    negative number, and a required field missing."""
    out: list[tuple[str, str, str]] = []
    for index, (path, value) in enumerate(hostile_fields.leaves(document)):
        field = hostile_fields.field_name(path)
        says = f"{file}: '{field}'"
        named = "-".join(str(part) for part in path)
        never = hostile_fields.NEVER_WRITTEN
        for name, raw in (never[(index + 4 * k) % len(never)] for k in range(never_each)):
            out.append((f"{named}-{name}", hostile_fields.text_with(document, path, raw), says))
        typed = says if field != "schema" else f"{file}: no schema version"
        other = hostile_fields.wrong_type(value) if field not in lax else None
        if other is not None:
            out.append((f"{named}-wrong-type", hostile_fields.text_with(document, path, other), typed))
        below = hostile_fields.negative(value) if field not in signed | lax else None
        if below is not None:
            below_says = says if field != "schema" else f"{file}: schema {below} is not one"
            out.append((f"{named}-negative", hostile_fields.text_with(document, path, below), below_says))
        if field in required and not isinstance(path[-1], int):
            gone = says if field != "schema" else f"{file}: no schema version"
            removed = hostile_fields.text_with(document, path, hostile_fields.REMOVED)
            out.append((f"{named}-missing", removed, gone))
    return out


SPOILT_CELLS = spoilt_fields(FULL_CELL, CELL_FILE, REQUIRED_CELL, SIGNED_CELL, LAX_CELL)
SPOILT_RUNS = spoilt_fields(GOOD_RUN, "run.json", REQUIRED_RUN, set(), LAX_RUN, never_each=1)

#: How a hostile user hands over a file that is not one: (name, what it is made as, what is said).
FORMS = {
    "fifo": "is a FIFO, not a regular file",
    "folder": "is a folder, not a regular file",
    "dev-zero": "is a character device, not a regular file",
    "oversized": "larger than",
    "deep": "nested deeper than 32 levels",
}


def make_form(path: Path, form: str, kind: input_files.InputKind, deep: str) -> None:
    """``path`` made as ``form``: a FIFO, a folder, a link to /dev/zero, a file one byte over the
    kind's bound (sparse: nothing is written), or ``deep`` opening 100,000 brackets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    if form == "fifo":
        os.mkfifo(path)
    elif form == "folder":
        path.mkdir()
    elif form == "dev-zero":
        # Looked at only: a character device is refused before a byte of it is read.
        path.symlink_to("/dev/zero")
    elif form == "oversized":
        with path.open("wb") as handle:
            handle.truncate(kind.bound + 1)
    else:
        path.write_text(deep + "[" * 100_000)


def as_form(base: Setup, relative: str, form: str, kind: input_files.InputKind, deep: str = "") -> Setup:
    """``base``'s setup, then the file at ROOT/``relative`` made as ``form``."""

    def setup(root: Path) -> list[str]:
        argv = base(root)
        make_form(root / relative, form, kind, deep)
        return argv

    return setup


def good_run(*given: str) -> Setup:
    """The good run (GOOD_RUN, FULL_CELL) at ROOT/run; ``{run}`` and ``{root}`` in the arguments."""
    return with_run_files(json.dumps(GOOD_RUN), json.dumps(FULL_CELL), *given)


#: Every command that reads a run folder, publishing ones too.
RUN_READERS = [
    *FIELD_COMMANDS,
    ("bundle", ("bundle", "{run}", "-o", "{root}/b.tar.gz", "--inputs-from-worktree")),
]
#: Every input kind, where a case puts it, the commands that read it, and whether it may be nested.
INPUT_PLACES: list[tuple[str, input_files.InputKind, str, Setup, tuple[str, ...], str]] = [
    (
        "matrix",
        input_files.MATRIX,
        "m.yml",
        rooted("run", "--matrix", "{root}/m.yml"),
        (),
        "modes: ",
    ),
    *(
        (
            f"inventory-{verb}",
            input_files.INVENTORY,
            "hosts.yml",
            inventory_with("127.0.0.1", "127.0.0.1", verb),
            (),
            "hosts: ",
        )
        for verb in INVENTORY_VERBS
    ),
    *(
        (
            f"app-yml-{verb}",
            input_files.APP_FILE,
            "app/app.yml",
            with_app(APP_YML, *argv),
            (),
            "name: ",
        )
        for verb, argv in (
            ("run", RUN_APP),
            ("build", ("build", "--app", "{app}")),
            ("lock", ("lock", "--app", "{app}")),
            ("workloads", ("workloads", "--app", "{app}")),
        )
    ),
    ("requirements", input_files.REQUIREMENTS, "app/requirements.txt", with_app(APP_YML), ("deep",), ""),
    (
        "lock",
        input_files.LOCK,
        "app/requirements.lock",
        with_app(APP_YML, files={**APP_FILES, "requirements.lock": "x"}),
        ("deep",),
        "",
    ),
    (
        "seed-sql",
        input_files.SEED_SQL,
        "app/seed.sql",
        with_app(APP_YML + "seed_sql: seed.sql\n", files={**APP_FILES, "seed.sql": "select 1;\n"}),
        ("deep",),
        "",
    ),
    *(
        (f"cell-{verb}", input_files.CELL, f"run/cells/{CELL_FILE}", good_run(*argv), (), "")
        for verb, argv in RUN_READERS
    ),
    *(
        (f"run-json-{verb}", input_files.RUN, "run/run.json", good_run(*argv), (), "")
        for verb, argv in RUN_READERS
    ),
    (
        "bundle",
        input_files.BUNDLE,
        "b.tar.gz",
        rooted("reproduce", "{root}/b.tar.gz"),
        ("deep", "oversized"),
        "",
    ),
]
#: Where an app's file named in its app.yml is not a regular file, app.yml's reader says so itself.
FORM_SAYS = {
    ("requirements", "dev-zero"): "is outside",
    ("seed-sql", "dev-zero"): "is outside",
    ("lock", "dev-zero"): "requirements.lock: a symbolic link out of the app's folder",
    ("requirements", "fifo"): "requirements: 'requirements.txt': is a FIFO, not a regular file",
    ("requirements", "folder"): "requirements: 'requirements.txt': is a folder, not a regular file",
    ("seed-sql", "fifo"): "seed_sql: 'seed.sql': is a FIFO, not a regular file",
    ("seed-sql", "folder"): "seed_sql: 'seed.sql': is a folder, not a regular file",
}


def form_says(place: str, form: str, kind: input_files.InputKind) -> str:
    if (place, form) in FORM_SAYS:
        return FORM_SAYS[(place, form)]
    if form == "oversized":
        return f"larger than {input_files.size_text(kind.bound)}, the most {_a(kind.name)} holds"
    return FORMS[form]


def _a(name: str) -> str:
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def with_stray_copy(*given: str) -> Setup:
    """The good run with a second file holding its one cell, named to be read after it."""

    def setup(root: Path) -> list[str]:
        argv = good_run(*given)(root)
        shutil.copy(root / "run" / "cells" / CELL_FILE, root / "run" / "cells" / "zz-copy.json")
        return argv

    return setup


def with_link(relative: str, target: str, base: Setup) -> Setup:
    """``base``'s setup, then ROOT/``relative`` a symbolic link to ROOT/``target`` (a private file)."""

    def setup(root: Path) -> list[str]:
        argv = base(root)
        (root / "private").mkdir(exist_ok=True)
        (root / "private" / "key.py").write_text("key = 'a private key'\n")
        link = root / relative
        if link.exists():
            link.unlink()
        link.symlink_to(root / target)
        return argv

    return setup


def with_two_apps(first: dict[str, object], second: dict[str, object], *given: str) -> Setup:
    """Runs ROOT/a and ROOT/b, the good run's, measuring the apps ``first`` and ``second``."""

    def setup(root: Path) -> list[str]:
        for name, app in (("a", first), ("b", second)):
            meta = copy.deepcopy(GOOD_RUN)
            meta["metadata"]["app"] = app
            (root / name / "cells").mkdir(parents=True)
            (root / name / "run.json").write_text(json.dumps(meta))
            (root / name / "cells" / CELL_FILE).write_text(json.dumps(FULL_CELL))
        return [a.replace("{root}", str(root)) for a in given]

    return setup


SHOP = {"name": "shop", "bundled": False, "wsgi": "shop:app", "health": "/healthz"}
LONG = "x" * 100_000
#: A path longer than any file system takes: asking whether it exists raises instead of answering.
LONG_NAME = "n" * 5000
CASES = [
    # Paths no file system holds (a name of 5,000 characters), and outputs in the kernel's file systems.
    *(
        Case(f"long-name-{verb}", good_run(*(LONG_NAME if a == "{run}" else a for a in argv)), says)
        for verb, argv, says in (
            *((verb, argv, "not a run folder") for verb, argv in RUN_READERS if verb != "compare"),
            ("compare", ("compare", "{run}", "{run}"), "neither a run folder nor a saved baseline"),
        )
    ),
    *(
        Case(f"long-output-{verb}", good_run(*argv, LONG_NAME), "its name is longer than the file system")
        for verb, argv in (
            ("report", ("report", "{run}", "-o")),
            ("export", ("export", "{run}", "-o")),
            ("compare", ("compare", "{run}", "{run}", "-o")),
            ("site", ("site", "{run}", "-o")),
            ("run", ("run", "--out")),
        )
    ),
    *(
        Case(
            f"output-under-proc-{verb}", good_run(*argv, "/proc/self/status"), "is under /proc, the kernel's"
        )
        for verb, argv in (
            ("report", ("report", "{run}", "-o")),
            ("export", ("export", "{run}", "-o")),
            ("export-md", ("export", "{run}", "--format", "md", "-o")),
            ("compare", ("compare", "{run}", "{run}", "-o")),
            ("site", ("site", "{run}", "-o")),
            ("bundle", ("bundle", "{run}", "--inputs-from-worktree", "-o")),
        )
    ),
    Case("output-under-sys", good_run("report", "{run}", "-o", "/sys/kernel/notes"), "is under /sys"),
    # A stray copy of a cell is refused by every command that reads a run, the export too.
    *(
        Case(f"stray-copy-{verb}", with_stray_copy(*argv), "one of them is a stray copy")
        for verb, argv in RUN_READERS
    ),
    # Nothing is reached through a link out of an app's folder or put into a bundle through one.
    Case(
        "app-wsgi-package-linked-out",
        with_link("app/shop", "private", with_app(APP_YML, files={"requirements.txt": "flask==3.1.3\n"})),
        "is a symbolic link out of the app's folder",
    ),
    Case(
        "app-wsgi-module-linked-out",
        with_link("app/shop.py", "private/key.py", with_app(APP_YML)),
        "is a symbolic link out of the app's folder",
    ),
    Case(
        "app-file-linked-out",
        with_link("app/settings.py", "private/key.py", with_app(APP_YML)),
        "settings.py: a symbolic link out of the app's folder",
    ),
    Case(
        "app-folder-linked-out",
        with_link("app/static", "private", with_app(APP_YML)),
        "static: a symbolic link out of the app's folder",
    ),
    *(
        Case(
            f"bundle-{name}-linked-out",
            with_link(f"run/{name}", target, good_run(*RUN_READERS[-1][1])),
            f"run/{name}: is a symbolic link",
        )
        for name, target in (("report.html", "private/key.py"), ("report-charts", "private"))
    ),
    # An app is more than its name.
    Case(
        "compare-same-name-other-callable",
        with_two_apps(SHOP, {**SHOP, "wsgi": "shop.other:app"}, "compare", "{root}/a", "{root}/b"),
        "different apps (WSGI callable shop:app vs shop.other:app)",
    ),
    Case(
        "compare-bundled-and-an-app-named-as-it",
        with_two_apps(
            {"name": "benchapp", "bundled": True},
            {**SHOP, "name": "benchapp"},
            "compare",
            "{root}/a",
            "{root}/b",
        ),
        "one is the bundled app, the other a user's app of the same name",
    ),
    # Every kind of input as a FIFO, a folder, /dev/zero, one byte over its bound, nested 100,000 deep,
    # through every command that reads it.
    *(
        Case(f"{place}-as-{form}", as_form(base, relative, form, kind, deep), form_says(place, form, kind))
        for place, kind, relative, base, skip, deep in INPUT_PLACES
        for form in FORMS
        if form not in skip
    ),
    Case("matrix-dev-zero-itself", args("run", "--matrix", "/dev/zero"), "/dev/zero: is a character device"),
    Case("inventory-dev-zero-itself", args("clean", "--hosts", "/dev/zero"), "/dev/zero: is a character"),
    Case("bundle-dev-zero-itself", args("reproduce", "/dev/zero"), "/dev/zero: is a character device"),
    Case(
        "bundle-8-gib-and-a-byte",
        as_form(rooted("reproduce", "{root}/b.tar.gz"), "b.tar.gz", "oversized", input_files.BUNDLE),
        "larger than 8 GiB, the most a bundle holds",
    ),
    # Every field of a cell, then of run.json, made wrong every way that applies, through each command
    # that reads a run in turn.
    *(
        Case(
            f"cell-{name}-{FIELD_COMMANDS[i % len(FIELD_COMMANDS)][0]}",
            with_run_files(json.dumps(GOOD_RUN), text, *FIELD_COMMANDS[i % len(FIELD_COMMANDS)][1]),
            says,
        )
        for i, (name, text, says) in enumerate(SPOILT_CELLS)
    ),
    *(
        Case(
            f"run-json-{name}-{FIELD_COMMANDS[i % len(FIELD_COMMANDS)][0]}",
            with_run_files(text, json.dumps(FULL_CELL), *FIELD_COMMANDS[i % len(FIELD_COMMANDS)][1]),
            says,
        )
        for i, (name, text, says) in enumerate(SPOILT_RUNS)
    ),
    *(
        Case(f"{bad}-{command}", with_bad_cell(text, *argv), says)
        for bad, text, says in BAD_CELLS
        for command, argv in RESULT_COMMANDS
    ),
    # Every bad run.json through export; one of each part of the file through every command.
    *(Case(f"run-{bad}-export", with_bad_run(text, "export", "{run}"), says) for bad, text, says in BAD_RUNS),
    *(
        Case(f"run-{bad}-{command}", with_bad_run(text, *argv), says)
        for bad, text, says in BAD_RUNS
        if bad in EVERY_COMMAND
        for command, argv in RESULT_COMMANDS
        if command != "export"
    ),
    # Numbers as people do not write them.
    Case("users-zero", args("run", "--users", "0"), "out of range"),
    Case("users-superscript", args("run", "--users", "\u00b2"), "not an integer"),
    Case("users-5000-digits", args("run", "--users", "9" * 5000), "not an integer"),
    Case("users-underscore", args("run", "--users", "1_0"), "not an integer"),
    Case("trials-superscript", args("run", "--trials", "\u00b2"), "not an integer"),
    Case("trials-zero", args("run", "--trials", "0"), "positive"),
    Case("tunable-underscore", args("run", "--modes", "gunicorn-sync[workers=1_0]"), "not an integer"),
    Case(
        "tunable-arabic-digits",
        args("run", "--modes", "gunicorn-sync[workers=\u0661\u0660]"),
        "not an integer",
    ),
    Case("tunable-huge", args("run", "--modes", f"gunicorn-sync[workers={'9' * 5000}]"), "not an integer"),
    Case("tunable-unknown", args("run", "--modes", "gunicorn-sync[threads=4]"), "allowed: workers"),
    Case("mode-unknown", args("run", "--modes", "apache"), "unknown mode"),
    Case("mode-100kb", args("run", "--modes", LONG), "unknown mode"),
    Case("workload-out-of-range", args("run", "--workloads", "io[ms=99999]"), "out of range"),
    Case("duration-bare", args("run", "--duration", "20"), "with a unit"),
    Case("memory-tiny", args("run", "--server-memory", "1m"), "out of range"),
    Case("server-cpus-beyond-registry", args("run", "--server-cpus", "300"), "out of range"),
    Case("modes-cpus-5000", args("modes", "--cpus", "5000"), "allowed: 1..256"),
    Case("modes-cpus-zero", args("modes", "--cpus", "0"), "positive"),
    Case("duration-absurd", args("run", "--duration", "0.0001ms"), "out of range"),
    Case("duration-half-second", args("run", "--duration", "0.5s"), "out of range"),
    Case("warmup-absurd", args("run", "--warmup", "0.0001ms"), "out of range"),
    Case("timeout-zero", args("run", "--request-timeout", "0s"), "out of range"),
    Case("duration-huge", args("run", "--duration", "2h"), "not a duration"),
    Case("rates-and-users", args("run", "--users", "1", "--arrival-rate", "10"), "not both"),
    Case("rates-decreasing", args("run", "--arrival-rate", "20,10"), "increasing"),
    Case("users-repeated", args("run", "--users", "4,4"), "repeats"),
    Case("loadgen-processes", args("run", "--loadgen-processes", "65"), "out of range"),
    Case("slo-bare", args("report", "x", "--slo-p99", "500"), "with a unit"),
    Case("reference-unknown", args("run", "--reference", "ab"), "not a reference generator"),
    Case("reference-duration-zero", args("run", "--reference-duration", "0s"), "out of range"),
    Case("reference-duration-negative", args("run", "--reference-duration", "-1s"), "expected one argument"),
    Case("reference-duration-bare", args("run", "--reference-duration", "5"), "with a unit"),
    # Host inventories: an address that is neither, an engine URL holding what a terminal would act on.
    *(
        Case(f"inventory-{name}-{verb}", inventory_with(old, new, verb), says)
        for name, old, new, says in (
            ("address-999", "127.0.0.1", "999.1.1.1", "address '999.1.1.1' is not an address"),
            ("address-256", "127.0.0.1", "10.0.0.256", "address '10.0.0.256' is not an address"),
            ("address-all-digits", "127.0.0.1", '"1234"', "address '1234' is not an address"),
            (
                "docker-nul",
                "unix:///nonexistent/docker.sock",
                '"unix:///x\\0y"',
                "docker 'unix:///x\\x00y' holds a character other than printable ASCII",
            ),
            (
                "docker-escape",
                "unix:///nonexistent/docker.sock",
                '"tcp://a\\e[2Jb:2375"',
                "docker 'tcp://a\\x1b[2Jb:2375' holds a character other than printable ASCII",
            ),
        )
        for verb in INVENTORY_VERBS
    ),
    # Matrix files.
    Case("matrix-control-character", with_file("m.yml", "\x01", "run", "--matrix", "{}"), "not valid YAML"),
    Case("matrix-missing", args("run", "--matrix", "/nonexistent/m.yml"), "cannot read"),
    Case(
        "matrix-binary",
        with_file("m.yml", b"\x00\xff\xfe binary", "run", "--matrix", "{}"),
        "not a text file",
    ),
    Case("matrix-not-yaml", with_file("m.yml", "modes: [a\n", "run", "--matrix", "{}"), "not valid YAML"),
    Case("matrix-a-list", with_file("m.yml", "- json\n", "run", "--matrix", "{}"), "expected a mapping"),
    Case("matrix-empty", with_file("m.yml", "", "run", "--matrix", "{}"), "expected a mapping"),
    Case(
        "matrix-unknown-key",
        with_file("m.yml", "modes: [waitress]\nworkloads: [json]\nthreads: 4\n", "run", "--matrix", "{}"),
        "unknown key 'threads'",
    ),
    Case(
        "matrix-key-twice",
        with_file(
            "m.yml", "modes: [waitress]\nworkloads: [json]\nusers: [1]\nusers: [2]\n", "run", "--matrix", "{}"
        ),
        "given twice",
    ),
    Case(
        "matrix-billion-laughs",
        with_file(
            "m.yml",
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nmodes: *c\n",
            "run",
            "--matrix",
            "{}",
        ),
        "anchors and aliases",
    ),
    Case(
        "matrix-users-and-rates",
        with_file(
            "m.yml",
            "modes: [waitress]\nworkloads: [json]\nusers: [1]\narrival_rates: [10]\n",
            "run",
            "--matrix",
            "{}",
        ),
        "both given",
    ),
    Case(
        "matrix-missing-modes",
        with_file("m.yml", "workloads: [json]\n", "run", "--matrix", "{}"),
        "missing key 'modes'",
    ),
    Case(
        "matrix-trials-text",
        with_file("m.yml", "modes: [waitress]\nworkloads: [json]\ntrials: many\n", "run", "--matrix", "{}"),
        "not a number of trials",
    ),
    # A matrix file's every refusal names the file and the key, the registry's too.
    *(
        Case(f"matrix-{name}", with_file("m.yml", text, "run", "--matrix", "{}", "--out", "{root}/o"), says)
        for name, text, says in (
            ("unknown-mode", "modes: [apache]\nworkloads: [json]\n", "m.yml: modes: unknown mode 'apache'"),
            (
                "unknown-workload",
                "modes: [waitress]\nworkloads: [nope]\n",
                "m.yml: workloads: unknown workload",
            ),
            (
                "tunable-out-of-range",
                "modes: ['gunicorn-sync[workers=99999]']\nworkloads: [json]\n",
                "m.yml: modes: gunicorn-sync: workers=99999 is out of range",
            ),
            (
                "unknown-tunable",
                "modes: ['gunicorn-sync[threads=4]']\nworkloads: [json]\n",
                "m.yml: modes: gunicorn-sync: unknown tunable 'threads'",
            ),
            (
                "workload-parameter-out-of-range",
                "modes: [waitress]\nworkloads: ['io[ms=99999]']\n",
                "m.yml: workloads: io: ms=99999 is out of range",
            ),
            ("not-a-spec", "modes: ['a b']\nworkloads: [json]\n", "m.yml: modes: 'a b': not a spec"),
            (
                "description-a-mapping",
                "modes: [waitress]\nworkloads: [json]\ndescription: {a: 1}\n",
                "m.yml: description: \"{'a': 1}\" is not text",
            ),
            (
                "description-a-list",
                "modes: [waitress]\nworkloads: [json]\ndescription: [a, b]\n",
                "description: \"['a', 'b']\" is not text",
            ),
            (
                "description-a-number",
                "modes: [waitress]\nworkloads: [json]\ndescription: 1.10\n",
                "description: '1.1' is not text (allowed: any text; quote a number)",
            ),
            (
                "description-a-boolean",
                "modes: [waitress]\nworkloads: [json]\ndescription: yes\n",
                "description: 'True' is not text",
            ),
            (
                "duration-arabic-digits",
                "modes: [waitress]\nworkloads: [json]\nduration: \u0662\u0660s\n",
                "m.yml: duration: '\u0662\u0660s' is not a duration",
            ),
            (
                "memory-arabic-digits",
                "modes: [waitress]\nworkloads: [json]\nserver_memory: \u0662g\n",
                "m.yml: server_memory:",
            ),
        )
    ),
    Case(
        "matrix-mode-twice",
        with_file("m.yml", "modes: [waitress, waitress]\nworkloads: [json]\n", "run", "--matrix", "{}"),
        "twice",
    ),
    # Refused before any image is built or container touched.
    Case(
        "server-cpus-beyond-machine",
        with_file("x", "", "run", "--server-cpus", str(len(os.sched_getaffinity(0))), "--out", "{root}/new"),
        "leaves no core",
    ),
    Case("out-empty", args("run", "--out", ""), "--out is empty"),
    Case("out-a-file", with_file("f.txt", "x", "run", "--out", "{}"), "is a file"),
    Case("out-another-matrix", with_run("run", "--out", "{run}"), "different matrix"),
    Case("out-another-matrix-forced", with_run("run", "--out", "{run}", "--force"), "different matrix"),
    Case("out-under-proc", args("run", "--out", "/proc/self/run"), "is under /proc, the kernel's"),
    Case("out-proc-itself", args("run", "--out", "/proc"), "is under /proc"),
    Case("out-under-sys", args("run", "--out", "/sys/kernel/run"), "is under /sys"),
    Case("out-a-run-s-cells", with_run("run", "--out", "{run}/cells"), "is inside the cells of the run"),
    Case("out-in-a-run-s-cells", with_run("run", "--out", "{run}/cells/new"), "is inside the cells"),
    Case("out-below-a-file", with_file("f.txt", "x", "run", "--out", "{}/run"), "is a file, so no folder"),
    Case("out-a-fifo", with_fifo("fifo", "run", "--out", "{}"), "is a FIFO"),
    Case("out-a-link-loop", with_link_loop("run", "--out", "{}"), "lead in a loop"),
    # The run's own options, each checked before the matrix is read.
    Case("calibration-none-and-new", args("run", "--no-calibration", "--recalibrate"), "not both"),
    Case("quiet-wait-without-unit", args("run", "--quiet-wait", "30"), "not a duration; write it with"),
    Case("quiet-wait-negative", args("run", "--quiet-wait=-1s"), "not a duration"),
    Case("quiet-wait-too-long", args("run", "--quiet-wait", "61m"), "out of range (allowed: 0ms to 3600s)"),
    Case("profile-a-relative-path", args("run", "--profile", "../profiles/quick"), "not a profile's name"),
    Case("profile-an-absolute-path", args("run", "--profile", "/etc/passwd"), "given with --matrix FILE"),
    Case("profile-with-suffix", args("run", "--profile", "quick.yml"), "not a profile's name"),
    Case("profile-empty", args("run", "--profile", ""), "not a profile's name"),
    Case("matrix-empty-option", args("run", "--matrix", ""), "--matrix is empty"),
    Case("matrix-blank-option", args("run", "--matrix", "  "), "--matrix is empty"),
    Case("matrix-a-folder", args("run", "--matrix", "/"), "/: is a folder, not a regular file"),
    Case("duration-arabic-digits", args("run", "--duration", "\u0662\u0660s"), "not a duration"),
    Case("warmup-devanagari-digits", args("run", "--warmup", "\u0966\u096bs"), "not a duration"),
    Case("duration-fullwidth-digits", args("run", "--duration", "\uff12\uff10s"), "not a duration"),
    Case("memory-arabic-digits", args("run", "--server-memory", "\u0662g"), "not a memory size"),
    Case("memory-5000-digits", args("run", "--server-memory", "9" * 5000 + "m"), "not a memory size"),
    Case("duration-5000-digits", args("run", "--duration", "9" * 5000 + "s"), "not a duration"),
    # Choices and percentages.
    Case("export-format", args("export", "x", "--format", "xml"), "invalid choice"),
    Case("threshold-100", args("compare", "a", "b", "--threshold", "100"), "out of range"),
    Case("threshold-text", args("compare", "a", "b", "--threshold", "five"), "not a percentage"),
    Case("threshold-long", args("compare", "a", "b", "--threshold", LONG), "not a percentage"),
    Case("baseline-name", with_run("baseline", "save", "{run}", "../escape"), "is not allowed"),
    Case("baseline-name-long", with_run("baseline", "save", "{run}", "n" * 100), "is not allowed"),
    Case("baseline-name-empty", with_run("baseline", "save", "{run}", ""), "is not allowed"),
    # Saving a baseline over itself would delete the run (its report, its samples) before copying it.
    Case("baseline-save-itself", saved_baseline("baseline", "save", "{saved}", "--force"), "itself"),
    Case(
        "baseline-save-itself-named",
        saved_baseline("baseline", "save", "{saved}", "kept", "--force"),
        "itself",
    ),
    Case(
        "baseline-save-its-cells", saved_baseline("baseline", "save", "{saved}/cells/..", "--force"), "itself"
    ),
    Case("compare-unknown-baseline", with_run("compare", "nope", "{run}"), "neither a run folder"),
    # Output paths.
    Case("export-to-folder", with_run("export", "{run}", "-o", "{root}"), "is a folder"),
    Case(
        "export-over-run-json",
        with_run("export", "{run}", "--format", "json", "-o", "{run}/run.json"),
        "own result files",
    ),
    Case("report-to-folder", with_run("report", "{run}", "-o", "{root}"), "is a folder"),
    Case("report-over-run-json", with_run("report", "{run}", "-o", "{run}/run.json"), "own result files"),
    # Publishing: bundles, reproductions and sites.
    Case("bundle-no-commit", with_run("bundle", "{run}", "-o", "{root}/b.tar.gz"), "records no git commit"),
    Case(
        "bundle-over-run-json",
        with_run("bundle", "{run}", "-o", "{run}/run.json", "--inputs-from-worktree"),
        "own result files",
    ),
    Case(
        "bundle-to-folder",
        with_run("bundle", "{run}", "-o", "{root}", "--inputs-from-worktree"),
        "is a folder",
    ),
    Case("bundle-not-a-run", args("bundle", "/nonexistent/run", "-o", "b.tar.gz"), "not a run folder"),
    Case("bundle-no-output", with_run("bundle", "{run}"), "-o/--output"),
    *(Case(f"reproduce-{name}", with_bundle(spoil, *REPRODUCE), says) for name, spoil, says in BAD_BUNDLES),
    Case("reproduce-missing", args("reproduce", "/nonexistent/b.tar.gz"), "no such file"),
    Case("reproduce-a-folder", args("reproduce", "/"), "is a folder"),
    Case(
        "reproduce-not-a-tar",
        with_file("b.tar.gz", "notes", "reproduce", "{}"),
        "damaged or not a servingmatrix bundle",
    ),
    Case(
        "reproduce-against-and-out",
        with_bundle(lambda b: b, "reproduce", "{bundle}", "--against", "{root}", "--out", "{root}/o"),
        "not both",
    ),
    Case(
        "reproduce-against-no-run",
        with_bundle(lambda b: b, "reproduce", "{bundle}", "--against", "{root}/none"),
        "not a run folder",
    ),
    Case("site-not-a-run", args("site", "/nonexistent/run", "-o", "site"), "not a run folder"),
    Case("site-over-other-files", with_run("site", "{run}", "-o", "{root}"), "not a site"),
    Case("site-twice", with_run("site", "{run}", "{run}", "-o", "{root}/site"), "given twice"),
    # A user's app: its folder, its app.yml, its requirements, its requests.
    Case(
        "app-not-a-folder", args("run", "--app", "/nonexistent/app", "--workloads", "app:x"), "not a folder"
    ),
    Case("app-empty-option", args("run", "--app", " ", "--workloads", "app:x"), "is not a folder"),
    Case("app-yml-missing", with_app(None), "app.yml: missing"),
    Case("app-yml-a-list", with_app("- shop\n"), "expected a mapping of name, version, wsgi"),
    Case("app-yml-binary", with_app("", files={**APP_FILES, "app.yml": b"\x00\xff"}), "not a text file"),
    Case("app-yml-alias", with_app(APP_YML + "version: &v x\n"), "anchors and aliases"),
    Case("app-yml-key-twice", with_app(APP_YML + "name: again\n"), "given twice"),
    Case("app-unknown-key", with_app(APP_YML + "port: 8000\n"), "unknown key 'port' (allowed: name, version"),
    Case("app-missing-wsgi", app_with("wsgi: shop:app\n", ""), "missing key 'wsgi'"),
    Case("app-name-spaces", app_with("name: shop", "name: My Shop"), "name: 'My Shop' is not allowed"),
    Case("app-name-latest", app_with("name: shop", "name: latest"), "not 'latest'"),
    Case("app-name-number", app_with("name: shop", "name: 42"), "name: 42 is not text"),
    Case("app-version-number", with_app(APP_YML + "version: 1.10\n"), "version: 1.1 is not text"),
    Case("app-version-long", with_app(APP_YML + f"version: {'v' * 65}\n"), "1 to 64 printable characters"),
    Case("app-wsgi-no-callable", app_with("wsgi: shop:app", "wsgi: shop"), "is not module:callable"),
    Case("app-wsgi-no-module", app_with("wsgi: shop:app", "wsgi: store.wsgi:app"), "no store/ or store.py"),
    Case(
        "app-wsgi-harness-package",
        app_with("wsgi: shop:app", "wsgi: servingmatrix_entry:app"),
        "the harness's own package",
    ),
    Case("app-health-relative", app_with("health: /healthz", "health: healthz"), "health: 'healthz' is not"),
    Case("app-health-quote", app_with("health: /healthz", 'health: "/it\'s"'), "allowed: a path of"),
    Case(
        "app-requirements-missing",
        app_with("requirements.txt", "reqs.txt"),
        "requirements: 'reqs.txt': no such file",
    ),
    Case(
        "app-requirements-outside",
        app_with("requirements.txt", "../requirements.txt"),
        "is outside",
    ),
    Case(
        "app-requirements-a-lock",
        with_app(
            APP_YML.replace("requirements.txt", "r.lock"), files={**APP_FILES, "r.lock": "flask==3.1.3\n"}
        ),
        "not a .lock",
    ),
    *(
        Case(
            f"app-requirement-{name}",
            with_app(APP_YML, files={**APP_FILES, "requirements.txt": text}),
            says,
        )
        for name, text, says in (
            ("unpinned", "flask>=3.1\n", "line 1: 'flask>=3.1' is not pinned with =="),
            ("bare", "# the app\nflask\n", "line 2: 'flask' is not pinned with =="),
            ("wildcard", "flask==3.*\n", "is not pinned with =="),
            ("url", "-e git+https://example.org/app.git\n", "is not pinned with =="),
            ("marker", "flask==3.1.3; python_version > '3'\n", "is not pinned with =="),
            ("twice", "flask==3.1.3\nFlask==3.1.2\n", "line 2: Flask is pinned twice"),
            ("none", "# nothing\n", "no requirement"),
        )
    ),
    Case("app-env-a-list", with_app(APP_YML + "env: [A]\n"), "env: ['A'] is not a mapping"),
    Case("app-env-harness", with_app(APP_YML + "env:\n  DATABASE_URL: x\n"), "set by the harness"),
    Case("app-env-number", with_app(APP_YML + "env:\n  DEBUG: 1\n"), "env.DEBUG: 1 is not text"),
    Case("app-env-name", with_app(APP_YML + "env:\n  1X: y\n"), "not a variable name"),
    Case(
        "app-seed-missing", with_app(APP_YML + "seed_sql: seed.sql\n"), "seed_sql: 'seed.sql': no such file"
    ),
    Case(
        "app-requests-empty", app_with("requests:\n  home:\n    path: /\n", "requests: {}\n"), "at least one"
    ),
    Case("app-request-unknown-key", request_with("timeout: 5"), "requests.home: unknown key 'timeout'"),
    Case("app-request-no-path", app_with("    path: /\n", "    weight: 1\n"), "missing key 'path'"),
    Case(
        "app-request-method", request_with("method: FETCH"), "requests.home.method: 'FETCH' is not a method"
    ),
    Case("app-request-path", app_with("path: /", "path: home"), "requests.home.path: 'home' is not a path"),
    Case("app-request-path-space", app_with("path: /", "path: /a b"), "is not a path"),
    Case("app-request-weight-zero", request_with("weight: 0"), "requests.home.weight: 0 is not allowed"),
    Case("app-request-weight-text", request_with("weight: lots"), "allowed: an integer in 1..10000"),
    Case("app-request-status-404", request_with("statuses: [200, 404]"), "statuses[1]: 404 is not allowed"),
    Case("app-request-statuses-empty", request_with("statuses: []"), "statuses: [] is not allowed"),
    Case("app-request-status-repeated", request_with("statuses: [200, 200]"), "repeats a status"),
    Case("app-request-header-host", request_with("headers:\n  Host: x"), "set by the load generators"),
    Case(
        "app-request-header-newline",
        request_with('headers:\n  X-A: "a\\nb"'),
        "not one line of printable ASCII",
    ),
    Case("app-request-body-huge", request_with(f"body: {'x' * 20_000}"), "bytes (allowed: at most 16384)"),
    Case("app-request-named-mixed", app_with("  home:", "  mixed:"), "not 'mixed'"),
    Case("app-request-name-colon", app_with("  home:", '  "a:b":'), "not a request name"),
    # The workloads of a run go with its app.
    Case(
        "app-workload-of-the-registry",
        with_app(APP_YML, *RUN_APP[:-4], "--workloads", "json"),
        "not a workload of the app shop (allowed: app:home, app:mixed)",
    ),
    Case(
        "app-workload-without-app", args("run", "--workloads", "app:mixed"), "needs its app: give --app DIR"
    ),
    Case(
        "app-workload-in-a-matrix-without-app",
        with_file("m.yml", "modes: [waitress]\nworkloads: [app:home]\n", "run", "--matrix", "{}"),
        "needs its app",
    ),
    # Its locks: checked before anything is built (no engine is reached here).
    Case("app-run-unlocked", with_app(APP_YML), "requirements.lock: missing, the lock of"),
    Case(
        "app-run-stale-lock",
        with_app(
            APP_YML, files={**APP_FILES, "requirements.lock": f"flask==3.1.2 --hash=sha256:{'a' * 64}\n"}
        ),
        "holds no flask==3.1.3",
    ),
    Case(
        "app-build-unlocked", with_app(APP_YML, "build", "--app", "{app}", "--modes", "waitress"), "missing"
    ),
    Case("app-build-bad-yml", with_app(APP_YML + "x: 1\n", "build", "--app", "{app}"), "unknown key 'x'"),
    Case("app-lock-bad-yml", with_app(APP_YML + "x: 1\n", "lock", "--app", "{app}"), "unknown key 'x'"),
    Case("app-workloads-bad-yml", with_app(APP_YML + "x: 1\n", "workloads", "--app", "{app}"), "unknown key"),
]


def tree(root: Path) -> dict[str, bytes | tuple[int, int]]:
    """Every regular file under ``root``: its bytes, or for one over a megabyte (a sparse file one byte
    over a bound) its size and time of change."""

    def content(path: Path) -> bytes | tuple[int, int]:
        node = path.stat()
        return (node.st_size, node.st_mtime_ns) if node.st_size > 1 << 20 else path.read_bytes()

    return {str(p.relative_to(root)): content(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    monkeypatch.chdir(tmp_path)
    argv = case.setup(tmp_path)
    before = tree(tmp_path)
    code: object
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err
    # Nothing is said before a refusal: a line on standard output would read as work begun.
    assert out == "", out
    assert len(lines) == 1, err
    assert lines[0].startswith("servingmatrix: error: "), err
    assert case.says in lines[0], err
    assert "Docker engine" not in lines[0]
    assert len(lines[0]) <= MAX_ERROR_CHARS + 100
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", FIELD_COMMANDS, ids=[c for c, _ in FIELD_COMMANDS])
def test_the_full_cell_is_read_by_every_command(
    command: tuple[str, tuple[str, ...]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated cases spoil one field of this cell or of the good run.json: each is refused for it."""
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    monkeypatch.chdir(tmp_path)
    argv = with_run_files(json.dumps(GOOD_RUN), json.dumps(FULL_CELL), *command[1])(tmp_path)
    assert main(argv) == 0


@pytest.mark.parametrize("command", RESULT_COMMANDS, ids=[c for c, _ in RESULT_COMMANDS])
def test_the_good_run_json_is_read_by_every_command(
    command: tuple[str, tuple[str, ...]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bad run.json files above are this one with one field wrong: each is refused for that field."""
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    monkeypatch.chdir(tmp_path)
    argv = with_bad_run(json.dumps(GOOD_RUN), *command[1])(tmp_path)
    assert main(argv) == 0


@pytest.mark.parametrize("command", RESULT_COMMANDS, ids=[c for c, _ in RESULT_COMMANDS])
def test_the_good_run_json_of_several_hosts_is_read_by_every_command(
    command: tuple[str, tuple[str, ...]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bad hosts' records above are this one's with one field wrong."""
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    monkeypatch.chdir(tmp_path)
    argv = with_bad_run(json.dumps(GOOD_HOSTS_RUN), *command[1])(tmp_path)
    assert main(argv) == 0


@pytest.mark.parametrize("form", ["fifo", "folder", "dev-zero", "oversized", "deep"])
def test_a_baseline_record_that_is_not_a_file_is_listed_without_its_date(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``baseline list`` reads each baseline's record leniently: one that does not read is a date
    unknown, never a hang (a FIFO) nor a gigabyte read (a device)."""
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    saved_baseline()(tmp_path)
    make_form(tmp_path / "baselines" / "kept" / "baseline.json", form, input_files.BASELINE_INFO, "{")
    assert main(["baseline", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()[1]
    assert listed.startswith("kept  —")


# Hostile text in a run: a description, a mode's name or a machine string that holds markup is shown
# as text in every page made from the run, never run as script or read as markup.
SCRIPT, IMG = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"
#: What a place holds, ``{}`` the place's name (so a page's text says which place it shows).
MARKUP = {
    "script": SCRIPT + " in the {}",
    "img": IMG + " in the {}",
    # A run of backticks as long as a code span's fence would end the span early.
    "script-in-backticks": "``" + SCRIPT + " in the {}``",
    # A line break would end a Markdown table row, and the next line would open an HTML block.
    "img-after-a-line-break": "a\n" + IMG + " in the {}",
}
#: Where a run's text reaches the pages: each place's payload names the place in its alert.
PLACES = ("description", "mode", "cpu_model", "kernel", "docker_version")


def hostile_run(root: Path, markup: str) -> dict[str, str]:
    """A run whose description, one mode and machine strings each hold ``markup`` naming the place;
    returns the text of each place."""
    texts = {place: markup.format(place) for place in PLACES}
    hostile_mode = texts["mode"]
    cells = {
        (mode, "json", step, 1): cell(rps * step, p99=5.0)
        for mode, rps in ((SYNC, 100.0), (hostile_mode, 90.0))
        for step in (1, 8)
    }
    write_run(root, cells, [1, 8])
    meta = json.loads((root / "run.json").read_text())
    meta["matrix"]["description"] = texts["description"]
    meta["matrix"]["modes"] = [SYNC, hostile_mode]
    meta["metadata"].update({place: texts[place] for place in PLACES[2:]})
    (root / "run.json").write_text(json.dumps(meta))
    return texts


def code_spans_removed(line: str) -> str:
    """A Markdown line without its code spans (CommonMark: a span ends at the next run of backticks
    as long as the one that opened it); an unclosed run stays, as Markdown leaves it."""
    out, i = [], 0
    while i < len(line):
        if line[i] != "`" or (i and line[i - 1] == "\\"):
            out.append(line[i])
            i += 1
            continue
        fence = re.match(r"`+", line[i:])
        assert fence is not None
        closing = re.compile(rf"(?<!`){fence.group()}(?!`)")
        end = closing.search(line, i + len(fence.group()))
        if end is None:
            out.append(fence.group())
            i += len(fence.group())
        else:
            i = end.end()
    return "".join(out)


@pytest.mark.parametrize("name", MARKUP, ids=list(MARKUP))
def test_markup_in_a_run_is_shown_escaped_in_every_page(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    texts = hostile_run(run, MARKUP[name])
    assert main(["report", str(run), "-o", str(tmp_path / "report.html")]) == 0
    assert main(["compare", str(run), str(run), "-o", str(tmp_path / "compare.html")]) == 0
    assert main(["export", str(run), "--format", "md", "-o", str(tmp_path / "post.md")]) == 0
    report = (tmp_path / "report.html").read_text()
    compare = (tmp_path / "compare.html").read_text()
    markdown = (tmp_path / "post.md").read_text()
    svgs = [p.read_text() for p in sorted((tmp_path / "post-charts").glob("*.svg"))]
    assert len(svgs) == 2, "one workload: its throughput and its p99 chart"
    for place, text in texts.items():
        shown = str(markupsafe.escape(text.splitlines()[-1].strip("`")))
        assert shown in report, place
    assert str(markupsafe.escape(texts["mode"].splitlines()[-1].strip("`"))) in compare
    for page in (report, compare, *svgs):
        # Not even in the charts' data, where Plotly would read the tags of a name.
        assert "<script>alert" not in page
        assert "<img src" not in page
    # Markdown: outside code spans, every "<" is escaped; a code span never holds a line break.
    for line in markdown.splitlines():
        assert not re.search(r"(?<!\\)<", code_spans_removed(line)), line
    assert "the description" in markdown
