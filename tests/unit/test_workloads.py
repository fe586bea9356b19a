"""The workload registry: the requests a workload sends, and the app's bounds rendered from it."""

from __future__ import annotations

import ast
import re
from urllib.parse import parse_qsl, urlsplit

import benchapp.bounds as bounds
import pytest
from benchapp.params import IntParam, parse_params
from werkzeug.datastructures import MultiDict

from servingmatrix.building.app_bounds import (
    app_bounds_path,
    bounds_name,
    endpoint_workloads,
    render_app_bounds,
)
from servingmatrix.paths import project_root
from servingmatrix.workloads import MIX, WORKLOADS, Request, Workload, query_path, resolve_workload

# --- requests ---------------------------------------------------------------------------------------


def test_query_path_is_verbatim() -> None:
    assert query_path("/json", {}) == "/json"
    assert query_path("/io", {"ms": 100}) == "/io?ms=100"
    assert query_path("/db", {"ms": 0, "rows": 10}) == "/db?ms=0&rows=10"
    assert query_path("/x", {"a": "b c&d"}) == "/x?a=b+c%26d"


def test_a_single_endpoint_workload_is_one_request_named_after_it() -> None:
    assert resolve_workload("json").requests() == (Request("json", "/json", 1),)
    assert resolve_workload("db[rows=10]").requests() == (Request("db", "/db?ms=0&rows=10", 1),)


def test_the_mixed_workload_is_the_mix_filled_in() -> None:
    requests = resolve_workload("mixed[upstream_ms=7]").requests()
    assert [(r.name, r.weight) for r in requests] == [(e.name, e.weight) for e in MIX]
    assert Request("upstream", "/upstream?ms=7", 10) in requests
    assert Request("io", "/io?ms=50", 10) in requests


def test_mix_is_the_requests_as_the_report_reads_them() -> None:
    config = resolve_workload("mixed[io_ms=80]")
    assert config.mix() == [{"name": r.name, "weight": r.weight, "path": r.path} for r in config.requests()]


# --- the app's bounds -------------------------------------------------------------------------------


def _app_params(workload: Workload) -> tuple[IntParam, ...]:
    return tuple(IntParam(p.name, p.low, p.high, p.default) for p in workload.params)


@pytest.mark.parametrize("workload", endpoint_workloads(), ids=lambda w: w.name)
def test_the_app_bounds_are_the_registry_bounds(workload: Workload) -> None:
    assert getattr(bounds, bounds_name(workload)) == _app_params(workload)


def test_the_bounds_file_is_rendered_and_says_so() -> None:
    text = app_bounds_path().read_text()
    assert text == render_app_bounds(), "run `servingmatrix generate`"
    assert "Rendered from src/servingmatrix/workloads.py by `servingmatrix generate`" in text


def test_every_endpoint_workload_has_bounds_and_nothing_else_does() -> None:
    names = {name for name in vars(bounds) if name.isupper()}
    assert names == {bounds_name(w) for w in endpoint_workloads()}
    assert {w.name for w in WORKLOADS} - {w.name for w in endpoint_workloads()} == {"mixed"}


def test_the_app_does_not_import_the_harness() -> None:
    sources = sorted(app_bounds_path().parent.glob("*.py"))
    # The app's entry points and its bounds at least: the check below cannot pass on no file.
    assert {"__init__.py", "bounds.py", "wsgi.py", "asgi.py"} <= {p.name for p in sources}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] == "servingmatrix" for m in modules), path.name


# --- every request the registry can send, the app accepts ---------------------------------------


def _extremes(workload: Workload) -> list[str]:
    """The workload at its defaults, and with every parameter at its low and at its high bound."""
    low = ",".join(f"{p.name}={p.low}" for p in workload.params)
    high = ",".join(f"{p.name}={p.high}" for p in workload.params)
    return [workload.name] + (
        [f"{workload.name}[{low}]", f"{workload.name}[{high}]"] if workload.params else []
    )


@pytest.mark.parametrize("spec", [s for w in WORKLOADS for s in _extremes(w)])
def test_every_request_the_registry_sends_is_within_the_app_bounds(spec: str) -> None:
    by_endpoint = {w.endpoint: getattr(bounds, bounds_name(w)) for w in endpoint_workloads()}
    for request in resolve_workload(spec).requests():
        split = urlsplit(request.path)
        # The app's own check of a query string: BadParam (a 400) if the request asks what it refuses.
        parse_params(MultiDict(parse_qsl(split.query, keep_blank_values=True)), by_endpoint[split.path])


def test_the_readme_app_table_states_the_registry_bounds() -> None:
    readme = (project_root() / "README.md").read_text()
    stated = dict(re.findall(r"^\| `GET (/\w+)` \|.*\| ([^|]+) \|$", readme, flags=re.MULTILINE))
    for workload in endpoint_workloads():
        expected = "; ".join(f"`{p.name}` {p.low}..{p.high}, default {p.default}" for p in workload.params)
        assert stated[workload.endpoint] == (expected or "—"), workload.endpoint
