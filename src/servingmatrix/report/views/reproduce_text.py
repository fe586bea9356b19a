"""A reproduction as the terminal shows it: one block per workload, each cell's verdict and why."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.reproduction import DIFFERS, REPRODUCED, Reproduction
from servingmatrix.report.views.reproduce_view import Source, letters, p99, tally, throughput, tolerance_text


def terminal_table(reproduction: Reproduction, source: Source) -> str:
    run = reproduction.reproduction
    lines = [f"reproducing {source.describe()}", f"reproduction: {run.root}"]
    if reproduction.differences:
        lines.append("NOT COMPARABLE: the runs were not measured alike:")
        lines += [f"  - {d}" for d in reproduction.differences]
    lines += [f"note: {n}" for n in reproduction.notes]
    width = max((len(c.change.mode) for c in reproduction.cells), default=10)
    step = reproduction.comparison.run.step_label
    header = (
        f"  {'mode'.ljust(width)} {step:>5} {'published':>10} {'req/s':>9} {'change':>17}"
        f" {'pub. p99':>9} {'p99':>8} {'change':>17}  {'flags':<7} verdict"
    )
    workload = None
    for cell in reproduction.cells:
        c = cell.change
        if c.workload != workload:
            workload = c.workload
            lines += ["", workload, header]
        marks = f"{letters(c.base)}>{letters(c.new)}" if letters(c.base) or letters(c.new) else ""
        verdict = cell.status.upper() if cell.status == DIFFERS else cell.status
        verdict += "" if cell.status == REPRODUCED else f": {cell.why}"
        figures = (
            f"{throughput(c.base):>10} {throughput(c.new):>9} {fmt.change(c.throughput):>17}"
            f" {p99(c.base):>9} {p99(c.new):>8} {fmt.change(c.p99):>17}"
        )
        lines.append(f"  {c.mode.ljust(width)} {c.users:>5} {figures}  {marks:<7} {verdict}")
    lines += ["", tolerance_text(), tally(reproduction)]
    return "\n".join(lines) + "\n"
