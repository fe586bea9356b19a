"""The table of ``make bench-quiet``: the largest shares of other work a quiet machine showed in a run's
windows, and the threshold they give (the largest, half as much again, rounded up to a whole percent).

    .venv/bin/python bench/quiet.py reports/bench/quiet

A window measured again (above the threshold in force when the run was made) is counted: its first
reading is not in the cell, so a run with any is no quiet measurement, and the table says so.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from servingmatrix.errors import UserError
from servingmatrix.flags import DISTURBED_SHARE
from servingmatrix.results.folder import RunFolder

#: How many of the largest readings the table lists.
SHOWN = 8
#: The margin over the largest quiet reading.
MARGIN = 1.5


def readings(folder: RunFolder) -> list[tuple[float, str]]:
    """Every (share, where) a cell recorded: one per window and role whose cores were measured."""
    found: list[tuple[float, str]] = []
    for cell in folder.read_cells():
        for window, roles in cell.disturbance.items():
            for role, share in roles.items():
                if share is not None:
                    where = f"{cell.mode} x {cell.workload} @ {cell.users}, {window} window, {role} cores"
                    found.append((share, where))
    return sorted(found, reverse=True)


def threshold(largest: float) -> float:
    """The largest quiet reading with the margin, rounded up to a whole percent."""
    return math.ceil(round(largest * MARGIN * 100, 6)) / 100


def table(folder: RunFolder) -> str:
    found = readings(folder)
    if not found:
        raise UserError(f"{folder.root}: no cell recorded its windows' disturbance")
    again = sum(1 for cell in folder.read_cells() if cell.measured_again)
    lines = [
        f"{len(found)} readings; the largest {min(SHOWN, len(found))}:",
        "",
        "| share | where |",
        "| ---: | --- |",
        *(f"| {share:.1%} | {where} |" for share, where in found[:SHOWN]),
        "",
        f"threshold from them: {threshold(found[0][0]):.0%} (largest x {MARGIN}, rounded up); "
        f"declared: {DISTURBED_SHARE.value:.0%}",
    ]
    if again:
        lines.append(
            f"{again} cell(s) measured again (a window above {DISTURBED_SHARE.value:.0%}): "
            "not a quiet machine, or a threshold below its own residue"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the run folder of bench/quiet.yml")
    args = parser.parse_args(argv)
    try:
        print(table(RunFolder(args.run)))
    except UserError as error:
        print(f"quiet: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
