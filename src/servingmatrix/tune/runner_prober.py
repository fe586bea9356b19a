"""The ``Prober`` that measures for real: each probe is a run of a one-mode, one-workload, one-rate
open-loop matrix (Poisson arrivals unless asked otherwise), measured by the runner into a run folder
of its own under the tune's ``probes/``.

A probe's folder is named after its configuration, rate and trial, so a tune that resumes finds the
probes it already measured on disk, and the runner reads them back instead of measuring them again.
The load generator's calibration is kept and reused across probes (it depends on the machine and the
plan, which every probe shares). Each probe draws its own arrivals, from the tune's seed and its
configuration, rate and trial, so repeated trials at one rate are independent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.engine.docker import Docker
from servingmatrix.matrix import COMMAND_LINE, Matrix
from servingmatrix.matrix_keys import MAX_ARRIVAL_SEED
from servingmatrix.modes import ModeConfig
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.measure_matrix import RunSettings, new_runner
from servingmatrix.run.plan.preflight import check_out
from servingmatrix.run.runner import Runner
from servingmatrix.say import Say
from servingmatrix.tune.probe import ProbeResult
from servingmatrix.tune.request import TuneRequest

PROBES_DIR = "probes"


def probe_seed(seed: int, spec: str, rate: int, repeat: int) -> int:
    """The arrival seed of one probe: the tune's seed with its configuration, rate and trial."""
    digest = hashlib.sha256(f"{seed}|{spec}|{rate}|{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (MAX_ARRIVAL_SEED + 1)


def probe_matrix(request: TuneRequest, config: ModeConfig, rate: int, repeat: int) -> Matrix:
    """The matrix of one probe: the configuration, the workload, one arrival rate, one trial."""
    return Matrix(
        name="probe",
        modes=(config.spec,),
        workloads=(request.workload,),
        arrival_rates=(rate,),
        arrivals=request.arrivals,
        arrival_seed=probe_seed(request.seed, config.spec, rate, repeat),
        duration_s=request.probe_s,
        warmup_s=request.probe_warmup_s,
        trials=1,
        server_cpus=request.server_cpus,
        server_memory=request.server_memory,
        reference="none",
        app=request.app,
        description=f"tune probe: {config.spec} at {rate} req/s, trial {repeat}",
    ).check(COMMAND_LINE)


def probe_folder(root: Path, spec: str, rate: int, repeat: int) -> Path:
    """``probes/<configuration>-r<rate>-t<trial>`` under the tune's folder."""
    readable = re.sub(r"[^a-z0-9]+", "-", spec.lower()).strip("-")
    return root / PROBES_DIR / f"{readable}-r{rate}-t{repeat}"


def probe_result(cell: CellRecord, rate: int, repeat: int) -> ProbeResult:
    """What a probe's cell says, as the search reads it."""
    bound = bool(cell.loadgen.bound) if cell.ok else False
    reason = cell.reason
    if bound:
        reason = next((w.message for w in cell.warnings if w.code == "generator-bound"), reason)
    return ProbeResult(
        cell.mode,
        rate,
        repeat,
        cell.status,
        cell.latency_ms.p99,
        cell.error_rate,
        cell.throughput_rps,
        bound,
        cell.server.mem_mb,
        reason,
    )


@dataclass
class RunnerProber:
    """Probes by running the runner on one-rate open-loop matrices."""

    docker: Docker
    request: TuneRequest
    root: Path
    say: Say
    settings: RunSettings
    #: Makes the runner of one probe's matrix and folder (the unit tests give one with fake stacks);
    #: None: ``run``'s, with the app's stacks and checks.
    runner_for: Callable[[Matrix, RunFolder], Runner] | None = None

    def runner(self, matrix: Matrix, folder: RunFolder) -> Runner:
        if self.runner_for is not None:
            return self.runner_for(matrix, folder)
        return new_runner(self.docker, matrix, folder, _quiet(self.say), self.settings)

    def probe(self, config: ModeConfig, rate: int, repeat: int) -> ProbeResult:
        matrix = probe_matrix(self.request, config, rate, repeat)
        out = probe_folder(self.root, config.spec, rate, repeat)
        check_out(out, matrix, force=False)
        folder = RunFolder(out)
        self.runner(matrix, folder).run()
        cells = [c for c in folder.read_cells() if c.users == rate]
        if not cells:
            return ProbeResult(config.spec, rate, repeat, "failed", reason="the probe recorded no cell")
        result = probe_result(cells[0], rate, repeat)
        self.say(
            f"    {rate} req/s (trial {repeat}): p99 "
            f"{'-' if result.p99_ms is None else f'{result.p99_ms:.0f} ms'}, "
            f"{(result.error_rate or 0):.1%} errors{', generator-bound' if result.generator_bound else ''}"
        )
        return result


def _quiet(say: Say) -> Say:
    """The runner's lines, but its per-session progress: a probe says its own line."""

    def said(line: str) -> None:
        if line.startswith(("warning:", "calibrating", "waiting", "the cores", "removed")):
            say(f"    {line}")

    return said
