"""Every check a run can make before it builds an image or touches a container.

A cold build takes minutes and a run removes dead runs' containers first: a refusal that comes after
either costs the user that time for nothing. So the CPU plan and the output folder are checked here,
from the matrix and the command line alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.matrix import Matrix
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.run import read_run_meta
from servingmatrix.run.plan.cpuplan import CpuPlan, plan_cpus
from servingmatrix.run.plan.hostplan import HostsPlan, plan_hosts


def check_out(out: Path, matrix: Matrix, force: bool) -> None:
    """The run folder can take this matrix's cells: not a file, and not another matrix's run."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file; give a folder (new, or a run of the same matrix to resume)")
    folder = RunFolder(out)
    if folder.exists():
        check_same_matrix(out, read_run_meta(folder).get("matrix"), matrix, force)


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


def check_hosts(matrix: Matrix) -> HostsPlan | None:
    """The plan of every host of the matrix's inventory (its file checked, a server budget a host
    cannot give refused); None without an inventory."""
    inventory = matrix.inventory
    if inventory is None:
        return None
    return plan_hosts(inventory, matrix.server_cpus, matrix.server_memory, matrix.loadgen_processes)


def preflight(matrix: Matrix, out: Path, force: bool) -> CpuPlan | HostsPlan:
    """Everything checkable before Docker is touched; returns the CPU plan, of every host of the
    matrix's inventory when it has one (this machine's cores then are not the run's)."""
    plan = check_hosts(matrix) or check_plan(matrix)
    check_out(out, matrix, force)
    return plan
