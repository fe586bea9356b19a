"""`servingmatrix clean` removes what the project created, found by its label, and nothing else.

It removes every labelled container, the session's own stack too: conftest.py runs this module before
any other, before any test has started that stack.
"""

from __future__ import annotations

import pytest

from servingmatrix.engine.docker import PROJECT_LABEL, ContainerSpec, Docker
from servingmatrix.run.stack.cleanup import clean_project_objects

pytestmark = pytest.mark.docker


def test_clean_removes_labelled_objects_only(docker: Docker, images: None) -> None:
    ours = docker.run_detached(
        ContainerSpec(
            name="smtest-clean-ours",
            image="servingmatrix/base:3.13",
            command=("sleep", "60"),
            labels={PROJECT_LABEL: "servingmatrix"},
            network="none",
        )
    )
    project = {PROJECT_LABEL: "servingmatrix"}
    docker.create_network("smtest-clean-net", project)
    docker.create_volume("smtest-clean-vol", project)
    # Every image of the project carries the label, so a container not ours is made unlabelled here
    # only as a network and a volume: those are what `clean` must leave alone.
    docker.create_network("smtest-clean-other-net", {})
    docker.create_volume("smtest-clean-other-vol", {})
    try:
        removed = clean_project_objects(docker)
        assert removed.containers >= 1 and removed.networks >= 1 and removed.volumes >= 1
        assert docker.container_inspect(ours) is None
        assert docker.list_networks(name="smtest-clean-net") == []
        assert docker.list_volumes(name="smtest-clean-vol") == []
        assert docker.list_networks(name="smtest-clean-other-net") != []
        assert docker.list_volumes(name="smtest-clean-other-vol") != []
    finally:
        docker.remove_containers([ours])
        docker.remove_networks(docker.list_networks(name="smtest-clean-other-net"))
        docker.remove_volumes(docker.list_volumes(name="smtest-clean-other-vol"))
