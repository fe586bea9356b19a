"""A run read back for reporting: run.json and its cells, checked and typed.

Anything malformed is refused with one line naming the file, never a traceback: a truncated or
hand-edited result must not turn into a wrong chart. Cells are read through ``CellRecord``; run.json
through ``read_run_meta``, which checks its schema and every field it knows as the cell reader does
(types, finite numbers that are not negative) and keeps the rest, collected metadata, as written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.flags import Flag
from servingmatrix.matrix_keys import AUTO_TRIALS
from servingmatrix.results.cell import CellRecord, Fields
from servingmatrix.results.folder import RUN_FILE, RunFolder, read_json
from servingmatrix.results.hosts import (
    CALIBRATION_HOSTS,
    ONE_MACHINE,
    RunHost,
    method,
    method_line,
    run_hosts,
)


@dataclass(frozen=True)
class Cell:
    """One cell of a run as the analysis reads it: its record, the file it came from, and the
    figures the report draws, by flat names and as floats; those of a failed cell are None."""

    path: Path
    record: CellRecord

    @property
    def mode(self) -> str:
        return self.record.mode

    @property
    def workload(self) -> str:
        return self.record.workload

    @property
    def users(self) -> int:
        """The step: users, or in an open-loop run the offered requests per second."""
        return self.record.users

    @property
    def trial(self) -> int:
        return self.record.trial

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def reason(self) -> str | None:
        return self.record.reason

    @property
    def ok(self) -> bool:
        return self.record.ok

    @property
    def requests(self) -> int | None:
        return self.record.requests

    @property
    def failures(self) -> int | None:
        return self.record.failures

    @property
    def error_rate(self) -> float | None:
        if not self.requests or self.failures is None:
            return None
        return self.failures / self.requests

    @property
    def throughput_rps(self) -> float | None:
        return _float(self.record.throughput_rps)

    @property
    def latency_ms(self) -> dict[str, float]:
        return {name: float(value) for name, value in self.record.latency_ms.figures().items()}

    @property
    def server_cpu_pct(self) -> float | None:
        return _float(self.record.server.cpu_pct)

    @property
    def server_mem_mb(self) -> float | None:
        return _float(self.record.server.mem_mb)

    @property
    def processes(self) -> int | None:
        return len(self.record.server.processes) or None

    @property
    def largest_process_mb(self) -> float | None:
        sizes = [p.rss_mb for p in self.record.server.processes if p.rss_mb is not None]
        return float(max(sizes)) if sizes else None

    @property
    def throttled_s(self) -> float | None:
        return _float(self.record.server.throttled_s)

    @property
    def loadgen_cpu_pct(self) -> float | None:
        return _float(self.record.loadgen.cpu_pct)

    @property
    def effective_concurrency(self) -> float | None:
        return _float(self.record.effective_concurrency)

    @property
    def concurrency_basis(self) -> str | None:
        return self.record.effective_concurrency_basis

    @property
    def promised_concurrency(self) -> int | None:
        return self.record.promised_concurrency

    @property
    def offered_rps(self) -> float | None:
        """Open loop: the requests per second the step offered (``users`` holds the same number)."""
        return _float(self.record.offered_rps)

    @property
    def reference_rps(self) -> float | None:
        """The reference generator's throughput against the same server (schema 3); None without one."""
        reference = self.record.reference
        return _float(reference.throughput_rps) if reference is not None else None

    @property
    def generator_efficiency(self) -> float | None:
        """Locust's throughput over the reference's (schema 3)."""
        return _float(self.record.loadgen.generator_efficiency)

    @property
    def generator_bound(self) -> bool | None:
        """The generator, not the server, set the pace (``saturated`` in results before schema 2)."""
        return self.record.loadgen.bound

    @property
    def applied(self) -> dict[str, Any]:
        """The limits Docker applied to each container, as read back (role -> cpuset, cpus, memory)."""
        return {role: asdict(limits) for role, limits in self.record.cpu_plan_applied.items()}

    @property
    def flags(self) -> tuple[Flag, ...]:
        return self.record.warnings


def _float(value: float | None) -> float | None:
    """A figure as a float: a file may hold a whole number as an integer."""
    return None if value is None else float(value)


@dataclass(frozen=True)
class Run:
    root: Path
    meta: dict[str, Any]
    cells: tuple[Cell, ...]

    @property
    def name(self) -> str:
        return str(self.matrix.get("name") or self.root.name)

    @property
    def matrix(self) -> dict[str, Any]:
        return dict(self.meta.get("matrix") or {})

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.meta.get("metadata") or {})

    @property
    def cpu_plan(self) -> dict[str, Any]:
        return dict(self.meta.get("cpu_plan") or {})

    @property
    def server_cpus(self) -> int:
        value = self.matrix.get("server_cpus")
        return value if isinstance(value, int) and value > 0 else 1

    @property
    def arrival_rates(self) -> list[int] | None:
        """The requests per second each step offers in an open-loop run; None in a closed-loop one."""
        rates = self.matrix.get("arrival_rates")
        if not isinstance(rates, list) or not rates:
            return None
        return [r for r in rates if isinstance(r, int) and not isinstance(r, bool)]

    @property
    def open_loop(self) -> bool:
        return self.arrival_rates is not None

    @property
    def steps(self) -> list[int]:
        """What the steps hold: offered requests per second (open loop) or users (closed loop)."""
        rates = self.arrival_rates
        if rates is not None:
            return rates
        return [u for u in self.matrix.get("users") or [] if isinstance(u, int) and not isinstance(u, bool)]

    @property
    def machine(self) -> str:
        """The machine in words, from its metadata: CPU model and count ("not recorded" when neither is)."""
        meta = self.metadata
        count = meta.get("cpu_count")
        parts = [str(meta["cpu_model"])] if meta.get("cpu_model") else []
        parts += [f"{count} CPUs"] if count else []
        return ", ".join(parts) or "not recorded"

    @property
    def testbed(self) -> str:
        """The machine and, when not one machine, how the run was spread over which hosts (the method and
        each role's hosts): what a history keeps apart. ``machine`` is the harness's own machine, which
        on several hosts says nothing of the server's, and a simulated run's figures are not one
        machine's."""
        return self.machine if self.method == ONE_MACHINE else f"{self.machine}; {method_line(self.meta)}"

    @property
    def method(self) -> str:
        """``one machine``, ``simulated (one kernel)`` or ``N hosts`` (``results.hosts.method``)."""
        return method(self.meta)

    @property
    def hosts(self) -> tuple[RunHost, ...]:
        """The hosts of a run with an inventory, in its order; empty on one machine."""
        return run_hosts(self.meta)

    @property
    def lane_calibrations(self) -> dict[str, dict[str, Any]]:
        """A fleet's calibrations by server host, each lane's load hosts against its own host (empty
        otherwise: ``calibration`` is the run's one)."""
        value = self.meta.get(CALIBRATION_HOSTS)
        if not isinstance(value, dict):
            return {}
        return {str(name): entry for name, entry in value.items() if isinstance(entry, dict)}

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The load generator's calibration as run.json holds it (figures, or an error); None before it."""
        value = self.meta.get("calibration")
        return value if isinstance(value, dict) else None


def read_run_meta(folder: RunFolder) -> dict[str, Any]:
    """run.json, upgraded and checked; one line naming the file and the first bad field."""
    if not folder.exists():
        raise UserError(f"{folder.root}: not a run folder (no {RUN_FILE})")
    data = read_json(folder.run_file)
    f = Fields(folder.run_file, data)
    if not isinstance(data.get("matrix"), dict):
        raise f.bad("matrix", "an object")
    _check_matrix(f.obj("matrix"))
    _check_cpu_plan(f.obj("cpu_plan"))
    for port in f.obj("ports").data:
        f.obj("ports").integer(port)
    f.optional_text("started_at")
    f.optional_text("finished_at")
    f.optional_integer("trial_order_seed")
    f.numbers("load_average_at_start")
    f.numbers("load_average_at_end")
    _check_metadata(f.obj("metadata"))
    _check_cpu_plan_hosts(f.obj("cpu_plan_hosts"))
    _check_distributed(f.obj("distributed"))
    _check_calibration(f.obj("calibration"))
    lanes = f.obj(CALIBRATION_HOSTS)
    for name, entry in lanes.data.items():
        if not isinstance(entry, dict):  # ``obj`` would read a null as empty, and the lane would vanish
            raise lanes.bad(name, "an object")
        _check_calibration(lanes.obj(name))
    _check_timings(f.obj("timings"))
    _check_reproduces(f.obj("reproduces"))
    return data


def _check_matrix(f: Fields) -> None:
    for key in ("name", "description", "server_memory", "reference", "hosts"):
        f.optional_text(key)
    f.strings("modes")
    f.strings("workloads")
    f.integers("users", required=True)
    f.integers("arrival_rates")
    for key in ("duration_s", "warmup_s", "request_timeout_s", "reference_duration_s", "precision"):
        f.optional_number(key)
    if f.data.get("trials") != AUTO_TRIALS:
        f.optional_integer("trials")
    for key in ("server_cpus", "loadgen_processes", "max_trials"):
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
    """``cpu_plan_hosts`` (``HostsPlan.as_dict``): each host's cores by role, its workers, the warnings."""
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
    f.optional_text("limited_by")
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


def load_run(root: Path) -> Run:
    """Read and check a run folder; one clear error naming the first bad file."""
    folder = RunFolder(root)
    meta = read_run_meta(folder)
    cells = tuple(Cell(path, record) for path, record in folder.read_cell_files())
    return Run(root, meta, cells)
