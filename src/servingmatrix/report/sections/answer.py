"""The first screen's answers for the person choosing how to serve the app: the budget the modes were
measured on, the command to deploy each workload's winner, what a margin owes to a mode's
properties (keep-alive), where a development server ranks, and how to reproduce the run."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from servingmatrix import fmt
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.verdict import Verdict, is_development, keeps_alive
from servingmatrix.deployment import deployment
from servingmatrix.errors import SpecError
from servingmatrix.modes import resolve_mode
from servingmatrix.report.document import Code, Heading, Inline, Paragraph, Section, Strong
from servingmatrix.report.sections.common import rps
from servingmatrix.results.run import Run
from servingmatrix.user_app.identity import recorded_target

#: Said beside a development server wherever it ranks.
DEVELOPMENT = "development server, not for production"


def _role(plan: dict[str, object], role: str) -> tuple[str, str] | None:
    """A role's CPUs and cores as planned: ("1 CPU", "core 0"), or None when the plan lacks it."""
    entry = plan.get(role)
    if not isinstance(entry, dict):
        return None
    cpus, cpuset = entry.get("cpus"), entry.get("cpuset")
    count = f"{cpus:g} CPU" if isinstance(cpus, int | float) else "? CPU"
    count += "" if count.startswith("1 ") else "s"
    where = f"core{'s' if isinstance(cpuset, str) and ('-' in cpuset or ',' in cpuset) else ''} {cpuset}"
    return count, where if cpuset is not None else "cores not recorded"


def applied_memory(run: Run, role: str) -> str | None:
    """A role's memory limit as Docker applied it (read back for the first cell that has it)."""
    for cell in run.cells:
        limits = cell.record.cpu_plan_applied.get(role)
        if limits is not None and limits.memory_bytes:
            return fmt.memory_bytes(limits.memory_bytes)
    return None


def server_memory(run: Run) -> str:
    """The server's memory limit: as Docker applied it, else as the matrix asked."""
    applied = applied_memory(run, "server")
    if applied is not None:
        return applied
    asked = run.matrix.get("server_memory")
    return fmt.memory_limit(asked) if isinstance(asked, str) else "no memory limit recorded"


def budget_paragraph(results: Results) -> Paragraph:
    """What every mode was given to serve with, and the generator beside it; the host named as such."""
    run = results.run
    plan = run.cpu_plan
    server = _role(plan, "server")
    if server is None:
        cpus = f"{run.server_cpus} CPU{'' if run.server_cpus == 1 else 's'}"
        where = "each host's cores in the hosts table" if run.hosts else "cores not recorded"
        server_text = f"{cpus} ({where})"
    else:
        server_text = f"{server[0]} ({server[1]})"
    text = f": each mode's server had {server_text} and {server_memory(run)} of memory"
    loadgen = _role(plan, "loadgen")
    if loadgen is not None:
        processes = plan.get("loadgen_processes") or run.matrix.get("loadgen_processes")
        count = f", {processes} Locust process{'' if processes == 1 else 'es'}" if processes else ""
        memory = applied_memory(run, "loadgen")
        text += f"; the load generator {loadgen[0]} ({loadgen[1]}{count})"
        text += f" and {memory} of memory" if memory else ""
    backing = _role(plan, "backing")
    if backing is not None:
        text += f"; the backing services {backing[1]}"
    text += f". The host, not the budget: {run.testbed}."
    return Paragraph((Strong(("Budget measured",)), text), "lead budget")


@dataclass(frozen=True)
class Pick:
    """A mode the verdict would have one deploy, and the workloads it is picked for."""

    point: Point
    workloads: tuple[str, ...]
    #: Picked as the best production mode where a development server ranked first.
    production: bool = False


def picks(found: list[Verdict]) -> list[Pick]:
    """Each workload's winner, and its best production mode when the winner is a development server;
    one entry per mode, with every workload it is picked for."""
    order: list[str] = []
    chosen: dict[str, tuple[Point, list[str], bool]] = {}
    for v in found:
        candidates = [(v.winner, False)]
        if v.winner is not None and is_development(v.winner.mode):
            candidates.append((v.best_production, True))
        for point, production in candidates:
            if point is None:
                continue
            if point.mode not in chosen:
                order.append(point.mode)
                chosen[point.mode] = (point, [], production)
            chosen[point.mode][1].append(v.workload)
    return [Pick(chosen[m][0], tuple(chosen[m][1]), chosen[m][2]) for m in order]


def deploy_sections(results: Results, found: list[Verdict]) -> list[Section]:
    """The command to deploy each pick, as the mode registry renders it for a deployment (every
    interface, port 8000, none of the harness's own flags), with why each special flag is kept."""
    run = results.run
    out: list[Section] = [
        Heading(3, ("Deploy",)),
        Paragraph(
            (
                f"Each with the budget it was measured on ({run.server_cpus} CPU"
                f"{'' if run.server_cpus == 1 else 's'}, {server_memory(run)} of memory): its workers "
                "and threads are sized for it.",
            ),
            "note",
        ),
    ]
    for pick in picks(found):
        try:
            config = resolve_mode(pick.point.mode, run.server_cpus, recorded_target(run.metadata))
        except SpecError:
            out.append(Paragraph((Code(pick.point.mode), ": a mode this version does not know."), "note"))
            continue
        deployed = deployment(config)
        role = "best production mode" if pick.production else "most served"
        if is_development(pick.point.mode):
            role += f", a {DEVELOPMENT},"
        out += [
            Paragraph(
                (
                    Code(pick.point.mode),
                    f" ({role} on {', '.join(pick.workloads)}), in its image ",
                    Code(config.image),
                    ":",
                )
            ),
            Paragraph((deployed.command,), "command"),
        ]
        if deployed.kept:
            kept = "; ".join(f"{flag}: {why}" for flag, why in deployed.kept)
            out.append(Paragraph((f"Kept because any read-only container needs them: {kept}.",), "note"))
    return out


def development_notes(found: list[Verdict]) -> list[Paragraph]:
    """Where a development server ranks first: said, with the best production mode beside it."""
    out = []
    for v in found:
        winner = v.winner
        if winner is None or not is_development(winner.mode):
            continue
        parts: list[Inline] = [
            "⚠ ",
            Strong((v.workload,)),
            ": ",
            Code(winner.mode),
            " is Werkzeug's development server, which its own documentation says is not for production; ",
        ]
        best = v.best_production
        if best is None:
            parts.append("no production mode met the objective on this workload.")
        else:
            behind = v.behind_winner(best)
            parts += [
                "the best mode one could run in production is ",
                Code(best.mode),
                f", {rps(best)} req/s ({fmt.signed_pct(behind)} against it).",
            ]
        out.append(Paragraph(tuple(parts), "banner"))
    return out


def keep_alive_notes(found: list[Verdict]) -> list[Paragraph]:
    """One line per mode among the first two of a workload that closes every connection: its clients
    reconnect for every request, a cost (or a margin) the figures owe to that property."""
    modes: dict[str, list[str]] = {}
    for v in found:
        for point in v.ranking[:2]:
            if keeps_alive(point.mode) is False:
                modes.setdefault(point.mode, []).append(v.workload)
    return [
        Paragraph(
            (
                "Keep-alive: ",
                Code(mode),
                f" (ranked on {', '.join(workloads)}) closes every connection after its response, so its "
                "clients open a new one for each request; on short requests that cost is part of the "
                "margin between it and a mode that keeps connections alive.",
            ),
            "note",
        )
        for mode, workloads in modes.items()
    ]


def reproduce_sections(run: Run) -> list[Section]:
    """A copy-paste block: the exact ``run`` command the run recorded, and the bundle command that
    packs it with its inputs for ``servingmatrix reproduce`` elsewhere."""
    recorded = run.metadata.get("command_line")
    commit = run.metadata.get("git_commit")
    where = f" at commit {str(commit)[:12]}" if commit else ""
    if run.metadata.get("git_dirty"):
        where += " with uncommitted changes"
    out: list[Section] = [Heading(3, ("Reproduce this",))]
    if isinstance(recorded, list) and recorded:
        out += [
            Paragraph((f"The run's command, as run.json recorded it{where}:",), "note"),
            Paragraph((shlex.join(str(a) for a in recorded),), "command"),
        ]
    else:
        out.append(Paragraph((f"The run's command line was not recorded{where}.",), "note"))
    bundle = f"{run.root.name}.tar.gz"
    out += [
        Paragraph(("Its bundle (results, matrix and inputs), to measure again elsewhere:",), "note"),
        Paragraph(
            (
                f"servingmatrix bundle {shlex.quote(str(run.root))} -o {shlex.quote(bundle)}\n"
                f"servingmatrix reproduce {shlex.quote(bundle)}",
            ),
            "command",
        ),
    ]
    return out
