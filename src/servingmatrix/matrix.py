"""Matrix files: which modes, workloads, user levels, durations and trials a run measures.

A matrix is YAML (``profiles/<name>.yml``). Every key is checked before anything starts, and a bad
entry is refused with one line naming the file and the entry. The keys themselves, their bounds,
defaults and options, are declared once in :mod:`servingmatrix.matrix_keys`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from servingmatrix.errors import UserError
from servingmatrix.hosts.inventory import Inventory, load_inventory
from servingmatrix.inputs import input_files
from servingmatrix.inputs.yaml_files import read_yaml
from servingmatrix.matrix_keys import (
    APP_KEY,
    ARRIVAL_RATES_KEY,
    ARRIVAL_SEED_KEY,
    ARRIVALS_KEY,
    AUTO_TRIALS,
    BY_YAML,
    DESCRIPTION_KEY,
    DURATION_KEY,
    HOSTS_KEY,
    LOADGEN_PROCESSES_KEY,
    MATRIX_KEYS,
    MAX_TRIALS_KEY,
    OPTION_KEYS,
    PRECISION_KEY,
    REFERENCE_DURATION_KEY,
    REFERENCE_KEY,
    REFERENCE_TRIALS_KEY,
    REQUEST_TIMEOUT_KEY,
    SERVER_CPUS_KEY,
    SERVER_MEMORY_KEY,
    TRIALS_KEY,
    USERS_KEY,
    WARMUP_KEY,
    MatrixKey,
    exclusive_pairs,
)

# Re-exported: the command line and the tests read durations and memory sizes from here.
from servingmatrix.matrix_keys import parse_duration as parse_duration
from servingmatrix.matrix_keys import parse_memory as parse_memory
from servingmatrix.modes import ModeConfig, resolve_mode
from servingmatrix.paths import project_root
from servingmatrix.precision import MIN_AUTO_TRIALS
from servingmatrix.spec import shown
from servingmatrix.user_app import UserApp, load_app, resolve_workload_for
from servingmatrix.workloads import WorkloadConfig

#: Where the options' values come from, as a refusal names it.
COMMAND_LINE = "command line"
#: The keys a matrix file may hold, in the order the messages list them.
KEYS = tuple(key.yaml for key in MATRIX_KEYS)


@dataclass(frozen=True)
class Matrix:
    """What a run measures, as written (specs) and checked.

    One field per entry of ``MATRIX_KEYS`` (a test holds them equal), its default taken from there.
    """

    name: str
    modes: tuple[str, ...]
    workloads: tuple[str, ...]
    users: tuple[int, ...] = USERS_KEY.default
    duration_s: float = DURATION_KEY.default
    warmup_s: float = WARMUP_KEY.default
    #: A fixed number of trials of every cell, or ``auto`` (``precision``, ``max_trials``).
    trials: int | str = TRIALS_KEY.default
    precision: float = PRECISION_KEY.default
    max_trials: int = MAX_TRIALS_KEY.default
    server_cpus: int = SERVER_CPUS_KEY.default
    description: str = DESCRIPTION_KEY.default
    #: Open loop: each step offers this many requests per second, whatever the answers' latency.
    arrival_rates: tuple[int, ...] | None = ARRIVAL_RATES_KEY.default
    #: Open loop: how arrivals are spaced (``uniform`` or ``poisson``), and the seed of poisson gaps.
    arrivals: str = ARRIVALS_KEY.default
    arrival_seed: int = ARRIVAL_SEED_KEY.default
    server_memory: str = SERVER_MEMORY_KEY.default
    #: Locust processes sending the load; None: one per core the CPU plan gives the generator.
    loadgen_processes: int | None = LOADGEN_PROCESSES_KEY.default
    request_timeout_s: float = REQUEST_TIMEOUT_KEY.default
    #: The native generator measured after each closed-loop step (``none``: no reference).
    reference: str = REFERENCE_KEY.default
    reference_duration_s: float = REFERENCE_DURATION_KEY.default
    #: Which trials of a cell the reference measures: ``every`` one, or the ``first`` only.
    reference_trials: str = REFERENCE_TRIALS_KEY.default
    #: A user's app, its folder (None: the bundled app).
    app: str | None = APP_KEY.default
    #: A multi-host run's inventory file (None: this machine's engine alone).
    hosts: str | None = HOSTS_KEY.default

    @cached_property
    def user_app(self) -> UserApp | None:
        """The user's app this matrix measures, its ``app.yml`` checked; None for the bundled app."""
        return load_app(Path(self.app)) if self.app is not None else None

    @cached_property
    def inventory(self) -> Inventory | None:
        """The hosts this matrix runs on, the inventory checked; None for this machine's engine alone."""
        return load_inventory(Path(self.hosts)) if self.hosts is not None else None

    @property
    def auto_trials(self) -> bool:
        """Trials until ``precision`` (at least ``MIN_AUTO_TRIALS``, at most ``max_trials``)."""
        return self.trials == AUTO_TRIALS

    @property
    def first_trials(self) -> int:
        """The trials every cell gets: the fixed count, or the least of ``auto``."""
        return MIN_AUTO_TRIALS if self.auto_trials else int(self.trials)

    @property
    def open_loop(self) -> bool:
        return self.arrival_rates is not None

    @property
    def steps(self) -> tuple[int, ...]:
        """What each step holds: users (closed loop) or requests per second offered (open loop)."""
        return self.arrival_rates if self.arrival_rates is not None else self.users

    def mode_configs(self) -> list[ModeConfig]:
        """Each mode serving this matrix's app (the user's, or the bundled one)."""
        app = self.user_app
        if app is None:
            return [resolve_mode(spec, self.server_cpus) for spec in self.modes]
        return [resolve_mode(spec, self.server_cpus, app.target) for spec in self.modes]

    def workload_configs(self) -> list[WorkloadConfig]:
        """The registry's workloads, or with a user's app its own (``app:NAME``, ``app:mixed``)."""
        return [resolve_workload_for(spec, self.user_app) for spec in self.workloads]

    def check(self, where: str) -> Matrix:
        """Resolve every spec now, so a bad one stops the run before anything starts; a refusal names
        ``where`` the matrix came from (a file, a run's record) and the key, except on the command
        line, where the option's value already says which it is."""
        # The app first: its refusals name its own app.yml.
        _ = self.user_app
        resolvers = (("modes", self.mode_configs), ("workloads", self.workload_configs))
        for label, resolve in resolvers:
            try:
                configs: list[ModeConfig] | list[WorkloadConfig] = resolve()
            except UserError as exc:
                if where == COMMAND_LINE:
                    raise
                raise type(exc)(f"{where}: {label}: {exc}") from None
            seen: set[str] = set()
            for config in configs:
                if config.spec in seen:
                    raise UserError(f"{where}: {label} lists {config.spec} twice")
                seen.add(config.spec)
        return self

    @property
    def measures_reference(self) -> bool:
        """Whether a reference generator runs after each step: asked for, and a closed loop."""
        return self.reference != "none" and not self.open_loop

    def measures_reference_in(self, trial: int) -> bool:
        """Whether the reference generator runs after each step of trial ``trial`` of a cell."""
        return self.measures_reference and (self.reference_trials == "every" or trial == 1)

    def as_dict(self) -> dict[str, Any]:
        """run.json's ``"matrix"``: the name, then every key as its entry records it."""
        return {"name": self.name, **{key.field: key.record(getattr(self, key.field)) for key in MATRIX_KEYS}}

    def differences(self, recorded: dict[str, Any]) -> list[str]:
        """The keys on which a run's recorded matrix differs from this one, in words.

        A key the run did not record (it predates the key) counts as its default, so a run written
        before a key existed still resumes.
        """
        out = []
        for key in MATRIX_KEYS:
            mine = key.record(getattr(self, key.field))
            theirs = recorded.get(key.field, key.record(key.default))
            if mine != theirs:
                out.append(f"{key.yaml} {theirs!r} there, {mine!r} here")
        return out


def profiles_dir() -> Path:
    return project_root() / "profiles"


def profile_names() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.yml"))


def load_matrix(path: Path, name: str | None = None) -> Matrix:
    """Read and check a matrix file."""
    where = str(path)
    data = _read_mapping(path)
    unknown = [k for k in data if k not in BY_YAML]
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    for key in MATRIX_KEYS:
        if key.required and key.yaml not in data:
            raise UserError(f"{where}: missing key {key.yaml!r}")
    for key, other in exclusive_pairs():
        if data.get(key.yaml) is not None and data.get(other.yaml) is not None:
            raise UserError(
                f"{where}: {other.yaml} and {key.yaml} are both given; give one of them "
                f"({key.yaml} replaces {other.yaml})"
            )
    values = {
        key.field: key.parse(f"{where}: {key.yaml}", _relative_to(path, key, data[key.yaml]))
        for key in MATRIX_KEYS
        if key.yaml in data
    }
    return Matrix(name=name or path.stem, **values).check(where)


def _relative_to(path: Path, key: MatrixKey[Any], value: object) -> object:
    """A path the matrix file ``path`` gives, as relative to the file's folder (an absolute one stays)."""
    if key.file_relative and isinstance(value, str) and value.strip():
        return str(path.parent / value.strip())
    return value


def _read_mapping(path: Path) -> dict[Any, Any]:
    """The file's YAML mapping, refusing what a matrix has no use for, each in one line."""
    data = read_yaml(path, input_files.MATRIX)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of {', '.join(KEYS)}")
    return data


def matrix_from_record(where: str, recorded: object) -> Matrix:
    """The matrix a run measured, rebuilt from its run.json's ``"matrix"``, every value checked as a
    file's would be; a key the run predates takes its default."""
    if not isinstance(recorded, dict):
        raise UserError(f"{where}: no matrix recorded; the file is corrupt or not a run's")
    name = recorded.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"{where}: the matrix has no name")
    values: dict[str, Any] = {}
    for key in MATRIX_KEYS:
        if key.field in recorded:
            values[key.field] = key.parse(f"{where}: {key.yaml}", key.written(recorded[key.field]))
        elif key.required:
            raise UserError(f"{where}: the matrix records no {key.yaml!r}")
    return Matrix(name=name, **values).check(where)


def matrix_file_text(matrix: Matrix) -> str:
    """``matrix`` as a matrix file that ``load_matrix`` reads back to it (a key another one replaces,
    such as users beside arrival rates, is left out)."""
    data = {
        key.yaml: key.written(key.record(getattr(matrix, key.field)))
        for key in MATRIX_KEYS
        if getattr(matrix, key.field) is not None
    }
    for key, other in exclusive_pairs():
        if key.yaml in data:
            data.pop(other.yaml, None)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)


_PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_profile_name(name: str) -> str:
    """A profile's name, as ``--profile`` takes it: never a path (``../x`` would read a file outside
    ``profiles/``), which ``--matrix`` takes."""
    if not _PROFILE_NAME.fullmatch(name):
        raise UserError(
            f"--profile {shown(name)} is not a profile's name (known: {', '.join(profile_names())}); a "
            "matrix file is given with --matrix FILE"
        )
    return name


def load_profile(name: str) -> Matrix:
    path = profiles_dir() / f"{check_profile_name(name)}.yml"
    if not path.exists():
        raise UserError(f"unknown profile {name!r} (known: {', '.join(profile_names())})")
    return load_matrix(path, name)


class Overrides:
    """Command-line values that replace the matrix file's, named by their matrix-file key.

    ``Overrides(users="1,8", trials=2)``; a None value was not given.
    """

    def __init__(self, **given: object) -> None:
        unknown = sorted(set(given) - {key.yaml for key in OPTION_KEYS})
        if unknown:
            raise TypeError(f"Overrides: {unknown[0]!r} is not a key with an option")
        self.given = {name: value for name, value in given.items() if value is not None}

    @classmethod
    def from_options(cls, options: object) -> Overrides:
        """From ``run``'s options, one per key that has a flag (an ``argparse.Namespace``)."""
        return cls(**{key.yaml: getattr(options, key.yaml) for key in OPTION_KEYS})

    def __repr__(self) -> str:
        return f"Overrides({', '.join(f'{k}={v!r}' for k, v in self.given.items())})"


def apply_overrides(matrix: Matrix, overrides: Overrides) -> Matrix:
    given = overrides.given
    for key, other in exclusive_pairs():
        if key.yaml in given and other.yaml in given:
            raise UserError(f"give {other.flag} or {key.flag}, not both ({key.flag} replaces {other.flag})")
    changes = {
        key.field: key.parse(str(key.flag), given[key.yaml]) for key in OPTION_KEYS if key.yaml in given
    }
    for key, other in exclusive_pairs():
        # Rates given replace the users (which stay recorded, unused); users given replace the file's rates.
        if other.yaml in given and key.yaml not in given:
            changes[key.field] = key.default
    return replace(matrix, **changes).check(COMMAND_LINE)
