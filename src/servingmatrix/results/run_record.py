"""A run's ``run.json`` as a typed record, written (``as_json``) and read (``from_json``) here only.

The runner builds a ``RunRecord`` when a run opens and replaces it as the run goes (its calibration,
then its end); every command reads run.json through ``RunRecord.from_json``, which upgrades an older
schema and checks every field it knows as the cell reader does (types, finite numbers that are not
negative unless a clock's offset, known values), naming the file and the key of the first thing
wrong in one line. The sections collected from the machine (``metadata``, the plans, the calibration)
are checked field by field and kept as written: they are what was found, not a shape of ours.

JSON format history (run.json shares ``schema`` with the cells; ``results/cell.py`` holds the
upgrades, which every result file goes through):

- 1: ``matrix`` (the matrix's name and every key as it records it), ``cpu_plan``, ``ports``,
  ``started_at``, ``load_average_at_start``, ``metadata`` (collected), then as the run ends
  ``finished_at``, ``load_average_at_end`` and ``timings``; ``reproduces`` when it reproduces a
  published run.
- 2: gains ``calibration`` (the load generator's, or why it failed).
- 3: ``matrix`` gains ``reference`` and ``reference_duration_s``.
- 4: gains ``cpu_plan_hosts``, ``distributed`` and ``metadata.hosts`` when the run had an inventory.
- 5: gains ``calibration_hosts`` in a fleet (each server host's lane's calibration).
- (no bump: keys added) ``trial_order_seed``; ``matrix`` gains ``precision`` and ``max_trials``, and
  its ``trials`` may be ``"auto"``; ``matrix`` gains ``reference_trials`` (``"every"`` when absent).

Each version only added keys, so a file of an older schema reads with the newer ones absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.matrix_keys import AUTO_TRIALS, REFERENCE_GENERATORS, REFERENCE_TRIALS
from servingmatrix.results.cell import SCHEMA_VERSION, Fields, upgrade
from servingmatrix.results.hosts import CALIBRATION_HOSTS

#: What a calibration says set its ceiling.
LIMITED_BY = ("generator", "server", "neither")


@dataclass(frozen=True)
class RunRecord:
    """One run as its run.json holds it; see the module's JSON format history. The sections not typed
    here field by field are checked on read and kept as written."""

    #: The matrix as the run recorded it (``Matrix.as_dict``).
    matrix: dict[str, Any]
    #: The CPU plan on this machine (``CpuPlan.as_dict``).
    cpu_plan: dict[str, Any] = field(default_factory=dict)
    #: The stack's ports by role.
    ports: dict[str, int] = field(default_factory=dict)
    started_at: str | None = None
    load_average_at_start: tuple[float, ...] | None = None
    #: The seed of the order of the modes in each round of trials (``session.plan_round``).
    trial_order_seed: int | None = None
    #: What was collected of the machine, the images and the project (``collect_metadata``).
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The published run this one reproduces.
    reproduces: dict[str, Any] | None = None
    #: With an inventory: the plan per host (``InventoryPlan.as_dict``).
    cpu_plan_hosts: dict[str, Any] | None = None
    #: With an inventory: the Locust master and each load host.
    distributed: dict[str, Any] | None = None
    #: A fleet's calibrations by server host.
    calibration_hosts: dict[str, dict[str, Any]] | None = None
    #: The load generator's calibration (its figures, or an error).
    calibration: dict[str, Any] | None = None
    finished_at: str | None = None
    load_average_at_end: tuple[float, ...] | None = None
    #: The sessions counted and every phase's seconds.
    timings: dict[str, Any] | None = None
    #: Keys this version does not know, kept as written.
    others: dict[str, Any] = field(default_factory=dict)

    def with_calibrations(
        self, calibration: dict[str, Any] | None, lanes: dict[str, dict[str, Any]] | None = None
    ) -> RunRecord:
        """The record with the run's calibration and, in a fleet, each lane's (None: left as it was)."""
        return replace(
            self,
            calibration=self.calibration if calibration is None else calibration,
            calibration_hosts=self.calibration_hosts if lanes is None else lanes,
        )

    def as_json(self) -> dict[str, Any]:
        """run.json's content: the keys a run always has, then those it has, in the order a run adds them."""
        document: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "matrix": self.matrix,
            "cpu_plan": self.cpu_plan,
            "ports": self.ports,
            "started_at": self.started_at,
            "load_average_at_start": _list(self.load_average_at_start),
            "metadata": self.metadata,
        }
        optional = {
            "trial_order_seed": self.trial_order_seed,
            "reproduces": self.reproduces,
            "cpu_plan_hosts": self.cpu_plan_hosts,
            "distributed": self.distributed,
            CALIBRATION_HOSTS: self.calibration_hosts,
            "calibration": self.calibration,
            "finished_at": self.finished_at,
            "load_average_at_end": _list(self.load_average_at_end),
            "timings": self.timings,
        }
        # A run that ended says so with its load average then, even when it could not be read (null).
        ended = {"finished_at", "load_average_at_end"} if self.finished_at is not None else set()
        document.update({k: v for k, v in optional.items() if v is not None or k in ended})
        return {**document, **self.others}

    @classmethod
    def from_json(cls, path: Path, data: dict[str, Any]) -> RunRecord:
        """run.json's content, upgraded and checked; one line naming ``path`` and the key if wrong."""
        return _read_run(Fields(path, upgrade(path, data)))


def _list(values: tuple[float, ...] | None) -> list[float] | None:
    return None if values is None else list(values)


_KNOWN = {name for name in RunRecord.__dataclass_fields__ if name != "others"} | {"schema"}


def _read_run(f: Fields) -> RunRecord:
    if not isinstance(f.data.get("matrix"), dict):
        raise f.bad("matrix", "an object")
    _check_matrix(f.obj("matrix"))
    _check_cpu_plan(f.obj("cpu_plan"))
    ports = f.obj("ports")
    lanes = f.obj(CALIBRATION_HOSTS)
    for name, entry in lanes.data.items():
        if not isinstance(entry, dict):  # ``obj`` would read a null as empty, and the lane would vanish
            raise lanes.bad(name, "an object")
        _check_calibration(lanes.obj(name))
    _check_metadata(f.obj("metadata"))
    _check_cpu_plan_hosts(f.obj("cpu_plan_hosts"))
    _check_distributed(f.obj("distributed"))
    _check_calibration(f.obj("calibration"))
    _check_timings(f.obj("timings"))
    _check_reproduces(f.obj("reproduces"))
    return RunRecord(
        matrix=f.obj("matrix").data,
        cpu_plan=f.obj("cpu_plan").data,
        ports={name: ports.integer(name) for name in ports.data},
        started_at=f.optional_text("started_at"),
        load_average_at_start=f.numbers("load_average_at_start"),
        trial_order_seed=f.optional_integer("trial_order_seed"),
        metadata=f.obj("metadata").data,
        reproduces=_section(f, "reproduces"),
        cpu_plan_hosts=_section(f, "cpu_plan_hosts"),
        distributed=_section(f, "distributed"),
        calibration_hosts=lanes.data if f.present(CALIBRATION_HOSTS) else None,
        calibration=_section(f, "calibration"),
        finished_at=f.optional_text("finished_at"),
        load_average_at_end=f.numbers("load_average_at_end"),
        timings=_section(f, "timings"),
        others={key: value for key, value in f.data.items() if key not in _KNOWN},
    )


def _section(f: Fields, key: str) -> dict[str, Any] | None:
    """An object the run may lack (checked already): None when absent."""
    return f.obj(key).data if f.present(key) else None


def _known(f: Fields, key: str, values: tuple[str, ...]) -> None:
    """An optional text that is one of ``values``: one line naming the file, the key and what it may be."""
    value = f.optional_text(key)
    if value is not None and value not in values:
        known = ", ".join(repr(v) for v in values)
        raise UserError(f"{f.path}: '{f.where}{key}' {value!r} is none of {known}")


def _check_matrix(f: Fields) -> None:
    for key in ("name", "description", "server_memory", "hosts", "arrivals"):
        f.optional_text(key)
    _known(f, "reference", REFERENCE_GENERATORS)
    _known(f, "reference_trials", REFERENCE_TRIALS)
    f.strings("modes")
    f.strings("workloads")
    f.integers("users", required=True)
    f.integers("arrival_rates")
    for key in ("duration_s", "warmup_s", "request_timeout_s", "reference_duration_s", "precision"):
        f.optional_number(key)
    if f.data.get("trials") != AUTO_TRIALS:
        f.optional_integer("trials")
    for key in ("server_cpus", "loadgen_processes", "max_trials", "arrival_seed"):
        f.optional_integer(key)


def _check_cpu_plan(f: Fields) -> None:
    f.optional_integer("host_cores")
    f.optional_integer("loadgen_processes")
    for role in ("server", "loadgen", "backing"):
        entry = f.obj(role)
        entry.optional_text("cpuset")
        entry.optional_number("cpus")
    f.strings("warnings")


def _check_metadata(f: Fields) -> None:
    """Collected rather than typed: the figures the report reads, and each image an object."""
    for key in ("cpu_count", "docker_cpus", "memory_total_kb"):
        f.optional_integer(key)
    for key in ("cpu_model", "kernel", "git_commit"):
        f.optional_text(key)
    f.boolean("git_dirty")
    f.strings("command_line")
    for image in f.entries("images").values():
        image.optional_integer("size_bytes")
        image.obj("labels")
        image.obj("packages")
    _check_metadata_hosts(f.obj("hosts"))


def _check_metadata_hosts(f: Fields) -> None:
    """The metadata's ``hosts`` of a run with an inventory: each host's engine, roles, images, clock."""
    f.boolean("simulated")
    f.optional_text("method")
    for host in f.items("hosts"):
        host.text("name")
        for key in ("docker", "address", "docker_version"):
            host.optional_text(key)
        host.strings("roles")
        images = host.obj("images")
        for name in images.data:
            images.optional_text(name)
        _check_clock(host.obj("clock"))


def _check_clock(f: Fields) -> None:
    """A host's clock offset from the harness's and the offset applied: either way; the uncertainty: >= 0."""
    f.optional_number("offset_ms", signed=True)
    f.optional_number("uncertainty_ms")
    f.optional_number("applied_ms", signed=True)


def _check_cpu_plan_hosts(f: Fields) -> None:
    """``cpu_plan_hosts`` (``InventoryPlan.as_dict``): each host's cores by role, workers, warnings."""
    f.boolean("simulated")
    for host in f.items("hosts"):
        host.text("host")
        for key in ("address", "docker", "cores", "idle"):
            host.optional_text(key)
        host.strings("roles")
        for role in ("server", "backing", "loadgen", "locust_master"):
            entry = host.obj(role)
            entry.optional_text("cpuset")
            entry.optional_number("cpus")
        host.optional_integer("loadgen_workers")
        host.strings("warnings")
    f.strings("warnings")


def _check_distributed(f: Fields) -> None:
    """``distributed``: the Locust master's host and port, each load host's workers, cores and clock."""
    master = f.obj("master")
    master.optional_text("host")
    master.optional_text("address")
    master.optional_integer("port")
    for host in f.items("hosts"):
        host.text("name")
        host.optional_text("address")
        host.optional_integer("workers")
        host.integers("cores")
        _check_clock(host.obj("clock"))
    f.optional_integer("workers")


def _check_calibration(f: Fields) -> None:
    f.optional_text("error")
    _known(f, "limited_by", LIMITED_BY)
    f.optional_text("target")
    f.optional_text("reused_from")
    for key in ("max_rps", "p99_ms", "loadgen_cpu_pct", "loadgen_cpu_quota_pct", "server_cpu_pct"):
        f.optional_number(key)
    f.optional_number("duration_s")
    for key in ("failures", "processes", "users"):
        f.optional_integer(key)


def _check_timings(f: Fields) -> None:
    """The sessions and backing starts counted, every phase's seconds and the overhead's share."""
    f.optional_integer("sessions")
    f.optional_integer("backing_starts")
    f.optional_number("overhead_share")
    for key in f.data:
        if key.endswith("_s"):
            f.optional_number(key)


def _check_reproduces(f: Fields) -> None:
    for key in ("bundle", "run_id", "commit", "inputs"):
        f.optional_text(key)
