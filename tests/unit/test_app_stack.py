"""A user's app's stack: its server from its own image, polled on its health path, the bundled
backing services seeded with its SQL, its declared requests as the conformance check, and run.json
naming the app (the engine is a fake; readiness is stubbed)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from servingmatrix.modes import resolve_mode
from servingmatrix.paths import project_root
from servingmatrix.run.measure.metadata import collect_app, collect_images
from servingmatrix.run.stack import stack as stack_module
from servingmatrix.run.stack.app_stack import (
    AppStack,
    app_conformance,
    seed_argv,
    send_declared,
    stack_factory,
)
from servingmatrix.run.stack.readiness import NotReady
from servingmatrix.run.stack.stack import Placement, Stack, StackPorts
from servingmatrix.user_app import AppIdentity, AppRequest, UserApp, load_app

from .fakes import FakeDocker

EXAMPLE = project_root() / "examples" / "notes-api"
PORTS = StackPorts(server=28000, upstream=28081, postgres=28432)


@pytest.fixture(scope="module")
def notes() -> UserApp:
    return load_app(EXAMPLE)


class SeedingDocker(FakeDocker):
    """Records what is run in a container with standard input; psql fails when told to."""

    def __init__(self, psql_says: str | None = None) -> None:
        super().__init__()
        self.psql_says = psql_says
        self.execs: list[tuple[str, list[str], bytes]] = []

    def exec_input(
        self, name: str, argv: Sequence[str], stdin: bytes, timeout: float = 120.0
    ) -> tuple[int, str]:
        self.execs.append((name, list(argv), stdin))
        return (3, self.psql_says) if self.psql_says is not None else (0, "")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def http(docker: object, name: str, url: str, timeout_s: float) -> float:
        seen.append((name, url))
        return 0.0

    def command(docker: object, name: str, argv: list[str], timeout_s: float) -> float:
        seen.append((name, argv[0]))
        return 0.0

    monkeypatch.setattr(stack_module, "wait_http_ready", http)
    monkeypatch.setattr(stack_module, "wait_command_ready", command)
    return seen


def test_the_server_runs_the_app_s_image_polled_on_its_health_path(
    notes: UserApp, waits: list[tuple[str, str]]
) -> None:
    docker = FakeDocker()
    Stack(docker, "r1", PORTS).start_server(resolve_mode("waitress", 1, notes.target), Placement("0", 1.0))
    (spec,) = docker.started
    assert spec.image == "servingmatrix/waitress:app-notes-api"
    assert spec.command[-1] == "notes_api.wsgi:app"
    assert {"DATABASE_URL", "UPSTREAM_URL", "PGPASSWORD"} <= set(spec.env)
    assert waits == [("servingmatrix-r1-server", "http://127.0.0.1:28000/healthz")]


def test_the_database_is_seeded_once_ready_before_the_server(
    notes: UserApp, waits: list[tuple[str, str]]
) -> None:
    docker = SeedingDocker()
    stack = stack_factory(notes)(docker, "r1", PORTS)
    assert isinstance(stack, AppStack)
    stack.start_backing(Placement("1", 1.0))
    ((name, argv, stdin),) = docker.execs
    assert name == "servingmatrix-r1-postgres" and waits[-1] == ("servingmatrix-r1-postgres", "pg_isready")
    assert argv == seed_argv(28432) and "--file=-" in argv
    assert "--single-transaction" in argv and "--set=ON_ERROR_STOP=1" in argv
    assert next(a for a in argv if a.startswith("--command=")).endswith("SET ROLE bench;")
    assert stdin == (EXAMPLE / "seed.sql").read_bytes()


class WritingDocker(SeedingDocker):
    """PostgreSQL's written-row count grows by the seed's rows whenever the seed runs."""

    SEED_ROWS = 200

    def exec_input(
        self, name: str, argv: Sequence[str], stdin: bytes, timeout: float = 120.0
    ) -> tuple[int, str]:
        self.db_writes += self.SEED_ROWS
        return super().exec_input(name, argv, stdin, timeout)


def test_the_seed_s_rows_are_not_a_session_s_writes(notes: UserApp, waits: list[tuple[str, str]]) -> None:
    docker = WritingDocker()
    stack = stack_factory(notes)(docker, "r1", PORTS)
    stack.start_backing(Placement("1", 1.0))
    assert stack.backing_writes == WritingDocker.SEED_ROWS
    # A session that only read: the backing services are kept, and the seed does not run again.
    assert stack.ensure_backing(Placement("1", 1.0)) is None
    assert len(docker.execs) == 1


def test_a_session_that_wrote_restarts_the_backing_services_and_seeds_them_again(
    notes: UserApp, waits: list[tuple[str, str]]
) -> None:
    docker = WritingDocker()
    stack = stack_factory(notes)(docker, "r1", PORTS)
    assert stack.ensure_backing(Placement("1", 1.0)) == "not started"
    assert len(docker.execs) == 1
    docker.db_writes += 7  # the app's requests wrote (the example's `create`)
    reason = stack.ensure_backing(Placement("1", 1.0))
    assert reason == "PostgreSQL's tables were written to (200 then 207 rows)"
    assert len(docker.execs) == 2, "seeded again, before the next session's server"
    assert stack.backing_writes == docker.db_writes
    assert stack.ensure_backing(Placement("1", 1.0)) is None


def test_the_seed_s_statistics_are_flushed_before_psql_returns() -> None:
    argv = seed_argv(5432)
    assert argv.index("--file=-") < len(argv) - 1
    assert argv[-1] == "--command=RESET ROLE; SELECT pg_stat_force_next_flush();"


def test_a_seed_that_fails_is_why_the_stack_is_not_ready(
    notes: UserApp, waits: list[tuple[str, str]]
) -> None:
    docker = SeedingDocker('psql:<stdin>:3: ERROR:  relation "note" does not exist\n')
    stack = stack_factory(notes)(docker, "r1", PORTS)
    with pytest.raises(
        NotReady, match=r'the seed SQL failed: .*seed\.sql:3: ERROR:  relation "note" does not exist'
    ):
        stack.start_backing(Placement("1", 1.0))


def test_an_app_without_seed_runs_nothing_in_the_database(waits: list[tuple[str, str]]) -> None:
    docker = SeedingDocker()
    AppStack(docker, "r1", PORTS).start_backing(Placement("1", 1.0))
    assert docker.execs == []


class _Declared(http.server.BaseHTTPRequestHandler):
    """Answers GET /ok with 200, POST /notes with 201 when it carries its body and header, else 500."""

    seen: ClassVar[list[tuple[str, str, str | None, bytes]]] = []

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path, self.headers.get("X-Key"), body))
        if self.command == "GET" and self.path == "/ok":
            status = 200
        elif self.command == "POST" and body == b'{"a":1}' and self.headers.get("X-Key") == "k":
            status = 201
        else:
            status = 500
        self.send_response(status)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"oops")

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Declared)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_each_declared_request_is_sent_once_with_its_statuses(server: str) -> None:
    _Declared.seen.clear()
    post = AppRequest("add", "/notes", "POST", (("X-Key", "k"),), '{"a":1}', statuses=(201,))
    assert send_declared(server, AppRequest("ok", "/ok")) is None
    assert send_declared(server, post) is None
    assert _Declared.seen == [("GET", "/ok", None, b""), ("POST", "/notes", "k", b'{"a":1}')]
    wrong = send_declared(server, AppRequest("add", "/notes", "POST", statuses=(201,)))
    assert wrong == "POST /notes (add): status 500, expected 201: b'oops'"


def test_the_app_s_conformance_is_its_declared_requests(server: str) -> None:
    from dataclasses import replace

    app = replace(
        load_app(EXAMPLE),
        requests=(AppRequest("ok", "/ok"), AppRequest("gone", "/gone", statuses=(200, 304))),
    )
    assert app_conformance(app)(server, "waitress[threads=4]") == [
        "GET /gone (gone): status 500, expected 200, 304: b'oops'"
    ]


def test_a_runner_of_the_app_uses_its_stacks_and_its_check(notes: UserApp, tmp_path: Path) -> None:
    from servingmatrix.matrix import Matrix
    from servingmatrix.results.folder import RunFolder
    from servingmatrix.run.measure_matrix import RunSettings, new_runner
    from servingmatrix.run.stack.conformance import check_server

    matrix = Matrix(name="m", modes=("waitress",), workloads=("app:get",), app=str(EXAMPLE))
    runner = new_runner(FakeDocker(), matrix, RunFolder(tmp_path / "run"), lambda line: None, RunSettings())
    assert isinstance(runner.new_stack(FakeDocker(), "r", PORTS), AppStack)
    assert runner.conformance is not check_server
    bundled = Matrix(name="b", modes=("waitress",), workloads=("json",))
    runner = new_runner(FakeDocker(), bundled, RunFolder(tmp_path / "b"), lambda line: None, RunSettings())
    assert runner.new_stack is Stack and runner.conformance is check_server


def test_run_json_names_the_app_with_its_commit_and_lock(notes: UserApp) -> None:
    meta: dict[str, object] = {}
    collect_app(meta, notes)
    record = meta["app"]
    assert isinstance(record, dict)
    assert (record["name"], record["version"], record["bundled"]) == ("notes-api", "1.0.0", False)
    assert record["folder"] == str(EXAMPLE) and record["wsgi"] == "notes_api.wsgi:app"
    assert len(record["lock_sha256"]) == 64
    assert len(record.get("git_commit", "")) == 40, "the example is in this project's git checkout"
    assert record["requests"][-1] == {
        "name": "create",
        "method": "POST",
        "path": "/notes",
        "weight": 5,
        "statuses": [201],
    }
    identity = AppIdentity.from_metadata({"app": record})
    assert identity.describe().startswith(f"notes-api 1.0.0 (git {record['git_commit'][:12]}")


def test_run_json_names_the_bundled_app_when_there_is_no_other() -> None:
    meta: dict[str, object] = {}
    collect_app(meta, None)
    assert meta["app"] == {"name": "benchapp", "bundled": True, "lock_sha256": meta["app"]["lock_sha256"]}  # type: ignore[index]
    assert AppIdentity.from_metadata({}).describe() == "the bundled app benchapp"


def test_run_json_records_the_app_s_images_by_mode(notes: UserApp) -> None:
    from servingmatrix.building.app_images import app_catalogue

    meta: dict[str, object] = {}
    collect_images(meta, FakeDocker(), ["waitress", "upstream"], app_catalogue(notes))
    images = meta["images"]
    assert isinstance(images, dict)
    assert images["waitress"]["ref"] == "servingmatrix/waitress:app-notes-api"
    assert images["upstream"]["ref"] == "servingmatrix/upstream:latest"


class TaggedDocker(FakeDocker):
    """Each image also carries an inputs tag: the bundled app's form, and an app's own."""

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        info = super().image_inspect(ref)
        repository, _, tag = ref.rpartition(":")
        prefix = "inputs-" if tag == "latest" else f"{tag}-inputs-"
        assert info is not None
        # An app named "inputs" would tag its images so: never taken for the bundled app's inputs.
        decoy = f"{repository}:inputs-inputs-{'f' * 32}"
        return {**info, "RepoTags": [decoy, ref, f"{repository}:{prefix}{'0' * 32}"]}


def test_run_json_records_the_inputs_tag_of_the_app_s_images(notes: UserApp) -> None:
    from servingmatrix.building.app_images import app_catalogue

    meta: dict[str, Any] = {}
    collect_images(meta, TaggedDocker(), ["app", "waitress", "upstream"], app_catalogue(notes))
    assert meta["images"]["app"]["inputs"] == f"notes-api-inputs-{'0' * 32}"
    assert meta["images"]["waitress"]["inputs"] == f"app-notes-api-inputs-{'0' * 32}"
    assert meta["images"]["upstream"]["inputs"] == f"inputs-{'0' * 32}"
