"""A stack across hosts: the server on its host's engine and address, the backing services on theirs.

Each role's container is started, waited for, asked and removed on the engine it runs on; every URL
and listen address a container is given names the host it is reached at. A stack given neither stays
on one engine and 127.0.0.1, as before hosts. The engines are fakes; readiness is stubbed and recorded.
"""

from __future__ import annotations

import pytest

from servingmatrix.engine.docker import ContainerSpec
from servingmatrix.modes import resolve_mode
from servingmatrix.run.stack import stack as stack_module
from servingmatrix.run.stack.stack import LOOPBACK, Placement, Stack, StackPorts

from .fakes import FakeDocker

PORTS = StackPorts(server=28000, upstream=28081, postgres=28432)
SERVER_ADDRESS = "10.0.0.1"
BACKING_ADDRESS = "10.0.0.2"
SYNC = resolve_mode("gunicorn-sync[workers=1]", 1)
WAITRESS = resolve_mode("waitress[threads=2]", 1)
CORE = Placement("0", 1.0)

#: (engine waited on, container, what was awaited: a URL or a command's first word)
Wait = tuple[FakeDocker, str, str]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[Wait]:
    seen: list[Wait] = []

    def http(docker: FakeDocker, name: str, url: str, timeout_s: float) -> float:
        seen.append((docker, name, url))
        return 0.0

    def command(docker: FakeDocker, name: str, argv: list[str], timeout_s: float) -> float:
        seen.append((docker, name, argv[0]))
        return 0.0

    monkeypatch.setattr(stack_module, "wait_http_ready", http)
    monkeypatch.setattr(stack_module, "wait_command_ready", command)
    return seen


def across() -> tuple[Stack, FakeDocker, FakeDocker]:
    server, backing = FakeDocker(), FakeDocker()
    stack = Stack(
        server,
        "r1",
        PORTS,
        address=SERVER_ADDRESS,
        backing_docker=backing,
        backing_address=BACKING_ADDRESS,
    )
    return stack, server, backing


def specs(docker: FakeDocker) -> dict[str, ContainerSpec]:
    return {spec.name.rsplit("-", 1)[-1]: spec for spec in docker.started}


def test_each_role_runs_on_its_hosts_engine() -> None:
    stack, server, backing = across()
    assert stack.engine("server") is server and stack.engine("loadgen") is server
    assert stack.engine("upstream") is backing and stack.engine("postgres") is backing
    assert stack.backing_host == BACKING_ADDRESS


def test_the_backing_services_start_listen_and_are_awaited_on_their_host(waits: list[Wait]) -> None:
    stack, server, backing = across()
    backing.db_writes = 7
    stack.start_backing(CORE)
    assert server.started == []
    started = specs(backing)
    assert set(started) == {"upstream", "postgres"}
    assert started["upstream"].env["HOST"] == BACKING_ADDRESS
    assert started["postgres"].env["PG_LISTEN"] == BACKING_ADDRESS
    assert waits == [
        (backing, "servingmatrix-r1-upstream", f"http://{BACKING_ADDRESS}:28081/healthz"),
        (backing, "servingmatrix-r1-postgres", "pg_isready"),
    ]
    # PostgreSQL's writes were counted by asking the backing engine (the server's has no PostgreSQL).
    assert stack.backing_writes == 7


def test_the_server_runs_on_its_host_binds_its_address_and_calls_the_backing_host(
    waits: list[Wait],
) -> None:
    stack, server, backing = across()
    stack.start_server(SYNC, CORE)
    assert backing.started == []
    spec = specs(server)["server"]
    argv = list(spec.command)
    assert argv[argv.index("--bind") + 1] == f"{SERVER_ADDRESS}:28000"
    assert spec.env["UPSTREAM_URL"] == f"http://{BACKING_ADDRESS}:28081"
    assert spec.env["DATABASE_URL"] == f"postgresql://bench@{BACKING_ADDRESS}:28432/bench"
    assert waits == [(server, "servingmatrix-r1-server", f"http://{SERVER_ADDRESS}:28000/healthz")]
    assert stack.server_url == f"http://{SERVER_ADDRESS}:28000"


def test_every_mode_binds_the_servers_address(waits: list[Wait]) -> None:
    stack, server, _ = across()
    stack.start_server(WAITRESS, CORE)
    argv = list(specs(server)["server"].command)
    assert argv[argv.index("--listen") + 1] == f"{SERVER_ADDRESS}:28000"


def test_the_backing_services_are_checked_on_their_engine(waits: list[Wait]) -> None:
    stack, server, backing = across()
    stack.start_backing(CORE)
    assert stack.backing_changed() is None
    backing.db_writes = 3
    assert stack.backing_changed() == "PostgreSQL's tables were written to (0 then 3 rows)"
    backing.db_writes = 0
    backing.running["servingmatrix-r1-postgres"]["State"]["Running"] = False
    assert stack.backing_changed() == "postgres is no longer running"
    assert server.removed == []


def test_each_container_is_removed_from_the_engine_it_runs_on(waits: list[Wait]) -> None:
    stack, server, backing = across()
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    server.removed.clear()
    backing.removed.clear()
    stack.stop_session()
    assert (server.removed, backing.removed) == (["servingmatrix-r1-server"], [])
    stack.start_server(SYNC, CORE)
    server.removed.clear()
    stack.stop()
    assert server.removed == ["servingmatrix-r1-server"]
    # In the reverse of the order they started in (PostgreSQL first, then the upstream).
    assert backing.removed == ["servingmatrix-r1-upstream", "servingmatrix-r1-postgres"]
    assert stack.started == [] and stack.backing_writes is None


def test_stopping_the_backing_services_leaves_the_servers_engine_alone(waits: list[Wait]) -> None:
    stack, server, backing = across()
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    server.removed.clear()
    backing.removed.clear()
    stack.stop_backing()
    assert server.removed == []
    assert sorted(backing.removed) == ["servingmatrix-r1-postgres", "servingmatrix-r1-upstream"]
    assert stack.started == ["servingmatrix-r1-server"]


def test_a_container_is_cleared_from_its_own_engine_before_it_starts(waits: list[Wait]) -> None:
    stack, server, backing = across()
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    assert server.removed == ["servingmatrix-r1-server"]
    assert sorted(backing.removed) == ["servingmatrix-r1-postgres", "servingmatrix-r1-upstream"]


def test_backing_services_on_the_servers_engine_at_another_address(waits: list[Wait]) -> None:
    # One engine (backing_docker None), its backing services listening on their host's address.
    docker = FakeDocker()
    stack = Stack(docker, "r1", PORTS, address=SERVER_ADDRESS, backing_address=BACKING_ADDRESS)
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    started = specs(docker)
    assert set(started) == {"upstream", "postgres", "server"}
    assert started["postgres"].env["PG_LISTEN"] == BACKING_ADDRESS
    assert started["server"].env["UPSTREAM_URL"] == f"http://{BACKING_ADDRESS}:28081"
    stack.stop()
    assert set(docker.removed) >= {f"servingmatrix-r1-{r}" for r in ("upstream", "postgres", "server")}


def test_a_stack_without_hosts_is_one_engine_on_loopback(waits: list[Wait]) -> None:
    docker = FakeDocker()
    stack = Stack(docker, "r1", PORTS)
    assert stack.address == LOOPBACK == "127.0.0.1" and stack.backing_host == LOOPBACK
    assert all(stack.engine(role) is docker for role in ("server", "upstream", "postgres", "loadgen"))
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    started = specs(docker)
    assert started["upstream"].env["HOST"] == "127.0.0.1"
    assert started["postgres"].env["PG_LISTEN"] == "127.0.0.1"
    argv = list(started["server"].command)
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:28000"
    assert started["server"].env["UPSTREAM_URL"] == "http://127.0.0.1:28081"
    assert started["server"].env["DATABASE_URL"] == "postgresql://bench@127.0.0.1:28432/bench"
    assert {engine for engine, _, _ in waits} == {docker}
    docker.removed.clear()
    stack.stop()
    assert docker.removed == [
        "servingmatrix-r1-server",
        "servingmatrix-r1-upstream",
        "servingmatrix-r1-postgres",
    ]


def test_the_server_alone_is_stopped_on_its_engine(waits: list[Wait]) -> None:
    stack, server, backing = across()
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    server.removed.clear()
    backing.removed.clear()
    stack.stop_server()
    assert (server.removed, backing.removed) == (["servingmatrix-r1-server"], [])
    assert "servingmatrix-r1-server" not in stack.started


def test_backing_services_on_the_servers_host_listen_on_its_address(waits: list[Wait]) -> None:
    # A host's address and no other for the backing services: they are on the server's host.
    docker = FakeDocker()
    stack = Stack(docker, "r1", PORTS, address=SERVER_ADDRESS)
    assert stack.backing_host == SERVER_ADDRESS
    stack.start_backing(CORE)
    stack.start_server(SYNC, CORE)
    started = specs(docker)
    assert started["upstream"].env["HOST"] == started["postgres"].env["PG_LISTEN"] == SERVER_ADDRESS
    assert started["server"].env["DATABASE_URL"] == f"postgresql://bench@{SERVER_ADDRESS}:28432/bench"
