"""Simulated hosts, for real: ``hosts up 2`` starts two engines at their own addresses; an image ships to
them with ``docker save | docker load``; a container on each reaches the main host and the other
simulated host, and the main host reaches both; ``hosts down`` then leaves nothing behind, even of a
host whose engine was killed. And an engine that fails to start is named, and nothing is left of it.

Needs root and dockerd. About 15 s, most of it loading the image into the two engines.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from servingmatrix.building.images import build_images
from servingmatrix.engine.docker import Docker
from servingmatrix.hosts.simulated.engines import engine_version
from servingmatrix.hosts.simulated.mountinfo import read_mounts_under
from servingmatrix.hosts.simulated.plan import DEFAULT_LAYOUT, MAIN_ADDRESS
from servingmatrix.hosts.simulated.processes import command_name, namespace_id, pids_in_namespace, signal_pids
from servingmatrix.run.load.reference import WRK_IMAGE

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="simulated hosts need root"),
    pytest.mark.skipif(shutil.which("dockerd") is None, reason="simulated hosts need dockerd"),
]

LAYOUT = DEFAULT_LAYOUT
#: The port the listening containers serve on, each at its host's address.
PROBE_PORT = 18610
#: Serves the host's name to every connection, until the container is removed.
LISTEN = (
    "import socket, sys\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen()\n"
    "while True:\n"
    "    c, _ = s.accept(); c.sendall(sys.argv[3].encode() + b'\\n'); c.close()\n"
)
#: Connects to each ADDRESS:PORT given and prints what it answered, or that it could not.
CONNECT = (
    "import socket, sys\n"
    "for target in sys.argv[1:]:\n"
    "    address, port = target.rsplit(':', 1)\n"
    "    try:\n"
    "        with socket.create_connection((address, int(port)), timeout=5) as c:\n"
    "            print(target, c.recv(64).decode().strip())\n"
    "    except OSError as exc:\n"
    "        print(target, 'unreachable', exc)\n"
)


def hosts_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servingmatrix", "hosts", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def docker_at(url: str, *args: str, timeout: float = 60.0) -> str:
    proc = subprocess.run(
        ["docker", "-H", url, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"docker -H {url} {' '.join(args[:2])}: {proc.stderr}"
    return proc.stdout.strip()


def ship(image: str, urls: list[str], folder: Path) -> None:
    """``docker save`` once, ``docker load`` into every engine at once."""
    archive = folder / "image.tar"
    subprocess.run(["docker", "save", "--output", str(archive), image], check=True, timeout=120)
    loads = [
        subprocess.Popen(
            ["docker", "-H", url, "load", "--quiet", "--input", str(archive)], stdout=subprocess.DEVNULL
        )
        for url in urls
    ]
    assert [load.wait(timeout=120) for load in loads] == [0] * len(urls)
    archive.unlink()


@pytest.fixture(scope="module")
def wrk_image(docker: Docker) -> str:
    build_images(docker, ["wrk"], lambda line: print(line, flush=True))
    return WRK_IMAGE


@contextmanager
def main_listener() -> Iterator[int]:
    """A listener on the main host's switch address (there once the hosts are up), answering ``main``;
    its port."""
    server = socket.create_server((MAIN_ADDRESS, 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"main\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def answer(address: str, port: int, timeout_s: float = 20.0) -> str:
    """What the listener at ``address:port`` says, once it listens."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((address, port), timeout=2) as conn:
                return conn.recv(64).decode().strip()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ours_running() -> list[str]:
    """Processes whose command line names the simulated hosts' folders: their daemons and shims."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and str(LAYOUT.run_root) in command and entry.name != str(os.getpid()):
            found.append(f"{entry.name}: {command[:120]}")
    return found


def assert_nothing_left() -> None:
    assert ours_running() == []
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in namespaces.splitlines() if line.startswith(("smhost", "smswitch"))]
    assert read_mounts_under([LAYOUT.run_root, LAYOUT.data_root]) == []
    assert not [p for p in read_mounts_under([LAYOUT.netns_dir]) if p.name.startswith("sm")]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    assert not [name for name in names if name.startswith("sm")], names
    assert not LAYOUT.run_root.exists()
    assert not LAYOUT.data_root.exists()


def test_simulated_hosts_come_up_reach_each_other_and_leave_nothing(wrk_image: str, tmp_path: Path) -> None:
    if LAYOUT.state_file.exists():
        pytest.skip("simulated hosts are already up here: not ours to take down")
    inventory = tmp_path / "hosts.yml"
    timings: dict[str, float] = {}
    try:
        began = time.monotonic()
        up = hosts_cli("up", "2", "--out", str(inventory))
        timings["up"] = time.monotonic() - began
        assert up.returncode == 0, up.stderr
        main, sim1, sim2 = yaml.safe_load(inventory.read_text())["hosts"]
        addresses = (main["address"], sim1["address"], sim2["address"])
        assert addresses == (MAIN_ADDRESS, "10.213.0.2", "10.213.0.3")
        assert engine_version(sim1["docker"]) is not None and engine_version(sim2["docker"]) is not None
        status = hosts_cli("status").stdout
        assert "sim1: tcp://10.213.0.2:2375" in status and "not answering" not in status

        began = time.monotonic()
        ship(wrk_image, [sim1["docker"], sim2["docker"]], tmp_path)
        timings["ship"] = time.monotonic() - began
        image_id = ["image", "inspect", "--format", "{{.Id}}", wrk_image]
        shipped = {docker_at(sim["docker"], *image_id) for sim in (sim1, sim2)}
        assert shipped == {docker_at(main["docker"], *image_id)}

        clean_the_simulated_engines(sim1, sim2, wrk_image, tmp_path)

        began = time.monotonic()
        check_reachability(sim1, sim2, wrk_image)
        timings["containers"] = time.monotonic() - began
        # As if sim1's engine crashed: its containers, their shims and its mounts are left behind.
        crashed = [pid for pid in sim1_daemons() if command_name(pid) in ("dockerd", "containerd")]
        assert len(crashed) == 2
        signal_pids(crashed, signal.SIGKILL)
    finally:
        began = time.monotonic()
        down = hosts_cli("down")
        timings["down"] = time.monotonic() - began
        print("simulated hosts, seconds:", {name: round(took, 1) for name, took in timings.items()})
    # sim2's listening container was still running, and sim1's was orphaned by its engine's crash.
    assert down.returncode == 0, down.stderr
    assert down.stdout.startswith("removed 2 simulated hosts"), down.stdout
    assert "0 processes killed" not in down.stdout
    assert_nothing_left()
    again = hosts_cli("down")
    assert (again.returncode, again.stdout) == (0, "no simulated hosts to remove\n")


def clean_the_simulated_engines(sim1: dict[str, Any], sim2: dict[str, Any], image: str, folder: Path) -> None:
    """``clean --hosts`` removes what carries the project's label on each engine of the inventory, and
    nothing else. (The inventory leaves out this machine's engine, whose stack other tests share.)"""
    # Our images carry the project's label, and so does every container made of them: another's
    # container is made of an image without it, imported from an empty archive.
    empty = folder / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    for sim in (sim1, sim2):
        docker_at(sim["docker"], "create", "--label", "io.servingmatrix.project=leftover", image)
        docker_at(sim["docker"], "import", str(empty), "someone/else:1")
        docker_at(sim["docker"], "create", "--name", "not-ours", "someone/else:1", "/nothing")
    inventory = folder / "sims.yml"
    hosts = [{**sim1, "roles": ["server", "backing"]}, {**sim2, "roles": ["loadgen"]}]
    inventory.write_text(yaml.safe_dump({"simulated": True, "hosts": hosts}))
    clean = subprocess.run(
        [sys.executable, "-m", "servingmatrix", "clean", "--hosts", str(inventory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines() == [
        "sim1: removed 1 containers, 0 networks, 0 volumes",
        "sim2: removed 1 containers, 0 networks, 0 volumes",
    ]
    for sim in (sim1, sim2):
        names = docker_at(sim["docker"], "ps", "--all", "--format", "{{.Names}}").split()
        assert names == ["not-ours"]
        docker_at(sim["docker"], "rm", "not-ours")
        docker_at(sim["docker"], "rmi", "someone/else:1")


def sim1_daemons() -> list[int]:
    namespace = namespace_id(LAYOUT.netns_dir / "smhost1")
    assert namespace is not None
    return pids_in_namespace(namespace)


def test_an_engine_that_fails_is_named_and_nothing_is_left(tmp_path: Path) -> None:
    if LAYOUT.state_file.exists():
        pytest.skip("simulated hosts are already up here: not ours to take down")
    # A dockerd that fails as a real one does, with a last line in its log.
    fake = tmp_path / "bin" / "dockerd"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'level=fatal msg=\"no engine today\"' >&2\nexit 1\n")
    fake.chmod(0o755)
    path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    try:
        up = hosts_cli("up", "2", "--out", str(tmp_path / "hosts.yml"), env={"PATH": path})
    finally:
        down = hosts_cli("down")
    # An engine that did not come up: the engine's status, not bad input's.
    assert up.returncode == 3
    (line,) = up.stderr.splitlines()
    assert line.startswith('servingmatrix: error: sim1: dockerd exited: level=fatal msg="no engine today"')
    kept = Path(line.rsplit("logs kept in ", 1)[1])
    assert sorted(log.name for log in kept.iterdir())[:2] == ["sim1-containerd.log", "sim1-dockerd.log"]
    shutil.rmtree(kept)
    assert not (tmp_path / "hosts.yml").exists()
    assert (down.returncode, down.stdout) == (0, "no simulated hosts to remove\n")
    assert_nothing_left()


def check_reachability(sim1: dict[str, str], sim2: dict[str, str], image: str) -> None:
    """A listening container on each simulated host; the main host connects to both, then a container
    on each connects to the main host and to the other simulated host."""
    python = ["run", "--network", "host", "--entrypoint", "python3"]
    for sim in (sim1, sim2):
        serve = [sim["address"], str(PROBE_PORT), sim["name"]]
        docker_at(sim["docker"], *python, "--detach", image, "-c", LISTEN, *serve)
    assert answer(sim1["address"], PROBE_PORT) == "sim1"
    assert answer(sim2["address"], PROBE_PORT) == "sim2"
    with main_listener() as port:
        for sim, other in ((sim1, sim2), (sim2, sim1)):
            targets = [f"{MAIN_ADDRESS}:{port}", f"{other['address']}:{PROBE_PORT}"]
            said = docker_at(sim["docker"], *python, "--rm", image, "-c", CONNECT, *targets)
            assert said.splitlines() == [f"{targets[0]} main", f"{targets[1]} {other['name']}"]
