"""What runs on several engines moves between them: files copied out of a container, and an image
saved from one engine and loaded into another (here the same engine, both ways through the API)."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from servingmatrix.engine.docker import SHIP_TIMEOUT_S, ContainerSpec, Docker
from servingmatrix.run.stack.readiness import wait_command_ready

pytestmark = pytest.mark.docker

TINY = f"smtest/tiny:{os.getpid()}"


@pytest.fixture
def tiny_image(docker: Docker, tmp_path: Path) -> Iterator[str]:
    """An image of one file, imported from a tarball made here."""
    tarball = tmp_path / "root.tar"
    with tarfile.open(tarball, "w") as archive:
        data = b"tiny\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    docker.import_tarball(tarball, TINY, ['LABEL io.servingmatrix.test="tiny"'])
    try:
        yield TINY
    finally:
        for ref in docker.list_image_refs(TINY.split(":")[0]):
            docker.remove_image(ref)


class EmptiedReceiver(Docker):
    """An engine client that reads the whole shipment, then removes the image, then loads it."""

    def __init__(self, ref: str, name: str) -> None:
        super().__init__(name=name)
        self.ref = ref
        self.received = 0
        self.absent_before_load = False

    def load_image(self, chunks: Iterable[bytes], timeout: float = SHIP_TIMEOUT_S) -> None:
        data = b"".join(chunks)
        self.received = len(data)
        self.remove_image(self.ref)
        self.absent_before_load = self.image_inspect(self.ref) is None
        super().load_image(iter([data]), timeout)


def test_an_image_is_shipped_from_one_engine_to_another(docker: Docker, tiny_image: str) -> None:
    saved = b"".join(docker.save_image(tiny_image))
    assert b"hello.txt" in saved or b"layer.tar" in saved
    docker.remove_image(tiny_image)
    assert docker.image_inspect(tiny_image) is None
    docker.load_image(iter([saved]))
    assert docker.image_labels(tiny_image) == {"io.servingmatrix.test": "tiny"}
    # Shipped to a receiver on the same engine that, once it holds the whole save, removes the image
    # before loading: the image is there afterwards only if the ship carried it.
    receiver = EmptiedReceiver(tiny_image, name="receiver")
    docker.ship_image(tiny_image, receiver)
    assert receiver.received > 0 and receiver.absent_before_load
    assert docker.image_labels(tiny_image) == {"io.servingmatrix.test": "tiny"}


def test_files_are_copied_out_of_a_container(docker: Docker, images: None, tmp_path: Path) -> None:
    name = f"smtest-copy-{os.getpid()}"
    spec = ContainerSpec(
        name=name,
        image="servingmatrix/base:3.13",
        entrypoint=("sh", "-c"),
        command=("mkdir -p /out/cells; echo '{}' >/out/cells/a.json; echo done >/out/x; sleep 30",),
        network="none",
        # The engine copies out of the root and volumes, never out of a tmpfs (it cannot see into one).
        anonymous_volumes=("/out",),
    )
    docker.remove_containers([name])
    docker.run_detached(spec)
    try:
        wait_command_ready(docker, name, ["test", "-f", "/out/x"], 10.0)
        written = docker.copy_out(name, "/out", tmp_path / "copied")
    finally:
        docker.remove_containers([name])
    assert (tmp_path / "copied" / "out" / "cells" / "a.json").read_text() == "{}\n"
    assert (tmp_path / "copied" / "out" / "x").read_text() == "done\n"
    assert tmp_path / "copied" / "out" / "x" in written
