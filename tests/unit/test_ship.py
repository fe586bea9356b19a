"""Images shipped from this machine's engine to another: kept where id and inputs tag already match,
shipped and tagged with their inputs otherwise, refused in one line when not built or not arrived."""

from __future__ import annotations

from typing import Any, cast

import pytest

from servingmatrix.building.images import ImageDef
from servingmatrix.engine.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.run.stack.ship import Shipped, ship_images

LOCUST = ImageDef("locust")
UPSTREAM = ImageDef("upstream")
INPUTS = "inputs-" + "a" * 32
OLD_INPUTS = "inputs-" + "b" * 32


class ImageEngine:
    """An engine's images by reference; a shipped image arrives with its reference's tag only."""

    def __init__(self, name: str, images: dict[str, dict[str, Any]] | None = None) -> None:
        self.name = name
        self.images = images or {}
        self.shipped: list[tuple[str, str]] = []
        self.tags: list[tuple[str, str]] = []

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        return self.images.get(ref)

    def ship_image(self, ref: str, to: ImageEngine) -> None:
        self.shipped.append((ref, to.name))
        to.images[ref] = {"Id": self.images[ref]["Id"], "RepoTags": [ref]}

    def tag(self, source: str, target: str) -> None:
        self.tags.append((source, target))
        self.images[source]["RepoTags"].append(target)


def built(image: ImageDef, image_id: str, inputs: str | None = INPUTS) -> dict[str, Any]:
    tags = [image.ref] + ([f"servingmatrix/{image.name}:{inputs}"] if inputs else [])
    return {"Id": image_id, "RepoTags": tags}


def ship(source: ImageEngine, target: ImageEngine, *images: ImageDef) -> tuple[list[Shipped], list[str]]:
    said: list[str] = []
    shipped = ship_images(cast(Docker, source), cast(Docker, target), images, said.append)
    return shipped, said


def test_an_image_with_the_same_id_and_inputs_is_kept() -> None:
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:1")})
    target = ImageEngine("gen-a", {LOCUST.ref: built(LOCUST, "sha256:1")})
    shipped, said = ship(source, target, LOCUST)
    assert shipped == [Shipped("locust", "sha256:1", shipped=False)]
    assert source.shipped == [] and target.tags == [] and said == []


def test_an_image_the_target_lacks_is_shipped_and_tagged_with_its_inputs() -> None:
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:1")})
    target = ImageEngine("gen-a")
    shipped, said = ship(source, target, LOCUST)
    assert shipped == [Shipped("locust", "sha256:1", shipped=True)]
    assert source.shipped == [(LOCUST.ref, "gen-a")]
    assert target.tags == [(LOCUST.ref, f"servingmatrix/locust:{INPUTS}")]
    assert said == ["shipping servingmatrix/locust:latest to host gen-a ..."]


def test_an_image_of_another_id_is_shipped() -> None:
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:new")})
    target = ImageEngine("gen-a", {LOCUST.ref: built(LOCUST, "sha256:old")})
    shipped, _ = ship(source, target, LOCUST)
    assert shipped == [Shipped("locust", "sha256:new", shipped=True)]
    assert source.shipped == [(LOCUST.ref, "gen-a")]
    assert target.images[LOCUST.ref]["Id"] == "sha256:new"


def test_an_image_of_the_same_id_but_without_its_inputs_tag_is_tagged_not_shipped() -> None:
    """The id is the digest of the image's content: the same id is the same image, whatever its tags."""
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:1")})
    for there in (built(LOCUST, "sha256:1", OLD_INPUTS), built(LOCUST, "sha256:1", None)):
        target = ImageEngine("gen-a", {LOCUST.ref: there})
        shipped, _ = ship(source, target, LOCUST)
        assert shipped == [Shipped("locust", "sha256:1", shipped=False)]
        assert source.shipped == []
        assert target.tags == [(LOCUST.ref, f"servingmatrix/locust:{INPUTS}")]


def test_an_image_built_without_an_inputs_tag_is_judged_by_its_id_and_shipped_untagged() -> None:
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:1", None)})
    kept = ImageEngine("gen-a", {LOCUST.ref: built(LOCUST, "sha256:1", OLD_INPUTS)})
    assert ship(source, kept, LOCUST)[0] == [Shipped("locust", "sha256:1", shipped=False)]
    lacking = ImageEngine("gen-b")
    assert ship(source, lacking, LOCUST)[0] == [Shipped("locust", "sha256:1", shipped=True)]
    assert lacking.tags == []


def test_each_image_is_judged_on_its_own_in_order() -> None:
    source = ImageEngine(
        "main", {LOCUST.ref: built(LOCUST, "sha256:1"), UPSTREAM.ref: built(UPSTREAM, "sha256:2")}
    )
    target = ImageEngine("gen-a", {UPSTREAM.ref: built(UPSTREAM, "sha256:2")})
    shipped, said = ship(source, target, LOCUST, UPSTREAM)
    assert shipped == [
        Shipped("locust", "sha256:1", shipped=True),
        Shipped("upstream", "sha256:2", shipped=False),
    ]
    assert said == ["shipping servingmatrix/locust:latest to host gen-a ..."]


def test_an_image_not_built_here_is_refused_in_one_line_before_anything_ships() -> None:
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:1")})
    target = ImageEngine("gen-a")
    with pytest.raises(UserError) as raised:
        ship(source, target, UPSTREAM, LOCUST)
    assert str(raised.value) == (
        "servingmatrix/upstream:latest is not built on this machine's engine: `servingmatrix build` builds it"
    )
    assert source.shipped == []


@pytest.mark.parametrize("arrived", [{"Id": "sha256:other", "RepoTags": []}, None])
def test_an_image_that_arrives_otherwise_than_built_is_refused(arrived: dict[str, Any] | None) -> None:
    source = ImageEngine("main", {LOCUST.ref: built(LOCUST, "sha256:1", None)})

    class Broken(ImageEngine):
        def image_inspect(self, ref: str) -> dict[str, Any] | None:
            return arrived if source.shipped else None

    target = Broken("gen-a")
    with pytest.raises(UserError) as raised:
        ship(source, target, LOCUST)
    assert str(raised.value) == "servingmatrix/locust:latest did not arrive on host gen-a as built here"
