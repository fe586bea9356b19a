"""A user's app's images: their rendered Dockerfiles and contexts, their tags apart from the bundled
app's, their build on the same layout, and the locks checked before anything is built."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.building import app_locks as app_locks_module
from servingmatrix.building import images as images_module
from servingmatrix.building.app_dockerfiles import render_user_app_dockerfile, render_user_runtime_dockerfile
from servingmatrix.building.app_images import app_catalogue, build_app_images, stage_mode
from servingmatrix.building.app_locks import app_lock, check_locks, lock_app, mode_lock
from servingmatrix.building.dockerfiles import render_mode_dockerfile
from servingmatrix.building.images import INPUTS_TAG, all_images, explained, stage_context
from servingmatrix.building.locks import parse_lock
from servingmatrix.engine.docker import DockerError
from servingmatrix.errors import UserError
from servingmatrix.modes import MODES, get_mode
from servingmatrix.paths import images_dir, project_root
from servingmatrix.user_app import UserApp, load_app

from .test_image_builds import BuildingDocker, NoWheels

EXAMPLE = project_root() / "examples" / "notes-api"
HASH = "a" * 64


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UserApp:
    """The example app, copied, with a lock of its own and the modes' locks in a cache of the test's."""
    folder = tmp_path / "notes-api"
    shutil.copytree(EXAMPLE, folder)
    (folder / ".git-like").mkdir()
    (folder / ".git-like" / "secret").write_text("not for the image")
    (folder / "notes_api" / "__pycache__").mkdir(exist_ok=True)
    (folder / "notes_api" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    monkeypatch.setattr(app_locks_module, "cache_dir", lambda: tmp_path / "cache")
    app = load_app(folder)
    _write_locks(app)
    return app


def _lock_text(packages: dict[str, str]) -> str:
    return "".join(f"{name}=={version} --hash=sha256:{HASH}\n" for name, version in packages.items())


APP_PACKAGES = {"flask": "3.1.3", "psycopg": "3.3.9", "psycopg-binary": "3.3.9", "werkzeug": "3.1.9"}


def _write_locks(app: UserApp) -> None:
    app_lock(app).write_text(_lock_text(APP_PACKAGES))
    for mode in MODES:
        servers = {line.split("==")[0].split("[")[0]: line.split("==")[1] for line in mode.server_packages}
        mode_lock(app, mode).parent.mkdir(parents=True, exist_ok=True)
        mode_lock(app, mode).write_text(_lock_text({**APP_PACKAGES, **servers}))


def test_the_images_of_an_app_carry_its_name_and_never_the_bundled_tags(notes: UserApp) -> None:
    catalogue = app_catalogue(notes)
    refs = {name: image.ref for name, image in catalogue.items()}
    assert refs["app"] == "servingmatrix/app:notes-api"
    assert refs["runtime"] == "servingmatrix/runtime:notes-api"
    assert refs["waitress"] == "servingmatrix/waitress:app-notes-api"
    assert {refs[name] for name in ("upstream", "postgres", "locust", "wrk")} == {
        f"servingmatrix/{name}:latest" for name in ("upstream", "postgres", "locust", "wrk")
    }
    bundled = {image.ref for image in all_images()}
    assert not bundled & {refs[name] for name in ("app", "runtime", *(m.name for m in MODES))}
    assert catalogue["waitress"].lock == mode_lock(notes, get_mode("waitress"))
    assert catalogue["app"].lock == notes.folder / "requirements.lock"


def test_the_app_image_installs_the_lock_copies_the_app_and_imports_it(notes: UserApp) -> None:
    text = render_user_app_dockerfile(notes)
    assert text.startswith("# servingmatrix/app:notes-api: the app in ")
    assert "COPY install/ /tmp/install/" in text and "COPY app/ /srv/app/" in text
    assert "COPY entry/ /srv/entry/" in text
    # As the bundled app's: a tools environment's pip fills /opt/venv, which holds no pip.
    assert "python3 -m venv /opt/tools && python3 -m venv --without-pip /opt/venv" in text
    assert "/opt/tools/bin/pip --python /opt/venv/bin/python install" in text
    assert "-r /tmp/install/requirements.lock" in text
    check = next(line for line in text.splitlines() if "servingmatrix_entry.check" in line)
    argv = json.loads(check.removeprefix("RUN "))
    assert argv[0] == "/usr/bin/env" and argv[-3:] == [
        "/opt/venv/bin/python",
        "-m",
        "servingmatrix_entry.check",
    ]
    assert {"PYTHONPATH=/srv/app:/srv/entry", "SM_WSGI=notes_api.wsgi:app", "NOTES_POOL_SIZE=4"} <= set(argv)
    assert 'io.servingmatrix.app="notes-api"' in text and 'org.opencontainers.image.version="1.0.0"' in text


def test_the_runtime_carries_the_app_s_environment_and_health_path(notes: UserApp) -> None:
    text = render_user_runtime_dockerfile(notes)
    assert "ARG APP_IMAGE=servingmatrix/app:notes-api" in text
    for line in (
        'PYTHONPATH="/srv/app:/srv/entry:/opt/server"',
        'PATH="/opt/server/bin:/opt/venv/bin:',
        'SM_WSGI="notes_api.wsgi:app"',
        'NOTES_POOL_SIZE="4"',
    ):
        assert line in text
    assert "COPY --from=app /opt/venv /opt/venv" in text and "COPY --from=app /srv /srv" in text
    assert "USER 10001:10001" in text and "SQLITE_PATH" not in text
    assert "urlopen('http://127.0.0.1:%s/healthz'" in text


def test_an_environment_value_reaches_the_app_as_written() -> None:
    from servingmatrix.building.dockerfiles import instruction

    assert instruction("ENV", {"A": 'pa$s "q" é'}, "") == 'ENV A="pa\\$s \\"q\\" é"'


def test_a_mode_of_the_app_starts_from_its_images_and_runs_its_callable(notes: UserApp) -> None:
    text = render_mode_dockerfile(get_mode("gunicorn-sync"), notes.target)
    assert "ARG APP_IMAGE=servingmatrix/app:notes-api" in text
    assert "ARG RUNTIME_IMAGE=servingmatrix/runtime:notes-api" in text
    assert text.rstrip().endswith('"notes_api.wsgi:app"]')
    assert 'io.servingmatrix.packages="gunicorn==27.0.1"' in text
    assert "--target /opt/server" in text and "COPY --from=build /opt/server /opt/server" in text
    assert "benchapp" not in text
    # Flask's own server adds nothing to the app: no build stage, straight from the app's runtime.
    werkzeug = render_mode_dockerfile(get_mode("werkzeug-threaded"), notes.target)
    assert "AS build" not in werkzeug and "APP_IMAGE" not in werkzeug
    assert (
        "FROM ${RUNTIME_IMAGE}" in werkzeug
        and "ARG RUNTIME_IMAGE=servingmatrix/runtime:notes-api" in werkzeug
    )


def test_the_bundled_mode_dockerfiles_are_as_committed() -> None:
    for mode in MODES:
        assert render_mode_dockerfile(mode) == (images_dir() / mode.name / "Dockerfile").read_text()


def test_the_app_s_context_holds_its_files_but_hidden_ones_and_bytecode(
    notes: UserApp, tmp_path: Path
) -> None:
    into = tmp_path / "context"
    into.mkdir()
    stage_context(app_catalogue(notes)["app"], [], into, app_catalogue(notes))
    files = {str(p.relative_to(into)) for p in into.rglob("*") if p.is_file()}
    assert {"Dockerfile", "install/requirements.lock", "app/app.yml", "app/notes_api/__init__.py"} <= files
    assert {
        "app/notes_api/templates/note.html",
        "app/seed.sql",
        "entry/servingmatrix_entry/check.py",
    } <= files
    assert not [f for f in files if ".git-like" in f or f.endswith(".pyc")]
    installed = {p.key: p.version for p in parse_lock(into / "install" / "requirements.lock")}
    assert installed == {p.key: p.version for p in parse_lock(app_lock(notes))}


def test_a_mode_s_context_holds_its_lock_for_the_app_and_its_extra_files(
    notes: UserApp, tmp_path: Path
) -> None:
    into = tmp_path / "context"
    into.mkdir()
    mode = get_mode("nginx-gunicorn-sync")
    stage_mode(notes, mode, into)
    assert sorted(p.name for p in into.iterdir()) == ["Dockerfile", "launch.py"]
    catalogue = app_catalogue(notes)
    assert catalogue[mode.name].lock == mode_lock(notes, mode)
    staged = tmp_path / "staged"
    stage_context(catalogue[mode.name], [], staged, catalogue)
    # What it installs: its lock for the app, less what the app's lock holds.
    assert [p.key for p in parse_lock(staged / "install" / "requirements.lock")] == ["gunicorn"]


def test_a_mode_stages_only_its_server_over_the_app_image(notes: UserApp, tmp_path: Path) -> None:
    image = app_catalogue(notes)["gunicorn-gevent"]
    names = (*APP_PACKAGES, "gunicorn", "gevent")
    wheels = [tmp_path / f"{name.replace('-', '_')}-1-py3-none-any.whl" for name in names]
    for wheel in wheels:
        wheel.write_bytes(b"")
    into = tmp_path / "context"
    into.mkdir()
    stage_context(image, wheels, into, app_catalogue(notes))
    assert sorted(p.name.split("-")[0] for p in (into / "install").glob("*.whl")) == ["gevent", "gunicorn"]
    assert {
        p.name.split("-")[0] for p in images_module.added_wheels(image, wheels, app_catalogue(notes))
    } == {
        "gevent",
        "gunicorn",
    }


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(images_module, "ensure_base_image", lambda docker, say: "sha256:base")
    monkeypatch.setattr(images_module, "Wheelhouse", NoWheels)
    monkeypatch.setattr(images_module, "cache_dir", lambda: tmp_path / "build")


class RecordingDocker(BuildingDocker):
    def __init__(self) -> None:
        super().__init__()
        self.args: dict[str, dict[str, str]] = {}
        self.dockerfiles: dict[str, str] = {}

    def build(self, context: Path, ref: str, **kwargs: Any) -> None:
        self.args[ref] = dict(kwargs["build_args"])
        self.dockerfiles[ref] = (context / "Dockerfile").read_text()
        super().build(context, ref, **kwargs)


@pytest.mark.usefixtures("offline")
def test_an_app_s_modes_build_on_its_own_app_and_runtime_images(notes: UserApp) -> None:
    docker = RecordingDocker()
    outcomes = build_app_images(docker, notes, ["waitress"], lambda line: None)
    built = [o.ref for o in outcomes]
    assert built[:3] == [
        "servingmatrix/app:notes-api",
        "servingmatrix/runtime:notes-api",
        "servingmatrix/waitress:app-notes-api",
    ]
    assert docker.args["servingmatrix/waitress:app-notes-api"] == {
        "BASE_IMAGE": "servingmatrix/base:3.13",
        "APP_IMAGE": "servingmatrix/app:notes-api",
        "RUNTIME_IMAGE": "servingmatrix/runtime:notes-api",
    }
    assert docker.args["servingmatrix/runtime:notes-api"]["APP_IMAGE"] == "servingmatrix/app:notes-api"
    assert (
        "servingmatrix/app:latest" not in docker.args and "servingmatrix/waitress:latest" not in docker.args
    )
    assert "servingmatrix/upstream:latest" in docker.args
    # Built again, nothing changed: nothing is rebuilt; an edit of the app rebuilds its images.
    assert not any(o.built for o in build_app_images(docker, notes, ["waitress"], lambda line: None))
    (notes.folder / "notes_api" / "wsgi.py").write_text(
        "from notes_api import create_app\napp = create_app()\n"
    )
    rebuilt = {o.ref for o in build_app_images(docker, notes, ["waitress"], lambda line: None) if o.built}
    assert rebuilt == {
        "servingmatrix/app:notes-api",
        "servingmatrix/runtime:notes-api",
        "servingmatrix/waitress:app-notes-api",
    }


@pytest.mark.usefixtures("offline")
def test_building_an_app_keeps_the_bundled_images_and_their_inputs_tags(notes: UserApp) -> None:
    docker = RecordingDocker()
    images_module.build_images(docker, ["waitress"], lambda line: None)
    bundled = {ref for ref in docker.tags if ":latest" in ref or f":{INPUTS_TAG}" in ref}
    build_app_images(docker, notes, ["waitress"], lambda line: None)
    edited = notes.folder / "notes_api" / "wsgi.py"
    edited.write_text(edited.read_text() + "\n")
    build_app_images(docker, notes, ["waitress"], lambda line: None)
    assert bundled <= set(docker.tags), "an app's build drops no tag of the bundled app's images"
    app_tags = [ref for ref in docker.tags if ref.startswith("servingmatrix/app:notes-api-inputs-")]
    assert len(app_tags) == 1, "the app's earlier inputs tag went"
    assert not any(o.built for o in images_module.build_images(docker, ["waitress"], lambda line: None))


def test_a_build_s_marked_reason_is_its_error(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "Step 7/9 : RUN [...]\n#9 0.41 servingmatrix-build-error: wsgi 'shop:app': cannot import shop "
        "(ModuleNotFoundError: No module named 'redis')\nThe command returned a non-zero code: 1\n"
    )
    error = explained(DockerError("building servingmatrix/app:shop failed: returned a non-zero code: 1"), log)
    assert str(error) == (
        "building servingmatrix/app:shop failed: wsgi 'shop:app': cannot import shop "
        "(ModuleNotFoundError: No module named 'redis')"
    )
    plain = DockerError("building x failed: disk full")
    log.write_text("no mark here\n")
    assert explained(plain, log) is plain


def test_locks_are_checked_before_anything_is_built(notes: UserApp) -> None:
    waitress = get_mode("waitress")
    check_locks(notes, [waitress])
    mode_lock(notes, waitress).write_text(_lock_text({**APP_PACKAGES, "waitress": "3.0.1"}))
    with pytest.raises(
        UserError, match=r"waitress.lock: waitress is not at 3.0.2; run `servingmatrix lock --app "
    ):
        check_locks(notes, [waitress])
    mode_lock(notes, waitress).write_text(_lock_text({**APP_PACKAGES, "flask": "3.1.2", "waitress": "3.0.2"}))
    with pytest.raises(UserError, match=r"waitress.lock: flask is not at 3.1.3"):
        check_locks(notes, [waitress])
    mode_lock(notes, waitress).unlink()
    with pytest.raises(UserError, match=r"waitress.lock: missing, the lock of waitress for this app"):
        check_locks(notes, [waitress])
    app_lock(notes).write_text(_lock_text({"flask": "3.1.3", "psycopg": "3.3.9"}))
    with pytest.raises(
        UserError, match="werkzeug-single serves the app with what its lock brings, and it has no werkzeug"
    ):
        check_locks(notes, [get_mode("werkzeug-single")])


def test_lock_writes_the_app_s_lock_beside_it_and_each_mode_s_within_it(
    notes: UserApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, Path | None, Path | None]] = []

    def compile_lock(
        source: Path, lock: Path, constraints: Path | None = None, cwd: Path | None = None
    ) -> None:
        calls.append((str(source), str(lock), constraints, cwd))

    monkeypatch.setattr(app_locks_module, "compile_lock", compile_lock)
    said: list[str] = []
    lock_app(notes, [get_mode("waitress"), get_mode("gunicorn-gevent")], said.append, every_mode=False)
    assert calls[0] == ("requirements.txt", "requirements.lock", None, notes.folder)
    folder = mode_lock(notes, get_mode("waitress")).parent
    assert calls[1] == ("waitress.in", "waitress.lock", app_lock(notes).resolve(), folder)
    pins = (folder / "gunicorn-gevent.in").read_text().splitlines()[1:]
    assert pins == ["flask==3.1.3", "psycopg[binary]==3.3.9", "gunicorn[gevent]==27.0.1", "gevent==26.9.0"]
    assert said[0] == f"locked {app_lock(notes)}"


def test_lock_skips_a_mode_the_app_cannot_be_served_by_unless_it_was_named(
    notes: UserApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_locks_module, "compile_lock", lambda *args, **kwargs: None)
    app_lock(notes).write_text(_lock_text({"flask": "3.1.3"}))
    said: list[str] = []
    lock_app(notes, [get_mode("werkzeug-single"), get_mode("waitress")], said.append, every_mode=True)
    assert said[1].startswith("skipped werkzeug-single: ") and said[2].startswith("locked ")
    with pytest.raises(
        UserError, match=r"requirements\.txt: werkzeug-single serves the app with what its lock"
    ):
        lock_app(notes, [get_mode("werkzeug-single")], said.append, every_mode=False)


def test_the_user_folder_gets_only_the_lock(notes: UserApp, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p for p in notes.folder.rglob("*")}
    monkeypatch.setattr(app_locks_module, "compile_lock", lambda *args, **kwargs: None)
    lock_app(notes, MODES, lambda line: None, every_mode=True)
    assert set(notes.folder.rglob("*")) == before, (
        "beside the requirements, only the lock (here already there)"
    )
    assert sorted(p.name for p in mode_lock(notes, get_mode("waitress")).parent.glob("*.in")) == sorted(
        f"{mode.name}.in" for mode in MODES
    )


@pytest.mark.usefixtures("offline")
def test_building_every_mode_builds_those_that_can_serve_the_app(notes: UserApp) -> None:
    without_werkzeug = {name: v for name, v in APP_PACKAGES.items() if name != "werkzeug"}
    app_lock(notes).write_text(_lock_text(without_werkzeug))
    built = {o.name for o in build_app_images(RecordingDocker(), notes, None, lambda line: None)}
    servers = {mode.name for mode in MODES if not mode.from_app}
    assert built == {"app", "runtime", *servers, "upstream", "postgres", "locust", "wrk"}
    assert "werkzeug-single" not in built and len(servers) == len(MODES) - 3


def test_a_requirement_without_a_wheel_for_the_platform_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from servingmatrix.building.wheelhouse import Wheelhouse

    def pip(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert "--only-binary" in args and ":all:" in args
        stderr = (
            "ERROR: Could not find a version (from versions: none)\n"
            "ERROR: No matching distribution found for sdistonly==1.0\n"
        )
        return subprocess.CompletedProcess(args, 1, "", stderr)

    monkeypatch.setattr(subprocess, "run", pip)
    lock = tmp_path / "requirements.lock"
    lock.write_text(_lock_text({"sdistonly": "1.0"}))
    with pytest.raises(UserError) as refused:
        Wheelhouse(tmp_path / "wheels").prefetch([lock], "x86_64", workers=2)
    assert str(refused.value) == (
        f"{tmp_path / 'wheels'}: downloading wheels for CPython 3.13/x86_64 failed: "
        "ERROR: No matching distribution found for sdistonly==1.0"
    )
