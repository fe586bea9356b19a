"""A fake Docker driver and stand-ins for containers, so the runner's pipeline runs in milliseconds.

The load generator's output is a recorded Locust run (tests/fixtures/locust), shifted in time so it
appears to have just happened.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import ContainerListing, ContainerSpec, Docker
from servingmatrix.modes import ModeConfig
from servingmatrix.run.measure.cgroups import Sample, Sampler
from servingmatrix.run.measure.disturbance import CoreReading
from servingmatrix.run.stack.stack import Placement, Stack, StackPorts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "locust"


def bound_at(spec: ContainerSpec, inside: str) -> Path:
    """The host folder ``spec`` mounts at ``inside``."""
    return Path(next(host for host, path in spec.binds.items() if path == inside))


class FakeDocker(Docker):
    """Answers the runner's calls from memory; starting Locust replays a recording."""

    def __init__(self, recording: str = "json-steps-1-4") -> None:
        super().__init__()
        self.recording = FIXTURES / recording
        self.running: dict[str, dict[str, Any]] = {}
        self.removed: list[str] = []
        self.started: list[ContainerSpec] = []
        self.ran_once: list[ContainerSpec] = []
        self.window: tuple[float, float] = (0.0, 0.0)
        self.server_dies_at: float | None = None
        self.inspections_left: dict[str, int] = {}
        #: What the reference generator (wrk) reaches against the fake server, req/s (the recording's
        #: Locust reaches 294 and 438: not below 0.90 of it); None: wrk writes nothing.
        self.reference_rps: float | None = 300.0
        #: Rows written to the fake PostgreSQL's tables, as its statistics would count them.
        self.db_writes = 0
        #: Containers the engine lists besides those this fake started (an earlier run's leftovers).
        self.listed: list[ContainerListing] = []
        #: The share of every core other work takes in each successive Locust session (the first
        #: first; quiet once used up); None: the cores are not read (not measured).
        self.other_work: list[float] | None = None
        #: Per Locust run, in order: every answer's latency (ms) replaced by this one (None: as recorded).
        self.answer_ms: list[float | None] = []
        #: Gated Locust containers started and not yet given their go (by name); those that were.
        self.gated: dict[str, ContainerSpec] = {}
        self.gone: list[str] = []

    def ping(self) -> None:
        return None

    def info(self) -> dict[str, Any]:
        return {"ServerVersion": "fake", "CgroupVersion": "2", "NCPU": 2}

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        return {"Id": f"sha256:{ref}", "RepoDigests": [], "Config": {"Labels": {}}}

    def container_listing(self, label_filters: Any) -> list[ContainerListing]:
        """The containers of ``listed`` that carry every label filtered on (None: with any value)."""
        return [
            c
            for c in self.listed
            if c.id not in self.removed
            and all(
                key in c.labels and value in (None, c.labels[key]) for key, value in label_filters.items()
            )
        ]

    def list_networks(self, label_filters: Any = None, *, name: str | None = None) -> list[str]:
        return []

    def list_volumes(self, label_filters: Any = None, *, name: str | None = None) -> list[str]:
        return []

    def run_once(self, spec: ContainerSpec, timeout: float = 60.0) -> tuple[int, str]:
        self.ran_once.append(spec)
        return 1, "wrk debian/4.1.0-4 [epoll] Copyright (C) 2012 Will Glozer\nUsage: wrk <options> <url>\n"

    def remove_containers(self, names: Any) -> None:
        for name in names:
            self.removed.append(name)
            self.running.pop(name, None)

    def logs(self, name: str, tail: int | None = 20) -> str:
        return "last words"

    def exec_output(self, name: str, argv: Any, timeout: float = 10.0) -> str | None:
        """PostgreSQL's written-row count (``db_writes``) for the stack's check of its backing services."""
        return f"{self.db_writes}\n" if name in self.running else None

    def run_detached(self, spec: ContainerSpec) -> str:
        self.started.append(spec)
        name = spec.name
        self.running[name] = {
            "State": {"Running": True, "Pid": 4242, "Health": {"Status": "healthy"}, "ExitCode": 0},
            "HostConfig": {"CpusetCpus": spec.cpuset, "NanoCpus": 1_000_000_000},
        }
        if spec.image == "servingmatrix/wrk:latest":
            self._reference(name, spec)
        if spec.image == "servingmatrix/locust:latest":
            # The generator is seen running once (when the runner reads its pid), then finished.
            self.inspections_left[name] = 1
            if "SM_GO" in spec.env:
                self.gated[name] = spec  # its steps run when the harness has written its go
            else:
                self._steps(spec)
        return name

    def _steps(self, spec: ContainerSpec) -> None:
        """A Locust container's steps: the recording replayed, and the server killed if asked."""
        self._replay(bound_at(spec, "/out"))
        if self.server_dies_at is not None:
            server = next(n for n in self.running if n.endswith("-server"))
            self.running[server]["State"].update(
                Running=False,
                OOMKilled=True,
                ExitCode=137,
                FinishedAt=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.server_dies_at)) + ".5Z",
            )

    def _reference(self, name: str, spec: ContainerSpec) -> None:
        """wrk ends at once; its measured run (told where to write) leaves a result at ``reference_rps``."""
        self.inspections_left[name] = 0
        writes = spec.env.get("SM_WRK_OUT")
        if writes is None or self.reference_rps is None:
            return
        out = bound_at(spec, "/out") / Path(writes).name
        opens, seconds = float(spec.env["SM_WRK_WINDOW_OPEN"]), float(spec.env["SM_WRK_WINDOW"])
        answers = round(self.reference_rps * seconds)
        result = {
            "requests": round(self.reference_rps * (opens + seconds)),
            "duration_us": (opens + seconds) * 1_000_000,
            "bytes": 1000,
            "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
            "latency_us": {"p50": 900, "p90": 1500, "p99": 3000, "p999": 4000, "mean": 1000, "max": 5000},
            "window": {"opens_s": opens, "seconds": seconds, "answers": answers, "failed": 0},
        }
        out.write_text(json.dumps(result))

    def _replay(self, out: Path) -> None:
        schedule = json.loads((self.recording / "schedule.json").read_text())
        shift = time.time() - schedule["steps"][-1]["end"] - 1.0
        for step in schedule["steps"]:
            for key in ("start", "measure_from", "end"):
                step[key] += shift
        schedule["t0"] += shift
        (out / "schedule.json").write_text(json.dumps(schedule))
        answer_ms = self.answer_ms.pop(0) if self.answer_ms else None
        for samples in self.recording.glob("samples-*.csv"):
            lines = samples.read_text().splitlines()
            shifted = [lines[0]]
            for line in lines[1:]:
                start, ms, rest = line.split(",", 2)
                ms = ms if answer_ms is None else f"{answer_ms:.3f}"
                shifted.append(f"{float(start) + shift:.6f},{ms},{rest}")
            (out / samples.name).write_text("\n".join(shifted) + "\n")
        self.window = (schedule["steps"][0]["start"], schedule["steps"][-1]["end"])
        if self.server_dies_at is not None:
            # Die at the given share of the recording's length.
            self.server_dies_at = self.window[0] + self.server_dies_at * (self.window[1] - self.window[0])

    def wait_exit(self, name: str, timeout_s: float) -> int | None:
        """The engine's wait, as this fake's containers end: after their inspections run out. A gated
        Locust container runs its steps here, once its go file is there (else it ends with none)."""
        spec = self.gated.pop(name, None)
        if spec is not None:
            go = bound_at(spec, "/out") / Path(spec.env["SM_GO"]).name
            if go.exists():
                self.gone.append(name)
                self._steps(spec)
        for _ in range(1000):
            info = self.container_inspect(name)
            if info is None:
                return None
            if not info["State"].get("Running"):
                return int(info["State"].get("ExitCode") or 0)
        return None

    def container_inspect(self, name: str) -> dict[str, Any] | None:
        info = self.running.get(name)
        if info is not None and name in self.inspections_left:
            if self.inspections_left[name] == 0:
                info["State"]["Running"] = False
            self.inspections_left[name] -= 1
        return info


class FakeStack(Stack):
    """Starts containers through the fake driver, without waiting on ports."""

    def start_backing(self, placement: Placement, timeout_s: float = 60.0) -> float:
        for role in ("upstream", "postgres"):
            self._start(role, f"servingmatrix/{role}:latest", placement, {})
        self.backing_writes = self.database_writes()
        return 0.0

    def start_upstream(self, placement: Placement, timeout_s: float = 60.0) -> float:
        self._start("upstream", "servingmatrix/upstream:latest", placement, {})
        return 0.0

    def start_server(
        self,
        config: ModeConfig,
        placement: Placement,
        timeout_s: float = 60.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> float:
        self._start("server", config.mode.image, placement, {})
        return 0.0


def fake_stack(docker: Docker, run_id: str, ports: StackPorts) -> Stack:
    return FakeStack(docker, run_id, ports)


def cores_over(start: float, end: float, other: float, cores: int = 64) -> list[CoreReading]:
    """Readings every half second over [start, end]: every core half busy with the project's own
    containers and ``other`` of its time with other work."""
    ticks = [start + i * 0.5 for i in range(int((end - start) / 0.5) + 2)]
    return [
        CoreReading(
            t,
            {c: (0.5 + other) * (t - start) * 1e9 for c in range(cores)},
            {c: 0.5 * (t - start) * 1e9 for c in range(cores)},
        )
        for t in ticks
    ]


class FakeSampler(Sampler):
    """Half a core for the server, a quarter for the generator, over the recorded window."""

    def __init__(self, docker: FakeDocker, pids: dict[str, int]) -> None:
        super().__init__({})
        self.docker = docker
        self.roles = list(pids)

    def start(self) -> Sampler:
        return self

    def stop(self) -> None:
        start, end = self.docker.window
        shares = {"server": 0.5, "loadgen": 0.25, "upstream": 0.3, "postgres": 0.1}
        if self.docker.other_work is not None:
            other = self.docker.other_work.pop(0) if self.docker.other_work else 0.0
            self.cores = cores_over(start, end, other)
        for role in self.roles:
            ticks = [start + i * 0.5 for i in range(int((end - start) / 0.5) + 2)]
            self.samples[role] = [
                Sample(t, int((t - start) * shares[role] * 1e9), 0, 0, 50 * 2**20) for t in ticks
            ]
            self.processes[role] = [(start, [(1, "gunicorn", 20 * 2**20), (2, "gunicorn", 40 * 2**20)])]
