"""Images on every engine of a run, without a registry: built here once, shipped where they differ.

An engine whose copy of an image already carries the same inputs tag (``servingmatrix/NAME:inputs-HASH``,
see ``building/images.py``) and the same id keeps it; any other gets the image saved from this machine's
engine and loaded into it (``docker save | docker load`` over the engines' APIs), then tagged with its
inputs. Each engine's image ids are what the run records for that host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from servingmatrix.building.images import ImageDef, inputs_tag
from servingmatrix.engine.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.say import Say


@dataclass(frozen=True)
class Shipped:
    """An image on one engine: its id there, and whether it had to be shipped."""

    name: str
    id: str
    shipped: bool


def ship_images(source: Docker, target: Docker, images: Iterable[ImageDef], say: Say) -> list[Shipped]:
    """Make ``target`` hold ``images`` as ``source`` has them; refuse in one line an image not built."""
    out: list[Shipped] = []
    for image in images:
        local = source.image_inspect(image.ref)
        if local is None:
            raise UserError(
                f"{image.ref} is not built on this machine's engine: `servingmatrix build` builds it"
            )
        inputs = inputs_tag(image, local.get("RepoTags") or [])
        remote = target.image_inspect(image.ref)
        if remote is not None and remote.get("Id") == local.get("Id"):
            # The same image (its id is its content's digest): at most its inputs tag is missing.
            if inputs is not None and inputs_tag(image, remote.get("RepoTags") or []) != inputs:
                target.tag(image.ref, f"{image.ref.rsplit(':', 1)[0]}:{inputs}")
            out.append(Shipped(image.name, str(local.get("Id")), shipped=False))
            continue
        say(f"shipping {image.ref} to host {target.name} ...")
        source.ship_image(image.ref, target)
        if inputs is not None:
            target.tag(image.ref, f"{image.ref.rsplit(':', 1)[0]}:{inputs}")
        loaded = target.image_inspect(image.ref)
        if loaded is None or loaded.get("Id") != local.get("Id"):
            raise UserError(f"{image.ref} did not arrive on host {target.name} as built here")
        out.append(Shipped(image.name, str(local.get("Id")), shipped=True))
    return out
