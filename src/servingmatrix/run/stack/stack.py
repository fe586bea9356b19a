"""A stack: the backing services (upstream, PostgreSQL) and one server under test, as containers.

Every container uses the host's network and listens on 127.0.0.1 only (as TechEmpower runs its
benchmarks: no NAT, no userland proxy in the measured path), or with several hosts on its host's
address in the inventory (the backing services may then be on another host's engine); it carries
the project's labels so a crashed run's leftovers can be found, and runs hardened: read-only root,
no capabilities, no new privileges, memory and pids limits.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from servingmatrix.engine.docker import PROJECT_LABEL, ContainerSpec, Docker
from servingmatrix.modes import ModeConfig
from servingmatrix.run.stack.readiness import wait_command_ready, wait_http_ready

RUN_LABEL = "io.servingmatrix.run"
#: The pid of the process that started the container: a container whose owner is gone is a leftover.
OWNER_LABEL = "io.servingmatrix.owner"
ROLE_LABEL = "io.servingmatrix.role"
LOOPBACK = "127.0.0.1"
# Every container is hardened by ContainerSpec's defaults: a read-only root, no capabilities, no new
# privileges. No Docker health check runs in a measured stack (``no_healthcheck``): its command would
# start in the container every interval, on the cores being measured (a Python process a second on the
# server's core, two every 250 ms on the load generator's took a third of its core). The harness polls
# readiness itself, only while it waits. The images keep their HEALTHCHECK for the compose stacks.
#: The services every session's server may call; kept from one session to the next while unchanged.
BACKING_ROLES = ("upstream", "postgres")
#: Rows written to PostgreSQL's tables since it started (inserted, updated, deleted): the workloads only
#: read, so a count that moved means the next session would not find the data set as the last one did.
WRITES_QUERY = (
    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_all_tables "
    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
)


def container_labels(run_id: str, role: str) -> dict[str, str]:
    """The labels every container of a run carries."""
    return {
        PROJECT_LABEL: "servingmatrix",
        RUN_LABEL: run_id,
        ROLE_LABEL: role,
        OWNER_LABEL: str(os.getpid()),
    }


@dataclass(frozen=True)
class Placement:
    """Where a container may run and how much of it: a cpuset and a CPU quota."""

    cpuset: str
    cpus: float
    memory: str = "1g"
    pids: int = 4096

    def applied_to(self, spec: ContainerSpec) -> ContainerSpec:
        """``spec`` placed here: its cpuset, CPU quota, memory and pids limits these."""
        return dataclasses.replace(
            spec, cpuset=self.cpuset, cpus=self.cpus, memory=self.memory, pids_limit=self.pids
        )


@dataclass(frozen=True)
class StackPorts:
    server: int = 18000
    upstream: int = 18081
    postgres: int = 15432


@dataclass
class Stack:
    """Starts and stops one stack's containers; stopping is safe to call at any point."""

    docker: Docker
    run_id: str
    ports: StackPorts = field(default_factory=StackPorts)
    #: Generated per stack: no password is baked into an image or written to results.
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    started: list[str] = field(default_factory=list)
    #: PostgreSQL's written-row count when the backing services became ready (None: not started).
    backing_writes: int | None = None
    #: Where the server listens and is reached: 127.0.0.1, or its host's address with several hosts.
    address: str = LOOPBACK
    #: The engine and address of the backing services when they are on another host (None: the server's).
    backing_docker: Docker | None = None
    backing_address: str | None = None

    def name(self, role: str) -> str:
        return f"servingmatrix-{self.run_id}-{role}"

    def engine(self, role: str) -> Docker:
        """The engine a role's container runs on: the backing services' own, or the server's."""
        if role in BACKING_ROLES and self.backing_docker is not None:
            return self.backing_docker
        return self.docker

    @property
    def backing_host(self) -> str:
        """The address the backing services listen on and the server calls them at."""
        return self.backing_address or self.address

    def _remove(self, names: list[str]) -> None:
        """Remove containers of this stack, each from the engine it runs on."""
        for engine in {id(e): e for e in (self.docker, self.backing_docker) if e is not None}.values():
            mine = [n for n in names if self.engine(n.rsplit("-", 1)[-1]) is engine]
            if mine:
                engine.remove_containers(mine)

    def _start(
        self,
        role: str,
        image: str,
        placement: Placement,
        env: Mapping[str, str],
        command: tuple[str, ...] = (),
        *,
        tmpfs: Mapping[str, str] | None = None,
        shm_size: str | None = None,
    ) -> str:
        """Start the stack's container of ``role``: on the host's network, hardened, placed, labelled,
        without a health check."""
        name = self.name(role)
        engine = self.engine(role)
        engine.remove_containers([name])
        self.started.append(name)
        spec = ContainerSpec(
            name=name,
            image=image,
            command=command,
            env=env,
            labels=container_labels(self.run_id, role),
            tmpfs=tmpfs or {},
            shm_size=shm_size,
            no_healthcheck=True,
        )
        engine.run_detached(placement.applied_to(spec))
        return name

    @property
    def upstream_url(self) -> str:
        return f"http://{self.backing_host}:{self.ports.upstream}"

    @property
    def database_url(self) -> str:
        return f"postgresql://bench@{self.backing_host}:{self.ports.postgres}/bench"

    @property
    def server_url(self) -> str:
        return f"http://{self.address}:{self.ports.server}"

    def start_upstream(self, placement: Placement, timeout_s: float = 60.0) -> float:
        """Start the upstream HTTP service; return the seconds until it was healthy."""
        upstream = self._start(
            "upstream",
            "servingmatrix/upstream:latest",
            placement,
            {"HOST": self.backing_host, "PORT": str(self.ports.upstream)},
        )
        return wait_http_ready(self.engine("upstream"), upstream, f"{self.upstream_url}/healthz", timeout_s)

    def start_backing(self, placement: Placement, timeout_s: float = 60.0) -> float:
        """Start upstream and PostgreSQL; return the seconds until both were healthy."""
        postgres = self._start(
            "postgres",
            "servingmatrix/postgres:latest",
            placement,
            {
                "POSTGRES_PASSWORD": self.password,
                "PGPORT": str(self.ports.postgres),
                "PG_LISTEN": self.backing_host,
            },
            tmpfs={
                "/var/run/postgresql": "rw,uid=10001,gid=10001,mode=0700,size=256m",
                "/tmp": "rw,mode=1777,size=16m",
            },
            shm_size="128m",
        )
        ready = [
            "pg_isready",
            "--quiet",
            "--host=/var/run/postgresql",
            f"--port={self.ports.postgres}",
            "--dbname=postgres",
            "--username=postgres",
        ]
        # Both start at once; then each is waited for.
        upstream = self.start_upstream(placement, timeout_s)
        seconds = upstream + wait_command_ready(self.engine("postgres"), postgres, ready, timeout_s)
        self.backing_writes = self.database_writes()
        return seconds

    def database_writes(self) -> int | None:
        """Rows written to PostgreSQL's tables since it started; None when it cannot be asked."""
        output = self.engine("postgres").exec_output(
            self.name("postgres"),
            [
                "psql",
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--host=/var/run/postgresql",
                f"--port={self.ports.postgres}",
                "--username=postgres",
                "--dbname=bench",
                f"--command={WRITES_QUERY}",
            ],
        )
        try:
            return int((output or "").strip())
        except ValueError:
            return None

    def backing_changed(self) -> str | None:
        """Why the running backing services cannot serve another session as they are; None if they can."""
        if self.backing_writes is None:
            return "not started"
        for role in BACKING_ROLES:
            state = (self.engine(role).container_inspect(self.name(role)) or {}).get("State", {})
            if not state.get("Running"):
                return f"{role} is no longer running"
        writes = self.database_writes()
        if writes != self.backing_writes:
            return f"PostgreSQL's tables were written to ({self.backing_writes} then {writes} rows)"
        return None

    def ensure_backing(self, placement: Placement, timeout_s: float = 60.0) -> str | None:
        """Keep the backing services if unchanged, else (re)start them; None if kept, else why not."""
        reason = self.backing_changed()
        if reason is None:
            return None
        self.stop_backing()
        self.start_backing(placement, timeout_s)
        return reason

    def stop_backing(self) -> None:
        names = [self.name(role) for role in BACKING_ROLES]
        self._remove(names)
        self.started = [name for name in self.started if name not in names]
        self.backing_writes = None

    def start_server(
        self,
        config: ModeConfig,
        placement: Placement,
        timeout_s: float = 60.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> float:
        """Start the server under test; return the seconds until it answered /healthz. ``extra_env``
        adds to its environment (a test's setting that the mode itself does not make)."""
        launch = config.launch(self.address, self.ports.server)
        env = {
            "SERVING_MODE": config.spec,
            "PORT": str(self.ports.server),
            "UPSTREAM_URL": self.upstream_url,
            "DATABASE_URL": self.database_url,
            "PGPASSWORD": self.password,
            **dict(launch.env),
            **dict(extra_env or {}),
        }
        server = self._start(
            "server",
            config.image,
            placement,
            env,
            tuple(launch.argv),
            tmpfs={"/tmp": "rw,mode=1777,size=64m"},
        )
        health = f"{self.server_url}{config.target.health_path}"
        return wait_http_ready(self.docker, server, health, timeout_s)

    def stop_server(self) -> None:
        name = self.name("server")
        self.docker.remove_containers([name])
        if name in self.started:
            self.started.remove(name)

    def stop_session(self) -> None:
        """Remove a session's containers (the server, the load generators), keeping the backing ones."""
        backing = {self.name(role) for role in BACKING_ROLES}
        gone = [name for name in reversed(self.started) if name not in backing]
        self._remove(gone)
        self.started = [name for name in self.started if name in backing]

    def stop(self) -> None:
        self._remove(list(reversed(self.started)))
        self.started.clear()
        self.backing_writes = None

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
