"""``servingmatrix clean --hosts FILE``: every engine of an inventory cleaned once, one that does not
answer named without keeping the others from being cleaned, and a non-zero exit when one was not."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.errors import EngineError
from servingmatrix.hosts.inventory import Host, Inventory
from servingmatrix.run.stack.cleanup import EngineCleaned, Removed, clean_engines, clean_inventory
from tests.unit.fakes import FakeDocker

INVENTORY = """\
hosts:
  - {name: main, docker: "unix:///nonexistent/a.sock", address: 127.0.0.1, cores: 1, roles: [server, backing]}
  - {name: gen, docker: "unix:///nonexistent/a.sock", address: 127.0.0.1, cores: 1, roles: [loadgen]}
  - {name: far, docker: "tcp://127.0.0.1:1", address: 127.0.0.1, cores: 1, roles: [loadgen]}
"""


class Down(FakeDocker):
    def ping(self) -> None:
        raise DockerError("docker engine 'down' (tcp://10.0.0.9:2375): not reachable (refused)")


def test_an_engine_that_does_not_answer_does_not_keep_the_others_from_being_cleaned() -> None:
    up = FakeDocker()
    cleaned = clean_engines([("down", Down()), ("up", up)])
    assert cleaned == [
        EngineCleaned("down", failure="docker engine 'down' (tcp://10.0.0.9:2375): not reachable (refused)"),
        EngineCleaned("up", removed=Removed(0, 0, 0)),
    ]
    assert (
        cleaned[0].line()
        == "down: not cleaned: docker engine 'down' (tcp://10.0.0.9:2375): not reachable (refused)"
    )
    assert cleaned[1].line() == "up: removed 0 containers, 0 networks, 0 volumes"


def test_every_engine_of_the_inventory_is_cleaned_once_and_a_failure_exits_3(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    proc = subprocess.run(
        [sys.executable, "-m", "servingmatrix", "clean", "--hosts", str(inventory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Engines that did not answer: not the input's fault, so the engine's status, not a typo's.
    assert proc.returncode == 3
    # main and gen share one engine: it is tried once, under the first name.
    lines = proc.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["main", "far"]
    assert all(": not cleaned: docker engine " in line for line in lines)
    assert proc.stderr.strip() == "servingmatrix: error: 2 of 2 engines not cleaned: main, far (see above)"


def test_a_bad_inventory_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "servingmatrix", "clean", "--hosts", str(tmp_path / "none.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "none.yml" in proc.stderr and proc.stdout == ""


class Silent(FakeDocker):
    """An engine that never answers its ping (a host gone quiet): held until the test lets it go."""

    released = threading.Event()

    def ping(self) -> None:
        self.released.wait(30)


def test_one_engine_down_and_one_silent_are_named_the_other_is_cleaned_and_it_fails() -> None:
    hosts = tuple(
        Host(name, f"tcp://10.0.0.{i}:2375", f"10.0.0.{i}", (0,), ("server", "backing", "loadgen"))
        for i, name in enumerate(("up", "down", "quiet"), start=1)
    )
    engines: dict[str, Docker] = {"up": FakeDocker(), "down": Down(), "quiet": Silent()}
    said: list[str] = []
    try:
        with pytest.raises(EngineError) as raised:
            clean_inventory(Inventory(hosts), lambda host: engines[host.name], said.append, 0.5)
    finally:
        Silent.released.set()
    assert said == [
        "up: removed 0 containers, 0 networks, 0 volumes",
        "down: not cleaned: docker engine 'down' (tcp://10.0.0.9:2375): not reachable (refused)",
        "quiet: not cleaned: the Docker engine at tcp://10.0.0.3:2375: no answer within 0.5 s",
    ]
    assert str(raised.value) == "2 of 3 engines not cleaned: down, quiet (see above)"
