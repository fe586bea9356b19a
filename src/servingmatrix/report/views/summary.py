"""A plain-text summary of a run: its method, and throughput per mode and step, with every flag beside
its figure. A run on simulated hosts says so, and why its figures are not those of separate machines.

The figure is the registry's ``cell_throughput_median`` as it formats it, the ``V`` its ``noisy``.
"""

from __future__ import annotations

from collections import defaultdict

from servingmatrix.analysis.rows import trials
from servingmatrix.analysis.trials import fold
from servingmatrix.flags import BESIDE_FIGURE, ONCE_PER_RUN, RUN_CONDITIONS, kind, letters
from servingmatrix.metrics import Trial, metric
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.hosts import SIMULATED, SIMULATED_CAVEAT, method, method_line
from servingmatrix.user_app import AppIdentity

#: What each figure of the grid is, and whether its trials disagree.
FIGURE = metric("cell_throughput_median")
#: The reference generator's figure and Locust's share of it, shown under the grid when measured.
REFERENCE = metric("reference_rps")
EFFICIENCY = metric("generator_efficiency")
SUCCEEDED = metric("cell_trials")
NOISY_FIGURE = metric("noisy")

#: The flags a cell's record holds that show beside a figure, lettered as in the report; those said
#: once for the run are noted once instead, and those judged over the trials the records do not hold.
RECORDED = tuple(k for k in BESIDE_FIGURE if k.judged != "trials")
#: The trials disagree: computed here, as the report does.
NOISY = "high-variance"
#: Flags counted on the last line: the two that say a figure may not be the server's own
#: (``loadgen-saturated`` is what results before ``generator-bound`` carry).
COUNTED = {"generator-bound": "generator-bound", "loadgen-saturated": "generator-bound", NOISY: NOISY}


def summarize(folder: RunFolder) -> str:
    run = folder.read_run()
    matrix = run.matrix
    rates = matrix.get("arrival_rates")
    steps = rates if isinstance(rates, list) and rates else matrix["users"]
    every = trials(folder)
    grid: dict[tuple[str, str], dict[int, list[Trial]]] = defaultdict(lambda: defaultdict(list))
    for trial in every:
        grid[(trial.record.workload, trial.record.mode)][trial.record.users].append(trial)
    legend = [*(f"{k.letter}={k.code}" for k in RECORDED), f"{kind(NOISY).letter}=noisy"]
    what = "offered req/s" if steps is rates else "users"
    as_written = run.as_json()
    lines = [
        f"app: {AppIdentity.from_metadata(run.metadata).describe()}",
        f"method: {method_line(as_written)}",
        *([f"simulated: {SIMULATED_CAVEAT}"] if method(as_written) == SIMULATED else []),
        f"throughput, requests/s (median of trials) by {what}; flags: {', '.join(legend)}",
    ]
    said_once = run_wide(every)
    width = max((len(mode) for _, mode in grid), default=10)
    counts: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    figures = 0
    for workload in sorted({w for w, _ in grid}):
        lines.append("")
        lines.append(f"{workload}")
        lines.append("  " + "mode".ljust(width) + "".join(f"{u:>14}" for u in steps))
        for (w, mode), by_step in sorted(grid.items()):
            if w != workload:
                continue
            row = "  " + mode.ljust(width)
            for u in steps:
                text, codes = _figure(by_step.get(u, []), said_once)
                row += f"{text:>14}"
                figures += text not in ("-", "failed", "disturbed")
                for code in codes & set(COUNTED):
                    counts[COUNTED[code]].add((workload, mode, u))
            lines.append(row)
        lines += _reference_rows(workload, grid, steps, width)
    notes = sorted({w.message for t in every for w in t.record.warnings if w.code in said_once})
    lines += ["", *(f"note: {n}" for n in notes)]
    if figures:
        lines.append(
            f"flagged: {len(counts['generator-bound'])} generator-bound (G or S), "
            f"{len(counts[NOISY])} noisy (V) of {figures} figures"
        )
    return "\n".join(lines).rstrip() + "\n"


def _reference_rows(
    workload: str, grid: dict[tuple[str, str], dict[int, list[Trial]]], steps: list[int], width: int
) -> list[str]:
    """Per mode, the reference generator's req/s against the same server and Locust's share of it."""
    rows = []
    for (w, mode), by_step in sorted(grid.items()):
        if w != workload:
            continue
        texts = [_reference(by_step.get(u, [])) for u in steps]
        if any(t != "-" for t in texts):
            rows.append("  " + mode.ljust(width) + "".join(f"{t:>14}" for t in texts))
    if not rows:
        return []
    bound = kind("generator-bound")
    below = f"below {bound.thresholds['efficiency']} is {bound.letter}"
    return [f"  wrk req/s against the same server (Locust's share; {below}):", *rows]


def _reference(cell: list[Trial]) -> str:
    """The reference's throughput over the trials, with Locust's share, each folded as declared."""
    records = tuple(t.record for t in cell)
    figure = fold(REFERENCE, records)
    if figure is None:
        return "-"
    share = fold(EFFICIENCY, records)
    return REFERENCE.format(figure) + ("" if share is None else f" ({EFFICIENCY.format(share)})")


def run_wide(every: list[Trial]) -> frozenset[str]:
    """The flags noted once rather than lettered: those shown once for the run, and the run's
    conditions (the machine busy as it began) when every measured trial carries them, as the report
    says them."""
    ok = [{w.code for w in t.record.warnings} for t in every if t.record.ok]
    carried = {code for code in RUN_CONDITIONS if ok and all(code in codes for codes in ok)}
    return ONCE_PER_RUN | carried


def _figure(cell: list[Trial], said_once: frozenset[str] = ONCE_PER_RUN) -> tuple[str, set[str]]:
    """The median throughput of a cell's trials with its flags' letters, and the flags' codes."""
    if not cell:
        return "-", set()
    if not SUCCEEDED.read(cell[0]):
        # Disturbed (measured, but with other work on the plan's cores) is not failed: said as it is.
        disturbed = all(t.record.status == "disturbed" for t in cell)
        return "disturbed" if disturbed else "failed", set()
    codes = {w.code for t in cell if t.record.ok for w in t.record.warnings}
    if NOISY_FIGURE.read(cell[0]):
        codes.add(NOISY)
    marks = letters(codes, said_once=said_once)
    return f"{FIGURE.text(cell[0])}{'' if not marks else ' ' + marks}", codes
