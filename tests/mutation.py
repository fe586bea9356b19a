"""Mutation testing of the pure modules (``make mutation``): mutmut, one module at a time, then a
score per module.

Each module is mutated on its own (``mutmut run 'servingmatrix.spec.*'``) against the unit tests that
``[tool.mutmut]`` in pyproject.toml selects; mutmut runs, for each mutant, only the tests that called
the mutated function. A mutant is killed when a test fails (or the tests time out); the score is
killed / total, where total counts every mutant, those no test reached too.

Mutation runs take both cores: before each module the script waits while ``/tmp/sm-quiet`` exists
(another job on the machine is measuring). Nothing here runs in ``make test`` or CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.building.readme.mutation_scores import SCORES_FILE, record_scores

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
QUIET = Path("/tmp/sm-quiet")
#: mutmut's exit codes of a mutant's test run, as its ``status_by_exit_code`` reads them.
KILLED_CODES = frozenset({1, 3})
TIMEOUT_CODES = frozenset({24, -24, 36, 152, 255})
SURVIVED_CODES = frozenset({0})
NO_TESTS_CODES = frozenset({5, 33})


@dataclass(frozen=True)
class Score:
    """One module's mutants by outcome."""

    module: str
    killed: int
    timeout: int
    survived: tuple[str, ...]
    no_tests: tuple[str, ...]
    other: tuple[str, ...]

    @property
    def caught(self) -> int:
        """Killed by a failing test, or by the tests running past their time limit (a hang)."""
        return self.killed + self.timeout

    @property
    def total(self) -> int:
        return self.caught + len(self.survived) + len(self.no_tests) + len(self.other)

    @property
    def percent(self) -> float:
        return 100.0 * self.caught / self.total if self.total else 0.0

    def row(self) -> str:
        return f"| `{self.module}` | {self.caught} / {self.total} | {self.percent:.1f}% |"


def dotted(module: str) -> str:
    """``src/servingmatrix/spec.py`` -> ``servingmatrix.spec``: the prefix of its mutants' names."""
    path = Path(module)
    if path.parts[0] != "src" or path.suffix != ".py":
        raise ValueError(f"{module}: not a module under src/")
    return ".".join(path.with_suffix("").parts[1:])


def configured_modules(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The modules ``[tool.mutmut]`` lets mutmut mutate."""
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def score(module: str, exit_codes: dict[str, int | None]) -> Score:
    """One module's score from mutmut's record of each mutant's exit code."""
    names = sorted(exit_codes)
    return Score(
        module=module,
        killed=sum(1 for n in names if exit_codes[n] in KILLED_CODES),
        timeout=sum(1 for n in names if exit_codes[n] in TIMEOUT_CODES),
        survived=tuple(n for n in names if exit_codes[n] in SURVIVED_CODES),
        no_tests=tuple(n for n in names if exit_codes[n] in NO_TESTS_CODES),
        other=tuple(
            n
            for n in names
            if exit_codes[n] not in KILLED_CODES | TIMEOUT_CODES | SURVIVED_CODES | NO_TESTS_CODES
        ),
    )


def read_score(module: str) -> Score:
    meta = json.loads((MUTANTS / f"{module}.meta").read_text())
    return score(module, meta["exit_code_by_key"])


def wait_for_quiet() -> None:
    if QUIET.exists():
        print(f"waiting: {QUIET} exists (a measurement is running)", flush=True)
    while QUIET.exists():
        time.sleep(20)


def mutate(module: str, mutmut: str) -> Score:
    wait_for_quiet()
    log = MUTANTS / "logs" / f"{dotted(module)}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"mutating {module} (log: {log.relative_to(ROOT)}) ...", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(
            [mutmut, "run", "--max-children", "2", f"{dotted(module)}.*"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        raise SystemExit(f"mutmut failed on {module} (exit {proc.returncode}); see {log}")
    result = read_score(module)
    print(f"  {result.caught} / {result.total} killed in {time.monotonic() - started:.0f} s", flush=True)
    return result


def table(scores: list[Score]) -> str:
    lines = ["| module | killed / total | score |", "|---|---|---|", *(s.row() for s in scores)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    modules = argv or configured_modules()
    unknown = [m for m in modules if m not in configured_modules()]
    if unknown:
        print(f"mutation: {unknown[0]} is not in [tool.mutmut] only_mutate", file=sys.stderr)
        return 2
    mutmut = str(Path(sys.executable).parent / "mutmut")
    shutil.rmtree(MUTANTS, ignore_errors=True)
    scores = [mutate(module, mutmut) for module in modules]
    record_scores([(s.module, s.caught, s.total) for s in scores], ROOT)
    print()
    print(table(scores))
    print(
        f"\nwritten to {SCORES_FILE} with each module's SHA-256 (`make generate` renders the README's table)"
    )
    for s in scores:
        for label, names in (("survived", s.survived), ("no tests", s.no_tests), ("other", s.other)):
            for name in names:
                print(f"{label}: {name}")
    print("\n(`mutmut show NAME` prints a mutant's diff)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
