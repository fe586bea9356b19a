"""A user's own app end to end: examples/notes-api built for two modes on its own images, its database
seeded, its declared requests checked, then measured briefly with its workloads by Locust and wrk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from servingmatrix.building.app_images import app_catalogue, build_app_images
from servingmatrix.building.app_locks import check_locks, lock_modes
from servingmatrix.building.images import build_images
from servingmatrix.engine.docker import ContainerSpec, Docker
from servingmatrix.errors import UserError
from servingmatrix.matrix import Matrix
from servingmatrix.modes import get_mode
from servingmatrix.paths import project_root
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner
from servingmatrix.run.stack.app_stack import app_conformance, stack_factory
from servingmatrix.run.stack.stack import StackPorts
from servingmatrix.user_app import UserApp, load_app

from .conftest import BACKING_PLACEMENT

pytestmark = pytest.mark.docker

EXAMPLE = project_root() / "examples" / "notes-api"
MODES = ("gunicorn-sync", "waitress")
#: Apart from the ports a run uses by default, so a run elsewhere on the machine is not in the way.
PORTS = StackPorts(server=18600, upstream=18681, postgres=18632)


def say(line: str) -> None:
    print(line, flush=True)


@pytest.fixture(scope="module")
def notes(docker: Docker) -> UserApp:
    """The example, its modes locked within its committed lock when they are not yet (PyPI), and built."""
    app = load_app(EXAMPLE)
    modes = [get_mode(name) for name in MODES]
    try:
        check_locks(app, modes)
    except UserError:
        lock_modes(app, modes, say, every_mode=False)
    build_app_images(docker, app, MODES, say)
    return app


@pytest.fixture(scope="module")
def measured(docker: Docker, notes: UserApp, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    matrix = Matrix(
        name="notes",
        app=str(EXAMPLE),
        modes=("gunicorn-sync[workers=2]", "waitress[threads=4]"),
        workloads=("app:mixed", "app:create"),
        users=(4,),
        duration_s=3.0,
        warmup_s=1.0,
        reference_duration_s=1.0,
    ).check("test")
    folder = RunFolder(tmp_path_factory.mktemp("run") / "notes")
    runner = Runner(
        docker,
        matrix,
        folder,
        say,
        ports=PORTS,
        calibrate=False,
        new_stack=stack_factory(notes),
        conformance=app_conformance(notes),
    )
    runner.run()
    return folder


def test_its_images_are_its_own(docker: Docker, notes: UserApp) -> None:
    for ref in ("servingmatrix/app:notes-api", "servingmatrix/gunicorn-sync:app-notes-api"):
        assert docker.image_labels(ref).get("io.servingmatrix.app") == "notes-api", ref
    assert (
        docker.image_labels("servingmatrix/waitress:app-notes-api").get("io.servingmatrix.mode") == "waitress"
    )


def test_every_cell_is_measured_with_the_app_s_requests(measured: RunFolder) -> None:
    cells = {(c.mode, c.workload): c.as_json() for c in measured.read_cells()}
    assert set(cells) == {
        (mode, workload)
        for mode in ("gunicorn-sync[workers=2]", "waitress[threads=4]")
        for workload in ("app:mixed", "app:create")
    }
    for key, cell in cells.items():
        assert cell["status"] == "ok", (key, cell.get("reason"))
        assert cell["requests"] > 0 and cell["failures"] == 0, key
        reference = cell["reference"]
        assert reference["missing"] is None and reference["errors"] == 0, (key, reference)
    mixed = cells[("waitress[threads=4]", "app:mixed")]
    assert set(mixed["endpoints"]) == {"list", "get", "page", "search", "create"}


def test_each_session_that_wrote_got_freshly_seeded_backing_services(measured: RunFolder) -> None:
    # Every session's conformance check creates a note: the backing services are started, and
    # seeded, again before the next one, which then passes its check against the seeded data.
    timings = measured.read_run().as_json()["timings"]
    assert timings["sessions"] == 4 and timings["backing_starts"] == 4


def test_the_seed_s_own_rows_keep_the_backing_services(docker: Docker, notes: UserApp) -> None:
    stack = stack_factory(notes)(docker, "seedcheck", PORTS)
    try:
        stack.start_backing(BACKING_PLACEMENT)
        assert stack.backing_writes is not None and stack.backing_writes >= 1000
        assert stack.ensure_backing(BACKING_PLACEMENT) is None
    finally:
        stack.stop()


def test_its_mode_images_add_only_their_server(docker: Docker, notes: UserApp) -> None:
    from servingmatrix.building.images import installed_packages

    catalogue = app_catalogue(notes)
    assert [p.key for p in installed_packages(catalogue["waitress"], catalogue)] == ["waitress"]
    code, listing = docker.run_once(
        ContainerSpec(
            name="smtest-app-listing",
            image="servingmatrix/waitress:app-notes-api",
            entrypoint=("ls",),
            command=("/opt/server", "/opt/venv/bin"),
            network="none",
        )
    )
    assert code == 0, listing
    assert "waitress" in listing and "pip" not in listing.split()


def test_run_json_names_the_app(measured: RunFolder) -> None:
    metadata = measured.read_run().as_json()["metadata"]
    app = metadata["app"]
    assert (app["name"], app["version"], app["bundled"]) == ("notes-api", "1.0.0", False)
    assert len(app["lock_sha256"]) == 64
    assert metadata["images"]["waitress"]["ref"] == "servingmatrix/waitress:app-notes-api"


def test_an_app_that_cannot_be_imported_stops_its_build_saying_why(docker: Docker, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLE, folder)
    (folder / "app.yml").write_text(
        (EXAMPLE / "app.yml").read_text().replace("name: notes-api", "name: broken")
    )
    (folder / "notes_api" / "wsgi.py").write_text("import redis  # not in the lock\n\napp = None\n")
    app = load_app(folder)
    with pytest.raises(UserError) as refused:
        build_images(docker, ["app"], say, catalogue=app_catalogue(app))
    message = str(refused.value)
    # One line naming the engine, the image, the app's entry point and why it cannot be imported.
    assert message.startswith(
        f"{docker}: building servingmatrix/app:broken failed: wsgi 'notes_api.wsgi:app': "
    )
    assert "cannot import notes_api.wsgi (ModuleNotFoundError: No module named 'redis')" in message
    assert "\n" not in message
