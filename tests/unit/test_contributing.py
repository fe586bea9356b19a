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
