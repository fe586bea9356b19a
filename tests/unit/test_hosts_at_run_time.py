"""The hosts of a run at run time (``run/fleet/run_hosts.py``): engines connected, each server host's share
of the load hosts, the images each host's roles need shipped to it, and run.json's record of them.

Inventories and plans are the real ones (``hosts.inventory``, ``hosts.hostplan.plan_hosts``); the
engines are fakes with the few calls these make.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest

from servingmatrix.building.images import ImageDef
from servingmatrix.engine.docker import LOCAL_SOCKET, Docker, DockerError
from servingmatrix.errors import EngineError, UserError
from servingmatrix.hosts.inventory import Host, Inventory
from servingmatrix.run.fleet import run_hosts as run_hosts_module
from servingmatrix.run.fleet.run_hosts import SIMULATED_METHOD, RunHosts, is_this_machine, worker_cores
from servingmatrix.run.load.distributed import MASTER_PORT
from servingmatrix.run.measure.clocks import ClockOffset
from servingmatrix.run.plan.hostplan import plan_hosts
from servingmatrix.run.stack.ship import Shipped
from servingmatrix.run.stack.stack import Placement

SOURCE = Path("/etc/bench/hosts.yml")
SERVER_BACKING = ("server", "backing")


def host(name: str, docker: str, address: str, cores: int, *roles: str) -> Host:
    return Host(name, docker, address, tuple(range(cores)), roles)


MAIN = host("main", LOCAL_SOCKET, "10.0.0.1", 4, *SERVER_BACKING)
SRV_B = host("srv-b", "tcp://10.0.0.5:2375", "10.0.0.5", 2, "server")
GEN_A = host("gen-a", "tcp://10.0.0.2:2375", "10.0.0.2", 2, "loadgen")
GEN_B = host("gen-b", "ssh://bench@10.0.0.3", "10.0.0.3", 3, "loadgen")
GEN_C = host("gen-c", "tcp://10.0.0.4:2375", "10.0.0.4", 1, "loadgen")


class Engine:
    """A host's engine: its images, its version, its clock; what was shipped from it and tagged on it."""

    def __init__(self, name: str, address: str = "tcp://elsewhere:2375", ahead_s: float = 0.0) -> None:
        self.name = name
        self.address = address
        self.ahead_s = ahead_s
        self.images: dict[str, dict[str, Any]] = {}
        self.shipped: list[tuple[str, str]] = []
        self.tags: list[tuple[str, str]] = []
        self.version: str | DockerError = "27.3.1"
        self.answers = True
        self.pings = 0

    def holding(self, *names: str) -> Engine:
        for name in names:
            self.images[f"servingmatrix/{name}:latest"] = {"Id": f"sha256:{name}", "RepoTags": []}
        return self

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        return self.images.get(ref)

    def ship_image(self, ref: str, to: Engine) -> None:
        self.shipped.append((ref, to.name))
        to.images[ref] = dict(self.images[ref])

    def tag(self, source: str, target: str) -> None:
        self.tags.append((source, target))

    def server_version(self) -> str:
        if isinstance(self.version, DockerError):
            raise self.version
        return self.version

    def ping(self) -> None:
        self.pings += 1
        if not self.answers:
            raise DockerError("connection refused")

    def system_time(self) -> float:
        return time.time() + self.ahead_s


def inventory(*hosts: Host, simulated: bool = False) -> Inventory:
    return Inventory(hosts=hosts, simulated=simulated, source=SOURCE)


def run_hosts(
    hosts: Inventory, local: set[str] | None = None, server_cpus: int = 2
) -> tuple[RunHosts, dict[str, Engine]]:
    engines = {h.name: Engine(h.name) for h in hosts.hosts}
    clocks = {h.name: ClockOffset(0.001 * i, 0.0005) for i, h in enumerate(hosts.hosts)}
    run = RunHosts(
        hosts,
        plan_hosts(hosts, server_cpus),
        cast(dict[str, Docker], engines),
        clocks,
        {"main"} if local is None else local,
    )
    return run, engines


# is_this_machine


def test_a_host_is_this_machine_when_it_names_this_machines_socket() -> None:
    here = Docker(LOCAL_SOCKET)
    assert is_this_machine(MAIN, here)
    assert not is_this_machine(MAIN, Docker("unix:///run/user/1000/docker.sock"))
    # The same URL over TCP is another host's engine as far as its cgroup files go.
    assert not is_this_machine(GEN_A, Docker(GEN_A.docker))
    assert not is_this_machine(GEN_A, here)


# connect


def test_connect_pings_every_engine_uses_this_machines_own_and_measures_every_clock() -> None:
    hosts = inventory(MAIN, GEN_A, GEN_B)
    local = Engine("local", LOCAL_SOCKET)
    # What connecting to main's URL gives: a driver of its own, pinged, but not the one the run uses.
    by_url = Engine("main", LOCAL_SOCKET)
    others = {"gen-a": Engine("gen-a", ahead_s=30.0), "gen-b": Engine("gen-b", ahead_s=-2.0)}
    connected: list[str] = []

    def connect(h: Host) -> Docker:
        connected.append(h.name)
        return cast(Docker, by_url if h.name == "main" else others[h.name])

    run = RunHosts.connect(hosts, plan_hosts(hosts, 2), cast(Docker, local), connect)
    engines: dict[str, object] = dict(run.engines)
    assert engines == {"main": local, **others}
    assert run.local == {"main"}
    assert set(connected) >= {"main", "gen-a", "gen-b"} and by_url.pings == 1
    assert all(e.pings == 1 for e in others.values())
    assert run.clocks["gen-a"].offset_s == pytest.approx(30.0, abs=0.5)
    assert run.clocks["gen-b"].offset_s == pytest.approx(-2.0, abs=0.5)
    assert run.clocks["main"].offset_s == pytest.approx(0.0, abs=0.5)


def test_connect_refuses_an_engine_that_does_not_answer_in_one_line() -> None:
    hosts = inventory(MAIN, GEN_A)
    local, silent = Engine("local", LOCAL_SOCKET), Engine("gen-a")
    silent.answers = False
    with pytest.raises(EngineError) as raised:
        RunHosts.connect(
            hosts,
            plan_hosts(hosts, 2),
            cast(Docker, local),
            lambda h: cast(Docker, local if h.name == "main" else silent),
        )
    message = str(raised.value)
    assert "\n" not in message
    assert message == (
        f"{SOURCE}: host 'gen-a': the Docker engine at tcp://10.0.0.2:2375 does not answer: "
        "connection refused"
    )


# shares


def test_one_server_host_is_swarmed_by_every_load_host() -> None:
    run, engines = run_hosts(inventory(MAIN, GEN_A, GEN_B, GEN_C))
    (share,) = run.shares()
    assert (share.slot, share.name, share.backing.name) == (0, "main", "main")
    load = share.load
    assert load.port == MASTER_PORT
    assert [(h.name, h.address, h.cores) for h in load.hosts] == [
        ("gen-a", "10.0.0.2", (0, 1)),
        ("gen-b", "10.0.0.3", (0, 1, 2)),
        ("gen-c", "10.0.0.4", (0,)),
    ]
    assert all(h.engine is cast(Docker, engines[h.name]) for h in load.hosts)
    assert all(h.clock == run.clocks[h.name] for h in load.hosts)
    assert not any(h.local for h in load.hosts)
    assert load.master.name == "gen-a" and len(load.workers) == 6


def test_a_shares_cpu_plan_names_every_workers_host_and_cores() -> None:
    # Simulated: the hosts share core 0, which the plan warns of.
    run, _ = run_hosts(inventory(MAIN, GEN_A, GEN_B, GEN_C, simulated=True))
    (share,) = run.shares()
    plan, main = share.plan, run.plan.host("main")
    assert plan.loadgen == Placement("gen-a:0,1 gen-b:0,1,2 gen-c:0", 6.0, memory="2g")
    assert plan.loadgen_processes == 6
    assert plan.server == main.server == Placement("0,1", 2.0, memory="2g")
    assert plan.backing == main.backing == Placement("2,3", 2.0, memory="1g")
    assert plan.host_cores == 4
    assert plan.warnings == run.plan.warnings and "cores shared across simulated hosts" in plan.warnings[0]


def test_several_server_hosts_share_the_load_hosts_round_robin_each_with_its_master_port() -> None:
    run, _ = run_hosts(inventory(MAIN, SRV_B, GEN_A, GEN_B, GEN_C))
    first, second = run.shares()
    assert (first.slot, first.name, second.slot, second.name) == (0, "main", 1, "srv-b")
    assert [h.name for h in first.load.hosts] == ["gen-a", "gen-c"]
    assert [h.name for h in second.load.hosts] == ["gen-b"]
    assert (first.load.port, second.load.port) == (MASTER_PORT, MASTER_PORT + 2)
    # Both are backed by the one backing host; each plan is its own server host's.
    assert first.backing.name == second.backing.name == "main"
    assert second.plan.server == run.plan.host("srv-b").server and second.plan.host_cores == 2
    assert second.plan.backing == run.plan.host("main").backing
    assert first.plan.loadgen == Placement("gen-a:0,1 gen-c:0", 3.0, memory="2g")
    assert second.plan.loadgen == Placement("gen-b:0,1,2", 3.0, memory="2g")
    assert (first.plan.loadgen_processes, second.plan.loadgen_processes) == (3, 3)


def test_a_load_host_of_this_machine_is_marked_so() -> None:
    run, _ = run_hosts(inventory(MAIN, GEN_A, GEN_B), local={"main", "gen-b"})
    (share,) = run.shares()
    assert [(h.name, h.local) for h in share.load.hosts] == [("gen-a", False), ("gen-b", True)]


def test_fewer_load_hosts_than_server_hosts_is_refused_in_one_line() -> None:
    run, _ = run_hosts(inventory(MAIN, SRV_B, GEN_A))
    with pytest.raises(UserError) as raised:
        run.shares()
    assert str(raised.value) == (
        f"{SOURCE}: 2 server hosts but 1 load generator host(s): each server host needs at least one "
        "load host of its own"
    )


def test_as_many_load_hosts_as_server_hosts_is_enough() -> None:
    run, _ = run_hosts(inventory(MAIN, SRV_B, GEN_A, GEN_C))
    assert [[h.name for h in s.load.hosts] for s in run.shares()] == [["gen-a"], ["gen-c"]]


# ship


def shipped_to(engines: dict[str, Engine]) -> dict[str, list[str]]:
    """Each host that was shipped to, and the image names it got, from every engine's record."""
    out: dict[str, list[str]] = {}
    for engine in engines.values():
        for ref, target in engine.shipped:
            out.setdefault(target, []).append(ref.split("/")[1].split(":")[0])
    return out


def test_each_host_gets_the_images_of_its_roles_and_this_machine_none() -> None:
    run, engines = run_hosts(inventory(MAIN, GEN_A, GEN_B))
    engines["main"].holding("waitress", "gunicorn-sync", "upstream", "postgres", "locust")
    said: list[str] = []
    run.ship(["waitress", "gunicorn-sync"], said.append)
    assert shipped_to(engines) == {"gen-a": ["locust"], "gen-b": ["locust"]}
    assert all(not e.shipped for name, e in engines.items() if name != "main")
    assert run.images == {
        "main": {
            "waitress": "sha256:waitress",
            "gunicorn-sync": "sha256:gunicorn-sync",
            "upstream": "sha256:upstream",
            "postgres": "sha256:postgres",
        },
        "gen-a": {"locust": "sha256:locust"},
        "gen-b": {"locust": "sha256:locust"},
    }
    assert said == [
        "shipping servingmatrix/locust:latest to host gen-a ...",
        "shipping servingmatrix/locust:latest to host gen-b ...",
    ]


def test_each_other_host_is_shipped_each_image_of_its_roles_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, list[str]] = {}

    def ship_images(source: Engine, target: Engine, images: list[ImageDef], say: object) -> list[Shipped]:
        assert source is engines["main"]
        asked[target.name] = [image.name for image in images]
        return [Shipped(image.name, f"sha256:{target.name}", shipped=True) for image in images]

    monkeypatch.setattr(run_hosts_module, "ship_images", ship_images)
    every = host("every", "tcp://10.0.0.7:2375", "10.0.0.7", 4, "server", "backing", "loadgen")
    run, engines = run_hosts(inventory(MAIN, every, GEN_A))
    engines["main"].holding("waitress", "upstream", "postgres")
    run.ship(["waitress", "waitress"], lambda line: None)
    assert asked == {"every": ["waitress", "upstream", "postgres", "locust"], "gen-a": ["locust"]}
    assert run.images["gen-a"] == {"locust": "sha256:gen-a"}
    assert run.images["main"] == {
        "waitress": "sha256:waitress",
        "upstream": "sha256:upstream",
        "postgres": "sha256:postgres",
    }


def test_images_follow_each_role_wherever_it_is() -> None:
    db = host("db", "tcp://10.0.0.6:2375", "10.0.0.6", 2, "backing")
    every = host("every", "tcp://10.0.0.7:2375", "10.0.0.7", 4, "server", "backing", "loadgen")
    here = host("main", LOCAL_SOCKET, "10.0.0.1", 2, "loadgen")
    run, engines = run_hosts(inventory(here, SRV_B, db, every))
    engines["main"].holding("waitress", "upstream", "postgres", "locust")
    run.ship(["waitress", "waitress"], lambda line: None)
    assert shipped_to(engines) == {
        # The server's host runs the calibration's target, the upstream, on the server's cores.
        "srv-b": ["waitress", "upstream", "postgres"],
        "db": ["upstream", "postgres"],
        "every": ["waitress", "upstream", "postgres", "locust"],
    }
    assert run.images["main"] == {"locust": "sha256:locust"}


def test_a_catalogues_image_is_shipped_by_its_definition() -> None:
    run, engines = run_hosts(inventory(MAIN, GEN_A, SRV_B))
    engines["main"].holding("notes-api", "upstream", "postgres", "locust")
    run.ship(["notes-api"], lambda line: None, {"notes-api": ImageDef("notes-api")})
    assert shipped_to(engines)["srv-b"] == ["notes-api", "upstream", "postgres"]


def test_shipping_needs_a_host_on_this_machines_engine() -> None:
    run, engines = run_hosts(inventory(MAIN, GEN_A), local=set())
    with pytest.raises(UserError) as raised:
        run.ship(["waitress"], lambda line: None)
    assert str(raised.value) == (
        f"{SOURCE}: no host names this machine's engine (unix:///var/run/docker.sock): the images are "
        "built here and shipped from it"
    )
    assert shipped_to(engines) == {}


# metadata


def test_the_metadata_records_every_host_its_engine_images_and_clock() -> None:
    run, engines = run_hosts(inventory(MAIN, GEN_A, GEN_B))
    engines["gen-b"].version = DockerError("engine 'gen-b' did not answer")
    run.images = {"gen-a": {"locust": "sha256:l"}}
    del run.clocks["gen-a"]
    meta = run.metadata()
    assert (meta["simulated"], meta["method"]) == (False, "3 hosts")
    main, gen_a, gen_b = meta["hosts"]
    assert main == {
        "name": "main",
        "docker": LOCAL_SOCKET,
        "address": "10.0.0.1",
        "roles": ["server", "backing"],
        "docker_version": "27.3.1",
        "images": {},
        "clock": {"offset_ms": 0.0, "uncertainty_ms": 0.5, "applied_ms": 0.0},
        "this_machine": True,
    }
    assert (gen_a["images"], gen_a["clock"], gen_a["this_machine"]) == ({"locust": "sha256:l"}, None, False)
    assert gen_a["docker"] == "tcp://10.0.0.2:2375" and gen_a["roles"] == ["loadgen"]
    assert gen_b["docker_version"] == "unknown (engine 'gen-b' did not answer)"
    assert gen_b["clock"] == {"offset_ms": 2.0, "uncertainty_ms": 0.5, "applied_ms": 2.0}


def test_simulated_hosts_say_so_in_the_metadata() -> None:
    run, _ = run_hosts(inventory(MAIN, GEN_A, simulated=True))
    meta = run.metadata()
    assert (meta["simulated"], meta["method"]) == (True, SIMULATED_METHOD)
    assert run.simulated and run.method == SIMULATED_METHOD
    one, _ = run_hosts(inventory(host("main", LOCAL_SOCKET, "10.0.0.1", 4, *SERVER_BACKING, "loadgen")))
    # One host is said as results.hosts.method reads it back: "1 host".
    assert one.metadata()["method"] == "1 host"


def test_a_load_hosts_workers_follow_the_plans_count_on_its_cores_in_turn() -> None:
    """One worker per core by default; ``--loadgen-processes`` more or fewer, on the host's cores in turn."""
    loader = Host("lg", "tcp://10.0.0.9:2375", "10.0.0.9", (2, 3), ("loadgen",))
    server = Host("main", LOCAL_SOCKET, "10.0.0.1", (0, 1), ("server", "backing"))
    inventory = Inventory((server, loader), source=Path("hosts.yml"))
    assert worker_cores(plan_hosts(inventory, 1).host("lg")) == (2, 3)
    assert worker_cores(plan_hosts(inventory, 1, loadgen_processes=3).host("lg")) == (2, 3, 2)
    assert worker_cores(plan_hosts(inventory, 1, loadgen_processes=1).host("lg")) == (2,)
    assert worker_cores(plan_hosts(inventory, 1).host("main")) == ()
