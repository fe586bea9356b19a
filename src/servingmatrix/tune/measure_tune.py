"""Measuring a tune for real: what ``servingmatrix tune`` does once its request is checked. The images
of the modes searched are built (those of the app tuned), then the search runs with the prober that
drives the runner, each probe a run of its own under the tune's folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from servingmatrix.engine.docker import Docker
from servingmatrix.flags import QUIET_WAIT_S
from servingmatrix.run.measure_matrix import RunSettings, build_for
from servingmatrix.say import Say
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.result_file import TuneResult
from servingmatrix.tune.runner_prober import RunnerProber, probe_matrix
from servingmatrix.tune.tune import search_space, tune


def measure_tune(request: TuneRequest, out: Path, say: Say) -> TuneResult:
    """Build what the request's modes need, then tune into ``out``."""
    space = search_space(request)
    docker = Docker()
    docker.ping()
    defaults = [space.folk_default(m.mode.name) for m in space.modes]
    # The matrix of every mode's first probe: what the build reads (the modes and the app).
    needed = replace(probe_matrix(request, defaults[0], 1, 1), modes=tuple(c.spec for c in defaults))
    build_for(docker, needed, say)
    say(f"tune into {out}: {space.size} configurations of {len(space.modes)} modes, {request.workload}")
    # Each probe waits for quiet cores before it calibrates or measures, as a run does; not for the load
    # average, which is the last probe's own.
    settings = RunSettings(quiet_wait_s=QUIET_WAIT_S, wait_for_load=False)
    prober = RunnerProber(docker, request, out, say, settings)
    return tune(request, prober, out, say)
