"""Measuring a published run again: its matrix, read from its bundle, run anew with its images built
from the bundle's inputs."""

from __future__ import annotations

from pathlib import Path

from servingmatrix.flags import QUIET_WAIT_S
from servingmatrix.matrix import matrix_from_record
from servingmatrix.paths import project_root
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.unbundle import OpenedBundle
from servingmatrix.run.measure_matrix import RunSettings, measure
from servingmatrix.say import Say


def reproduce_bundle(
    bundle: Path, opened: OpenedBundle, out: Path | None, say: Say, quiet_wait_s: float = QUIET_WAIT_S
) -> Path:
    """Measure the bundle's matrix anew into ``out`` (default: reports/runs/<run>-reproduced), its
    images built from the bundle's inputs, after a wait of at most ``quiet_wait_s`` for quiet cores;
    return the run folder."""
    published = RunFolder(opened.run_dir).read_run()
    matrix = matrix_from_record(f"{bundle}: run/run.json: matrix", published.matrix)
    info = opened.info
    out = out or project_root() / "reports" / "runs" / f"{info.run_id}-reproduced"
    if not info.inputs.from_commit:
        say(f"warning: the bundle's image inputs are {info.inputs.describe()}")
    reproduces = {
        "bundle": str(bundle),
        "run_id": info.run_id,
        "commit": info.commit,
        "inputs": info.inputs.source,
    }
    # Calibrated as the published run was: a run measured without a calibration is reproduced without.
    calibrated = published.calibration is not None
    measure(
        matrix,
        out,
        say,
        RunSettings(calibrate=calibrated, reproduces=reproduces, quiet_wait_s=quiet_wait_s),
        opened.inputs_dir,
    )
    return out
