"""``make mutation``: the modules it mutates are the ones the README scores, and pyproject's, and its
score counts every mutant."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from servingmatrix.building.readme.mutation_scores import (
    mutated_modules,
    read_scores,
    record_scores,
    scores_table,
)
from servingmatrix.paths import project_root
from tests.mutation import Score, configured_modules, dotted, main, score, table

#: The pure modules whose mutation scores the README states.
MODULES = [
    "src/servingmatrix/spec.py",
    "src/servingmatrix/matrix.py",
    "src/servingmatrix/run/measure/latency.py",
    "src/servingmatrix/analysis/stats.py",
    "src/servingmatrix/flags.py",
    "src/servingmatrix/results/cell.py",
    "src/servingmatrix/results/run.py",
    "src/servingmatrix/results/run_record.py",
    "src/servingmatrix/run/judge.py",
    "src/servingmatrix/analysis/verdict.py",
    "src/servingmatrix/analysis/compare.py",
    "src/servingmatrix/analysis/reproduction.py",
    "src/servingmatrix/analysis/capacity.py",
]


def makefile_variable(name: str) -> list[str]:
    text = (project_root() / "Makefile").read_text().replace("\\\n", " ")
    found = re.search(rf"^{name} :=(.*)$", text, re.MULTILINE)
    assert found, name
    return found.group(1).split()


def test_the_target_mutates_exactly_the_pure_modules() -> None:
    assert makefile_variable("MUTATION_MODULES") == MODULES
    assert configured_modules() == MODULES
    recipe = re.search(r"^mutation: .*\n\t(.*)$", (project_root() / "Makefile").read_text(), re.MULTILINE)
    assert recipe and recipe.group(1) == "$(BIN)/python tests/mutation.py $(MUTATION_MODULES)"


def test_the_readme_scores_exactly_those_modules() -> None:
    readme = (project_root() / "README.md").read_text()
    section = readme.split("### Mutation testing", 1)[1].split("\n#", 1)[0]
    assert re.findall(r"^\| `(src/[^`]+)` \| ", section, re.MULTILINE) == MODULES
    assert "make mutation" in section


def test_neither_make_test_nor_ci_mutates() -> None:
    makefile = (project_root() / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "mutation" not in test_recipe
    assert "mutation" not in (project_root() / ".ci" / "run").read_text()


def test_the_tests_the_mutants_face_exist() -> None:
    config = tomllib.loads((project_root() / "pyproject.toml").read_text())["tool"]["mutmut"]
    for path in config["pytest_add_cli_args_test_selection"]:
        assert (project_root() / path).is_file(), path


def test_a_module_is_named_as_its_mutants_are() -> None:
    assert dotted("src/servingmatrix/run/measure/latency.py") == "servingmatrix.run.measure.latency"


def test_the_score_counts_every_mutant() -> None:
    codes: dict[str, int | None] = {"k1": 1, "k3": 3, "t": 36, "s": 0, "n": 33, "n5": 5, "u": None}
    result = score("src/servingmatrix/spec.py", codes)
    assert result == Score("src/servingmatrix/spec.py", 2, 1, ("s",), ("n", "n5"), ("u",))
    assert (result.caught, result.total) == (3, 7)
    assert result.row() == "| `src/servingmatrix/spec.py` | 3 / 7 | 42.9% |"
    assert table([result]).splitlines()[:2] == ["| module | killed / total | score |", "|---|---|---|"]


def test_a_module_outside_the_configuration_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["src/servingmatrix/cli/main.py"]) == 2
    assert "src/servingmatrix/cli/main.py is not in [tool.mutmut] only_mutate" in capsys.readouterr().err


def test_a_score_is_of_the_module_it_hashed_and_stale_once_the_module_changes(tmp_path: Path) -> None:
    module = "src/servingmatrix/spec.py"
    (tmp_path / "src" / "servingmatrix").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / module).write_text("A = 1\n")
    other = "src/servingmatrix/matrix.py"
    record_scores([(module, 9, 10)], tmp_path)
    table_now = scores_table([module, other], tmp_path)
    assert f"| `{module}` | 9 / 10 | 90.0% | on this version (" in table_now
    assert f"| `{other}` | — | — | not measured |" in table_now
    (tmp_path / module).write_text("A = 2\n")
    assert f"| `{module}` | 9 / 10 | 90.0% | **stale**: the module changed since |" in scores_table(
        [module], tmp_path
    )
    # A later measurement of another module keeps this one's.
    (tmp_path / other).write_text("B = 1\n")
    record_scores([(other, 5, 5)], tmp_path)
    assert [s.module for s in read_scores(tmp_path)] == [module, other]


def test_the_committed_scores_name_only_mutated_modules() -> None:
    assert {s.module for s in read_scores()} <= set(MODULES)
    assert mutated_modules() == MODULES
