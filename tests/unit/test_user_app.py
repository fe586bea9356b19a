"""A user's own app: its app.yml as the harness reads it, its workloads, and the requests both load
generators send for them (the refusals of a bad app.yml are in test_hostile_inputs.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from locustfiles.smconfig import ConfigError, Settings, Target, parse_requests
from servingmatrix.errors import SpecError, UserError
from servingmatrix.matrix import Matrix, load_matrix
from servingmatrix.modes import BUNDLED_APP, resolve_mode
from servingmatrix.paths import project_root
from servingmatrix.run.load.loadgen import Load, LocustJob, locust_spec, requests_json
from servingmatrix.run.load.wrk_lua import lua_string, render_lua
from servingmatrix.run.stack.stack import Placement
from servingmatrix.user_app import UserApp, app_workloads, load_app, resolve_workload_for
from servingmatrix.workloads import Request, resolve_workload

EXAMPLE = project_root() / "examples" / "notes-api"
CREATE = Request(
    "create",
    "/notes",
    5,
    "POST",
    (("Accept", "application/json"), ("Content-Type", "application/json")),
    '{"title":"written under load","tag":"load"}',
)


@pytest.fixture(scope="module")
def notes() -> UserApp:
    return load_app(EXAMPLE)


def test_the_example_app_reads_as_written(notes: UserApp) -> None:
    assert (notes.name, notes.version, notes.wsgi, notes.health) == (
        "notes-api",
        "1.0.0",
        "notes_api.wsgi:app",
        "/healthz",
    )
    assert [pin.line for pin in notes.pins] == ["flask==3.1.3", "psycopg[binary]==3.3.9"]
    assert notes.env == (("NOTES_POOL_SIZE", "4"),)
    assert notes.seed_sql == EXAMPLE / "seed.sql"
    assert [(r.name, r.method, r.path, r.weight, r.statuses) for r in notes.requests] == [
        ("list", "GET", "/notes?limit=20", 40, (200,)),
        ("get", "GET", "/notes/42", 30, (200,)),
        ("page", "GET", "/notes/42/page", 15, (200,)),
        ("search", "GET", "/notes/search?q=tag-3", 10, (200,)),
        ("create", "POST", "/notes", 5, (201,)),
    ]


def test_a_body_given_as_a_mapping_is_sent_as_json_with_its_content_type(notes: UserApp) -> None:
    assert notes.requests[-1].request() == CREATE


def test_each_request_is_a_workload_and_all_of_them_the_mixed_one(notes: UserApp) -> None:
    workloads = app_workloads(notes)
    assert list(workloads) == ["app:list", "app:get", "app:page", "app:search", "app:create", "app:mixed"]
    config = resolve_workload_for("app:create", notes)
    assert (config.spec, config.requests(), config.sleep_ms) == ("app:create", (CREATE,), None)
    mixed = resolve_workload_for("app:mixed", notes).requests()
    assert [(r.name, r.weight) for r in mixed] == [
        ("list", 40),
        ("get", 30),
        ("page", 15),
        ("search", 10),
        ("create", 5),
    ]
    assert mixed[-1] == CREATE and all(r.plain for r in mixed[:-1])


def test_a_workload_goes_with_its_app(notes: UserApp) -> None:
    with pytest.raises(SpecError, match=r"'json': not a workload of the app notes-api \(allowed: app:list, "):
        resolve_workload_for("json", notes)
    with pytest.raises(SpecError, match="'app:get': an app's workload needs its app"):
        resolve_workload_for("app:get", None)
    with pytest.raises(SpecError, match=r"'app:mixed\[x=1\]': not a workload of the app"):
        resolve_workload_for("app:mixed[x=1]", notes)
    assert resolve_workload_for("io[ms=5]", None) == resolve_workload("io[ms=5]")


def test_a_matrix_with_an_app_serves_it_from_its_own_images(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text(f"app: {EXAMPLE}\nmodes: [waitress, uvicorn-a2wsgi]\nworkloads: [app:mixed, app:get]\n")
    matrix = load_matrix(path)
    assert matrix.user_app is not None and matrix.user_app.name == "notes-api"
    waitress, uvicorn = matrix.mode_configs()
    assert waitress.spec == "waitress[threads=4]", "results name modes as for the bundled app"
    assert (waitress.image, uvicorn.image) == (
        "servingmatrix/waitress:app-notes-api",
        "servingmatrix/uvicorn-a2wsgi:app-notes-api",
    )
    assert waitress.launch("127.0.0.1", 18000).argv[-1] == "notes_api.wsgi:app"
    assert uvicorn.launch("127.0.0.1", 18000).argv[1] == "servingmatrix_entry.asgi:app"
    assert [w.spec for w in matrix.workload_configs()] == ["app:mixed", "app:get"]
    assert matrix.as_dict()["app"] == str(EXAMPLE)


def test_without_an_app_every_mode_serves_the_bundled_one_from_latest() -> None:
    matrix = Matrix(name="m", modes=("gunicorn-sync", "werkzeug-single"), workloads=("json",))
    sync, single = matrix.mode_configs()
    assert matrix.user_app is None and sync.target == BUNDLED_APP
    assert (sync.image, sync.launch("0.0.0.0", 8000).argv[-1]) == (
        "servingmatrix/gunicorn-sync:latest",
        "benchapp.wsgi:app",
    )
    assert single.launch("0.0.0.0", 8000).argv[:3] == ("python", "-m", "benchapp.devserver")


def test_every_mode_serves_the_user_app_by_its_target(notes: UserApp) -> None:
    for name, expected in (
        ("werkzeug-threaded", "servingmatrix_entry.devserver"),
        ("gunicorn-gevent", "notes_api.wsgi:app"),
        ("uwsgi", "notes_api.wsgi:app"),
        ("granian", "notes_api.wsgi:app"),
        ("nginx-gunicorn-sync", "notes_api.wsgi:app"),
    ):
        argv = resolve_mode(name, 1, notes.target).launch("0.0.0.0", 8000).argv
        assert expected in argv and not [a for a in argv if "benchapp" in a], name


def _locust_env(requests: tuple[Request, ...]) -> dict[str, str]:
    workload = resolve_workload("json")
    spec = locust_spec(
        LocustJob(
            workload=workload,
            target="http://127.0.0.1:18000",
            loads=(Load(1),),
            warmup_s=1.0,
            duration_s=2.0,
        ),
        name="l",
        run_id="r",
        out_dir=Path("/tmp/out"),
        placement=Placement("1", 1.0),
    )
    return {**spec.env, "SM_REQUESTS": requests_json(requests)}


def test_locust_is_given_every_declared_request_as_declared(notes: UserApp) -> None:
    requests = resolve_workload_for("app:mixed", notes).requests()
    settings = Settings.from_env(_locust_env(requests))
    assert settings.weights == (40, 30, 15, 10, 5)
    assert settings.targets[0] == Target("list", "/notes?limit=20") and settings.targets[0].plain
    create = settings.targets[-1]
    assert (create.method, create.path, create.body) == (
        "POST",
        "/notes",
        CREATE.body.encode() if CREATE.body else None,
    )
    assert create.headers == {"Accept": "application/json", "Content-Type": "application/json"}
    assert not create.plain


def test_plain_requests_are_sent_to_locust_as_before() -> None:
    assert json.loads(requests_json((Request("json", "/json"),))) == [
        {"name": "json", "path": "/json", "weight": 1}
    ]


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"method": "FETCH"}, r"SM_REQUESTS\[0\]\.method: 'FETCH' is not one of GET"),
        ({"headers": ["A"]}, r"SM_REQUESTS\[0\]\.headers: expected an object"),
        ({"headers": {"A": 1}}, r"SM_REQUESTS\[0\]\.headers: expected an object"),
        ({"body": {"a": 1}}, r"SM_REQUESTS\[0\]\.body: expected text or null"),
    ],
)
def test_locust_refuses_a_malformed_request(entry: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_requests(json.dumps([{"name": "a", "path": "/", "weight": 1, **entry}]))


_ENTRY = re.compile(
    r'\{name = "([^"]+)", path = ("[^"]*"), weight = (\d+)'
    r'(?:, method = ("[^"]*"), headers = \{(.*?)\}(?:, body = ("[^"]*"))?)?\},'
)


def _lua_decode(literal: str) -> str:
    """A Lua string literal as rendered (decimal escapes), read back."""
    inner = literal[1:-1]
    return re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1))), inner).encode("latin-1").decode()


def test_wrk_sends_the_same_requests_method_headers_and_body(notes: UserApp) -> None:
    lua = render_lua(resolve_workload_for("app:mixed", notes))
    entries = [_ENTRY.search(line) for line in lua.splitlines() if line.startswith("  {name = ")]
    assert all(entries) and len(entries) == 5
    read = [(m.group(1), _lua_decode(m.group(2)), int(m.group(3))) for m in entries if m]
    assert read == [(r.name, r.path, r.weight) for r in notes.requests]
    create = entries[-1]
    assert create is not None and _lua_decode(create.group(4)) == "POST"
    assert _lua_decode(create.group(6)) == CREATE.body
    assert '["Content-Type"] = "application/json"' in create.group(5)
    assert 'wrk.format(entry.method or "GET", entry.path, entry.headers, entry.body)' in lua


def test_wrk_sends_a_single_request_with_its_method_and_body(notes: UserApp) -> None:
    lua = render_lua(resolve_workload_for("app:create", notes))
    assert 'wrk.method = entry.method or "GET"' in lua and "wrk.body = entry.body" in lua
    assert "for key, value in pairs(entry.headers or {}) do wrk.headers[key] = value end" in lua


@pytest.mark.parametrize("text", ['{"a": "b\\\\c"}', "é and ü", "tab\tand\nnewline", '"', ""])
def test_a_lua_string_carries_any_text(text: str) -> None:
    literal = lua_string(text)
    assert literal.startswith('"') and literal.endswith('"') and '"' not in literal[1:-1]
    assert all(" " <= c <= "~" for c in literal)
    assert _lua_decode(literal) == text


def test_the_readme_s_app_yml_loads_as_the_example_s(tmp_path: Path, notes: UserApp) -> None:
    import shutil

    readme = (project_root() / "README.md").read_text()
    example = re.search(r"```yaml\n(name: notes-api.*?)```", readme, re.S)
    assert example is not None
    folder = tmp_path / "notes-api"
    shutil.copytree(EXAMPLE, folder)
    (folder / "app.yml").write_text(example.group(1))
    shortened = load_app(folder)
    assert (shortened.name, shortened.wsgi, shortened.health, shortened.env) == (
        notes.name,
        notes.wsgi,
        notes.health,
        notes.env,
    )
    assert shortened.requests == (notes.requests[0], notes.requests[-1])


def test_the_workloads_command_lists_the_app_s(capsys: pytest.CaptureFixture[str]) -> None:
    from servingmatrix.cli import main

    assert main(["workloads", "--app", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["app:list", "    GET /notes?limit=20"]
    assert "app:mixed" in out and "      5%  create    POST /notes" in out


def _linked_app(root: Path, link: str, to: str, yml: str = "") -> Path:
    """A loadable app in ROOT/app whose ``link`` is a symbolic link to ``to`` (under ROOT)."""
    folder = root / "app"
    (folder / "shop").mkdir(parents=True)
    (folder / "shop" / "__init__.py").write_text("app = None\n")
    (folder / "requirements.txt").write_text("flask==3.1.3\n")
    (folder / "app.yml").write_text(
        "name: shop\nwsgi: shop:app\nhealth: /healthz\nrequirements: requirements.txt\n" + yml
    )
    (root / "outside").mkdir()
    (root / "outside" / "secret.py").write_text("key = 'a private key'\n")
    (root / "outside" / "seed.sql").write_text("select 1;\n")
    if link == "shop":
        (folder / "shop" / "__init__.py").unlink()
        (folder / "shop").rmdir()
    (folder / link).symlink_to(root / to)
    return folder


@pytest.mark.parametrize(
    ("link", "to", "yml", "says"),
    [
        ("shop", "outside", "", r"wsgi: 'shop:app': .*/app/shop is a symbolic link out of the app's folder"),
        (
            "shop/secret.py",
            "outside/secret.py",
            "",
            r"shop/secret\.py: a symbolic link out of the app's folder",
        ),
        ("data", "outside", "", r"app/data: a symbolic link out of the app's folder"),
        ("seed.sql", "outside/seed.sql", "seed_sql: seed.sql\n", r"seed_sql: 'seed\.sql' is outside"),
    ],
)
def test_nothing_of_an_app_is_reached_through_a_link_out_of_its_folder(
    tmp_path: Path, link: str, to: str, yml: str, says: str
) -> None:
    with pytest.raises(UserError, match=says):
        load_app(_linked_app(tmp_path, link, to, yml))


def test_a_link_that_stays_in_the_app_s_folder_is_copied_as_its_file(tmp_path: Path) -> None:
    from servingmatrix.building.app_images import copy_app

    folder = _linked_app(tmp_path, "shop/views.py", "app/shop/__init__.py")
    (folder / ".venv").mkdir()
    (folder / ".venv" / "outside").symlink_to(tmp_path / "outside")
    load_app(folder)
    copy_app(folder, tmp_path / "copy")
    copied = sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["app.yml", "requirements.txt", "shop", "shop/__init__.py", "shop/views.py"]
    assert not (tmp_path / "copy" / "shop" / "views.py").is_symlink()
