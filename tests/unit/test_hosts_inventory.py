"""The inventory ``hosts up`` writes, and the record ``hosts down`` reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated.inventory import inventory_text
from servingmatrix.hosts.simulated.plan import plan_simulated_hosts
from servingmatrix.hosts.simulated.state import HostsState, parse_state, read_state, state_json, write_state

TWO_HOSTS = """\
# Simulated hosts: 2 Docker engines in network namespaces of one kernel (servingmatrix hosts up).
simulated: true
hosts:
  - name: main
    docker: unix:///var/run/docker.sock
    address: 10.213.0.1
    cores: 2
    roles: [server, backing]
  - name: sim1
    docker: tcp://10.213.0.2:2375
    address: 10.213.0.2
    cores: 1
    cpuset: "1"
    roles: [loadgen]
  - name: sim2
    docker: tcp://10.213.0.3:2375
    address: 10.213.0.3
    cores: 1
    cpuset: "0"
    roles: [loadgen]
"""


def test_the_inventory_of_two_hosts_is_exactly_the_documented_shape() -> None:
    assert inventory_text(plan_simulated_hosts(2, [0, 1]), main_cores=2) == TWO_HOSTS


def test_the_inventory_reads_back_as_the_harness_reads_it() -> None:
    data = yaml.safe_load(inventory_text(plan_simulated_hosts(3, [0, 1, 2, 3]), main_cores=4))
    assert data["simulated"] is True
    main, *simulated = data["hosts"]
    assert main == {
        "name": "main",
        "docker": "unix:///var/run/docker.sock",
        "address": "10.213.0.1",
        "cores": 4,
        "roles": ["server", "backing"],
    }
    assert [h["name"] for h in simulated] == ["sim1", "sim2", "sim3"]
    assert [h["cpuset"] for h in simulated] == ["3", "2", "1"]
    assert all(h["cores"] == 1 and h["roles"] == ["loadgen"] for h in simulated)
    assert [h["docker"] for h in simulated] == [f"tcp://{h['address']}:2375" for h in simulated]


def test_the_record_reads_back(tmp_path: Path) -> None:
    state = HostsState(("1", "0"), made_netns_dir=True)
    path = tmp_path / "hosts" / "state.json"
    write_state(path, state)
    assert read_state(path) == state
    assert [h.name for h in state.hosts()] == ["sim1", "sim2"]
    assert read_state(tmp_path / "none.json") is None


@pytest.mark.parametrize(
    "text",
    ["", "[]", "{}", '{"cpusets": [1], "made_netns_dir": false}', '{"cpusets": ["1"], "made_netns_dir": 1}'],
)
def test_a_record_not_ours_is_one_line(text: str) -> None:
    with pytest.raises(UserError, match=r"state\.json: not a simulated hosts state file"):
        parse_state("state.json", text)


def test_the_record_is_json_with_a_version() -> None:
    assert '"version": 1' in state_json(HostsState(("0",), made_netns_dir=False))
