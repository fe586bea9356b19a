"""Every image's lock re-resolved from its pins (``servingmatrix lock``), parents first."""

from __future__ import annotations

from collections.abc import Collection

from servingmatrix.building.generate import write_rendered
from servingmatrix.building.images import all_images, image_def
from servingmatrix.building.locks import compile_lock
from servingmatrix.say import Say


def lock_images(names: Collection[str] | None, say: Say) -> None:
    """Re-resolve the locks of the images named (None: every image with pins), the registry's files
    rendered first (the pins are among them)."""
    write_rendered()
    # The app image's lock first: every mode's lock is resolved within it (see building/images.py), so
    # `lock --modes` re-resolves those modes against the app's lock as it stands.
    for image in sorted(all_images(), key=lambda image: len(image.parents)):
        source = image.folder / "requirements.in"
        if (names is None or image.name in names) and source.exists():
            parent_lock = next((image_def(p).lock for p in image.parents if image_def(p).lock), None)
            compile_lock(source, image.folder / "requirements.lock", parent_lock)
            say(f"locked {image.folder / 'requirements.lock'}")
