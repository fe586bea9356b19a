"""A run read back for reporting: its run.json and its cells, each checked and typed.

Anything malformed is refused with one line naming the file, never a traceback: a truncated or
hand-edited result must not turn into a wrong chart. run.json is read through ``RunRecord``
(``results/run_record.py``), each cell through ``CellRecord`` (``results/cell.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix import fmt
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.hosts import (
    ONE_MACHINE,
    RunHost,
    method,
    method_line,
    run_hosts,
)
from servingmatrix.results.run_record import RunRecord


@dataclass(frozen=True)
class CellFile:
    """One cell of a run: its record and the file it came from (a bundle or a baseline copies it)."""

    path: Path
    record: CellRecord


@dataclass(frozen=True)
class Run:
    root: Path
    record: RunRecord
    cells: tuple[CellFile, ...]

    @property
    def name(self) -> str:
        return str(self.matrix.get("name") or self.root.name)

    @property
    def matrix(self) -> dict[str, Any]:
        return dict(self.record.matrix)

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.record.metadata)

    @property
    def cpu_plan(self) -> dict[str, Any]:
        return dict(self.record.cpu_plan)

    @property
    def server_cpus(self) -> int:
        value = self.matrix.get("server_cpus")
        return value if isinstance(value, int) and value > 0 else 1

    @property
    def budget(self) -> str:
        """What the server under test was given, in words: "server 1 CPU, 2 GiB" (its memory as the
        matrix recorded it; left out when it recorded none)."""
        cpus = f"server {self.server_cpus} CPU{'' if self.server_cpus == 1 else 's'}"
        memory = self.matrix.get("server_memory")
        return f"{cpus}, {fmt.memory_limit(memory)}" if isinstance(memory, str) else cpus

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
    def arrivals(self) -> str:
        """How an open loop's arrivals were spaced; a run that predates the key spaced them evenly."""
        value = self.matrix.get("arrivals")
        return value if isinstance(value, str) and value else "uniform"

    @property
    def arrival_seed(self) -> int | None:
        """The seed of poisson arrivals (None when they were evenly spaced, or it was not recorded)."""
        value = self.matrix.get("arrival_seed")
        if self.arrivals == "uniform" or isinstance(value, bool) or not isinstance(value, int):
            return None
        return value

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
        return (
            self.machine
            if self.method == ONE_MACHINE
            else f"{self.machine}; {method_line(self.record.as_json())}"
        )

    @property
    def method(self) -> str:
        """``one machine``, ``simulated (one kernel)`` or ``N hosts`` (``results.hosts.method``)."""
        return method(self.record.as_json())

    @property
    def hosts(self) -> tuple[RunHost, ...]:
        """The hosts of a run with an inventory, in its order; empty on one machine."""
        return run_hosts(self.record.as_json())

    @property
    def lane_calibrations(self) -> dict[str, dict[str, Any]]:
        """A fleet's calibrations by server host, each lane's load hosts against its own host (empty
        otherwise: ``calibration`` is the run's one)."""
        return dict(self.record.calibration_hosts or {})

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The load generator's calibration as run.json holds it (figures, or an error); None before it."""
        return self.record.calibration


def load_run(root: Path) -> Run:
    """Read and check a run folder; one clear error naming the first bad file."""
    folder = RunFolder(root)
    record = folder.read_run()
    cells = tuple(CellFile(path, record) for path, record in folder.read_cell_files())
    return Run(root, record, cells)
