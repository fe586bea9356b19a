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
MAX_LOADGEN_PROCESSES = 64
MAX_ARRIVAL_RATE = 100_000
MAX_SERVER_CPUS = 256
_MEMORY = re.compile(r"^(?P<number>\d+)(?P<unit>[mg])$")
#: Docker refuses less than 6 MiB; a Python server needs far more, but that is for the run to show.
MIN_MEMORY_MB = 6
MAX_MEMORY_MB = 1024 * 1024
KEYS = (
    "description",
    "modes",
    "workloads",
    "users",
    "arrival_rates",
    "duration",
    "warmup",
    "trials",
    "server_cpus",
    "server_memory",
    "loadgen_processes",
    "request_timeout",
)


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


def parse_memory(where: str, text: object) -> str:
    """A memory limit as Docker takes it, in MiB or GiB: ``512m``, ``2g``."""
    match = _MEMORY.match(text.strip().lower()) if isinstance(text, str) else None
    if match is None:
        raise UserError(f"{where}: {text!r} is not a memory size; write it as e.g. 512m or 2g")
    mb = int(match.group("number")) * (1024 if match.group("unit") == "g" else 1)
    if not MIN_MEMORY_MB <= mb <= MAX_MEMORY_MB:
        raise UserError(f"{where}: {text} is out of range (allowed: {MIN_MEMORY_MB}m to 1024g)")
    return f"{match.group('number')}{match.group('unit')}"


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


def _steps(where: str, value: object, what: str, maximum: int) -> tuple[int, ...]:
    """An increasing list of positive integers: user counts, or arrival rates in requests per second."""
    if isinstance(value, str):
        parts: list[object] = []
        for part in value.split(","):
            part = part.strip()
            if not part.lstrip("-").isdigit():
                raise UserError(f"{where}: {part!r} is not an integer (allowed: 1..{maximum})")
            parts.append(int(part))
        value = parts
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: expected a non-empty list of {what}, got {value!r}")
    steps = tuple(_positive(f"{where}[{i}]", v, maximum) for i, v in enumerate(value))
    if len(set(steps)) != len(steps):
        raise UserError(f"{where}: {list(steps)} repeats a value")
    if list(steps) != sorted(steps):
        raise UserError(f"{where}: {list(steps)} must be increasing (the steps run in order)")
    return steps


def _users(where: str, value: object) -> tuple[int, ...]:
    return _steps(where, value, "user counts", MAX_USERS)


def _rates(where: str, value: object) -> tuple[int, ...]:
    return _steps(where, value, "arrival rates (requests per second)", MAX_ARRIVAL_RATE)


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
    #: Open loop: each step offers this many requests per second, whatever the answers' latency.
    arrival_rates: tuple[int, ...] | None = None
    server_memory: str = "2g"
    #: Locust processes sending the load; None: one per core the CPU plan gives the generator.
    loadgen_processes: int | None = None
    request_timeout_s: float = 30.0

    @property
    def open_loop(self) -> bool:
        return self.arrival_rates is not None

    @property
    def steps(self) -> tuple[int, ...]:
        """What each step holds: users (closed loop) or requests per second offered (open loop)."""
        return self.arrival_rates if self.arrival_rates is not None else self.users

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
            "arrival_rates": list(self.arrival_rates) if self.arrival_rates is not None else None,
            "server_memory": self.server_memory,
            "loadgen_processes": self.loadgen_processes,
            "request_timeout_s": self.request_timeout_s,
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
        server_cpus=_positive(f"{where}: server_cpus", data.get("server_cpus", 1), MAX_SERVER_CPUS),
        arrival_rates=(
            _rates(f"{where}: arrival_rates", data["arrival_rates"])
            if data.get("arrival_rates") is not None
            else None
        ),
        server_memory=parse_memory(f"{where}: server_memory", data.get("server_memory", "2g")),
        loadgen_processes=(
            _positive(f"{where}: loadgen_processes", data["loadgen_processes"], MAX_LOADGEN_PROCESSES)
            if data.get("loadgen_processes") is not None
            else None
        ),
        request_timeout_s=parse_duration(f"{where}: request_timeout", data.get("request_timeout", "30s")),
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
    arrival_rates: str | None = None
    server_memory: str | None = None
    loadgen_processes: int | None = None
    request_timeout: str | None = None


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
        changes["server_cpus"] = _positive("--server-cpus", o.server_cpus, MAX_SERVER_CPUS)
    if o.arrival_rates is not None:
        changes["arrival_rates"] = _rates("--arrival-rate", o.arrival_rates)
    if o.server_memory is not None:
        changes["server_memory"] = parse_memory("--server-memory", o.server_memory)
    if o.loadgen_processes is not None:
        changes["loadgen_processes"] = _positive(
            "--loadgen-processes", o.loadgen_processes, MAX_LOADGEN_PROCESSES
        )
    if o.request_timeout is not None:
        changes["request_timeout_s"] = parse_duration("--request-timeout", o.request_timeout)
    return replace(matrix, **changes).check("command line")
