"""Containers that let no one in: every container of a running stack, inspected."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.engine.docker import Docker
from servingmatrix.run.stack.stack import Stack

from .conftest import serving

pytestmark = pytest.mark.docker


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (IPv4 and IPv6), from /proc."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


@pytest.mark.parametrize("mode", ["gunicorn-sync", "nginx-gunicorn-sync", "uwsgi"])
def test_every_container_is_hardened_and_listens_on_loopback_only(
    docker: Docker, stack: Stack, mode: str
) -> None:
    with serving(stack, mode):
        for role in ("server", "upstream", "postgres"):
            info = docker.container_inspect(stack.name(role))
            assert info is not None
            host = info["HostConfig"]
            assert host["ReadonlyRootfs"] is True, role
            assert host["CapDrop"] == ["ALL"], role
            assert "no-new-privileges" in host["SecurityOpt"], role
            assert host["Memory"] > 0 and host["PidsLimit"] > 0, role
            assert host["CpusetCpus"] and host["NanoCpus"] > 0, role
            user = info["Config"]["User"]
            assert user and not user.startswith(("0", "root")), role
            env = info["Config"]["Env"]
            assert not any(e.startswith("POSTGRES_PASSWORD=servingmatrix") for e in env)
            # No health check runs its command on the cores being measured; readiness is the harness's.
            assert info["Config"]["Healthcheck"]["Test"] == ["NONE"], role
        for port in (stack.ports.server, stack.ports.upstream, stack.ports.postgres):
            addresses = listening_addresses(port)
            assert addresses, f"nothing listens on {port}"
            assert addresses == {LOOPBACK_V4}, f"port {port} listens on {addresses}"


def test_no_secret_is_baked_into_an_image(docker: Docker, images: None) -> None:
    for name in ("postgres", "upstream", "gunicorn-sync"):
        info = docker.image_inspect(f"servingmatrix/{name}:latest")
        assert info is not None
        env = info["Config"].get("Env") or []
        assert not any("PASSWORD" in e for e in env), name
