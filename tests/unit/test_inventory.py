"""The host inventory: read as written, every bad entry refused in one line, every engine pinged."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.errors import EngineError, UserError
from servingmatrix.hosts import engines
from servingmatrix.hosts.engines import Engine, check_engines, connect_engine
from servingmatrix.hosts.inventory import Host, Inventory, TlsFiles, load_inventory
from servingmatrix.matrix import load_matrix

#: The inventory of the documentation: a simulated main host and a remote load generator with TLS.
SIMULATED = """\
simulated: true            # optional, default false: engines in namespaces of one kernel
hosts:
  - name: main
    docker: unix:///var/run/docker.sock   # or tcp://HOST:2376 with tls, or ssh://user@host
    address: 10.213.0.1                   # the address the other hosts reach it at
    cores: 2
    cpuset: "0,1"                         # optional: which core ids (default 0..cores-1)
    roles: [server, backing]              # any of server, backing, loadgen
  - name: remote
    docker: tcp://10.0.0.5:2376
    tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}   # relative to the inventory file
    address: 10.0.0.5
    cores: 8
    roles: [loadgen]
"""

#: One host doing everything: the smallest inventory there is.
ONE_HOST = """\
hosts:
  - name: solo
    docker: unix:///var/run/docker.sock
    address: 127.0.0.1
    cores: 2
    roles: [server, backing, loadgen]
"""


def write(folder: Path, text: str, name: str = "hosts.yml") -> Path:
    """``text`` as an inventory in ``folder``, beside the TLS files the documentation's example names."""
    (folder / "certs").mkdir(exist_ok=True)
    for file in ("ca.pem", "cert.pem", "key.pem"):
        (folder / "certs" / file).write_text("-----BEGIN CERTIFICATE-----\n")
    path = folder / name
    path.write_text(text)
    return path


def refusal(folder: Path, text: str, cores_here: int = 8) -> str:
    """The one line ``text`` is refused with (it must be refused)."""
    path = write(folder, text)
    with pytest.raises(UserError) as caught:
        load_inventory(path, cores_here)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: "), message
    return message


def test_the_simulated_inventory_reads_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, SIMULATED)
    inventory = load_inventory(path, cores_here=8)
    main, remote = inventory.hosts
    assert inventory.simulated and inventory.source == path
    assert main == Host(
        name="main",
        docker="unix:///var/run/docker.sock",
        address="10.213.0.1",
        cpuset=(0, 1),
        roles=("server", "backing"),
    )
    assert main.cores == 2 and main.tls is None
    assert remote.docker == "tcp://10.0.0.5:2376" and remote.cpuset == tuple(range(8))
    assert remote.roles == ("loadgen",) and remote.cores == 8
    certs = tmp_path / "certs"
    assert remote.tls == TlsFiles(ca=certs / "ca.pem", cert=certs / "cert.pem", key=certs / "key.pem")
    assert inventory.with_role("loadgen") == (remote,)
    assert inventory.with_role("server") == inventory.with_role("backing") == (main,)


def test_the_simulated_inventory_round_trips(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, SIMULATED), cores_here=8)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = elsewhere / "hosts.yml"
    again.write_text(yaml.safe_dump(inventory.as_dict(), sort_keys=False))
    assert load_inventory(again, cores_here=8) == inventory


def test_defaults_one_host_not_simulated(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, ONE_HOST), cores_here=1)
    assert not inventory.simulated
    assert inventory.hosts[0].cpuset == (0, 1)  # not simulated: cores of another machine, not checked here


def test_cpuset_takes_ranges_and_a_single_number(tmp_path: Path) -> None:
    text = ONE_HOST.replace("cores: 2", "cores: 5\n    cpuset: 0,4-7").replace("solo", "a")
    assert load_inventory(write(tmp_path, text)).hosts[0].cpuset == (0, 4, 5, 6, 7)
    text = ONE_HOST.replace("cores: 2", "cores: 1\n    cpuset: 3")
    assert load_inventory(write(tmp_path, text)).hosts[0].cpuset == (3,)


@pytest.mark.parametrize(
    "docker",
    ["unix:///run/user/1000/docker.sock", "tcp://10.0.0.5:2375", "ssh://bench@10.0.0.6", "ssh://host-b:2222"],
)
def test_engine_urls_accepted(tmp_path: Path, docker: str) -> None:
    text = ONE_HOST.replace("unix:///var/run/docker.sock", docker)
    assert load_inventory(write(tmp_path, text)).hosts[0].docker == docker


def test_a_host_name_address_is_accepted(tmp_path: Path) -> None:
    text = ONE_HOST.replace("127.0.0.1", "bench-b.example.org")
    assert load_inventory(write(tmp_path, text)).hosts[0].address == "bench-b.example.org"


def _host(name: str = "main", **entries: str) -> str:
    """A host entry of an inventory, its keys replaced or added by ``entries`` (``""``: left out)."""
    keys = {
        "name": name,
        "docker": "unix:///var/run/docker.sock",
        "address": "10.213.0.1",
        "cores": "2",
        "roles": "[server, backing, loadgen]",
        **entries,
    }
    lines = [f"{key}: {value}" for key, value in keys.items() if value != ""]
    return "  - " + "\n    ".join(lines) + "\n"


def _inventory(*hosts: str, top: str = "") -> str:
    return f"{top}hosts:\n{''.join(hosts) if hosts else ''}"


REFUSALS: list[tuple[str, str, str]] = [
    (
        "unknown top-level key",
        "simulate: true\n" + _inventory(_host()),
        "unknown key 'simulate' (did you mean 'simulated'? allowed: simulated, hosts)",
    ),
    (
        "unknown top-level key, nothing near",
        "zzz: 1\n" + _inventory(_host()),
        "unknown key 'zzz' (allowed: simulated, hosts)",
    ),
    (
        "unknown host key",
        _inventory(_host(core="2")),
        "host 'main': unknown key 'core' (did you mean 'cores'? allowed: name, docker, address, cores, "
        "cpuset, roles, tls)",
    ),
    (
        "unknown tls key",
        _inventory(
            _host(
                docker="tcp://10.0.0.5:2376",
                tls="{ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem, keys: x}",
            )
        ),
        "host 'main': tls: unknown key 'keys' (did you mean 'key'? allowed: ca, cert, key)",
    ),
    (
        "duplicate names",
        _inventory(_host("a"), _host("b"), _host("a")),
        "host 'a' is listed twice; give each host its own name",
    ),
    (
        "upper-case name",
        _inventory(_host("Main")),
        "hosts[0]: name 'Main' is not a host name (allowed: lower-case",
    ),
    ("name with an underscore", _inventory(_host("a_b")), "hosts[0]: name 'a_b' is not a host name"),
    (
        "name starting with '-'",
        _inventory(_host("ok"), _host("-b")),
        "hosts[1]: name '-b' is not a host name",
    ),
    ("name not a string", _inventory(_host("7")), "hosts[0]: name 7 is not a host name"),
    ("name too long", _inventory(_host("a" * 64)), "is not a host name"),
    ("missing name", _inventory(_host("")), "hosts[0]: missing key 'name'"),
    (
        "missing address",
        _inventory(_host(address="")),
        "host 'main': missing key 'address' (a host needs name",
    ),
    (
        "docker URL of another scheme",
        _inventory(_host(docker="http://10.0.0.5:2375")),
        "host 'main': docker 'http://10.0.0.5:2375' has the scheme 'http' (allowed: unix:///PATH, "
        "tcp://HOST:PORT or ssh://[USER@]HOST)",
    ),
    (
        "docker URL without scheme",
        _inventory(_host(docker="10.0.0.5:2375")),
        "docker '10.0.0.5:2375' has no scheme",
    ),
    ("docker not a URL", _inventory(_host(docker="/var/run/docker.sock")), "has no scheme"),
    (
        "tcp without a port",
        _inventory(_host(docker="tcp://10.0.0.5")),
        "names no port (allowed: tcp://HOST:PORT)",
    ),
    ("tcp with a bad port", _inventory(_host(docker="tcp://10.0.0.5:99999")), "is not an engine URL"),
    ("unix without a path", _inventory(_host(docker="unix://docker.sock")), "names no socket path"),
    ("ssh without a host", _inventory(_host(docker="ssh://")), "names no host"),
    (
        "tcp on 2376 without tls",
        _inventory(_host(docker="tcp://10.0.0.5:2376")),
        "host 'main': docker 'tcp://10.0.0.5:2376' is the TLS port 2376 but no tls is given; add tls: "
        "{ca: FILE, cert: FILE, key: FILE}",
    ),
    (
        "tls with a unix URL",
        _inventory(_host(tls="{ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}")),
        "host 'main': tls is given for docker 'unix:///var/run/docker.sock'; TLS files are for a tcp:// "
        "engine only",
    ),
    (
        "tls with an ssh URL",
        _inventory(
            _host(docker="ssh://me@b", tls="{ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}")
        ),
        "host 'main': tls is given for docker 'ssh://me@b'",
    ),
    (
        "missing TLS file",
        _inventory(
            _host(
                docker="tcp://10.0.0.5:2376",
                tls="{ca: certs/ca.pem, cert: certs/nope.pem, key: certs/key.pem}",
            )
        ),
        "host 'main': tls: cert file ",
    ),
    (
        "TLS block lacking a file",
        _inventory(_host(docker="tcp://10.0.0.5:2376", tls="{ca: certs/ca.pem, cert: certs/cert.pem}")),
        "host 'main': tls: key must be a file (allowed keys: ca, cert, key)",
    ),
    ("cores 0", _inventory(_host(cores="0")), "host 'main': cores 0 is out of range (allowed: 1..1024)"),
    ("cores negative", _inventory(_host(cores="-2")), "host 'main': cores -2 is out of range"),
    ("cores not an integer", _inventory(_host(cores="two")), "host 'main': cores 'two' is not an integer"),
    ("cores a boolean", _inventory(_host(cores="true")), "host 'main': cores True is not an integer"),
    (
        "cpuset larger than cores",
        _inventory(_host(cores="2", cpuset='"0,1,2"')),
        "host 'main': cpuset '0,1,2' names 3 core(s) but cores is 2; give as many core ids as cores",
    ),
    (
        "cpuset smaller than cores",
        _inventory(_host(cores="4", cpuset='"0-2"')),
        "host 'main': cpuset '0,1,2' names 3 core(s) but cores is 4",
    ),
    (
        "cpuset not core ids",
        _inventory(_host(cpuset='"0;1"')),
        "host 'main': cpuset '0;1' is not a set of cores",
    ),
    ("cpuset repeating a core", _inventory(_host(cpuset='"1,1"')), "cpuset '1,1' names core 1 twice"),
    ("cpuset range backwards", _inventory(_host(cpuset='"3-1"')), "the range 3-1 runs backwards"),
    (
        "simulated cpuset beyond the machine",
        _inventory(_host(cpuset='"0,9"'), top="simulated: true\n"),
        "host 'main': cpuset names core 9, which this machine does not have; a simulated host uses this "
        "machine's cores (allowed: 0..7)",
    ),
    (
        "simulated default cpuset beyond the machine",
        _inventory(_host(cores="12"), top="simulated: true\n"),
        "host 'main': cores 12 (cpuset 0..11) names core 8, which this machine does not have",
    ),
    (
        "simulated not a boolean",
        _inventory(_host(), top="simulated: yes please\n"),
        "simulated: 'yes please' is not",
    ),
    (
        "unknown role",
        _inventory(_host(roles="[server, backing, loadgen, database]")),
        "host 'main': unknown role 'database' (allowed: server, backing, loadgen)",
    ),
    (
        "role listed twice",
        _inventory(_host(roles="[server, server]")),
        "host 'main': roles lists 'server' twice",
    ),
    ("no roles", _inventory(_host(roles="[]")), "host 'main': roles [] is not a list of roles"),
    (
        "a role no host has",
        _inventory(_host("a", roles="[server, backing]"), _host("b", roles="[backing]")),
        "no host has the role 'loadgen'; each of server, backing, loadgen must be on at least one host",
    ),
    ("no hosts (empty list)", _inventory(), "no hosts; list at least one under 'hosts'"),
    ("no hosts (no key)", "simulated: false\n", "no hosts; list at least one under 'hosts'"),
    ("hosts not a list", "hosts: main\n", "hosts: expected a list of hosts, got 'main'"),
    ("host not a mapping", "hosts: [main]\n", "hosts[0]: expected a mapping with name, docker"),
    ("not a mapping", "- main\n", "expected a mapping with simulated, hosts"),
    ("address not an address", _inventory(_host(address='"10.0.0.5 x"')), "is not an address"),
    ("address with a bad label", _inventory(_host(address="host_b")), "address 'host_b' is not an address"),
    ("key given twice", _inventory(_host()) + "hosts: []\n", "key 'hosts' is given twice"),
]


@pytest.mark.parametrize(("text", "fragment"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_bad_inventory_is_refused_in_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in refusal(tmp_path, text)


def test_a_missing_inventory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    with pytest.raises(UserError, match=f"^{missing}: cannot read the host inventory"):
        load_inventory(missing)


def test_a_matrix_names_its_inventory_relative_to_itself(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    inventory = write(folder, ONE_HOST, "lab.yml")
    matrix_file = folder / "m.yml"
    matrix_file.write_text("modes: [waitress]\nworkloads: [json]\nhosts: lab.yml\n")
    matrix = load_matrix(matrix_file)
    assert matrix.hosts == str(inventory)
    assert matrix.inventory is not None and matrix.inventory.hosts[0].name == "solo"
    assert load_matrix(matrix_file).as_dict()["hosts"] == str(inventory)


def test_a_matrix_without_hosts_has_no_inventory(tmp_path: Path) -> None:
    matrix_file = tmp_path / "m.yml"
    matrix_file.write_text("modes: [waitress]\nworkloads: [json]\n")
    matrix = load_matrix(matrix_file)
    assert matrix.hosts is None and matrix.inventory is None


class FakeEngine:
    """An engine whose ping answers, fails, or waits for ``release`` (a host that never answers)."""

    def __init__(self, fails: str | None = None, release: threading.Event | None = None) -> None:
        self.fails = fails
        self.release = release
        self.pinged = threading.Event()
        self.answered = threading.Event()

    def ping(self) -> None:
        self.pinged.set()
        if self.release is not None:
            self.release.wait(10)
        self.answered.set()
        if self.fails is not None:
            raise DockerError(self.fails)


def _three_hosts(tmp_path: Path) -> Inventory:
    text = _inventory(
        _host("a", roles="[server]"),
        _host("b", roles="[backing]", docker="ssh://bench@10.0.0.6"),
        _host("c", roles="[loadgen]", docker="tcp://10.0.0.7:2375"),
    )
    return load_inventory(write(tmp_path, text))


def test_every_engine_answering_passes(tmp_path: Path) -> None:
    inventory = _three_hosts(tmp_path)
    fakes = {host.name: FakeEngine() for host in inventory.hosts}
    check_engines(inventory, lambda host: fakes[host.name])
    assert all(fake.pinged.is_set() for fake in fakes.values())


def test_an_engine_that_fails_is_named_with_its_url(tmp_path: Path) -> None:
    inventory = _three_hosts(tmp_path)
    fakes = {host.name: FakeEngine() for host in inventory.hosts}
    fakes["c"] = FakeEngine(fails="the Docker engine is not reachable: connection refused")
    with pytest.raises(EngineError) as caught:
        check_engines(inventory, lambda host: fakes[host.name])
    assert str(caught.value) == (
        f"{inventory.source}: host 'c': the Docker engine at tcp://10.0.0.7:2375 does not answer: the Docker "
        "engine is not reachable: connection refused"
    )


def test_an_engine_whose_driver_cannot_connect_is_named(tmp_path: Path) -> None:
    inventory = _three_hosts(tmp_path)

    def connect(host: Host) -> Engine:
        if host.name == "b":
            raise OSError("ssh: connect to host 10.0.0.6 port 22: No route to host")
        return FakeEngine()

    with pytest.raises(
        EngineError, match=r"host 'b': the Docker engine at ssh://bench@10\.0\.0\.6 does not answer: ssh"
    ):
        check_engines(inventory, connect)


def test_an_engine_that_never_answers_is_refused_without_waiting_for_it(tmp_path: Path) -> None:
    inventory = _three_hosts(tmp_path)
    stuck = threading.Event()
    fakes = {host.name: FakeEngine() for host in inventory.hosts}
    fakes["b"] = FakeEngine(release=stuck)
    try:
        # A deadline far beyond what an answering fake needs, on however loaded a machine.
        with pytest.raises(EngineError) as caught:
            check_engines(inventory, lambda host: fakes[host.name], timeout_s=2.0)
        # Refused while the stuck ping still waits: the check did not wait for it to answer.
        assert fakes["b"].pinged.is_set() and not fakes["b"].answered.is_set()
        # The others answered (positive control: an answer is seen).
        assert fakes["a"].answered.is_set() and fakes["c"].answered.is_set()
    finally:
        stuck.set()
    assert str(caught.value).endswith(
        "host 'b': the Docker engine at ssh://bench@10.0.0.6 does not answer: no answer within 2 s"
    )


def test_the_engines_are_pinged_at_once(tmp_path: Path) -> None:
    """Each ping waits until all three have started: one after the other, they would time out."""
    inventory = _three_hosts(tmp_path)
    barrier = threading.Barrier(len(inventory.hosts), timeout=5)

    class Waiting:
        def ping(self) -> None:
            barrier.wait()

    check_engines(inventory, lambda host: Waiting(), timeout_s=10)


def test_the_first_failing_host_in_the_file_is_named(tmp_path: Path) -> None:
    inventory = _three_hosts(tmp_path)
    with pytest.raises(EngineError, match="host 'a'"):
        check_engines(inventory, lambda host: FakeEngine(fails=f"down: {host.name}"))


def test_connect_engine_gives_the_driver_the_url_name_and_tls(tmp_path: Path) -> None:
    remote = load_inventory(write(tmp_path, SIMULATED), cores_here=8).hosts[1]
    engine = engines.connect_engine(remote)
    # The driver reaches its engine on first use only: nothing is asked of 10.0.0.5 here.
    assert isinstance(engine, Docker) and engine._client is None
    assert (engine.base_url, engine.name, engine.tls) == ("tcp://10.0.0.5:2376", "remote", remote.tls)
    assert str(engine) == "docker engine 'remote' (tcp://10.0.0.5:2376)"
    assert connect_engine is engines.connect_engine
