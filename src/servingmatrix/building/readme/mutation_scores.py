"""Mutation scores as measured, not typed: ``make mutation`` writes each module's score with the SHA-256
of the module it mutated into ``tests/mutation_scores.json``; the README's table is rendered from that
file, and a module changed since its score is shown as stale.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.paths import project_root

SCORES_FILE = Path("tests") / "mutation_scores.json"
SCHEMA = 1


@dataclass(frozen=True)
class ModuleScore:
    """One module's mutants caught over those made, and which version of the module was mutated."""

    module: str
    caught: int
    total: int
    #: The SHA-256 of the module's text when it was mutated (None: not recorded).
    sha256: str | None
    measured_at: str | None

    @property
    def percent(self) -> float:
        return 100.0 * self.caught / self.total if self.total else 0.0

    def current(self, root: Path) -> bool:
        """Whether the module is as it was when mutated."""
        path = root / self.module
        return self.sha256 is not None and path.is_file() and module_sha256(path) == self.sha256


def mutated_modules(root: Path | None = None) -> list[str]:
    """The modules ``make mutation`` mutates: ``[tool.mutmut]``'s ``only_mutate`` in pyproject.toml."""
    config = tomllib.loads(((root or project_root()) / "pyproject.toml").read_text())
    return list(config["tool"]["mutmut"]["only_mutate"])


def module_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_scores(root: Path | None = None) -> list[ModuleScore]:
    """The committed scores, in the file's order; one line naming the file when it does not read."""
    path = (root or project_root()) / SCORES_FILE
    try:
        data = json.loads(path.read_text())
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, this servingmatrix reads {SCHEMA}")
        return [ModuleScore(**entry) for entry in data["modules"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: cannot be read as mutation scores ({exc})") from None


def record_scores(measured: list[tuple[str, int, int]], root: Path | None = None) -> list[ModuleScore]:
    """Write each of ``measured`` (module, caught, total) with the hash of the module as it is now,
    keeping the other modules' scores; return them all."""
    base = root or project_root()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    fresh = {m: ModuleScore(m, c, t, module_sha256(base / m), now) for m, c, t in measured}
    kept = [s for s in read_scores(base) if s.module not in fresh] if (base / SCORES_FILE).exists() else []
    scores = [*kept, *fresh.values()]
    body = {
        "schema": SCHEMA,
        "note": "written by `make mutation`; the README's table is rendered from it",
        "modules": [asdict(s) for s in scores],
    }
    (base / SCORES_FILE).write_text(json.dumps(body, indent=1) + "\n")
    return scores


def scores_table(modules: list[str], root: Path | None = None) -> str:
    """The README's table: every module ``make mutation`` mutates, its score, and whether the score
    is of the module as it is (else stale, or not measured)."""
    base = root or project_root()
    by_module = {s.module: s for s in read_scores(base)}
    lines = ["| module | killed / total | score | measured |", "|---|---|---|---|"]
    for module in modules:
        score = by_module.get(module)
        if score is None:
            lines.append(f"| `{module}` | — | — | not measured |")
            continue
        if score.sha256 is None:
            state = "**stale**: which version was mutated is not recorded"
        elif not score.current(base):
            state = "**stale**: the module changed since"
        else:
            state = f"on this version ({(score.measured_at or '')[:10]})"
        lines.append(f"| `{module}` | {score.caught} / {score.total} | {score.percent:.1f}% | {state} |")
    return "\n".join(lines)
