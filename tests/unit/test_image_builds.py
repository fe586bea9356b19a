"""How images are built: the shared app image first, modes on top of it, wheels fetched once each."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.building import images as images_module
from servingmatrix.building import wheelhouse as wheelhouse_module
from servingmatrix.building.images import (
    APP_IMAGE_NAME,
    INPUTS_TAG,
    RUNTIME_IMAGE_NAME,
    SUPPORT_IMAGES,
    ImageDef,
    added_wheels,
    all_images,
    build_images,
    image_def,
    select_images,
    stage_context,
)
from servingmatrix.building.locks import parse_lock
from servingmatrix.building.wheelhouse import Wheelhouse
from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.errors import UserError
from servingmatrix.modes import mode_names

HASH_A = "a" * 64
HASH_B = "b" * 64


class BuildingDocker(Docker):
    """Records builds; images by id, each with its tags, as the engine keeps them."""

    def __init__(self, fail: str | None = None) -> None:
        super().__init__()
        self.fail = fail
        self.tags: dict[str, str] = {}  # ref -> image id
        self.built: list[str] = []
        self.builds = 0
        self.removed: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.guard = threading.Lock()

    def ping(self) -> None:
        return None

    def architecture(self) -> str:
        return "x86_64"

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        with self.guard:
            image = self.tags.get(ref)
            if image is None:
                return None
            return {"Id": image, "RepoTags": [r for r, i in self.tags.items() if i == image]}

    def tag(self, source: str, target: str) -> None:
        with self.guard:
            self.tags[target] = self.tags[source]

    def list_image_refs(self, repository: str) -> list[str]:
        with self.guard:
            return [ref for ref in self.tags if ref.startswith(f"{repository}:")]

    def remove_image(self, ref: str, *, force: bool = False) -> None:
        with self.guard:
            self.removed.append(ref)
            del self.tags[ref]

    def build(self, context: Path, ref: str, **kwargs: Any) -> None:
        with self.guard:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if ref == f"servingmatrix/{self.fail}:latest":
                raise DockerError(f"building {ref} failed: boom")
            assert (context / "Dockerfile").exists() and kwargs["labels"] == {}
            with self.guard:
                self.built.append(ref.split("/")[1].split(":")[0])
                self.builds += 1
                self.tags[ref] = f"sha256:{ref}-{self.builds}"
        finally:
            with self.guard:
                self.running -= 1


class NoWheels(Wheelhouse):
    def prefetch(self, locks: list[Path], arch: str, workers: int) -> None:
        return None

    def wheels_for(self, lock: Path, arch: str) -> list[Path]:
        return []


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(images_module, "ensure_base_image", lambda docker, say: "sha256:base")
    monkeypatch.setattr(images_module, "Wheelhouse", NoWheels)
    monkeypatch.setattr(images_module, "cache_dir", lambda: tmp_path)


def test_catalogue_puts_each_image_after_the_one_it_builds_on() -> None:
    names = [image.name for image in all_images()]
    assert names[0] == APP_IMAGE_NAME
    for image in all_images():
        assert all(names.index(parent) < names.index(image.name) for parent in image.parents)
    modes = {image.name for image in all_images() if image.parents == (APP_IMAGE_NAME, RUNTIME_IMAGE_NAME)}
    assert modes == set(mode_names())


def test_choosing_a_mode_brings_the_app_image_and_the_support_images() -> None:
    chosen = [image.name for image in select_images(["waitress"])]
    assert chosen[:2] == [APP_IMAGE_NAME, RUNTIME_IMAGE_NAME] and "waitress" in chosen
    assert set(SUPPORT_IMAGES) <= set(chosen)
    assert [image.name for image in select_images(["locust"])] == list(SUPPORT_IMAGES)


def test_an_unknown_image_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"unknown image 'nope' \(known: app, "):
        select_images(["nope"])


def test_a_mode_stages_only_the_wheels_the_app_image_lacks() -> None:
    mode = image_def("gunicorn-sync")
    assert mode.lock is not None
    wheels = [Path(f"{p.name.replace('-', '_')}-{p.version}-py3-none-any.whl") for p in parse_lock(mode.lock)]
    added = {path.name.split("-")[0] for path in added_wheels(mode, wheels)}
    assert added == {"gunicorn"}


def test_a_mode_s_context_installs_only_its_server(tmp_path: Path) -> None:
    mode = image_def("gunicorn-gevent")
    assert mode.lock is not None
    names = [f"{p.name.replace('-', '_')}-{p.version}-py3-none-any.whl" for p in parse_lock(mode.lock)]
    wheels = [Path(name) for name in names]
    staged = tmp_path / "context"
    real = tmp_path / "wheels"
    real.mkdir()
    for wheel in wheels:
        (real / wheel.name).write_text("wheel")
    stage_context(mode, [real / wheel.name for wheel in wheels], staged)
    lock = parse_lock(staged / "install" / "requirements.lock")
    app = {p.key for p in parse_lock(image_def("app").lock or Path())}
    assert {p.key for p in lock} == {p.key for p in parse_lock(mode.lock)} - app
    assert "gevent" in {p.key for p in lock} and "flask" not in {p.key for p in lock}
    assert sorted(w.name.split("-")[0] for w in (staged / "install").glob("*.whl")) == sorted(
        p.key.replace("-", "_") for p in lock
    )
    # Flask's own server adds nothing: its image installs nothing.
    werkzeug = tmp_path / "werkzeug"
    stage_context(image_def("werkzeug-single"), [real / w.name for w in wheels], werkzeug)
    assert (werkzeug / "install" / "requirements.lock").read_text() == ""
    assert "COPY install/" not in (werkzeug / "Dockerfile").read_text()


def test_a_mode_locked_apart_from_the_app_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.lock").write_text(f"flask==3.1.3 --hash=sha256:{HASH_A}\n")
    (tmp_path / "mode").mkdir()
    (tmp_path / "mode" / "requirements.lock").write_text(f"flask==3.1.2 --hash=sha256:{HASH_B}\n")
    monkeypatch.setattr(images_module, "images_dir", lambda: tmp_path)
    monkeypatch.setattr(images_module, "image_def", lambda name: ImageDef(name))
    with pytest.raises(
        UserError, match=r"has flask==3.1.2 but .* has flask==3.1.3: run `servingmatrix lock`"
    ):
        added_wheels(ImageDef("mode", parents=("app",)), [])


@pytest.mark.usefixtures("offline")
def test_every_image_builds_once_and_the_app_image_before_any_mode() -> None:
    docker = BuildingDocker()
    outcomes = build_images(docker, None, lambda line: None, jobs=3)
    assert sorted(docker.built) == sorted(image.name for image in all_images())
    for mode in mode_names():
        assert (
            docker.built.index(APP_IMAGE_NAME)
            < docker.built.index(RUNTIME_IMAGE_NAME)
            < docker.built.index(mode)
        )
    assert [outcome.name for outcome in outcomes] == [image.name for image in all_images()]
    assert docker.most_at_once <= 3


@pytest.mark.usefixtures("offline")
def test_an_unchanged_image_is_left_alone_and_a_new_app_image_rebuilds_the_modes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docker = BuildingDocker()
    build_images(docker, ["waitress"], lambda line: None)
    docker.built.clear()
    assert not any(outcome.built for outcome in build_images(docker, ["waitress"], lambda line: None))
    assert docker.built == []
    # A changed app image (its inputs hash into its id) means every mode on it is built again.
    real_stage = images_module.stage_context
    monkeypatch.setattr(
        images_module,
        "stage_context",
        lambda image, wheels, into, *known: (
            real_stage(image, wheels, into, *known) + ("x" if image.name == "app" else "")
        ),
    )
    build_images(docker, ["waitress"], lambda line: None)
    assert sorted(docker.built) == ["app", "runtime", "waitress"]
    # Each rebuilt image keeps one inputs tag: the earlier one went, and its image with it.
    waitress = [ref for ref in docker.tags if ref.startswith("servingmatrix/waitress:")]
    assert len(waitress) == 2 and f"servingmatrix/waitress:{INPUTS_TAG}" in " ".join(waitress)
    assert any(ref.startswith(f"servingmatrix/waitress:{INPUTS_TAG}") for ref in docker.removed)


@pytest.mark.usefixtures("offline")
def test_a_failed_app_image_fails_the_build_with_its_own_error() -> None:
    docker = BuildingDocker(fail=APP_IMAGE_NAME)
    with pytest.raises(DockerError, match="building servingmatrix/app:latest failed: boom"):
        build_images(docker, ["waitress", "uwsgi"], lambda line: None)
    assert not {"runtime", "waitress", "uwsgi"} & set(docker.built)


def test_prefetch_downloads_each_missing_wheel_once_across_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "one.lock"
    second = tmp_path / "two.lock"
    first.write_text(f"flask==3.1.3 --hash=sha256:{HASH_A}\ngunicorn==27.0.1 --hash=sha256:{HASH_B}\n")
    second.write_text(f"flask==3.1.3 --hash=sha256:{HASH_A}\nwaitress==3.0.2 --hash=sha256:{HASH_B}\n")
    fetched: list[list[str]] = []

    def record(self: Wheelhouse, requirements: Path, arch: str, what: str) -> None:
        fetched.append([line.split()[0] for line in requirements.read_text().splitlines()])

    monkeypatch.setattr(wheelhouse_module.Wheelhouse, "_pip_download", record)
    Wheelhouse(tmp_path / "wheels").prefetch([first, second], "x86_64", workers=2)
    assert len(fetched) == 2, "shared among the workers"
    fetched_once = sorted(line for share in fetched for line in share)
    assert fetched_once == ["flask==3.1.3", "gunicorn==27.0.1", "waitress==3.0.2"]


@pytest.mark.usefixtures("offline")
def test_builds_others_wait_for_go_first_then_the_longest() -> None:
    docker = BuildingDocker()
    build_images(docker, None, lambda line: None, jobs=1)
    order = docker.built
    assert order[:5] == ["app", "runtime", "postgres", "locust", "nginx-gunicorn-sync"]
    assert order[-2:] == ["upstream", "wrk"] or order[-2:] == ["wrk", "upstream"]
    assert set(order[5:-2]) == set(mode_names()) - {"nginx-gunicorn-sync"}
