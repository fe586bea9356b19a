"""The comparison of two runs as the terminal shows it: one block per workload, regressions marked."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.compare import NOT_IN_BOTH, Comparison
from servingmatrix.analysis.points import Point
from servingmatrix.flags import BESIDE_FIGURE, letters


def _letters(point: Point | None) -> str:
    return letters(point.flags) if point else ""


def terminal_table(comparison: Comparison) -> str:
    """The comparison as the terminal shows it: one block per workload, regressions marked."""
    b, r = comparison.baseline.run, comparison.run.run
    threshold = fmt.share(comparison.threshold)
    lines = [f"baseline {b.name} ({b.root})  vs  run {r.name} ({r.root}); threshold {threshold}"]
    if comparison.differences:
        lines.append("WARNING: these runs differ; their figures are not comparable as they are:")
        lines += [f"  - {d}" for d in comparison.differences]
    lines += [f"note: {m}" for m in comparison.missing]
    width = max((len(c.mode) for c in comparison.changes), default=10)
    header = (
        f"  {'mode'.ljust(width)} {'users':>5} {'base req/s':>11} {'req/s':>9} {'change':>17}"
        f" {'base p99':>9} {'p99':>8} {'change':>17}  {'flags':<7} verdict"
    )
    workload = None
    for c in comparison.changes:
        if c.workload != workload:
            workload = c.workload
            lines += ["", workload, header]
        flags = f"{_letters(c.base)}>{_letters(c.new)}" if _letters(c.base) or _letters(c.new) else ""
        qualified = f" ({'; '.join(c.qualifiers)})" if c.qualifiers else ""
        verdict = f"REGRESSION{qualified}: " + "; ".join(c.problems) if c.regressed else c.status
        figures = (
            f"{_rps(c.base):>11} {_rps(c.new):>9} {fmt.change(c.throughput):>17}"
            f" {_p99(c.base):>9} {_p99(c.new):>8} {fmt.change(c.p99):>17}"
        )
        lines.append(f"  {c.mode.ljust(width)} {c.users:>5} {figures}  {flags:<7} {verdict}")
    lines += [
        "",
        _legend(comparison) + "change: median, ± half the 95% interval (none: a single trial)",
        summary_line(comparison),
    ]
    return "\n".join(lines) + "\n"


def _rps(point: Point | None) -> str:
    if point is None:
        return "—"
    if point.throughput:
        return fmt.rps(point.throughput.median)
    return "disturbed" if point.disturbed else "failed"


def _p99(point: Point | None) -> str:
    if point is None:
        return "—"
    if point.ok:
        return fmt.ms(point.p99)
    return "disturbed" if point.disturbed else "failed"


def _legend(comparison: Comparison) -> str:
    """The flags the table letters, those only: "flags (baseline>run): T CPU throttled; "."""
    carried = {f.code for c in comparison.changes for _, f in c.flags}
    shown = [f"{k.letter} {k.title}" for k in BESIDE_FIGURE if k.code in carried]
    return f"flags (baseline>run): {', '.join(shown)}; " if shown else ""


def summary_line(comparison: Comparison) -> str:
    """The regressions among the cells in both runs, and the cells that are not, counted apart."""
    threshold = fmt.share(comparison.threshold)
    both = len(comparison.in_both)
    line = f"{len(comparison.regressions)} regression(s) beyond {threshold} in {both} cells in both runs"
    if not comparison.comparable and comparison.regressions:
        line += " (the runs are not comparable: see the warning)"
    apart = comparison.not_in_both
    if apart:
        unmeasured = len(comparison.unmeasured)
        line += f"; {len(apart)} cell(s) {NOT_IN_BOTH}, not compared"
        if unmeasured:
            line += f" ({unmeasured} of the baseline's not measured in the run)"
    return line


def gate_line(comparison: Comparison) -> str:
    """Why ``--fail-on-regression`` fails, in one line: the regressions, and apart from them the
    baseline's cells the run did not measure (not in both runs, which a gate must not pass)."""
    parts = []
    if comparison.regressions:
        parts.append(f"{len(comparison.regressions)} regression(s) beyond {fmt.share(comparison.threshold)}")
    unmeasured = comparison.unmeasured
    if unmeasured:
        parts.append(f"{len(unmeasured)} cell(s) of the baseline {NOT_IN_BOTH}: not measured in the run")
    return "; ".join(parts)
