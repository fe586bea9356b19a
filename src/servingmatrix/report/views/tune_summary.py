"""A tune's answer as plain text: the recommendation beside the folk default of the same server, the
set the best cannot be told apart from, the ranking with each capacity's interval, and the files to
deploy it. Computes nothing: it reads ``tune.json``'s record."""

from __future__ import annotations

from servingmatrix.tune.bracket import ConfigurationCapacity
from servingmatrix.tune.result_file import TuneResult

#: The ranking shows at most this many configurations (``tune.json`` holds every one).
RANKING_ROWS = 10


def capacity_text(capacity: ConfigurationCapacity | None) -> str:
    """``412 req/s (412 to < 440)``, or why there is none."""
    if capacity is None:
        return "not measured"
    lower, upper = capacity.lower_rps, capacity.upper_rps
    if lower is None:
        below = f": beyond the objective at {upper} req/s" if upper is not None else ""
        return f"no capacity ({capacity.status}{below})"
    interval = f"{lower} to < {upper}" if upper is not None else f"at least {lower}"
    caveat = {
        "generator-bound": "; a lower bound: the load generator could not offer more",
        "unbounded": "; within the objective at the most tune offers",
        "out-of-probes": "; unconfirmed: its probes ran out",
    }.get(capacity.status, "")
    return f"{lower} req/s ({interval}{caveat})"


def tune_summary(result: TuneResult) -> str:
    """The summary ``servingmatrix tune`` ends with."""
    request = result.request
    lines = [
        f"tune of {request.get('workload')} on {request.get('server_cpus')} CPU(s) and "
        f"{request.get('server_memory')}: p99 <= {request.get('slo_p99_ms'):g} ms, at most "
        f"{float(request.get('max_error_rate', 0)):.1%} errors, {request.get('arrivals')} arrivals",
        f"measured {len({c.spec for c in result.capacities})} configurations of a space of "
        f"{result.space_size} ({sum(len(c.probes) for c in result.capacities)} probes, "
        f"{result.elapsed_s / 60:.1f} min); stopped: {result.stopped}",
    ]
    recommended = result.capacity(result.recommendation)
    if recommended is None:
        lines.append("no configuration stayed within the objective: nothing to recommend")
        return "\n".join(lines)
    default = result.capacity(result.folk_default)
    lines += [
        f"recommendation: {result.recommendation}: {capacity_text(recommended)}",
        f"folk default:   {result.folk_default or '-'}: {capacity_text(default)}",
    ]
    if default is not None and default.lower_rps and recommended.lower_rps:
        lines.append(
            f"the default serves {default.lower_rps} req/s, the recommendation {recommended.lower_rps} "
            f"({recommended.lower_rps / default.lower_rps:.2f}x)"
        )
    if recommended.status == "generator-bound":
        lines.append(
            "the recommendation's capacity is a lower bound: the load generator could not offer more, so "
            "configurations that serve more than it offers cannot be told apart here"
        )
    others = [s for s in result.contenders if s != result.recommendation]
    if others:
        lines.append(
            f"not told apart from the best (the recommendation is the cheapest): {', '.join(others)}"
        )
    lines.append("ranking (capacity within the objective, its interval):")
    for i, spec in enumerate(result.ranking[:RANKING_ROWS], 1):
        lines.append(f"  {i:>2}. {spec}: {capacity_text(result.capacity(spec))}")
    if len(result.ranking) > RANKING_ROWS:
        lines.append(f"  ... and {len(result.ranking) - RANKING_ROWS} more in tune.json")
    pruned = sum(1 for c in result.capacities if c.status == "pruned")
    if pruned:
        lines.append(f"{pruned} configurations stopped early: beyond the objective where the best was within")
    bound = [c.spec for c in result.capacities if c.status == "generator-bound"]
    if bound:
        lines.append(f"generator-bound (lower bounds only): {', '.join(sorted(set(bound)))}")
    if result.artefacts:
        lines.append(f"to deploy it: {', '.join(result.artefacts)}")
    return "\n".join(lines)
