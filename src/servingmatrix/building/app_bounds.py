"""The app's parameter bounds, rendered from the workload registry into the app package.

The app must not import the harness, so the registry's bounds reach it as a generated module,
``app/benchapp/bounds.py``: one tuple of ``IntParam(name, low, high, default)`` per endpoint.
"""

from __future__ import annotations

from pathlib import Path

from servingmatrix.paths import project_root
from servingmatrix.workloads import WORKLOADS, Workload

#: The project's line length (pyproject.toml): the rendered file passes `ruff format --check` as it is.
LINE_LENGTH = 110


def app_bounds_path() -> Path:
    return project_root() / "app" / "benchapp" / "bounds.py"


def endpoint_workloads() -> tuple[Workload, ...]:
    """The workloads that ask one endpoint of the app (not the mixed one, which blends them)."""
    return tuple(w for w in WORKLOADS if w.endpoint.startswith("/"))


def bounds_name(workload: Workload) -> str:
    """The module-level name of an endpoint's bounds: the workload's name in capitals."""
    return workload.name.upper()


def render_app_bounds() -> str:
    lines = [
        '"""Each endpoint\'s query parameters: name, inclusive bounds and default.',
        "",
        "Rendered from src/servingmatrix/workloads.py by `servingmatrix generate`; do not edit: change the",
        "registry and render again (`generate --check` fails when this file and the registry differ).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from benchapp.params import IntParam",
    ]
    for workload in endpoint_workloads():
        lines += ["", f"#: GET {workload.endpoint}: {workload.summary}", *_bounds_lines(workload)]
    return "\n".join(lines) + "\n"


def _bounds_lines(workload: Workload) -> list[str]:
    """``NAME: tuple[IntParam, ...] = (...)``, laid out as the formatter lays it out (one line if it fits)."""
    head = f"{bounds_name(workload)}: tuple[IntParam, ...] = ("
    params = [f'IntParam("{p.name}", {p.low}, {p.high}, {p.default})' for p in workload.params]
    one_line = head + ", ".join(params) + ("," if len(params) == 1 else "") + ")"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    return [head, *(f"    {param}," for param in params), ")"]
