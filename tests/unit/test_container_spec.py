"""A ContainerSpec's translation into the SDK's arguments, and from them into what the engine is sent:
the hardening by default, every limit and mount as ``docker run``'s flags set them."""

from __future__ import annotations

from typing import Any

import pytest
from docker.models import containers

from servingmatrix.engine.container_spec import ContainerSpec, run_kwargs
from servingmatrix.run.stack.stack import Placement

BARE = ContainerSpec(name="c", image="servingmatrix/base:3.13")


def engine_body(spec: ContainerSpec) -> dict[str, Any]:
    """The create arguments the SDK makes of ``run_kwargs(spec)``, its HostConfig among them."""
    kwargs = run_kwargs(spec)
    kwargs["version"] = "1.41"
    # The SDK's own translation (what containers.create sends), so no engine is needed to see it.
    translate: Any = getattr(containers, "_create_container_args")  # noqa: B009
    body: dict[str, Any] = translate(kwargs)
    return body


def test_a_bare_spec_is_hardened_on_the_host_network() -> None:
    host = engine_body(BARE)["host_config"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["NetworkMode"] == "host"
    for unset in ("CpusetCpus", "NanoCpus", "Memory", "PidsLimit", "Tmpfs", "Binds", "ShmSize"):
        assert unset not in host, unset


def test_hardening_can_be_let_go_field_by_field() -> None:
    spec = ContainerSpec(
        name="c", image="i", read_only=False, cap_drop_all=False, no_new_privileges=False, network="none"
    )
    kwargs = run_kwargs(spec)
    assert kwargs["read_only"] is False and "cap_drop" not in kwargs and "security_opt" not in kwargs
    assert kwargs["network_mode"] == "none"


def test_every_field_reaches_the_engine_as_docker_run_would_send_it(tmp_path: Any) -> None:
    spec = ContainerSpec(
        name="servingmatrix-r1-server",
        image="servingmatrix/gunicorn-sync:latest",
        command=("gunicorn", "--bind", "127.0.0.1:18000"),
        entrypoint=("sh",),
        env={"PORT": "18000", "SERVING_MODE": "gunicorn-sync"},
        labels={"io.servingmatrix.project": "servingmatrix", "io.servingmatrix.role": "server"},
        cpuset="0",
        cpus=1.5,
        memory="1g",
        pids_limit=4096,
        tmpfs={"/tmp": "rw,mode=1777,size=64m"},
        binds={str(tmp_path): "/out"},
        anonymous_volumes=("/data",),
        user="1000:1000",
        shm_size="128m",
        no_healthcheck=True,
    )
    body = engine_body(spec)
    host = body["host_config"]
    assert body["name"] == "servingmatrix-r1-server" and body["image"] == spec.image
    assert body["command"] == ["gunicorn", "--bind", "127.0.0.1:18000"]
    assert body["entrypoint"] == ["sh"]
    assert body["environment"] == {"PORT": "18000", "SERVING_MODE": "gunicorn-sync"}
    assert body["labels"] == dict(spec.labels)
    assert body["user"] == "1000:1000"
    assert body["healthcheck"] == {"test": ["NONE"]}
    assert body["volumes"] == ["/out"]
    assert host["CpusetCpus"] == "0"
    assert host["NanoCpus"] == 1_500_000_000
    assert host["Memory"] == 2**30
    assert host["PidsLimit"] == 4096
    assert host["Tmpfs"] == {"/tmp": "rw,mode=1777,size=64m"}
    assert host["Binds"] == [f"{tmp_path}:/out:rw"]
    assert host["ShmSize"] == 128 * 2**20
    (mount,) = host["Mounts"]
    assert (mount["Target"], mount["Source"], mount["Type"]) == ("/data", None, "volume")


def test_no_command_leaves_the_image_s_own() -> None:
    assert run_kwargs(BARE)["command"] is None
    assert "entrypoint" not in run_kwargs(BARE) and "healthcheck" not in run_kwargs(BARE)


@pytest.mark.parametrize(("cpus", "nano"), [(0.5, 500_000_000), (1.0, 1_000_000_000), (0.1, 100_000_000)])
def test_a_cpu_quota_is_in_billionths(cpus: float, nano: int) -> None:
    assert run_kwargs(ContainerSpec(name="c", image="i", cpus=cpus))["nano_cpus"] == nano


def test_a_placement_sets_the_limits_and_nothing_else() -> None:
    placed = Placement("1", 0.5, memory="512m", pids=64).applied_to(BARE)
    assert (placed.cpuset, placed.cpus, placed.memory, placed.pids_limit) == ("1", 0.5, "512m", 64)
    assert placed.name == BARE.name and placed.read_only and placed.network == "host"
