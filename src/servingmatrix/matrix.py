"""Matrix files: which modes, workloads, user levels, durations and trials a run measures.

A matrix is YAML (``profiles/<name>.yml``). Every key is checked before anything starts, and a bad
entry is refused with one line naming the file and the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from servingmatrix.errors import UserError
from servingmatrix.modes import ModeConfig, resolve_mode
from servingmatrix.paths import project_root
from servingmatrix.spec import split_specs
from servingmatrix.workloads import WorkloadConfig, resolve_workload

_DURATION = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>ms|s|m)$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0}
MAX_USERS = 10_000
MAX_TRIALS = 100
MAX_DURATION_S = 3600.0
KEYS = ("description", "modes", "workloads", "users", "duration", "warmup", "trials", "server_cpus")


def parse_duration(where: str, text: object) -> float:
    """``20s``, ``1.5m`` or ``500ms`` in seconds; a bare number is refused (which unit was meant?)."""
    match = _DURATION.match(str(text).strip()) if isinstance(text, str | int | float) else None
    if match is None or isinstance(text, bool):
        raise UserError(f"{where}: {text!r} is not a duration; write it with a unit, e.g. 20s, 1m or 500ms")
    seconds = float(match.group("number")) * _UNIT_S[match.group("unit")]
    if not 0 < seconds <= MAX_DURATION_S:
        raise UserError(
            f"{where}: {text} is out of range (allowed: more than 0, at most {MAX_DURATION_S:.0f}s)"
        )
    return seconds


def _positive(where: str, value: object, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{where}: {value!r} is not an integer (allowed: 1..{maximum})")
    if not 1 <= value <= maximum:
        raise UserError(f"{where}: {value} is out of range (allowed: 1..{maximum})")
    return value


def _spec_list(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items = split_specs(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise UserError(f"{where}: expected a list of specs, got {value!r}")
    if not items:
        raise UserError(f"{where}: the list is empty")
    return tuple(items)


def _users(where: str, value: object) -> tuple[int, ...]:
    if isinstance(value, str):
        parts: list[object] = []
        for part in value.split(","):
            part = part.strip()
            if not part.lstrip("-").isdigit():
                raise UserError(f"{where}: {part!r} is not an integer (allowed: 1..{MAX_USERS})")
            parts.append(int(part))
        value = parts
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: expected a non-empty list of user counts, got {value!r}")
    users = tuple(_positive(f"{where}[{i}]", v, MAX_USERS) for i, v in enumerate(value))
    if len(set(users)) != len(users):
        raise UserError(f"{where}: {list(users)} repeats a user count")
    if list(users) != sorted(users):
        raise UserError(f"{where}: {list(users)} must be increasing (the steps run in order)")
    return users


@dataclass(frozen=True)
class Matrix:
    """What a run measures, as written (specs) and checked."""

    name: str
    modes: tuple[str, ...]
    workloads: tuple[str, ...]
    users: tuple[int, ...] = (1, 16, 64)
    duration_s: float = 20.0
    warmup_s: float = 5.0
    trials: int = 1
    server_cpus: int = 1
    description: str = ""

    def mode_configs(self) -> list[ModeConfig]:
        return [resolve_mode(spec, self.server_cpus) for spec in self.modes]

    def workload_configs(self) -> list[WorkloadConfig]:
        return [resolve_workload(spec) for spec in self.workloads]

    def check(self, where: str) -> Matrix:
        """Resolve every spec now, so a bad one stops the run before anything starts."""
        for label, configs in (("modes", self.mode_configs()), ("workloads", self.workload_configs())):
            seen: set[str] = set()
            for config in configs:
                if config.spec in seen:
                    raise UserError(f"{where}: {label} lists {config.spec} twice")
                seen.add(config.spec)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "modes": list(self.modes),
            "workloads": list(self.workloads),
            "users": list(self.users),
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "trials": self.trials,
            "server_cpus": self.server_cpus,
        }


def profiles_dir() -> Path:
    return project_root() / "profiles"


def profile_names() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.yml"))


def load_matrix(path: Path, name: str | None = None) -> Matrix:
    """Read and check a matrix file."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UserError(f"{where}: cannot read the matrix file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{where}: not valid YAML{line}") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping of {', '.join(KEYS)}")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    for required in ("modes", "workloads"):
        if required not in data:
            raise UserError(f"{where}: missing key {required!r}")
    matrix = Matrix(
        name=name or path.stem,
        description=str(data.get("description", "")),
        modes=_spec_list(f"{where}: modes", data["modes"]),
        workloads=_spec_list(f"{where}: workloads", data["workloads"]),
        users=_users(f"{where}: users", data.get("users", [1, 16, 64])),
        duration_s=parse_duration(f"{where}: duration", data.get("duration", "20s")),
        warmup_s=parse_duration(f"{where}: warmup", data.get("warmup", "5s")),
        trials=_positive(f"{where}: trials", data.get("trials", 1), MAX_TRIALS),
        server_cpus=_positive(f"{where}: server_cpus", data.get("server_cpus", 1), 256),
    )
    return matrix.check(where)


def load_profile(name: str) -> Matrix:
    path = profiles_dir() / f"{name}.yml"
    if not path.exists():
        raise UserError(f"unknown profile {name!r} (known: {', '.join(profile_names())})")
    return load_matrix(path, name)


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace the matrix file's."""

    modes: str | None = None
    workloads: str | None = None
    users: str | None = None
    duration: str | None = None
    warmup: str | None = None
    trials: int | None = None
    server_cpus: int | None = None


def apply_overrides(matrix: Matrix, o: Overrides) -> Matrix:
    changes: dict[str, Any] = {}
    if o.modes is not None:
        changes["modes"] = _spec_list("--modes", o.modes)
    if o.workloads is not None:
        changes["workloads"] = _spec_list("--workloads", o.workloads)
    if o.users is not None:
        changes["users"] = _users("--users", o.users)
    if o.duration is not None:
        changes["duration_s"] = parse_duration("--duration", o.duration)
    if o.warmup is not None:
        changes["warmup_s"] = parse_duration("--warmup", o.warmup)
    if o.trials is not None:
        changes["trials"] = _positive("--trials", o.trials, MAX_TRIALS)
    if o.server_cpus is not None:
        changes["server_cpus"] = _positive("--server-cpus", o.server_cpus, 256)
    return replace(matrix, **changes).check("command line")
