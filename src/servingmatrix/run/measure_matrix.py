"""Measuring a matrix: what ``servingmatrix run`` does, and a reproduction after it has unpacked a bundle.

Every check that needs no engine comes first (``preflight``), then an inventory's engines are pinged,
then the images the matrix's modes need are built (from a bundle's inputs when given), and only then
is the runner made, with the stacks and checks of the app it measures, and run.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import Docker
from servingmatrix.flags import QUIET_WAIT_S
from servingmatrix.matrix import Matrix
from servingmatrix.paths import cache_dir, inputs_from
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.plan.hostplan import InventoryPlan
from servingmatrix.run.plan.preflight import preflight
from servingmatrix.run.runner import Runner
from servingmatrix.run.stack.app_stack import app_conformance, stack_factory
from servingmatrix.run.stack.conformance import check_server
from servingmatrix.run.stack.stack import Stack
from servingmatrix.say import Say


@dataclass(frozen=True)
class RunSettings:
    """How a matrix is measured, beside the matrix itself: ``run``'s options, or a reproduction's."""

    #: Measure again the cells already on disk.
    force: bool = False
    keep_samples: bool = False
    #: Calibrate the load generator first (a kept calibration of the same machine, images and plan is
    #: reused, unless ``recalibrate``).
    calibrate: bool = True
    recalibrate: bool = False
    #: The published run this one measures again, recorded in run.json.
    reproduces: dict[str, Any] | None = None
    #: How long to wait at most, after the build, for the plan's cores to be quiet before calibrating.
    quiet_wait_s: float = QUIET_WAIT_S
    #: ... and for the 1-minute load average to be within ``machine-busy``'s threshold.
    wait_for_load: bool = True


def new_runner(docker: Docker, matrix: Matrix, folder: RunFolder, say: Say, settings: RunSettings) -> Runner:
    """The runner of ``matrix``, made with its collaborators: a user's app's stacks (seeded) and its
    declared requests as the check, or the bundled app's; calibrations kept for the next run."""
    app = matrix.user_app
    return Runner(
        docker,
        matrix,
        folder,
        say,
        force=settings.force,
        keep_samples=settings.keep_samples,
        calibrate=settings.calibrate,
        calibrations=cache_dir() / "calibration",
        recalibrate=settings.recalibrate,
        reproduces=settings.reproduces,
        quiet_wait_s=settings.quiet_wait_s,
        wait_for_load=settings.wait_for_load,
        new_stack=Stack if app is None else stack_factory(app),
        conformance=check_server if app is None else app_conformance(app),
    )


def build_for(docker: Docker, matrix: Matrix, say: Say) -> None:
    """Build the images the matrix's modes need: the bundled app's, or its user app's."""
    from servingmatrix.building.app_images import build_app_images
    from servingmatrix.building.images import build_images

    needed = sorted({c.mode.name for c in matrix.mode_configs()})
    if matrix.user_app is not None:
        build_app_images(docker, matrix.user_app, needed, say)
    else:
        build_images(docker, needed, say)


def describe(matrix: Matrix, out: Path) -> str:
    """The line a run starts with: what it measures, and where it writes."""
    app = matrix.user_app
    steps = f"{len(matrix.steps)} arrival rates" if matrix.open_loop else f"{len(matrix.steps)} user levels"
    of_app = f" of the app {app.name}" if app is not None else ""
    trials = (
        f"{matrix.first_trials} to {matrix.max_trials} trials (until ±{matrix.precision:.1%})"
        if matrix.auto_trials
        else f"{matrix.trials} trials"
    )
    return (
        f"run {matrix.name}{of_app}: {len(matrix.modes)} modes x {len(matrix.workloads)} workloads x "
        f"{steps} x {trials}, into {out}"
    )


def measure(
    matrix: Matrix, out: Path, say: Say, settings: RunSettings, inputs: Path | None = None
) -> RunFolder:
    """Check, build what the matrix needs (from ``inputs`` when given), and run it into ``out``."""
    plan = preflight(matrix, out, settings.force)
    docker = Docker()
    if matrix.inventory is not None:
        from servingmatrix.hosts.engines import check_engines, connect_engine

        # Before anything is built: an engine that does not answer is named now, not minutes in.
        check_engines(matrix.inventory, connect_engine)
    folder = RunFolder(out)
    with inputs_from(inputs) if inputs is not None else nullcontext():
        build_for(docker, matrix, say)
        say(describe(matrix, out))
        if isinstance(plan, InventoryPlan):
            for line in [*plan.describe(), *(f"warning: {text}" for text in plan.warnings)]:
                say(line)
        new_runner(docker, matrix, folder, say, settings).run()
    return folder
