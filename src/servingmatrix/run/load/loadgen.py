"""The load generator: Locust in its own container, and the timings it leaves behind.

Locust never runs in the orchestrating process (it monkey-patches on import). Its container uses the
host's network, so traffic stays on 127.0.0.1, and writes ``schedule.json`` (each step's absolute
times) and ``samples-<pid>.csv`` (one line per request) into a folder of the run.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from servingmatrix.engine.docker import ContainerSpec
from servingmatrix.errors import UserError
from servingmatrix.run.load.arrivals import Arrivals
from servingmatrix.run.measure.latency import RequestSample
from servingmatrix.run.stack.stack import Placement, container_labels
from servingmatrix.workloads import Request, WorkloadConfig

LOCUST_IMAGE = "servingmatrix/locust:latest"
REQUEST_TIMEOUT_S = 30.0
#: Open loop: requests one load process keeps in flight at most (later arrivals are failures).
MAX_IN_FLIGHT = 1_000
#: The one locustfile, in the image: it sends the requests given in SM_REQUESTS.
LOCUSTFILE = "/srv/locustfiles/workload.py"
#: The calibration runs the same locustfile: only its requests differ.
CALIBRATION_LOCUSTFILE = LOCUSTFILE
#: A gated Locust container's go: the file the harness writes into its output folder once the server is
#: up and checked (the locustfile's ``SM_GO``).
GO_FILE = "go"
#: The calibration's request: the upstream's trivial endpoint, as fast as the generator can.
CALIBRATION_REQUESTS = (Request("calibrate", "/delay?ms=0"),)


#: The role of a distributed worker's figures in the cgroup samples and the applied limits:
#: ``loadgen@<host>/<n>``; a single load container's is ``loadgen``.
WORKER_ROLE_PREFIX = "loadgen@"


def is_loadgen_role(role: str) -> bool:
    """The generator's own figures: one container's (``loadgen``) or a worker's (``loadgen@h/n``)."""
    return role == "loadgen" or role.startswith(WORKER_ROLE_PREFIX)


#: A closed loop holds a number of users (each sends its next request when the last is answered);
#: an open loop offers a number of requests per second, whatever the answers' latency.
LoadKind = Literal["closed", "open"]


@dataclass(frozen=True)
class Load:
    """What one step applies: ``amount`` users in a closed loop, ``amount`` requests per second offered
    in an open loop.

    Files keep the amount under ``users`` whatever the kind (Locust's ``schedule.json``, a cell's key
    and file name, the export's column), so results of every schema read alike; the cell's ``load``
    and the run's ``arrival_rates`` say which it counts.
    """

    amount: int
    kind: LoadKind = "closed"

    @property
    def open_loop(self) -> bool:
        return self.kind == "open"

    @property
    def offered_rps(self) -> float | None:
        """The requests per second an open-loop step offers; None in a closed loop."""
        return float(self.amount) if self.open_loop else None

    def __str__(self) -> str:
        return f"{self.amount} req/s offered" if self.open_loop else f"{self.amount} users"


@dataclass(frozen=True)
class Step:
    """One step as Locust ran it: its load, when it began, when its measured window began and ended."""

    load: Load
    start: float
    measure_from: float
    end: float

    def shifted(self, seconds: float) -> Step:
        """The same step with its times moved by ``seconds`` (onto another host's clock)."""
        return Step(self.load, self.start + seconds, self.measure_from + seconds, self.end + seconds)


@dataclass(frozen=True)
class LoadgenOutput:
    steps: list[Step]
    samples: list[RequestSample]
    processes: int


@dataclass(frozen=True)
class LocustJob:
    """What one Locust session sends, wherever it runs: the requests, the target, the steps, the times.

    One container (``locust_args``) or a master and its workers on several hosts (``distributed``)
    are made from the same job.
    """

    workload: WorkloadConfig | None
    target: str
    loads: tuple[Load, ...]
    warmup_s: float
    duration_s: float
    request_timeout_s: float = REQUEST_TIMEOUT_S
    locustfile: str = LOCUSTFILE
    #: Open loop: how the arrivals are spaced, and their seed.
    arrivals: Arrivals = field(default_factory=Arrivals)

    @property
    def open_loop(self) -> bool:
        return any(load.open_loop for load in self.loads)

    def env(self, workers: int | None = None, out: str = "/out") -> dict[str, str]:
        """The locustfile's settings; ``workers``: how many workers on every host share the load."""
        requests = self.workload.requests() if self.workload is not None else CALIBRATION_REQUESTS
        env = {
            "SM_STEPS": ",".join(str(load.amount) for load in self.loads),
            "SM_WARMUP_S": f"{self.warmup_s:g}",
            "SM_DURATION_S": f"{self.duration_s:g}",
            "SM_REQUESTS": requests_json(requests),
            "SM_REQUEST_TIMEOUT_S": f"{self.request_timeout_s:g}",
            "SM_OUT": out,
            "SM_LOAD": "open" if self.open_loop else "closed",
            "SM_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
        }
        if self.open_loop:
            env.update(self.arrivals.env())
        if workers is not None:
            env["SM_WORKERS"] = str(workers)
        return env

    def command(self) -> tuple[str, ...]:
        """Locust's arguments for the process that runs the steps (alone, or as the master)."""
        return (
            "-f",
            self.locustfile,
            "--headless",
            "--host",
            self.target,
            "--only-summary",
            "--loglevel",
            "WARNING",
            # Failed requests are results to record, not a reason for Locust to report failure.
            "--exit-code-on-error",
            "0",
        )


def locust_spec(
    job: LocustJob,
    *,
    name: str,
    run_id: str,
    out_dir: Path,
    placement: Placement,
    processes: int = 1,
    gated: bool = False,
) -> ContainerSpec:
    """The one container of a Locust session on this machine: ``processes`` load processes forked by
    Locust itself, writing into ``out_dir``. Open loop, each step's arrival rate is shared by them.
    ``gated``: its first step waits until ``GO_FILE`` appears in ``out_dir``, so it can start beside
    the server's start."""
    command = job.command() + (("--processes", str(processes)) if processes > 1 else ())
    gate = {"SM_GO": f"/out/{GO_FILE}"} if gated else {}
    spec = ContainerSpec(
        name=name,
        image=LOCUST_IMAGE,
        command=command,
        env={**job.env(), **gate},
        labels=container_labels(run_id, "loadgen"),
        tmpfs={"/tmp": "rw,mode=1777,size=64m"},
        # The samples are written as the invoking user, so the run folder stays theirs.
        user=f"{os.getuid()}:{os.getgid()}",
        binds={str(out_dir.resolve()): "/out"},
    )
    return placement.applied_to(spec)


def requests_json(requests: tuple[Request, ...]) -> str:
    """``SM_REQUESTS``: the requests as the locustfile reads them, a JSON list of name, path, weight, and
    for a request that is not a plain GET its method, headers and body."""
    return json.dumps([_request_entry(r) for r in requests])


def _request_entry(request: Request) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": request.name, "path": request.path, "weight": request.weight}
    if not request.plain:
        entry.update(method=request.method, headers=dict(request.headers), body=request.body)
    return entry


def read_output(out_dir: Path, kind: LoadKind = "closed") -> LoadgenOutput:
    """Read what a finished Locust session of ``kind`` wrote; one clear line if it wrote nothing usable."""
    schedule_file = out_dir / "schedule.json"
    steps = read_schedule(out_dir, kind)
    processes = int(json.loads(schedule_file.read_text()).get("processes", 1))
    return LoadgenOutput(steps, read_samples(out_dir), processes)


def read_schedule(out_dir: Path, kind: LoadKind = "closed") -> list[Step]:
    """The steps as the session (or its master) ran them, from ``schedule.json``."""
    schedule_file = out_dir / "schedule.json"
    if not schedule_file.exists():
        raise UserError(f"{out_dir}: the load generator wrote no schedule.json (it did not start)")
    try:
        schedule: dict[str, Any] = json.loads(schedule_file.read_text())
        return [
            Step(Load(int(s["users"]), kind), float(s["start"]), float(s["measure_from"]), float(s["end"]))
            for s in schedule["steps"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{schedule_file}: unreadable schedule ({exc})") from None


def read_samples(out_dir: Path) -> list[RequestSample]:
    """Every request of every ``samples-*.csv`` in ``out_dir``; one line naming a malformed one."""
    samples: list[RequestSample] = []
    files = sorted(out_dir.glob("samples-*.csv"))
    if not files:
        raise UserError(f"{out_dir}: the load generator wrote no samples")
    for path in files:
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    if None in row.values():  # a line cut short: csv gives its missing fields as None
                        raise ValueError("missing fields")
                    samples.append(
                        RequestSample(
                            float(row["start"]),
                            float(row["ms"]),
                            row["ok"] == "1",
                            row["name"],
                            int(row["bytes"] or 0),
                        )
                    )
                except (KeyError, ValueError, TypeError):
                    raise UserError(f"{path}: malformed sample line {row!r:.80}") from None
    return samples
