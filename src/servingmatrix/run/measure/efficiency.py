"""Generator efficiency: how much of what an independent, native client drew from a server Locust drew.

Locust's throughput over the reference generator's (wrk, same server, cores, quota and connections).
Below the floor the figure is the load generator's more than the server's: the cell is generator-bound.
"""

from __future__ import annotations

import math

from servingmatrix.flags import kind

#: Below this share of the reference's throughput, Locust rather than the server set the pace.
GENERATOR_EFFICIENCY_FLOOR = kind("generator-bound").threshold("efficiency")
#: Above this share of the reference's throughput, the two clients load the server differently.
CLIENTS_DISAGREE_ABOVE = kind("clients-disagree").threshold("above")


def generator_efficiency(locust_rps: float | None, reference_rps: float | None) -> float | None:
    """Locust's throughput / the reference's; None when either is unknown or the reference is not positive."""
    if locust_rps is None or reference_rps is None:
        return None
    if not (math.isfinite(locust_rps) and math.isfinite(reference_rps)) or reference_rps <= 0:
        return None
    if locust_rps < 0:
        return None
    return locust_rps / reference_rps


def is_generator_bound(efficiency: float | None) -> bool:
    """True when the efficiency is known and below the floor (exactly the floor is not bound)."""
    return efficiency is not None and efficiency < GENERATOR_EFFICIENCY_FLOOR


def efficiency_reason(locust_rps: float | None, reference_rps: float | None) -> str | None:
    """The generator-bound message naming both figures, or None when the cell is not bound by this rule."""
    efficiency = generator_efficiency(locust_rps, reference_rps)
    if efficiency is None or not is_generator_bound(efficiency):
        return None
    shown = f"{efficiency:.2f}"
    if round(efficiency, 2) >= GENERATOR_EFFICIENCY_FLOOR:
        # Just under the floor: 0.8999 reads 0.899, never "0.90 ... (below 0.90)".
        shown = f"{math.floor(efficiency * 1000) / 1000:.3f}"
    return (
        f"Locust reached {locust_rps:,.0f} req/s, {shown} of the {reference_rps:,.0f} req/s "
        f"the reference generator reached (below {GENERATOR_EFFICIENCY_FLOOR:.2f})"
    )


def disagreement_reason(locust_rps: float | None, reference_rps: float | None) -> str | None:
    """Why the clients disagree upwards (Locust drew more than the reference allows), naming both
    figures; None when they do not (exactly the bound is agreement)."""
    efficiency = generator_efficiency(locust_rps, reference_rps)
    if efficiency is None or efficiency <= CLIENTS_DISAGREE_ABOVE:
        return None
    return (
        f"Locust reached {locust_rps:,.0f} req/s, {efficiency:.2f} of the {reference_rps:,.0f} req/s "
        f"the reference generator reached (above {CLIENTS_DISAGREE_ABOVE:.2f}): "
        "the figure depends on the client"
    )
