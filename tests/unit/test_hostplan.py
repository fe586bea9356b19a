"""The CPU plan per host: one host of every role plans as one machine; several share out their roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.hosts.inventory import Host, Inventory
from servingmatrix.matrix import Matrix
from servingmatrix.run.plan.cpuplan import plan_cpus
from servingmatrix.run.plan.hostplan import METADATA_KEY, InventoryPlan, plan_hosts
from servingmatrix.run.plan.preflight import preflight
from servingmatrix.run.stack.stack import Placement

SOURCE = Path("/lab/hosts.yml")


def host(name: str, roles: str, cpuset: tuple[int, ...], address: str = "10.0.0.1") -> Host:
    return Host(
        name=name,
        docker=f"ssh://bench@{address}",
        address=address,
        cpuset=cpuset,
        roles=tuple(role for role in ("server", "backing", "loadgen") if role in roles.split(",")),
    )


def inventory(*hosts: Host, simulated: bool = False) -> Inventory:
    return Inventory(hosts=hosts, simulated=simulated, source=SOURCE)


ALL_ROLES = "server,backing,loadgen"


@pytest.mark.parametrize(
    ("cores", "server_cpus", "processes"),
    [(2, 1, None), (8, 2, None), (8, 2, 2), (2, 1, 3), (4, 3, None), (5, 1, 7), (16, 4, None)],
)
def test_one_host_of_every_role_is_planned_as_one_machine(
    cores: int, server_cpus: int, processes: int | None
) -> None:
    one = plan_cpus(list(range(cores)), server_cpus, "512m", processes)
    plan = plan_hosts(inventory(host("solo", ALL_ROLES, tuple(range(cores)))), server_cpus, "512m", processes)
    (only,) = plan.hosts
    assert (only.server, only.backing, only.loadgen) == (one.server, one.backing, one.loadgen)
    assert only.loadgen_workers == one.loadgen_processes
    assert only.warnings == one.warnings == plan.warnings
    assert only.locust_master and only.master_core == int(one.loadgen.cpuset.split(",")[0])
    assert only.idle == ()


def test_one_host_on_a_two_core_machine_shares_as_today() -> None:
    plan = plan_hosts(inventory(host("solo", ALL_ROLES, (0, 1))), 1)
    assert plan.warnings == plan_cpus([0, 1], 1).warnings
    assert "share core 1" in plan.warnings[0]
    assert plan.describe() == [
        "host solo (10.0.0.1): server on core 0 (2g); backing services on core 1; load generator on core 1 "
        "(1 Locust worker, and the Locust master sharing core 1 with a worker)"
    ]


def test_a_server_host_and_two_load_generator_hosts() -> None:
    plan = plan_hosts(
        inventory(
            host("main", "server,backing", (0, 1), "10.213.0.1"),
            host("lg-a", "loadgen", (0, 1, 2, 3), "10.213.0.2"),
            host("lg-b", "loadgen", (0, 1), "10.213.0.3"),
        ),
        server_cpus=1,
        server_memory="1g",
    )
    main, lg_a, lg_b = plan.hosts
    assert main.server == Placement("0", 1.0, memory="1g")
    assert main.backing == Placement("1", 1.0, memory="1g")
    assert main.loadgen is None and main.loadgen_workers == 0 and not main.locust_master
    assert lg_a.loadgen == Placement("0,1,2,3", 4.0, memory="2g") and lg_a.loadgen_workers == 4
    assert lg_b.loadgen == Placement("0,1", 2.0, memory="2g") and lg_b.loadgen_workers == 2
    assert lg_a.server is None and lg_a.backing is None
    assert plan.master is lg_a and lg_a.master_core == 0 and lg_b.master_core is None
    assert plan.warnings == ()
    assert plan.describe() == [
        "host main (10.213.0.1): server on core 0 (1g); backing services on core 1",
        "host lg-a (10.213.0.2): load generator on cores 0,1,2,3 (4 Locust workers, and the Locust master "
        "sharing core 0 with a worker)",
        "host lg-b (10.213.0.3): load generator on cores 0,1 (2 Locust workers)",
    ]
    assert lg_a.as_dict() == {
        "host": "lg-a",
        "address": "10.213.0.2",
        "docker": "ssh://bench@10.213.0.2",
        "roles": ["loadgen"],
        "cores": "0,1,2,3",
        "server": None,
        "backing": None,
        "loadgen": {"cpuset": "0,1,2,3", "cpus": 4.0},
        "loadgen_workers": 4,
        "locust_master": {"cpuset": "0", "shares_core_with": "a Locust worker"},
        "idle": "",
        "warnings": [],
    }
    record = plan.as_dict()
    assert METADATA_KEY == "cpu_plan_hosts"
    assert record["simulated"] is False and [h["host"] for h in record["hosts"]] == ["main", "lg-a", "lg-b"]
    assert json.loads(json.dumps(record)) == record


def test_loadgen_processes_spread_over_the_generators_by_their_cores() -> None:
    hosts = (
        host("main", "server,backing", (0, 1)),
        host("lg-a", "loadgen", (0, 1, 2, 3)),
        host("lg-b", "loadgen", (0, 1)),
    )
    plan = plan_hosts(inventory(*hosts), 1, loadgen_processes=5)
    assert [p.loadgen_workers for p in plan.hosts] == [0, 3, 2]
    assert plan.warnings == ()
    crowded = plan_hosts(inventory(*hosts), 1, loadgen_processes=9)
    assert [p.loadgen_workers for p in crowded.hosts] == [0, 6, 3]
    assert crowded.warnings == (
        "host lg-a: load processes share cores: 6 load generator processes on 4 core(s) (0,1,2,3); more "
        "processes than cores add no CPU",
        "host lg-b: load processes share cores: 3 load generator processes on 2 core(s) (0,1); more "
        "processes than cores add no CPU",
    )


def test_fewer_processes_than_generator_hosts_is_refused() -> None:
    hosts = (host("main", "server,backing", (0, 1)), host("a", "loadgen", (0,)), host("b", "loadgen", (0,)))
    with pytest.raises(UserError) as caught:
        plan_hosts(inventory(*hosts), 1, loadgen_processes=1)
    assert str(caught.value) == (
        "/lab/hosts.yml: --loadgen-processes 1 leaves a load generator host without a worker: 2 hosts have "
        "the loadgen role (a, b) (allowed: at least 2)"
    )


def test_two_server_hosts_and_a_load_generator_host() -> None:
    plan = plan_hosts(
        inventory(
            host("s1", "server,backing", (0, 1, 2, 3)),
            host("s2", "server", (0, 1, 2, 3)),
            host("lg", "loadgen", (0, 1, 2)),
        ),
        server_cpus=2,
    )
    s1, s2, lg = plan.hosts
    assert s1.server == s2.server == Placement("0,1", 2.0, memory="2g")
    assert s1.backing == Placement("2,3", 2.0, memory="1g") and s1.idle == ()
    assert s2.backing is None and s2.loadgen is None and s2.idle == (2, 3)
    assert lg.loadgen_workers == 3 and plan.master is lg
    assert s2.describe() == "host s2 (10.0.0.1): server on cores 0,1 (2g); cores 2,3 idle"
    assert s2.as_dict()["idle"] == "2,3"
    assert plan.warnings == ()


def test_a_server_and_load_generator_host_gives_the_rest_to_the_generator() -> None:
    plan = plan_hosts(
        inventory(host("a", "server,loadgen", (0, 1, 2)), host("b", "backing", (0, 1))), server_cpus=1
    )
    a, b = plan.hosts
    assert a.server == Placement("0", 1.0, memory="2g") and a.loadgen == Placement("1,2", 2.0, memory="2g")
    assert a.loadgen_workers == 2 and a.locust_master and a.master_core == 1
    assert b.backing == Placement("0,1", 2.0, memory="1g") and b.loadgen is None


def test_a_backing_and_load_generator_host_splits_as_one_machine_after_the_server() -> None:
    plan = plan_hosts(
        inventory(host("srv", "server", (0,)), host("rest", "backing,loadgen", (0, 1, 2, 3, 4, 5))), 1
    )
    one = plan_cpus([9, 0, 1, 2, 3, 4, 5], 1)
    rest = plan.host("rest")
    assert (rest.loadgen, rest.backing) == (one.loadgen, one.backing)
    single = plan_hosts(inventory(host("srv", "server", (0,)), host("rest", "backing,loadgen", (3,))), 1)
    assert single.warnings == (f"host rest: {plan_cpus([0, 3], 1).warnings[0]}",)


def test_overlapping_simulated_cpusets_are_warned_of() -> None:
    plan = plan_hosts(
        inventory(
            host("main", "server,backing", (0, 1)),
            host("lg-a", "loadgen", (1,)),
            host("lg-b", "loadgen", (0, 1)),
            simulated=True,
        ),
        server_cpus=1,
    )
    assert plan.simulated and plan.as_dict()["simulated"] is True
    assert plan.warnings == (
        "cores shared across simulated hosts: core 0 (main, lg-b); core 1 (main, lg-a, lg-b); the hosts run "
        "on one kernel, so what runs on one of them takes CPU from the others on those cores",
    )
    apart = plan_hosts(
        inventory(host("main", "server,backing", (0, 1)), host("lg", "loadgen", (2, 3)), simulated=True), 1
    )
    assert apart.warnings == ()
    # Hosts that are not simulated are machines of their own: the same core ids are different cores.
    real = plan_hosts(inventory(host("main", "server,backing", (0, 1)), host("lg", "loadgen", (0, 1))), 1)
    assert real.warnings == ()


@pytest.mark.parametrize(
    ("hosts", "server_cpus", "message"),
    [
        (
            (host("main", "server,backing", (0, 1)), host("lg", "loadgen", (0,))),
            2,
            "/lab/hosts.yml: host 'main': --server-cpus 2 leaves no core for the backing services on its 2 "
            "core(s) (allowed: 1..1)",
        ),
        (
            (host("main", "server,loadgen", (0, 1, 2)), host("b", "backing", (0,))),
            3,
            "/lab/hosts.yml: host 'main': --server-cpus 3 leaves no core for the load generator on its 3 "
            "core(s) (allowed: 1..2)",
        ),
        (
            (host("solo", ALL_ROLES, (0, 1)),),
            2,
            "/lab/hosts.yml: host 'solo': --server-cpus 2 leaves no core for the load generator on its 2 "
            "core(s) (allowed: 1..1)",
        ),
        (
            (host("tiny", ALL_ROLES, (0,)),),
            1,
            "/lab/hosts.yml: host 'tiny': --server-cpus 1 leaves no core for the load generator on its 1 "
            "core(s) (give the host more cores, or its backing and loadgen roles to another host)",
        ),
        (
            (host("s", "server", (0, 1)), host("rest", "backing,loadgen", (0,))),
            4,
            "/lab/hosts.yml: host 's': --server-cpus 4 is more than its 2 core(s) (allowed: 1..2)",
        ),
    ],
    ids=["server-backing", "server-loadgen", "all-roles", "one-core", "server-only"],
)
def test_a_plan_the_hosts_cannot_give_is_refused_in_one_line(
    hosts: tuple[Host, ...], server_cpus: int, message: str
) -> None:
    with pytest.raises(UserError) as caught:
        plan_hosts(inventory(*hosts), server_cpus)
    assert str(caught.value) == message


def test_a_server_only_host_may_give_the_server_every_core() -> None:
    plan = plan_hosts(inventory(host("s", "server", (0, 1)), host("rest", "backing,loadgen", (0, 1))), 2)
    assert plan.host("s").server == Placement("0,1", 2.0, memory="2g") and plan.host("s").idle == ()


def test_preflight_plans_the_inventory_s_hosts(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts.yml"
    hosts_file.write_text(
        "hosts:\n"
        "  - {name: main, docker: 'unix:///var/run/docker.sock', address: 10.0.0.1, cores: 4, "
        "roles: [server, backing]}\n"
        "  - {name: lg, docker: 'ssh://bench@10.0.0.2', address: 10.0.0.2, cores: 8, roles: [loadgen]}\n"
    )
    # Three server cores: more than this 2-core machine has, but main has four.
    matrix = Matrix(name="m", modes=("waitress",), workloads=("json",), server_cpus=3, hosts=str(hosts_file))
    plan = preflight(matrix, tmp_path / "run", force=False)
    assert isinstance(plan, InventoryPlan)
    assert plan.host("main").server == Placement("0,1,2", 3.0, memory="2g")
    assert plan.host("lg").loadgen_workers == 8
