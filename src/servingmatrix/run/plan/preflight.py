"""Every check a run can make before it builds an image or touches a container.

A cold build takes minutes and a run removes dead runs' containers first: a refusal that comes after
either costs the user that time for nothing. So the CPU plan and the output folder are checked here,
from the matrix and the command line alone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.inputs.input_files import node_kind
from servingmatrix.inputs.user_paths import kernel_root, unusable
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import CELLS_DIR, RUN_FILE, RunFolder
from servingmatrix.run.plan.cpuplan import CpuPlan, plan_cpus
from servingmatrix.run.plan.hostplan import InventoryPlan, plan_hosts
from servingmatrix.spec import shown

NEW_OR_RESUMED = "give a folder (new, or a run of the same matrix to resume)"


def check_out(out: Path, matrix: Matrix, force: bool) -> None:
    """The run folder can take this matrix's cells: a folder of its own (not a file, not under a
    kernel's file system, not inside a run's ``cells/``), and not another matrix's run."""
    check_out_place(out)
    if out.exists() and not out.is_dir():
        mode = out.stat().st_mode
        kind = "a file" if stat.S_ISREG(mode) else node_kind(mode)
        raise UserError(f"--out {out}: is {kind}; {NEW_OR_RESUMED}")
    folder = RunFolder(out)
    if folder.exists():
        check_same_matrix(out, folder.read_run().matrix, matrix, force)
        for path in folder.cell_paths():
            if path.is_dir():
                raise UserError(f"--out {out}: {path} is a folder where a cell is written; remove it")


def check_out_place(out: Path) -> None:
    """Where a run folder may be: its path one a file system can hold, under no kernel's file system,
    below no file, and inside no run's ``cells/`` (whose every file is read as a cell)."""
    problem = unusable(out)
    if problem is not None:
        raise UserError(f"--out {shown(str(out))}: {problem}; {NEW_OR_RESUMED}")
    root = kernel_root(out)
    if root is not None:
        raise UserError(
            f"--out {out}: is under {root}, the kernel's, not a folder for a run; {NEW_OR_RESUMED}"
        )
    resolved = out.resolve()
    for place in (resolved, *resolved.parents):
        if place.name == CELLS_DIR and (place.parent / RUN_FILE).exists():
            raise UserError(
                f"--out {out}: is inside the cells of the run {place.parent}, where every file is read as "
                f"a cell; {NEW_OR_RESUMED}"
            )
    existing = next(place for place in (resolved, *resolved.parents) if place.exists())
    if existing != resolved and not existing.is_dir():
        raise UserError(f"--out {out}: {existing} is a file, so no folder can be made under it")


def check_same_matrix(out: Path, recorded: object, matrix: Matrix, force: bool) -> None:
    """Refuse to measure ``matrix`` into a run of another one: its cells would mix in every export."""
    differences = matrix.differences(recorded if isinstance(recorded, dict) else {})
    if differences:
        hint = "" if force else "; --force redoes a run's cells, but only of the same matrix"
        raise UserError(
            f"--out {out}: holds a run of a different matrix ({'; '.join(differences[:2])}); choose "
            f"another --out, or remove that folder to measure this matrix there{hint}"
        )


def check_plan(matrix: Matrix) -> CpuPlan:
    """The CPU plan this machine gives the matrix (a server budget it cannot give is refused)."""
    return plan_cpus(
        sorted(os.sched_getaffinity(0)), matrix.server_cpus, matrix.server_memory, matrix.loadgen_processes
    )


def check_hosts(matrix: Matrix) -> InventoryPlan | None:
    """The plan of every host of the matrix's inventory (its file checked, a server budget a host
    cannot give refused); None without an inventory."""
    inventory = matrix.inventory
    if inventory is None:
        return None
    return plan_hosts(inventory, matrix.server_cpus, matrix.server_memory, matrix.loadgen_processes)


def preflight(matrix: Matrix, out: Path, force: bool) -> CpuPlan | InventoryPlan:
    """Everything checkable before Docker is touched; returns the CPU plan, of every host of the
    matrix's inventory when it has one (this machine's cores then are not the run's)."""
    plan = check_hosts(matrix) or check_plan(matrix)
    check_out(out, matrix, force)
    return plan
