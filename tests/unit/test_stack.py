"""What a measured stack's containers are started with: no health check on the measured cores, and
readiness polled by the harness instead (the engine is a fake; readiness is stubbed and recorded)."""

from __future__ import annotations

import pytest

from servingmatrix.engine.container_spec import run_kwargs
from servingmatrix.modes import resolve_mode
from servingmatrix.run.stack import stack as stack_module
from servingmatrix.run.stack.stack import Placement, Stack, StackPorts

from .fakes import FakeDocker

PORTS = StackPorts(server=28000, upstream=28081, postgres=28432)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def http(docker: object, name: str, url: str, timeout_s: float) -> float:
        seen.append((name, url))
        return 0.0

    def command(docker: object, name: str, argv: list[str], timeout_s: float) -> float:
        seen.append((name, argv[0]))
        return 0.0

    monkeypatch.setattr(stack_module, "wait_http_ready", http)
    monkeypatch.setattr(stack_module, "wait_command_ready", command)
    return seen


def test_no_container_of_a_measured_stack_runs_a_health_check(waits: list[tuple[str, str]]) -> None:
    docker = FakeDocker()
    stack = Stack(docker, "r1", PORTS)
    stack.start_backing(Placement("1", 1.0))
    stack.start_server(resolve_mode("gunicorn-sync[workers=1]", 1), Placement("0", 1.0))
    assert len(docker.started) == 3
    for spec in docker.started:
        assert spec.no_healthcheck and run_kwargs(spec)["healthcheck"] == {"test": ["NONE"]}
        assert spec.network == "host" and spec.read_only and spec.cap_drop_all and spec.no_new_privileges
    assert waits == [
        ("servingmatrix-r1-upstream", "http://127.0.0.1:28081/healthz"),
        ("servingmatrix-r1-postgres", "pg_isready"),
        ("servingmatrix-r1-server", "http://127.0.0.1:28000/healthz"),
    ]


class Readying(FakeDocker):
    """A container whose command succeeds on its third try, or which stops first."""

    def __init__(self, stops: bool = False) -> None:
        super().__init__()
        self.tries = 0
        self.stops = stops
        self.running["db"] = {"State": {"Running": True}}

    def exec_ok(self, name: str, argv: object, timeout: float = 10.0) -> bool:
        self.tries += 1
        if self.stops:
            self.running["db"]["State"].update(Running=False, ExitCode=3)
        return self.tries >= 3


def test_a_command_is_polled_until_it_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    from servingmatrix.run.stack import readiness

    monkeypatch.setattr("servingmatrix.run.stack.readiness.time.sleep", lambda s: None)
    docker = Readying()
    assert readiness.wait_command_ready(docker, "db", ["pg_isready"], 5.0) >= 0.0
    assert docker.tries == 3


def test_a_container_that_stops_while_awaited_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    from servingmatrix.run.stack import readiness

    monkeypatch.setattr("servingmatrix.run.stack.readiness.time.sleep", lambda s: None)
    with pytest.raises(readiness.NotReady, match=r"db did not become ready: it stopped \(exit code 3\)"):
        readiness.wait_command_ready(Readying(stops=True), "db", ["pg_isready"], 5.0)
