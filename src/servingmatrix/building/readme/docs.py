"""README sections rendered from the registries, so the documentation cannot drift from the code.

Each section sits between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` in README.md;
``servingmatrix generate`` rewrites them and a test checks they are current.
"""

from __future__ import annotations

import re

from servingmatrix.analysis.reproduction import P99_FLOOR_MS, P99_TOLERANCE, THROUGHPUT_TOLERANCE
from servingmatrix.building.readme.mutation_scores import mutated_modules, scores_table
from servingmatrix.flags import DISTURBED_SHARE, KINDS, QUIET_WAIT_S, REMEASURES, FlagKind, Judged, Shown
from servingmatrix.inputs import input_files
from servingmatrix.matrix_keys import MATRIX_KEYS, exclusive_pairs
from servingmatrix.methodology import DERIVED
from servingmatrix.metrics import METRICS
from servingmatrix.modes import MODES, Budget
from servingmatrix.workloads import MIX, WORKLOADS


def modes_table() -> str:
    lines = [
        "| mode | what it is | tunables: default (at 1 CPU) | why these defaults | folk claim | keep-alive |",
        "|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        values = mode.defaults(1)
        tunables = (
            "<br>".join(f"`{t.name}` = {t.default_doc} ({values[t.name]})" for t in mode.tunables) or "—"
        )
        lines.append(
            f"| `{mode.name}` | {mode.summary} | {tunables} | {mode.defaults_reason} | {mode.claim} | "
            f"{'yes' if mode.keeps_alive else 'no'} |"
        )
    lines += ["", "The command each mode runs, at 1 CPU:", "", "```"]
    for mode in MODES:
        lines.append(f"{mode.name:<20} {' '.join(mode.resolve({}, 1).launch('0.0.0.0', 8000).argv)}")
    lines.append("```")
    return "\n".join(lines)


def tune_space_table() -> str:
    """Where ``tune`` searches each mode's tunables: the bounds declared beside each tunable."""
    one, two = Budget(1, 2048), Budget(2, 4096)
    lines = [
        "| mode | searched by default | tunable: counts, bounds (at 1 CPU and 2g; at 2 CPUs and 4g) |",
        "|---|---|---|",
    ]
    for mode in MODES:
        tunables = "<br>".join(
            f"`{t.name}`: {t.search.counts}, {t.search.doc}"
            f"{', log scale' if t.search.log else ''} ({'..'.join(map(str, t.bounds(one)))}; "
            f"{'..'.join(map(str, t.bounds(two)))})"
            for t in mode.tunables
        )
        searched = "only when named" if mode.development else "yes"
        lines.append(f"| `{mode.name}` | {searched} | {tunables or '— (the mode alone)'} |")
    return "\n".join(lines)


def workloads_table() -> str:
    lines = ["| workload | what it does | parameters: default (allowed) |", "|---|---|---|"]
    for workload in WORKLOADS:
        params = "<br>".join(
            f"`{p.name}` = {p.default} ({p.low}..{p.high}): {p.help}" for p in workload.params
        )
        lines.append(f"| `{workload.name}` | {workload.summary} | {params or '—'} |")
    total = sum(e.weight for e in MIX)
    lines += [
        "",
        "The `mixed` workload's blend (weights written once, in `src/servingmatrix/workloads.py`):",
        "",
    ]
    lines += ["| request | share | path |", "|---|---|---|"]
    lines += [f"| {e.name} | {e.weight / total:.0%} | `{e.path}` |" for e in MIX]
    return "\n".join(lines)


def matrix_table() -> str:
    """Every key of a matrix file, with its ``run`` option, from the one list of keys."""
    lines = [
        "| key | option of `run` | what it is | allowed | default |",
        "|---|---|---|---|---|",
    ]
    for key in MATRIX_KEYS:
        option = f"`{key.flag}`" if key.flag else "—"
        lines.append(f"| `{key.yaml}` | {option} | {key.doc} | {key.allowed} | {key.default_shown} |")
    lines.append("")
    lines.append(
        "An option replaces the file's value. "
        + " ".join(
            f"`{key.yaml}` and `{other.yaml}` cannot both be given, in a file or as options; "
            f"given as an option, either replaces the other from the file."
            for key, other in exclusive_pairs()
        )
    )
    return "\n".join(lines)


def columns_table() -> str:
    lines = ["| column | meaning | unit |", "|---|---|---|"]
    lines += [f"| `{m.column}` | {m.doc} | {m.unit or '—'} |" for m in METRICS]
    return "\n".join(lines)


JUDGED_TEXT: dict[Judged, str] = {
    "run": "once, as the run begins; every cell carries it",
    "cell": "in each cell's measured window",
    "trials": "over the trials of a figure",
}
SHOWN_TEXT: dict[Shown, str] = {
    "figure": "beside the figure",
    "run": "once for the run, not beside each figure (in a report where not every figure carries it, "
    "beside those that do)",
}


def shown_text(k: FlagKind) -> str:
    """Where a flag shows, in words: a run's condition is said once when every figure carries it."""
    text = SHOWN_TEXT[k.shown]
    if k.judged == "run" and k.shown == "figure":
        text += (
            '; when every figure carries it, said once instead (the banner and each verdict\'s "how sure")'
        )
    if k.backing_only:
        text += "; only on the figures of workloads that call the backing services"
    return text


def flags_table() -> str:
    """Every flag with its rule, the thresholds the rule compares with and where it shows, from the
    flags' declarations: a changed threshold changes this table."""
    lines = [
        "| flag | letter | title | rule | thresholds | judged | shown |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in KINDS:
        thresholds = "<br>".join(f"`{name}`: {t} {t.unit}" for name, t in k.thresholds.items())
        lines.append(
            f"| `{k.code}` | {k.letter} | {k.title} | {k.meaning} | {thresholds or '—'} | "
            f"{JUDGED_TEXT[k.judged]} | {shown_text(k)} |"
        )
    return "\n".join(lines)


def disturbance_rule() -> str:
    """The disturbance rule's numbers, from their one declaration (``flags.py``)."""
    lines = ["| rule | value |", "|---|---|"]
    lines += [
        f"| a window is disturbed above | {DISTURBED_SHARE} {DISTURBED_SHARE.unit}, on any role's cores |",
        f"| a disturbed window's steps are measured again | at most {REMEASURES} times, then the cell is "
        "`disturbed` |",
        f"| `run` waits for quiet cores before calibrating | at most {QUIET_WAIT_S:g} s, then goes on with a "
        "warning |",
    ]
    return "\n".join(lines)


def reproduction_rule() -> str:
    """The tolerances ``reproduce`` judges a cell by, from their declaration (``analysis/reproduction``)."""
    lines = ["| figure | differs when it moved by more than |", "|---|---|"]
    lines += [
        f"| throughput | {THROUGHPUT_TOLERANCE:.0%}, beyond the noise of both runs |",
        f"| p99 | {P99_TOLERANCE:.0%} and {P99_FLOOR_MS:g} ms, beyond the noise of both runs |",
    ]
    return "\n".join(lines)


def report_rules() -> str:
    """The derived numbers, as the report itself explains them."""
    lines = ["| figure | how it is computed |", "|---|---|"]
    lines += [f"| {name} | {how} |" for name, how in DERIVED]
    return "\n".join(lines)


def mutation_table() -> str:
    """The mutation scores as ``make mutation`` wrote them, each marked stale once its module changed."""
    return scores_table(mutated_modules())


def inputs_table() -> str:
    """Every kind of file read from a user, where it comes from, and its bound."""
    lines = ["| file | what it is | at most |", "|---|---|---|"]
    lines += [
        f"| {kind.name} | {kind.source} | {input_files.size_text(kind.bound)} |" for kind in input_files.KINDS
    ]
    return "\n".join(lines)


SECTIONS = {
    "modes": modes_table,
    "workloads": workloads_table,
    "matrix": matrix_table,
    "columns": columns_table,
    "flags": flags_table,
    "disturbance": disturbance_rule,
    "reproduction": reproduction_rule,
    "report": report_rules,
    "mutation": mutation_table,
    "inputs": inputs_table,
    "tune-space": tune_space_table,
}


def render_readme(text: str) -> str:
    """``text`` with every generated section replaced by its current rendering."""
    for name, render in SECTIONS.items():
        text = _replace_section(text, name, render())
    return text


def _replace_section(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
