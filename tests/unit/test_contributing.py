"""CONTRIBUTING.md's recipes, each followed in a throwaway copy of the project: the thing added as the
recipe says, ``generate`` run, then ``generate --check`` and the unit tests that cover it pass there.
A recipe that needs one more step than it says fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from servingmatrix.paths import project_root

CONTRIBUTING = project_root() / "CONTRIBUTING.md"


def copy_project(into: Path) -> Path:
    """The project's tracked files (as a fresh clone has them) in ``into``."""
    root = project_root()
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True, timeout=60
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = root / os.fsdecode(name)
        if source.is_file():
            target = into / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def in_copy(copy: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Python in the copy: its own package, app and locustfiles first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(copy / p) for p in ("src", ".", "app"))}
    return subprocess.run(
        [sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True, timeout=600
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: the recipe's anchor {old!r} is not there once"
    path.write_text(text.replace(old, new))


def follow(copy: Path, tests: list[str]) -> None:
    """After a recipe's edits: generate, then generate --check and the unit tests that cover it."""
    generated = in_copy(copy, "-m", "servingmatrix", "generate")
    assert generated.returncode == 0, generated.stderr
    checked = in_copy(copy, "-m", "servingmatrix", "generate", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = in_copy(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests)
    assert tested.returncode == 0, tested.stdout[-4000:]


def add_mode(copy: Path) -> list[str]:
    """A mode: its registry entry (here a twin of waitress), its lock, then generate."""
    modes = copy / "src" / "servingmatrix" / "modes.py"
    text = modes.read_text()
    start = text.rindex("    Mode(", 0, text.index('        name="waitress",'))
    end = text.index("\n    ),\n", start) + len("\n    ),\n")
    block = text[start:end].replace('name="waitress"', 'name="waitress-twin"')
    close = text.index("\n)\n", text.index("MODES: tuple[Mode, ...] = ("))
    modes.write_text(text[: close + 1] + block + text[close + 1 :])
    # `servingmatrix lock --modes waitress-twin` resolves the same pins waitress's lock holds.
    (copy / "images" / "waitress-twin").mkdir()
    shutil.copy(copy / "images/waitress/requirements.lock", copy / "images/waitress-twin/requirements.lock")
    return [
        "tests/unit/test_rendered_files.py",
        "tests/unit/test_image_builds.py",
        "tests/unit/test_matrix.py",
    ]


def add_workload(copy: Path) -> list[str]:
    """A workload: its registry entry, and the app's endpoint reading its rendered bounds."""
    edit(
        copy / "src/servingmatrix/workloads.py",
        '    Workload("bytes", "a response of kb kilobytes"',
        '    Workload("echo", "the number it is given, back", "/echo",\n'
        '             (Param("n", 1, 1, 100, "the number"),)),\n'
        '    Workload("bytes", "a response of kb kilobytes"',
    )
    edit(
        copy / "app/benchapp/__init__.py",
        '    @app.get("/cpu")\n',
        '    @app.get("/echo")\n'
        "    def echo() -> Response:\n"
        '        return jsonify(n=parse_params(request.args, bounds.ECHO)["n"])\n\n'
        '    @app.get("/cpu")\n',
    )
    edit(
        copy / "README.md",
        "| `GET /json` |",
        "| `GET /echo` | the number it is given, back | `n` 1..100, default 1 |\n| `GET /json` |",
    )
    return [
        "tests/unit/test_rendered_files.py",
        "tests/unit/test_workloads.py",
        "tests/unit/test_app.py",
        "tests/unit/test_reference.py",
        "tests/unit/test_locustfiles.py",
    ]


def add_figure(copy: Path) -> list[str]:
    """A figure: its measurement where the cell is judged, its record field, its declaration (with how a
    cell folds its trials); then it is in the export, the README's columns and every point."""
    edit(
        copy / "src/servingmatrix/run/judge.py",
        "        server_host=facts.server_host,\n",
        "        server_host=facts.server_host,\n"
        "        slowest_endpoint_ms=max(\n"
        '            (s.latency_ms.get("max") or 0.0 for s in figures.endpoints.values()), default=None\n'
        "        ),\n",
    )
    edit(
        copy / "src/servingmatrix/results/cell.py",
        "    server_host: str | None = None\n",
        "    server_host: str | None = None\n    slowest_endpoint_ms: float | None = None\n",
    )
    edit(
        copy / "src/servingmatrix/results/cell.py",
        '        server_host=f.text("server_host") if f.present("server_host") else None,\n',
        '        server_host=f.text("server_host") if f.present("server_host") else None,\n'
        '        slowest_endpoint_ms=f.optional_number("slowest_endpoint_ms"),\n',
    )
    edit(
        copy / "src/servingmatrix/metrics.py",
        '    Metric(\n        "status",\n',
        '    Metric(\n        "slowest_endpoint_ms",\n        "the slowest request of any endpoint",\n'
        '        "ms",\n        fmt.ms,\n        _record(lambda r: r.slowest_endpoint_ms),\n'
        '        "max",\n    ),\n'
        '    Metric(\n        "status",\n',
    )
    checked = in_copy(copy, "-c", FIGURE_REACHES_EVERY_VIEW)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return [
        "tests/unit/test_metrics.py",
        "tests/unit/test_cell_record.py",
        "tests/unit/test_judge.py",
        "tests/unit/test_results_export.py",
        "tests/unit/test_rendered_files.py",
        "tests/unit/test_report.py",
        "tests/unit/test_hostile_inputs.py",
    ]


#: Run in the copy after the figure recipe: a cell that holds the figure shows it in its export row and
#: its point (the highest of its trials), with nothing else written for it.
FIGURE_REACHES_EVERY_VIEW = """
import tempfile
from pathlib import Path

from servingmatrix.analysis.points import aggregate
from servingmatrix.analysis.rows import rows
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import load_run
from tests.unit.synthetic_runs import SYNC, cell, write_run

with tempfile.TemporaryDirectory() as tmp:
    slowest = {1: 40.0, 2: 90.0}
    cells = {(SYNC, "json", 1, t): {**cell(100.0), "slowest_endpoint_ms": ms} for t, ms in slowest.items()}
    root = write_run(Path(tmp) / "r", cells, [1], trials=2)
    assert [r["slowest_endpoint_ms"] for r in rows(RunFolder(root))] == [40.0, 90.0]
    point = aggregate(load_run(root)).point("json", SYNC, 1)
    assert point is not None and point.value("slowest_endpoint_ms") == 90.0
"""


def add_flag(copy: Path) -> list[str]:
    """A flag: its declaration (letter, title, rule with its threshold); its rule reads the threshold."""
    edit(
        copy / "src/servingmatrix/flags.py",
        "KINDS: tuple[FlagKind, ...] = (\n",
        "KINDS: tuple[FlagKind, ...] = (\n"
        '    FlagKind("slow-start", "W", "slow start", "the server took more than {s} to answer first",\n'
        '             {"s": Threshold(5.0, "seconds", _number)}),\n',
    )
    return ["tests/unit/test_flags.py", "tests/unit/test_rendered_files.py", "tests/unit/test_report.py"]


def add_verb(copy: Path) -> list[str]:
    """A verb: its ``Verb`` in its family's module, its place in the table, its row in the README."""
    edit(
        copy / "src/servingmatrix/cli/build.py",
        'TOOLS = Verb("tools"',
        "def cmd_hello(_args: argparse.Namespace) -> int:\n"
        '    say("hello")\n'
        "    return 0\n\n\n"
        'HELLO = Verb("hello", "say hello", cmd_hello)\n\n'
        'TOOLS = Verb("tools"',
    )
    edit(
        copy / "src/servingmatrix/cli/parser.py", "    build.TOOLS,\n", "    build.TOOLS,\n    build.HELLO,\n"
    )
    edit(
        copy / "README.md",
        "| `servingmatrix tools` |",
        "| `servingmatrix hello` | say hello |\n| `servingmatrix tools` |",
    )
    said = in_copy(copy, "-m", "servingmatrix", "hello")
    assert (said.returncode, said.stdout) == (0, "hello\n"), said.stderr
    return [
        "tests/unit/test_cli_verbs.py",
        "tests/unit/test_cli_errors.py",
        "tests/unit/test_rendered_files.py",
    ]


RECIPES: dict[str, Callable[[Path], list[str]]] = {
    "mode": add_mode,
    "workload": add_workload,
    "figure": add_figure,
    "flag": add_flag,
    "verb": add_verb,
}


def test_every_recipe_is_in_contributing() -> None:
    text = CONTRIBUTING.read_text()
    headings = re.findall(r"^## A new (\w+)$", text, re.MULTILINE)
    assert set(RECIPES) <= set(headings), headings


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_the_recipe_adds_a_working_one(recipe: str, tmp_path: Path) -> None:
    copy = copy_project(tmp_path / "copy")
    follow(copy, RECIPES[recipe](copy))
