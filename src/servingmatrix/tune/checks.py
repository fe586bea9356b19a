"""Every check a tune can make before it builds an image or touches a container: its modes and their
given tunables, its workload and app, the CPU plan of its budget, and its folder (a new one, or a tune
of the same request to resume)."""

from __future__ import annotations

from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.results.folder import RUN_FILE
from servingmatrix.run.plan.preflight import check_out_place, check_plan
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.runner_prober import probe_matrix
from servingmatrix.tune.search import check_same_request
from servingmatrix.tune.space import SearchSpace
from servingmatrix.tune.tune import search_space


def check_tune(request: TuneRequest, out: Path) -> SearchSpace:
    """The request's search space, once everything checkable without an engine is checked."""
    space = search_space(request)
    if space.size == 0:
        raise UserError("--modes: the space holds no configuration")
    first = space.modes[0]
    # A probe's matrix of the first mode checks the workload against the app, as a run would.
    matrix = probe_matrix(request, space.folk_default(first.mode.name), 1, 1)
    check_plan(matrix)
    check_out_place(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is not a folder; give a new folder, or a tune's to resume it")
    if (out / RUN_FILE).exists():
        raise UserError(f"--out {out}: holds a run, not a tune; give a new folder, or a tune's to resume it")
    check_same_request(out, request)
    return space
