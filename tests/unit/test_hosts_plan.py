"""The plan of simulated hosts: names, addresses, cores, paths and commands, all derived from N."""

from __future__ import annotations

import json
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated.commands import (
    containerd_argv,
    containerd_toml,
    daemon_json,
    dockerd_argv,
    host_network_commands,
    switch_commands,
)
from servingmatrix.hosts.simulated.mountinfo import is_under
from servingmatrix.hosts.simulated.plan import (
    MAIN_ADDRESS,
    MAX_HOSTS,
    Layout,
    SimulatedHost,
    check_host_count,
    plan_simulated_hosts,
    spread_cpusets,
)

#: Linux refuses link names longer than this (IFNAMSIZ less the terminating NUL).
MAX_LINK_NAME = 15


def test_two_hosts_are_named_and_addressed_in_order() -> None:
    first, second = plan_simulated_hosts(2, [0, 1])
    assert (first.name, first.netns, first.address) == ("sim1", "smhost1", "10.213.0.2")
    assert (second.name, second.netns, second.address) == ("sim2", "smhost2", "10.213.0.3")
    assert first.docker_url == "tcp://10.213.0.2:2375"
    assert first.socket_url == "unix:///run/servingmatrix/hosts/1/docker.sock"
    assert first.netns_path == Path("/run/netns/smhost1")
    assert first.data_root == Path("/var/lib/servingmatrix/hosts/1")
    assert first.exec_root == Path("/run/servingmatrix/hosts/1/exec")


def test_cores_are_spread_round_robin_from_the_last() -> None:
    assert spread_cpusets(2, [0, 1]) == ["1", "0"]
    assert spread_cpusets(5, [0, 1, 2]) == ["2", "1", "0", "2", "1"]
    assert spread_cpusets(3, [5]) == ["5", "5", "5"]
    # The cores this process may use, which need not start at 0 nor be contiguous.
    assert spread_cpusets(3, [4, 2, 7]) == ["7", "4", "2"]
    assert [host.cpuset for host in plan_simulated_hosts(3, [0, 1])] == ["1", "0", "1"]


@pytest.mark.parametrize("count", [0, -1, MAX_HOSTS + 1, 100])
def test_a_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(UserError, match=r"out of range \(allowed: 1\.\.8\)"):
        plan_simulated_hosts(count, [0, 1])


def test_the_bounds_are_allowed() -> None:
    assert check_host_count(1) == 1
    assert len(plan_simulated_hosts(MAX_HOSTS, [0, 1])) == MAX_HOSTS


def test_no_cores_is_refused() -> None:
    with pytest.raises(UserError, match="no CPU cores"):
        spread_cpusets(1, [])


def test_every_host_has_its_own_address_on_the_switch() -> None:
    addresses = [host.address for host in plan_simulated_hosts(MAX_HOSTS, [0])]
    assert len(set(addresses)) == MAX_HOSTS
    assert MAIN_ADDRESS not in addresses
    assert all(address.startswith("10.213.0.") for address in addresses)


def test_every_file_of_a_host_is_under_the_roots_teardown_removes(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "run", tmp_path / "data", tmp_path / "netns")
    host = SimulatedHost(3, "1", layout)
    paths = [
        getattr(host, name)
        for name in dir(SimulatedHost)
        if isinstance(getattr(SimulatedHost, name), property) and isinstance(getattr(host, name), Path)
    ]
    assert len(paths) > 10
    for path in paths:
        roots = (layout.run_root / "3", layout.data_root / "3", layout.netns_dir)
        assert any(is_under(path, root) for root in roots), path
    assert [f.name for f in fields(SimulatedHost)] == ["index", "cpuset", "layout"]


def link_names(commands: list[list[str]]) -> list[str]:
    """The names given to new links: after ``link add`` and after ``peer name``."""
    names = []
    for argv in commands:
        for i, word in enumerate(argv[:-1]):
            if (word == "add" and argv[i - 1] == "link") or (word == "name" and argv[i - 1] == "peer"):
                names.append(argv[i + 1])
    return names


def test_link_names_fit_the_kernel_limit() -> None:
    commands = switch_commands() + [
        c for h in plan_simulated_hosts(MAX_HOSTS, [0]) for c in host_network_commands(h)
    ]
    names = link_names(commands)
    assert "smbr0" in names and "smmain" in names and "host8" in names and "eth0" in names
    assert all(len(name) <= MAX_LINK_NAME for name in names)


def test_a_host_is_plugged_into_the_switch_with_its_address_and_no_route_beyond() -> None:
    (host,) = plan_simulated_hosts(1, [0])
    commands = host_network_commands(host)
    assert commands[0] == ["ip", "netns", "add", "smhost1"]
    assert ["ip", "-n", "smhost1", "addr", "add", "10.213.0.2/24", "dev", "eth0"] in commands
    assert ["ip", "-n", "smhost1", "link", "set", "lo", "up"] in commands
    assert ["ip", "-n", "smswitch", "link", "set", "host1", "master", "smbr0", "up"] in commands
    assert not any("route" in argv for argv in commands)


def test_the_main_host_holds_the_first_address_on_the_switch() -> None:
    assert ["ip", "addr", "add", "10.213.0.1/24", "dev", "smmain"] in switch_commands()


def test_the_engine_runs_in_the_host_namespace_with_roots_of_its_own() -> None:
    (host,) = plan_simulated_hosts(1, [0])
    argv = dockerd_argv(host)
    assert argv[:3] == ["nsenter", "--net=/run/netns/smhost1", "dockerd"]

    def option(name: str) -> str:
        return argv[argv.index(name) + 1]

    assert option("--config-file") == "/run/servingmatrix/hosts/1/daemon.json"
    assert option("--data-root") == "/var/lib/servingmatrix/hosts/1"
    assert option("--exec-root") == "/run/servingmatrix/hosts/1/exec"
    assert option("--containerd") == "/run/servingmatrix/hosts/1/containerd/containerd.sock"
    assert "--storage-driver" not in argv
    assert option("--bridge") == "none"
    hosts = [argv[i + 1] for i, word in enumerate(argv) if word == "-H"]
    assert hosts == ["unix:///run/servingmatrix/hosts/1/docker.sock", "tcp://10.213.0.2:2375"]
    assert {"--iptables=false", "--ip-masq=false", "--tls=false"} <= set(argv)


def test_the_engine_configuration_repeats_no_flag() -> None:
    """dockerd refuses to start when a setting is given both as a flag and in its configuration file."""
    (host,) = plan_simulated_hosts(1, [0])
    flags = {word.removeprefix("--").split("=")[0] for word in dockerd_argv(host) if word.startswith("--")}
    assert not set(json.loads(daemon_json())) & flags


def test_containerd_keeps_every_file_of_its_own_under_the_host() -> None:
    (host,) = plan_simulated_hosts(1, [0])
    config = tomllib.loads(containerd_toml(host))
    assert config["version"] == 2
    assert config["root"] == "/var/lib/servingmatrix/hosts/1/containerd"
    assert config["state"] == "/run/servingmatrix/hosts/1/containerd"
    assert config["grpc"]["address"] == str(host.containerd_socket)
    assert config["plugins"]["io.containerd.internal.v1.opt"]["path"].startswith(str(host.data_root))
    assert containerd_argv(host) == [
        "nsenter",
        "--net=/run/netns/smhost1",
        "containerd",
        "--config",
        "/run/servingmatrix/hosts/1/containerd.toml",
    ]
